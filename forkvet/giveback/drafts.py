"""Upstream pull requests: a branch per fix from the fork point (the newest upstream commit the
fork already has), cherry-picked with -x and a Co-authored-by trailer, and a drafted pull
request with a ready compare link."""

from __future__ import annotations

import shlex
import tempfile
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from forkvet import fstree, rx
from forkvet.escape import md_code, md_inline
from forkvet.escape import title as plain_title
from forkvet.giveback.classify import classify
from forkvet.giveback.gitops import UPSTREAM_REF, Commit, fork_commits, git, merge_base


@dataclass
class Draft:
    commits: list[str]
    branch: str
    title: str
    body: str
    compare_url: str | None
    # drafted | conflict | refused | opened | updated | merged | closed-by-maintainer | capped
    status: str
    message: str = ""
    url: str | None = None


@dataclass
class UpstreamResult:
    upstream: str
    base_branch: str
    commits: list[dict[str, Any]] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "base_branch": self.base_branch,
            "commits": self.commits,
            "drafts": [asdict(d) for d in self.drafts],
        }


def slug(subject: str) -> str:
    words = rx.sub(r"[^a-z0-9]+", "-", subject.lower()).strip("-")
    return words[:40].rstrip("-") or "change"


def branch_name(commit: Commit) -> str:
    return f"forkvet/fix-{commit.sha[:7]}-{slug(commit.subject)}"


def github_slug(url: str) -> tuple[str, str] | None:
    """(host, owner/repo) of a GitHub-style remote URL, or None for local paths."""
    m = rx.match(r"^(?:https?://|ssh://git@|git@)([^/:]+)[/:]([\w.-]+/[\w.-]+?)(?:\.git)?/?$", url)
    return (m.group(1), m.group(2)) if m else None


def compare_url(
    upstream: str, base: str, fork_owner: str | None, branch: str, title: str, body: str
) -> str | None:
    found = github_slug(upstream)
    if not found or not fork_owner:
        return None
    host, full = found
    query = urllib.parse.urlencode({"expand": "1", "title": title, "body": body[:4000]})
    return f"https://{host}/{full}/compare/{base}...{fork_owner}:{branch}?{query}"


def pr_text(commits: list[Commit], evidence: str | None = None) -> tuple[str, str]:
    title = (
        commits[0].subject
        if len(commits) == 1
        else f"Fixes from a fork: {', '.join(c.subject for c in commits[:2])}"
    )
    parts = ["This pull request sends back fixes made in a fork while building on this work.", ""]
    for c in commits:
        # The commit message is shown as written, but cannot mention anyone upstream, link
        # or embed anything: each line is escaped text inside a quote.
        body = [f"> {md_inline(line, limit=1000)}" for line in c.body.splitlines()]
        parts += [
            f"### {md_inline(c.subject)}",
            "",
            *(body or ["(no further description)"]),
            "",
            f"Files: {', '.join(md_code(p) for _, p in c.files[:10])}",
            "",
        ]
    if evidence:
        parts += ["### Evidence", "", evidence, ""]
    parts += ["Thank you for publishing this code.", "", "<sub>Drafted with forkvet.</sub>"]
    # A title is shown raw on GitHub (and in the compare link): escaped for a title.
    return plain_title(title, 200), "\n".join(parts)


def _identity(repo: Path) -> tuple[str, str]:
    name = git(repo, "config", "user.name", check=False).stdout.strip() or "forkvet"
    email = (
        git(repo, "config", "user.email", check=False).stdout.strip()
        or "forkvet@users.noreply.github.com"
    )
    return name, email


def make_branch(
    repo: Path,
    commits: list[Commit],
    branch: str,
    upstream: str = "UPSTREAM_URL",
    base: str = "main",
    keep: bool = True,
    start: str | None = None,
) -> tuple[bool, str]:
    """Create `branch` with the commits cherry-picked (-x, Co-authored-by), in a temporary
    worktree so the user's checkout is untouched. On a conflict, abort cleanly and return the
    exact commands to finish by hand. keep=False (a dry run) tries the same on a detached
    worktree: no branch is made, none is replaced.

    The branch starts at `start`, the fork point: the newest upstream commit the fork already
    has (the merge base), never upstream's current branch. The branch is pushed to the fork,
    and a push runs the workflows the pushed commits hold, with the fork's secrets: a branch on
    upstream's tip would carry whatever upstream added since (a new `.github/workflows/` job)
    into the fork unreviewed (round 16c). A pull request from the fork point to upstream's
    branch shows the fix alone. The fix is also tried, detached, on upstream's current branch:
    one that no longer applies there is a conflict, as before."""
    name, email = _identity(repo)
    env = {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    start = start or merge_base(repo)
    shas = " ".join(x.sha[:12] for x in commits)
    tip = git(repo, "rev-parse", "--verify", "-q", f"{UPSTREAM_REF}^{{commit}}").stdout.strip()
    if tip != start:
        failed = _pick(repo, UPSTREAM_REF, commits, None, email, env)
        if failed:
            return False, (
                f"cherry-picking {failed[:12]} onto upstream's {base} conflicts. To finish by "
                f"hand (this branch holds upstream's newer commits, which your fork lacks: read "
                f"`git diff {start[:12]} FETCH_HEAD -- .github` before you push it to your fork, "
                f"where a push runs the workflows it holds):\n"
                f"  git fetch {shlex.quote(upstream)} {shlex.quote(base)}\n"
                f"  git switch -c {branch} FETCH_HEAD\n"
                f"  git cherry-pick -x {shas}\n"
                f"  # resolve the conflicts, then: git add -A && git cherry-pick --continue"
            )
    failed = _pick(repo, start, commits, branch if keep else None, email, env)
    if failed:
        return False, (
            f"{failed[:12]} applies to upstream's {base} but not to {start[:12]}, the newest "
            f"upstream commit this fork has, where forkvet builds the branch (so that it brings "
            f"your fork nothing but the fix). Bring your fork's default branch up to date with "
            f"upstream (reviewing what that brings, `.github/workflows/` included), then run "
            f"forkvet again."
        )
    return True, ""


def _pick(
    repo: Path,
    start: str,
    commits: list[Commit],
    branch: str | None,
    email: str,
    env: dict[str, str],
) -> str | None:
    """Cherry-pick commits onto start in a temporary worktree: on `branch` (created, or
    replaced), or detached when branch is None. The sha that conflicts, or None; nothing
    half-made is left behind."""
    wt = Path(tempfile.mkdtemp(prefix="forkvet-wt-")) / "wt"
    if branch:
        exists = git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False)
        if exists.returncode == 0:
            git(repo, "branch", "-D", branch)
        git(repo, "worktree", "add", "-q", "-b", branch, str(wt), start)
    else:
        git(repo, "worktree", "add", "-q", "--detach", str(wt), start)
    ok = False
    try:
        for c in commits:
            pick = git(wt, "cherry-pick", "-x", c.sha, check=False, env=env)
            if pick.returncode != 0:
                git(wt, "cherry-pick", "--abort", check=False)
                return c.sha
            if c.author_email != email:
                msg = git(wt, "log", "-1", "--format=%B").stdout.rstrip()
                trailer = f"Co-authored-by: {c.author_name} <{c.author_email}>"
                if trailer not in msg:
                    git(wt, "commit", "-q", "--amend", "-m", f"{msg}\n{trailer}", env=env)
        ok = True
        return None
    finally:
        git(repo, "worktree", "remove", "--force", str(wt), check=False)
        fstree.remove_tree(wt.parent)
        if branch and not ok:
            git(repo, "branch", "-D", branch, check=False)


# Pull requests drafted per run (a branch each): a maintainer reviews a few fixes at a time,
# and a fork whose history is all "fix:" commits must not make thousands of branches.
MAX_DRAFTS = 20


def _capped(c: Commit) -> Draft:
    return Draft(
        [c.sha],
        "",
        plain_title(c.subject, 200),
        "",
        None,
        "capped",
        f"not drafted: forkvet drafts at most {MAX_DRAFTS} pull requests a run; send the ones "
        "you want with --commits SHA ...",
    )


_SHA = rx.compile(r"[0-9a-fA-F]{7,40}")


def not_a_sha(words: list[str]) -> str | None:
    """The first word that cannot name a commit (a sha or its prefix of 7 to 40 hex digits),
    or None: checked before anything is cloned, so a wrong word is named at once."""
    return next((w for w in words if not _SHA.fullmatch(w)), None)


class UnknownCommit(LookupError):
    """A chosen sha (or word) names none of the fork's commits that upstream lacks."""


def _chosen_commits(repo: Path, chosen: list[str], by_prefix: dict[str, Commit]) -> list[Commit]:
    """The fork commits each chosen sha (or prefix) names; a merge commit (a pull request
    merged with one) names the commits it brought in. UnknownCommit for one that names none."""
    picked: list[Commit] = []
    for want in chosen:
        if not _SHA.fullmatch(want):  # a sha or its prefix of 7 or more: `a` names no commit
            raise UnknownCommit(want)
        match = [c for sha, c in by_prefix.items() if sha.startswith(want.lower())]
        if match:
            picked.append(match[0])
            continue
        merged = [by_prefix[sha] for sha in _merged_in(repo, want) if sha in by_prefix]
        if not merged:
            raise UnknownCommit(want)
        picked += merged
    return picked


def _merged_in(repo: Path, want: str) -> list[str]:
    """The non-merge commits a merge commit `want` brought in (its second parent's side),
    oldest first; [] when `want` is no merge commit of this repository."""
    if not _SHA.fullmatch(want):
        return []
    parents = git(repo, "rev-list", "--parents", "-n", "1", want, "--", check=False).stdout.split()
    if len(parents) < 3:
        return []
    side = git(repo, "rev-list", "--reverse", "--no-merges", f"{parents[1]}..{parents[0]}", "--")
    return side.stdout.split()


def plan(
    repo: Path,
    upstream: str,
    base: str,
    chosen: list[str] | None,
    fork_owner: str | None,
    evidence: str | None = None,
    keep: bool = True,
    compare_upstream: str | None = None,
) -> UpstreamResult:
    """keep=False: a dry run (no branch is left). compare_upstream: the upstream's GitHub URL
    for the compare link when `upstream` itself is not one (a local mirror)."""
    result = UpstreamResult(upstream, base)
    commits = fork_commits(repo)
    if not commits:
        return result
    start = merge_base(repo)  # the fork point: every branch starts there
    by_prefix = {c.sha: c for c in commits}
    picked: list[Commit] = []
    for c in commits:
        diff = git(repo, "show", "--no-ext-diff", "--no-textconv", "--format=", c.sha).stdout[
            :20000
        ]
        kind, reason = classify(c, diff)
        result.commits.append(
            {"sha": c.sha, "subject": c.subject, "classification": kind, "reason": reason}
        )
        if chosen is None and kind == "fix":
            picked.append(c)
    if chosen is not None:
        picked = _chosen_commits(repo, chosen, by_prefix)
    drafted = 0
    for c in picked:
        row = next(r for r in result.commits if r["sha"] == c.sha)
        if row["classification"] == "already-upstream":
            continue
        if drafted == MAX_DRAFTS:
            result.drafts.append(_capped(c))
            continue
        drafted += 1
        branch = branch_name(c)
        title, body = pr_text([c], evidence)
        ok, message = make_branch(repo, [c], branch, upstream, base, keep, start)
        link = compare_url(compare_upstream or upstream, base, fork_owner, branch, title, body)
        if ok and link is None:
            missing = [] if fork_owner else ["--fork-owner OWNER"]
            if not github_slug(compare_upstream or upstream):
                missing.append("--upstream-repo OWNER/NAME (the upstream is not a GitHub URL)")
            message = "no compare link: pass " + " and ".join(missing)
        if ok and not keep:
            message = "\n".join(x for x in ("dry run: no branch was kept", message) if x)
        result.drafts.append(
            Draft([c.sha], branch, title, body, link, "drafted" if ok else "conflict", message)
        )
    return result
