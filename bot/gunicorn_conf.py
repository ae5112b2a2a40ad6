"""gunicorn settings for the webhook server (`gunicorn -c python:bot.gunicorn_conf`).

gthread workers, bounded (bot.webworker): a connection waits in the worker's poller until it
has data, and only then takes one of the worker's threads; each request must arrive whole
(headers and body) within FORKVET_WEB_READ_S seconds of its first byte, and one address holds
at most FORKVET_WEB_PEER_THREADS threads at once (more are answered 503 without a thread), so
slow clients from one address cost a bounded share of the threads for a bounded time and
`/healthz` and GitHub's deliveries keep theirs. Requests are small and bounded (GitHub's
headers; bodies up to 25 MB, checked by the App). For an App reachable from the whole
internet, a reverse proxy that buffers requests (nginx, Caddy, a cloud load balancer) in front
still helps against many addresses at once; set FORKVET_WEB_PEER_THREADS=0 behind it.
"""

import os

worker_class = "bot.webworker.BoundedThreadWorker"
workers = int(os.environ.get("FORKVET_WEB_WORKERS", "2"))
threads = int(os.environ.get("FORKVET_WEB_THREADS", "16"))
# A worker whose main loop is silent this long is restarted; requests answer in milliseconds.
timeout = 30
graceful_timeout = 10
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
loglevel = "warning"
# gunicorn's own lines (access and errors) as the App's JSON lines, not plain text among them.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "bot.logs.JsonFormatter"}},
    "handlers": {
        "json": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "WARNING", "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
    },
}
