"""Time to a verdict on a real repository: `forkvet smoke` then `forkvet train-check`, as the
shipped workflow runs them, on a cold environment (nothing built, empty uv cache) and a warm one
(the environment the first step built), beside what a user would otherwise type by hand.

    python benchmarks/bench_runtime.py /tmp/minGPT [--work /tmp/bench-runtime] [--max-steps 20]

Uses the machine's own uv configuration (index, find-links); nothing here names an index.
Prints a Markdown table: seconds, peak memory of forkvet's process tree, environment size, and
what landed in the repository's working tree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            p = Path(root, name)
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def _untracked(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=all", "--ignored"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def run(label: str, args: list[str], env: dict[str, str], out: Path) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", *args, "--format", "json", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    data = json.loads(out.read_text()) if out.is_file() else {}
    env_info = data.get("environment") or {}
    return {
        "step": label,
        "seconds": round(seconds, 1),
        "exit": proc.returncode,
        "verdict": data.get("verdict"),
        "env": "reused" if env_info.get("reused") else f"built ({env_info.get('built_seconds')} s)",
        "peak_mib": round(max(peak, before) / 1024),
        "command": data.get("command"),
        "stderr": proc.stderr.strip().splitlines()[-1:] if proc.returncode > 1 else [],
    }


def manual(repo: Path, env_dir: Path, env: dict[str, str]) -> float:
    """The same environment and test by hand (uv venv, install, pip install -e ., unittest),
    into the environment's own interpreter version, with a warm uv cache."""
    made = next(p for p in env_dir.iterdir() if p.is_dir() and p.name != "generated")
    reqs = made / "forkvet-requirements.txt"
    # The interpreter the environment was made from (uv may not download one here).
    version = subprocess.run(
        [str(made / "bin" / "python"), "-c", "import sys; print(sys._base_executable)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    venv = env_dir.parent / "manual-venv"
    shutil.rmtree(venv, ignore_errors=True)
    start = time.monotonic()
    uv = shutil.which("uv", path=env["PATH"]) or "uv"
    steps = [
        [uv, "venv", "-q", "--python", version, str(venv)],
        [uv, "pip", "install", "-q", "--python", str(venv / "bin/python"), "-r", str(reqs)],
        [uv, "pip", "install", "-q", "--python", str(venv / "bin/python"), "-e", str(repo)],
        [str(venv / "bin/python"), "-m", "unittest", "discover", "tests"],
    ]
    for cmd in steps:
        subprocess.run(cmd, cwd=repo, env=env, capture_output=True, check=False)
    return round(time.monotonic() - start, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-runtime"))
    ap.add_argument("--max-steps", default="20")
    ap.add_argument("--timeout", default="900")
    args = ap.parse_args()
    repo = args.repo.resolve()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    env = {
        **os.environ,
        "FORKVET_ENV_DIR": str(args.work / "envs"),
        "UV_CACHE_DIR": str(args.work / "uv-cache"),  # cold: nothing downloaded yet
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
    }
    tree_before = set(_untracked(repo))
    rows = [
        run(
            "smoke (cold)",
            ["smoke", str(repo), "--out", str(args.work / "s1"), "--timeout", args.timeout],
            env,
            args.work / "s1.json",
        ),
        run(
            "train-check (warm)",
            [
                "train-check",
                str(repo),
                "--out",
                str(args.work / "t1"),
                "--max-steps",
                args.max_steps,
                "--timeout",
                args.timeout,
            ],
            env,
            args.work / "t1.json",
        ),
        run(
            "smoke (warm)",
            ["smoke", str(repo), "--out", str(args.work / "s2"), "--timeout", args.timeout],
            env,
            args.work / "s2.json",
        ),
    ]
    by_hand = manual(repo, args.work / "envs", env)
    new = sorted(set(_untracked(repo)) - tree_before)
    print("| step | seconds | exit | verdict | environment | peak MiB (process tree) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['step']} | {r['seconds']} | {r['exit']} | {r['verdict']} | {r['env']} | "
            f"{r['peak_mib']} |"
        )
    print(
        f"| by hand: uv venv + install + pip install -e . + unittest (warm cache) | {by_hand} "
        "| | | | |"
    )
    print()
    print(f"environment: {_size(args.work / 'envs') / 2**30:.2f} GiB in {args.work / 'envs'}")
    print(f"uv cache: {_size(args.work / 'uv-cache') / 2**30:.2f} GiB")
    tree = sum((repo / p).stat().st_size for p in new if (repo / p).is_file())
    print(
        f"new files in the working tree: {len(new)} ({tree / 1024:.0f} KiB): "
        f"{', '.join(sorted({p.split('/')[0] for p in new}))}"
    )
    for r in rows:
        print(f"{r['step']}: {r['command']} {r['stderr'] or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
