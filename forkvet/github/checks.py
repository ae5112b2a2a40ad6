"""The `forkvet` check run: created in progress, completed with the Markdown report as its
summary and annotations at the offending lines (GitHub takes at most 50 per request)."""

from __future__ import annotations

from typing import Any

from github.CheckRun import CheckRun
from github.Repository import Repository

from forkvet.escape import title as plain_title
from forkvet.report import Report

CHECK_NAME = "forkvet"
ANNOTATIONS_PER_REQUEST = 50
SUMMARY_LIMIT = 65_000
_LEVEL = {"error": "failure", "warning": "warning", "notice": "notice"}


def start(repo: Repository, head_sha: str, details_url: str | None = None) -> CheckRun:
    kwargs: dict[str, Any] = {"status": "in_progress"}
    if details_url:
        kwargs["details_url"] = details_url
    return repo.create_check_run(name=CHECK_NAME, head_sha=head_sha, **kwargs)


def report_annotations(report: Report) -> list[dict[str, Any]]:
    out = []
    for f in report.sorted_findings():
        if not f.path or (f.severity == "notice" and not f.line):
            continue
        out.append(
            {
                "path": f.path,
                "start_line": f.line or 1,
                "end_line": f.line or 1,
                "annotation_level": _LEVEL[f.severity],
                "title": plain_title(f.title, 255),
                "message": f.message[:64_000],
            }
        )
    return out


def report_conclusion(report: Report) -> str:
    if report.has_errors:
        return "failure"
    if any(f.severity == "warning" for f in report.findings):
        return "neutral"
    return "success"


def complete(
    check: CheckRun,
    report: Report,
    title: str,
    summary: str,
    text: str | None = None,
    conclusion: str | None = None,
) -> CheckRun:
    """Finish the run; annotations go in batches of 50 (the first with the completion).
    `conclusion` overrides the report's own (e.g. action_required for a broken config)."""
    notes = report_annotations(report)
    batches = [
        notes[i : i + ANNOTATIONS_PER_REQUEST]
        for i in range(0, len(notes), ANNOTATIONS_PER_REQUEST)
    ] or [[]]
    output: dict[str, Any] = {"title": plain_title(title, 255), "summary": summary[:SUMMARY_LIMIT]}
    if text:
        output["text"] = text[:SUMMARY_LIMIT]
    for batch in batches[1:]:
        check.edit(output={**output, "annotations": batch})
    check.edit(
        status="completed",
        conclusion=conclusion or report_conclusion(report),
        output={**output, "annotations": batches[0]},
    )
    return check


def fail(check: CheckRun, title: str, message: str) -> None:
    """The job itself failed: say what to do instead of leaving the run spinning."""
    check.edit(
        status="completed",
        conclusion="action_required",
        output={"title": plain_title(title, 255), "summary": message[:SUMMARY_LIMIT]},
    )
