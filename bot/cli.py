"""`forkvet-app serve` (web + worker on one machine) and `forkvet-app worker` (a worker alone,
for Redis deployments)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from bot import queue
from bot.logs import configure
from bot.settings import Settings, SettingsError


def run_worker(settings: Settings) -> None:
    huey, _ = queue.setup(settings)
    queue.requeue_stale(settings)
    consumer = huey.create_consumer(
        workers=settings.workers, worker_type="thread", periodic=False, check_worker_health=True
    )
    consumer.run()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="forkvet-app", description="The forkvet GitHub App.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="web server (gunicorn) and a worker, on one machine")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--web-workers", type=int, default=2)
    sub.add_parser("worker", help="a queue worker alone")
    args = parser.parse_args(argv)
    configure()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"forkvet-app: error: {exc}", file=sys.stderr)
        return 2
    if args.command == "worker":
        run_worker(settings)
        return 0
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bot.wsgi:app",
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(args.web_workers),
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        env=os.environ.copy(),
    )

    def stop(*_: object) -> None:
        web.terminate()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        run_worker(settings)
    finally:
        web.terminate()
        web.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
