"""What every handler builds: a job description."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.routing import Event


@dataclass(frozen=True)
class JobSpec:
    kind: str
    repo: str
    payload: dict[str, Any] = field(default_factory=dict)
    # A comment's text, kept beside the job record, not in its payload (Store.add_job).
    text: str | None = None


def installation_id(event: Event) -> int | None:
    inst = event.payload.get("installation")
    iid = inst.get("id") if isinstance(inst, dict) else None
    # The webhook refused any other id (bot.web); never converted here.
    return iid if type(iid) is int else None


def vet_job(event: Event, repo: str, reason: str) -> JobSpec | None:
    iid = installation_id(event)
    if iid is None:
        return None
    return JobSpec("vet", repo, {"installation_id": iid, "reason": reason})
