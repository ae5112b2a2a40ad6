"""A forkvet workflow finished on the fork's runners: fold its result into the report.

Only runs that the fork itself started count. A run's name is anyone's choice, and a pull
request from another fork runs the fork's workflows with the pull request's code, so a run
counts only when all hold:
- it is the workflow file the setup pull request adds (`.github/workflows/forkvet.yml`);
- its head repository is the fork itself (head_repository.id == repository.id);
- it was started by a push, a manual dispatch, a schedule or a pull request on the fork
  (never pull_request_target or a workflow_run chain, which run in the fork's context with
  code it did not choose);
- every pull request it names is between two branches of the fork itself (head and base
  repository ids are the fork's), and a pull request run names at least one.
Those pull requests are the ones the App comments on (bot.jobs); a pull request from another
fork never gets a comment, because its run never counts.
The worker then checks what the run ran: the file at the run's head_sha must be, byte for
byte, a workflow bot/workflow.py renders (bot.jobs.fold_workflow_run); a file of the same
name that the upstream shipped passes every check here.
"""

from __future__ import annotations

import logging

from bot.handlers.common import JobSpec, installation_id
from bot.routing import Event, Router
from forkvet import rx

log = logging.getLogger("forkvet.app")
WORKFLOW_PATH = ".github/workflows/forkvet.yml"
TRUSTED_EVENTS = ("push", "workflow_dispatch", "schedule", "pull_request")
MAX_PULLS = 10  # pull requests one run comments on
CONCLUSIONS = ("success", "failure", "cancelled", "timed_out", "neutral", "skipped")


def _id(obj: object) -> int | None:
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _at(obj: object, *keys: str) -> object:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def own_pulls(run: dict[str, object], fork_id: int) -> list[int] | None:
    """The numbers of the run's pull requests when each is between branches of the fork
    itself; None when any is not, or cannot be told."""
    pulls = run.get("pull_requests") or []
    numbers = []
    for pr in pulls if isinstance(pulls, list) else [None]:
        number = _at(pr, "number")
        if (
            _id(_at(pr, "head", "repo")) != fork_id
            or _id(_at(pr, "base", "repo")) != fork_id
            or not isinstance(number, int)
            or isinstance(number, bool)
            or number <= 0
        ):
            return None
        numbers.append(number)
    return numbers[:MAX_PULLS]


def trusted_run(event: Event) -> tuple[bool, str]:
    """(counts, why not)."""
    run = event.payload.get("workflow_run") or {}
    workflow = event.payload.get("workflow") or {}
    path = str(run.get("path") or workflow.get("path") or "")
    if path.split("@", 1)[0] != WORKFLOW_PATH:
        return False, f"not {WORKFLOW_PATH}"
    fork_id = _id(event.payload.get("repository"))
    head_id = _id(run.get("head_repository"))
    if fork_id is None or head_id != fork_id:
        return False, "the run's code came from another repository"
    if run.get("event") not in TRUSTED_EVENTS:
        return False, (
            f"started by {run.get('event')!r}, not a push, dispatch, schedule or pull request"
        )
    pulls = own_pulls(run, fork_id)
    if pulls is None:
        return False, "the run names a pull request that is not between the fork's own branches"
    if run.get("event") == "pull_request" and not pulls:
        return False, "a pull request run that names no pull request of the fork's own"
    if not rx.fullmatch(r"[0-9a-f]{40}", str(run.get("head_sha") or "")):
        return False, "no commit"
    return True, ""


def completed(event: Event) -> list[JobSpec]:
    run = event.payload.get("workflow_run") or {}
    ok, why = trusted_run(event)
    if not ok:
        log.info(
            "workflow run ignored",
            extra={"delivery": event.delivery, "reason": why, "run": run.get("id")},
        )
        return []
    iid = installation_id(event)
    if iid is None:
        return []
    conclusion = run.get("conclusion")
    keep = {
        # The run's name is never kept: the report names the workflow itself.
        "head_sha": run["head_sha"],
        "head_branch": str(run.get("head_branch") or "")[:255],
        "conclusion": conclusion if conclusion in CONCLUSIONS else "neutral",
        "event": run.get("event"),
        "html_url": str(run.get("html_url") or ""),
        "id": _id(run),
        # the fork's own pull requests (trusted_run checked each): they get the comment
        "pull_requests": own_pulls(run, int(event.payload["repository"]["id"])) or [],
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
