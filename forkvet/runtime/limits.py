"""Bounds on what the sandboxed command may take of the runner: processes and memory.

Without them a fork bomb or a runaway allocation in the repository's code took the whole
runner host, other runner services' jobs included (outside attack, round 19b notes). The
operator sets them in forkvet's own environment (a repository's file cannot):

- `FORKVET_COMMAND_TASKS`: processes and threads the command may add (default 4096; 0: none);
- `FORKVET_COMMAND_MEMORY_MB`: memory per process (default three quarters of the machine's
  memory; 0: none).

The mechanism is the process limits the sandbox's launcher sets before it becomes bwrap,
inherited by everything inside: `RLIMIT_NPROC` (the kernel counts every task of the user,
so the limit is what the user runs now plus the budget) and `RLIMIT_DATA` (heap and private
writable mappings). Not `RLIMIT_AS`: CUDA reserves far more address space than it uses, and
a GPU run would fail. The kernel does not apply `RLIMIT_NPROC` to root: when forkvet runs as
root, processes are not bounded, and `describe()` says so (run the runner as a user).
"""

from __future__ import annotations

import os
from pathlib import Path

from forkvet.errors import InputError

TASKS_VAR = "FORKVET_COMMAND_TASKS"
MEMORY_VAR = "FORKVET_COMMAND_MEMORY_MB"
DEFAULT_TASKS = 4096


def _knob(name: str, default: int, environ: dict[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 12:
        raise InputError(f"{name} must be a whole number (0: no limit), not {raw[:40]!r}")
    return int(raw)


def _memory_total_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 16384


def tasks_budget(environ: dict[str, str] | None = None) -> int:
    return _knob(TASKS_VAR, DEFAULT_TASKS, environ)


def memory_mb(environ: dict[str, str] | None = None) -> int:
    return _knob(MEMORY_VAR, _memory_total_mb() * 3 // 4, environ)


def user_tasks(uid: int) -> int:
    """Tasks (processes and threads) of `uid` now, as RLIMIT_NPROC counts them."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(
                line.split(":", 1) for line in Path(entry.path, "status").read_text().splitlines()
            )
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, ValueError, KeyError, IndexError):
            continue
    return count


def rlimits(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """(what the sandbox's launcher sets, e.g. `NPROC=4210,DATA=12884901888`; the sentence
    for the result saying which bound holds)."""
    tasks, memory = tasks_budget(environ), memory_mb(environ)
    specs: list[str] = []
    said: list[str] = []
    uid = os.getuid()
    if tasks and uid != 0:
        specs.append(f"NPROC={user_tasks(uid) + tasks}")
        said.append(f"{tasks} more processes and threads (RLIMIT_NPROC)")
    elif tasks:
        said.append("processes not bounded (forkvet runs as root: RLIMIT_NPROC does not bind)")
    else:
        said.append(f"processes not bounded ({TASKS_VAR}=0)")
    if memory:
        specs.append(f"DATA={memory << 20}")
        said.append(f"{memory} MiB of memory per process (RLIMIT_DATA)")
    else:
        said.append(f"memory not bounded ({MEMORY_VAR}=0)")
    return ",".join(specs), "; ".join(said)


def describe(environ: dict[str, str] | None = None) -> str:
    return rlimits(environ)[1]
