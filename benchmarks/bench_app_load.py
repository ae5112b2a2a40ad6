"""Load test of the App's webhook endpoint under its production server (gunicorn).

    python benchmarks/bench_app_load.py [--rates 50,100,200] [--seconds 5] [--web-workers 2]

Starts gunicorn on 127.0.0.1 with a throw-away key and database, sends signed fork deliveries
at each rate for a bounded time, and reports acknowledgement latency (p50/p99) and throughput.
Then checks that every accepted delivery produced exactly one job (the jobs table and the
queue). No traffic leaves this machine. Target on 2 cores: p99 < 50 ms at 200 deliveries/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.signature import sign

SECRET = "load-test-webhook-secret-5c1f9e27ab3d"  # the App refuses weak secrets
EXAMPLES = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "github"
    / "node_modules"
    / "@octokit"
    / "webhooks-examples"
    / "api.github.com"
    / "index.json"
)


def payload() -> bytes:
    if EXAMPLES.exists():
        events = {e["name"]: e["examples"] for e in json.loads(EXAMPLES.read_text())}
        body = next(x for x in events["repository"] if x.get("action") == "created")
    else:
        body = {"action": "created", "repository": {}}
    body["repository"].update({"full_name": "load/test", "name": "test", "fork": True})
    body["installation"] = {"id": 1}
    return json.dumps(body).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def run_rate(
    port: int, rate: int, seconds: float, body: bytes, threads: int = 16
) -> tuple[list[float], int, int]:
    interval = 1.0 / rate
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    counter = iter(range(total))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in counter:
            due = start + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            headers = {
                "X-GitHub-Event": "repository",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(SECRET, body),
                "Content-Type": "application/json",
            }
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/github/webhooks", body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    return latencies, statuses.get(202, 0), int(total / elapsed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="50,100,200")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--web-workers", type=int, default=2)
    args = ap.parse_args()
    body = payload()
    with tempfile.TemporaryDirectory(prefix="forkvet-load-") as tmp:
        db = str(Path(tmp) / "app.sqlite3")
        port = free_port()
        env = {
            **os.environ,
            "FORKVET_APP_ID": "1",
            "FORKVET_WEBHOOK_SECRET": SECRET,
            "FORKVET_PRIVATE_KEY": private_key(),
            "FORKVET_DB": db,
            "FORKVET_GITHUB_API_URL": "http://127.0.0.1:9",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bot.wsgi:app",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.web_workers),
            ],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                        "GET", "/healthz"
                    )
                    break
                except OSError:
                    time.sleep(0.1)
            accepted_total = 0
            print(
                f"{'rate/s':>7} {'sent':>6} {'202':>6} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'achieved/s':>10}"
            )
            for rate in (int(r) for r in args.rates.split(",")):
                lat, accepted, achieved = run_rate(port, rate, args.seconds, body)
                accepted_total += accepted
                q = statistics.quantiles(lat, n=100)
                print(
                    f"{rate:>7} {len(lat):>6} {accepted:>6} {statistics.median(lat):7.1f} "
                    f"{q[98]:7.1f} {achieved:>10}"
                )
        finally:
            server.terminate()
            server.wait(timeout=20)
        with sqlite3.connect(db) as conn:
            jobs = conn.execute("SELECT COUNT(*), COUNT(DISTINCT delivery) FROM jobs").fetchone()
        with sqlite3.connect(db + ".queue") as conn:
            queued = conn.execute("SELECT COUNT(*) FROM task").fetchone()[0]
        ok = jobs[0] == jobs[1] == accepted_total == queued
        print(
            f"accepted {accepted_total}, jobs {jobs[0]} (distinct deliveries {jobs[1]}), "
            f"queued {queued}: {'exactly one job per delivery' if ok else 'MISMATCH'}"
        )


if __name__ == "__main__":
    main()
