"""Which wheels install on a given CPython on Linux x86-64, and the first such release of a
package after a date.

Builds are off by default (building a source release runs its code). Many small pure-Python
packages of 2015-2019 (PyYAML, absl-py, termcolor) published only source releases, so a
dependency can have nothing installable by the code's date. The nearest installable release is
then the first one with a wheel for that Python: later than the date, and disclosed as such.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from packaging.specifiers import InvalidSpecifier
from packaging.version import Version

from forkvet import safeparse
from forkvet.envgen.index import IndexFile, project_files
from forkvet.envgen.wheeltags import installs_on


def first_wheel_after(name: str, python: str, as_of: date) -> tuple[str, datetime] | None:
    """(version, upload time) of the oldest release after the date with a wheel for python."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    files = project_files(name)
    # Only releases newer than all of the date's: a placeholder uploaded later (0.0.0) or
    # a backport to an old line is not the nearest release after the date.
    released: list[Version] = []
    for f in files:
        if f.version and f.upload_time and f.upload_time <= cutoff:
            try:
                released.append(safeparse.version(f.version))
            except ValueError:
                continue
    newest = max(released, default=None)
    best: tuple[Version, IndexFile] | None = None
    for f in files:
        if f.yanked or not f.version or not f.filename.endswith(".whl") or not f.upload_time:
            continue
        if f.upload_time <= cutoff or not installs_on(f.filename, python):
            continue
        if f.requires_python:
            try:
                if not safeparse.specifiers(f.requires_python).contains(python + ".99"):
                    continue
            except InvalidSpecifier:
                pass
        try:
            v = safeparse.version(f.version)
        except ValueError:
            continue
        if (
            v.is_prerelease
            or (newest is not None and v <= newest)
            or v == safeparse.version("0.0.0")
        ):
            continue
        if best is None or v < best[0]:
            best = (v, f)
    if best is None or best[1].upload_time is None:
        return None
    return str(best[0]), best[1].upload_time


def newest_yanked_wheel(name: str, python: str, as_of: date) -> str | None:
    """The newest release up to the date whose only wheels for python were yanked later
    (torchvision 0.2): an exact pin still installs it (PEP 592)."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    live: set[str] = set()
    yanked: set[str] = set()
    for f in project_files(name):
        if not f.version or not f.filename.endswith(".whl") or not installs_on(f.filename, python):
            continue
        if f.upload_time and f.upload_time > cutoff:
            continue
        (yanked if f.yanked else live).add(f.version)
    best: Version | None = None
    for raw in yanked - live:
        try:
            v = safeparse.version(raw)
        except ValueError:
            continue
        if not v.is_prerelease and (best is None or v > best):
            best = v
    return str(best) if best else None
