"""Static vetting: every check is a plain function of a Context; this module runs them all."""

from __future__ import annotations

from forkvet import __version__
from forkvet.config import Config
from forkvet.report import Finding, RepoInfo, Report
from forkvet.snapshot import Snapshot
from forkvet.vet import (
    citation,
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
from forkvet.vet.declared import collect

__all__ = ["Context", "vet"]


def vet(snap: Snapshot, config: Config | None = None, ctx: Context | None = None) -> Report:
    """Vet a repository snapshot. Reads files only; never runs the repository's code."""
    ctx = ctx or Context(snap, config or Config())
    report = Report(
        repo=RepoInfo(
            snap.name, snap.git.commit, snap.git.commit_date, snap.git.remote, snap.git.code_date
        ),
        forkvet_version=__version__,
    )
    findings = report.findings
    findings += snap.notices
    report.license, f = license.check(ctx)
    findings += f
    report.languages, f = languages.check(ctx)
    findings += f
    declared = collect(ctx)
    report.frameworks, f = frameworks.check(ctx, declared)
    findings += f
    report.python, f = python_version.check(ctx, report.frameworks)
    findings += f
    report.dependencies, f = dependencies.check(ctx, declared)
    findings += f
    report.entry_points, f = entry_points.check(ctx)
    findings += f
    report.weights, f = weights.check(ctx)
    findings += f
    report.citation, f = citation.check(ctx)
    findings += f
    report.risks, f = risks.check(ctx)
    findings += f
    report.health, report.checklist, f = health.check(
        ctx, report.python, report.dependencies, report.entry_points, report.weights
    )
    findings += f
    findings += snap.access_notices()
    if ctx.py.skipped:
        findings.append(
            Finding(
                "snapshot",
                "notice",
                "Python files skipped",
                f"{ctx.py.skipped} Python file(s) beyond the first "
                f"{len(ctx.py.files)} were not analysed",
            )
        )
    return report
