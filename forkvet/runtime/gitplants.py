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
commit, a remote) they would be trusted as well."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

from forkvet import fstree
from forkvet.errors import ForkvetError

DOTGIT = ".git"
# As many entries as the after-run repair vouches for; past it that repair fails the step.
MAX_ENTRIES = 2_000_000

Known = set[tuple[str, tuple[int, int]]]


def _ident(path: str) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _walk(top: str) -> tuple[Known, bool]:
    """(every `.git` below `top` with its identity, whether the walk saw the whole tree).
    A `.git` folder is not entered."""
    found: Known = set()
    seen = 0
    for path, dirs, files in fstree.walk(top):
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            return found, False
        if DOTGIT in dirs or DOTGIT in files:
            if path != top:
                dotgit = os.path.join(path, DOTGIT)
                ident = _ident(dotgit)
                if ident:
                    found.add((dotgit, ident))
            dirs[:] = [d for d in dirs if d != DOTGIT]
    return found, True


def record(folders: Iterable[str | os.PathLike[str]]) -> dict[str, Known | None]:
    """Before the run: each folder's `.git` entries below its top (None: more than
    MAX_ENTRIES, nothing is judged after the run — the repair's bound fails that step)."""
    before: dict[str, Known | None] = {}
    for folder in {os.path.abspath(f) for f in folders}:
        if not os.path.isdir(folder) or os.path.islink(folder):
            continue
        found, whole = _walk(folder)
        before[folder] = found if whole else None
    return before


def planted(before: dict[str, Known | None]) -> list[str]:
    """After the run (and its repair): every `.git` that was not there before, removed.
    Returns their paths relative to their folder."""
    removed: list[str] = []
    for folder, known in before.items():
        if known is None:
            continue
        now, _ = _walk(folder)
        for dotgit, _ident in sorted(now - known):
            with contextlib.suppress(OSError):
                fstree.remove_tree(dotgit)
            removed.append(os.path.relpath(dotgit, folder))
    return removed


MAX_COVERS = 1000


def paths(before: dict[str, Known | None]) -> list[str]:
    """The recorded `.git` paths, for `covers`."""
    return sorted(p for known in before.values() if known for p, _ in known)


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
