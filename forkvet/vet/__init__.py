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
)
from forkvet.vet.context import Context
from forkvet.vet.declared import DeclaredSet, collect

__all__ = ["Context", "vet"]
T = TypeVar("T")


def vet(snap: Snapshot, config: Config | None = None, ctx: Context | None = None) -> Report:
    """Vet a repository snapshot. Reads files only; never runs the repository's code.

    Each check runs isolated: one that fails on this repository's content, or that would start
    after the run's deadline, becomes a notice and the rest of the report is still produced.
    """
    ctx = ctx or Context(snap, config or Config())
    report = Report(
        repo=RepoInfo(
            snap.name,
            snap.git.commit,
            snap.git.commit_date,
            snap.git.remote,
            snap.git.code_date,
            snap.git.code_commit,
        ),
        forkvet_version=__version__,
    )
    findings = report.findings
    findings += snap.notices

    def run(
        name: str, check: Callable[[], tuple[T, list[Finding]]], default: T, always: bool = False
    ) -> T:
        if time.monotonic() > ctx.deadline and not always:
            findings.append(
                Finding(
                    name,
                    "notice",
                    "Check not run: time limit",
                    f"forkvet's {limits.vet_seconds():.0f} s budget for static vetting was spent "
                    f"before the {name} check; its section is empty",
                )
            )
            return default
        try:
            value, found = check()
        except (Exception, RecursionError, MemoryError) as exc:
            findings.append(_failed(name, exc))
            return default
        findings.extend(found)
        return value

    started: list[bool] = []

    def independent() -> None:  # checks that need no parsed Python: run while workers parse
        if started:
            return
        started.append(True)
        report.license = run("license", lambda: license.check(ctx), LicenseInfo())
        report.languages = run("languages", lambda: languages.check(ctx), [])
        no_risks: list[Risk] = []
        run("risks", lambda: (risks.pickle_risks(ctx), []), no_risks)

    run("python files", lambda: (ctx.index(independent), []), None)
    independent()  # when parsing failed before it got to them
    declared = run("dependencies", lambda: (collect(ctx), []), DeclaredSet())
    report.frameworks = run("frameworks", lambda: frameworks.check(ctx, declared), [])
    report.python = run(
        "python", lambda: python_version.check(ctx, report.frameworks), PythonInfo()
    )
    report.dependencies = run(
        "dependencies", lambda: dependencies.check(ctx, declared), Dependencies()
    )
    report.entry_points = run("entry_points", lambda: entry_points.check(ctx), EntryPoints())

    def _links() -> tuple[tuple[list[Weight], list[Weight]], list[Finding]]:
        found_weights, datasets, found = weights.check(ctx)
        return (found_weights, datasets), found

    no_links: tuple[list[Weight], list[Weight]] = ([], [])
    report.weights, report.datasets = run("weights", _links, no_links)
    # Every citing output prints the arXiv id beside the BibTeX: they must agree (forkvet.citing).
    report.citation = agree(run("citation", lambda: citation.check(ctx), None), ctx.readme)
    report.copyright = run("copyright", lambda: copyright.check(ctx), {})
    # Runs even past the deadline: a pickle the scan had no time for is reported as not
    # verified (an error), never left out (the scan stops at once past its own deadline).
    report.risks = run("risks", lambda: risks.check(ctx), [], always=True)

    def _health() -> tuple[tuple[dict[str, Any], Checklist], list[Finding]]:
        h, items, found = health.check(
            ctx, report.python, report.dependencies, report.entry_points, report.weights
        )
        return (h, items), found

    no_health: dict[str, Any] = {}
    report.health, report.checklist = run("health", _health, (no_health, Checklist()))
    findings += snap.access_notices()
    py = ctx.__dict__.get("py")  # only when a check built it
    if py is not None:
        for path, reason in py.failed[:10]:
            findings.append(
                Finding(
                    "snapshot",
                    "notice",
                    "File not analysed",
                    f"{reason}; the rest of the repository was vetted",
                    path,
                )
            )
        if len(py.failed) > 10:
            findings.append(
                Finding(
                    "snapshot",
                    "notice",
                    "Files not analysed",
                    f"{len(py.failed) - 10} more file(s) not analysed, e.g. {py.failed[10][0]} "
                    f"({py.failed[10][1]})",
                    py.failed[10][0],
                )
            )
        skimmed = [f.path for f in py.files if f.facts.get("skimmed")]
        if skimmed:
            findings.append(
                Finding(
                    "snapshot",
                    "notice",
                    "Python files skimmed",
                    f"{len(skimmed)} Python file(s) past forkvet's analysis budget of "
                    f"{limits.FULL_ANALYSIS_BYTES >> 10} KiB (vendored copies first, then the "
                    f"deepest and largest) were read for imports and risky calls only, e.g. "
                    f"{', '.join(skimmed[:3])}",
                    skimmed[0],
                )
            )
        limited = sorted(f.path for f in py.files if f.facts.get("limited"))
        if limited:
            findings.append(
                Finding(
                    "snapshot",
                    "notice",
                    "Files partly analysed",
                    f"{len(limited)} Python file(s) over {limits.SLOW_ANALYZER_MAX_BYTES >> 10} "
                    f"KiB or past the time budget were not checked by vermin (minimum Python "
                    f"version) and pyflakes (undefined names): {', '.join(limited[:5])}",
                    limited[0],
                )
            )
        if py.skipped:
            findings.append(
                Finding(
                    "snapshot",
                    "notice",
                    "Python files skipped",
                    f"{py.skipped} Python file(s) beyond the first "
                    f"{len(py.files)} were not analysed",
                )
            )
    return report


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
