"""Commands in comments on the report issue: `/forkvet recheck`, `/forkvet upstream <sha>...`,
`/forkvet thank`, `/forkvet accept RULE PATH REASON [until DATE]`, `/forkvet help` (an
unknown command, or a bare `/forkvet`, gets the help).
The worker checks that the commenter has write access and answers every command."""

from __future__ import annotations

from bot.handlers.common import JobSpec, installation_id
from bot.routing import Event, Router
from forkvet import rx
from forkvet.github.issues import MARKER

# After `/forkvet` comes a word or nothing (not `/forkvet-x`): the rest starts with no word
# character, which is what the look-ahead `(?![\w-])` said. At most 3 spaces before it: 4
# spaces or a tab make an indented code block, which GitHub shows as code, not as words.
COMMAND = rx.compile(r"^ {0,3}/forkvet(?:[ \t]+(\S+))?((?:[^\w\-\n].*)?)$", rx.M)
COMMANDS = ("recheck", "upstream", "thank", "accept", "help")
# author_association values of people with no role in the repository (write access implies
# OWNER, MEMBER or COLLABORATOR; the worker still checks the permission itself).
_OUTSIDERS = frozenset({"NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN"})


def _fence(line: str) -> str:
    """The fence a line opens (```` ``` ```` or `~~~`, 3 or more, up to 3 spaces in), or ''."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or stripped[:1] not in ("`", "~"):
        return ""
    run = len(stripped) - len(stripped.lstrip(stripped[0]))
    if run < 3 or (stripped[0] == "`" and "`" in stripped[run:]):
        return ""
    return stripped[:run]


def plain_text(body: str) -> str:
    """The comment's lines as GitHub shows them as plain text (round 18c F7): without fenced
    code blocks (CommonMark: closed by a fence of the same character at least as long, or
    the end of the comment) and HTML comments (`<!-- -->`, not shown at all). Indented code
    and block quotes never match COMMAND itself. A command is what the reader sees as one."""
    out: list[str] = []
    fence = ""
    hidden = False
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence:
            closing = line.strip(" ")
            if closing.startswith(fence) and not closing.strip(fence[0]):
                fence = ""
            continue
        if hidden:
            if "-->" in line:
                hidden = False
            continue
        opened = _fence(line)
        if opened:
            fence = opened
            continue
        if line.lstrip(" ").startswith("<!--"):
            hidden = "-->" not in line.split("<!--", 1)[1]
            continue
        out.append(line)
    return "\n".join(out)


def commented(event: Event) -> list[JobSpec]:
    issue = event.payload.get("issue") or {}
    comment = event.payload.get("comment") or {}
    if MARKER not in (issue.get("body") or ""):
        return []
    if (issue.get("user") or {}).get("type") != "Bot":
        return []  # anyone can copy the marker; only an App's issue can be ours (worker checks)
    user = comment.get("user") or {}
    if user.get("type") == "Bot":
        return []  # never answer ourselves
    if comment.get("author_association") in _OUTSIDERS:
        # GitHub says the commenter has no role in the repository, so no write access:
        # nothing to run and nothing to answer (a stranger's comments cost no job).
        return []
    m = COMMAND.search(plain_text(comment.get("body") or ""))
    iid = installation_id(event)
    if not m or iid is None:
        return []
    command = (m.group(1) or "help").lower()[:40]
    payload = {
        "installation_id": iid,
        "command": command,
        "args": m.group(2).strip()[:2000],
        "user": user.get("login"),
        "issue_number": issue.get("number"),
    }
    if command not in COMMANDS:
        # Every command gets an answer: an unknown one gets the list of commands.
        payload.update(command="help", unknown=command, args="")
    return [JobSpec("comment", event.payload["repository"]["full_name"], payload)]


def register(router: Router) -> None:
    router.on("issue_comment.created")(commented)
