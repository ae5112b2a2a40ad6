"""Structured JSON logs, one object per line, carrying the delivery id. Secrets and tokens
are never logged: records carry ids and repository names only."""

from __future__ import annotations

import json
import logging
import sys
import time

from forkvet.redact import redact

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[0] is not None:
            data["error_type"] = record.exc_info[0].__name__
        # An exception's text can quote a URL with the worker's index credentials.
        return redact(json.dumps(data, default=str))


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # PyGithub logs request URLs at debug only; keep third parties at warning.
    for noisy in ("github", "urllib3", "huey", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
