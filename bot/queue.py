"""The job queue: huey. Embedded by default (a SQLite file, no server to start); with
FORKVET_REDIS_URL the same jobs run on any number of workers on any number of machines.

huey drops a task its worker dies in the middle of, so the durable record of a job is the
Store: a worker re-queues, on start-up, whatever a dead worker left behind, and a job whose
record is 'done' is never run twice.

Fair between installations: a job's huey priority is minus its place in its own
installation's line (how many older jobs of that installation still wait or run), and huey
takes the highest priority first, oldest first among equals. So the queue runs every
installation's first job before anyone's second, its second before anyone's third: one
tenant's delivery of 30 forks delays another tenant's first vet by at most the jobs already
running (one job budget), not by all 30.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.exceptions import RetryTask

from bot import isolate, jobs
from bot.settings import Settings
from bot.store import Job, Store
from bot.stores import make_store

log = logging.getLogger("forkvet.app")
MAX_ATTEMPTS = 6

_state: dict[str, Any] = {}


def setup(settings: Settings) -> tuple[Huey, Store]:
    key = (settings.redis_url, settings.db)
    if _state.get("key") != key:
        huey: Huey = (
            # A sorted set (Redis 5 or later) that honours priorities; its own key, so an
            # older App's plain list under "forkvet" is left alone (requeue_stale re-queues
            # what it held from the Store).
            PriorityRedisHuey("forkvet-fair", url=settings.redis_url)
            if settings.redis_url
            else SqliteHuey("forkvet", filename=settings.db + ".queue")
        )
        store = make_store(settings)
        _state.update(
            key=key,
            huey=huey,
            store=store,
            settings=settings,
            task=huey.task(context=True)(_run),
        )
    return _state["huey"], _state["store"]


def enqueue(settings: Settings, job_id: int) -> None:
    _, store = setup(settings)
    _state["task"](job_id, priority=-place_in_line(store, job_id))


def place_in_line(store: Store, job_id: int) -> int:
    """How many older jobs of the same installation wait or run (0: its first)."""
    job = store.get(job_id)
    iid = job.payload.get("installation_id") if job else None
    return store.pending_before(iid, job_id) if isinstance(iid, int) else 0


def _run(job_id: int, task: Any = None) -> dict[str, Any] | None:
    settings: Settings = _state["settings"]
    store: Store = _state["store"]
    job = store.get(job_id)
    if job is None or job.status == "done":
        return None
    # One job per repository at a time: two deliveries for one fork make one issue. The lock
    # lives in the Store, so a killed worker's lock is taken over instead of blocking forever.
    lock = f"repo:{job.repo}"
    if not store.acquire(lock, ttl=settings.job_timeout_s + 120):
        raise RetryTask(delay=2)
    try:
        if not store.start(job_id):
            return None
        job = store.get(job_id)
        assert job is not None
        return _execute(settings, store, job)
    except isolate.WorkerStopping:
        # The worker is stopping: the job stays 'running' and the next worker re-queues it.
        return None
    except isolate.JobKilled as exc:
        assert job is not None
        _killed(settings, store, store.get(job_id) or job, exc)
        return None
    except Exception as exc:
        assert job is not None
        _failed(settings, store, store.get(job_id) or job, exc)
        return None
    finally:
        store.release(lock)


def _execute(settings: Settings, store: Store, job: Job) -> dict[str, Any] | None:
    # In a child process with its own time and memory budget (bot.isolate).
    result = isolate.run(settings, job.id)
    store.finish(job.id)
    log.info(
        "job done",
        extra={"job": job.id, "repo": job.repo, "result": result, "delivery": job.delivery},
    )
    return result


def _failed(settings: Settings, store: Store, job: Job, exc: Exception) -> None:
    """A job raised: retried later when the cause is transient (RetryTask), else failed for
    good and reported."""
    attempts = job.attempts
    if jobs.is_transient(exc) and attempts < MAX_ATTEMPTS:
        delay = min(300, 5 * 2**attempts)
        log.warning(
            "job failed, retrying",
            extra={
                "job": job.id,
                "repo": job.repo,
                "error_type": type(exc).__name__,
                "attempt": attempts,
                "delay": delay,
            },
        )
        raise RetryTask(delay=delay) from exc
    # For good: the error goes to the log under an id; the human gets the id and what
    # to do (jobs.report_failure), never the exception's text.
    error_id = uuid.uuid4().hex[:12]
    log.error(
        "job failed",
        exc_info=exc,
        extra={"job": job.id, "repo": job.repo, "error_id": error_id, "attempts": attempts},
    )
    store.finish(job.id, error=f"[{error_id}] {type(exc).__name__}: {str(exc)[:500]}")
    try:
        jobs.report_failure(settings, store, job, error_id)
    except Exception:  # GitHub itself is down: the log has it
        log.exception("could not report a failed job", extra={"error_id": error_id})


def _killed(settings: Settings, store: Store, job: Any, exc: isolate.JobKilled) -> None:
    """A job past its budget is not retried (it would cost the budget again); the human is
    told what happened on the check run (or the command's issue)."""
    error_id = uuid.uuid4().hex[:12]
    log.error(
        "job stopped",
        extra={
            "job": job.id,
            "repo": job.repo,
            "error_id": error_id,
            "reason": exc.reason,
            "detail": str(exc),
        },
    )
    store.finish(job.id, error=f"[{error_id}] stopped ({exc.reason}): {exc}")
    try:
        jobs.report_killed(settings, store, job, exc.reason, str(exc), error_id)
    except Exception:  # GitHub itself is down: the log has it
        log.exception("could not report a stopped job", extra={"error_id": error_id})


def start_heartbeat(settings: Settings, store: Any) -> threading.Event:
    """Tell /healthz that a worker is alive, every heartbeat_s; set the event to stop."""
    from bot.store import worker_id

    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                store.heartbeat(worker_id())
            except Exception:  # the store is down: /healthz will say so
                log.warning("heartbeat failed", exc_info=True)
            if stop.wait(settings.heartbeat_s):
                return

    threading.Thread(target=beat, name="forkvet-heartbeat", daemon=True).start()
    return stop


def requeue_stale(settings: Settings) -> list[int]:
    _, store = setup(settings)
    # A job on another machine is stale only once it ran past any budget it could have.
    ids = store.requeue_candidates(stale_after=max(600.0, settings.job_timeout_s + 120))
    for job_id in ids:
        enqueue(settings, job_id)
    if ids:
        log.info("re-queued jobs left by a stopped worker", extra={"jobs": ids})
    return ids
