"""The webhook endpoint: verify the signature over the raw body, record the delivery, enqueue
the jobs, answer 202 — in milliseconds. Probot's path.

A delivery id seen before is GitHub's "Redeliver": a no-op, unless its jobs failed, which then
run again. A signed body seen before under another delivery id is a replay and is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import tempfile
import time
from typing import IO, Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from bot import bigjson, queue, schema
from bot.handlers import router
from bot.routing import Event
from bot.settings import Settings
from bot.store import Store
from forkvet import rx

log = logging.getLogger("forkvet.app")
WEBHOOK_PATH = "/api/github/webhooks"
# GitHub's payloads nest about a dozen levels; anything far deeper is not GitHub's.
MAX_JSON_DEPTH = 64
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # depth does not depend on the bracket's kind
_NOT_SKELETON = bytes(b for b in range(256) if b not in b'"[]{}')
SCAN_CHUNK = 256 * 1024


def _json(code: int, **body: Any) -> Response:
    return Response(json.dumps(body), code, mimetype="application/json")


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH, chunk: int = 0) -> bool:
    """True when the JSON nests deeper than `limit`, found without parsing it: strings out,
    brackets only, then one innermost level removed per pass. Bytes operations only (each
    pass linear, in C): a regex engine's per-match cost on 25 MB of `[]` was seconds. The
    strings come out a slice at a time (round 19c A3): no single C call holds the GIL of the
    web worker for long on a large delivery, so other tenants' requests keep running."""
    brackets = _outside_strings(body, chunk or SCAN_CHUNK).translate(_ONE_KIND, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        inner = brackets.replace(b"[]", b"")  # every innermost pair: one level
        if len(inner) == len(brackets):
            return False  # unbalanced: the parser will say it is not JSON
        brackets = inner
    return bool(brackets)


SIGNATURE_HEADER = rx.compile(r"sha256=[0-9a-f]{64}")
CHUNK = 64 * 1024
SPOOL_BYTES = 1024 * 1024


class BodyCutShort(Exception):
    """The body ended before its Content-Length: the client hung up, or (under `serve`) did
    not send it within the server's read deadline (bot.webworker)."""


def read_signed(stream: IO[bytes], length: int, secret: str, header: str) -> bytes | None:
    """The body when its HMAC matches `header`, else None; BodyCutShort when it ends early.
    Read in chunks: a forged body costs at most SPOOL_BYTES of memory (the rest spools to
    disk until the signature is known), never its whole size."""
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        left = length
        while left > 0:
            try:
                chunk = stream.read(min(CHUNK, left))
            except OSError:
                chunk = b""
            if not chunk:
                raise BodyCutShort
            mac.update(chunk)
            spool.write(chunk)
            left -= len(chunk)
        if not hmac.compare_digest("sha256=" + mac.hexdigest(), header):
            return None
        spool.seek(0)
        return spool.read()


def _outside_strings(body: bytes, chunk: int) -> bytes:
    """The body's quotes and brackets outside its JSON strings (and, when the last string is
    never closed, those in it, as the parser will see them), read `chunk` bytes at a time.
    Escapes pair left to right as JSON reads them (`\\\\` first, then `\\"`; an odd
    backslash at a slice's end waits for the next slice), so every quote left opens or
    closes a string; everything but quotes and brackets is dropped slice by slice."""
    outside: list[bytes] = []
    open_string: list[bytes] = []
    inside, carry = False, b""
    for start in range(0, len(body), chunk):
        data = carry + body[start : start + chunk] if carry else body[start : start + chunk]
        odd = data.endswith(b"\\") and (len(data) - len(data.rstrip(b"\\"))) % 2
        carry, data = (data[-1:], data[:-1]) if odd else (b"", data)
        parts = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_SKELETON)
        for i, part in enumerate(parts.split(b'"')):
            if i:  # a quote: a string opens or closes
                inside = not inside
                open_string.clear()
            (open_string if inside else outside).append(part)
    return b"".join(outside + open_string)


def create_app(settings: Settings) -> Flask:
    app = Flask("forkvet-app")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    _, store = queue.setup(settings)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_: Exception) -> Response:
        return _too_large(settings)

    @app.get("/healthz")
    def healthz() -> Response:
        return _health(settings, store)

    @app.post(WEBHOOK_PATH)
    def webhook() -> Response:
        return _webhook(settings, store)

    return app


def _too_large(settings: Settings) -> Response:
    return _json(413, error=f"payload over {settings.max_body_bytes // 1024 // 1024} MB")


def _health(settings: Settings, store: Store) -> Response:
    counts = store.counts()
    seen = store.last_heartbeat()
    age = None if seen is None else time.time() - seen
    if age is None or age > settings.health_max_age_s:
        # The web side alone accepts deliveries that nobody will ever process.
        return _json(
            503,
            status="no worker",
            detail="no queue worker has been seen"
            + ("" if age is None else f" for {age:.0f} s")
            + ": start `forkvet-app worker` (or `forkvet-app serve`)",
            jobs=counts,
        )
    return _json(200, status="ok", worker_seen_s_ago=round(age, 1), jobs=counts)


def _webhook(settings: Settings, store: Store) -> Response:
    received = _verified_delivery(settings)
    if isinstance(received, Response):
        return received
    delivery, name, body, payload = received
    event = Event(name, delivery, payload)
    try:
        specs = _jobs_of(event)
    except _SHAPE_ERRORS as exc:
        # A signed body whose fields are not of the types GitHub documents (`repository: 5`):
        # the handlers decide on nothing they cannot read, and the sender is told.
        log.warning(
            "payload of unexpected shape",
            extra={"delivery": delivery, "event": name, "error": type(exc).__name__},
        )
        return _json(400, error=f"{name} payload has fields of unexpected types")
    state = store.record_delivery(delivery, name, hashlib.sha256(body).hexdigest())
    if state == "replay":
        log.warning("replayed delivery refused", extra={"delivery": delivery, "event": name})
        return _json(409, error="this signed payload was already delivered")
    if state == "redelivery":
        return _redelivery(settings, store, delivery, name)
    queued, merged = _enqueue_jobs(settings, store, event, specs)
    log.info(
        "delivery accepted",
        extra={"delivery": delivery, "event": event.full_name, "jobs": queued, "merged": merged},
    )
    if merged and not queued:
        # A queued job for the same repository takes this delivery's place (round 18c F8).
        return _json(202, status="merged", jobs=0, merged=merged)
    return _json(202, status="queued" if queued else "ignored", jobs=queued)


def _verified_delivery(settings: Settings) -> tuple[str, str, bytes, dict[str, Any]] | Response:
    """(delivery id, event name, body, payload) of a signed, bounded JSON delivery, or the
    response that refuses it."""
    delivery = request.headers.get("X-GitHub-Delivery", "")
    name = request.headers.get("X-GitHub-Event", "")
    length = request.content_length
    if length is None:
        return _json(411, error="Content-Length is required")
    if length > settings.max_body_bytes:
        return _too_large(settings)
    header = request.headers.get("X-Hub-Signature-256", "")
    # Unsigned: refused before a byte of the body is read. Signed: the signature is
    # checked while the body streams in (memory bounded), before anything parses it.
    try:
        body = (
            read_signed(request.stream, length, settings.webhook_secret, header)
            if SIGNATURE_HEADER.fullmatch(header)
            else None
        )
    except BodyCutShort:
        log.warning("body cut short", extra={"delivery": delivery[:64], "event": name[:64]})
        return _json(408, error="the body did not arrive in full (Content-Length) in time")
    if body is None:
        log.warning("bad signature", extra={"delivery": delivery[:64], "event": name[:64]})
        return _json(401, error="signature does not match (X-Hub-Signature-256)")
    if not delivery or not name or len(delivery) > 128 or len(name) > 64:
        return _json(400, error="X-GitHub-Event and X-GitHub-Delivery are required")
    if too_deep(body):
        return _json(400, error=f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        # A 5,000-digit number is no JSON either; a large body is parsed a member at a time.
        payload = bigjson.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _json(400, error="body is not JSON")
    if not isinstance(payload, dict):
        return _json(400, error="body is not a JSON object")
    if not unicode_text(payload):
        return _json(400, error="body holds a lone surrogate: its text is not Unicode")
    inst = payload.get("installation")
    if isinstance(inst, dict) and "id" in inst and not _is_id(inst["id"]):
        return _json(400, error="installation.id is not a positive 64-bit integer")
    if not schema.finite(payload):
        return _json(400, error="body holds a number that is not finite (NaN, Infinity)")
    if (field := schema.mismatch(payload)) is not None:
        log.warning("payload field refused", extra={"delivery": delivery[:64], "field": field})
        return _json(
            400,
            error=f"{name} payload has fields of unexpected types: {field[:200]} is not "
            f"of the type GitHub documents",
        )
    return delivery, name, body, payload


def unicode_text(value: Any) -> bool:
    """Whether every string of the payload (keys too) is Unicode text, as UTF-8 can hold it
    (round 21c F4): JSON's `\\ud800` unpaired decodes to a lone surrogate, which no store, log
    or GitHub request can encode, so such a delivery is refused here, once, not wherever its
    strings are written later (a 500). An iterative walk: no recursion on deep payloads."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += item.keys()
            stack += item.values()
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _is_id(value: Any) -> bool:
    """GitHub's ids are positive 64-bit integers (JSON true is a bool, not an id)."""
    return type(value) is int and 0 < value < 2**63


def _redelivery(settings: Settings, store: Store, delivery: str, name: str) -> Response:
    """GitHub sent this delivery again: retry its failed jobs, nothing else."""
    retried = store.retry_failed(delivery)
    for _ in retried:
        queue.enqueue(settings)
    log.info("redelivery", extra={"delivery": delivery, "event": name, "retried": retried})
    if retried:
        return _json(202, status="retried", jobs=len(retried))
    return _json(202, status="duplicate")


# What reading a field of the wrong JSON type raises in a handler.
_SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError)


def _jobs_of(event: Event) -> list[Any]:
    """The jobs the handlers ask for (they decide; nothing is recorded or queued). A job for
    a repository whose name is not a string (`full_name: [..]` in a signed body) is a body
    of unexpected shape, refused like the others."""
    specs = [spec for result in router.dispatch(event) for spec in (result or [])]
    if any(not isinstance(spec.repo, str) for spec in specs):
        raise TypeError("repository.full_name is not a string")
    return specs


def _enqueue_jobs(
    settings: Settings, store: Store, event: Event, specs: list[Any]
) -> tuple[int, int]:
    """The jobs the handlers asked for, recorded once per delivery and queued, or merged into
    the same repository's queued job (a vet, which reads the fork when it runs): how many of
    each. So a fork pushed N times while its vet waits or runs costs at most two vets."""
    queued = merged = 0
    for i, spec in enumerate(specs):
        job_id, into = store.add_or_merge(
            f"{event.delivery}#{i}", spec.kind, spec.repo, spec.payload, spec.text
        )
        if into:
            merged += 1
        elif job_id is not None:
            queue.enqueue(settings)
            queued += 1
    return queued, merged
