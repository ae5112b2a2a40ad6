"""Benchmark `forkvet vet` against the tools a user would otherwise run, on the same trees.

    python benchmarks/bench_vet.py [--files 5000] [--repeat 3]

Builds a synthetic research repository of N Python files (plus a typical 150-file one), then
times each tool in its own child process and reports seconds and peak memory (max RSS).
Tools that are not installed are listed as skipped. Compare ratios from one run: the machines
are noisy. Targets: 5,000 files in under 5 s and 300 MB; a typical repo in under 1 s.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMPORTS = [
    "numpy as np",
    "torch",
    "torch.nn as nn",
    "cv2",
    "yaml",
    "scipy.io as sio",
    "matplotlib.pyplot as plt",
    "tqdm",
    "PIL.Image",
    "sklearn.metrics",
    "os",
    "sys",
    "json",
    "argparse",
    "collections",
    "h5py",
    "pandas as pd",
]
LICENSE_MIT = """MIT License

Copyright (c) 2019 Bench Mark

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def module_source(rng: random.Random, i: int) -> str:
    lines = [f"import {m}" for m in rng.sample(IMPORTS, 5)]
    lines.append(f"from pkg{i % 50}.mod{(i + 1) % 100} import helper_{(i + 1) % 100}")
    for f in range(rng.randint(3, 8)):
        lines += [
            f"def helper_{i}_{f}(x, y=1):",
            "    total = 0",
            "    for k in range(10):",
            "        total += k * x + y",
            "    return {'value': total, 'name': 'h%d' % k}",
            "",
        ]
    lines += [
        "class Model(object):",
        "    def __init__(self, depth=3):",
        "        self.depth = depth",
        "",
        "    def forward(self, x):",
        "        return [x] * self.depth",
        "",
    ]
    if i % 10 == 0:
        lines += [
            "if __name__ == '__main__':",
            "    import argparse",
            "    p = argparse.ArgumentParser()",
            "    p.add_argument('--lr', type=float, default=0.1)",
            "    p.parse_args()",
        ]
    return "\n".join(lines) + "\n"


def build_tree(root: Path, n_files: int, seed: int = 0, py2: bool = True) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "LICENSE").write_text(LICENSE_MIT)
    (root / "README.md").write_text("# Bench\n\n```\npython train.py --lr 0.1\n```\n")
    (root / "requirements.txt").write_text("numpy==1.16.4\ntorch==1.1.0\nopencv-python\n")
    for i in range(n_files):
        pkg = root / f"pkg{i % 50}"
        pkg.mkdir(exist_ok=True)
        name = "train" if i == 0 else f"mod{i // 50}"
        (pkg / f"{name}.py").write_text(module_source(rng, i))
        if i % 50 == 0:
            (pkg / "__init__.py").write_text("")
    for i in range(max(1, n_files // 200) if py2 else 0):  # Python 2 files, as in research code
        (root / f"pkg{i % 50}" / f"legacy{i}.py").write_text(
            "import cPickle\nprint 'loading'\ntry:\n    x = 1\nexcept ValueError, e:\n    print e\n"
        )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@example.org", "commit", "-qm", "bench"],
        cwd=root,
        check=True,
    )


def measure(cmd: list[str], repeat: int, ok_codes: tuple[int, ...]) -> dict[str, object]:
    runs = []
    # Timed as installed: bytecode compiled (pip does it), never recompiled per run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, str(HERE / "_measure.py"), *cmd],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        runs.append(json.loads(out.stdout))
    last = runs[-1]
    status = (
        "ok"
        if last["rc"] in ok_codes
        else ("FAILED: " + (last["stderr"].strip().splitlines() or ["?"])[-1][:60])
    )
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mib": max(r["peak_mib"] for r in runs),
        "status": status,
    }


def tools(tree: Path, out: Path) -> dict[str, list[str] | None]:
    forkvet = [sys.executable, "-m", "forkvet", "vet", str(tree), "--format", "json"]
    found: dict[str, list[str] | None] = {"forkvet vet": forkvet}
    pipreqs = shutil.which("pipreqs")
    found["pipreqs"] = (
        [pipreqs, "--force", "--use-local", "--savepath", str(out / "pipreqs.txt"), str(tree)]
        if pipreqs
        else None
    )
    scancode = shutil.which("scancode")
    found["scancode --license"] = (
        [scancode, "--license", "-n", "2", "--json", str(out / "sc.json"), str(tree)]
        if scancode
        else None
    )
    licensee = shutil.which("licensee")
    found["licensee detect"] = [licensee, "detect", str(tree)] if licensee else None
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    compileall.compile_dir(str(HERE.parent / "forkvet"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="forkvet-bench-") as tmp:
        base = Path(tmp)
        big = f"{args.files} files"
        trees = {
            big: base / "big",
            f"{big}, Py3 only": base / "big3",
            "150 files": base / "typical",
        }
        build_tree(trees[big], args.files)
        # pipreqs aborts on the first Python 2 file: a Python-3-only twin times it fairly.
        build_tree(trees[f"{big}, Py3 only"], args.files, py2=False)
        build_tree(trees["150 files"], 150, seed=1)
        print(f"{'tree':<22} {'tool':<20} {'seconds':>8} {'peak MiB':>9}  status")
        for label, tree in trees.items():
            for name, cmd in tools(tree, base).items():
                if cmd is None:
                    print(f"{label:<22} {name:<20} {'-':>8} {'-':>9}  not installed")
                    continue
                ok = (0, 1) if name == "forkvet vet" else (0,)
                r = measure(cmd, args.repeat, ok)
                print(
                    f"{label:<22} {name:<20} {r['seconds']:8.2f} {r['peak_mib']:9.0f}  "
                    f"{r['status']}"
                )


if __name__ == "__main__":
    main()
