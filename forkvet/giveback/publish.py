"""Opening upstream pull requests and thank-you issues — only with a user's token (the App's
installation token cannot write to repositories it is not installed on), deduplicated,
capped per upstream, and never re-opening what a maintainer closed."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from github import Github, GithubException
from github.Repository import Repository

from forkvet.errors import InputError
from forkvet.escape import title as plain_title
from forkvet.gitrun import run_git
from forkvet.giveback.drafts import Draft
from forkvet.giveback.gitops import FORK_REF, UPSTREAM_REF, default_branch, git

THANKS_MARKER = "<!-- forkvet:thanks -->"

# What a push to GitHub may run, or what another CI service runs on a push: a branch forkvet
# pushes never changes one of these from the fork's default branch unless the fix itself does.
CI_FOLDERS = (
    ".github/workflows/",
    ".github/actions/",
    ".circleci/",
    ".buildkite/",
    ".azure-pipelines/",
    ".woodpecker/",
    ".gitlab/",
    ".teamcity/",
)
CI_FILES = frozenset(
    {
        ".gitlab-ci.yml",
        ".travis.yml",
        "azure-pipelines.yml",
        "jenkinsfile",
        ".drone.yml",
        "bitbucket-pipelines.yml",
        "appveyor.yml",
        ".appveyor.yml",
        "cloudbuild.yaml",
        "cloudbuild.yml",
        ".woodpecker.yml",
        ".cirrus.yml",
        "codemagic.yaml",
        "buildspec.yml",
    }
)


class UnsafeBranch(InputError):
    """A branch forkvet will not push to the fork: it would bring the fork more than the fix."""


def is_ci_path(path: str) -> bool:
    low = path.lower()
    return low.startswith(CI_FOLDERS) or low in CI_FILES


def fork_default(repo_dir: Path, remote_url: str, token: str | None) -> str:
    """The fork's default branch as the remote to push to has it now, fetched into FORK_REF:
    what the guard in push_branch measures a branch against."""
    probe = run_git(["ls-remote", "--symref", "--", remote_url, "HEAD"], repo=repo_dir, token=token)
    if probe.returncode != 0 or not probe.stdout.strip():
        raise InputError("cannot read the fork's default branch from the push URL")
    _, source = default_branch(probe.stdout)
    fetch = run_git(
        ["fetch", "-q", "--no-tags", "--", remote_url, f"+{source}:{FORK_REF}"],
        repo=repo_dir,
        token=token,
        timeout=300,
    )
    if fetch.returncode != 0:
        raise InputError("cannot fetch the fork's default branch from the push URL")
    return git(repo_dir, "rev-parse", "--verify", "-q", f"{FORK_REF}^{{commit}}").stdout.strip()


def check_branch(repo_dir: Path, branch: str, fork_ref: str, fixes: list[str]) -> None:
    """Refuse (UnsafeBranch, with what to do) a branch that would bring the fork anything its
    default branch (fork_ref) does not already have, except the fix commits: its commits that
    are not ancestors of fork_ref must be exactly one cherry-pick per fix, in a line, changing
    only the files the fixes change; and against fork_ref it may add or change a file only
    where a fix changes it and the fork has not changed it since the branch's start — any
    file, not only CI files: a push runs the fork's workflows on the branch's tree, and they
    run its scripts (round 22c F6: an old script the fork had fixed came back; 23c F1: a
    removed step of a workflow the fix changes). Files the branch lacks (the fork added them
    later) run nothing and are fine."""
    ref = f"refs/heads/{branch}"
    new = git(repo_dir, "rev-list", ref, f"^{fork_ref}", "--").stdout.split()
    merges = git(repo_dir, "rev-list", "--merges", ref, f"^{fork_ref}", "--").stdout.split()
    fixed: set[str] = set()
    for sha in fixes:
        out = git(
            repo_dir,
            "diff-tree",
            "-r",
            "-m",
            "-z",
            "--no-renames",
            "--no-commit-id",
            "--name-only",
            sha,
            "--",
        )
        fixed.update(p for p in out.stdout.split("\0") if p)
    head = git(repo_dir, "rev-parse", "--verify", "-q", f"{fork_ref}^{{commit}}").stdout.strip()
    start = git(repo_dir, "merge-base", UPSTREAM_REF, head, check=False).stdout.strip()
    how = (
        "To send it anyway, make the branch yourself at the newest upstream commit your fork "
        "has, read what a push of it would run, and push it only if you accept that:\n"
        f"  git switch -C {branch} {start[:12] or '$(git merge-base UPSTREAM DEFAULT-BRANCH)'}\n"
        f"  git cherry-pick -x {' '.join(s[:12] for s in fixes)}\n"
        f"  git diff {head[:12]} {branch} -- .github   # what a push runs on your runners\n"
        f"  git push origin {branch}"
    )
    if len(new) != len(fixes) or merges:
        raise UnsafeBranch(
            f"forkvet did not push {branch}: it holds {len(new)} commit(s) your fork's default "
            f"branch does not have, where only the {len(fixes)} fix commit(s) may be new "
            f"(a push runs the workflows a branch holds, with your fork's secrets). If your "
            f"checkout has commits the fork's default branch lacks (a local merge of "
            f"upstream), push or drop them first.\n{how}"
        )
    start = f"{ref}~{len(new)}"
    if new:
        changed = _differing(repo_dir, start, ref)
        extra = sorted(changed - fixed)
        if extra:
            raise UnsafeBranch(
                f"forkvet did not push {branch}: its new commits change files the fixes do not "
                f"({', '.join(extra[:5])}).\n{how}"
            )
    # -z: paths exactly as stored (never quoted), in (status, path) pairs.
    diff = git(
        repo_dir,
        "diff",
        "--no-ext-diff",
        "--no-renames",
        "-z",
        "--name-status",
        fork_ref,
        ref,
        "--",
    ).stdout.split("\0")
    # A file the fixes change may differ only where the fork still holds the branch's start
    # version (the fix is not in the fork yet): the branch holds it as the fork point had it
    # plus the fix, so where the fork changed it otherwise (before or after the fix), the push
    # brings the old version back (outside attack, round 23c F1: a workflow step the fork had
    # removed came back with a fix to the same workflow).
    forks_own = _differing(repo_dir, start, fork_ref, fixed) if new else set()
    other = [
        path
        for status, path in zip(diff[0::2], diff[1::2], strict=False)
        if status[:1] != "D" and (path not in fixed or path in forks_own)
    ]
    if other:
        what = "CI files" if any(is_ci_path(p) for p in other) else "files"
        raise UnsafeBranch(
            f"forkvet did not push {branch}: it would add or change {what} your fork's "
            f"default branch has otherwise ({', '.join(sorted(other)[:5])}), and a push runs "
            f"the workflows a branch holds on its files, with your fork's secrets. The branch "
            f"starts at the newest upstream commit your fork has, and your fork has changed "
            f"or removed these since.\n{how}"
        )


def _differing(repo_dir: Path, a: str, b: str, paths: set[str] | None = None) -> set[str]:
    """The paths (among `paths`; None: all) whose content differs between commits a and b."""
    if paths is not None and not paths:
        return set()
    limit = [":(literal)" + p for p in sorted(paths)] if paths is not None else []
    out = git(
        repo_dir, "diff", "--no-ext-diff", "--no-renames", "-z", "--name-only", a, b, "--", *limit
    )
    return {p for p in out.stdout.split("\0") if p}


def push_branch(
    repo_dir: Path, remote_url: str, branch: str, token: str, fork_ref: str, fixes: list[str]
) -> None:
    """Push branch to the fork, only after check_branch passes against the fork's default
    branch (fork_ref): every path that pushes to a fork goes through here."""
    if remote_url.startswith("-"):
        raise InputError(f"push URL {remote_url!r} is not a repository")
    check_branch(repo_dir, branch, fork_ref, fixes)
    # The token goes to git through its environment (GIT_CONFIG_*), never its command line.
    proc = run_git(
        ["push", "-q", "--force", "--", remote_url, f"refs/heads/{branch}:refs/heads/{branch}"],
        repo=repo_dir,
        token=token,
        timeout=300,
    )
    if proc.returncode != 0:
        raise PermissionError(
            f"push to the fork failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}"
        )


def _by_me(pull: Any, me: str) -> bool:
    return bool(pull.user and pull.user.login.lower() == me.lower())


def upstream_counts(upstream: Repository, me: str, now: datetime) -> tuple[int, int]:
    """(open, opened in the last hour): the pull requests `me` (the token's user) has on
    `upstream`, whatever fork or branch each came from. The caps are the token's: N forks of
    one upstream share them (round 17c F1), and a pull request a person opened by hand with
    the same token counts too."""
    open_now = sum(_by_me(p, me) for p in upstream.get_pulls(state="open"))
    cutoff = now - timedelta(hours=1)
    recent = 0
    newest: datetime | None = None
    ordered = True
    for p in upstream.get_pulls(state="all", sort="created", direction="desc"):
        created = p.created_at
        if created is None:
            recent += _by_me(p, me)  # unknown age: counted, never assumed old
            continue
        # The listing is newest first; a page that is not (an API that ignored the sort) is
        # read to the end instead of stopping early, so the count never comes out low.
        if newest is not None and created > newest:
            ordered = False
        newest = created
        if created > cutoff:
            recent += _by_me(p, me)
        elif ordered:
            break
    return open_now, recent


def open_pull(
    gh: Github,
    upstream_name: str,
    fork_name: str,
    draft: Draft,
    base: str,
    max_per_hour: int,
    max_open: int,
    lock: AbstractContextManager[object] | None = None,
) -> Draft:
    """Open (or update) the draft's pull request on upstream with the user's token, within
    the caps counted over every pull request that token's user has on upstream. `lock`
    (the App's, per upstream) is held from the count to the opening, so two forks' jobs
    running at once cannot both take the last slot."""
    upstream = gh.get_repo(upstream_name)
    fork_owner = fork_name.split("/")[0]
    head = f"{fork_owner}:{draft.branch}"
    existing = list(upstream.get_pulls(state="all", head=head))
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
    me = gh.get_user().login
    with lock or nullcontext():
        open_now, recent = upstream_counts(upstream, me, datetime.now(UTC))
        if recent >= max_per_hour or open_now >= max_open:
            draft.status = "capped"
            draft.message = (
                f"not opened: {open_now} open and {recent} opened in the last hour on "
                f"{upstream_name} by {me}, from any fork (caps {max_open} open, "
                f"{max_per_hour}/hour)"
            )
            return draft
        # Every title sent with the user's token is a title escaped as one (escape.title).
        pull = upstream.create_pull(
            title=plain_title(draft.title, 256), body=draft.body, head=head, base=base
        )
    draft.status, draft.url = "opened", pull.html_url
    return draft


def thank(
    gh: Github,
    upstream_name: str,
    title: str,
    body: str,
    lock: AbstractContextManager[object] | None = None,
) -> tuple[str, str | None]:
    """(status, url): opened | exists | archived | issues-disabled. One thank-you per upstream
    and token user, whatever fork asks: `lock` (the App's, per upstream) is held from the
    look-up to the opening."""
    upstream = gh.get_repo(upstream_name)
    if upstream.archived:
        return "archived", None
    if not upstream.has_issues:
        return "issues-disabled", None
    me = gh.get_user().login
    with lock or nullcontext():
        for issue in upstream.get_issues(state="all", creator=me):  # type: ignore[arg-type]
            if THANKS_MARKER in (issue.body or ""):
                return "exists", issue.html_url
        try:
            issue = upstream.create_issue(
                title=plain_title(title, 256), body=f"{THANKS_MARKER}\n{body}"
            )
        except GithubException as exc:
            if exc.status in (403, 410):
                return "issues-disabled", None
            raise
    return "opened", issue.html_url
