"""Durable state in one SQLite file (FORKVET_DB): deliveries seen, jobs and their status,
the last report per repository. Jobs survive restarts: a worker re-queues on start-up what a
dead worker left running or what never reached the queue."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, event TEXT, received REAL);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, delivery TEXT UNIQUE, kind TEXT, repo TEXT,
  payload TEXT, status TEXT, attempts INTEGER DEFAULT 0, worker TEXT, updated REAL,
  error TEXT, check_run_id INTEGER, not_before REAL, spent REAL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE TABLE IF NOT EXISTS turns (installation TEXT PRIMARY KEY, turn INTEGER);
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, owner TEXT, expires REAL);
CREATE TABLE IF NOT EXISTS reports (repo TEXT PRIMARY KEY, markdown TEXT, runtime TEXT,
  updated REAL);
CREATE TABLE IF NOT EXISTS train_results (repo TEXT, run_id INTEGER, created REAL, entry TEXT,
  PRIMARY KEY (repo, run_id));
CREATE TABLE IF NOT EXISTS bodies (hash TEXT PRIMARY KEY, delivery TEXT, received REAL);
CREATE INDEX IF NOT EXISTS bodies_received ON bodies(received);
CREATE TABLE IF NOT EXISTS heartbeats (worker TEXT PRIMARY KEY, seen REAL);
CREATE TABLE IF NOT EXISTS acceptances (repo TEXT, key TEXT, entry TEXT, created REAL,
  PRIMARY KEY (repo, key));
"""
# Signed bodies are remembered this long (GitHub redelivers up to 3 days back) and at most
# this many: a captured delivery replayed under a new delivery id is refused in that window.
REPLAY_WINDOW_S = 7 * 24 * 3600
MAX_BODIES = 200_000
DeliveryState = Literal["new", "redelivery", "replay"]


KEEP_RESULTS = 200
# Jobs that read the repository's current state when they run: a newer one for the same
# repository supersedes a queued one (Store.add_or_merge).
COALESCED_KINDS = frozenset({"vet"})


# Round 21c F1: a comment's job first only reads the comment and asks GitHub whether its
# author may run commands. Until then it is FREE of its repository: it never waits for the
# repository's running job and never holds the repository. A writer's command that reads or
# writes the repository is then BOUND (Store.bind): one job per repository at a time.
def is_free(kind: str, payload: dict[str, Any]) -> bool:
    """Whether the job runs outside its repository's line (a comment not yet bound; a
    merged pull request's command job is no comment's and is bound from the start)."""
    return kind == "comment" and "comment" in payload and "bound" not in payload


# Round 22c F5: the turns are the tenant's, never a commenter's (an account is free to make:
# a line per commenter let one tenant's 60 accounts cost every other tenant 60 starts a round).
# A job waits in three nested lines, each served round-robin by the turn it last had: its
# installation's (what other tenants wait for: one start a round, whatever it sends), then in
# the installation either its own jobs or its free comments (a flood of comments costs the
# fork's own push at most one start), then among the comments, its commenter's.
def lines_of(kind: str, payload: dict[str, Any]) -> tuple[str, str, str]:
    """The job's tenant line, its part of the tenant's line, and its commenter's line."""
    iid = payload.get("installation_id")
    tenant = str(iid) if type(iid) is int else ""
    if is_free(kind, payload):
        return tenant, f"{tenant}/comments", f"{tenant}/commenter:{payload.get('user')}"
    return tenant, f"{tenant}/jobs", f"{tenant}/jobs"


# The same, in SQL over the jobs table (Store.claim_next).
_FREE_SQL = (
    "(kind='comment' AND json_type(payload, '$.comment') IS NOT NULL "
    "AND json_type(payload, '$.bound') IS NULL)"
)
_TENANT_SQL = (
    "CASE WHEN json_type(payload, '$.installation_id') = 'integer' "
    "THEN CAST(json_extract(payload, '$.installation_id') AS TEXT) ELSE '' END"
)
_LINES_SQL = (
    f"{_TENANT_SQL} AS t, {_TENANT_SQL} || CASE WHEN {_FREE_SQL} THEN '/comments' "
    f"ELSE '/jobs' END AS s, {_TENANT_SQL} || CASE WHEN {_FREE_SQL} THEN '/commenter:' || "
    "COALESCE(json_extract(payload, '$.user'), 'None') ELSE '/jobs' END AS c"
)
_BUSY_SQL = f"SELECT repo FROM jobs WHERE status='running' AND NOT {_FREE_SQL}"


def merge_payloads(queued: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """The newer request wins; `forks_only` (vet only if the repository is a fork) stays only
    when both asked for it, so a merge never narrows what either delivery asked for."""
    merged = dict(newer)
    if not (queued.get("forks_only") and newer.get("forks_only")):
        merged.pop("forks_only", None)
    return merged


@dataclass
class Job:
    id: int
    delivery: str
    kind: str
    repo: str
    payload: dict[str, Any]
    status: str
    attempts: int
    check_run_id: int | None
    # Seconds its attempts ran so far: every attempt of one delivery shares one time budget.
    spent: float = 0.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Store:
    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        with self.conn() as db:
            db.executescript(SCHEMA)
            # A file from before retries waited in the Store; already there otherwise.
            with contextlib.suppress(sqlite3.OperationalError):
                db.execute("ALTER TABLE jobs ADD COLUMN not_before REAL")
            # ... and from before a delivery's attempts shared one time budget.
            with contextlib.suppress(sqlite3.OperationalError):
                db.execute("ALTER TABLE jobs ADD COLUMN spent REAL DEFAULT 0")
            # ... and from before a comment's text was kept beside its job (round 20c F11).
            with contextlib.suppress(sqlite3.OperationalError):
                db.execute("ALTER TABLE jobs ADD COLUMN text TEXT")

    @contextmanager
    def conn(self) -> Iterator[sqlite3.Connection]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        yield db

    # -- deliveries ------------------------------------------------------------------------
    def record_delivery(self, delivery: str, event: str, body_hash: str = "") -> DeliveryState:
        """'new' the first time; 'redelivery' for GitHub's own redelivery (same id, same
        body); 'replay' for a body already seen under another delivery id (or an id
        reused with another body)."""
        now = time.time()
        with self.conn() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if body_hash:
                    row = db.execute(
                        "SELECT delivery FROM bodies WHERE hash=? AND received>?",
                        (body_hash, now - REPLAY_WINDOW_S),
                    ).fetchone()
                    if row is not None and row[0] != delivery:
                        return "replay"
                cur = db.execute(
                    "INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?)", (delivery, event, now)
                )
                if cur.rowcount != 1:
                    known = db.execute(
                        "SELECT 1 FROM bodies WHERE delivery=? AND hash=?", (delivery, body_hash)
                    ).fetchone()
                    return "redelivery" if known or not body_hash else "replay"
                if body_hash:
                    db.execute(
                        "INSERT OR REPLACE INTO bodies VALUES (?, ?, ?)", (body_hash, delivery, now)
                    )
                    self._prune_bodies(db, now)
                return "new"
            finally:
                db.execute("COMMIT")

    @staticmethod
    def _prune_bodies(db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM bodies WHERE received < ?", (now - REPLAY_WINDOW_S,))
        db.execute(
            "DELETE FROM bodies WHERE hash IN (SELECT hash FROM bodies ORDER BY received DESC "
            "LIMIT -1 OFFSET ?)",
            (MAX_BODIES,),
        )

    def retry_failed(self, delivery: str) -> list[int]:
        """A redelivery of a delivery whose jobs failed: queue those jobs again."""
        with self.conn() as db:
            rows = db.execute(
                "SELECT id FROM jobs WHERE status='failed' AND "
                "(delivery=? OR substr(delivery, 1, ?)=?)",
                (delivery, len(delivery) + 1, delivery + "#"),
            ).fetchall()
            ids = [r[0] for r in rows]
            for job_id in ids:
                db.execute(
                    "UPDATE jobs SET status='queued', attempts=0, error=NULL, updated=?, "
                    "not_before=NULL, spent=0 "
                    "WHERE id=? AND status='failed'",
                    (time.time(), job_id),
                )
        return ids

    # -- worker heartbeats ------------------------------------------------------------------
    def heartbeat(self, worker: str) -> None:
        with self.conn() as db:
            db.execute("INSERT OR REPLACE INTO heartbeats VALUES (?, ?)", (worker, time.time()))

    def last_heartbeat(self) -> float | None:
        with self.conn() as db:
            row = db.execute("SELECT MAX(seen) FROM heartbeats").fetchone()
        return float(row[0]) if row and row[0] is not None else None

    # -- jobs -------------------------------------------------------------------------------
    def add_job(
        self,
        delivery: str,
        kind: str,
        repo: str,
        payload: dict[str, Any],
        text: str | None = None,
    ) -> int | None:
        """`text`: a comment's text, kept beside the job, never in its payload: choosing the
        next job reads every queued payload (round 20c F11)."""
        with self.conn() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO jobs (delivery, kind, repo, payload, status, updated, "
                "text) VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                (delivery, kind, repo, json.dumps(payload), time.time(), text),
            )
            return cur.lastrowid if cur.rowcount == 1 else None

    def job_text(self, job_id: int) -> str | None:
        """The text kept beside a job (add_job), or None."""
        with self.conn() as db:
            row = db.execute("SELECT text FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def add_or_merge(
        self,
        delivery: str,
        kind: str,
        repo: str,
        payload: dict[str, Any],
        text: str | None = None,
    ) -> tuple[int | None, bool]:
        """Queue a job, or merge it into the same repository's job of its kind that is still
        queued (round 18c F8): (job id, merged). A job that re-reads the repository when it
        runs (a vet reads the default branch's head then) is one job however many deliveries
        asked for it before it started; one already running is followed by at most one more.
        Other kinds are always added (with their `text`, add_job)."""
        if kind not in COALESCED_KINDS:
            return self.add_job(delivery, kind, repo, payload, text), False
        with self.conn() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT id, payload FROM jobs WHERE kind=? AND repo=? AND status='queued' "
                    "ORDER BY id DESC LIMIT 1",
                    (kind, repo),
                ).fetchone()
                if row is not None:
                    merged = merge_payloads(json.loads(row[1]), payload)
                    db.execute(
                        "UPDATE jobs SET payload=?, updated=? WHERE id=?",
                        (json.dumps(merged), time.time(), row[0]),
                    )
                    return int(row[0]), True
                cur = db.execute(
                    "INSERT OR IGNORE INTO jobs (delivery, kind, repo, payload, status, updated) "
                    "VALUES (?, ?, ?, ?, 'queued', ?)",
                    (delivery, kind, repo, json.dumps(payload), time.time()),
                )
                return (cur.lastrowid if cur.rowcount == 1 else None), False
            finally:
                db.execute("COMMIT")

    def get(self, job_id: int) -> Job | None:
        with self.conn() as db:
            row = db.execute(
                "SELECT id, delivery, kind, repo, payload, status, attempts, "
                "check_run_id, spent FROM jobs WHERE id = ?",
                (job_id,),
            ).fetchone()
        if row is None:
            return None
        return Job(
            row[0],
            row[1],
            row[2],
            row[3],
            json.loads(row[4]),
            row[5],
            row[6],
            row[7],
            row[8] or 0.0,
        )

    def add_spent(self, job_id: int, seconds: float) -> None:
        """Count the seconds an attempt ran against the job's one time budget."""
        with self.conn() as db:
            db.execute("UPDATE jobs SET spent=COALESCE(spent, 0)+? WHERE id=?", (seconds, job_id))

    def start(self, job_id: int) -> bool:
        """Count an attempt of a claimed job; False when it is done already."""
        with self.conn() as db:
            cur = db.execute(
                "UPDATE jobs SET status='running', worker=?, updated=?, "
                "attempts=attempts+1 WHERE id=? AND status != 'done'",
                (worker_id(), time.time(), job_id),
            )
            return cur.rowcount == 1

    def set_check_run(self, job_id: int, check_run_id: int) -> None:
        with self.conn() as db:
            db.execute("UPDATE jobs SET check_run_id=? WHERE id=?", (check_run_id, job_id))

    def finish(self, job_id: int, error: str | None = None) -> None:
        """A job done drops its text (add_job); a failed one keeps it for a redelivery."""
        with self.conn() as db:
            db.execute(
                "UPDATE jobs SET status=?, error=?, updated=?, "
                "text=CASE WHEN ? THEN text ELSE NULL END WHERE id=?",
                ("failed" if error else "done", error, time.time(), bool(error), job_id),
            )

    def claim_next(self) -> Job | None:
        """Take the next job fairly, when a slot frees: of the installation whose last turn is
        the oldest (never served: first), of its part (own jobs or free comments) and then of
        its commenter whose last turn is the oldest, the oldest due job (lines_of). None when
        no job is due. A job whose repository has one running waits, still queued: claimed, it
        would leave the queue until the repository's lock sent it back, and deliveries in
        between would queue anew instead of merging into it (one vet per push)."""
        now = time.time()
        with self.conn() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    f"SELECT j.id, j.t, j.s, j.c FROM (SELECT id, {_LINES_SQL} FROM jobs WHERE "
                    f"status='queued' AND COALESCE(not_before, 0) <= ? AND ({_FREE_SQL} OR "
                    f"repo NOT IN ({_BUSY_SQL}))) AS j LEFT JOIN turns a ON a.installation = j.t "
                    "LEFT JOIN turns b ON b.installation = j.s LEFT JOIN turns c "
                    "ON c.installation = j.c ORDER BY COALESCE(a.turn, 0), COALESCE(b.turn, 0), "
                    "COALESCE(c.turn, 0), j.id LIMIT 1",
                    (now,),
                ).fetchone()
                if row is None:
                    return None
                db.execute(
                    "UPDATE jobs SET status='running', worker=?, updated=?, not_before=NULL "
                    "WHERE id=?",
                    (worker_id(), now, row[0]),
                )
                turn = db.execute("SELECT COALESCE(MAX(turn), 0) + 1 FROM turns").fetchone()[0]
                db.executemany(
                    "INSERT INTO turns VALUES (?, ?) "
                    "ON CONFLICT(installation) DO UPDATE SET turn=excluded.turn",
                    [(line, turn) for line in set(row[1:])],
                )
            finally:
                db.execute("COMMIT")
        return self.get(row[0])

    def waiting_on_running(self) -> bool:
        """Whether a queued job waits for a running job of its repository."""
        with self.conn() as db:
            row = db.execute(
                f"SELECT 1 FROM jobs WHERE status='queued' AND NOT {_FREE_SQL} AND repo IN "
                f"({_BUSY_SQL}) LIMIT 1"
            ).fetchone()
        return row is not None

    def bind(self, job_id: int) -> None:
        """A free comment job whose command needs its repository (is_free): back in the
        queue, now in its installation's line and one job per repository at a time."""
        with self.conn() as db:
            db.execute(
                "UPDATE jobs SET status='queued', not_before=NULL, updated=?, "
                "payload=json_set(payload, '$.bound', json('true')) "
                "WHERE id=? AND status IN ('queued', 'running')",
                (time.time(), job_id),
            )

    def requeue(self, job_id: int, delay: float = 0.0) -> None:
        """Back in its installation's line (a retry, a busy repository, a dead worker's job),
        due in `delay` seconds; a finished job stays finished."""
        with self.conn() as db:
            db.execute(
                "UPDATE jobs SET status='queued', not_before=?, updated=? "
                "WHERE id=? AND status IN ('queued', 'running')",
                (time.time() + delay, time.time(), job_id),
            )

    def requeue_candidates(self, stale_after: float = 600) -> list[int]:
        """Jobs to run again: left 'running' by a worker that is gone (dead process on this
        host, or no progress for stale_after seconds), or 'queued' and never picked up."""
        now = time.time()
        host = socket.gethostname()
        out = []
        with self.conn() as db:
            rows = db.execute(
                "SELECT id, status, worker, updated FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchall()
        for job_id, status, worker, updated in rows:
            if status == "queued":
                out.append(job_id)
                continue
            w_host, _, pid = (worker or "").partition(":")
            dead = w_host == host and pid.isdigit() and not _alive(int(pid))
            if dead or now - (updated or 0) > stale_after:
                out.append(job_id)
        return out

    def counts(self) -> dict[str, int]:
        with self.conn() as db:
            return dict(db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())

    # -- per-repository locks ---------------------------------------------------------------
    def acquire(self, name: str, ttl: float = 900) -> bool:
        """Take a lock; a lock whose owner died (on this host) or expired is taken over."""
        me, now = f"{worker_id()}:{threading.get_ident()}", time.time()
        with self.conn() as db:
            cur = db.execute("INSERT OR IGNORE INTO locks VALUES (?, ?, ?)", (name, me, now + ttl))
            if cur.rowcount == 1:
                return True
            row = db.execute("SELECT owner, expires FROM locks WHERE name=?", (name,)).fetchone()
            if row is None:
                return self.acquire(name, ttl)
            owner, expires = row
            host, pid = ([*str(owner).split(":"), "", ""])[:2]
            dead = host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))
            if owner == me or dead or expires < now:
                cur = db.execute(
                    "UPDATE locks SET owner=?, expires=? WHERE name=? AND owner=?",
                    (me, now + ttl, name, owner),
                )
                return cur.rowcount == 1
            return False

    def once_per(self, name: str, seconds: float) -> bool:
        """True at most once per `seconds` for `name`, across workers (a rate limit: the
        refusal replies of round 18c F7). Its own rows of the locks table, owned by no
        process, so a job's child exiting frees nothing."""
        now = time.time()
        with self.conn() as db:
            cur = db.execute(
                "INSERT INTO locks VALUES (?, 'rate', ?) ON CONFLICT(name) DO UPDATE SET "
                "expires=excluded.expires WHERE locks.owner='rate' AND locks.expires < ?",
                (f"rate:{name}", now + seconds, now),
            )
            return cur.rowcount == 1

    def release(self, name: str) -> None:
        with self.conn() as db:
            db.execute(
                "DELETE FROM locks WHERE name=? AND owner=?",
                (name, f"{worker_id()}:{threading.get_ident()}"),
            )

    # -- reports ----------------------------------------------------------------------------
    def save_report(self, repo: str, markdown: str) -> None:
        with self.conn() as db:
            self._upsert_report(db, repo, "markdown", markdown)

    def save_runtime(self, repo: str, runtime: str) -> tuple[str, str]:
        with self.conn() as db:
            self._upsert_report(db, repo, "runtime", runtime)
            row = db.execute(
                "SELECT markdown, runtime FROM reports WHERE repo=?", (repo,)
            ).fetchone()
        return row[0], row[1]

    # -- training results per commit (trend and baselines) -----------------------------------
    def save_train_result(self, repo: str, entry: dict[str, Any]) -> None:
        with self.conn() as db:
            db.execute(
                "INSERT OR REPLACE INTO train_results (repo, run_id, created, entry) "
                "VALUES (?, ?, ?, ?)",
                (repo, entry.get("run_id"), entry.get("created", time.time()), json.dumps(entry)),
            )
            # keep the newest KEEP_RESULTS per repository
            db.execute(
                "DELETE FROM train_results WHERE repo=? AND run_id NOT IN (SELECT run_id FROM "
                "train_results WHERE repo=? ORDER BY created DESC LIMIT ?)",
                (repo, repo, KEEP_RESULTS),
            )

    def train_results(self, repo: str, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first."""
        with self.conn() as db:
            rows = db.execute(
                "SELECT entry FROM train_results WHERE repo=? ORDER BY created DESC LIMIT ?",
                (repo, limit),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- accepted findings (`/forkvet accept`), by people with write access ------------------
    def save_acceptance(self, repo: str, key: str, entry: dict[str, Any]) -> None:
        """One acceptance per rule and path: a new one replaces the old (a new reason)."""
        with self.conn() as db:
            db.execute(
                "INSERT OR REPLACE INTO acceptances (repo, key, entry, created) VALUES (?,?,?,?)",
                (repo, key, json.dumps(entry), time.time()),
            )

    def acceptances(self, repo: str) -> list[dict[str, Any]]:
        with self.conn() as db:
            rows = db.execute(
                "SELECT entry FROM acceptances WHERE repo=? ORDER BY created", (repo,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    @staticmethod
    def _upsert_report(
        db: sqlite3.Connection, repo: str, column: Literal["markdown", "runtime"], value: str
    ) -> None:
        # The static report and the runtime results arrive separately; each write keeps the other.
        row = {"markdown": "", "runtime": "", column: value}
        db.execute(
            "INSERT INTO reports (repo, markdown, runtime, updated) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT(repo) DO UPDATE SET {column}=excluded.{column}, updated=excluded.updated",
            (repo, row["markdown"], row["runtime"], time.time()),
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); it is not alive in any useful sense.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True
