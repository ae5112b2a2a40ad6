"""Commands in comments on the report issue: `/forkvet recheck`, `/forkvet upstream <sha>...`,
`/forkvet thank`, `/forkvet accept RULE PATH REASON [until DATE]`, `/forkvet help` (an
unknown command, or a bare `/forkvet`, gets the help).

Round 20c F11: the web tier only decides cheaply whether a comment can hold a command at all
(`commented`: the author's association and one linear line scan, whatever the body); reading
the comment as CommonMark (`read_command`) happens in the job child, under the tenant's
budget. The job checks that the commenter has write access and answers every command."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from bot.handlers.common import JobSpec, installation_id
from bot.routing import Event, Router
from forkvet import rx
from forkvet.github.issues import MARKER, reported_commit

# After `/forkvet` comes a word or nothing (not `/forkvet-x`): the rest starts with no word
# character, which is what the look-ahead `(?![\w-])` said. At most 3 spaces before it: 4
# spaces or a tab make an indented code block, which GitHub shows as code, not as words.
COMMAND = rx.compile(r"^ {0,3}/forkvet(?:[ \t]+(\S+))?((?:[^\w\-\n].*)?)$", rx.M)
COMMANDS = ("recheck", "upstream", "thank", "accept", "help")
# author_association values of people with no role in the repository (write access implies
# OWNER, MEMBER or COLLABORATOR; the worker still checks the permission itself).
_OUTSIDERS = frozenset({"NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN"})


# GitHub caps a comment at 65,536 characters; nothing longer is parsed.
_MAX_BODY = 65_536


if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@cache
def _markdown() -> MarkdownIt:
    # CommonMark (HTML blocks, link reference definitions, code) plus GFM's tables; imported
    # here, by the job child: the web tier never parses Markdown.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def bounded_text(body: str) -> str:
    """The comment as read: GitHub's 65,536 characters at most, line ends as `\\n`."""
    return body[:_MAX_BODY].replace("\r\n", "\n").replace("\r", "\n")


def command_lines(body: str) -> list[str]:
    """The lines of a comment a reader sees as a plain line of text of its own (round 18c F7,
    round 19c A5): the comment is parsed as CommonMark, and only the FIRST line of each
    top-level paragraph counts. Code (fenced or indented), HTML blocks (`<!-- -->`,
    `<script>`, `<div hidden>`), link reference definitions, headings, tables, quotes and
    list items are no paragraph of the comment's own; a paragraph's later lines can sit
    inside a construct the first line opened (a `$$` math block, an image's alt text, a code
    span, an inline HTML tag) or be a quote's lazy continuation, while its first line is
    shown as the text it is, whatever follows. A command is a line of its own, with a blank
    line (or nothing) before it."""
    text = bounded_text(body)
    lines = text.split("\n")
    # The source line as written (COMMAND allows at most 3 spaces before it, as before).
    return [
        lines[tok.map[0]]
        for tok in _markdown().parse(text)
        if tok.type == "paragraph_open" and tok.level == 0 and tok.map
    ]


def plain_text(body: str) -> str:
    """The comment's command lines (command_lines), one a line, for COMMAND."""
    return "\n".join(command_lines(body))


def read_command(body: str) -> dict[str, Any] | None:
    """In the job: the comment's command (the first of its command lines that is one) as
    {"command", "args"} (an unknown word: "help" with "unknown"), or None when it has none."""
    m = COMMAND.search(plain_text(body))
    if not m:
        return None
    command = (m.group(1) or "help").lower()[:40]
    if command not in COMMANDS:
        # Every command gets an answer: an unknown one gets the list of commands.
        return {"command": "help", "unknown": command, "args": ""}
    return {"command": command, "args": m.group(2).strip()[:2000]}


def commented(event: Event) -> list[JobSpec]:
    """A job for a comment that can hold a command, decided cheaply: bounded work whatever
    the body (round 20c F11). A line that COMMAND matches in the whole text is a candidate
    (every command line `read_command` can find is one), so the job reads the comment as
    CommonMark and ends without a word when no candidate is a command."""
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
    text = bounded_text(comment.get("body") or "")
    iid = installation_id(event)
    if iid is None or not COMMAND.search(text):
        return []
    payload = {
        "installation_id": iid,
        "comment": True,  # its text is the job record's (JobSpec.text), read by the job
        "user": user.get("login"),
        "issue_number": issue.get("number"),
        # the commit the report the commenter answered was made at (round 22c F4)
        "reported": reported_commit(issue.get("body") or ""),
    }
    return [JobSpec("comment", event.payload["repository"]["full_name"], payload, text)]


def register(router: Router) -> None:
    router.on("issue_comment.created")(commented)
