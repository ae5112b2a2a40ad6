"""`forkvet attribution`, `forkvet upstream`, `forkvet thank`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from forkvet.errors import ForkvetError, InputError

TOKEN_ENV = "FORKVET_USER_TOKEN"


def _upstream(
    value: str | None, what: str = "--upstream", api_url: str | None = None
) -> str | None:
    """A repository git is given (gitops.remote_arg): a local path is relative to where the
    user typed it, not to the fork (git runs inside the fork), made absolute; URLs and
    scp-style remotes pass as they are; OWNER/NAME is on GitHub (or --api-url's host); a
    value starting with `-` is refused (git would read it as an option)."""
    from forkvet.giveback.gitops import remote_arg

    if value is None:
        return None
    return remote_arg(value, what, _web_host(api_url) if api_url else "github.com")


def _thank_upstream(value: str) -> str:
    """`thank` only names its upstream (no git runs on it): any text but an option."""
    if value.startswith("-"):
        raise InputError(f"--upstream {value!r} is not a repository")
    path = Path(value).expanduser()
    return str(path.absolute()) if path.exists() else value


@contextmanager
def _github_errors(api_url: str) -> Iterator[None]:
    """Network and API failures are the user's to fix: one line, exit 2, no traceback."""
    try:
        yield
    except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
        raise ForkvetError(f"cannot reach GitHub at {api_url}: {type(exc).__name__}") from exc
    except Exception as exc:
        from github import GithubException

        if isinstance(exc, GithubException):
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            raise ForkvetError(f"GitHub answered {exc.status}: {message or exc}") from exc
        raise


def _repo(target: str) -> Path:
    path = Path(target)
    if not path.is_dir():
        raise InputError(f"no such directory: {target}")
    return path.resolve()


def cmd_attribution(args: argparse.Namespace) -> int:
    args.upstream = _upstream(args.upstream)
    from forkvet.giveback.attribution import (
        attribution_md,
        needs_notice,
        notice_text,
        upstream_base,
        write,
    )
    from forkvet.giveback.gitops import changed_files, fetch_upstream
    from forkvet.snapshot import load
    from forkvet.vet import vet

    repo = _repo(args.target)
    snap = load(repo)
    report = vet(snap)
    changed = None
    base = None
    if args.upstream:
        fetch_upstream(repo, args.upstream)
        changed = changed_files(repo)
        base = upstream_base(repo)
    md = attribution_md(report, snap, args.upstream, changed, base)
    notice = notice_text(snap) if needs_notice(report, snap) else None
    if args.format == "json":
        sys.stdout.write(
            json.dumps({"attribution": md, "notice": notice, "changed": changed or []}, indent=2)
            + "\n"
        )
    else:
        sys.stdout.write(md if args.format == "markdown" else plain_text(md))
    if args.out:
        write(Path(args.out), md, notice, repo=repo)
    return 0


def plain_text(md: str) -> str:
    """forkvet's own Markdown as terminal text: no heading marks, emphasis, code spans, fences,
    backslash escapes or entities; control characters shown, not obeyed (escape.terminal)."""
    import html

    from forkvet.escape import ZWSP, terminal

    out = []
    fenced = False
    for line in md.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:  # verbatim (BibTeX's own backslashes stay)
            out.append(terminal(line))
            continue
        level = len(line) - len(line.lstrip("#"))
        if 1 <= level <= 6 and line[level : level + 1] == " ":
            line = line[level + 1 :].upper() if level == 1 else line[level + 1 :]
        out.append(terminal(html.unescape(_unmark(line.replace("**", ""))).replace(ZWSP, "")))
    return "\n".join(out) + "\n"


def _unmark(line: str) -> str:
    """Code-span backticks and backslash escapes out of forkvet's own Markdown (str methods:
    the text inside came from a repository)."""
    out = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            out.append(line[i + 1])
            i += 2
            continue
        if ch != "`":
            out.append(ch)
        i += 1
    return "".join(out)


def cmd_upstream(args: argparse.Namespace) -> int:
    args.upstream = _upstream(args.upstream, api_url=args.api_url)
    if args.push_url:
        args.push_url = _upstream(args.push_url, "--push-url", args.api_url)
    from forkvet.giveback.drafts import UnknownCommit, github_slug, plan
    from forkvet.giveback.gitops import fetch_upstream, git

    repo = _repo(args.target)
    from forkvet.giveback.gitops import UPSTREAM_REF

    before = git(repo, "rev-parse", "--verify", "-q", UPSTREAM_REF, check=False).stdout.strip()
    base = fetch_upstream(repo, args.upstream)
    origin = git(repo, "config", "--get", "remote.origin.url", check=False).stdout.strip()
    fork = github_slug(origin)
    fork_owner = args.fork_owner or (fork[1].split("/")[0] if fork else None)
    compare_upstream = (
        f"https://{_web_host(args.api_url)}/{args.upstream_repo}" if args.upstream_repo else None
    )
    try:
        result = plan(
            repo,
            args.upstream,
            base,
            args.commits or None,
            fork_owner,
            args.evidence,
            keep=not args.dry_run,
            compare_upstream=compare_upstream,
        )
    except UnknownCommit as exc:
        raise InputError(f"--commits {exc}: no such commit among the fork's new commits") from exc
    finally:
        if args.dry_run:  # leave the fork's refs as they were
            if before:
                git(repo, "update-ref", UPSTREAM_REF, before, check=False)
            else:
                git(repo, "update-ref", "-d", UPSTREAM_REF, check=False)
    if not result.commits:
        raise InputError("the fork has no commits that upstream lacks: nothing to send")
    token = os.environ.get(TOKEN_ENV)
    if args.open and not args.dry_run:
        if not token:
            raise InputError(
                f"--open needs a user token in {TOKEN_ENV} (the App's token cannot "
                f"write upstream); without it forkvet only drafts"
            )
        with _github_errors(args.api_url):
            _open(args, repo, origin, result, base, token)
    data = result.to_dict()
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(_text(data))
    return 1 if any(d["status"] in ("conflict", "refused") for d in data["drafts"]) else 0


def _web_host(api_url: str) -> str:
    """github.com for api.github.com; a GitHub Enterprise Server's own host otherwise."""
    from urllib.parse import urlsplit

    host = urlsplit(api_url).hostname or "github.com"
    return "github.com" if host == "api.github.com" else host


def _open(
    args: argparse.Namespace, repo: Path, origin: str, result: Any, base: str, token: str
) -> None:
    from forkvet.extras import require
    from forkvet.giveback.drafts import github_slug

    require("github")  # PyGithub: pip install 'forkvet[runtime]'
    from forkvet.github.client import user_client
    from forkvet.giveback.publish import UnsafeBranch, fork_default, open_pull, push_branch

    up = github_slug(args.upstream)
    fork = github_slug(origin)
    upstream_name = args.upstream_repo or (up[1] if up else None)
    fork_name = args.fork_repo or (fork[1] if fork else None)
    if not upstream_name or not fork_name:
        raise InputError("--open needs GitHub remotes (or --upstream-repo and --fork-repo)")
    gh = user_client(token, args.api_url)
    remote = args.push_url or origin
    if not remote or remote.startswith("-"):
        raise InputError("--open needs the fork's remote: an origin, or --push-url")
    fork_ref = None
    for draft in result.drafts:
        if draft.status != "drafted":
            continue
        # Measured against the fork's default branch as the remote has it now, not this
        # checkout's HEAD (which may hold a local merge of upstream).
        fork_ref = fork_ref or fork_default(repo, remote, token)
        try:
            push_branch(repo, remote, draft.branch, token, fork_ref, draft.commits)
        except UnsafeBranch as exc:
            draft.status, draft.message = "refused", str(exc)
            continue
        open_pull(gh, upstream_name, fork_name, draft, base, args.max_per_hour, args.max_open)


def _text(d: dict[str, Any]) -> str:
    lines = [f"forkvet upstream: {len(d['commits'])} fork commit(s) not in {d['upstream']}"]
    for c in d["commits"]:
        lines.append(f"  {c['sha'][:10]} {c['classification']:<16} {c['subject'][:60]}")
        lines.append(f"             {c['reason']}")
    for dr in d["drafts"]:
        lines += ["", f"  [{dr['status']}] {dr['title']}", f"    branch  {dr['branch']}"]
        if dr["compare_url"]:
            lines.append(f"    open it {dr['compare_url'][:300]}")
        if dr["url"]:
            lines.append(f"    pull    {dr['url']}")
        if dr["message"]:
            lines += [f"    {ln}" for ln in dr["message"].splitlines()]
    from forkvet.escape import terminal

    return "\n".join(terminal(line) for line in lines) + "\n"


def thanks_text(report: Any, upstream: str, purpose: str | None) -> tuple[str, str]:
    from forkvet.citing import paper
    from forkvet.escape import md_inline

    c = paper(report.citation)
    title = "Thank you for this work"
    body = [
        f"Hello! I forked {md_inline(upstream)} to build on it"
        + (f" for {md_inline(purpose)}" if purpose else "")
        + ", and wanted to say thank you for "
        "publishing the code.",
        "",
    ]
    # Only the repository's own paper, as agreed with its BibTeX (forkvet.citing).
    if c.title:
        body.append(
            f"We cite *{md_inline(c.title)}*"
            + (f" (arXiv:{md_inline(c.arxiv)})" if c.arxiv else "")
            + " in our work."
        )
    elif c.arxiv:
        body.append(f"We cite your paper (arXiv:{md_inline(c.arxiv)}) in our work.")
    body += ["", "<sub>Sent with forkvet; this message is opt-in and sent once.</sub>"]
    return title, "\n".join(body)


def cmd_thank(args: argparse.Namespace) -> int:
    args.upstream = _thank_upstream(args.upstream)
    from forkvet.config import config_for
    from forkvet.giveback.drafts import github_slug
    from forkvet.snapshot import load
    from forkvet.vet import vet

    repo = _repo(args.target)
    config, _ = config_for(args.config, repo)
    title, body = thanks_text(vet(load(repo)), args.upstream, args.purpose)
    status, url = "drafted", None
    if args.open:
        token = os.environ.get(TOKEN_ENV)
        if not config.upstream.thank_you:
            raise InputError(
                "thank-you issues are opt-in: set upstream.thank_you: true in .github/forkvet.yml"
            )
        if not token:
            raise InputError(f"--open needs a user token in {TOKEN_ENV}")
        from forkvet.extras import require

        require("github")  # PyGithub: pip install 'forkvet[runtime]'
        from forkvet.github.client import user_client
        from forkvet.giveback.publish import thank

        up = github_slug(args.upstream)
        name = args.upstream_repo or (up[1] if up else None)
        if not name:
            raise InputError("--open needs a GitHub upstream URL (or --upstream-repo)")
        with _github_errors(args.api_url):
            status, url = thank(user_client(token, args.api_url), name, title, body)
    data = {"status": status, "url": url, "title": title, "body": body}
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(f"[{status}] {title}\n\n{body}\n" + (f"\n{url}\n" if url else ""))
    return 0


def _register_attribution(sub: Any) -> None:
    a = sub.add_parser("attribution", help="draft ATTRIBUTION.md (and NOTICE) for a fork")
    a.add_argument("target", metavar="TARGET", help="the fork's folder (a git repository)")
    a.add_argument(
        "--upstream",
        metavar="URL_OR_PATH",
        help="the original repository, to list the files the fork changed",
    )
    a.add_argument("--out", metavar="DIR", help="also write ATTRIBUTION.md (and NOTICE) here")
    a.add_argument(
        "--format", choices=("markdown", "text", "json"), default="markdown", help="output format"
    )
    a.set_defaults(func=cmd_attribution)


def _register_upstream(sub: Any) -> None:
    from forkvet.github import DEFAULT_API_URL

    u = sub.add_parser(
        "upstream", help="draft (or open) upstream pull requests for the fork's fixes"
    )
    u.add_argument("target", metavar="TARGET", help="the fork's folder (a git repository)")
    u.add_argument(
        "--upstream", required=True, metavar="URL_OR_PATH", help="the original repository"
    )
    u.add_argument(
        "--commits",
        nargs="+",
        metavar="SHA",
        help="send these commits (default: the ones classified as fixes)",
    )
    u.add_argument(
        "--dry-run",
        action="store_true",
        help="try the cherry-picks but keep no branch or ref, never push or open",
    )
    u.add_argument(
        "--open", action="store_true", help=f"push and open the pull requests (needs {TOKEN_ENV})"
    )
    u.add_argument("--evidence", help="text to add as evidence (smoke/training results)")
    u.add_argument("--fork-owner", help="owner of the fork on GitHub (for the compare link)")
    u.add_argument("--upstream-repo", help="owner/repo of the upstream on GitHub")
    u.add_argument("--fork-repo", help="owner/repo of the fork on GitHub")
    u.add_argument("--push-url", help="where to push the branches (default: origin)")
    u.add_argument("--api-url", default=DEFAULT_API_URL, help="GitHub's API (Enterprise: its own)")
    u.add_argument(
        "--max-per-hour",
        type=int,
        default=2,
        help="pull requests the token's user opened upstream in the last hour, any fork, at most",
    )
    u.add_argument(
        "--max-open",
        type=int,
        default=3,
        help="open pull requests of the token's user upstream, from any fork, at most",
    )
    u.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    u.set_defaults(func=cmd_upstream)


def _register_thank(sub: Any) -> None:
    from forkvet.github import DEFAULT_API_URL

    t = sub.add_parser("thank", help="draft (or open) a thank-you issue upstream")
    t.add_argument("target", metavar="TARGET", help="the fork's folder")
    t.add_argument("--upstream", required=True, metavar="URL", help="the original repository")
    t.add_argument("--purpose", help="what you use the fork for")
    t.add_argument(
        "--open", action="store_true", help=f"open it (opt-in config and {TOKEN_ENV} needed)"
    )
    t.add_argument("--upstream-repo", help="owner/repo of the upstream on GitHub")
    t.add_argument("--api-url", default=DEFAULT_API_URL, help="GitHub's API (Enterprise: its own)")
    t.add_argument("--config", metavar="FILE", help="policy file (.github/forkvet.yml format)")
    t.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    t.set_defaults(func=cmd_thank)


def register(sub: Any) -> None:
    _register_attribution(sub)
    _register_upstream(sub)
    _register_thank(sub)
