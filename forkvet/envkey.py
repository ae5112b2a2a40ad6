"""What an environment's key holds beyond its requirements: which repository it is for, and
the content of the repository when forkvet's install reads it (`pip install -e .` runs the
repository's own build, with the environment writable).

An environment is read-only to the repository's command (`sandbox.environment_mounts`): it
holds only what forkvet's installs put there. Those installs read the requirements (in the
key) and, for a repository with a `setup.py` or `pyproject.toml`, the repository itself,
whose build may write anything into the environment. So the key holds that content: another
commit, or another fork put at the same path, never reuses an environment the build of
different code wrote (outside attack, round 20b F2, F3).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from typing import BinaryIO

from forkvet.snapshot import FileEntry, Snapshot

# At most this much of the repository is read for the key; past it (or past the snapshot's
# file-count cut) the content is not known, and the environment is never reused.
MAX_CONTENT_BYTES = 512 << 20
_CHUNK = 1 << 20


def workflow_checkout(root: str | os.PathLike[str], environ: dict[str, str] | None = None) -> bool:
    """Is `root` the workflow's own checkout: `GITHUB_WORKSPACE` itself, with its `.git`?
    Only then does the workflow's `GITHUB_REPOSITORY` say which repository it is. A fork
    downloaded into `model/` without git (a Hub snapshot, a release tarball) is inside the
    workspace, but `GITHUB_REPOSITORY` is the workflow's, not the fork's: two such forks at
    one path shared one environment (outside attack, round 20b F3)."""
    env = os.environ if environ is None else environ
    workspace = env.get("GITHUB_WORKSPACE", "")
    if not env.get("GITHUB_REPOSITORY") or not os.path.isabs(workspace):
        return False
    if os.path.realpath(root) != os.path.realpath(workspace):
        return False
    return os.path.lexists(os.path.join(workspace, ".git"))


def installed_content(snap: Snapshot, reads_repository: bool) -> str:
    """The content of the repository, for the key of an environment its own build writes:
    every file's path, size and bytes (the files git ignores as well: a build reads them).
    Empty when no install reads the repository. Over MAX_CONTENT_BYTES, or a snapshot cut
    at its file count: a key no later run has (fails closed: never reused), said so."""
    if not reads_repository:
        return ""
    if snap.truncated:
        return unread("more files than forkvet lists")
    entries: Iterable[FileEntry] = sorted(
        [*snap.files, *snap.skipped, *snap.linked_out], key=lambda f: f.path
    )
    h = hashlib.sha256()
    left = MAX_CONTENT_BYTES
    for entry in entries:
        left -= entry.size
        if left < 0:
            return unread(f"over {MAX_CONTENT_BYTES >> 20} MiB")
        h.update(f"{entry.path}\0{entry.size}\0".encode("utf-8", "replace"))
        try:
            with snap.open(entry.path) as fh:
                _digest(fh, h, entry.size)
        except OSError:
            return unread(f"{entry.path} could not be read")
    return "content " + h.hexdigest()


UNREAD = "content unread: "


def unread(why: str) -> str:
    return f"{UNREAD}{why} ({secrets.token_hex(8)}: never reused)"


def _digest(fh: BinaryIO, h: hashlib._Hash, size: int) -> None:
    """Hash at most the walk's size and one byte more (a file that grew since differs)."""
    want = size + 1
    while want > 0:
        chunk = fh.read(min(_CHUNK, want))
        if not chunk:
            return
        h.update(chunk)
        want -= len(chunk)
