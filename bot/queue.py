"""The job queue: huey. Embedded by default (a SQLite file, no server to start); with
FORKVET_REDIS_URL the same jobs run on any number of workers on any number of machines.

huey drops a task its worker dies in the middle of, so the durable record of a job is the
Store: a worker re-queues, on start-up, whatever a dead worker left behind, and a job whose
record is 'done' is never run twice.

Fair between installations, decided when a slot frees: a huey task is a turn, not a job.
Each job queued adds one turn; a turn that starts takes, from the Store, the oldest due job of
the installation whose last turn is the oldest (Store.claim_next). Each installation's line is
FIFO, and once an installation starts a job every other installation with a job waiting starts
one before it starts another: a waiting job waits for the jobs running and at most one start
per other installation, however many jobs any tenant sends, or when.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.exceptions import RetryTask

from bot import isolate, jobs
from bot.settings import Settings
from bot.store import Job, Store, is_free
from bot.stores import make_store

log = logging.getLogger("forkvet.app")
MAX_ATTEMPTS = 6
# Every attempt of a job shares its one time budget (FORKVET_JOB_TIMEOUT_S): a retry runs
# only on what earlier attempts left, and only when that is at least this share of it.
MIN_RETRY_SHARE = 0.1

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
            task=huey.task(context=True)(_turn),
        )
    return _state["huey"], _state["store"]


def enqueue(settings: Settings) -> None:
    """One more turn, for a job the Store holds as 'queued'."""
    setup(settings)
    _state["task"]()


def _turn(task: Any = None) -> dict[str, Any] | None:
    settings: Settings = _state["settings"]
    store: Store = _state["store"]
    job = store.claim_next()
    if job is None:
        if store.waiting_on_running():
            # A job waits for its repository's running one (Store.claim_next): this turn is
            # its turn, kept until the repository is free.
            raise RetryTask(delay=2)
        return None  # every due job was taken by earlier turns
    job_id = job.id
    # One job per repository at a time: two deliveries for one fork make one issue. The lock
    # lives in the Store, so a killed worker's lock is taken over instead of blocking forever.
    # A comment not yet bound to its repository (is_free) holds no lock: it only reads the
    # comment and its author's permission (round 21c F1).
    lock = f"repo:{job.repo}" if not is_free(job.kind, job.payload) else None
    if lock and not store.acquire(lock, ttl=settings.job_timeout_s + 120):
        store.requeue(job_id, delay=2)
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
        if lock:
            store.release(lock)


def _execute(settings: Settings, store: Store, job: Job) -> dict[str, Any] | None:
    # In a child process with its own time, memory and disk budget (bot.isolate). The time
    # budget is the job's, all attempts together (round 17c F3): this one gets what is left.
    started = time.monotonic()
    try:
        result = isolate.run(settings, job.id, budget=settings.job_timeout_s - job.spent)
    finally:
        store.add_spent(job.id, time.monotonic() - started)
    if isinstance(result, dict) and result.get("bind") and is_free(job.kind, job.payload):
        # A writer's command that needs the repository: in its installation's line now.
        store.bind(job.id)
        enqueue(settings)
        log.info("job bound to its repository", extra={"job": job.id, "repo": job.repo})
        return result
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
    left = settings.job_timeout_s - job.spent
    transient = jobs.is_transient(exc)
    if transient and attempts < MAX_ATTEMPTS and left >= MIN_RETRY_SHARE * settings.job_timeout_s:
        delay = min(300, 5 * 2**attempts)
        log.warning(
            "job failed, retrying",
            extra={
                "job": job.id,
                "repo": job.repo,
                "error_type": type(exc).__name__,
                "attempt": attempts,
                "delay": delay,
                "budget_left_s": round(left, 1),
            },
        )
        store.requeue(job.id, delay=delay)  # its turn comes back with it
        raise RetryTask(delay=delay) from exc
    # For good: the error goes to the log under an id; the human gets the id and what
    # to do (jobs.report_failure), never the exception's text.
    error_id = uuid.uuid4().hex[:12]
    log.error(
        "job failed",
        exc_info=exc,
        extra={
            "job": job.id,
            "repo": job.repo,
            "error_id": error_id,
            "attempts": attempts,
            "spent_s": round(job.spent, 1),
        },
    )
    store.finish(job.id, error=f"[{error_id}] {type(exc).__name__}: {str(exc)[:500]}")
    why = (
        f"GitHub or the network kept failing: {attempts} attempt(s) ran {job.spent:.0f} s of "
        f"this job's time budget of {settings.job_timeout_s:g} s, which all its attempts share"
        if transient
        else None
    )
    try:
        jobs.report_failure(settings, store, job, error_id, why)
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
        store.requeue(job_id)
        enqueue(settings)
    if ids:
        log.info("re-queued jobs left by a stopped worker", extra={"jobs": ids})
    return ids
