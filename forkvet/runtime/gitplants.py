"""No `.git` the repository's code made survives its run.

The checkout's own `.git` is read-only inside the sandbox and a folder without one gets a
placeholder (`sandbox._git_placeholders`), but the command could still make `SUB/.git` in any
folder below: a later step on `SUB` (`smoke checkout/sub`, `train-check`, `vet`, `env`, `envs
key`) took that forged repository's commit, its 2020 date and another repository's remote,
and keyed `SUB`'s environment by that remote instead of its content (outside attack, round
21b F5). So the run's folder is walked before the command starts and every `.git` in it
(below the top) is recorded by path and identity; after the run, a `.git` that is not one of
them — new, or another file or folder at a recorded name — was made by the run: it is
removed, and the step fails saying so (`planted`). A later step never meets it. The ones
that were there are read-only during the run (`covers`): rewritten in place (a forged
commit, a remote) they would be trusted as well. Both walks go to the end of the tree, by
folder descriptors, with no entry bound (round 22b F9); a folder either walk cannot vouch for
fails the step."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator

from forkvet import fstree
from forkvet.errors import ForkvetError

DOTGIT = ".git"

Known = set[tuple[str, tuple[int, int]]]


def _path(entry: fstree.Entry) -> str | None:
    """The entry's path, from its folder's descriptor (None: it has none to give)."""
    try:
        return os.path.join(os.readlink(f"/proc/self/fd/{entry.dir_fd}"), entry.name)
    except OSError:
        return None


def _below(top: str) -> Iterator[tuple[fstree.Entry, str | None]]:
    """Every `.git` below `top` (not `top/.git`) with its path: the whole tree by folder
    descriptors, whatever its size or depth. A bound here ended the walk at 2,000,000
    entries and the plants past it survived (outside attack, round 22b F9); the walk costs
    what the after-run repair's does. `live`: a `.git` removed as it is found is skipped."""
    for entry in fstree.walk_fds(top, live=True):
        if entry.depth >= 2 and entry.name == DOTGIT:
            yield entry, _path(entry)


def record(folders: Iterable[str | os.PathLike[str]]) -> dict[str, Known | None]:
    """Before the run: each folder's `.git` entries below its top (None: the folder could
    not be walked whole — after the run nothing is removed there, and the step fails)."""
    before: dict[str, Known | None] = {}
    for folder in {os.path.abspath(f) for f in folders}:
        if not os.path.isdir(folder) or os.path.islink(folder):
            continue
        found: Known | None = set()
        try:
            for entry, path in _below(folder):
                if path is None or found is None:
                    found = None
                    continue
                found.add((path, (entry.st.st_dev, entry.st.st_ino)))
        except fstree.WalkError:
            found = None
        before[folder] = found
    return before


def planted(before: dict[str, Known | None]) -> list[str]:
    """After the run (and its repair): every `.git` that was not there before, removed as the
    walk finds it. Returns their paths relative to their folder, and a line for each folder
    that could not be checked whole (the caller fails the step on any)."""
    said: list[str] = []
    for folder, known in before.items():
        if known is None:
            said.append(f"{folder}: not walked whole before the run, so not checked")
            continue
        try:
            for entry, path in _below(folder):
                if path is not None and (path, (entry.st.st_dev, entry.st.st_ino)) in known:
                    continue
                with contextlib.suppress(OSError):
                    fstree.remove_tree(f"/proc/self/fd/{entry.dir_fd}/{entry.name}")
                gone = not os.path.lexists(f"/proc/self/fd/{entry.dir_fd}/{entry.name}")
                where = os.path.relpath(path, os.path.realpath(folder)) if path else DOTGIT
                said.append(where if gone else f"{where} (could not be removed)")
        except fstree.WalkError as exc:
            said.append(f"{folder}: not walked whole after the run ({exc}): a .git may remain")
    return said


def paths(before: dict[str, Known | None]) -> list[str]:
    """The recorded `.git` paths, for `covers`."""
    return sorted(p for known in before.values() if known for p, _ in known)


MAX_COVERS = 1000


def covers(found: Iterable[str]) -> list[str]:
    """bwrap arguments: each recorded `.git` below the run's folder read-only (a link cannot
    be a mount point: what the run leaves at its name is judged by `planted`). More than
    MAX_COVERS: the run is refused, never some of them left writable."""
    found = list(found)
    if len(found) > MAX_COVERS:
        raise ForkvetError(
            f"more than {MAX_COVERS} git repositories below the folder the code runs in: "
            "forkvet cannot keep them all read-only, so it runs nothing there"
        )
    argv: list[str] = []
    for path in found:
        if os.path.lexists(path) and not os.path.islink(path):
            argv += ["--ro-bind", path, path]
    return argv
