"""forkvet as a user runs it, in a child process the tests bound: a memory cap no bomb can
pass, and a watchdog that measures the whole process tree's peak memory and kills it at a
time or memory limit (shared by the hostile suites)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP = 4_000_000_000  # the child forkvet can never take the machine down


def limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def forkvet(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """forkvet as a user runs it, in its own process."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "forkvet", *args],
        cwd=cwd or ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        check=False,
    )


GIB = 1 << 30


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_bounded(
    *args: str, seconds: float, memory: int = GIB, env: dict[str, str] | None = None
) -> tuple[int | None, float, int, str]:
    """forkvet with a watchdog: (exit code or None when killed, wall seconds, peak resident
    bytes of its whole process tree, stdout). Killed at `seconds` or at `memory`, so a bomb
    that works costs this test at most that much."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "forkvet", *args],
            cwd=ROOT,
            env=full,
            stdout=out,
            stderr=subprocess.DEVNULL,
            preexec_fn=limit,
            start_new_session=True,
        )
        peak = 0
        killed = False
        while proc.poll() is None:
            peak = max(peak, sum(_rss(p) for p in _tree(proc.pid)))
            if time.monotonic() - start > seconds or peak > memory:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                killed = True
                break
            time.sleep(0.05)
        wall = time.monotonic() - start
        out.seek(0)
        text = out.read().decode(errors="replace")
    return (None if killed else proc.returncode), wall, peak, text
