"""Tracking a fork's training over commits, on real training runs.

    python benchmarks/bench_baseline.py [--steps N]

Trains a small real PyTorch model (a CNN on a synthetic image task, CPU) with `forkvet
train-check` four times: the baseline commit, the same code with another seed (run-to-run
noise, must not be flagged), the same code logging every 5th step (must not be flagged), and
the code after a change that hurts it (a label-smoothing/learning-rate typo that makes the
loss plateau higher). Each run is compared with the baseline (`--baseline`), and the result
is printed: regression, loss change, speed change, seconds and peak memory of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = """
import argparse, torch
p = argparse.ArgumentParser()
p.add_argument("--seed", type=int, default=0)
p.add_argument("--lr", type=float, default=0.05)
p.add_argument("--smoothing", type=float, default=0.0)
p.add_argument("--log-every", type=int, default=1)
p.add_argument("--steps", type=int, default=200)
a = p.parse_args()
torch.set_num_threads(1)
g = torch.Generator().manual_seed(7)
x = torch.randn(1024, 1, 16, 16, generator=g)
w = torch.randn(256, 10, generator=g)
y = (x.flatten(1) @ w).argmax(1)
torch.manual_seed(a.seed)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 8, 10))
opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9)
for step in range(1, a.steps + 1):
    i = torch.randint(0, 1024, (64,))
    loss = torch.nn.functional.cross_entropy(net(x[i]), y[i], label_smoothing=a.smoothing)
    opt.zero_grad(); loss.backward(); opt.step()
    if step % a.log_every == 0:
        print(f"step {step} loss: {loss.item():.5f}", flush=True)
"""

RUNS = {
    "baseline": "--seed 0",
    "another seed": "--seed 1",
    "logs every 5th step": "--seed 2 --log-every 5",
    "after a harmful change": "--seed 0 --lr 0.005 --smoothing 0.3",
}


def train_check(
    folder: Path, name: str, args: str, steps: int, baseline: Path | None
) -> tuple[dict[str, object], float, float]:
    out = folder / f"{name.replace(' ', '-')}.json"
    cmd = [
        sys.executable,
        "-m",
        "forkvet",
        "train-check",
        str(folder),
        "--cmd",
        f"python train.py {args} --steps {steps}",
        "--python",
        sys.executable,
        "--max-steps",
        "0",
        "--timeout",
        "600",
        "--format",
        "json",
        "--output",
        str(out),
        "--out",
        str(folder / f"out-{name.replace(' ', '-')}"),
    ]
    if baseline is not None:
        cmd += ["--baseline", str(baseline)]
    start = time.perf_counter()
    errfile = folder / "stderr.txt"
    with errfile.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=fh)
        _, _, usage = os.wait4(proc.pid, 0)  # the child's own peak memory
    proc.returncode = 0
    seconds = time.perf_counter() - start
    peak = usage.ru_maxrss / 1024
    err = errfile.read_text()
    if not out.exists():
        raise SystemExit(f"{name}: train-check wrote no result: {err.strip()[-300:]}")
    return json.loads(out.read_text()), seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forkvet-bench-baseline-") as tmp:
        folder = Path(tmp)
        (folder / "train.py").write_text(TRAIN)
        base_path: Path | None = None
        print("| run | verdict | regression | final loss change | speed change | s | peak MiB |")
        print("|---|---|---|---|---|---|---|")
        for name, run_args in RUNS.items():
            result, seconds, peak = train_check(folder, name, run_args, args.steps, base_path)
            if base_path is None:
                base_path = folder / "baseline.json"
                base_path.write_text(json.dumps(result))
            cmp = result.get("baseline") or {}
            assert isinstance(cmp, dict)
            change = cmp.get("final_loss_change")
            speed = cmp.get("speed_change")
            print(
                f"| {name} | {result['verdict']} | {cmp.get('regression', '—')} | "
                f"{f'{change:+.1%}' if isinstance(change, float) else '—'} | "
                f"{f'{speed:+.0%}' if isinstance(speed, float) else '—'} | {seconds:.1f} | "
                f"{peak:.0f} |"
            )
            for reason in cmp.get("reasons", []) if isinstance(cmp.get("reasons"), list) else []:
                print(f"|   ↳ {reason} | | | | | | |")


if __name__ == "__main__":
    main()
