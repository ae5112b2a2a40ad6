"""What an environment folder holds on disk, and whether forkvet keeps it (round 17b F6).

The repository's code may write its environment's folder (by design: it is its own). A file
with holes costs it nothing (`truncate` to 8 TiB) and everyone after it everything: the
Actions template's `actions/cache` saves the folder at the end of the job with tar, which
reads every byte of every hole (no `--sparse`), outside every forkvet budget, and `envs
list`/`prune` counted the apparent size. So after every run that had the folder writable
(and after its build, which runs the repository's own packaging), forkvet measures it here —
one walk by folder descriptors (`fstree.walk_fds`: lstat only, nothing opened but folders,
no link followed, no path length limit) — and an environment over these limits, or one the
walk cannot vouch for (a folder it cannot open, round 18b F2), is removed, with the reason
in the result, before anything caches or counts it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from forkvet import fstree

# More entries than any environment holds (a CUDA PyTorch one: some tens of thousands).
MAX_ENTRIES = 1_000_000
# What the files can cost together: each file the larger of its size (what tar reads and a
# restore writes) and what it occupies. A CUDA PyTorch environment is 5 to 8 GiB;
# actions/cache keeps no archive over 10 GiB anyway.
MAX_APPARENT = 32 << 30
# Holes: what every file claims beyond what it occupies, summed over all files, whatever
# fraction of a file they are (round 18b F1: a file a quarter written was not counted).
MAX_HOLES = 1 << 30
_BLOCK = 512  # st_blocks' unit


@dataclass
class Measure:
    entries: int = 0
    apparent: int = 0  # what the files can cost: each file's max(size, occupied), inode once
    allocated: int = 0  # what every entry occupies on disk (st_blocks), each inode once
    holes: int = 0
    sparse_files: int = 0
    complete: bool = True  # False: the walk stopped at its entry limit
    unwalkable: str | None = None  # why the walk could not vouch for the folder


def measure(folder: str | os.PathLike[str], max_entries: int = MAX_ENTRIES) -> Measure:
    found = Measure()
    seen: set[tuple[int, int]] = set()
    try:
        for entry in fstree.walk_fds(folder):
            if entry.depth == 0:
                if not stat.S_ISDIR(entry.st.st_mode):
                    return found
                continue
            found.entries += 1
            if found.entries > max_entries:
                found.complete = False
                return found
            _count(found, entry.st, seen)
    except fstree.WalkError as exc:
        found.unwalkable = str(exc)
    return found


def _count(found: Measure, st: os.stat_result, seen: set[tuple[int, int]]) -> None:
    if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
    on_disk = st.st_blocks * _BLOCK
    found.allocated += on_disk
    if not stat.S_ISREG(st.st_mode):
        found.apparent += on_disk
        return
    found.apparent += max(st.st_size, on_disk)
    if st.st_size > on_disk:
        found.holes += st.st_size - on_disk
        found.sparse_files += 1


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def unfit(found: Measure) -> str | None:
    """Why an environment of this measure is not kept (None: it is). Counts and sizes only,
    never a name the repository's code chose."""
    if found.unwalkable is not None:
        return f"forkvet could not walk it to measure it: {found.unwalkable}"
    if not found.complete:
        return f"more than {MAX_ENTRIES:,} files and folders"
    if found.holes > MAX_HOLES:
        return (
            f"{found.sparse_files} sparse file(s) claim {_gib(found.holes)} they do not occupy "
            f"(over {_gib(MAX_HOLES)}: a cache save would read all of it)"
        )
    if found.apparent > MAX_APPARENT:
        return f"its files hold {_gib(found.apparent)} (over {_gib(MAX_APPARENT)})"
    return None


def allocated_size(folder: Path) -> int:
    """What the folder occupies on disk, for `envs list`/`prune`: allocated blocks, not sizes
    (an 8 TiB sparse file occupies nothing and counts nothing), bounded like `measure`."""
    return measure(folder).allocated
