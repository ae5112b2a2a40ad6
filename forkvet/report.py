"""The vetting report: one typed model that every renderer and integration reads.

JSON keys are a public interface (the App, the Actions and users' scripts read them):
add keys freely, never rename or remove one without bumping SCHEMA_VERSION's major.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = "1.0"

Severity = Literal["error", "warning", "notice"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "notice": 2}


@dataclass
class Finding:
    check: str
    severity: Severity
    title: str
    message: str
    path: str | None = None
    line: int | None = None
    # Set when the operator's policy accepted this finding (forkvet.accept): reason, by,
    # until, severity (before acceptance), rule, fingerprint.
    accepted: dict[str, Any] | None = None
    # A digest of the content a finding about data is about (forkvet.accept.pin): the
    # file's bytes and the repository's modules its imports may resolve to. Part of the
    # finding's fingerprint, so an acceptance by fingerprint binds that content.
    pin: str | None = None


@dataclass
class RepoInfo:
    name: str
    commit: str | None = None
    commit_date: str | None = None
    remote: str | None = None
    # Date of the last commit that touched code (not docs); envs are pinned as of it.
    code_date: str | None = None
    code_commit: str | None = None


@dataclass
class LicenseMatch:
    spdx: str | None
    name: str
    category: str
    commercial_use: bool | None
    path: str
    confidence: float
    source: str  # "file", "metadata", "readme", "header"
    # license (a file's own grant), third-party (a notice appended or a vendored license),
    # weights-or-data, readme, metadata, patents, source-header (source files' headers' terms)
    role: str = ""


@dataclass
class LicenseInfo:
    spdx: str | None = None
    name: str = "No license found"
    category: str = "none"
    commercial_use: bool | None = False
    obligations: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    confidence: float = 0.0
    # Every license found, and why the one above governs the code.
    all: list[LicenseMatch] = field(default_factory=list)
    governs_reason: str = ""


@dataclass
class Language:
    name: str
    files: int
    lines: int


@dataclass
class PythonInfo:
    majors: list[int] = field(default_factory=list)
    recommended: str | None = None
    min_version: str | None = None
    max_version: str | None = None
    evidence: list[str] = field(default_factory=list)


@dataclass
class Framework:
    name: str
    version_spec: str | None = None
    evidence: list[str] = field(default_factory=list)
    # Newest Python with wheels for the framework versions the spec allows.
    python_max: str | None = None
    # primary: needed to train/run the model; optional: export targets, lazy or optional
    # imports, notebook-only demos; library: helper libraries (transformers, scikit-learn).
    role: str = "primary"


@dataclass
class Dependencies:
    files: list[str] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    # name -> version specifier as the authors wrote it ("" when unpinned)
    declared_specs: dict[str, str] = field(default_factory=dict)
    # name -> first few "path:line" where it is imported
    imported_at: dict[str, list[str]] = field(default_factory=dict)
    # imported only inside try/except ImportError or platform checks
    optional: list[str] = field(default_factory=list)
    # module names we could not map with certainty (identity guess)
    unmapped: list[str] = field(default_factory=list)
    # import name -> git+https requirement: packages the README has you clone or pip-install
    # from git (import clip after cloning openai/CLIP), never a same-named index package.
    git_requirements: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptEntry:
    path: str
    kind: str  # train | test | eval | demo | inference | notebook | prepare | unittest
    options: list[dict[str, Any]] = field(default_factory=list)
    # The README command that runs it, with its arguments (None: found by its name).
    command: str | None = None


@dataclass
class Command:
    command: str
    source: str
    kind: str  # train | test | prepare | other | install


@dataclass
class EntryPoints:
    train: list[ScriptEntry] = field(default_factory=list)
    test: list[ScriptEntry] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    # Data preparation and download scripts (run before training).
    prepare: list[ScriptEntry] = field(default_factory=list)


@dataclass
class Weight:
    url: str | None
    path: str | None
    host: str | None = None
    source: str | None = None


@dataclass
class Risk:
    kind: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None


@dataclass
class ChecklistItem:
    name: str
    present: bool
    evidence: str = ""


@dataclass
class Checklist:
    score: int = 0
    items: list[ChecklistItem] = field(default_factory=list)


@dataclass
class Report:
    repo: RepoInfo
    license: LicenseInfo = field(default_factory=LicenseInfo)
    languages: list[Language] = field(default_factory=list)
    python: PythonInfo = field(default_factory=PythonInfo)
    frameworks: list[Framework] = field(default_factory=list)
    dependencies: Dependencies = field(default_factory=Dependencies)
    entry_points: EntryPoints = field(default_factory=EntryPoints)
    weights: list[Weight] = field(default_factory=list)
    # Links to data sets (same shape as weights): what training needs, not the model.
    datasets: list[Weight] = field(default_factory=list)
    citation: dict[str, Any] | None = None
    # Copyright owners from the license files' one-line notices: {holders, notices}.
    copyright: dict[str, Any] = field(default_factory=dict)
    risks: list[Risk] = field(default_factory=list)
    checklist: Checklist = field(default_factory=Checklist)
    findings: list[Finding] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION
    forkvet_version: str = ""

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def sorted_findings(self) -> list[Finding]:
        return sorted(
            self.findings,
            key=lambda f: (SEVERITY_ORDER[f.severity], f.check, f.path or "", f.line or 0),
        )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["findings"] = [dataclasses.asdict(f) for f in self.sorted_findings()]
        # schema_version first: readers check it before anything else.
        return {"schema_version": data.pop("schema_version"), **data}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
