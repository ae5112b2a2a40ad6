"""Match pins against advisories, merge aliases, and find the nearest safe release."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from forkvet import rx, safeparse
from forkvet.audit.osv import SEVERITY_ORDER, Advisory, parse_version
from forkvet.audit.pins import Pins
from forkvet.audit.sources import AdvisorySource


@dataclass
class Vulnerability:
    package: str
    version: str
    id: str
    aliases: list[str]
    summary: str
    fix_versions: list[str]
    severity: str
    nearest_safe: str | None
    nearest_safe_checked: bool = False  # against the index, for the environment's Python
    # No safe release installs on the environment's Python, but one exists for a newer one:
    # the lowest such release and its Requires-Python ("fixed in 2.6.0, which needs ≥3.9").
    fixed_in: str | None = None
    fixed_requires_python: str | None = None


@dataclass
class AuditResult:
    packages: int
    python: str | None
    source: str
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    # package -> the lowest release that fixes every advisory found for it (env --safe)
    safe_pins: dict[str, str] = field(default_factory=dict)
    unpinned: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # how old the advisories are, in days: 0 online, the cached export's age, None unknown
    source_age_days: float | None = None

    @property
    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in SEVERITY_ORDER}
        for v in self.vulnerabilities:
            out[v.severity] = out.get(v.severity, 0) + 1
        return out

    def fails(self, level: str) -> bool:
        if level == "never":
            return False
        if level == "any":
            return bool(self.vulnerabilities)
        return any(v.severity in ("critical", "high") for v in self.vulnerabilities)

    def summary(self) -> str:
        if not self.vulnerabilities:
            return f"no known vulnerabilities in {self.packages} pinned packages"
        c = self.counts
        parts = [f"{c[k]} {k}" for k in SEVERITY_ORDER if c.get(k)]
        pkgs = len({v.package for v in self.vulnerabilities})
        return (
            f"{len(self.vulnerabilities)} known vulnerabilities ({', '.join(parts)}) in "
            f"{pkgs} of {self.packages} pinned packages"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts
        data["summary"] = self.summary()
        return data


def _merge(advisories: list[Advisory]) -> list[Advisory]:
    """One entry per vulnerability: OSV publishes the same issue as PYSEC-, GHSA- and CVE-
    records that alias each other."""
    groups: list[tuple[set[str], Advisory, set[str]]] = []
    for adv in advisories:
        names = {adv.id, *adv.aliases}
        for idx, (known, first, aliases) in enumerate(groups):
            if known & names:
                known |= names
                aliases |= names
                # keep the more severe rating and the richer summary
                if SEVERITY_ORDER[adv.severity] < SEVERITY_ORDER[first.severity]:
                    first.severity = adv.severity
                first.affected += adv.affected
                groups[idx] = (known, first, aliases)
                break
        else:
            copy = Advisory(
                adv.id, list(adv.aliases), adv.summary, adv.severity, list(adv.affected)
            )
            groups.append((set(names), copy, set(names)))
    out = []
    for _known, first, aliases in groups:
        first.aliases = sorted(aliases - {first.id})
        out.append(first)
    return out


def _python_ok(requires_python: str | None, filename: str, python: str | None) -> bool:
    if python is None:
        return True
    target = safeparse.version(python)
    if requires_python:
        try:
            if target not in safeparse.specifiers(requires_python):
                return False
        except (InvalidSpecifier, InvalidVersion):
            pass
    if filename.endswith(".whl"):
        tags = filename[:-4].split("-")[-3:]
        pyt = tags[0] if tags else ""
        cp = "cp" + python.replace(".", "")
        return any(
            t in ("py3", "py2.py3", cp)
            or (t.startswith("py3") and target.major == 3)
            or (t == "py2" and target.major == 2)
            for t in pyt.split(".")
        )
    return True  # an sdist: installable if it builds


def _index_releases(package: str, python: str | None) -> list[Version] | None:
    """Releases on the user's index with a file for this Python; None when the index
    cannot be asked."""
    from forkvet.envgen.index import project_files

    try:
        files = project_files(package)
    except Exception:
        return None
    versions: set[Version] = set()
    for f in files:
        if f.version is None or not _python_ok(f.requires_python, f.filename, python):
            continue
        v = parse_version(f.version)
        if v is not None and not v.is_prerelease:
            versions.add(v)
    return sorted(versions)


def _nearest(
    current: Version, advisories: list[Advisory], package: str, releases: list[Version] | None
) -> Version | None:
    """The lowest release above `current` that none of the advisories affects, in the same
    major line when one exists there (the code keeps working), else the lowest overall."""
    if releases is None:
        fixes = sorted({v for a in advisories for v in a.fix_versions(package)})
        candidates = [v for v in fixes if v > current]
    else:
        candidates = [v for v in releases if v > current]
    safe = [v for v in candidates if not any(a.affects(package, v) for a in advisories)]
    same_major = [v for v in safe if v.release[:1] == current.release[:1]]
    pick = same_major or safe
    return pick[0] if pick else None


def _fix_for_another_python(
    package: str, current: Version, adv: Advisory
) -> tuple[str | None, str | None]:
    """The lowest release on the index, for any Python, that the advisory does not affect,
    and the Python it needs (its files' Requires-Python)."""
    from forkvet.envgen.index import project_files

    try:
        files = project_files(package)
    except Exception:
        return None, None
    needs: dict[Version, str | None] = {}
    for f in files:
        v = parse_version(f.version) if f.version else None
        if v is None or v.is_prerelease or v <= current or adv.affects(package, v):
            continue
        needs[v] = needs.get(v) or f.requires_python
    if not needs:
        return None, None
    lowest = min(needs)
    return str(lowest), needs[lowest]


def audit_pins(
    pins: Pins, source: AdvisorySource, check_index: bool = True, workers: int = 8
) -> AuditResult:
    result = AuditResult(
        packages=len(pins.packages),
        python=pins.python,
        source=source.description,
        unpinned=sorted(set(pins.unpinned)),
    )
    parsed = _versions(pins, result.notes)
    found = _advisories(parsed, source, workers)
    for name in sorted(found):
        if found[name]:
            _add_package(result, name, parsed[name], found[name], pins.python, check_index)
    return result


def _versions(pins: Pins, notes: list[str]) -> dict[str, Version]:
    """The pins as versions; one that is not PEP 440 is noted and left out."""
    parsed: dict[str, Version] = {}
    for name, text in pins.packages.items():
        v = parse_version(text)
        if v is None:
            notes.append(f"{name}=={text}: not a PEP 440 version, not audited")
        else:
            parsed[name] = v
    return parsed


def _advisories(
    parsed: dict[str, Version], source: AdvisorySource, workers: int
) -> dict[str, list[Advisory]]:
    """Each package's advisories that affect its pinned version, asked in parallel."""

    def hits(item: tuple[str, Version]) -> tuple[str, list[Advisory]]:
        name, version = item
        found = [a for a in source.advisories(name, version) if a.affects(name, version)]
        return name, _merge(found)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(hits, sorted(parsed.items())))


def _add_package(
    result: AuditResult,
    name: str,
    current: Version,
    advisories: list[Advisory],
    python: str | None,
    check_index: bool,
) -> None:
    """One vulnerable package: its nearest safe pin and each advisory, most severe first."""
    releases = _index_releases(name, python) if check_index else None
    if check_index and releases is None:
        result.notes.append(
            f"{name}: the index could not be asked; nearest safe versions "
            f"come from the advisories' fix versions alone"
        )
    overall = _nearest(current, advisories, name, releases)
    if overall is not None:
        result.safe_pins[name] = str(overall)
    for adv in sorted(advisories, key=lambda a: (SEVERITY_ORDER[a.severity], a.id)):
        result.vulnerabilities.append(_vulnerability(name, current, adv, releases))


def _vulnerability(
    name: str, current: Version, adv: Advisory, releases: list[Version] | None
) -> Vulnerability:
    near = _nearest(current, [adv], name, releases)
    fixed_in, fixed_python = (
        _fix_for_another_python(name, current, adv)
        if near is None and releases is not None
        else (None, None)
    )
    return Vulnerability(
        package=name,
        version=str(current),
        id=adv.id,
        aliases=adv.aliases,
        summary=adv.summary,
        fix_versions=[str(v) for v in adv.fix_versions(name)],
        severity=adv.severity,
        nearest_safe=str(near) if near is not None else None,
        nearest_safe_checked=releases is not None,
        fixed_in=fixed_in,
        fixed_requires_python=fixed_python,
    )


def safe_requirements(text: str, safe: dict[str, str]) -> tuple[str, list[str]]:
    """requirements.txt text with vulnerable pins replaced by their nearest safe release;
    returns the text and what changed."""
    changed: list[str] = []
    out = []
    for line in text.splitlines():
        m = rx.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#]+)(.*)$", line)
        if m and canonicalize_name(m.group(1)) in safe:
            new = safe[canonicalize_name(m.group(1))]
            if new != m.group(3):
                changed.append(f"{m.group(1)} {m.group(3)} -> {new}")
                line = f"{m.group(1)}{m.group(2) or ''}=={new}{m.group(4)}"
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else ""), changed
