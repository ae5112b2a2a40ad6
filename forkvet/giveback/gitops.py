"""The git work of giving back, with real git: the fork's commits that upstream lacks."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from forkvet import rx
from forkvet.errors import InputError
from forkvet.gitrun import run_git

UPSTREAM_REF = "refs/forkvet/upstream"
# The fork's default branch as its remote has it now (fetched before forkvet pushes there).
FORK_REF = "refs/forkvet/fork"

_SCP = rx.compile(r"^[\w.-]+@[A-Za-z0-9][\w.-]*:[^\s]")
_OWNER_NAME = rx.compile(r"^[A-Za-z0-9][\w.-]*/[\w][\w.-]*$")
_CONTROL = rx.compile(r"[\x00-\x1f\x7f]")


def remote_arg(value: str, what: str = "--upstream", web_host: str = "github.com") -> str:
    """A repository to fetch from or push to, as git will be given it: an existing folder
    (made absolute), an https://, ssh:// or file:// URL, `user@host:path`, or OWNER/NAME (on
    web_host). Anything else — above all a value starting with `-`, which git would read as
    an option (`--upload-pack=CMD` runs CMD) — is an input error (exit 2). git is also given
    every such value after `--`, so this is the first of two walls, not the only one."""
    if not value or value.startswith("-") or _CONTROL.search(value):
        raise InputError(
            f"{what} {value!r} is not a repository: give a folder, an https://, ssh:// or "
            f"file:// URL, user@host:path or OWNER/NAME (never a value starting with '-')"
        )
    path = Path(value).expanduser()
    if path.exists():
        return str(path.absolute())
    if "://" in value:
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.scheme in ("https", "ssh") and rx.fullmatch(r"[A-Za-z0-9][\w.-]*", host):
            return value
        if parts.scheme == "file" and not host and parts.path.startswith("/"):
            return value
    elif _SCP.match(value):
        return value
    elif _OWNER_NAME.match(value) and value.split("/")[1] not in (".", ".."):
        return f"https://{web_host}/{value.removesuffix('.git')}.git"
    raise InputError(
        f"{what} {value} cannot be reached: it is no existing folder, nor an https://, ssh:// "
        f"or file:// URL, user@host:path or OWNER/NAME"
    )


def git(
    repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = run_git(list(args), repo=repo, env=env)
    if check and proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise InputError(f"git {args[0]} failed: {lines[-1] if lines else proc.returncode}")
    return proc


def _blob(repo: Path, commit: str, path: str) -> str | None:
    """The blob id of `path` in `commit`, or None where the commit has no such file."""
    proc = git(repo, "rev-parse", "--verify", "-q", f"{commit}:{path}", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def set_in_fork(repo: Path, path: str, head: str = "HEAD", upstream: str = UPSTREAM_REF) -> bool:
    """Whether the fork's own commits wrote `path` as it is at `head` (round 19c A4): a fork
    starts as a copy of the upstream's files, so a file the fork never changed is the
    UPSTREAM's word, not the fork owner's. True only when the file exists at `head` and its
    content differs from the fork point's (the merge base with `upstream`, fetched first)
    and from the upstream's current one (a fork that synced upstream has its file too). No
    shared history: nothing can be told apart, so False (fail closed)."""
    mine = _blob(repo, head, path)
    point = git(repo, "merge-base", head, upstream, check=False)
    if mine is None or point.returncode != 0 or not point.stdout.strip():
        return False
    return mine not in (_blob(repo, point.stdout.strip(), path), _blob(repo, upstream, path))


@dataclass
class Commit:
    sha: str
    subject: str
    body: str
    author_name: str
    author_email: str
    files: list[tuple[str, str]]  # (status A/M/D/R, path)
    insertions: int
    deletions: int
    already_upstream: bool = False


def fetch_upstream(repo: Path, upstream: str) -> str:
    """Fetch upstream's default branch into UPSTREAM_REF; return its name."""
    if (
        not (repo / ".git").exists()
        and git(repo, "rev-parse", "--git-dir", check=False).returncode != 0
    ):
        raise InputError(f"{repo} is not a git repository")
    if upstream.startswith("-"):  # callers check with remote_arg; never a git option here
        raise InputError(f"upstream {upstream!r} is not a repository")
    probe = git(repo, "ls-remote", "--symref", "--", upstream, "HEAD", check=False)
    if probe.returncode != 0:
        raise InputError(
            f"upstream {upstream} cannot be reached (deleted, private, or a typo?)"
            + (f": {_git_reason(probe.stderr)}" if _git_reason(probe.stderr) else "")
        )
    branch, source = default_branch(probe.stdout)
    git(repo, "fetch", "-q", "--no-tags", "--", upstream, f"+{source}:{UPSTREAM_REF}")
    return branch


def default_branch(ls_remote: str) -> tuple[str, str]:
    """The upstream's default branch from `git ls-remote --symref UPSTREAM HEAD`, and the ref to
    fetch for it: HEAD's branch (`master` as often as `main` in research code); a checkout
    with a detached HEAD (a local upstream) has no such line, so its HEAD commit is fetched and
    named after the branch its clone came from (refs/remotes/origin/HEAD), else `main`."""
    symrefs = {}
    for line in ls_remote.splitlines():
        if line.startswith("ref: ") and "\t" in line:
            target, name = line.removeprefix("ref: ").split("\t", 1)
            symrefs[name] = target
    if symrefs.get("HEAD", "").startswith("refs/heads/"):
        return symrefs["HEAD"].removeprefix("refs/heads/"), symrefs["HEAD"]
    origin = symrefs.get("refs/remotes/origin/HEAD", "")
    return (origin.removeprefix("refs/remotes/origin/") or "main"), "HEAD"


def _git_reason(stderr: str) -> str:
    """git's own reason in one line: its first `fatal:` line (the lines after it are advice,
    such as "...and the repository exists."), else its first line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("fatal:")]
    return (fatal or lines or [""])[0].removeprefix("fatal:").strip()[:200]


# Fork commits read per run, newest first: each costs three git calls, and a fork of
# thousands of commits is a rewrite, not fixes to send upstream one by one.
MAX_FORK_COMMITS = 500


def fork_commits(repo: Path, head: str = "HEAD") -> list[Commit]:
    """Commits on head that upstream does not have (the newest MAX_FORK_COMMITS), oldest
    first; patch-equivalent commits already applied upstream are marked (git cherry)."""
    merge_base(repo, head)
    cherry = git(repo, "cherry", UPSTREAM_REF, head).stdout.split("\n")
    applied = {ln[2:].strip() for ln in cherry if ln.startswith("- ")}
    newest = f"--max-count={MAX_FORK_COMMITS}"
    shas = git(repo, "rev-list", newest, "--no-merges", f"{UPSTREAM_REF}..{head}").stdout.split()
    shas.reverse()
    out = []
    for sha in shas:
        meta = git(repo, "show", "-s", "--format=%s%x00%b%x00%an%x00%ae", sha).stdout
        subject, body, name, email = ([*meta.rstrip("\n").split("\x00"), "", "", "", ""])[:4]
        status = git(repo, "show", "--format=", "--name-status", "-M", sha).stdout
        files = []
        for line in status.splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                files.append((parts[0][0], parts[-1]))
        stat = git(repo, "show", "--format=", "--numstat", sha).stdout
        ins = dels = 0
        for line in stat.splitlines():
            a, d, *_ = line.split("\t")
            ins += int(a) if a.isdigit() else 0
            dels += int(d) if d.isdigit() else 0
        out.append(
            Commit(sha, subject, body.strip(), name, email, files, ins, dels, sha in applied)
        )
    return out


def merge_base(repo: Path, head: str = "HEAD") -> str:
    """The commit the fork left upstream at; an input error when they share no history (git
    merge-base's only answer then is exit code 1)."""
    proc = git(repo, "merge-base", UPSTREAM_REF, head, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise InputError("the upstream is not an ancestor of this fork: they share no history")
    return proc.stdout.strip()


def changed_files(repo: Path, head: str = "HEAD") -> list[tuple[str, str]]:
    """(status, path) changed in the fork since it left upstream (Apache-2.0 §4(b))."""
    base = merge_base(repo, head)
    out = git(repo, "diff", "--name-status", "-M", base, head).stdout
    return [(ln.split("\t")[0][0], ln.split("\t")[-1]) for ln in out.splitlines() if "\t" in ln]
