"""What an environment folder holds on disk, and whether forkvet keeps it (round 17b F6).

The repository's code may write its environment's folder (by design: it is its own). A file
with holes costs it nothing (`truncate` to 8 TiB) and everyone after it everything: the
Actions template's `actions/cache` saves the folder at the end of the job with tar, which
reads every byte of every hole (no `--sparse`), outside every forkvet budget, and `envs
list`/`prune` counted the apparent size. So after every run that had the folder writable
(and after its build, which runs the repository's own packaging), forkvet measures it here —
one bounded walk, `lstat` only, nothing opened, no link followed — and an environment over
these limits is removed, with the reason in the result, before anything caches or counts it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from forkvet import fstree

# More entries than any environment holds (a CUDA PyTorch one: some tens of thousands).
MAX_ENTRIES = 1_000_000
# The files' sizes together, as a reader (tar) sees them: a CUDA PyTorch environment is 5 to
# 8 GiB; actions/cache keeps no archive over 10 GiB anyway.
MAX_APPARENT = 32 << 30
# Holes: what files claim beyond what they occupy, counted for files that occupy under a
# quarter of their size (a compressing file system saves less on programs and libraries).
MAX_HOLES = 1 << 30
SPARSE_RATIO = 4
_BLOCK = 512  # st_blocks' unit


@dataclass
class Measure:
    entries: int = 0
    apparent: int = 0  # the regular files' sizes (each hard-linked file once)
    allocated: int = 0  # what every entry occupies on disk (st_blocks), each inode once
    holes: int = 0
    sparse_files: int = 0
    complete: bool = True  # False: the walk stopped at its entry limit


def measure(folder: str | os.PathLike[str], max_entries: int = MAX_ENTRIES) -> Measure:
    found = Measure()
    seen: set[tuple[int, int]] = set()
    top = os.fspath(folder)
    try:
        if not stat.S_ISDIR(os.lstat(top).st_mode):
            return found
    except OSError:
        return found
    for root, dirs, files in fstree.walk(top, followlinks=False):
        for name in [*dirs, *files]:
            found.entries += 1
            if found.entries > max_entries:
                found.complete = False
                return found
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            on_disk = st.st_blocks * _BLOCK
            found.allocated += on_disk
            if not stat.S_ISREG(st.st_mode):
                continue
            found.apparent += st.st_size
            if on_disk * SPARSE_RATIO < st.st_size:
                found.holes += st.st_size - on_disk
                found.sparse_files += 1
    return found


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def unfit(found: Measure) -> str | None:
    """Why an environment of this measure is not kept (None: it is). Counts and sizes only,
    never a name the repository's code chose."""
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
