"""SARIF 2.1.0 for GitHub code scanning (the Security tab) and other SARIF readers.

Conventions follow the scanners users already upload (zizmor, Bandit, Trivy):
- one rule per finding kind (`risks/dangerous-pickle`, `license/license-is-non-commercial`),
  with a `helpUri` into forkvet's documentation; one rule per advisory for `audit` (as Trivy);
- `level` from the severity (error/warning/note) and, for security rules, a
  `properties.security-severity` score so code scanning ranks them critical/high/medium/low;
- every result has a repository-relative `artifactLocation.uri` (code scanning rejects the
  whole file when one result has no location), with `region.startLine` where known;
- `partialFingerprints` from the rule id, the path and the normalised message, never the
  line: an alert stays the same alert when code above it moves.

All text from the vetted repository or an advisory is plain text here: control and
bidirectional characters are dropped and `[`, `]` escaped, so that a message cannot form a
SARIF embedded link (`[text](url)`) that a viewer would render.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from forkvet import CONFIG_PATH, __version__, rx
from forkvet.escape import _controls
from forkvet.report import Finding, Report
from forkvet.snapshot import name_bytes

if TYPE_CHECKING:
    from forkvet.audit.run import AuditResult, Vulnerability

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Where `helpUri` points: forkvet's own repository's docs/ folder (FORKVET_DOCS_URL moves it,
# e.g. to a fork of forkvet or an internal mirror of its docs).
DOCS_URL = "https://github.com/forkvet/forkvet/blob/main/docs/"
INFORMATION_URI = "https://github.com/forkvet/forkvet"
FINGERPRINT_KEY = "forkvet/v1"

_LEVEL = {"error": "error", "warning": "warning", "notice": "note"}
_AUDIT_LEVEL = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "unknown": "warning",
}
# code scanning's scale: >= 9.0 critical, >= 7.0 high, >= 4.0 medium, else low
_SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "notice": "2.0"}
_AUDIT_SECURITY_SEVERITY = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
    "unknown": "5.0",
}
_SECURITY_CHECKS = {"risks", "snapshot"}
_PICKLE_RULES = {
    "dangerous-pickle",
    "code-in-data",
    "unsafe-pickle",
    "pickle-unverified",
    "pickle-checkpoint",
}
# Each check's documentation section (GitHub's heading anchors).
_DOCS = {
    "license": "vet.md#configuration-and-license-policy",
    "license-policy": "vet.md#configuration-and-license-policy",
    "config": "vet.md#configuration-and-license-policy",
    "snapshot": "vet.md#limits",
    "limits": "vet.md#limits",
    "risks": "security.md#static-vetting",
    "accept": "vet.md#accepted-findings",
}


def docs_url(section: str) -> str:
    base = os.environ.get("FORKVET_DOCS_URL") or DOCS_URL
    return base.rstrip("/") + "/" + section


def text(value: object, limit: int = 2000) -> str:
    """Plain SARIF message text: one line, no controls, no embedded links."""
    out = _controls(str(value)).strip()
    out = rx.sub(r"([\\\[\]])", r"\\\1", out)
    return out[: limit - 1] + "…" if len(out) > limit else out


def slug(value: str) -> str:
    return rx.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "finding"


def rule_id(finding: Finding) -> str:
    return f"{slug(finding.check)}/{slug(finding.title)}"


def fingerprint(rule: str, path: str, message: str) -> str:
    """Stable across commits: numbers (counts, line numbers, sizes) and spacing do not count."""
    normal = rx.sub(r"\d+", "0", rx.sub(r"\s+", " ", message.lower())).strip()
    digest = hashlib.sha256("\x00".join((rule, path, normal)).encode("utf-8", "replace"))
    return digest.hexdigest()[:32]


def uri(path: str) -> str:
    """A repository-relative URI reference to the file a report names: its bytes on disk,
    percent-encoded (a backslash is part of a POSIX name, not a separator)."""
    clean = name_bytes(path).lstrip(b"/")
    while clean.startswith(b"./"):
        clean = clean[2:]
    return quote(clean, safe="/-._~")


@dataclass
class _Rules:
    rules: list[dict[str, Any]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def add(self, rule: dict[str, Any]) -> int:
        if rule["id"] not in self.index:
            self.index[rule["id"]] = len(self.rules)
            self.rules.append(rule)
        return self.index[rule["id"]]


def _location(path: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri(path)}}
    if line is not None and line > 0:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _result(
    rule: str,
    index: int,
    level: str,
    message: str,
    path: str,
    line: int | None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = text(message)
    result: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": index,
        "level": level,
        "message": {"text": body},
        "locations": [_location(path, line)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(rule, uri(path), body)},
    }
    if properties:
        result["properties"] = properties
    return result


def _log(run_id: str, rules: _Rules, results: list[dict[str, Any]], **extra: Any) -> str:
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "forkvet",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules.rules,
            }
        },
        "automationDetails": {"id": run_id},
        "columnKind": "unicodeCodePoints",
        "results": results,
        **extra,
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# --- forkvet vet -------------------------------------------------------------------------


def _vet_rule(finding: Finding) -> dict[str, Any]:
    rid = rule_id(finding)
    kind = rid.split("/", 1)[1]
    if finding.check == "risks" and kind in _PICKLE_RULES:
        section = "security.md#the-pickle-rules"
    else:
        section = _DOCS.get(finding.check, "vet.md#forkvet-vet")
    help_uri = docs_url(section)
    tags = ["forkvet", finding.check]
    properties: dict[str, Any] = {"tags": tags}
    if finding.check in _SECURITY_CHECKS:
        tags.append("security")
        properties["security-severity"] = _SECURITY_SEVERITY[finding.severity]
    return {
        "id": rid,
        "name": "".join(p.capitalize() for p in rx.split(r"[^a-z0-9]+", rid) if p),
        "shortDescription": {"text": text(finding.title, 200)},
        "fullDescription": {"text": text(f"forkvet's {finding.check} check: {finding.title}", 400)},
        "helpUri": help_uri,
        "help": {
            "text": f"See {help_uri}",
            "markdown": f"See [forkvet's documentation]({help_uri}).",
        },
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
        "properties": properties,
    }


def _fallback_path(report: Report, finding: Finding) -> str:
    """A file to show a repository-wide finding on (code scanning needs a location)."""
    if finding.check in ("license", "license-policy") and report.license.files:
        return report.license.files[0]
    if finding.check == "dependencies" and report.dependencies.files:
        return report.dependencies.files[0]
    readme = report.health.get("readme") if isinstance(report.health, dict) else None
    if isinstance(readme, str) and readme:
        return readme
    return CONFIG_PATH


def finding_fingerprint(report: Report, finding: Finding) -> str:
    """The `forkvet/v1` partial fingerprint of a finding (what an acceptance may name)."""
    if finding.accepted and finding.accepted.get("fingerprint"):
        return str(finding.accepted["fingerprint"])  # as before it was accepted
    path = finding.path or _fallback_path(report, finding)
    body = text(finding.message)
    return fingerprint(
        rule_id(finding), uri(path), f"{body}\0{finding.pin}" if finding.pin else body
    )


def from_report(report: Report, findings: Iterable[Finding] | None = None) -> str:
    """The SARIF log of a vet report (its findings, most severe first). An accepted finding
    is a note with an `accepted` external suppression and its justification."""
    rules = _Rules()
    results = []
    for f in findings if findings is not None else report.sorted_findings():
        original = f
        if f.accepted:  # the rule and the fingerprint are those of the finding as found
            original = dataclasses.replace(
                f,
                title=f.title.removeprefix("Accepted: "),
                severity=f.accepted.get("severity") or f.severity,
            )
        rule = _vet_rule(original)
        index = rules.add(rule)
        path = f.path or _fallback_path(report, f)
        result = _result(rule["id"], index, _LEVEL[f.severity], f.message, path, f.line)
        result["partialFingerprints"][FINGERPRINT_KEY] = finding_fingerprint(report, f)
        if f.accepted:
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": text(f.accepted.get("reason") or "", 1000),
                }
            ]
        results.append(result)
    extra: dict[str, Any] = {}
    if report.repo.commit:
        vcs: dict[str, Any] = {"revisionId": report.repo.commit}
        if report.repo.remote and report.repo.remote.startswith("https://"):
            vcs["repositoryUri"] = report.repo.remote
            extra["versionControlProvenance"] = [vcs]
    return _log("forkvet/vet/", rules, results, **extra)


# --- forkvet audit -----------------------------------------------------------------------


def _audit_rule(v: Vulnerability) -> dict[str, Any]:
    help_uri = f"https://osv.dev/vulnerability/{quote(v.id, safe='-._')}"
    docs = docs_url("audit.md#sarif")
    aliases = f" ({', '.join(v.aliases[:5])})" if v.aliases else ""
    return {
        "id": v.id,
        "name": "KnownVulnerability",
        "shortDescription": {"text": text(f"{v.id}{aliases}: {v.summary}", 400)},
        "fullDescription": {"text": text(v.summary, 1000)},
        "helpUri": help_uri,
        "help": {
            "text": text(f"{v.summary} Advisory: {help_uri}. forkvet audit: {docs}", 2000),
            "markdown": f"Advisory: <{help_uri}>. See [forkvet audit]({docs}).",
        },
        "defaultConfiguration": {"level": _AUDIT_LEVEL.get(v.severity, "warning")},
        "properties": {
            "tags": ["forkvet", "audit", "security", "vulnerability"],
            "security-severity": _AUDIT_SECURITY_SEVERITY.get(v.severity, "5.0"),
        },
    }


_PIN_LINE = rx.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def pin_locations(sources: list[str], base: Path | None = None) -> dict[str, tuple[str, int]]:
    """Canonical package name -> (repository-relative file, line) of its pin."""
    from packaging.utils import canonicalize_name

    out: dict[str, tuple[str, int]] = {}
    for src in sources:
        p = Path(src)
        if not p.is_file() or p.is_symlink() or p.stat().st_size > 4 * 1024 * 1024:
            continue
        rel = display_path(p, base)
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
        for no, line in enumerate(lines, 1):
            purl = rx.search(r'"pkg:pypi/([^@"]+)@', line)
            if purl:
                out.setdefault(canonicalize_name(purl.group(1)), (rel, no))
                continue
            m = _PIN_LINE.match(line.lstrip(" -"))
            if m and ("==" in line or "=" in line):
                out.setdefault(canonicalize_name(m.group(1)), (rel, no))
    return out


def display_path(path: Path, base: Path | None = None) -> str:
    """Relative to `base` (default: the working directory, the repository root in an
    Action) when the file is under it, else its name."""
    root = (base or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.name


def from_audit(result: AuditResult, sources: list[str], base: Path | None = None) -> str:
    rules = _Rules()
    results = []
    where = pin_locations(sources, base)
    files = [s for s in sources if Path(s).is_file()]
    default = display_path(Path(files[0]), base) if files else "requirements.txt"
    for v in result.vulnerabilities:
        rule = _audit_rule(v)
        index = rules.add(rule)
        path, line = where.get(_canonical(v.package), (default, None))
        fix = f"; nearest safe release {v.nearest_safe}" if v.nearest_safe else "; no fixed release"
        message = f"{v.package} {v.version} is affected by {v.id}: {v.summary}{fix}"
        results.append(
            _result(
                v.id,
                index,
                _AUDIT_LEVEL.get(v.severity, "warning"),
                message,
                path,
                line,
                {"package": v.package, "version": v.version, "severity": v.severity},
            )
        )
    return _log(
        "forkvet/audit/",
        rules,
        results,
        properties={
            "source": text(result.source, 500),
            "sourceAgeDays": result.source_age_days,
            "summary": text(result.summary(), 500),
        },
    )


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))
