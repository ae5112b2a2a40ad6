"""Someone clicked "Re-run" on the forkvet check run: vet again."""

from __future__ import annotations

from bot.handlers.common import JobSpec, vet_job
from bot.routing import Event, Router


def rerequested(event: Event) -> list[JobSpec]:
    run = event.payload.get("check_run") or {}
    if run.get("name") != "forkvet":
        return []
    job = vet_job(event, event.payload["repository"]["full_name"], "check run re-requested")
    return [job] if job else []


def register(router: Router) -> None:
    router.on("check_run.rerequested")(rerequested)
