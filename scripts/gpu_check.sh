#!/usr/bin/env bash
# Prove the GPU path of the smoke test and the training check on a machine with an NVIDIA GPU
# and a CUDA build of PyTorch in `python3`. forkvet runs from this checkout (PYTHONPATH); its
# pure-Python dependencies that the machine lacks (vermin, picklescan, pyflakes,
# pymannkendall, github-action-utils, jupytext) must be installed or carried as wheels.
# Writes the JSON results and the loss plot to ${OUT:-gpu-check}/.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/nvidia-smi.csv"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
python3 -m forkvet smoke examples/tiny-model --python "$(command -v python3)" \
  --cmd "python train.py --steps 300 --device cuda" --out "$out/smoke" --format json \
  -o "$out/smoke.json" || true
python3 -m forkvet train-check examples/tiny-model --python "$(command -v python3)" \
  --cmd "python train.py --steps 2000 --device cuda" --max-steps 100 --num-classes 4 \
  --out "$out/train" --format json -o "$out/train.json" || true
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
s, t = (json.load(open(f"{out}/{n}.json")) for n in ("smoke", "train"))
print("smoke:", s["verdict"], "gpu:", s["gpu"], "peak MiB:", s["peak_gpu_memory_mib"])
print("train:", t["verdict"], "gpu:", t["gpu"], "peak MiB:", t["peak_gpu_memory_mib"],
      "steps/s:", t["steps_per_second"])
PY
