"""A push to the fork's default branch: vet again."""

from __future__ import annotations

from bot.handlers.common import JobSpec, vet_job
from bot.routing import Event, Router


def pushed(event: Event) -> list[JobSpec]:
    repo = event.payload.get("repository") or {}
    default = repo.get("default_branch") or repo.get("master_branch")
    if event.payload.get("ref") != f"refs/heads/{default}" or event.payload.get("deleted"):
        return []
    job = vet_job(event, repo["full_name"], "push to the default branch")
    return [job] if job else []


def register(router: Router) -> None:
    router.on("push")(pushed)
