"""What an environment's interpreter reads when it starts is forkvet's own.

Every start of `<env>/bin/python` reads `<env>/pyvenv.cfg` before anything else, `-I -S`
included: its `home =` line says where the standard library is. A wheel's
`*.data/data/pyvenv.cfg` is installed at the environment's root, over uv's; a `home`
pointing into the wheel's own files made the environment take `encodings` from the wheel, so
its code ran in the "wheels only, runs no package code" build (forkvet's compile step, uv's
next interpreter query) and at every later start (outside attack, round 21b F4). So
forkvet keeps the `pyvenv.cfg` uv wrote when it made the environment (`read_cfg`), writes it
back after every install into the environment (`restore_cfg`), and records, with the
environment, a digest of every file the interpreter or `site` reads at start (`pyvenv.cfg`,
each `.pth`, `sitecustomize`, `usercustomize` in site-packages: `fingerprint`). An
environment whose files are not those (`matches`) is not reused: it is built again.

What the interpreter reads is CPython's `getpath`'s inputs, not a list of site's names: it
also reads `<executable>._pth` beside the executable it was started as, which replaces
`sys.path` whole, ignores `PYTHONPATH` and skips `site`, `-I -S` or not; a wheel's
`NAME.data/data/bin/python._pth` put one there (outside attack, round 22b F4), and
`pybuilddir.txt` beside it makes the folder a build tree. No file of `bin/` but the
programs is uv's: every `*._pth` and `pybuilddir.txt` there is removed after each install
(`restore_cfg`), and `bin/`'s interpreters, `._pth` and `pybuilddir.txt` are in the
fingerprint."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from forkvet import fstree
from forkvet.errors import ForkvetError

CFG = "pyvenv.cfg"
MAX_CFG_BYTES = 64 << 10
MAX_STARTUP_FILES = 10_000
_STARTUP_NAMES = ("sitecustomize", "usercustomize")
# What getpath reads beside the executable in `bin/` (besides the executable itself).
_BUILD_DIR = "pybuilddir.txt"


def _getpath_inputs(folder: Path) -> list[str]:
    """The names in `bin/` getpath reads: `*._pth`, `pybuilddir.txt`, `python*` (none
    through a linked `bin/`: the fingerprint holds the link)."""
    if (folder / "bin").is_symlink():
        return []
    try:
        names = os.listdir(folder / "bin")
    except OSError:
        return []
    return sorted(
        n for n in names if n.endswith("._pth") or n == _BUILD_DIR or n.startswith("python")
    )


def _read_regular(path: str, limit: int) -> bytes | None:
    """The file's bytes, not through a link, a regular file within `limit`; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= limit else None


def read_cfg(folder: Path) -> bytes:
    """The `pyvenv.cfg` uv wrote, read right after `uv venv` (before any package)."""
    data = _read_regular(str(folder / CFG), MAX_CFG_BYTES)
    if data is None:
        raise ForkvetError(f"the new environment {folder} has no readable {CFG}")
    return data


def restore_cfg(folder: Path, data: bytes) -> None:
    """`pyvenv.cfg` is `data` again, whatever an install put at its name (a file, a link, a
    folder): removed, and written anew without following a link. No `._pth` or
    `pybuilddir.txt` is left in `bin/`."""
    for name in _getpath_inputs(folder):
        if not name.startswith("python") or name.endswith("._pth"):
            fstree.remove_tree(folder / "bin" / name)
    path = str(folder / CFG)
    if _read_regular(path, MAX_CFG_BYTES) == data:
        return
    fstree.remove_tree(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _site_packages(folder: Path) -> list[Path]:
    found: list[Path] = []
    for lib in ("lib", "lib64"):
        top = folder / lib
        if top.is_symlink() or not top.is_dir():
            continue  # uv's lib64 is a link to lib
        found += [p for p in sorted(top.glob("python*/site-packages")) if not p.is_symlink()]
    return found


def _digest(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    if path.is_dir():
        return "folder"
    data = _read_regular(str(path), 64 << 20)
    return "unreadable" if data is None else hashlib.sha256(data).hexdigest()


def fingerprint(folder: Path) -> dict[str, str]:
    """{path relative to the environment: digest} of `pyvenv.cfg`, of what getpath reads in
    `bin/` (`_getpath_inputs`) and of each `.pth`, `sitecustomize*` and `usercustomize*` at
    the top of its site-packages."""
    found = {CFG: _digest(folder / CFG)}
    found |= {f"bin/{n}": _digest(folder / "bin" / n) for n in _getpath_inputs(folder)}
    if (folder / "bin").is_symlink():
        found["bin"] = _digest(folder / "bin")
    for site in _site_packages(folder):
        try:
            names = sorted(os.listdir(site))
        except OSError:
            found[str(site.relative_to(folder))] = "unreadable"
            continue
        for name in names:
            if name.endswith(".pth") or name.startswith(_STARTUP_NAMES):
                found[str((site / name).relative_to(folder))] = _digest(site / name)
            if len(found) > MAX_STARTUP_FILES:
                found[_TOO_MANY] = "too many"  # such an environment is never reused
                return found
    return found


_TOO_MANY = "..."


def matches(folder: Path, recorded: object) -> bool:
    """Are the environment's start-up files the ones recorded when forkvet built it? A record
    without them (an older forkvet's) is no match: the environment is built again."""
    if not isinstance(recorded, dict) or _TOO_MANY in recorded:
        return False
    return recorded == fingerprint(folder)


def record(folder: Path) -> dict[str, object]:
    """What the environment's record keeps of its start: forkvet's `pyvenv.cfg` (written
    back after a later install, `after_install`) and the fingerprint."""
    data = _read_regular(str(folder / CFG), MAX_CFG_BYTES) or b""
    return {"pyvenv_cfg": data.decode("latin-1"), "startup": fingerprint(folder)}


def after_install(folder: Path, record_file: Path) -> None:
    """After an install into an environment forkvet built (ipykernel for a notebook): its
    `pyvenv.cfg` written back from the record, and the record's fingerprint brought up to
    date. No record with forkvet's `pyvenv.cfg`: the environment is not forkvet's to vouch
    for, and nothing is recorded (it is not reused: `matches`)."""
    import json

    try:
        data = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    cfg = data.get("pyvenv_cfg") if isinstance(data, dict) else None
    if not isinstance(cfg, str) or not cfg:
        return
    restore_cfg(folder, cfg.encode("latin-1"))
    data["startup"] = fingerprint(folder)
    record_file.write_text(json.dumps(data, indent=2), encoding="utf-8")
