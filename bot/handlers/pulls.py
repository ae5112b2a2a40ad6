"""A pull request of the fork labelled `upstream` was merged: draft its changes for upstream."""

from __future__ import annotations

from bot.handlers.common import JobSpec, installation_id
from bot.routing import Event, Router

LABEL = "upstream"


def merged(event: Event) -> list[JobSpec]:
    pull = event.payload.get("pull_request") or {}
    labels = {label.get("name") for label in pull.get("labels") or []}
    iid = installation_id(event)
    if not pull.get("merged") or LABEL not in labels or iid is None:
        return []
    sha = pull.get("merge_commit_sha") or ""
    return [
        JobSpec(
            "comment",
            event.payload["repository"]["full_name"],
            {
                "installation_id": iid,
                "command": "upstream",
                "args": sha,
                "user": (pull.get("merged_by") or pull.get("user") or {}).get("login"),
                "issue_number": pull.get("number"),
                "trusted": True,
            },
        )
    ]


def register(router: Router) -> None:
    router.on("pull_request.closed")(merged)
