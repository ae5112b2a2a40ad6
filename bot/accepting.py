"""`/forkvet accept RULE PATH REASON [until YYYY-MM-DD]` on the report issue: a person with
write access (and, when the operator says so, in a team) accepts a reviewed finding.

The App records who, when and why, and the file's git blob id at the commit of the report the
comment answered: the finding is shown as "accepted by @user" and stops counting toward the
verdict until the date passes or the file changes (forkvet.accept). Acceptances live in the
App's store, never in the fork: a hostile upstream must not be able to accept its own pickle.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from github import GithubException

from forkvet import rx
from forkvet.accept import Acceptance
from forkvet.accept import parse as parse_accept
from forkvet.errors import InputError
from forkvet.escape import md_code, md_inline

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository

    from bot.settings import Settings
    from bot.store import Store

USAGE = "`/forkvet accept RULE PATH REASON [until YYYY-MM-DD]`"
_RULE = rx.compile(r"[a-z0-9-]+/[a-z0-9-]+")
# `until` and a date-like word at the end: a date, or refused (an expiry that does not parse
# must never become part of the reason, and no expiry at all: `until 2027-1-1`).
_UNTIL = rx.compile(r"\s+until\s+(\d[\d./-]*)\s*$", rx.I)
_ISO_DATE = rx.compile(r"\d{4}-\d{2}-\d{2}")


def parse_args(args: str) -> tuple[str, str, str, date | None]:
    """RULE PATH REASON [until DATE]; ValueError with the reply when it does not parse."""
    text = args.strip()
    until = None
    m = _UNTIL.search(text)
    if m:
        try:
            if not _ISO_DATE.fullmatch(m.group(1)):
                raise ValueError
            until = date.fromisoformat(m.group(1))
        except ValueError:
            raise ValueError(f"{md_code(m.group(1))} is not a date (YYYY-MM-DD)") from None
        text = text[: m.start()]
    parts = text.split(None, 2)
    if len(parts) < 3 or not parts[2].strip():
        raise ValueError(f"give a rule, a path and a reason: {USAGE}")
    rule, path, reason = parts[0], repository_path(parts[1]), parts[2].strip()
    if not _RULE.fullmatch(rule):
        raise ValueError(
            f"{md_code(rule)} is not a forkvet rule id (such as `risks/torch-load`; the "
            f"SARIF output and the report name them)"
        )
    return rule, path, reason[:500], until


def repository_path(word: str) -> str:
    """PATH as findings name files (round 21c F5: `./w/b.pkl` was recorded as written and
    matched no finding): repository-relative, `/`-separated, no empty or `.` parts; a `..`
    part names nothing in the repository (ValueError)."""
    parts = [part for part in word.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"{md_code(word[:200])} is not a path in the repository: {USAGE}")
    return "/".join(parts)


def allowed(settings: Settings, gh: Github, user: str) -> str | None:
    """Why this user may not accept findings here (write access is checked before)."""
    if settings.acceptances == "off":
        return "the App's operator has turned acceptances off"
    if settings.acceptances.startswith("team:"):
        org, slug = settings.acceptances[len("team:") :].split("/", 1)
        try:
            team = gh.get_organization(org).get_team_by_slug(slug)
            active = team.get_team_membership(user).state == "active"
        except GithubException:  # not a member, or the App cannot see the team: refused
            active = False
        if not active:
            return f"only members of the {md_code(org + '/' + slug)} team may accept findings"
    return None


def prepare(
    settings: Settings,
    gh: Github,
    repo: Repository,
    user: str,
    args: str,
    reported: str | None = None,
) -> Acceptance | str:
    """The acceptance the command asks for, or the reply that refuses it. It binds the file's
    blob at the commit of the report the comment answered (`reported`, from the report issue
    as GitHub sent it with the comment), never the file as the job finds it (round 22c F4: a
    push between the comment and its job was accepted unreviewed); a file that changed since
    is refused. Nothing is recorded: `settle` does, once the vet showed that it accepts a
    finding."""
    refused = allowed(settings, gh, user)
    if refused:
        return f"not accepted: {refused}."
    try:
        rule, path, reason, until = parse_args(args)
    except ValueError as exc:
        return f"not accepted: {exc}"
    today = datetime.now(UTC).date()
    if until is not None and until < today:
        return f"not accepted: {until.isoformat()} is in the past."
    if reported is None:
        return (
            "not accepted: the report this comment answers names no commit (an older forkvet "
            "wrote it), so what was reviewed is unknown. Comment `/forkvet recheck`, then "
            "accept again on the new report."
        )
    seen, now = _blob(repo, path, reported), _blob(repo, path, repo.default_branch)
    if seen is None or now is None:
        return f"not accepted: {md_code(path)} is not a file on {md_code(repo.default_branch)}."
    if seen != now:
        return (
            f"not accepted: {md_code(path)} changed since the report you answered (made at "
            f"{md_code(reported[:12])}): what you reviewed is not what the branch holds. "
            f"Review the new report, then accept again."
        )
    at = datetime.now(UTC).isoformat(timespec="seconds")
    return Acceptance(reason, rule, path, f"@{user}", at, until, blob=seen)


def _blob(repo: Repository, path: str, ref: str) -> str | None:
    """The file's git blob id at ref; None when it is no file there."""
    try:
        blob = repo.get_contents(path, ref=ref)
    except GithubException:
        return None
    return None if isinstance(blob, list) else blob.sha


def settle(store: Store, repo: str, made: Acceptance, why: str | None) -> str:
    """Record the acceptance when the vet showed it accepts a finding (`why` is None: what
    forkvet.accept.apply answered for it); the reply either way."""
    rule, path, until = made.rule or "", made.path or "", made.until
    if why is not None:
        return f"not accepted: {md_code(rule)} on {md_code(path)}: {md_inline(why)}."
    entry: dict[str, Any] = {
        "rule": rule,
        "path": path,
        "reason": made.reason,
        "by": made.by,
        "at": made.at,
        "until": until.isoformat() if until else None,
        "blob": made.blob,
    }
    store.save_acceptance(repo, f"{rule} {path}", entry)
    due = f" until {until.isoformat()}" if until else ""
    return (
        f"accepted {md_code(rule)} on {md_code(path)}{due}: {md_inline(made.reason)}. It is "
        f"due again when {md_code(path)} changes from what was reviewed (blob "
        f"{md_code((made.blob or '')[:12])})" + (" or the date passes." if until else ".")
    )


def stored(store: Store, repo: str) -> list[Acceptance]:
    """The App's acceptances for this repository (a damaged record is skipped, not fatal)."""
    out: list[Acceptance] = []
    for entry in store.acceptances(repo):
        try:
            out += parse_accept([entry], "the App's acceptances")
        except InputError:
            continue
    return out
