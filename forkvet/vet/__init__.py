"""Static vetting: every check is a plain function of a Context; this module runs them all."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from forkvet import __version__, limits
from forkvet.citing import agree
from forkvet.config import Config
from forkvet.report import (
    Checklist,
    Dependencies,
    EntryPoints,
    Finding,
    LicenseInfo,
    PythonInfo,
    RepoInfo,
    Report,
    Risk,
    Weight,
)
from forkvet.snapshot import Snapshot
from forkvet.vet import (
    analyzers,
    citation,
    copyright,
    dependencies,
    entry_points,
    frameworks,
    health,
    languages,
    license,
    python_version,
    risks,
    weights,
    weightterms,
)
from forkvet.vet.context import Context
from forkvet.vet.declared import DeclaredSet, collect
from forkvet.vet.pysource import PyIndex

__all__ = ["Context", "vet"]
T = TypeVar("T")

# The per-file analysers the context runs on every parsed file, in this order.
analyzers.register(
    python_version.analyze_file,
    risks.analyze_file,
    health.analyze_file,
    entry_points.analyze_file,
)
# Notices about files the index failed on: the first few by name, then a count.
MAX_FAILED_NAMED = 10


def vet(snap: Snapshot, config: Config | None = None, ctx: Context | None = None) -> Report:
    """Vet a repository snapshot. Reads files only; never runs the repository's code.

    Each check runs isolated: one that fails on this repository's content, or that would start
    after the run's deadline, becomes a notice and the rest of the report is still produced.
    """
    ctx = ctx or Context(snap, config or Config())
    report = _new_report(snap)
    report.findings += snap.notices
    run = _Runner(ctx, report.findings)
    _parse_and_independent(ctx, report, run)
    _code_checks(ctx, report, run)
    _links_and_citation(ctx, report, run)
    # Runs even past the deadline: a pickle the scan had no time for is reported as not
    # verified (an error), never left out (the scan stops at once past its own deadline).
    # A risks check that stops (whatever the cause) leaves every pickle unverified: an error,
    # never an empty section (a 1,000-level folder chain once did that, outside attack 6).
    stopped = _pickles_not_verified()
    report.risks = run("risks", lambda: risks.check(ctx), [stopped], always=True)
    if report.risks and report.risks[0] is stopped:
        report.findings.append(Finding("risks", "error", "Pickle unverified", stopped.message))
    entries = report.entry_points
    report.risks += run("risks", lambda: risks.unread_entry_points(ctx, entries), [], always=True)
    report.health, report.checklist = run("health", lambda: _health(ctx, report), _no_health())
    report.findings += snap.access_notices()
    py = ctx.__dict__.get("py")  # only when a check built it
    if py is not None:
        report.findings += _index_notices(py)
    return report


def _new_report(snap: Snapshot) -> Report:
    git = snap.git
    repo = RepoInfo(
        snap.name, git.commit, git.commit_date, git.remote, git.code_date, git.code_commit
    )
    return Report(repo=repo, forkvet_version=__version__)


class _Runner:
    """Runs one check isolated: past the deadline it is skipped, and a failure on this
    repository's content becomes a notice; either way the check's default stands in."""

    def __init__(self, ctx: Context, findings: list[Finding]) -> None:
        self.ctx = ctx
        self.findings = findings

    def __call__(
        self,
        name: str,
        check: Callable[[], tuple[T, list[Finding]]],
        default: T,
        always: bool = False,
    ) -> T:
        if time.monotonic() > self.ctx.deadline and not always:
            self.findings.append(_skipped(name))
            return default
        try:
            value, found = check()
        except (Exception, RecursionError, MemoryError) as exc:
            self.findings.append(_failed(name, exc))
            return default
        self.findings.extend(found)
        return value


def _parse_and_independent(ctx: Context, report: Report, run: _Runner) -> None:
    """Parse the Python files; the checks that need no parsed Python run while workers parse."""
    started: list[bool] = []

    def independent() -> None:
        if started:
            return
        started.append(True)
        report.license = run("license", lambda: license.check(ctx), LicenseInfo())
        report.languages = run("languages", lambda: languages.check(ctx), [])
        no_risks: list[Risk] = []
        run("risks", lambda: (risks.pickle_risks(ctx), []), no_risks)

    run("python files", lambda: (ctx.index(independent), []), None)
    independent()  # when parsing failed before it got to them


def _code_checks(ctx: Context, report: Report, run: _Runner) -> None:
    """What the code needs: declared requirements, frameworks, Python, imports, entry points."""
    declared = run("dependencies", lambda: (collect(ctx), []), DeclaredSet())
    report.frameworks = run("frameworks", lambda: frameworks.check(ctx, declared), [])
    report.python = run(
        "python", lambda: python_version.check(ctx, report.frameworks), PythonInfo()
    )
    report.dependencies = run(
        "dependencies", lambda: dependencies.check(ctx, declared), Dependencies()
    )
    report.entry_points = run("entry_points", lambda: entry_points.check(ctx), EntryPoints())


def _links_and_citation(ctx: Context, report: Report, run: _Runner) -> None:
    def links() -> tuple[tuple[list[Weight], list[Weight]], list[Finding]]:
        found_weights, datasets, found = weights.check(ctx)
        return (found_weights, datasets), found

    no_links: tuple[list[Weight], list[Weight]] = ([], [])
    report.weights, report.datasets = run("weights", links, no_links)
    run("weights license", lambda: weightterms.check(ctx, report.license, report.weights), None)
    # Every citing output prints the arXiv id beside the BibTeX: they must agree (forkvet.citing).
    report.citation = agree(run("citation", lambda: citation.check(ctx), None), ctx.readme)
    report.copyright = run("copyright", lambda: copyright.check(ctx), {})


def _health(ctx: Context, report: Report) -> tuple[tuple[dict[str, Any], Checklist], list[Finding]]:
    h, items, found = health.check(
        ctx, report.python, report.dependencies, report.entry_points, report.weights
    )
    return (h, items), found


def _no_health() -> tuple[dict[str, Any], Checklist]:
    return {}, Checklist()


def _index_notices(py: PyIndex) -> list[Finding]:
    """What the Python index could not read fully: failed, skimmed, partly analysed, skipped."""
    return [
        *_failed_files(py),
        *_skimmed_files(py),
        *_limited_files(py),
        *_skipped_files(py),
    ]


def _snapshot_notice(title: str, message: str, path: str | None = None) -> Finding:
    return Finding("snapshot", "notice", title, message, path)


def _failed_files(py: PyIndex) -> list[Finding]:
    out = [
        _snapshot_notice(
            "File not analysed", f"{reason}; the rest of the repository was vetted", path
        )
        for path, reason in py.failed[:MAX_FAILED_NAMED]
    ]
    if len(py.failed) > MAX_FAILED_NAMED:
        path, reason = py.failed[MAX_FAILED_NAMED]
        out.append(
            _snapshot_notice(
                "Files not analysed",
                f"{len(py.failed) - MAX_FAILED_NAMED} more file(s) not analysed, e.g. {path} "
                f"({reason})",
                path,
            )
        )
    return out


def _skimmed_files(py: PyIndex) -> list[Finding]:
    skimmed = [f.path for f in py.files if f.facts.get("skimmed")]
    if not skimmed:
        return []
    return [
        _snapshot_notice(
            "Python files skimmed",
            f"{len(skimmed)} Python file(s) past forkvet's analysis budget of "
            f"{limits.FULL_ANALYSIS_BYTES >> 10} KiB (vendored copies first, then the "
            f"deepest and largest) were read for imports and risky calls only, e.g. "
            f"{', '.join(skimmed[:3])}",
            skimmed[0],
        )
    ]


def _limited_files(py: PyIndex) -> list[Finding]:
    limited = sorted(f.path for f in py.files if f.facts.get("limited"))
    if not limited:
        return []
    return [
        _snapshot_notice(
            "Files partly analysed",
            f"{len(limited)} Python file(s) over {limits.SLOW_ANALYZER_MAX_BYTES >> 10} "
            f"KiB or past the time budget were not checked by vermin (minimum Python "
            f"version) and pyflakes (undefined names): {', '.join(limited[:5])}",
            limited[0],
        )
    ]


def _skipped_files(py: PyIndex) -> list[Finding]:
    if not py.skipped:
        return []
    return [
        _snapshot_notice(
            "Python files skipped",
            f"{py.skipped} Python file(s) beyond the first {len(py.files)} were not analysed",
        )
    ]


def _skipped(name: str) -> Finding:
    return Finding(
        name,
        "notice",
        "Check not run: time limit",
        f"forkvet's {limits.vet_seconds():.0f} s budget for static vetting was spent "
        f"before the {name} check; its section is empty",
    )


def _pickles_not_verified() -> Risk:
    return Risk(
        "pickle-unverified",
        "error",
        "Pickle data NOT verified (the pickle check stopped before it finished): treat every "
        "pickle in this repository as dangerous and do not load it",
    )


def _failed(check: str, exc: BaseException) -> Finding:
    """A check that failed on this repository's content: a notice, never a missing report."""
    what = (
        "input nested too deeply"
        if isinstance(exc, RecursionError)
        else "out of memory"
        if isinstance(exc, MemoryError)
        else type(exc).__name__
    )
    path = getattr(exc, "forkvet_path", None)
    return Finding(
        check,
        "notice",
        "Check incomplete",
        f"the {check} check stopped ({what})"
        + (f" on {path}" if path else "")
        + "; its section may be incomplete, the rest of the report is complete",
        path,
    )
