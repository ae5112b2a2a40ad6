"""The Store on Redis, for FORKVET_REDIS_URL deployments: web processes and workers on many
machines share deliveries, job records, locks and reports (the SQLite Store is one machine's).
Same interface as bot.store.Store; state changes that must be atomic are small Lua scripts."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, cast

import redis

from bot.store import (
    COALESCED_KINDS,
    KEEP_RESULTS,
    REPLAY_WINDOW_S,
    DeliveryState,
    Job,
    _alive,
    is_free,
    lines_of,
    merge_payloads,
    worker_id,
)

P = "forkvet:"
DELIVERY_TTL_S = 7 * 24 * 3600
_STATUSES = ("queued", "running", "done", "failed")

# KEYS: job hash, queued set, running set, done set; ARGV: id, worker, now
_START = """
local status = redis.call('HGET', KEYS[1], 'status')
if (not status) or status == 'done' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[2], 'updated', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""
# KEYS: job hash, queued set, running set, turns hash, turn counter; ARGV: id, worker, now,
# then the job's lines (store.lines_of), each given the same new turn
_CLAIM = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[2], 'updated', ARGV[3],
  'not_before', '')
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
local turn = redis.call('INCR', KEYS[5])
for i = 4, #ARGV do redis.call('HSET', KEYS[4], ARGV[i], turn) end
return 1
"""
# KEYS: job hash, queued set, running set; ARGV: id, not before, now
_REQUEUE = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'queued', 'not_before', ARGV[2], 'updated', ARGV[3])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
# KEYS: delivery key, body key; ARGV: delivery id, body hash, window s
_DELIVER = """
local body_owner = false
if ARGV[2] ~= '' then body_owner = redis.call('GET', KEYS[2]) end
if body_owner and body_owner ~= ARGV[1] then return 'replay' end
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3]) then
  if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3]) end
  return 'new'
end
if redis.call('GET', KEYS[1]) == ARGV[2] then return 'redelivery' end
return 'replay'
"""
# KEYS: lock; ARGV: expected owner, new owner, ttl ms
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# redis-py types every command for its sync and async clients at once (`Awaitable[T] | T`);
# this client is the sync one, so each read says what it returns (decode_responses: str).
def _new_job(
    delivery: str, kind: str, repo: str, payload: dict[str, Any], text: str | None = None
) -> dict[str, Any]:
    job = {
        "delivery": delivery,
        "kind": kind,
        "repo": repo,
        "payload": json.dumps(payload),
        "status": "queued",
        "attempts": 0,
        "updated": time.time(),
        "check_run_id": "",
    }
    # A comment's text: a field of its own, which choosing the next job never reads.
    return job if text is None else {**job, "text": text}


def _hash(r: redis.Redis, key: str) -> dict[str, str]:
    return cast(dict[str, str], r.hgetall(key))


def _members(r: redis.Redis, key: str) -> set[str]:
    return cast(set[str], r.smembers(key))


def _value(r: redis.Redis, key: str) -> str | None:
    return cast(str | None, r.get(key))


class RedisStore:
    def __init__(self, url: str) -> None:
        self.r = redis.Redis.from_url(url, decode_responses=True)
        self._start = self.r.register_script(_START)
        self._claim = self.r.register_script(_CLAIM)
        self._requeue = self.r.register_script(_REQUEUE)
        self._deliver = self.r.register_script(_DELIVER)
        self._take_over = self.r.register_script(_TAKE_OVER)
        self._release = self.r.register_script(_RELEASE)

    # -- deliveries ------------------------------------------------------------------------
    def record_delivery(self, delivery: str, event: str, body_hash: str = "") -> DeliveryState:
        # One Lua script: the body check and both records are atomic across web processes.
        state = self._deliver(
            keys=[f"{P}delivery:{delivery}", f"{P}body:{body_hash}"],
            args=[delivery, body_hash, REPLAY_WINDOW_S],
        )
        return "new" if state == "new" else "redelivery" if state == "redelivery" else "replay"

    def retry_failed(self, delivery: str) -> list[int]:
        out = []
        for raw in _members(self.r, f"{P}jobs:failed"):
            h = _hash(self.r, f"{P}job:{raw}")
            d = h.get("delivery", "")
            if d == delivery or d.startswith(delivery + "#"):
                pipe = self.r.pipeline()
                pipe.hset(
                    f"{P}job:{raw}",
                    mapping={
                        "status": "queued",
                        "attempts": 0,
                        "spent": 0,
                        "error": "",
                        "not_before": "",
                        "updated": time.time(),
                    },
                )
                pipe.srem(f"{P}jobs:failed", raw)
                pipe.sadd(f"{P}jobs:queued", raw)
                pipe.execute()
                out.append(int(raw))
        return out

    # -- worker heartbeats ------------------------------------------------------------------
    def heartbeat(self, worker: str) -> None:
        self.r.set(f"{P}heartbeat", time.time(), ex=DELIVERY_TTL_S)

    def last_heartbeat(self) -> float | None:
        value = _value(self.r, f"{P}heartbeat")
        return float(value) if value else None

    # -- jobs -------------------------------------------------------------------------------
    def add_job(
        self,
        delivery: str,
        kind: str,
        repo: str,
        payload: dict[str, Any],
        text: str | None = None,
    ) -> int | None:
        if not self.r.set(f"{P}job-delivery:{delivery}", 1, nx=True, ex=DELIVERY_TTL_S):
            return None
        job_id = cast(int, self.r.incr(f"{P}jobs:next"))
        pipe = self.r.pipeline()
        pipe.hset(f"{P}job:{job_id}", mapping=_new_job(delivery, kind, repo, payload, text))
        pipe.sadd(f"{P}jobs:queued", job_id)
        pipe.execute()
        return job_id

    def job_text(self, job_id: int) -> str | None:
        return cast(str | None, self.r.hget(f"{P}job:{job_id}", "text"))

    def add_or_merge(
        self,
        delivery: str,
        kind: str,
        repo: str,
        payload: dict[str, Any],
        text: str | None = None,
    ) -> tuple[int | None, bool]:
        """As Store.add_or_merge. `coalesce:KIND:REPO` names the last such job: merged into
        while its status is still queued, else a new job takes its place; both in one WATCH
        transaction (a worker claiming the job, or another web process adding one, meanwhile
        makes it fail, and the next try sees what they did)."""
        if kind not in COALESCED_KINDS:
            return self.add_job(delivery, kind, repo, payload, text), False
        if not self.r.set(f"{P}job-delivery:{delivery}", 1, nx=True, ex=DELIVERY_TTL_S):
            return None, False
        index = f"{P}coalesce:{kind}:{repo}"
        with self.r.pipeline() as pipe:
            tx = cast(Any, pipe)  # redis-py's pipeline is untyped in WATCH mode
            while True:
                try:
                    tx.watch(index)
                    last = cast(str | None, tx.get(index))
                    if last:
                        job_key = f"{P}job:{int(last)}"
                        tx.watch(job_key)
                        status, old = cast(
                            list[str | None], tx.hmget(job_key, ["status", "payload"])
                        )
                        if status == "queued" and old:
                            merged = merge_payloads(json.loads(old), payload)
                            pipe.multi()
                            pipe.hset(job_key, "payload", json.dumps(merged))
                            pipe.execute()
                            return int(last), True
                    job_id = cast(int, self.r.incr(f"{P}jobs:next"))
                    pipe.multi()
                    pipe.hset(f"{P}job:{job_id}", mapping=_new_job(delivery, kind, repo, payload))
                    pipe.sadd(f"{P}jobs:queued", job_id)
                    pipe.set(index, job_id, ex=DELIVERY_TTL_S)
                    pipe.execute()
                    return job_id, False
                except redis.WatchError:
                    continue

    def get(self, job_id: int) -> Job | None:
        h = _hash(self.r, f"{P}job:{job_id}")
        if not h:
            return None
        return Job(
            job_id,
            h["delivery"],
            h["kind"],
            h["repo"],
            json.loads(h["payload"]),
            h["status"],
            int(h.get("attempts", 0)),
            int(h["check_run_id"]) if h.get("check_run_id") else None,
            float(h.get("spent") or 0),
        )

    def add_spent(self, job_id: int, seconds: float) -> None:
        self.r.hincrbyfloat(f"{P}job:{job_id}", "spent", seconds)

    def start(self, job_id: int) -> bool:
        keys = [f"{P}job:{job_id}", f"{P}jobs:queued", f"{P}jobs:running", f"{P}jobs:done"]
        return bool(self._start(keys=keys, args=[job_id, worker_id(), time.time()]))

    def set_check_run(self, job_id: int, check_run_id: int) -> None:
        self.r.hset(f"{P}job:{job_id}", "check_run_id", str(check_run_id))

    def finish(self, job_id: int, error: str | None = None) -> None:
        status = "failed" if error else "done"
        pipe = self.r.pipeline()
        pipe.hset(
            f"{P}job:{job_id}",
            mapping={"status": status, "error": error or "", "updated": time.time()},
        )
        if not error:  # a job done drops its text; a failed one keeps it for a redelivery
            pipe.hdel(f"{P}job:{job_id}", "text")
        for other in ("queued", "running"):
            pipe.srem(f"{P}jobs:{other}", job_id)
        pipe.sadd(f"{P}jobs:{status}", job_id)
        pipe.execute()

    def claim_next(self) -> Job | None:
        """As Store.claim_next: chosen here from the job records, claimed by one script that
        fails when another worker took the job first (then choose again). A repository with a
        job running waits as there; two workers choosing at once still meet its lock."""
        while True:
            ids = sorted(int(raw) for raw in _members(self.r, f"{P}jobs:queued"))
            pipe = self.r.pipeline()
            for job_id in ids:
                pipe.hmget(f"{P}job:{job_id}", ["payload", "not_before", "repo", "kind"])
            rows = pipe.execute()
            busy = self._running_repos()
            turns = _hash(self.r, f"{P}turns")
            now = time.time()
            due = [
                ([int(turns.get(line, 0)) for line in lines], job_id, lines)
                for job_id, (raw, not_before, repo, kind) in zip(ids, rows, strict=True)
                if raw and float(not_before or 0) <= now
                for payload in [json.loads(raw)]
                if is_free(kind, payload) or repo not in busy
                for lines in [lines_of(kind, payload)]
            ]
            if not due:
                return None
            _, job_id, lines = min(due)
            keys = [
                f"{P}job:{job_id}",
                f"{P}jobs:queued",
                f"{P}jobs:running",
                f"{P}turns",
                f"{P}turns:next",
            ]
            if self._claim(keys=keys, args=[job_id, worker_id(), now, *lines]):
                return self.get(job_id)

    def waiting_on_running(self) -> bool:
        busy = self._running_repos()
        return any(repo in busy for repo in self._repos("queued"))

    def _running_repos(self) -> set[str]:
        return set(self._repos("running"))

    def _repos(self, status: str) -> list[str]:
        """The repositories of the jobs of this status that hold or wait for their
        repository's line (every job but a free comment, store.is_free)."""
        pipe = self.r.pipeline()
        for raw in _members(self.r, f"{P}jobs:{status}"):
            pipe.hmget(f"{P}job:{raw}", ["repo", "kind", "payload"])
        return [
            str(repo)
            for repo, kind, payload in pipe.execute()
            if repo and payload and not is_free(kind, json.loads(payload))
        ]

    def bind(self, job_id: int) -> None:
        """As Store.bind: the job's payload says `bound`, and it is queued again."""
        key = f"{P}job:{job_id}"
        payload = self.r.hget(key, "payload")
        if payload:
            self.r.hset(key, "payload", json.dumps({**json.loads(str(payload)), "bound": True}))
        self.requeue(job_id)

    def requeue(self, job_id: int, delay: float = 0.0) -> None:
        keys = [f"{P}job:{job_id}", f"{P}jobs:queued", f"{P}jobs:running"]
        self._requeue(keys=keys, args=[job_id, time.time() + delay, time.time()])

    def requeue_candidates(self, stale_after: float = 600) -> list[int]:
        now, host = time.time(), socket.gethostname()
        out = [int(i) for i in _members(self.r, f"{P}jobs:queued")]
        for raw in _members(self.r, f"{P}jobs:running"):
            h = _hash(self.r, f"{P}job:{raw}")
            w_host, _, pid = h.get("worker", "").partition(":")
            dead = w_host == host and pid.isdigit() and not _alive(int(pid))
            if dead or now - float(h.get("updated") or 0) > stale_after:
                out.append(int(raw))
        return out

    def counts(self) -> dict[str, int]:
        return {s: n for s in _STATUSES if (n := cast(int, self.r.scard(f"{P}jobs:{s}")))}

    # -- per-repository locks ---------------------------------------------------------------
    def acquire(self, name: str, ttl: float = 900) -> bool:
        me = f"{worker_id()}:{threading.get_ident()}"
        key, ms = f"{P}lock:{name}", int(ttl * 1000)
        if self.r.set(key, me, nx=True, px=ms):
            return True
        owner = _value(self.r, key)
        if owner is None:
            return bool(self.r.set(key, me, nx=True, px=ms))
        host, pid = ([*str(owner).split(":"), "", ""])[:2]
        dead = host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))
        if owner == me or dead:
            return bool(self._take_over(keys=[key], args=[owner, me, ms]))
        return False  # the TTL frees it if its owner died on another machine

    def once_per(self, name: str, seconds: float) -> bool:
        """As Store.once_per: a key that lives `seconds`."""
        return bool(self.r.set(f"{P}rate:{name}", 1, nx=True, px=max(1, int(seconds * 1000))))

    def release(self, name: str) -> None:
        self._release(keys=[f"{P}lock:{name}"], args=[f"{worker_id()}:{threading.get_ident()}"])

    # -- reports ----------------------------------------------------------------------------
    def save_report(self, repo: str, markdown: str) -> None:
        self.r.hset(f"{P}report:{repo}", mapping={"markdown": markdown, "updated": time.time()})

    def save_runtime(self, repo: str, runtime: str) -> tuple[str, str]:
        self.r.hset(f"{P}report:{repo}", mapping={"runtime": runtime, "updated": time.time()})
        h = _hash(self.r, f"{P}report:{repo}")
        return h.get("markdown", ""), h.get("runtime", "")

    # -- accepted findings (`/forkvet accept`) ---------------------------------------------
    def save_acceptance(self, repo: str, key: str, entry: dict[str, Any]) -> None:
        self.r.hset(f"{P}accept:{repo}", key, json.dumps(entry, sort_keys=True))

    def acceptances(self, repo: str) -> list[dict[str, Any]]:
        rows = _hash(self.r, f"{P}accept:{repo}")
        entries = [json.loads(v) for v in rows.values()]
        return sorted(entries, key=lambda e: str(e.get("at", "")))

    # -- training results per commit --------------------------------------------------------
    def save_train_result(self, repo: str, entry: dict[str, Any]) -> None:
        key = f"{P}train:{repo}"
        pipe = self.r.pipeline()
        pipe.zadd(
            key, {json.dumps(entry, sort_keys=True): float(entry.get("created", time.time()))}
        )
        pipe.zremrangebyrank(key, 0, -KEEP_RESULTS - 1)
        pipe.execute()

    def train_results(self, repo: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = cast(list[str], self.r.zrevrange(f"{P}train:{repo}", 0, limit - 1))
        seen: set[Any] = set()
        out = []
        for raw in rows:
            entry = json.loads(raw)
            if entry.get("run_id") not in seen:  # a re-run of the same run: newest wins
                seen.add(entry.get("run_id"))
                out.append(entry)
        return out
