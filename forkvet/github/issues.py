"""One report issue per fork, found again by a hidden marker and updated in place."""

from __future__ import annotations

from github.Issue import Issue
from github.Repository import Repository

from forkvet.escape import title as plain_title

MARKER = "<!-- forkvet:report -->"
TITLE = "forkvet report"


def find_report_issue(repo: Repository, creator: str | None = None) -> Issue | None:
    if creator:
        # PyGithub's annotation says NamedUser; it sends a login string as GitHub expects.
        issues = repo.get_issues(state="all", creator=creator)  # type: ignore[arg-type]
    else:
        issues = repo.get_issues(state="all")
    for issue in issues:
        if issue.pull_request is None and MARKER in (issue.body or ""):
            return issue
    return None


def upsert_report_issue(
    repo: Repository, body: str, creator: str | None = None, title: str = TITLE
) -> tuple[Issue, bool]:
    """(issue, created). The body always carries the marker; the issue is never duplicated
    by this function (callers serialise per repository)."""
    text = f"{MARKER}\n{body}"
    issue = find_report_issue(repo, creator)
    if issue is None:
        return repo.create_issue(title=plain_title(title), body=text), True
    if issue.body != text:
        issue.edit(body=text)
    return issue, False
