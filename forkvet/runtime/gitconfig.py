"""The git configuration the sandbox shows: a copy forkvet wrote, holding only the keys git
needs to read the repository, never what an operator or actions/checkout put there.

actions/checkout's default (`persist-credentials: true`) writes the job's token into the
checkout's `.git/config` (`http.https://github.com/.extraheader AUTHORIZATION: basic …`); the
sandbox made `.git` read-only, not unreadable, and the command printed the token into the job
summary (outside attack, round 21b F3). Any key may hold a secret (`http.*.extraheader`,
`credential.*`, `url.<secret>.insteadOf`, a remote URL with a password, an `include.path` to
a credentials file), so the copy is built from an allow-list of keys (`_KEPT`), not by
removing the ones known to be secret: a line forkvet cannot parse is dropped. Every config
file of the checkout's repository (its own, the enclosing one's for a folder of a larger
checkout, a worktree's common folder, the submodules' under `modules/`) is covered with its
copy, read-only (`mounts`)."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterable
from typing import TYPE_CHECKING

from forkvet import fstree

if TYPE_CHECKING:
    from forkvet import rx


# section -> keys kept (lower case); a subsection's keys are judged by their section's list
_KEPT = {
    "core": {
        "repositoryformatversion",
        "filemode",
        "bare",
        "logallrefupdates",
        "ignorecase",
        "precomposeunicode",
        "symlinks",
        "worktree",
        "sparsecheckout",
        "sparsecheckoutcone",
        "autocrlf",
        "eol",
        "quotepath",
    },
    "extensions": {
        "objectformat",
        "compatobjectformat",
        "refstorage",
        "worktreeconfig",
        "preciousobjects",
        "partialclone",
    },
    "remote": {"url", "pushurl", "fetch", "promisor", "partialclonefilter"},
    "branch": {"remote", "merge"},
    "submodule": {"url", "active"},
}
_URL_KEYS = {"url", "pushurl"}
_SECTION = r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"([A-Za-z0-9._/@:+-]*)")?\s*\]\s*$'
_ENTRY = r"^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*([^\"\\;#]*?))?\s*$"
# scheme://[userinfo@]host[:port]/path, without a query or fragment kept
_URL = r"^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/@]*@)?([^/?#]*)([^?#]*)"


@functools.cache
def _rx(pattern: str) -> rx.Pattern[str]:
    """Compiled when first used: sandbox.py, which imports this module, is also imported by
    interpreters without RE2 (tests drive the sandbox from the system's Python)."""
    from forkvet import rx as engine

    return engine.compile(pattern)


MAX_CONFIG_BYTES = 1 << 20
MAX_FILES = 256


def scrubbed(text: str) -> str:
    """The allow-listed keys of a git config file, written again by forkvet."""
    kept: list[str] = ["# written by forkvet for the sandbox: the keys git needs, no secret\n"]
    section: tuple[str, str | None] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            found = _rx(_SECTION).match(line)
            section = _section(found.group(1), found.group(2)) if found else None
            if section:
                sub = f' "{section[1]}"' if section[1] is not None else ""
                kept.append(f"[{section[0]}{sub}]\n")
            continue
        entry = _rx(_ENTRY).match(line)
        if section is None or entry is None:
            continue  # unknown section, a continued or quoted value: dropped
        key, value = entry.group(1).lower(), entry.group(2)
        if key not in _KEPT[section[0]]:
            continue
        if key in _URL_KEYS and value is not None:
            value = _without_credentials(value)
        kept.append(f"\t{key}" + ("" if value is None else f" = {value}") + "\n")
    return "".join(kept)


def _section(name: str, sub: str | None) -> tuple[str, str | None] | None:
    """(section, subsection) of an allow-listed section; `[remote.origin]`, git's older
    spelling, too."""
    name = name.lower()
    if sub is None and "." in name:
        name, sub = name.split(".", 1)
    return (name, sub) if name in _KEPT else None


def _without_credentials(url: str) -> str:
    """A URL without its user and password, query or fragment; a local path or scp-like
    `host:path` as it is (neither carries a password)."""
    found = _rx(_URL).match(url)
    if found is None:
        return url if "://" not in url else ""
    return found.group(1) + found.group(2) + found.group(3)


def config_files(gitdirs: Iterable[str]) -> list[str]:
    """Every config file of these git folders (resolved): `config`, `config.worktree`, a
    worktree's common folder's, and those of the submodules' git folders under `modules/`
    (at most MAX_FILES)."""
    found: list[str] = []
    for gitdir in _with_common(gitdirs):
        found += [os.path.join(gitdir, n) for n in ("config", "config.worktree")]
        for top, folders, files in fstree.walk(os.path.join(gitdir, "modules")):
            folders[:] = [f for f in folders if f not in ("objects", "refs", "logs")]
            found += [os.path.join(top, n) for n in files if n in ("config", "config.worktree")]
            if len(found) > MAX_FILES:
                break
    real = {os.path.realpath(f) for f in found}
    return sorted(f for f in real if os.path.isfile(f))[:MAX_FILES]


def _with_common(gitdirs: Iterable[str]) -> list[str]:
    found: list[str] = []
    for gitdir in gitdirs:
        found.append(gitdir)
        try:
            with open(os.path.join(gitdir, "commondir"), "rb") as fh:
                common = fh.read(4096).decode("utf-8", "replace").strip()
        except OSError:
            continue
        if common:
            found.append(os.path.normpath(os.path.join(gitdir, common)))
    return sorted({os.path.realpath(g) for g in found})


def _read(path: str) -> str:
    """The file's text, bounded; "" for anything else (a FIFO, a folder, past the bound):
    its copy then holds no key at all."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        raw = os.read(fd, MAX_CONFIG_BYTES + 1)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return "" if len(raw) > MAX_CONFIG_BYTES else raw.decode("utf-8", "replace")


def mounts(gitdirs: Iterable[str], private: str) -> list[str]:
    """bwrap arguments that cover each config file of `gitdirs` with its scrubbed copy,
    read-only; the copies are written into `private` (forkvet's, out of the sandbox's
    sight)."""
    argv: list[str] = []
    for n, path in enumerate(config_files(gitdirs)):
        copy = os.path.join(private, f"gitconfig-{n}")
        _write(copy, scrubbed(_read(path)))
        argv += ["--ro-bind", copy, path]
    return argv


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
