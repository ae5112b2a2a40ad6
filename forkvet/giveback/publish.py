"""Opening upstream pull requests and thank-you issues — only with a user's token (the App's
installation token cannot write to repositories it is not installed on), deduplicated,
capped per upstream, and never re-opening what a maintainer closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from github import Github, GithubException
from github.Repository import Repository

from forkvet.gitrun import run_git
from forkvet.giveback.drafts import Draft

THANKS_MARKER = "<!-- forkvet:thanks -->"


def push_branch(repo_dir: Path, remote_url: str, branch: str, token: str) -> None:
    # The token goes to git through its environment (GIT_CONFIG_*), never its command line.
    proc = run_git(
        ["push", "-q", "--force", remote_url, f"refs/heads/{branch}:refs/heads/{branch}"],
        repo=repo_dir,
        token=token,
        timeout=300,
    )
    if proc.returncode != 0:
        raise PermissionError(
            f"push to the fork failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}"
        )


def _forkvet_pulls(upstream: Repository, fork_owner: str) -> list:  # type: ignore[type-arg]
    return [
        p
        for p in upstream.get_pulls(state="all")
        if p.head.label.startswith(f"{fork_owner}:forkvet/")
    ]


def open_pull(
    gh: Github,
    upstream_name: str,
    fork_name: str,
    draft: Draft,
    base: str,
    max_per_hour: int,
    max_open: int,
) -> Draft:
    upstream = gh.get_repo(upstream_name)
    fork_owner = fork_name.split("/")[0]
    head = f"{fork_owner}:{draft.branch}"
    mine = _forkvet_pulls(upstream, fork_owner)
    existing = [p for p in mine if p.head.label == head]
    if existing:
        pull = existing[0]
        if pull.state == "closed" and not pull.merged:
            draft.status, draft.url = "closed-by-maintainer", pull.html_url
            draft.message = "a maintainer closed this pull request; forkvet does not reopen it"
            return draft
        if pull.state == "open":
            if pull.body != draft.body:
                pull.edit(body=draft.body)
            draft.status, draft.url = "updated", pull.html_url
            return draft
        draft.status, draft.url = "merged", pull.html_url
        return draft
    now = datetime.now(UTC)
    recent = [p for p in mine if p.created_at and p.created_at > now - timedelta(hours=1)]
    open_now = [p for p in mine if p.state == "open"]
    if len(recent) >= max_per_hour or len(open_now) >= max_open:
        draft.status = "capped"
        draft.message = (
            f"not opened: {len(open_now)} open and {len(recent)} opened in the last "
            f"hour on {upstream_name} (caps {max_open} open, {max_per_hour}/hour)"
        )
        return draft
    pull = upstream.create_pull(title=draft.title, body=draft.body, head=head, base=base)
    draft.status, draft.url = "opened", pull.html_url
    return draft


def thank(gh: Github, upstream_name: str, title: str, body: str) -> tuple[str, str | None]:
    """(status, url): opened | exists | archived | issues-disabled."""
    upstream = gh.get_repo(upstream_name)
    if upstream.archived:
        return "archived", None
    if not upstream.has_issues:
        return "issues-disabled", None
    me = gh.get_user().login
    for issue in upstream.get_issues(state="all", creator=me):  # type: ignore[arg-type]
        if THANKS_MARKER in (issue.body or ""):
            return "exists", issue.html_url
    try:
        issue = upstream.create_issue(title=title, body=f"{THANKS_MARKER}\n{body}")
    except GithubException as exc:
        if exc.status in (403, 410):
            return "issues-disabled", None
        raise
    return "opened", issue.html_url
