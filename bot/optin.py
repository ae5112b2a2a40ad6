"""Whether the fork's own commits wrote its opt-in file (round 21c F2).

Round 19c A4 compared the file's blob at the fork's head with the fork point's (the merge
base with the upstream) and the upstream's head's. Both points are the upstream's to choose:
an upstream that commits an opt-in, lets forks copy it and then rewinds its branch (or makes
an older branch its default) leaves a file that is neither, and it counted as the fork's own.
What the upstream cannot rewrite is GitHub's record of the pushes to the FORK (the
repository activity API): the file's last change counts as the fork's only when a push to the
fork's default branch brought that commit in — the commit is an ancestor of the push's
`after` and not of its `before` (by ancestry in the fork's clone, never by content) — and no
push to the upstream ever brought it (a fork that synced the upstream's opt-in before the
upstream rewound it pushed the upstream's commit). A copy the fork began as was never pushed
to it. Anything that cannot be decided — the API refuses, the upstream's record is longer
than we read, a `before` the clone lacks, a branch created by a push — counts as not the
fork's (fail closed: drafts only).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from github import GithubException

from forkvet.giveback.gitops import git

if TYPE_CHECKING:
    from github.Repository import Repository

log = logging.getLogger("forkvet.app")

MAX_PAGES = 10  # of 100 pushes each: a longer record is not read (fail closed)
_BRINGS = frozenset({"push", "force_push", "pr_merge", "merge_queue_merge"})
_NO_COMMIT = "0" * 40


def pushed_to_fork(
    repo: Repository, dest: Path, path: str, upstream: Repository | None = None
) -> bool:
    """Whether the commit that last changed `path` at the clone's HEAD came in by a push to
    the fork's default branch (GitHub's record), not with the copy the fork began as — and,
    with `upstream`, by no push to the upstream (a fork that synced the upstream's commit
    before the upstream rewound it pushed the upstream's words): the upstream's whole record
    must be read for that, else nothing is the fork's."""
    last = git(dest, "log", "-1", "--format=%H", "HEAD", "--", path, check=False)
    commit = last.stdout.strip() if last.returncode == 0 else ""
    mine = _pushes(repo, f"refs/heads/{repo.default_branch}") or []
    if not commit or not _brought(dest, commit, mine):
        return False
    if upstream is None:
        return True
    theirs = _pushes(upstream, None, whole=True)
    if theirs is None or any(
        _ancestor(dest, commit, str(push.get("after") or "")) for push in theirs
    ):
        return False
    return _published(dest, commit, str(getattr(upstream, "clone_url", "") or "")) is False


# Round 22c F3: the upstream's record of pushes lists branch pushes only. An opt-in committed
# upstream and reachable only from a tag (a release the fork merged), a pull request's ref or
# a branch never pushed through the API's record counted as the fork's. Every ref the upstream
# publishes is read: a commit any of them reaches is the upstream's words.
MAX_UPSTREAM_REFS = 20_000
_MIRROR = "refs/forkvet-upstream/"
# what is read (a pull request's merge ref holds its head), and where it is fetched to
_SPECS = (
    ("refs/heads/", "+refs/heads/*:" + _MIRROR + "heads/*"),
    ("refs/tags/", "+refs/tags/*:" + _MIRROR + "tags/*"),
    ("refs/pull/", "+refs/pull/*/head:" + _MIRROR + "pull/*"),
)


def _counted(name: str) -> bool:
    if name.startswith("refs/pull/"):
        return name.endswith("/head")
    return name.startswith(("refs/heads/", "refs/tags/")) and not name.endswith("^{}")


def _published(dest: Path, commit: str, upstream_url: str) -> bool | None:
    """Whether a branch, tag or pull request ref the upstream publishes reaches `commit`
    (fetched into the clone under _MIRROR); None when that cannot be told (the upstream
    unreachable, more refs than MAX_UPSTREAM_REFS, a fetch that fails): the caller fails
    closed."""
    if not upstream_url or upstream_url.startswith("-"):
        return None
    listing = git(dest, "ls-remote", "--", upstream_url, check=False)
    if listing.returncode != 0:
        return None
    names = [line.partition("\t")[2] for line in listing.stdout.splitlines()]
    refs = [name for name in names if _counted(name)]
    if len(refs) > MAX_UPSTREAM_REFS:
        log.info("upstream refs not read", extra={"refs": len(refs)})
        return None
    specs = [spec for prefix, spec in _SPECS if any(r.startswith(prefix) for r in refs)]
    if not specs:
        return False
    fetched = git(
        dest,
        "fetch",
        "-q",
        "--no-tags",
        "--",
        upstream_url,
        *specs,
        check=False,
    )
    if fetched.returncode != 0:
        return None
    reach = git(
        dest,
        "for-each-ref",
        "--count=1",
        "--contains",
        commit,
        "--format=%(refname)",
        _MIRROR,
        check=False,
    )
    if reach.returncode != 0:
        return None
    return bool(reach.stdout.strip())


def _brought(dest: Path, commit: str, pushes: list[dict[str, Any]]) -> bool:
    """Whether one of the pushes brought `commit`: it is an ancestor of the push's `after`
    and not of its `before` (a commit the clone holds; a branch created by a push: no)."""
    for push in pushes:
        before, after = str(push.get("before") or ""), str(push.get("after") or "")
        if push.get("activity_type") not in _BRINGS or not before or before == _NO_COMMIT:
            continue
        brought = _ancestor(dest, commit, after) and _known(dest, before)
        if brought and not _ancestor(dest, commit, before):
            return True
    return False


def _pushes(
    repo: Repository, branch: str | None, whole: bool = False
) -> list[dict[str, Any]] | None:
    """The repository's pushes (to `branch`, or to any), newest first, as far as MAX_PAGES
    reach; None when GitHub does not answer, or with `whole` when the record goes on past
    MAX_PAGES (then what it holds cannot be told)."""
    url = f"{repo.url}/activity"
    first: dict[str, Any] = {"per_page": 100}
    params: dict[str, Any] | None = first if branch is None else {**first, "ref": branch}
    out: list[dict[str, Any]] = []
    try:
        for _ in range(MAX_PAGES):
            headers, data = repo._requester.requestJsonAndCheck("GET", url, parameters=params)
            out += [item for item in data or [] if isinstance(item, dict)]
            more, params = _next(headers), None
            if more is None:
                return out
            url = more
    except GithubException as exc:
        extra = {"repo": repo.full_name, "status": exc.status}
        log.info("repository activity not read", extra=extra)
        return None
    return None if whole else out  # past MAX_PAGES: the newest pushes only


def _next(headers: dict[str, Any]) -> str | None:
    """The `rel="next"` URL of a Link header, or None."""
    for part in str(headers.get("link") or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


def _ancestor(dest: Path, commit: str, of: str) -> bool:
    if not _known(dest, of):
        return False
    return git(dest, "merge-base", "--is-ancestor", commit, of, check=False).returncode == 0


def _known(dest: Path, sha: str) -> bool:
    """A full commit id the clone holds (never an option or a revision expression)."""
    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
        return False
    return git(dest, "cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0
