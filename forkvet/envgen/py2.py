"""Python 2 code: uv cannot resolve for Python 2, so each distribution's version is chosen from
the index by upload date and Requires-Python, and conda provides python=2.7."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from forkvet.envgen.index import IndexFile, project_files
from forkvet.envgen.names import NeedSet
from forkvet.envgen.resolve import Resolution
from forkvet.envgen.uv import builds_allowed

_PY2_TAG = re.compile(r"-(?:py2|py2\.py3|cp27|py27)[.-]")


def _installable(f: IndexFile, python: str) -> bool:
    if f.requires_python:
        try:
            if not SpecifierSet(f.requires_python).contains(python):
                return False
        except InvalidSpecifier:
            pass
    if f.filename.endswith(".whl"):
        if python == "2.7":
            return bool(_PY2_TAG.search(f.filename))
        return "-py2-" not in f.filename and "-cp2" not in f.filename
    return f.filename.endswith((".tar.gz", ".zip", ".tar.bz2"))


def newest_by_date(name: str, as_of: date, python: str) -> str | None:
    """The newest release of name uploaded by the date that this Python can install."""
    return pick(name, "", as_of, python)


def pick(
    name: str, spec: str, as_of: date, python: str = "2.7", oldest: bool = False
) -> str | None:
    """The newest (or oldest) version uploaded by the date that the Python can install."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    try:
        allowed = SpecifierSet(spec) if spec else SpecifierSet()
    except InvalidSpecifier:
        allowed = SpecifierSet()
    best: Version | None = None
    for f in project_files(name):
        if f.yanked or not f.version or (f.upload_time and f.upload_time > cutoff):
            continue
        if not _installable(f, python):
            continue
        try:
            v = Version(f.version)
        except InvalidVersion:
            continue
        if v.is_prerelease or not allowed.contains(v):
            continue
        better = v < best if oldest and best is not None else best is None or v > best
        best = v if better else best
    return str(best) if best else None


def resolve_py2(needs: NeedSet, as_of: date) -> Resolution:
    result = Resolution("2.7")
    for need in needs.of_kind("main", "build"):
        version = pick(need.name, need.spec, as_of)
        if version is None:
            # Old releases get deleted from indexes (opencv-python's pre-2018 wheels are
            # gone): take the oldest one still there, and say so.
            version = pick(need.name, need.spec, date.max, oldest=True)
            if version is not None:
                result.pins[need.name] = version
                result.problems.append(
                    f"{need.name}: nothing installable on Python 2.7 from "
                    f"before {as_of.isoformat()} is left on the index; "
                    f"pinned the oldest that is, {version}"
                )
                continue
        if version is None:
            result.problems.append(
                f"{need.name}{need.spec}: no release installable on Python "
                f"2.7 was published by {as_of.isoformat()}"
            )
            result.dropped.append(need.name)
            continue
        result.pins[need.name] = version
    sources = [n for n, v in result.pins.items() if not _has_py2_wheel(n, v)]
    if sources:
        # Not built here (nothing is resolved by building), but pip builds them when the
        # environment is created, and `--verify` installs wheels only unless --allow-build.
        result.needs_build += sources
        result.problems.append(
            f"{', '.join(sources)}: only a source release at the pinned version; creating the "
            f"environment builds it (runs its setup.py)"
            + ("" if builds_allowed() else "; forkvet env --verify builds only with --allow-build")
        )
    result.problems.append(
        "Python 2: top-level packages are pinned by upload date; pip inside "
        "the conda environment resolves their dependencies"
    )
    return result


def _has_py2_wheel(name: str, version: str) -> bool:
    return any(
        f.version == version and f.filename.endswith(".whl") and _installable(f, "2.7")
        for f in project_files(name)
    )
