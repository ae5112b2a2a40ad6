"""Bounds on what the sandboxed command may take of the runner: processes and memory.

Without them a fork bomb or a runaway allocation in the repository's code took the whole
runner host, other runner services' jobs included (outside attack, round 19b notes). The
operator sets them in forkvet's own environment (a repository's file cannot):

- `FORKVET_COMMAND_TASKS`: processes and threads the command may add (default 128 per CPU,
  256 to 4096; 0: none);
- `FORKVET_COMMAND_MEMORY_MB`: memory per process (default three quarters of the machine's
  memory; 0: none);
- `FORKVET_COMMAND_SHM_MB`: the size of the sandbox's `/dev/shm`, the one RAM-backed folder
  it may write (default a quarter of the memory bound, at most 8 GiB; at least 64 MiB).
  tmpfs pages are no process's memory: RLIMIT_DATA/RLIMIT_AS never see them (2.5 GiB
  written under RLIMIT_AS=2 GiB, outside attack, round 20b F1), so the tmpfs itself is
  bounded (bwrap `--size`), and a write past it fails (ENOSPC);
- `FORKVET_COMMAND_TMP_MB`: the size of the sandbox's `/tmp` (also `HOME`) where it is a
  tmpfs of its own, when no temporary folder is on a disk (`tmpstore`; default as /dev/shm's).

The mechanism is the process limits the sandbox's launcher sets before it becomes bwrap,
inherited by everything inside: `RLIMIT_NPROC` (the kernel counts every task of the user,
so the limit is what the user runs now plus the budget) and `RLIMIT_DATA` (heap and private
writable mappings). Not `RLIMIT_AS`: CUDA reserves far more address space than it uses, and
a GPU run would fail. The kernel does not apply `RLIMIT_NPROC` to root: when forkvet runs as
root, processes are not bounded, and `describe()` says so (run the runner as a user).

Shared memory outside a folder is no process's private memory either: a memfd and System V
shared memory held 1 GiB each under a 256 MiB RLIMIT_DATA (outside attack, round 21b F2).
The seccomp filter makes those calls answer ENOSYS (`seccomp`); what is left uncounted, a
shared anonymous mapping and the kernel's socket buffers, every result names (`UNCOUNTED`),
unless the operator delegates a memory cgroup (`memcg`), which bounds the command as a whole.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from forkvet.runtime import diskbound, gpunodes, memcg, ownns, seccomp, tmpstore
from forkvet.runtime.knobs import knob

TASKS_VAR = "FORKVET_COMMAND_TASKS"
MEMORY_VAR = "FORKVET_COMMAND_MEMORY_MB"
SHM_VAR = "FORKVET_COMMAND_SHM_MB"
TMP_VAR = "FORKVET_COMMAND_TMP_MB"
DEFAULT_TASKS = 4096  # the most: the default is 128 per CPU, at least 256 (`tasks_budget`)
_TASKS_PER_CPU, _TASKS_MIN = 128, 256
# The command's share of the machine against every other tenant (round 22b F13): nice 10,
# which RLIMIT_NICE 0 keeps it from lowering again, and the idle I/O class, which it cannot
# leave (ioprio_set is denied in the sandbox, `seccomp`).
NICE = 10
_IOPRIO_IDLE = 3 << 13  # IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT
_cpu_seconds: list[int] = []
_SHM_DEFAULT_MAX_MB = 8192
_SHM_MIN_MB = 64


# What no process limit counts and no cgroup bounds here (round 21b F2): said in every result.
UNCOUNTED = (
    "not bounded: shared anonymous mappings and the kernel's memory for the command "
    "(socket and pipe buffers), which only a cgroup for the whole command would count"
)
UNCOUNTED_CGROUP = "not bounded: kernel buffers the kernel does not charge to the cgroup"


def _memory_total_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 16384


def tasks_budget(environ: dict[str, str] | None = None) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    sized = max(_TASKS_MIN, min(DEFAULT_TASKS, _TASKS_PER_CPU * cpus))
    return knob(TASKS_VAR, sized, environ)


@contextlib.contextmanager
def cpu_time(timeout: float) -> Iterator[None]:
    """Within: each process of a command gets at most the CPU seconds all the machine's CPUs
    give in `timeout` (RLIMIT_CPU; the kernel kills a process past it), so that nothing the
    command leaves spinning outlives its time in CPU either."""
    cpus = os.cpu_count() or 1
    _cpu_seconds.append(int(timeout * cpus) + 60)
    try:
        yield
    finally:
        _cpu_seconds.pop()


def _share_specs() -> tuple[list[str], str]:
    """The launcher's specs for the command's CPU and I/O share, and the result's words."""
    specs = [f"FSIZE={diskbound.file_mb() << 20}", "NICE=0", f"PRIO={NICE}"]
    # the maxima of the launcher's user namespace for the whole chain below it (`ownns`)
    specs += [f"SIGPENDING={ownns.SIGPENDING}", f"MSGQUEUE={ownns.MSGQUEUE}"]
    said = f"CPU at nice {NICE}"
    ioprio = seccomp.denied(os.uname().machine).get("ioprio_set")
    if ioprio is not None:
        specs.append(f"IOPRIO={ioprio}:{_IOPRIO_IDLE}")
        said += ", I/O in the idle class (where the disk's scheduler has classes)"
    if _cpu_seconds:
        specs.append(f"CPU={_cpu_seconds[-1]}")
        said += f", {_cpu_seconds[-1]} CPU seconds per process (RLIMIT_CPU)"
    return specs, said


def _gpus_said() -> str:
    try:
        return gpunodes.nodes().said
    except gpunodes.Unassignable as exc:
        return f"no GPU: {exc}"


def memory_mb(environ: dict[str, str] | None = None) -> int:
    return knob(MEMORY_VAR, _memory_total_mb() * 3 // 4, environ)


def shm_mb(environ: dict[str, str] | None = None) -> int:
    """The size of the sandbox's /dev/shm in MiB: never unbounded (0 is not "none" here:
    the smallest size, as for a command that needs none)."""
    memory = memory_mb(environ) or _memory_total_mb() * 3 // 4
    default = max(_SHM_MIN_MB, min(memory // 4, _SHM_DEFAULT_MAX_MB))
    return max(_SHM_MIN_MB, knob(SHM_VAR, default, environ))


def tmp_mb(environ: dict[str, str] | None = None) -> int:
    """The size of the sandbox's /tmp (also HOME) in MiB where it is a tmpfs of its own (no
    temporary folder on a disk, `tmpstore`): as /dev/shm's, never unbounded."""
    memory = memory_mb(environ) or _memory_total_mb() * 3 // 4
    default = max(_SHM_MIN_MB, min(memory // 4, _SHM_DEFAULT_MAX_MB))
    return max(_SHM_MIN_MB, knob(TMP_VAR, default, environ))


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


class Rlimits(NamedTuple):
    outside: str  # set by the sandbox's launcher before bwrap: `DATA=12884901888` or ""
    nproc: int  # set inside, in the sandbox's user namespace (`inside`); 0: none
    said: str  # the sentence for the result saying which bounds hold


def counted_per_namespace(release: str | None = None) -> bool:
    """Linux 5.14 and later count RLIMIT_NPROC per user namespace (ucounts)."""
    parts = (release or os.uname().release).split(".")
    try:
        return (int(parts[0]), int("".join(c for c in parts[1][:3] if c.isdigit()))) >= (5, 14)
    except (ValueError, IndexError):
        return False


def rlimits(environ: dict[str, str] | None = None) -> Rlimits:
    """The command's process limits. RLIMIT_NPROC is set inside the sandbox's own user
    namespace (by `inside`): on Linux 5.14 and later the kernel then counts against it only
    the tasks of that namespace (the sandbox's init and the command's), so the user's other
    processes on the host (another container's, invisible here) cannot use up the budget;
    earlier kernels count all the user's tasks: the user's tasks now plus the budget."""
    tasks, memory = tasks_budget(environ), memory_mb(environ)
    said: list[str] = []
    uid = os.getuid()
    nproc = 0
    if tasks and uid != 0:
        nproc = tasks + (1 if counted_per_namespace() else user_tasks(uid))
        said.append(f"{tasks} more processes and threads (RLIMIT_NPROC)")
    elif tasks:
        said.append("processes not bounded (forkvet runs as root: RLIMIT_NPROC does not bind)")
    else:
        said.append(f"processes not bounded ({TASKS_VAR}=0)")
    specs, share = _share_specs()
    said.append(share)
    if memory:
        specs.append(f"DATA={memory << 20}")
        said.append(f"{memory} MiB of memory per process (RLIMIT_DATA)")
    else:
        said.append(f"memory not bounded ({MEMORY_VAR}=0)")
    said.append(f"{shm_mb(environ)} MiB of /dev/shm")
    said.append(tmpstore.said(tmp_mb(environ)))
    said += [diskbound.said(environ), ownns.said(environ), _gpus_said()]
    whole = memcg.said(memory, environ)
    said += [whole, UNCOUNTED_CGROUP] if whole else [UNCOUNTED]
    return Rlimits(",".join(specs), nproc, "; ".join(said))


def describe(environ: dict[str, str] | None = None) -> str:
    return rlimits(environ).said


# Run inside the sandbox, in front of the command: the process limit, then the command.
_INSIDE = (
    "import os, resource, sys\n"
    "n, hard = int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NPROC)[1]\n"
    "n = n if hard == resource.RLIM_INFINITY else min(n, hard)\n"
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def inside(command: list[str], nproc: int) -> list[str]:
    """`command`, started by forkvet's own interpreter (isolated, no site) after it set
    RLIMIT_NPROC to `nproc` inside the sandbox; unchanged when `nproc` is 0."""
    if not nproc:
        return command
    return [sys.executable, "-I", "-S", "-c", _INSIDE, str(nproc), *command]
