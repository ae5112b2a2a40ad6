"""One comment per pull request, written by the App and updated in place for each new commit
(CML's habit), found again by a hidden marker at its start.

Only a comment the App itself wrote is ever edited: anyone can paste the marker into a
comment of their own (the escaping breaks copies in text forkvet writes, not in theirs).
"""

from __future__ import annotations

from github.Issue import Issue
from github.IssueComment import IssueComment
from github.Repository import Repository

MARKER = "<!-- forkvet:train-check -->"
MAX_SCANNED = 500  # comments looked through on one pull request


def find_own_comment(issue: Issue, author: str) -> IssueComment | None:
    for i, comment in enumerate(issue.get_comments()):
        if i >= MAX_SCANNED:
            break
        if comment.user.login == author and (comment.body or "").startswith(MARKER):
            return comment
    return None


def upsert_pr_comment(
    repo: Repository, number: int, body: str, author: str
) -> tuple[IssueComment, bool]:
    """(comment, created): the App's comment on pull request `number` now says `body`."""
    text = f"{MARKER}\n{body}"
    issue = repo.get_issue(number)  # a pull request's comments are its issue's
    comment = find_own_comment(issue, author)
    if comment is None:
        return issue.create_comment(text), True
    if comment.body != text:
        comment.edit(text)
    return comment, False
