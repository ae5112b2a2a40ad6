"""A bound on the disk the sandboxed command may take: bytes and inodes, failing closed.

The private `/tmp`, `HOME`, the output scratch and the checkout were writable without bound:
`fallocate` took the runner's whole free disk in under a second, for every tenant (outside
attack, round 22b F1), and the result's `limits` said nothing of disk. A user namespace can
mount no quota or image, so the bound is built from what the kernel does give:

- `RLIMIT_FSIZE`: no file the command writes grows past `FORKVET_COMMAND_FILE_MB` (default
  16 GiB; a write past it fails with EFBIG, SIGXFSZ);
- `fallocate` answers EOPNOTSUPP in the sandbox (`seccomp`, as a file system without it; the
  C library's `posix_fallocate` then writes the blocks): space is taken at the speed of
  writes, under `RLIMIT_FSIZE`, never reserved in one call;
- every file system the command can write (`watched`) is measured (statvfs) before the run:
  below its floor (`FORKVET_DISK_FLOOR_MB`, default the larger of 1 GiB and 5% of the file
  system; inodes: 5%) nothing starts (`NoDiskRoom`); during the run the sandbox's launcher
  looks every 0.1 s and kills the whole command as soon as free space or free inodes fall
  below the larger of the floor and what was free at the start less the budget
  (`FORKVET_COMMAND_DISK_MB`; by default half the room above the floor, so that an
  environment with CUDA wheels, written by uv in the sandbox too, fits;
  `FORKVET_COMMAND_FILES`, default 1,000,000 inodes), and says so. What the command writes
  within one look (0.1 s) can pass the budget; other tenants' writes count too: the bound
  errs towards stopping.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from forkvet.errors import ForkvetError
from forkvet.runtime import knobs

DISK_VAR = "FORKVET_COMMAND_DISK_MB"
FILES_VAR = "FORKVET_COMMAND_FILES"
FILE_VAR = "FORKVET_COMMAND_FILE_MB"
FLOOR_VAR = "FORKVET_DISK_FLOOR_MB"
DEFAULT_FILE_MB = 16384
DEFAULT_FILES = 1_000_000
_FLOOR_MIN = 1 << 30
_FLOOR_SHARE = 20  # 1/20: 5%
EXIT = 125  # the launcher's exit status when it stopped the command for the disk


class NoDiskRoom(ForkvetError):
    """A file system the command could write is already below its floor: nothing starts."""


def _knob(name: str, default: int, environ: Mapping[str, str] | None) -> int:
    return knobs.knob(name, default, environ)


def budget_mb(environ: Mapping[str, str] | None = None) -> int:
    """The operator's disk budget in MiB; 0: half the room above each file system's floor."""
    return _knob(DISK_VAR, 0, environ)


def file_mb(environ: Mapping[str, str] | None = None) -> int:
    """The largest file the command may write (RLIMIT_FSIZE), in MiB."""
    return max(1, _knob(FILE_VAR, DEFAULT_FILE_MB, environ))


def _floors(st: os.statvfs_result, environ: Mapping[str, str] | None) -> tuple[int, int]:
    """(bytes, inodes) that must stay free on a file system."""
    size = st.f_blocks * st.f_frsize
    given = _knob(FLOOR_VAR, 0, environ) << 20
    floor = given or max(_FLOOR_MIN, size // _FLOOR_SHARE)
    return floor, st.f_files // _FLOOR_SHARE


def watched(
    folders: Iterable[str | os.PathLike[str]], environ: Mapping[str, str] | None = None
) -> list[tuple[str, int, int]]:
    """(folder, bytes, inodes) for each file system among `folders`: the free space and free
    inodes below which the launcher stops the command. NoDiskRoom where one is already below
    its floor. File systems that count no inodes (btrfs: f_files 0) are bounded in bytes."""
    given, files = budget_mb(environ) << 20, max(1, _knob(FILES_VAR, DEFAULT_FILES, environ))
    seen: dict[int, tuple[str, int, int]] = {}
    for folder in (os.fspath(f) for f in folders):
        try:
            dev, st = os.stat(folder).st_dev, os.statvfs(folder)
        except OSError:
            continue
        if dev in seen:
            continue
        floor, inode_floor = _floors(st, environ)
        free, inodes = st.f_bavail * st.f_frsize, st.f_favail
        if free <= floor or (st.f_files and inodes <= inode_floor):
            raise NoDiskRoom(
                f"{folder}: {free >> 20} MiB and {inodes} inodes free, at or below the floor "
                f"({floor >> 20} MiB, {inode_floor} inodes; {FLOOR_VAR}): the command does "
                "not start"
            )
        low = inode_floor if not st.f_files else max(inode_floor, inodes - files)
        budget = given or (free - floor) // 2
        seen[dev] = (folder, max(floor, free - budget), low)
    return list(seen.values())


def said(environ: Mapping[str, str] | None = None) -> str:
    """The result's sentence for the disk bound."""
    files, given = _knob(FILES_VAR, DEFAULT_FILES, environ), budget_mb(environ)
    budget = f"{given} MiB" if given else "half the free room above the floor"
    return (
        f"disk: {file_mb(environ)} MiB per file (RLIMIT_FSIZE), no fallocate, and the command "
        f"stopped once it took {budget} or {files} inodes of a file system it writes, or left "
        f"less than the floor free ({FLOOR_VAR})"
    )
