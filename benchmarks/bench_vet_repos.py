"""Time `forkvet vet` on real checkouts, two forkvet trees side by side.

    python benchmarks/bench_vet_repos.py CLONES_DIR REPO... --tree before=/path/a \
        --tree after=/path/b [--repeat 3] [--json OUT]

Each repository is vetted `--repeat` times by each tree (its own process, PYTHONPATH set to
the tree), the trees taking turns run after run, so that a shared, noisy machine slows both
alike: compare the ratios, not the seconds of another day. Reports the median wall seconds,
the median CPU seconds (user + system of the process and its workers: the work done, less
inflated by a busy machine than wall time) and the median peak RSS (the largest process).
One untimed run per repository and tree comes first (bytecode written, files in the page
cache).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _one(tree: Path, clone: Path) -> dict[str, float]:
    cmd = [sys.executable, str(HERE / "_measure.py"), sys.executable, "-m", "forkvet", "vet"]
    cmd += [str(clone), "--format", "json"]
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}
    # `-m` puts the working folder first on sys.path: run in the tree, or another tree's
    # forkvet (the caller's checkout) is the one timed.
    out = subprocess.run(
        cmd, capture_output=True, text=True, env=env, check=True, timeout=600, cwd=tree
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clones", type=Path)
    ap.add_argument("repos", nargs="+")
    ap.add_argument("--tree", action="append", required=True, help="NAME=PATH")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    trees = [(n, Path(p).resolve()) for n, _, p in (t.partition("=") for t in args.tree)]
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for repo in args.repos:
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
        for _, tree in trees:
            _one(tree, args.clones / repo)
        for _ in range(args.repeat):
            for name, tree in trees:
                runs[name].append(_one(tree, args.clones / repo))
        rows[repo] = {
            name: {
                key: statistics.median(r[key] for r in rs)
                for key in ("seconds", "cpu_seconds", "peak_mib")
            }
            for name, rs in runs.items()
        }
        cells = "  ".join(
            f"{n}: {m['seconds']:.2f} s {m['cpu_seconds']:.2f} cpu-s {m['peak_mib']:.0f} MiB"
            for n, m in rows[repo].items()
        )
        print(f"{repo:45} {cells}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
