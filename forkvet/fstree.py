"""Walking a folder tree without recursion.

Python 3.11's `os.walk` and `shutil.rmtree` recurse once per level: a fork that commits a
folder chain 1,000 levels deep raised RecursionError out of the pickle check (outside attack,
round 6). Every walk in forkvet and the App goes through `walk` here (a test forbids
`os.walk`), which keeps its own stack.
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator


def walk(
    top: str | os.PathLike[str], followlinks: bool = False
) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk's top-down (dirpath, dirnames, filenames), with an explicit stack: any depth.
    As with os.walk, the caller may prune `dirnames` in place; folders that cannot be listed
    are skipped; symlinked folders are listed in dirnames but entered only with followlinks."""
    stack = [os.fspath(top)]
    while stack:
        path = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        dirs: list[str] = []
        files: list[str] = []
        links: set[str] = set()
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry.name)
            if is_dir and entry.is_symlink():
                links.add(entry.name)
        yield path, dirs, files
        for name in reversed(dirs):
            if followlinks or name not in links:
                stack.append(os.path.join(path, name))


def remove_tree(path: str | os.PathLike[str]) -> None:
    """shutil.rmtree(path, ignore_errors=True) for any depth: links are removed, never
    followed; what the walk cannot remove (a path past PATH_MAX) is left to `rm -rf`."""
    path = os.fspath(path)
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return
    except OSError:
        return
    folders = []
    for top, dirs, files in walk(path):
        folders.append(top)
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(top, d)))]:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(top, name))
    for folder in reversed(folders):  # children before their parents
        with contextlib.suppress(OSError):
            os.rmdir(folder)
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--", path], check=False, capture_output=True)


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[str]:
    """tempfile.TemporaryDirectory whose clean-up works at any depth (a clone of a fork)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    try:
        yield folder
    finally:
        remove_tree(folder)
