"""The child process that runs one job (`python -m bot.jobchild RESULT PARENT_PID`, started
by bot.isolate). It limits itself before it touches anything of the repository's, runs the
job's handler and writes {"result": …}, {"error": …} or {"killed": "memory"} to RESULT."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import pickle
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from bot.logs import configure
from bot.settings import Settings

log = logging.getLogger("forkvet.app")
NICENESS = 10


def limit_self(memory_mb: int, parent: int) -> None:
    """Die with the worker, leave the CPU to the web server first, cap the address space
    (inherited by git and uv)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the worker died before prctl took effect
            os._exit(1)
    os.nice(NICENESS)
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_job(settings: Settings, job_id: int) -> dict[str, Any]:
    from bot import jobs
    from bot.stores import make_store

    store = make_store(settings)
    job = store.get(job_id)
    if job is None:
        return {"result": None}
    try:
        return {"result": jobs.HANDLERS[job.kind](settings, store, job)}
    except MemoryError:
        return {"killed": "memory"}
    except Exception as exc:  # told to the worker, which retries or reports it
        log.warning(
            "job raised",
            exc_info=exc,
            extra={"job": job_id, "repo": job.repo, "error_type": type(exc).__name__},
        )
        return {
            "error": {
                "type": type(exc).__name__,
                "message": str(exc)[:500],
                "transient": jobs.is_transient(exc),
            }
        }


def main() -> int:
    result, parent = Path(sys.argv[1]), int(sys.argv[2])
    settings, job_id = pickle.loads(sys.stdin.buffer.read())
    limit_self(settings.job_memory_mb, parent)
    configure()
    try:
        outcome = run_job(settings, job_id)
    except MemoryError:
        outcome = {"killed": "memory"}
    tmp = result.with_suffix(".tmp")
    tmp.write_text(json.dumps(outcome, default=str), encoding="utf-8")
    tmp.replace(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
