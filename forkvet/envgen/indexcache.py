"""What the package index said, kept on disk between forkvet's runs (env, then smoke, then
train-check; several repositories in a row), so they do not ask the index again.

Two kinds of entry, under `${XDG_CACHE_HOME:-~/.cache}/forkvet/index/` (FORKVET_INDEX_CACHE=0
turns it off):

- `metadata`: the core METADATA of one distribution file, keyed by its URL *and* the sha256 the
  index gives for it. A file with that hash never changes, so neither does its METADATA: kept
  until the size cap evicts it. Files the index gives no hash for are not kept.
- `pages`: a project's simple-API page, for PAGE_TTL_S (10 minutes, as long as public indexes
  let HTTP caches and uv keep them): a new upload or yank shows within minutes, as with uv.

An entry is only ever read back as it was written: a header line names the digest of its key
and the sha256 and size of its body, and anything else (another key, a truncated or altered
body, an entry from the future, a link, a special file, a file too large) is a miss. Folders are
opened one component at a time without following links and must be the user's own; entries are
written to a temporary name and renamed into place (a reader never sees half an entry). Each
kind is capped in size; the oldest entries go first. The runtime sandbox mounts this folder
read-only (runtime/sandbox.py `protected_paths`), so the repository's code cannot plant entries.
Any failure to use the cache just means the index is asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path

PAGE_TTL_S = 600.0
# Per kind: a whole TensorFlow page is a few MiB, a METADATA file a few KiB.
MAX_TOTAL = {"pages": 256 * 2**20, "metadata": 128 * 2**20}
MAX_ENTRY = 64 * 2**20
_VERSION = "v1"
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a FIFO must not block
_HEADER_MAX = 1024

_lock = threading.Lock()
_written = {kind: 0 for kind in MAX_TOTAL}
# Pages written before this moment are not read back (index.forget(): read the index afresh).
_fresh_after = [0.0]


def location(environ: Mapping[str, str] | None = None) -> Path:
    """Where the cache lives (whether or not it is turned on)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative (which the XDG spec says to ignore)
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "forkvet" / "index"


def folder() -> Path | None:
    """The cache's folder, or None when the user turned it off or has no home to hold it."""
    if os.environ.get("FORKVET_INDEX_CACHE", "1").strip().lower() in ("0", "off", "no", "false"):
        return None
    path = location()
    return path if path.is_absolute() else None


def for_sandbox(environ: Mapping[str, str] | None = None) -> Path:
    """The cache's folder, made if missing: the sandbox mounts it read-only, and a folder that
    does not exist cannot be mounted (the code inside could then make it, under a writable
    cache folder, and plant entries)."""
    path = location(environ)
    if path.is_absolute():  # never a folder relative to wherever forkvet runs
        with contextlib.suppress(OSError):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def forget_pages() -> None:
    """Pages kept so far are not read back by this process (its index may have changed)."""
    _fresh_after[0] = time.time()


def _digest(kind: str, key: str) -> str:
    return hashlib.sha256(f"{_VERSION}\0{kind}\0{key}".encode()).hexdigest()


def _open_kind(kind: str, create: bool) -> int | None:
    """An open fd of the kind's folder, walked from the cache base without following links;
    None when it is missing (and not to be made) or not the user's own folder."""
    root = folder()
    if root is None:
        return None
    base = root.parent.parent  # the user's cache folder: theirs to point anywhere
    try:
        fd = os.open(base, _DIR & ~os.O_NOFOLLOW)
    except OSError:
        return None
    for part in ("forkvet", "index", _VERSION, kind):
        try:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            child = os.open(part, _DIR, dir_fd=fd)
        except OSError:
            os.close(fd)
            return None
        os.close(fd)
        fd = child
        # The user's own, and writable by nobody else: `forkvet` (shared with the
        # environments, made with the user's umask) may be group-writable (a private group);
        # the folders below it are made 0700 here.
        shared = stat.S_IWOTH if part == "forkvet" else stat.S_IWGRP | stat.S_IWOTH
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & shared:
            os.close(fd)
            return None
    return fd


def get(kind: str, key: str, max_age: float | None = None) -> bytes | None:
    """The body kept under key, or None (a miss) for anything but an intact entry of that key,
    younger than max_age seconds when given."""
    fd = _open_kind(kind, create=False)
    if fd is None:
        return None
    try:
        return _read(fd, _digest(kind, key), kind, max_age)
    finally:
        os.close(fd)


def _read(dir_fd: int, name: str, kind: str, max_age: float | None) -> bytes | None:
    try:
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd
        )
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY + _HEADER_MAX:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_ENTRY + _HEADER_MAX + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return _body(data, name, kind, max_age)


def _body(data: bytes, name: str, kind: str, max_age: float | None) -> bytes | None:
    head, sep, body = data.partition(b"\n")
    if not sep or len(head) > _HEADER_MAX:
        return None
    try:
        header = json.loads(head)
        created = float(header["created"])
        ok = (
            header["key"] == name
            and header["size"] == len(body)
            and header["sha256"] == hashlib.sha256(body).hexdigest()
        )
    except (ValueError, TypeError, KeyError):
        return None
    now = time.time()
    if not ok or created > now + 60:
        return None
    if max_age is not None and (now - created > max_age or created < _fresh_after[0]):
        return None
    return body


def put(kind: str, key: str, body: bytes) -> None:
    """Keep body under key (atomically); silently nothing when the cache cannot be written."""
    if len(body) > MAX_ENTRY:
        return
    fd = _open_kind(kind, create=True)
    if fd is None:
        return
    try:
        name = _digest(kind, key)
        header = {
            "key": name,
            "created": time.time(),
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        _write(fd, name, json.dumps(header).encode() + b"\n" + body)
        if _count(kind, len(body)):
            _prune(fd, kind)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write(dir_fd: int, name: str, data: bytes) -> None:
    tmp = f".tmp-{secrets.token_hex(8)}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def _count(kind: str, size: int) -> bool:
    """Whether this process has written enough since its last check to look at the total:
    on its first write, then after each quarter of the cap."""
    with _lock:
        first = _written[kind] == 0
        _written[kind] += size
        if first or _written[kind] > MAX_TOTAL[kind] // 4:
            _written[kind] = 1
            return True
    return False


def _prune(dir_fd: int, kind: str) -> None:
    """Expired pages, stale temporary files, then the oldest entries until under the cap."""
    now = time.time()
    entries: list[tuple[float, int, str]] = []
    with os.scandir(dir_fd) as it:
        for e in it:
            try:
                info = e.stat(follow_symlinks=False)
            except OSError:
                continue
            stale_tmp = e.name.startswith(".tmp-") and now - info.st_mtime > 3600
            expired = kind == "pages" and now - info.st_mtime > PAGE_TTL_S
            if stale_tmp or expired or not stat.S_ISREG(info.st_mode):
                _unlink(dir_fd, e.name)
            elif not e.name.startswith(".tmp-"):
                entries.append((info.st_mtime, info.st_size, e.name))
    total = sum(size for _, size, _ in entries)
    for _, size, name in sorted(entries):
        if total <= MAX_TOTAL[kind]:
            break
        _unlink(dir_fd, name)
        total -= size


def _unlink(dir_fd: int, name: str) -> None:
    try:
        if stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            return  # not ours to remove
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass
