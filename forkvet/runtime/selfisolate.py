"""forkvet's own environment, hidden from every child it starts.

Below process.py and sandbox.py, which both call it before their first child."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

_isolated = False


def _kept(size: int) -> bytes:
    """The new environment block: zeros, except RUNNER_TRACKING_ID (an opaque id, no secret),
    by which the Actions runner's end-of-job clean-up finds a cancelled job's processes."""
    value = os.environ.get("RUNNER_TRACKING_ID", "")
    kept = f"RUNNER_TRACKING_ID={value}\0".encode() if value.isprintable() and value else b""
    kept = kept if len(kept) < size else b""
    return kept + b"\0" * (size - len(kept))


def isolate_self() -> None:
    """Before the first child: make forkvet's own environment unreadable to its children.

    /proc/<pid>/environ shows the block the kernel wrote at exec, not os.environ: changing
    os.environ does not hide it. So every variable is first re-homed by setenv (C's
    `environ` then points at fresh copies), and the original block is overwritten with
    zeros through /proc/self/mem (RUNNER_TRACKING_ID alone is kept: `_kept`).
    PR_SET_DUMPABLE 0 also makes /proc/<pid>/ of forkvet root-owned, so a child of the
    same (non-root) user cannot read it or attach to it.
    PR_SET_CHILD_SUBREAPER makes orphaned descendants forkvet's children.
    """
    global _isolated
    if _isolated or not sys.platform.startswith("linux"):
        return
    _isolated = True
    try:
        stat = Path("/proc/self/stat").read_text()
        rest = stat[stat.rindex(")") + 2 :].split()
        # Fields 50 and 51 of stat (env_start, env_end); `rest` starts at field 3.
        start, end = int(rest[47]), int(rest[48])
        for key, value in os.environ.items():
            os.putenv(key, value)
        if 0 < start < end and end - start < 1 << 24:
            with open("/proc/self/mem", "r+b", buffering=0) as mem:
                mem.seek(start)
                mem.write(_kept(end - start))
    except (OSError, ValueError, IndexError):
        pass
    # After the wipe: a non-dumpable process's /proc/self/mem is root's to open.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_dumpable, pr_set_child_subreaper = 4, 36
        libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0)
        libc.prctl(pr_set_dumpable, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass
