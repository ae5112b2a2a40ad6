"""The setup pull request: one per fork, on forkvet's own branch, updated by forkvet until a
person pushes to that branch — then forkvet stops touching it and says so."""

from __future__ import annotations

from dataclasses import dataclass

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

BRANCH = "forkvet/setup"
TITLE = "Set up forkvet: workflow, environment and attribution"


@dataclass
class SetupResult:
    pull: PullRequest | None
    created: bool
    changed_files: list[str]
    skipped_reason: str | None = None


def _branch_sha(repo: Repository, branch: str) -> str | None:
    try:
        return repo.get_git_ref(f"heads/{branch}").object.sha
    except GithubException as exc:
        if exc.status == 404:
            return None
        raise


def _touched_by_others(repo: Repository, base_sha: str, head_sha: str, bot_login: str) -> bool:
    comparison = repo.compare(base_sha, head_sha)
    for commit in comparison.commits:
        author = commit.author.login if commit.author else None
        if author and author != bot_login:
            return True
    return False


def ensure_setup_pr(
    repo: Repository, files: dict[str, str], body: str, bot_login: str
) -> SetupResult:
    base = repo.default_branch
    base_sha = repo.get_branch(base).commit.sha
    head_sha = _branch_sha(repo, BRANCH)
    if head_sha is None:
        repo.create_git_ref(f"refs/heads/{BRANCH}", base_sha)
    elif _touched_by_others(repo, base_sha, head_sha, bot_login):
        existing = _find(repo)
        return SetupResult(
            existing, False, [], f"someone pushed to {BRANCH}: forkvet no longer updates it"
        )
    changed = []
    for path, content in files.items():
        try:
            current = repo.get_contents(path, ref=BRANCH)
        except GithubException as exc:
            if exc.status != 404:
                raise
            current = None
        if current is None or isinstance(current, list):
            repo.create_file(path, f"forkvet: add {path}", content, branch=BRANCH)
            changed.append(path)
        elif current.decoded_content.decode("utf-8", "replace") != content:
            repo.update_file(path, f"forkvet: update {path}", content, current.sha, branch=BRANCH)
            changed.append(path)
    pull = _find(repo)
    if pull is None:
        pull = repo.create_pull(title=TITLE, body=body, head=BRANCH, base=base)
        return SetupResult(pull, True, changed)
    if pull.body != body and pull.state == "open":
        pull.edit(body=body)
    return SetupResult(pull, False, changed)


def _find(repo: Repository) -> PullRequest | None:
    owner = repo.owner.login
    for pull in repo.get_pulls(state="all", head=f"{owner}:{BRANCH}"):
        return pull
    return None
