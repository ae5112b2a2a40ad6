"""Walking a folder tree without recursion.

Python 3.11's `os.walk` and `shutil.rmtree` recurse once per level: a fork that commits a
folder chain 1,000 levels deep raised RecursionError out of the pickle check (outside attack,
round 6). Every walk in forkvet and the App goes through `walk` here (a test forbids
`os.walk`), which keeps its own stack.

A tree the repository's code could write (its checkout, its environment, the scratch
folders, a job's clone) is walked by `walk_fds` instead: by folder descriptors, so no path
length limit applies (a chain past PATH_MAX hid 8 TiB of holes and a setuid file from the
path walks, round 18b), no link is followed, and whatever cannot be walked raises WalkError
(callers fail closed). The env-size check, the after-run repair, the output sweep and the
job's disk watch share it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from forkvet import hostpaths


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
    rm = hostpaths.find("rm")
    if os.path.lexists(path) and rm:
        subprocess.run([rm, "-rf", "--", path], check=False, capture_output=True)


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[str]:
    """tempfile.TemporaryDirectory whose clean-up works at any depth (a clone of a fork)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    try:
        yield folder
    finally:
        remove_tree(folder)


class WalkError(Exception):
    """`walk_fds` could not vouch for a folder: something in it could not be opened or
    looked at, or the tree changed under the walk. Callers fail closed on it (the folder is
    not kept, the step is an error), never treat it as an empty subtree."""


class Entry(NamedTuple):
    """One entry of `walk_fds`: `name` in the open folder `dir_fd` (valid until the walk
    moves on), its lstat, and its depth (0: the top itself)."""

    dir_fd: int
    name: str
    st: os.stat_result
    depth: int


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Folder descriptors kept open on the way down; deeper ones are closed and reached again
# through `..` on the way up (checked against what was seen), so any depth costs this many.
_KEEP_OPEN = 32
# A folder that vanished or was replaced while a live tree (a job's clone) is walked.
_VANISHED = (errno.ENOENT, errno.ENOTDIR)


@dataclass
class _Frame:
    fd: int | None
    ident: tuple[int, int]
    pending: list[tuple[str, tuple[int, int]]]
    depth: int


def walk_fds(top: str | os.PathLike[str], live: bool = False) -> Iterator[Entry]:
    """Every entry under `top` (top first, then each folder's entries before any of its
    subfolders is opened: a caller may chmod a folder when it is yielded), by folder
    descriptors: each name is opened relative to its folder's descriptor with O_NOFOLLOW, so
    no path length limit applies (a chain past PATH_MAX is walked like any other, outside
    attack round 18b F2/F3) and no link is followed. Fails closed: anything that cannot be
    opened or looked at, or a folder replaced during the walk, raises WalkError. `live`: the
    tree is being written while it is walked (a job's clone): an entry that vanished is
    skipped. A missing top yields nothing; a top that is not a folder is yielded alone."""
    top = os.path.abspath(os.fspath(top))
    parent, name = os.path.split(top)
    try:
        pfd = os.open(parent or "/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise WalkError(f"cannot open the folder above it ({exc.strerror})") from exc
    frames: list[_Frame] = []
    try:
        try:
            st = os.stat(name or ".", dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise WalkError(f"cannot look at it ({exc.strerror})") from exc
        yield Entry(pfd, name or ".", st, 0)
        if not stat.S_ISDIR(st.st_mode):
            return
        fd = _open_folder(pfd, name or ".", (st.st_dev, st.st_ino), live)
        if fd is None:
            return
        frames.append(_Frame(fd, (st.st_dev, st.st_ino), [], 0))
        yield from _list(frames[-1], live)
        while frames:
            yield from _step(frames, live)
    finally:
        for frame in frames:
            if frame.fd is not None:
                os.close(frame.fd)
        os.close(pfd)


def _step(frames: list[_Frame], live: bool) -> Iterator[Entry]:
    """Go down into the current folder's next subfolder (and list it), or back up."""
    here = frames[-1]
    assert here.fd is not None  # the deepest folder is always open
    if not here.pending:
        frames.pop()
        try:
            if frames and frames[-1].fd is None:
                frames[-1].fd = _open_folder(here.fd, "..", frames[-1].ident, False)
        finally:
            os.close(here.fd)
        return
    name, ident = here.pending.pop()
    fd = _open_folder(here.fd, name, ident, live)
    if fd is None:
        return
    frames.append(_Frame(fd, ident, [], here.depth + 1))
    if len(frames) > _KEEP_OPEN:
        far = frames[-_KEEP_OPEN - 1]
        if far.fd is not None:
            os.close(far.fd)
            far.fd = None
    yield from _list(frames[-1], live)


def _open_folder(dir_fd: int, name: str, ident: tuple[int, int], live: bool) -> int | None:
    """The folder `name` in dir_fd, opened without following a link and checked to be the
    one that was seen (device and inode); None when it vanished from a live tree."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if live and exc.errno in _VANISHED:
            return None
        raise WalkError(f"cannot open a folder ({exc.strerror})") from exc
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != ident:
        os.close(fd)
        if live and name != "..":
            return None
        raise WalkError("a folder was replaced while it was walked")
    return fd


def _list(frame: _Frame, live: bool) -> Iterator[Entry]:
    """Yield the folder's entries (lstat each, relative to its descriptor) and remember its
    subfolders for later, so only their names and identities are held."""
    assert frame.fd is not None
    try:
        with os.scandir(frame.fd) as entries:
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError as exc:
                    if live and exc.errno in _VANISHED:
                        continue
                    raise WalkError(f"cannot look at an entry ({exc.strerror})") from exc
                yield Entry(frame.fd, entry.name, st, frame.depth + 1)
                if stat.S_ISDIR(st.st_mode):
                    frame.pending.append((entry.name, (st.st_dev, st.st_ino)))
    except OSError as exc:
        raise WalkError(f"cannot list a folder ({exc.strerror})") from exc
    frame.pending.reverse()  # popped from the end: in listing order
