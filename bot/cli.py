"""`forkvet-app serve` (web + worker on one machine, supervised) and `forkvet-app worker` (a
worker alone, for Redis deployments).

`serve` is a small supervisor: it binds the port itself (a port in use is a one-line error and
exit 2, never a silent worker-only App), hands the socket to gunicorn, starts one queue worker,
forwards SIGTERM/SIGINT to both, and exits non-zero as soon as either child dies, so Docker or
systemd restarts the whole App. Its children get SIGTERM from the kernel if `serve` itself is
killed (PR_SET_PDEATHSIG on Linux): no orphaned gunicorn.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from bot import isolate, queue
from bot.logs import configure
from bot.settings import Settings, SettingsError

log = logging.getLogger("forkvet.app")
STOP_GRACE_S = 30.0


def run_worker(settings: Settings) -> None:
    huey, store = queue.setup(settings)
    queue.requeue_stale(settings)
    queue.start_heartbeat(settings, store)
    consumer = huey.create_consumer(
        workers=settings.workers, worker_type="thread", periodic=False, check_worker_health=True
    )
    try:
        # SIGTERM: huey stops at once; the jobs' children go with it (re-queued on restart).
        consumer.run()
    finally:
        isolate.kill_all()


def _die_with_parent() -> Callable[[], None] | None:
    """preexec_fn: the child gets SIGTERM when `serve` dies, even by SIGKILL (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise SettingsError(
            f"cannot listen on {host}:{port}: {exc.strerror} (is another forkvet-app "
            f"already serving there? choose another --port)"
        ) from exc
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace, settings: Settings) -> int:
    sock = _listen(args.host, args.port)
    env = os.environ.copy()
    if settings.allow_unpinned:
        env["FORKVET_ALLOW_UNPINNED"] = "1"
    preexec = _die_with_parent()
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bot.wsgi:app",
            "--config",
            "python:bot.gunicorn_conf",
            "--bind",
            f"fd://{sock.fileno()}",
            "--workers",
            str(args.web_workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        pass_fds=(sock.fileno(),),
        preexec_fn=preexec,  # no threads yet in this process: preexec_fn is safe
    )
    sock.close()
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, preexec_fn=preexec
    )
    children = {"web server (gunicorn)": web, "queue worker": worker}
    stopping: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    log.info(
        "serving",
        extra={"bind": f"{args.host}:{args.port}", "web": web.pid, "worker": worker.pid},
    )
    status = 0
    while not stopping:
        dead = [(name, p) for name, p in children.items() if p.poll() is not None]
        if dead:
            name, proc = dead[0]
            print(
                f"forkvet-app: error: the {name} exited with status {proc.returncode}; "
                f"stopping the App so that it can be restarted whole",
                file=sys.stderr,
            )
            status = 1
            break
        time.sleep(0.2)
    _stop(children)
    return status


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    # gunicorn stops gracefully on SIGTERM; the worker stops at once on SIGTERM and kills its
    # jobs' children (a job may run for its whole budget; the next worker runs it again).
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()  # a job left running is re-queued by the next worker
            proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="forkvet-app", description="The forkvet GitHub App.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_p = sub.add_parser("serve", help="web server (gunicorn) and a worker, supervised")
    serve_p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    serve_p.add_argument("--host", default="0.0.0.0")
    serve_p.add_argument("--web-workers", type=int, default=2)
    serve_p.add_argument("--threads", type=int, default=16, help="threads per web worker")
    worker_p = sub.add_parser("worker", help="a queue worker alone")
    for p in (serve_p, worker_p):
        p.add_argument(
            "--allow-unpinned",
            action="store_true",
            help="development only: run without FORKVET_ACTION_REF (every setup pull "
            "request then says its workflow is not pinned)",
        )
    args = parser.parse_args(argv)
    configure()
    try:
        settings = Settings.from_env(allow_unpinned=args.allow_unpinned)
        if not settings.pinned:
            log.warning(
                "FORKVET_ACTION_REF is not set: setup pull requests will carry unpinned "
                "forkvet actions and a warning (development only)"
            )
        if args.command == "worker":
            run_worker(settings)
            return 0
        return serve(args, settings)
    except SettingsError as exc:
        print(f"forkvet-app: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
