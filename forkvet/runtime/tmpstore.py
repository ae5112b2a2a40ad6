"""Where the sandbox's private writable folders live: on a disk, or in a bounded tmpfs.

The sandbox's private `/tmp` (also `HOME`) and the command's output scratch folder were host
folders in the system's temporary folder, whatever file system that was: where `/tmp` is a
tmpfs (Fedora's, Arch's, Debian 13's default; `TMPDIR` on `/dev/shm`), every byte the
command wrote there was RAM shared with every tenant, bounded by no limit of the command's
(outside attack, round 21b F9). So each such folder is made only on a file system statfs(2)
says is on a disk (forkvet/data/disk_filesystems.json, an allow-list: tmpfs, ramfs and any
type not listed do not count): the temporary folder, else `/var/tmp`. Where neither is, the
sandbox's `/tmp` is a tmpfs of its own of bounded size (`limits.tmp_mb`), and a command
whose output folder needs a scratch folder does not start (`NoDiskFolder`).

On a disk every private folder is made in one folder of the runner's user there,
`forkvet-private-<uid>` (made 0700; an existing one must be a folder of this user that no
one else may open, else nothing runs), and every sandbox covers that folder with an empty
read-only one (`covers`): a private folder is private by construction, whichever folder the
disk's is. Only `/tmp` was covered (by the sandbox's own): with `TMPDIR` on another disk, or
the `/var/tmp` fallback, a concurrent sandbox of the same user read another's `/tmp`,
`HOME` and output scratch and connected to its sockets (outside attack, round 22b F10).
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import stat
import struct
import tempfile
from importlib import resources

from forkvet.errors import ForkvetError

FALLBACK = "/var/tmp"


class NoDiskFolder(ForkvetError):
    """No folder on a disk for the command's private files: nothing runs (fail closed)."""


@functools.cache
def _types() -> dict[int, str]:
    text = resources.files("forkvet.data").joinpath("disk_filesystems.json").read_text("utf-8")
    return {int(magic): name for name, magic in json.loads(text)["types"].items()}


def fs_type(path: str) -> int | None:
    """statfs(2)'s f_type of `path` (its first field, a long on the 64-bit ABIs forkvet
    knows); None where the call fails."""
    buf = ctypes.create_string_buffer(256)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.statfs(os.fsencode(path), buf) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return int(struct.unpack_from("=Q", buf.raw)[0] & 0xFFFFFFFF)


def disk(path: str) -> str | None:
    """The name of the disk file system `path` is on; None: RAM, or a type not judged."""
    found = fs_type(path)
    return _types().get(found) if found is not None else None


def place() -> tuple[str, str] | None:
    """(folder, its file system) for the private folders: the temporary folder when it is
    on a disk, else /var/tmp when that is; None: neither."""
    for folder in (tempfile.gettempdir(), FALLBACK):
        name = disk(folder) if os.path.isdir(folder) else None
        if name:
            return folder, name
    return None


PARENT = "forkvet-private-{uid}"


def parent() -> str | None:
    """The folder every private folder is made in, on a disk (`place`; None: no disk's
    folder): `forkvet-private-<uid>` there, made 0700 and checked — a folder, not a link,
    this user's, no permission for anyone else — or NoDiskFolder."""
    found = place()
    if found is None:
        return None
    path = os.path.join(os.path.realpath(found[0]), PARENT.format(uid=os.geteuid()))
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise NoDiskFolder(f"cannot make {path} for the command's private files: {exc}") from exc
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise NoDiskFolder(
            f"{path} (where the command's private files go) is not a folder of this user that "
            "only it may open: remove it, or set TMPDIR to a folder of your own on a disk"
        )
    return path


def covers() -> list[str]:
    """bwrap arguments hiding every other run's private folders: `parent()` as an empty,
    read-only folder (the sandbox binds its own pieces from the host's tree, which this does
    not hide). Under `/tmp` nothing: the sandbox's own `/tmp` covers it."""
    found = parent()
    if found is None or found == "/tmp" or found.startswith("/tmp/"):
        return []
    return ["--size", str(64 << 10), "--tmpfs", found, "--remount-ro", found]


def private_folder(prefix: str) -> str:
    """A fresh private folder on a disk (in `parent()`), or NoDiskFolder saying why."""
    found = parent()
    if found is None:
        raise NoDiskFolder(
            f"no folder on a disk for the command's private files: the temporary folder "
            f"({tempfile.gettempdir()}) and {FALLBACK} are RAM (tmpfs) or a file system forkvet "
            "cannot judge; set TMPDIR to a folder on a disk"
        )
    return tempfile.mkdtemp(prefix=prefix, dir=found)


def said(tmp_mb: int) -> str:
    """The sentence for the result's `limits`: where /tmp and HOME are."""
    found = place()
    if found is None:
        return f"/tmp and HOME: a {tmp_mb} MiB tmpfs of their own (no temporary folder on a disk)"
    return f"/tmp, HOME and the output scratch on a disk ({found[1]}, in {found[0]})"
