"""Python 2 code: uv cannot resolve for Python 2, so each distribution's version is chosen from
the index by upload date and what installs on 2.7 (wheel tags, `Requires-Python`), and conda
provides python=2.7. Every dependency of the chosen releases is pinned the same way, by reading
their metadata (PEP 658, or the METADATA of the wheel by HTTP range requests): pip inside the
conda environment would otherwise take today's releases, which dropped Python 2 long ago."""

from __future__ import annotations

from datetime import UTC, date, datetime

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from forkvet import rx, safeparse
from forkvet.envgen.index import IndexError_, IndexFile, core_metadata, project_files
from forkvet.envgen.metadata_fix import sanitize
from forkvet.envgen.names import NeedSet
from forkvet.envgen.resolve import FRAMEWORK_DISTS, FrameworkPin, Resolution
from forkvet.report import Framework
from forkvet.vet.importmap import normalize

_PY2_TAG = rx.compile(r"-(?:py2|py2\.py3|cp27|py27)[.-]")
_LINUX = rx.compile(r"(?:-any|manylinux[\w.]*_x86_64|linux_x86_64)\.whl$")
_SDIST = (".tar.gz", ".zip", ".tar.bz2")
MAX_PACKAGES = 150
# Environment markers as pip on Linux x86-64 CPython 2.7 evaluates them.
_MARKERS = {
    "python_version": "2.7",
    "python_full_version": "2.7.18",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux2",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}


def _builds_allowed() -> bool:
    try:
        from forkvet.envgen import uv

        allowed = getattr(uv, "builds_allowed", None)
        return bool(allowed()) if callable(allowed) else False
    except ImportError:
        return False


def _installable(f: IndexFile, python: str, builds: bool) -> bool:
    if f.requires_python:
        try:
            if not safeparse.specifiers(f.requires_python).contains(python):
                return False
        except InvalidSpecifier:
            pass
    if f.filename.endswith(".whl"):
        if not _LINUX.search(f.filename):
            return False
        if python == "2.7":
            return bool(_PY2_TAG.search(f.filename))
        return "-py2-" not in f.filename and "-cp2" not in f.filename
    # A source release runs its build code and may well be Python 3 only: only when allowed.
    return builds and f.filename.endswith(_SDIST)


def newest_by_date(name: str, as_of: date, python: str) -> str | None:
    """The newest release of name uploaded by the date that this Python can install."""
    return pick(name, "", as_of, python)


def pick(
    name: str,
    spec: str,
    as_of: date,
    python: str = "2.7",
    oldest: bool = False,
    builds: bool | None = None,
) -> str | None:
    """The newest (or oldest) version released by the date that the Python can install. A
    release counts from its first upload: a Linux wheel added later (numpy 1.10 for 2015
    code) still installs the release of the date. Final releases first; a pre-release only
    when nothing else installs (backports.weakref 1.0rc1 is its only Python 2 wheel)."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    builds = _builds_allowed() if builds is None else builds
    try:
        allowed = safeparse.specifiers(spec) if spec else SpecifierSet()
    except InvalidSpecifier:
        allowed = SpecifierSet()
    files = [f for f in project_files(name) if f.version]
    first: dict[str, datetime] = {}
    for f in files:
        if f.upload_time and f.version:
            first[f.version] = min(f.upload_time, first.get(f.version, f.upload_time))
    found: list[Version] = []
    for f in files:
        released = first.get(f.version or "")
        if f.yanked or (released and released > cutoff):
            continue
        if not _installable(f, python, builds):
            continue
        try:
            v = safeparse.version(f.version or "")
        except InvalidVersion:
            continue
        if allowed.contains(v, prereleases=True):
            found.append(v)
    finals = [v for v in found if not v.is_prerelease]
    pool = finals or [v for v in found if allowed.contains(v, prereleases=True)]
    if not pool:
        return None
    return str(min(pool) if oldest else max(pool))


def _requires(name: str, version: str, as_of: date) -> list[Requirement]:
    """The dependencies (for Linux CPython 2.7) of a release, from a wheel it would install,
    else read statically from its source archive (sdist.py: nothing runs)."""
    files = [
        f
        for f in project_files(name)
        if f.version == version and f.filename.endswith(".whl") and _installable(f, "2.7", False)
    ]
    files.sort(key=lambda f: not f.core_metadata)
    meta = core_metadata(files[0]) if files else None
    if meta is not None:
        raws = list(meta.get_all("Requires-Dist") or [])
    else:
        from forkvet.envgen.sdist import static_metadata

        archives = [
            f for f in project_files(name) if f.version == version and f.filename.endswith(_SDIST)
        ]
        archive = archives[0] if archives else None
        static = static_metadata(name, version, archive) if archive else None
        raws = list(static.requires) if static else []
    out = []
    for raw in raws:
        fixed = sanitize(raw)
        if not fixed:
            continue
        try:
            req = safeparse.requirement(fixed)
        except InvalidRequirement:
            continue
        try:
            if req.marker and not req.marker.evaluate(dict(_MARKERS)):
                continue
        except UndefinedEnvironmentName:
            continue
        out.append(req)
    return out


def _choose(name: str, spec: str, as_of: date, result: Resolution) -> str | None:
    version = pick(name, spec, as_of)
    if version is not None:
        return version
    if not _builds_allowed():
        # Only source releases on the date (Theano): pinned, their requirements read without
        # running anything; installing builds them (disclosed).
        version = pick(name, spec, as_of, builds=True)
        if version is not None:
            result.from_source.append(f"{name}=={version}")
            return version
    # Old releases get deleted from indexes (opencv-python's pre-2018 wheels are gone): take
    # the oldest one still there that installs on 2.7, and say so.
    version = pick(name, spec, date.max, oldest=True)
    if version is not None:
        result.problems.append(
            f"{name}: nothing installable on Python 2.7 from before {as_of.isoformat()} is "
            f"left on the index; pinned the oldest that is, {version}"
        )
    return version


def _framework_spec(fw: Framework | None, needs: NeedSet, device: str) -> tuple[str, str]:
    if fw is None or fw.name not in FRAMEWORK_DISTS:
        return "", ""
    dist = FRAMEWORK_DISTS[fw.name]
    if dist == "tensorflow" and device == "cuda":
        dist = "tensorflow-gpu"
    return dist, fw.version_spec or ""


def resolve_py2(
    needs: NeedSet, as_of: date, framework: Framework | None = None, device: str = "cpu"
) -> Resolution:
    result = Resolution("2.7")
    wanted: list[tuple[str, str]] = []
    fw_dist, fw_spec = _framework_spec(framework, needs, device)
    for need in needs.of_kind("main", "build"):
        spec = need.spec
        if fw_dist and normalize(need.name) in ("tensorflow", "tensorflow-gpu", fw_dist):
            continue
        wanted.append((need.name, spec))
    fw_name = framework.name if framework else ""
    if fw_dist:
        declared = needs.get(fw_dist) or needs.get(FRAMEWORK_DISTS[fw_name])
        spec = ",".join(s for s in (declared.spec if declared else "", fw_spec) if s)
        wanted.insert(0, (fw_dist, spec))
    try:
        _walk(wanted, as_of, result)
    except IndexError_ as exc:
        result.problems.append(f"could not read the index: {exc}")
        result.complete = False
    if fw_dist and fw_dist in result.pins:
        result.framework = FrameworkPin(fw_name, fw_dist, result.pins[fw_dist], fw_spec)
    built = {p.split("==")[0] for p in result.from_source}
    result.from_source = [p for p in result.from_source if p.split("==")[0] in result.pins]
    if result.from_source:
        result.problems.append(
            f"builds from source when installed (only source releases on the date; their "
            f"requirements were read without running them): {', '.join(result.from_source)}"
        )
    sources = [n for n, v in result.pins.items() if not _has_py2_wheel(n, v) and n not in built]
    if sources:
        # Only with --allow-build: pip builds them when the environment is created.
        result.needs_build += sources
        result.problems.append(
            f"{', '.join(sources)}: only a source release at the pinned version; creating the "
            f"environment builds it (runs its setup.py)"
        )
    result.problems.append(
        "Python 2: every package and every dependency is pinned by upload date to a release "
        "that installs on 2.7 (wheels tagged for Python 2, Requires-Python)"
    )
    return result


def _walk(wanted: list[tuple[str, str]], as_of: date, result: Resolution) -> None:
    """Pin the wanted names, then their dependencies, breadth first (bounded)."""
    queue = list(wanted)
    specs: dict[str, list[str]] = {}
    steps = 0  # re-pinning requeues requirements: bounded however they interlock
    while queue and len(result.pins) < MAX_PACKAGES and steps < MAX_PACKAGES * 20:
        steps += 1
        raw, spec = queue.pop(0)
        name = normalize(raw)
        if spec:
            specs.setdefault(name, []).append(spec)
        if name in result.pins:
            try:
                if spec and not safeparse.specifiers(spec).contains(result.pins[name]):
                    _repin(name, specs[name], as_of, result, queue)
            except InvalidSpecifier:
                pass
            continue
        if name in result.dropped:
            continue
        version = _choose(name, ",".join(specs.get(name, [])), as_of, result)
        if version is None:
            result.problems.append(
                f"{name}{spec}: no release installable on Python 2.7 was published by "
                f"{as_of.isoformat()}"
                + ("" if _builds_allowed() else " (source releases need --allow-build)")
            )
            result.dropped.append(name)
            result.complete = False
            continue
        result.pins[name] = version
        for req in _requires(name, version, as_of):
            queue.append((req.name, str(req.specifier)))
    if queue:
        result.complete = False
        result.problems.append(
            f"stopped after {MAX_PACKAGES} packages; the rest are left to pip: "
            + ", ".join(sorted({normalize(n) for n, _ in queue})[:10])
        )


def _repin(
    name: str,
    specs: list[str],
    as_of: date,
    result: Resolution,
    queue: list[tuple[str, str]],
) -> None:
    """A package pinned earlier does not satisfy a later one's requirement (opencv-python's
    oldest remaining release wants numpy>=1.11.1, numpy was pinned by a 2016 date to 1.11.0):
    pin the release every requirement allows (on the date, else the oldest after it, said so),
    or say that none does: pip would refuse the pair."""
    first = result.pins[name]
    spec = ",".join(specs)
    version = pick(name, spec, as_of)
    later = version is None
    if later:
        version = pick(name, spec, date.max, oldest=True)
    if version is None:
        result.complete = False
        result.problems.append(
            f"{name}: no release installable on Python 2.7 satisfies "
            f"{', '.join(sorted(set(specs)))} (the requirements of the packages pinned); kept "
            f"{first}, which pip may refuse"
        )
        return
    result.pins[name] = version
    result.problems.append(
        f"{name}: {first} does not satisfy another package's requirement "
        f"({', '.join(sorted(set(specs)))}); pinned {version}"
        + (", the oldest release that does (after the date)" if later else "")
    )
    for req in _requires(name, version, as_of):
        queue.append((req.name, str(req.specifier)))


def _has_py2_wheel(name: str, version: str) -> bool:
    return any(
        f.version == version and f.filename.endswith(".whl") and _installable(f, "2.7", False)
        for f in project_files(name)
    )
