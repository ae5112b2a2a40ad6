"""A memory cgroup for the whole sandboxed command, where the operator delegates one.

Process limits count a process's private memory only: a memfd, System V shared memory, a
shared anonymous mapping and the kernel's socket buffers are RAM none of them counts (outside
attack, round 21b F2: 2 GiB of shmem under a 256 MiB RLIMIT_DATA). A memory cgroup counts
every page its processes fault in, shared memory and (cgroup v2) kernel memory included. So
where the operator names a cgroup folder in `FORKVET_MEMORY_CGROUP` — a cgroup v2 folder whose
`cgroup.subtree_control` holds `memory`, or a cgroup v1 memory folder — each sandbox gets a
child there: `memory.max` (v1: `memory.limit_in_bytes`) is `FORKVET_COMMAND_MEMORY_MB` for the
command as a whole, no swap, and (v2) the kernel kills the whole command when it is reached.
The sandbox's launcher moves itself in before it becomes bwrap, so everything inside is
counted; /sys/fs/cgroup is read-only in the sandbox. A folder named but unusable is an error:
nothing runs (fail closed). Not named: the process limits alone, and the result says what
they do not count (`limits.UNCOUNTED`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from forkvet.errors import InputError

VAR = "FORKVET_MEMORY_CGROUP"
_ROOT = "/sys/fs/cgroup/"
_V2 = ("memory.max", "memory.swap.max", "memory.oom.group")
_V1 = ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "")


def folder(environ: dict[str, str] | None = None) -> str | None:
    """The operator's cgroup folder (None: not named); InputError when it cannot serve."""
    env = os.environ if environ is None else environ
    raw = env.get(VAR, "").strip()
    if not raw:
        return None
    path = os.path.realpath(raw)
    if not path.startswith(_ROOT) or "," in path or not os.path.isdir(path):
        raise InputError(f"{VAR} must name a cgroup folder under {_ROOT}, not {raw[:200]!r}")
    if _files(path) is None:
        raise InputError(f"{VAR}={raw[:200]}: its children get no memory controller")
    return path


def _files(path: str) -> tuple[str, str, str] | None:
    """The memory files of `path`'s children: cgroup v2's, v1's; None: neither."""
    control = Path(path, "cgroup.subtree_control")
    with contextlib.suppress(OSError):
        if control.is_file() and "memory" in control.read_text().split():
            return _V2
    return _V1 if Path(path, _V1[0]).is_file() else None


def _write(path: str, name: str, value: str) -> None:
    with open(os.path.join(path, name), "w", encoding="ascii") as f:
        f.write(value)


def _make(parent: str, memory_mb: int) -> str:
    """A fresh child of `parent` bounded to `memory_mb` MiB, no swap; InputError if the
    kernel refuses a limit (the child is removed then)."""
    limit, swap, group = _files(parent) or _V2
    child = tempfile.mkdtemp(prefix="forkvet-", dir=parent)
    try:
        _write(child, limit, str(memory_mb << 20))
        if os.path.exists(os.path.join(child, swap)):
            _write(child, swap, "0" if swap == _V2[1] else str(memory_mb << 20))
        if group and os.path.exists(os.path.join(child, group)):
            _write(child, group, "1")
    except OSError as exc:
        _remove(child)
        raise InputError(f"{VAR}: cannot bound a cgroup in {parent}: {exc}") from exc
    return child


def _oom_kills(child: str) -> int:
    """How often the kernel killed in `child` for its bound (v2 memory.events, v1
    memory.oom_control)."""
    for name in ("memory.events", "memory.oom_control"):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(child, name).read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    return 0


def _remove(child: str) -> None:
    """Kill what is left (v2 cgroup.kill) and remove the child; a child still busy after a
    second is left, empty of limits' meaning (its processes are gone with the sandbox)."""
    with contextlib.suppress(OSError):
        _write(child, "cgroup.kill", "1")
    for _ in range(20):
        try:
            os.rmdir(child)
            return
        except OSError:
            time.sleep(0.05)


@contextlib.contextmanager
def bounded(memory_mb: int, environ: dict[str, str] | None = None) -> Iterator[str | None]:
    """The `cgroup.procs` of a fresh bounded child for one sandbox (None: no folder named, or
    no memory bound); the child is removed afterwards, and a bound that was reached is said
    on forkvet's stderr (the command was killed: its run fails)."""
    parent = folder(environ)
    if parent is None or not memory_mb:
        yield None
        return
    child = _make(parent, memory_mb)
    try:
        yield os.path.join(child, "cgroup.procs")
    finally:
        if _oom_kills(child):
            print(
                f"forkvet: the command reached its memory bound ({memory_mb} MiB for the whole "
                "command, a memory cgroup): the kernel killed it",
                file=sys.stderr,
            )
        _remove(child)


def said(memory_mb: int, environ: dict[str, str] | None = None) -> str | None:
    """The result's sentence for the cgroup bound; None: no cgroup."""
    if not memory_mb or folder(environ) is None:
        return None
    return f"{memory_mb} MiB for the command as a whole (a memory cgroup: shared memory counted)"
