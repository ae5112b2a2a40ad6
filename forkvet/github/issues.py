"""One report issue per fork, found again by a hidden marker and updated in place."""

from __future__ import annotations

from github.Issue import Issue
from github.Repository import Repository

from forkvet.escape import title as plain_title

MARKER = "<!-- forkvet:report -->"
TITLE = "forkvet report"
# The commit a report was made at, whole, in the App's own words right after the marker:
# what a reviewer answering the issue saw (round 22c F4: `/forkvet accept` bound the file as
# the job found it, and a push between the comment and the job was accepted unreviewed).
_COMMIT_HEAD = "<!-- forkvet:commit "
_COMMIT_TAIL = " -->\n"
_HEX = frozenset("0123456789abcdef")


def _is_sha(text: str) -> bool:
    return len(text) == 40 and set(text) <= _HEX


def with_commit(markdown: str, commit: str | None) -> str:
    """The report's Markdown headed by a hidden line naming its whole commit."""
    if commit is None or not _is_sha(commit):
        return markdown
    return f"{_COMMIT_HEAD}{commit}{_COMMIT_TAIL}{markdown}"


def reported_commit(body: str) -> str | None:
    """The commit a report issue's body (as GitHub sent it with a comment) names, only at
    the place the App writes it (directly after the marker); None when it names none."""
    head = f"{MARKER}\n{_COMMIT_HEAD}"
    if not body.startswith(head):
        return None
    sha = body[len(head) : len(head) + 40]
    tail = body[len(head) + 40 : len(head) + 40 + len(_COMMIT_TAIL)]
    return sha if _is_sha(sha) and tail == _COMMIT_TAIL else None


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
