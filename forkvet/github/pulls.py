"""The setup pull request: one per fork, on forkvet's own branch, updated by forkvet until a
person pushes to that branch — then forkvet stops touching it and says so."""

from __future__ import annotations

from dataclasses import dataclass

from github import GithubException, InputGitTreeElement
from github.PullRequest import PullRequest
from github.Repository import Repository

from forkvet.escape import title as plain_title
from forkvet.redact import redact

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


def _not_ours(
    repo: Repository, base_sha: str, head_sha: str, bot_login: str, ours: set[str]
) -> str | None:
    """Why the branch holds something forkvet did not put there, or None. Every commit past
    the merge base must be the App's (an author GitHub links to no account is someone else)
    and together they may change only the files forkvet writes: a `forkvet/setup` branch an
    upstream shipped, whose commits name the App as author, carries its workflow (round 22c
    F1: the App committed on it, and a push with its token ran that workflow)."""
    comparison = repo.compare(base_sha, head_sha)
    for commit in comparison.commits:
        author = commit.author.login if commit.author else None
        if author != bot_login:
            return f"someone pushed to {BRANCH}: forkvet no longer updates it"
    other = sorted({f.filename for f in comparison.files} - ours)
    if other:
        return (
            f"{BRANCH} changes files forkvet does not write ({', '.join(other[:5])}): forkvet "
            f"no longer updates it; delete the branch to let forkvet make it again"
        )
    return None


def ensure_setup_pr(
    repo: Repository, files: dict[str, str], body: str, bot_login: str
) -> SetupResult:
    # What the App commits to a fork (a public one: to everyone) never holds credentials,
    # whichever file (an SBOM's file URLs joined onto the worker's index URL) carried them.
    files = {path: redact(text) for path, text in files.items()}
    body = redact(body)
    base = repo.default_branch
    base_sha = repo.get_branch(base).commit.sha
    head_sha = _branch_sha(repo, BRANCH)
    if head_sha is None:
        repo.create_git_ref(f"refs/heads/{BRANCH}", base_sha)
    elif why := _not_ours(repo, base_sha, head_sha, bot_login, set(files)):
        return SetupResult(_find(repo), False, [], why)
    changed = [path for path, content in files.items() if _differs(repo, path, content)]
    _rebuild(repo, base_sha, head_sha, files)
    pull = _find(repo)
    if pull is None:
        pull = repo.create_pull(title=plain_title(TITLE), body=body, head=BRANCH, base=base)
        return SetupResult(pull, True, changed)
    if pull.body != body and pull.state == "open":
        pull.edit(body=body)
    return SetupResult(pull, False, changed)


def _differs(repo: Repository, path: str, content: str) -> bool:
    try:
        current = repo.get_contents(path, ref=BRANCH)
    except GithubException as exc:
        if exc.status != 404:
            raise
        return True
    if isinstance(current, list):
        return True
    return current.decoded_content.decode("utf-8", "replace") != content


def _rebuild(repo: Repository, base_sha: str, head_sha: str | None, files: dict[str, str]) -> None:
    """BRANCH's tree becomes, by construction, the default branch's tree plus forkvet's files:
    one commit on the default branch's tip, the branch moved to it (forced), unless its tree
    is that already. An update built on the branch's old tree kept what the default branch
    had deleted since — a workflow a push with the App's token then ran (outside attack,
    round 23c F2, F3: a planted branch cut from an older commit)."""
    parent = repo.get_git_commit(base_sha)
    elements = [
        InputGitTreeElement(path, "100644", "blob", content=text) for path, text in files.items()
    ]
    tree = repo.create_git_tree(elements, parent.tree)
    if head_sha is not None and repo.get_git_commit(head_sha).tree.sha == tree.sha:
        return
    names = ", ".join(files)
    commit = repo.create_git_commit(f"forkvet: set up {names}"[:200], tree, [parent])
    repo.get_git_ref(f"heads/{BRANCH}").edit(commit.sha, force=True)


def _find(repo: Repository) -> PullRequest | None:
    owner = repo.owner.login
    for pull in repo.get_pulls(state="all", head=f"{owner}:{BRANCH}"):
        return pull
    return None
