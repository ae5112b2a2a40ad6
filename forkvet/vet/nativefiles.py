"""Native code found by content, whatever a file is called (outside attack, round 21a F8: an
ELF shared object named `assets/colormap.bin`, which a config's `LD_PRELOAD` loads into every
child process). compiled.py judges importable modules by their names (`.so`, `.pyd`); this
module reads every file's first bytes: an ELF, Mach-O or PE image is native code forkvet cannot
vet. Under a native code's own suffix (`.so`, `.dll`, `.exe`, MATLAB's `.mexa64`, none) it is
a `native-code` warning; named as anything else (`.bin`, `.png`, `.json`) its name hides what
it is, and it is an error."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from forkvet.report import Risk
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet.compiled import importable

_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
_FAT = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")  # universal: 32- and 64-bit arch tables
# A Java class file also starts with 0xcafebabe, then its minor and major version (major >= 45):
# read as a fat header's arch count that is >= 45, which no universal image has.
_FAT_MAX_ARCHS = 44
_MAX_NAMED = 5
_HEAD = 64


@cache
def _own_suffixes() -> frozenset[str]:
    text = resources.files("forkvet.data").joinpath("native_files.json").read_text("utf-8")
    value = json.loads(text).get("native_suffixes", [])
    return frozenset(str(v) for v in value)


def kind(snap: Snapshot, entry: FileEntry) -> str:
    """ "ELF", "Mach-O", "Mach-O universal", "PE" or "" by the file's first bytes (a PE by its
    `MZ` header and the `PE` signature where e_lfanew points; a universal image by its fat
    header, whatever its slices hold: dlopen picks one, and forkvet vets none)."""
    if entry.size < 16:
        return ""
    try:
        with snap.open(entry.path) as fh:
            head = fh.read(_HEAD)
            if head[:4] == b"\x7fELF":
                return "ELF"
            if head[:4] in _MACHO:
                return "Mach-O"
            if head[:4] in _FAT and 1 <= int.from_bytes(head[4:8], "big") <= _FAT_MAX_ARCHS:
                return "Mach-O universal"
            if head[:2] != b"MZ" or len(head) < _HEAD:
                return ""
            fh.seek(int.from_bytes(head[60:64], "little"))
            return "PE" if fh.read(4) == b"PE\x00\x00" else ""
    except (OSError, ValueError):
        return ""


def native_risks(snap: Snapshot) -> list[Risk]:
    """One finding per severity: native images under a name of their own (a warning), and
    under a data file's name (an error)."""
    named: list[tuple[str, str]] = []
    hidden: list[tuple[str, str]] = []
    for entry in snap.files:
        found = "" if importable(entry) else kind(snap, entry)
        if not found:
            continue
        suffix = entry.path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
        own = "." not in entry.path.rsplit("/", 1)[-1] or "." + suffix in _own_suffixes()
        (named if own else hidden).append((entry.path, found))
    out: list[Risk] = []
    if hidden:
        out.append(_risk(hidden, "error", "named as data: the name hides native code"))
    if named:
        out.append(_risk(named, "warning", "native code"))
    return out


def _risk(found: list[tuple[str, str]], severity: str, what: str) -> Risk:
    shown = ", ".join(f"{p} ({k})" for p, k in found[:_MAX_NAMED])
    more = f" and {len(found) - _MAX_NAMED:,} more" if len(found) > _MAX_NAMED else ""
    return Risk(
        "native-code",
        "error" if severity == "error" else "warning",
        f"{len(found):,} native executable or library file(s), {what}: {shown}{more}. "
        "forkvet cannot vet native code; a config or environment variable that loads one "
        "(`LD_PRELOAD`, ctypes, dlopen) runs it. Delete it, or build it from source you have "
        "vetted",
        found[0][0],
    )
