"""A fork appears in an installed account: vet it (repository.created with fork: true,
installation.created, installation_repositories.added — forks only)."""

from __future__ import annotations

from bot.handlers.common import JobSpec, vet_job
from bot.routing import Event, Router


def fork_created(event: Event) -> list[JobSpec]:
    repo = event.payload.get("repository") or {}
    if not repo.get("fork"):
        return []
    job = vet_job(event, repo["full_name"], "fork created")
    return [job] if job else []


def repositories_added(event: Event) -> list[JobSpec]:
    key = "repositories" if event.name == "installation" else "repositories_added"
    out = []
    for repo in event.payload.get(key) or []:
        # The installation payloads carry no `fork` flag: the worker checks it.
        job = vet_job(event, repo["full_name"], f"{event.full_name} (if a fork)")
        if job:
            out.append(JobSpec("vet", job.repo, {**job.payload, "forks_only": True}))
    return out


def register(router: Router) -> None:
    router.on("repository.created")(fork_created)
    router.on(["installation.created", "installation_repositories.added"])(repositories_added)
