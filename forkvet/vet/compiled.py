"""Code the interpreter runs that is not the source the repository shows: compiled bytecode
(`.pyc`) and native extension modules (`.so`, `.pyd`) where importlib takes them, and Python
source decoded by a PEP 263 cookie that reads ASCII otherwise than UTF-8 does.

CPython's path finder looks in each folder for a package first (`model/__init__` with any
suffix), then for a module file, trying the extension-module suffixes, then `.py`, then a
sourceless `.pyc`; for a `.py` it runs `__pycache__/<stem>.<tag>.pyc` when that is valid (an
unchecked-hash pyc always is). Nothing here is imported, loaded or unmarshalled: the names
decide, and a pyc's 16-byte header (PEP 552) is read as bytes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass

from forkvet import rx
from forkvet.report import Risk
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet.pyhistory import STDLIB3

# Importable native modules: an identifier, an optional tag without dots (`cpython-311-x86_64-
# linux-gnu`, `abi3`, `cp311-win_amd64`), then `.so` or `.pyd` (importlib.machinery.
# EXTENSION_SUFFIXES on every platform). Loading one runs its init code, and dlopen its
# constructors: `import model` picks it before model.py.
_EXTENSION = rx.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_-]+)?\.(?:so|pyd)$", rx.I)
_SOURCELESS = rx.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.pyc$", rx.I)
# `__pycache__/<stem>.<tag>[.opt-N].pyc` (importlib.util.cache_from_source)
_CACHED = rx.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z0-9_-]+(?:\.opt-[0-9]+)?\.pyc$", rx.I)
_MAX_NAMED = 10
_VETTED = "forkvet vetted the source, not this"


@dataclass(frozen=True)
class _Module:
    """A compiled module file: what it is, and the module name it answers to in its folder."""

    entry: FileEntry
    folder: str  # the folder a finder looks in ("" for the root)
    stem: str  # the module name there ("__init__" for a package's own file)
    native: bool  # an extension module (else bytecode)


def _split(path: str) -> tuple[str, str]:
    return (path.rsplit("/", 1)[0], path.rsplit("/", 1)[1]) if "/" in path else ("", path)


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _compiled(entry: FileEntry) -> _Module | None:
    folder, name = _split(entry.path)
    if folder.rsplit("/", 1)[-1] == "__pycache__":
        return None  # cached bytecode: see _cached_risks
    m = _EXTENSION.match(name)
    if m:
        return _Module(entry, folder, m.group(1), True)
    m = _SOURCELESS.match(name)
    if m:
        return _Module(entry, folder, m.group(1), False)
    return None


def importable(entry: FileEntry) -> bool:
    """A compiled module by its name (compiled_risks judges it; nativefiles the others)."""
    return _compiled(entry) is not None


def compiled_risks(snap: Snapshot, installed: frozenset[str] = frozenset()) -> list[Risk]:
    """Errors for compiled modules that run instead of a source file the repository shows,
    or of a standard-library or installed module (`installed`: import names of known
    distributions the code imports) for a script started where they are; warnings for
    committed compiled modules otherwise (notices where git does not track them: a local
    build's output); warnings for source decoded by an odd codec."""
    names = {f.path for f in snap.files}
    packages = {_split(n)[0] for n in names if _split(n)[1].startswith("__init__.")}
    starts = {""} | {_split(n)[0] for n in names if n.endswith((".py", ".pyw", ".ipynb"))}
    shadows: list[Risk] = []
    others: list[tuple[_Module, str]] = []
    for entry in snap.files:
        mod = _compiled(entry)
        if mod is None:
            continue
        shown = _shadowed_source(mod, names, packages) or _shadowed_module(
            mod, starts, packages, installed
        )
        if shown is not None:
            kind = "native" if mod.native else "compiled"
            how = "" if snap.committed(entry) else " (git does not track it: built here?)"
            shadows.append(
                Risk(
                    "compiled-shadow",
                    "error" if snap.committed(entry) else "warning",
                    f"{kind.capitalize()} code runs instead of {shown}: Python imports "
                    f"{entry.path} first{how}; {_VETTED}. Delete it (or vet what built it) "
                    "before running the code",
                    entry.path,
                )
            )
        else:
            others.append((mod, "warning" if snap.committed(entry) else "notice"))
    out = _bounded(shadows)
    out += _cached_risks(snap, names)
    out += _unchecked_anywhere(snap, {r.path for r in out})
    out += _others(others)
    out += _recoded(snap)
    return out


def _unchecked_anywhere(snap: Snapshot, reported: set[str | None]) -> list[Risk]:
    """An unchecked-hash pyc wherever it is: no run of Python writes one unasked, and a
    cache prefix the repository sets (PYTHONPYCACHEPREFIX in its Dockerfile) or a sourceless
    import makes Python run it with no source beside it to compare (round 15a)."""
    found: list[Risk] = []
    for entry in [*snap.files, *snap.skipped][:200_000]:
        if entry.suffix != ".pyc" or entry.path in reported:
            continue
        try:
            with snap.open(entry.path) as fh:
                head = fh.read(16)
        except OSError:
            continue
        if len(head) < 16 or head[2:4] != b"\r\n":
            continue
        flags = int.from_bytes(head[4:8], "little")
        if (
            flags & _HASH_BASED
            and not flags & _CHECK_SOURCE
            and not flags & ~(_HASH_BASED | _CHECK_SOURCE)
        ):
            found.append(
                Risk(
                    "compiled-shadow",
                    "error",
                    f"An unchecked-hash pyc, whose bytecode Python never compares with any "
                    f"source: {entry.path}; {_VETTED}. Delete it before running the code",
                    entry.path,
                )
            )
    return _bounded(found)


def _shadowed_source(mod: _Module, names: set[str], packages: set[str]) -> str | None:
    """The shown source file this compiled module runs in place of, or None."""
    folder, stem = mod.folder, mod.stem
    if stem == "__init__":
        # A package's own file: __init__.<ext> beats __init__.py; a package beats pkg.py.
        if not mod.native and _join(folder, "__init__.py") in names:
            return None  # source before sourceless bytecode
        if _join(folder, "__init__.py") in names:
            return _join(folder, "__init__.py")
        parent, package = _split(folder) if folder else ("", "")
        if package and _join(parent, package + ".py") in names:
            return _join(parent, package + ".py")
        return None
    if _join(folder, stem) in packages:
        return None  # the package folder wins over every module file of that name
    source = _join(folder, stem + ".py")
    if source in names and mod.native:
        return source
    return None


def _shadowed_module(
    mod: _Module, starts: set[str], packages: set[str], installed: frozenset[str]
) -> str | None:
    """The standard-library or installed module this compiled module runs in place of, for
    every script started in its folder (sys.path[0], before the standard library and
    site-packages; extension suffixes tried first), or None (outside attack, round 20a F10:
    `collections.cpython-311-x86_64-linux-gnu.so` at the root)."""
    folder, name = mod.folder, mod.stem
    if name == "__init__":  # a compiled package's own file: the package is the folder
        folder, name = _split(folder) if folder else ("", "")
    elif _join(folder, name) in packages:
        return None  # the package folder wins (its source is vetted)
    if not name or folder not in starts:
        return None
    if name in STDLIB3 or name in sys.builtin_module_names:
        return f"the standard-library module `{name}` for a script started in {folder or '.'}"
    if name in installed:
        return f"the installed module `{name}` for a script started in {folder or '.'}"
    return None


def _bounded(risks: list[Risk]) -> list[Risk]:
    if len(risks) <= _MAX_NAMED:
        return risks
    more = len(risks) - _MAX_NAMED
    last = risks[_MAX_NAMED - 1]
    return [
        *risks[:_MAX_NAMED],
        Risk(last.kind, last.severity, f"... and {more:,} more compiled files like these"),
    ]


def _others(found: list[tuple[_Module, str]]) -> list[Risk]:
    """One line per severity: compiled modules forkvet cannot read, none shadowing a source."""
    out: list[Risk] = []
    for severity in ("warning", "notice"):
        mods = [m for m, s in found if s == severity]
        if not mods:
            continue
        shown = ", ".join(m.entry.path for m in mods[:5])
        more = f" and {len(mods) - 5:,} more" if len(mods) > 5 else ""
        where = "" if severity == "warning" else " (git does not track them: a local build?)"
        out.append(
            Risk(
                "compiled-module",
                severity,
                f"{len(mods):,} compiled module(s) Python can import (native extensions, "
                f"bytecode) that forkvet cannot read{where}: {shown}{more}. Their code is NOT "
                "vetted: build them from source you have vetted instead",
                mods[0].entry.path,
            )
        )
    return out


# PEP 552 flags of a pyc header: bit 0 hash-based, bit 1 check the source's hash.
_HASH_BASED = 0b01
_CHECK_SOURCE = 0b10
# The first magic number with PEP 552's flags word (3.7a4); older headers are 12 bytes.
_PEP552_MAGIC = 3392


def _cached_risks(snap: Snapshot, names: set[str]) -> list[Risk]:
    """`__pycache__/<stem>.<tag>.pyc` beside a shown `<stem>.py`, committed or not: an error
    where Python would run it instead of the source (an unchecked-hash pyc always; a
    committed checked-hash one whose hash matches, or a timestamp one whose time and size
    match the source now); a committed one Python would regenerate is a warning (a download
    that keeps file times could make it match). Untracked ones a normal run writes (a
    timestamp or checked-hash pyc of the source as it is) are not reported."""
    out: list[Risk] = []
    stale: list[str] = []
    for entry in [*snap.files, *snap.skipped]:
        folder, name = _split(entry.path)
        if _split(folder)[1] != "__pycache__":
            continue
        m = _CACHED.match(name)
        source = _join(_split(folder)[0], m.group(1) + ".py") if m else ""
        if not m or source not in names:
            continue  # Python 3 never imports a cached pyc without its source
        runs = _pyc_runs(snap, entry, source)
        committed = snap.committed(entry)
        if runs == "always" or (runs == "now" and committed):
            why = (
                "an unchecked-hash pyc, never compared with its source"
                if runs == "always"
                else "its header matches the source, so Python loads its bytecode"
            )
            out.append(
                Risk(
                    "compiled-shadow",
                    "error",
                    f"Compiled code runs instead of {source}: Python imports {entry.path} "
                    f"({why}); {_VETTED}. Delete the __pycache__ folder before running the code",
                    entry.path,
                )
            )
        elif committed and runs is not None:
            stale.append(entry.path)
    out = _bounded(out)
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5:,} more" if len(stale) > 5 else "")
        out.append(
            Risk(
                "compiled-module",
                "warning",
                f"{len(stale):,} committed __pycache__ file(s) of compiled code, NOT vetted: "
                f"{shown}. Python rebuilds them from the source as long as their recorded "
                "time or hash differs; delete them rather than rely on it",
                stale[0],
            )
        )
    return out


def _pyc_runs(snap: Snapshot, pyc: FileEntry, source: str) -> str | None:
    """ "always" (never checked against the source), "now" (matches the source as it is),
    "stale" (Python regenerates it), or None (no valid pyc: Python ignores it)."""
    try:
        with snap.open(pyc.path) as fh:
            head = fh.read(16)
        with snap.open(source) as fh:
            st = os.fstat(fh.fileno())
            data = fh.read(snap.max_text_bytes + 1) if st.st_size <= snap.max_text_bytes else b""
    except OSError:
        return "always"  # not read: what it holds may run
    if len(head) < 12 or head[2:4] != b"\r\n":
        return None
    if int.from_bytes(head[:2], "little") < _PEP552_MAGIC:
        head = head[:4] + bytes(4) + head[4:12]  # before 3.7: no flags, a timestamp pyc
    if len(head) < 16:
        return None
    flags = int.from_bytes(head[4:8], "little")
    if flags & ~(_HASH_BASED | _CHECK_SOURCE):
        return None  # importlib refuses it and reads the source
    if flags & _HASH_BASED:
        if not flags & _CHECK_SOURCE:
            return "always"
        if head[:4] != importlib.util.MAGIC_NUMBER or not data:
            return "now"  # another interpreter's hash key: cannot be told apart
        return "now" if importlib.util.source_hash(data) == head[8:16] else "stale"
    mtime = int.from_bytes(head[8:12], "little")
    size = int.from_bytes(head[12:16], "little")
    same = mtime == int(st.st_mtime) & 0xFFFFFFFF and size == st.st_size & 0xFFFFFFFF
    return "now" if same else "stale"


def _recoded(snap: Snapshot) -> list[Risk]:
    out = [
        Risk(
            "source-encoding",
            "warning",
            f"Declares `coding: {codec}`, a codec that reads plain ASCII otherwise than UTF-8: "
            "Python runs code an editor, a diff or a review of this file does not show (forkvet "
            "vetted it as Python decodes it). Re-save it as UTF-8 before trusting a review",
            path,
            1,
        )
        for path, codec in sorted(snap.recoded.items())
    ]
    return _bounded(out)
