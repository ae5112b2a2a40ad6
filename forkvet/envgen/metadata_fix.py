"""Repair old releases whose metadata today's resolvers reject.

pandas 0.23–0.25 declare `pytz >= 2011k`, which is not a PEP 440 version, and uv refuses the
whole release — then backtracks to a 2014 pandas that cannot build. forkvet reads those
releases' metadata from the index, fixes the specifiers (`2011k` → `2011`), and hands uv the
corrected metadata as `dependency-metadata` in a uv.toml, for the releases up to the date.
"""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from packaging.requirements import InvalidRequirement
from packaging.version import InvalidVersion, Version

from forkvet import rx, safeparse
from forkvet.envgen.index import WORKERS, IndexError_, IndexFile, core_metadata, project_files

MAX_VERSIONS = 8
# uv words it several ways: "pandas==0.23.4 has invalid metadata", "pandas>=0.20.1 has invalid
# metadata", "all versions of pandas have invalid metadata", "pandas>=0.20.1,<0.24 have invalid
# metadata", and in its hints "Metadata for `pandas` (v0.23.4) could not be parsed".
_SPEC = r"(?:[<>=!~]=?[\w.*+!]+)"
_INVALID = rx.compile(
    rf"(?:^|[^\w.-])([A-Za-z0-9][\w.-]*?)(?:{_SPEC}(?:\s*,\s*{_SPEC})*)?\s+"
    r"(?:has|have) invalid metadata"
    r"|[Mm]etadata for `([A-Za-z0-9][\w.-]*)`[^\n]*could not be parsed",
)
_VERSION_TAIL = rx.compile(r"(\d)[A-Za-z]+([,\s)]|$)")


def invalid_packages(error: str) -> list[str]:
    return sorted({(a or b).lower() for a, b in _INVALID.findall(error)})


def sanitize(requirement: str) -> str | None:
    """A parseable form of a legacy requirement, or None if it cannot be saved."""
    try:
        return str(safeparse.requirement(requirement))
    except InvalidRequirement:
        pass
    fixed = _VERSION_TAIL.sub(r"\1\2", requirement)
    fixed = (
        rx.sub(r"\(\s*([^)]*?)\s*\)", r"\1", fixed) if "(" in fixed and ";" not in fixed else fixed
    )
    try:
        return str(safeparse.requirement(fixed))
    except InvalidRequirement:
        return None


def wheels_by_version(name: str, as_of: date) -> dict[Version, list[IndexFile]]:
    """The project's wheels uploaded up to the end of the date, by version."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    out: dict[Version, list[IndexFile]] = {}
    for f in project_files(name):
        if (
            not f.version
            or not f.filename.endswith(".whl")
            or (f.upload_time and f.upload_time > cutoff)
        ):
            continue
        try:
            out.setdefault(safeparse.version(f.version), []).append(f)
        except InvalidVersion:
            continue
    return out


def repair(name: str, as_of: date, only: set[str] | None = None) -> list[dict[str, object]]:
    """dependency-metadata entries for the newest releases of name up to the date (only:
    these versions)."""
    by_version = wheels_by_version(name, as_of)
    versions = sorted(by_version, reverse=True)
    if only is not None:
        wanted = set()
        for v in only:
            try:
                wanted.add(safeparse.version(v))
            except InvalidVersion:
                continue
        versions = [v for v in versions if v in wanted]
    versions = versions[:MAX_VERSIONS]
    chosen = [
        min(by_version[v], key=lambda f: (not f.core_metadata, "manylinux" not in f.filename))
        for v in versions
    ]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        metas = list(pool.map(core_metadata, chosen))
    entries: list[dict[str, object]] = []
    for version, meta in zip(versions, metas, strict=True):
        if meta is None:
            continue
        reqs = [sanitize(r) for r in meta.get_all("Requires-Dist") or []]
        entry: dict[str, object] = {
            "name": name,
            "version": str(version),
            "requires-dist": [r for r in reqs if r],
        }
        if meta.get("Requires-Python"):
            entry["requires-python"] = meta["Requires-Python"]
        entries.append(entry)
    return entries


def write_uv_toml(path: Path, entries: list[dict[str, object]]) -> Path:
    path.write_text(uv_toml_text(entries), encoding="utf-8")
    return path


def uv_toml_text(entries: list[dict[str, object]]) -> str:
    """uv's `dependency-metadata` entries: the repaired metadata, which installing the pinned
    releases with uv needs too (uv refuses `pytz>=2011k` when installing as when resolving)."""
    lines = []
    for e in entries:
        lines.append("[[dependency-metadata]]")
        for key, value in e.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    """A string or list of strings as TOML: JSON's escapes are TOML's, except that JSON writes
    a character beyond U+FFFF as a surrogate pair TOML refuses, and leaves DEL unescaped."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def newest_are_broken(names: list[str], as_of: date) -> list[str]:
    """Which of these packages' newest release up to the date has requirements that do not
    parse (looked up side by side). uv cannot read such a release: it backtracks to older
    ones, tries to build a 2014 pandas from source, and only then reports the invalid metadata,
    so repairing them before the first resolution saves those rounds."""

    def broken(name: str) -> bool:
        try:
            return newer_release_is_broken(name, "0", as_of)
        except IndexError_:
            return False  # the resolution itself reports an index that cannot be read

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        flags = list(pool.map(broken, names))
    return [n for n, bad in zip(names, flags, strict=True) if bad]


def look_ahead(names: list[str], as_of: date) -> threading.Thread:
    """Start reading what newest_are_broken will ask (these packages' pages and the
    METADATA of their newest release on the date) in the background, while the framework is
    pinned: the resolution's first step then finds it remembered. Only warms caches; join
    the thread before returning, so nothing reads the index after the command."""

    def run() -> None:
        with contextlib.suppress(Exception):  # the real call meets any error itself
            newest_are_broken(names, as_of)

    thread = threading.Thread(target=run, name="forkvet-look-ahead", daemon=True)
    thread.start()
    return thread


def newer_release_is_broken(name: str, pinned: str, as_of: date) -> bool:
    """uv silently skips releases whose metadata it cannot parse and takes an older one: is
    there a newer release up to the date whose requirements do not parse?"""
    try:
        current = safeparse.version(pinned)
    except InvalidVersion:
        return False
    newer = {
        v: f
        for v, f in wheels_by_version(name, as_of).items()
        if v > current and not v.is_prerelease
    }
    if not newer:
        return False
    files = sorted(newer[max(newer)], key=lambda f: not f.core_metadata)
    meta = core_metadata(files[0])
    if meta is None:
        return False
    for req in meta.get_all("Requires-Dist") or []:
        try:
            safeparse.requirement(req)
        except InvalidRequirement:
            return True
    return False
