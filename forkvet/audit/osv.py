"""OSV records (https://ossf.github.io/osv-schema/): parsing, version matching, severity.

Everything here is pure: a record is a dict as OSV publishes it (the API and the per-ecosystem
exports use the same schema). Versions are compared with PEP 440 ordering (`packaging`), never
as strings, so `1.10` is after `1.9` and `2.0rc1` before `2.0`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from forkvet import rx, safeparse

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "unknown": 4}
_GHSA_WORDS = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MODERATE": "medium",
    "MEDIUM": "medium",
    "LOW": "low",
}


def parse_version(text: str) -> Version | None:
    try:
        return safeparse.version(text)
    except InvalidVersion:
        return None


@dataclass
class Affected:
    """One `affected[]` entry for a PyPI package: ECOSYSTEM ranges and explicit versions."""

    package: str  # canonical name
    ranges: list[list[tuple[str, str]]] = field(default_factory=list)  # [(event, version)]
    versions: set[str] = field(default_factory=set)  # canonical version strings

    def contains(self, version: Version) -> bool:
        if str(version) in self.versions:
            return True
        return any(_in_range(version, events) for events in self.ranges)

    def fixes(self) -> list[Version]:
        out = []
        for events in self.ranges:
            for kind, value in events:
                v = parse_version(value) if kind == "fixed" else None
                if v is not None:
                    out.append(v)
        return sorted(set(out))


@dataclass
class Advisory:
    id: str
    aliases: list[str]
    summary: str
    severity: str
    affected: list[Affected]

    def affects(self, package: str, version: Version) -> bool:
        name = canonicalize_name(package)
        return any(a.package == name and a.contains(version) for a in self.affected)

    def fix_versions(self, package: str) -> list[Version]:
        name = canonicalize_name(package)
        return sorted({v for a in self.affected if a.package == name for v in a.fixes()})


def _in_range(version: Version, events: list[tuple[str, str]]) -> bool:
    """The OSV evaluation: walk the events in version order; `introduced` opens a vulnerable
    span, `fixed` (exclusive) and `last_affected` (inclusive) close it."""

    def key(event: tuple[str, str]) -> tuple[int, Version]:
        kind, value = event
        if kind == "introduced" and value == "0":
            return (0, safeparse.version("0"))
        v = parse_version(value)
        return (1, v) if v is not None else (2, safeparse.version("0"))

    vulnerable = False
    for kind, value in sorted(events, key=key):
        if kind == "introduced":
            start = safeparse.version("0") if value == "0" else parse_version(value)
            if start is not None and version >= start:
                vulnerable = True
        elif kind == "fixed":
            end = parse_version(value)
            if end is not None and version >= end:
                vulnerable = False
        elif kind == "last_affected":
            end = parse_version(value)
            if end is not None and version > end:
                vulnerable = False
        elif kind == "limit":
            end = parse_version(value)
            if end is not None and version >= end:
                vulnerable = False
    return vulnerable


def _text(value: Any, limit: int = 300) -> str:
    if not isinstance(value, str):
        return ""
    return rx.sub(r"\s+", " ", value).strip()[:limit]


def severity_of(record: dict[str, Any]) -> str:
    """critical/high/medium/low from the record's own rating (GitHub's words) or its CVSS
    vector's base score; `unknown` when it has neither."""
    spec = record.get("database_specific")
    if isinstance(spec, dict) and isinstance(spec.get("severity"), str):
        word = _GHSA_WORDS.get(spec["severity"].upper())
        if word:
            return word
    best: float | None = None
    for item in record.get("severity") or []:
        if not isinstance(item, dict) or not isinstance(item.get("score"), str):
            continue
        score = _cvss_score(str(item.get("type", "")), item["score"])
        if score is not None and (best is None or score > best):
            best = score
    if best is None:
        return "unknown"
    if best >= 9.0:
        return "critical"
    if best >= 7.0:
        return "high"
    if best >= 4.0:
        return "medium"
    return "low" if best > 0 else "unknown"


def _cvss_score(kind: str, vector: str) -> float | None:
    try:
        import cvss  # the reference CVSS calculator (RedHat's), not our own arithmetic
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            return float(cvss.CVSS4(vector).base_score)
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            return float(cvss.CVSS3(vector).scores()[0])
        if kind == "CVSS_V2":
            return float(cvss.CVSS2(vector).scores()[0])
    except Exception:  # a malformed vector is "unknown", never a crash
        return None
    return None


def parse_record(data: Any) -> Advisory | None:
    """An Advisory for the PyPI packages of one OSV record; None when it has none, is
    withdrawn, or is not an OSV record."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    if data.get("withdrawn"):
        return None
    affected: list[Affected] = []
    for entry in data.get("affected") or []:
        if not isinstance(entry, dict):
            continue
        pkg = entry.get("package")
        if not isinstance(pkg, dict) or not str(pkg.get("ecosystem", "")).startswith("PyPI"):
            continue
        name = pkg.get("name")
        if not isinstance(name, str) or not name:
            continue
        item = Affected(canonicalize_name(name))
        for rng in entry.get("ranges") or []:
            if not isinstance(rng, dict) or rng.get("type") != "ECOSYSTEM":
                continue  # GIT ranges name commits, not releases
            events = []
            for ev in rng.get("events") or []:
                if isinstance(ev, dict):
                    for kind in ("introduced", "fixed", "last_affected", "limit"):
                        if isinstance(ev.get(kind), str):
                            events.append((kind, ev[kind]))
            if events:
                item.ranges.append(events)
        for v in entry.get("versions") or []:
            parsed = parse_version(v) if isinstance(v, str) else None
            if parsed is not None:
                item.versions.add(str(parsed))
        affected.append(item)
    if not affected:
        return None
    aliases = [a for a in data.get("aliases") or [] if isinstance(a, str)]
    summary = _text(data.get("summary")) or _text(data.get("details"))
    return Advisory(data["id"], aliases, summary or "(no summary)", severity_of(data), affected)
