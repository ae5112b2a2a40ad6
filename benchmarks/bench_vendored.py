"""Time `forkvet vet` on a generated repository holding a vendored copy of a large library.

    python benchmarks/bench_vendored.py [--mb 14] [--repeat 3] [--jobs 2]

Writes a small model repository plus MB megabytes of generated Python (classes and methods,
as in a copied library) twice: under third_party/ (recognised as vendored) and as a plain
top-level package (not recognised), and vets each in its own process, as bench_truth does.
Reports wall seconds, CPU seconds of the process tree and peak RSS. Target: under 2 s and
100 MiB on 2 quiet cores. On a shared machine compare CPU seconds, not wall time.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_tree(root: Path, package: str, megabytes: float) -> None:
    rng = random.Random(1)
    (root / "train.py").write_text(
        "import torch\nfrom biglib import core\n\nif __name__ == '__main__':\n    core.run()\n"
    )
    (root / "README.md").write_text("# big\n\n```\npython train.py\n```\n")
    total, i = 0, 0
    while total < megabytes * 1024 * 1024:
        folder = root / package / f"sub{i % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f'"""Module {i}."""', "import math", "from typing import Any", ""]
        for k in range(rng.randint(30, 120)):
            lines += [
                f"class Thing{k}:",
                f"    def __init__(self, a: int = {k}) -> None:",
                "        self.a = a",
                f"    def method_{k}(self, x: Any) -> Any:",
                "        if x is None:",
                "            return self.a",
                "        return [math.sqrt(v) + self.a for v in range(int(x))]",
                "",
            ]
        text = "\n".join(lines) + "\n"
        (folder / f"mod{i}.py").write_text(text)
        total += len(text)
        i += 1
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x"],
        check=True,
    )


def vet(repo: Path, jobs: int) -> tuple[float, float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FORKVET_JOBS": str(jobs)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [sys.executable, "-m", "forkvet", "vet", str(repo), "--format", "json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=14.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    import compileall

    compileall.compile_dir(str(ROOT / "forkvet"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        for package in ("third_party/biglib", "biglib"):
            repo = Path(tmp) / package.replace("/", "-")
            repo.mkdir()
            write_tree(repo, package, args.mb)
            runs = [vet(repo, args.jobs) for _ in range(args.repeat)]
            best = min(runs)
            print(
                f"{package}/ ({args.mb:g} MB): best wall {best[0]:.2f} s, CPU {best[1]:.2f} s, "
                f"peak {max(r[2] for r in runs):.0f} MiB over {args.repeat} runs"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
