"""Each job runs in a child process with a hard wall-clock and memory budget.

The fork is hostile: its files may be built to make vetting slow (a parser's worst case, a
huge tree) or to eat memory. A job therefore never runs in the worker itself. The worker's
thread starts `python -m bot.jobchild` in a new session (its own process group), hands it
the settings and the job id, and waits. At the deadline the whole group is killed (SIGKILL:
the child, git, uv, whatever it started). The child limits its own address space
(RLIMIT_AS, inherited by everything it starts), lowers its CPU priority so that the web
server and the other jobs keep their share, and dies with the worker (PR_SET_PDEATHSIG).

So one fork costs at most its own budget: the worker's other threads, its heartbeat and its
signal handling never wait on a job, and `serve` stopping stops every job.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bot.settings import Settings
from forkvet import fstree

log = logging.getLogger("forkvet.app")
RESULT_FILE = "result.json"
# A job still running after this long drops to the lowest CPU priority (its whole process
# group): a usual fork is vetted well within it, so a new job is not slowed by old ones.
LATE_AFTER_S = 10.0
LATE_NICENESS = 19
WATCH_EVERY_S = 0.5
# Process groups of the jobs running now, killed when the worker stops.
_LIVE: set[int] = set()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


class JobKilled(Exception):
    """The job went past its time or memory budget, or died without a result."""

    transient = False

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # "time" | "memory" | "disk" | "crashed"


class WorkerStopping(Exception):
    """The worker is stopping and killed the job; the next worker runs it again."""


class JobFailed(Exception):
    """The job's handler raised in the child: its type and message, and whether the child
    judged it worth retrying (GitHub 5xx, a rate limit, a failed clone)."""

    def __init__(self, type_name: str, message: str, transient: bool) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.transient = transient


def run(settings: Settings, job_id: int, budget: float | None = None) -> dict[str, Any] | None:
    """Run one job in a child process and return its handler's result; raises JobKilled or
    JobFailed. Everything the job wrote lives under a fresh private temporary folder, removed
    here even when the job was killed. `budget`: the seconds this attempt may run (what
    earlier attempts left of settings.job_timeout_s); the folder may hold job_disk_mb."""
    timeout = settings.job_timeout_s if budget is None else budget
    if timeout <= 0:
        raise JobKilled("time", _time_words(settings, timeout))
    with fstree.temporary_folder("forkvet-job-") as tmp:
        os.chmod(tmp, 0o700)
        work = Path(tmp) / "tmp"
        work.mkdir()
        result = Path(tmp) / RESULT_FILE
        # TMPDIR: the job's own temporary files (its clone) land in the folder removed here.
        env = {**os.environ, "TMPDIR": str(work)}
        argv = [sys.executable, "-m", settings.job_module, str(result), str(os.getpid())]
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, env=env, start_new_session=True, close_fds=True
        )
        with _LIVE_LOCK:
            _LIVE.add(proc.pid)
        if _STOPPING.is_set():
            _kill_group(proc.pid)
        watch = _DiskWatch(Path(tmp), settings.job_disk_mb, proc.pid)
        try:
            _send(proc, settings, job_id)
            try:
                code = _wait(proc, timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait()
                raise JobKilled("time", _time_words(settings, timeout)) from None
        finally:
            watch.stop()
            _kill_group(proc.pid)  # what the job started (git, uv) ends with it
            with _LIVE_LOCK:
                _LIVE.discard(proc.pid)
        if _STOPPING.is_set():
            raise WorkerStopping()
        if watch.over:
            raise JobKilled(
                "disk",
                f"its folder went past its disk budget of {settings.job_disk_mb} MiB "
                f"({watch.seen >> 20} MiB seen)",
            )
        return _outcome(result, code, settings)


def _time_words(settings: Settings, timeout: float) -> str:
    earlier = settings.job_timeout_s - timeout
    return f"stopped after its time budget of {settings.job_timeout_s:g} s" + (
        f" (its earlier attempts had run {earlier:.0f} s of it)" if earlier >= 1 else ""
    )


class _DiskWatch:
    """Kills the job's process group once its folder holds more than budget_mb on disk
    (round 17c F6). The clone measures a tree before checking it out; this bounds everything
    else the job writes (the fetch itself, generated files). It walks the folder in a thread,
    pausing 20 times as long as the last walk took (at least WATCH_EVERY_S), so a checkout of
    200,000 files costs a few percent of one core."""

    def __init__(self, folder: Path, budget_mb: int, pgid: int) -> None:
        self.folder, self.limit, self.pgid = folder, budget_mb << 20, pgid
        self.over, self.seen = False, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="forkvet-disk", daemon=True)
        if self.limit > 0:
            self._thread.start()

    def _watch(self) -> None:
        from forkvet.fstree import WalkError
        from forkvet.source import folder_bytes

        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.seen = folder_bytes(self.folder)
            except WalkError:  # fail closed: a folder it cannot vouch for is over budget
                self.seen = self.limit + 1
            if self.seen > self.limit:
                self.over = True
                _kill_group(self.pgid)
                return
            self._stop.wait(max(WATCH_EVERY_S, 20 * (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _wait(proc: subprocess.Popen[bytes], budget: float) -> int:
    """Wait up to the budget; past LATE_AFTER_S, the job yields the CPU to younger jobs."""
    try:
        return proc.wait(timeout=min(budget, LATE_AFTER_S))
    except subprocess.TimeoutExpired:
        if budget <= LATE_AFTER_S:
            raise
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PGRP, proc.pid, LATE_NICENESS)
    return proc.wait(timeout=budget - LATE_AFTER_S)


def _send(proc: subprocess.Popen[bytes], settings: Settings, job_id: int) -> None:
    # Pickled: the worker's own settings to its own child over a private pipe. Nothing of a
    # repository's is ever unpickled.
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(pickle.dumps((settings, job_id)))
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()


def _outcome(result: Path, code: int, settings: Settings) -> dict[str, Any] | None:
    try:
        outcome = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        outcome = None
    if not isinstance(outcome, dict):
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        raise JobKilled(
            "crashed",
            f"stopped without a result ({how}); most often a job that ran past its memory "
            f"budget of {settings.job_memory_mb} MiB",
        )
    if outcome.get("killed") == "memory":
        raise JobKilled("memory", f"ran past its memory budget of {settings.job_memory_mb} MiB")
    error = outcome.get("error")
    if isinstance(error, dict):
        raise JobFailed(
            str(error.get("type")), str(error.get("message")), bool(error.get("transient"))
        )
    value = outcome.get("result")
    return value if isinstance(value, dict) else None


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill_all() -> None:
    """Stop every running job now (the worker is stopping)."""
    _STOPPING.set()
    with _LIVE_LOCK:
        groups = list(_LIVE)
    for pgid in groups:
        _kill_group(pgid)
