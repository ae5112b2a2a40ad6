"""A forkvet workflow finished on the fork's runners: fold its result into the report."""

from __future__ import annotations

from bot.handlers.common import JobSpec, installation_id
from bot.routing import Event, Router


def completed(event: Event) -> list[JobSpec]:
    run = event.payload.get("workflow_run") or {}
    path = str(run.get("path") or "")
    if run.get("name") != "forkvet" and not path.endswith("/forkvet.yml"):
        return []
    iid = installation_id(event)
    if iid is None:
        return []
    keep = {
        k: run.get(k)
        for k in ("name", "head_sha", "head_branch", "conclusion", "status", "html_url", "id")
    }
    return [
        JobSpec(
            "workflow_run",
            event.payload["repository"]["full_name"],
            {"installation_id": iid, "workflow_run": keep},
        )
    ]


def register(router: Router) -> None:
    router.on("workflow_run.completed")(completed)
