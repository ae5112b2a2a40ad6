"""The webhook endpoint: verify the signature over the raw body, record the delivery (a
redelivery is a no-op), enqueue the jobs, answer 202 — in milliseconds. Probot's path."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from bot import queue
from bot.handlers import router
from bot.routing import Event
from bot.settings import Settings
from bot.signature import verify

log = logging.getLogger("forkvet.app")
WEBHOOK_PATH = "/api/github/webhooks"


def _json(code: int, **body: Any) -> Response:
    return Response(json.dumps(body), code, mimetype="application/json")


def create_app(settings: Settings) -> Flask:
    app = Flask("forkvet-app")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    _, store = queue.setup(settings)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_: Exception) -> Response:
        return _json(413, error=f"payload over {settings.max_body_bytes // 1024 // 1024} MB")

    @app.get("/healthz")
    def healthz() -> Response:
        store.counts()
        return _json(200, status="ok")

    @app.post(WEBHOOK_PATH)
    def webhook() -> Response:
        length = request.content_length
        if length is not None and length > settings.max_body_bytes:
            return too_large(RequestEntityTooLarge())
        body = request.get_data(cache=False)
        delivery = request.headers.get("X-GitHub-Delivery", "")
        name = request.headers.get("X-GitHub-Event", "")
        if not verify(settings.webhook_secret, body, request.headers.get("X-Hub-Signature-256")):
            log.warning("bad signature", extra={"delivery": delivery, "event": name})
            return _json(401, error="signature does not match (X-Hub-Signature-256)")
        if not delivery or not name:
            return _json(400, error="X-GitHub-Event and X-GitHub-Delivery are required")
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _json(400, error="body is not JSON")
        if not isinstance(payload, dict):
            return _json(400, error="body is not a JSON object")
        if not store.record_delivery(delivery, name):
            log.info("redelivery ignored", extra={"delivery": delivery, "event": name})
            return _json(202, status="duplicate")
        event = Event(name, delivery, payload)
        specs = [spec for result in router.dispatch(event) for spec in (result or [])]
        queued = 0
        for i, spec in enumerate(specs):
            job_id = store.add_job(f"{delivery}#{i}", spec.kind, spec.repo, spec.payload)
            if job_id is not None:
                queue.enqueue(settings, job_id)
                queued += 1
        log.info(
            "delivery accepted",
            extra={"delivery": delivery, "event": event.full_name, "jobs": queued},
        )
        return _json(202, status="queued" if queued else "ignored", jobs=queued)

    return app
