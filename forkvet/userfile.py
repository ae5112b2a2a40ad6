"""Reading a file the operator names on the command line (`--config`, `--notebook`, `--log`,
`report --train`): a regular file, bounded, never a FIFO that blocks or a device that never
ends, and never through a link the vetted repository planted.

A path below the repository's checkout is opened one component at a time from the checkout,
without following any link (the vetting's own rule: a committed `runs -> /home/runner` or
`demo.ipynb -> ~/.git-credentials` is refused, never read); links on the way to the checkout,
or to a file outside it, are the operator's own and are followed (safe_write's trusted
prefix), except the file's own last component. Errors name the path, never its content."""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path
from typing import TextIO

from forkvet.errors import InputError

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_ANY = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _is_link(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


def open_no_follow(
    path: str | os.PathLike[str], repo: Path | None, what: str, follow_last: bool = False
) -> int:
    """A read-only descriptor of path (a file or a folder): every component below the first one
    forkvet cannot vouch for (the repository, however its path is spelled) is opened without
    following a link, and so is the last one (unless follow_last and the file is outside the
    repository: the operator's own link); InputError (one line) otherwise."""
    from forkvet.safe_write import _inside, _trusted_prefix

    shown = os.fspath(path)
    full = Path(os.path.abspath(path))
    if full == Path(full.anchor):
        raise InputError(f"{what} {shown} is not a file")
    prefix, below = _trusted_prefix(full, repo)
    outside = repo is None or not _inside(prefix, Path(os.path.realpath(repo)))
    flags = _ANY & ~os.O_NOFOLLOW if follow_last and outside and len(below) == 1 else _ANY
    try:
        fd = os.open(prefix, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found: {shown}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {what} {shown}: {exc.strerror or exc}") from exc
    for i, part in enumerate(below):
        last = i == len(below) - 1
        try:
            child = os.open(part, flags if last else _DIR, dir_fd=fd)
        except OSError as exc:
            link = _is_link(fd, part)
            os.close(fd)
            if link:
                raise InputError(
                    f"{what} {shown}: {part} is a symbolic link; forkvet does not follow "
                    "links in a repository (give the file itself)"
                ) from exc
            if exc.errno == errno.ENOENT:
                raise InputError(f"{what} not found: {shown}") from exc
            raise InputError(f"cannot read {what} {shown}: {exc.strerror or exc}") from exc
        os.close(fd)
        fd = child
    return fd


def open_regular(
    path: str | os.PathLike[str], repo: Path | None, what: str, follow_last: bool = False
) -> int:
    """open_no_follow, for a regular file only."""
    fd = open_no_follow(path, repo, what, follow_last)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{what} {os.fspath(path)} is not a regular file")
    return fd


def read_regular(
    path: str, limit: int, what: str, repo: Path | None = None, follow_last: bool = True
) -> bytes:
    """Up to limit bytes of a regular file; InputError (one line) for anything else. A file the
    operator names outside the repository may be their own link (follow_last); one inside
    never is."""
    fd = open_regular(path, repo, what, follow_last)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{what} {path} is larger than {limit >> 20} MiB")
    return data


def open_text(
    path: str | os.PathLike[str], repo: Path | None, what: str, newline: str | None = None
) -> TextIO:
    """A regular file opened the no-follow way, as UTF-8 text (bad bytes replaced)."""
    fd = open_regular(path, repo, what)
    return io.TextIOWrapper(
        os.fdopen(fd, "rb"), encoding="utf-8", errors="replace", newline=newline
    )


def refuse_linked_target(target: str | os.PathLike[str]) -> None:
    """InputError when the path to a TARGET whose folder the repository's code will write
    passes through a link below a checkout (a folder holding `.git`, or the workflow's
    `GITHUB_WORKSPACE`): an earlier step's command, which could write that checkout, may have
    made it, and the sandbox would mount the link's destination writable — any folder of the
    runner's user (outside attack, round 19b F9: `sub` replaced by a link to another folder,
    then `smoke checkout/sub`). Links above every checkout are the operator's own and are
    followed (`/home -> /data/home`)."""
    full = Path(os.path.abspath(target))
    workspace = os.environ.get("GITHUB_WORKSPACE", "")
    workspaces = {workspace, os.path.realpath(workspace)} if workspace else set()
    here = Path(full.anchor)
    below_checkout = False
    for part in full.parts[1:]:
        below_checkout = below_checkout or os.path.lexists(here / ".git")
        below_checkout = below_checkout or str(here) in workspaces
        step = here / part
        try:
            is_link = stat.S_ISLNK(os.lstat(step).st_mode)
        except OSError:
            return  # not there: the step says so in its own words
        if is_link and below_checkout:
            raise InputError(
                f"{os.fspath(target)}: {step} is a symbolic link inside a checkout, which the "
                "repository's code could have made; give the folder's real path"
            )
        here = Path(os.path.realpath(step)) if is_link else step
