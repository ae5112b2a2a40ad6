"""Commands in comments on the report issue: `/forkvet recheck`, `/forkvet upstream <sha>...`,
`/forkvet thank`. The worker checks that the commenter has write access and answers every
command with a comment."""

from __future__ import annotations

import re

from bot.handlers.common import JobSpec, installation_id
from bot.routing import Event, Router
from forkvet.github.issues import MARKER

COMMAND = re.compile(r"^\s*/forkvet\s+(\w+)(.*)$", re.M)


def commented(event: Event) -> list[JobSpec]:
    issue = event.payload.get("issue") or {}
    comment = event.payload.get("comment") or {}
    if MARKER not in (issue.get("body") or ""):
        return []
    user = comment.get("user") or {}
    if user.get("type") == "Bot":
        return []  # never answer ourselves
    m = COMMAND.search(comment.get("body") or "")
    iid = installation_id(event)
    if not m or iid is None:
        return []
    command = m.group(1).lower()
    if command not in ("recheck", "upstream", "thank"):
        return []
    return [
        JobSpec(
            "comment",
            event.payload["repository"]["full_name"],
            {
                "installation_id": iid,
                "command": command,
                "args": m.group(2).strip(),
                "user": user.get("login"),
                "issue_number": issue.get("number"),
            },
        )
    ]


def register(router: Router) -> None:
    router.on("issue_comment.created")(commented)
