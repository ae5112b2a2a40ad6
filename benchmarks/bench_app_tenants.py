"""Tenants under attack: does one hostile fork slow the App down for everybody else?

    python benchmarks/bench_app_tenants.py [--budget 30] [--workers 4] [--probe-rate 20]
    python benchmarks/bench_app_tenants.py --scenario backlog [--workers 2] [--backlog 30]
    python benchmarks/bench_app_tenants.py --scenario stream [--workers 1] [--backlog 12]

Runs the real App against the GitHub emulator (tests/github, validated with GitHub's OpenAPI
description): gunicorn serving the webhook (2 workers), and a queue worker process whose jobs
run in child processes with their time and memory budgets (bot.isolate). Then:

1. a benign fork alone: seconds from its delivery to a completed check run, report issue
   and setup pull request;
2. two hostile forks, then, while both are being processed, a second benign fork (as soon
   as both hostile jobs run) and a third (12 s into the attack, when the hostile jobs have
   dropped to the lowest CPU priority): their time to vetted, and the webhook latency
   (p50/p99) of signed deliveries for other forks sent at --probe-rate per second all along.
   Target: p99 < 50 ms; the benign forks in about their time alone.

`--scenario backlog` measures fairness between tenants instead: installation A sends one
`installation_repositories.added` delivery listing --backlog ordinary forks, and one second
later installation B installs on its one fork. It reports B's seconds to vetted, B's fork
alone for comparison, and when A's backlog finished (when a slot frees the queue takes the
oldest job of the installation served least recently, so B waits for the jobs already
running, not for A's 30).

`--scenario stream` is the stream that starved a backlog while the order was fixed when a job
arrived (round 12b F3): installation A sends --backlog forks in one delivery, then B installs
on one new fork every "one job time" (B's fork alone), --stream times. It reports the order
in which check runs completed, how many of A's forks were vetted while B streamed, and the
longest run of B's forks that completed back to back while A still had forks waiting.

`--scenario comments` is round 20c F11: one installation's member floods its fork's report
issue with the largest comments GitHub allows (65,536 characters: `/forkvet help` and a GFM
table), --flood-rate a second for --flood-s seconds, each sent without waiting for the last
(as GitHub sends them), while another installation's deliveries are sent at --probe-rate.
It reports both tenants' acknowledgement latency (p50/p99, and how many took over GitHub's
10 s). With `--before DIR` (a source tree of an earlier App: `git archive REF | tar -x -C
DIR`) it runs the same flood against that App and this one, alternately, --rounds times, in
one run, so the two are compared on the same machine at the same time (compare ratios).
The web server runs with FORKVET_WEB_PEER_THREADS=0, as behind the documented reverse proxy.

The hostile forks: a README of 400 KB of `curl ` (a regex's worst case once), and a fork
whose vet never ends (pure CPU), through the test-only job module tests/slow_job.py (the
stand-in for any parser's next unknown worst case). Both must end at their budget with a
`timed_out` check run. Peak memory: sampled RSS of the worker and of each job's process
tree. No traffic leaves this machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app_fixtures import (  # noqa: E402
    APP_ID,
    SECRET,
    adapt,
    example,
    keypair,
    signed,
    trimmed_spec,
)
from tests.github.emulator import GitHubEmulator, RepoState  # noqa: E402

FILES = {
    "LICENSE": "MIT License\n\nCopyright (c) 2024 Ada Author\n",
    "README.md": "# DeepNet\n\n```\npython train.py --epochs 1\n```\n",
    "train.py": "import torch\nimport numpy as np\nm = torch.load('ckpt.pth', weights_only=True)\n",
}
HOSTILE_README = {**FILES, "README.md": "curl " * (400 * 1024 // 5)}
HOSTILE_CPU = {**FILES, "FORKVET_TEST_BURN_CPU": "x"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(port: int, payload: dict[str, Any], event: str) -> tuple[int, float]:
    body, headers = signed(payload, event)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    try:
        conn.request("POST", "/api/github/webhooks", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - started
    finally:
        conn.close()


def fork(name: str) -> dict[str, Any]:
    return adapt(example("repository", "created"), "acme", name, fork=True)


def vetted(repo: RepoState) -> bool:
    runs = [r for r in repo.check_runs if r["status"] == "completed"]
    return bool(runs) and bool(repo.issues) and bool(repo.pulls)


def wait(cond: Any, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if cond():
            return time.perf_counter() - started
        time.sleep(0.05)
    raise TimeoutError("timed out")


class Prober(threading.Thread):
    """Signed deliveries for other forks' events, each body unique (the App refuses replays),
    at a steady rate; records every acknowledgement's latency."""

    def __init__(self, port: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.port, self.period = port, 1.0 / rate
        self.latencies: list[float] = []
        self.bad: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            ping = example("ping")
            ping["zen"] = uuid.uuid4().hex
            try:
                status, seconds = post(self.port, ping, "ping")
            except OSError:  # http.client's timeout (10 s, GitHub's) or a reset
                status, seconds = 0, 10.0
            self.latencies.append(seconds)
            if status != 202:
                self.bad.append(status)
            self.stop.wait(max(0.0, self.period - seconds))


class MemorySampler(threading.Thread):
    """Peak RSS of the worker and of each job's process tree (sampled from /proc)."""

    def __init__(self, worker_pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = worker_pid
        self.worker_peak = 0
        self.job_peak = 0
        self.total_peak = 0
        self.stop = threading.Event()

    @staticmethod
    def rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    @staticmethod
    def children(pid: int) -> list[int]:
        out = []  # each thread's own children (the worker's threads start the jobs)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                out += [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                continue
        return out

    def tree(self, pid: int) -> int:
        return self.rss(pid) + sum(self.tree(c) for c in self.children(pid))

    def run(self) -> None:
        while not self.stop.wait(0.1):
            worker = self.rss(self.pid)
            jobs = [self.tree(c) for c in self.children(self.pid)]
            self.worker_peak = max(self.worker_peak, worker)
            self.job_peak = max([self.job_peak, *jobs])
            self.total_peak = max(self.total_peak, worker + sum(jobs))


WORKER = """
from dataclasses import replace
from bot.cli import run_worker
from bot.logs import configure
from bot.settings import Settings
configure()
# The test-only job module: a fork holding FORKVET_TEST_BURN_CPU burns CPU in vet forever.
run_worker(replace(Settings.from_env(), job_module="tests.slow_job"))
"""


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=30.0, help="FORKVET_JOB_TIMEOUT_S")
    parser.add_argument("--workers", type=int, default=4, help="FORKVET_WORKERS")
    parser.add_argument("--probe-rate", type=float, default=20.0)
    parser.add_argument(
        "--scenario", choices=["hostile", "backlog", "stream", "comments"], default="hostile"
    )
    parser.add_argument("--backlog", type=int, default=30, help="forks of the busy tenant")
    parser.add_argument("--stream", type=int, default=12, help="forks the other tenant streams")
    parser.add_argument("--flood-rate", type=float, default=4.0, help="large comments a second")
    parser.add_argument("--flood-s", type=float, default=15.0, help="seconds of flood")
    parser.add_argument("--before", type=Path, help="an earlier App's source tree, compared")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each App, alternating")
    args = parser.parse_args()
    trees = [("before", args.before.resolve()), ("after", ROOT)] if args.before else [("", ROOT)]
    results = []
    for _ in range(args.rounds):
        for label, tree in trees:
            result = run_app(tree, args)
            results.append({"app": label, **result} if label else result)
    print(json.dumps(results[0] if len(results) == 1 else results, indent=2))


def run_app(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The App from source tree `tree` (web and worker), against a fresh emulator: the
    scenario's result, with the peak memory of the worker and its jobs."""
    private, public = keypair()
    tmp = Path(tempfile.mkdtemp(prefix="forkvet-bench-tenants-"))
    (tmp / "github").mkdir()
    with GitHubEmulator(tmp / "github", trimmed_spec(tmp), APP_ID, public) as emu:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),
            "FORKVET_APP_ID": str(APP_ID),
            "FORKVET_PRIVATE_KEY": private,
            "FORKVET_WEBHOOK_SECRET": SECRET,
            "FORKVET_GITHUB_API_URL": emu.base_url,
            "FORKVET_DB": str(tmp / "app.sqlite3"),
            "FORKVET_ACTION_REF": "a" * 40,
            "FORKVET_SECONDS_BETWEEN_REQUESTS": "0",
            "FORKVET_SECONDS_BETWEEN_WRITES": "0",
            "FORKVET_HEARTBEAT_S": "1",
            "FORKVET_JOB_TIMEOUT_S": str(args.budget),
            "FORKVET_WORKERS": str(args.workers),
            # No package index here: setup pull requests use the authors' own pins.
            "UV_INDEX_URL": "http://127.0.0.1:9/simple/",
            "UV_HTTP_RETRIES": "0",
            "UV_OFFLINE": "1",
        }
        if args.scenario == "comments":
            env["FORKVET_WEB_PEER_THREADS"] = "0"  # one address sends both tenants' traffic
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bot.wsgi:app",
                "--config",
                "python:bot.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "/dev/null",
            ],
            env=env,
            cwd=tree,
            stderr=(tmp / "web.log").open("wb"),
        )
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=env,
            cwd=tree,
            stderr=(tmp / "worker.log").open("wb"),
        )
        sampler = MemorySampler(worker.pid)
        sampler.start()
        try:
            print(f"logs: {tmp} (App from {tree})", file=sys.stderr)
            wait(lambda: _healthy(port), 60)
            run = {"backlog": backlog, "stream": stream, "comments": comments}.get(
                args.scenario, scenario
            )
            result = run(emu, port, args)
        finally:
            sampler.stop.set()
            worker.terminate()
            web.terminate()
            worker.wait(30)
            web.wait(30)
    result.update(
        peak_worker_mib=round(sampler.worker_peak / 2**20, 1),
        peak_job_tree_mib=round(sampler.job_peak / 2**20, 1),
        peak_worker_and_jobs_mib=round(sampler.total_peak / 2**20, 1),
        emulator_errors=len(emu.errors),
    )
    return result


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def scenario(emu: GitHubEmulator, port: int, args: argparse.Namespace) -> dict[str, Any]:
    alone = emu.add_repo("acme", "benign-alone", FILES)
    readme = emu.add_repo("acme", "hostile-readme", HOSTILE_README)
    cpu = emu.add_repo("acme", "hostile-cpu", HOSTILE_CPU)
    benign = emu.add_repo("acme", "benign-attacked", FILES)
    late = emu.add_repo("acme", "benign-late", FILES)
    prober = Prober(port, args.probe_rate)
    prober.start()
    time.sleep(2)
    quiet = list(prober.latencies)
    post(port, fork("benign-alone"), "repository")
    alone_s = wait(lambda: vetted(alone), 120)
    attack_started = time.perf_counter()
    mark = len(prober.latencies)
    post(port, fork("hostile-readme"), "repository")
    post(port, fork("hostile-cpu"), "repository")
    wait(lambda: bool(readme.check_runs) and bool(cpu.check_runs), 60)  # both running
    ended: dict[str, float] = {}

    def watch() -> None:  # when each hostile job's check run completes
        while len(ended) < 2:
            for repo in (readme, cpu):
                if repo.name not in ended and repo.check_runs[0]["status"] == "completed":
                    ended[repo.name] = time.perf_counter() - attack_started
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    post(port, fork("benign-attacked"), "repository")
    attacked_s = wait(lambda: vetted(benign), 300)
    # Once the hostile jobs are past bot.isolate.LATE_AFTER_S they yield the CPU to new jobs.
    time.sleep(max(0.0, attack_started + 12 - time.perf_counter()))
    post(port, fork("benign-late"), "repository")
    late_s = wait(lambda: vetted(late), 300)
    hostile_done = {}
    for repo in (readme, cpu):
        wait(lambda r=repo: r.name in ended, args.budget * 3 + 60)
        hostile_done[repo.name] = {
            "conclusion": repo.check_runs[0]["conclusion"],
            "title": repo.check_runs[0]["output"]["title"],
            "ended_after_s": round(ended.get(repo.name, -1.0), 1),
        }
    prober.stop.set()
    prober.join()
    during = prober.latencies[mark:]
    return {
        "budget_s": args.budget,
        "workers": args.workers,
        "benign_alone_s": round(alone_s, 2),
        "benign_while_two_hostile_s": round(attacked_s, 2),
        "benign_12s_into_the_attack_s": round(late_s, 2),
        "hostile": hostile_done,
        "webhook_quiet_p50_ms": _ms(quiet, 50),
        "webhook_quiet_p99_ms": _ms(quiet, 99),
        "webhook_during_attack_n": len(during),
        "webhook_during_attack_p50_ms": _ms(during, 50),
        "webhook_during_attack_p99_ms": _ms(during, 99),
        "webhook_during_attack_max_ms": round(max(during) * 1000, 1) if during else None,
        "webhook_non_202": len(prober.bad),
    }


def installed(installation: int, repos: list[RepoState]) -> dict[str, Any]:
    """One installation_repositories.added delivery of `installation` listing repos."""
    payload = example("installation_repositories", "added")
    payload["installation"] = {"id": installation}
    payload["repositories_added"] = [
        {"id": r.id, "name": r.name, "full_name": r.full_name, "private": False} for r in repos
    ]
    return payload


def backlog(emu: GitHubEmulator, port: int, args: argparse.Namespace) -> dict[str, Any]:
    """Tenant A's delivery of --backlog forks, then tenant B's one fork a second later."""
    alone = emu.add_repo("bob", "alone", FILES)
    post(port, installed(202, [alone]), "installation_repositories")
    alone_s = wait(lambda: vetted(alone), 120)
    forks = [emu.add_repo("mallory", f"fork{i}", FILES) for i in range(args.backlog)]
    bobs = emu.add_repo("bob", "deepnet", FILES)
    started = time.perf_counter()
    post(port, installed(101, forks), "installation_repositories")
    time.sleep(1)
    bob_sent = time.perf_counter()
    post(port, installed(202, [bobs]), "installation_repositories")
    bob_s = wait(lambda: vetted(bobs), 3600)
    done_before_bob = sum(vetted(f) for f in forks)
    wait(lambda: all(vetted(f) for f in forks), 3600)
    return {
        "workers": args.workers,
        "busy_tenant_forks": args.backlog,
        "second_tenant_alone_s": round(alone_s, 2),
        "second_tenant_first_fork_s": round(bob_s, 2),
        "busy_tenant_forks_vetted_before_it": done_before_bob,
        "busy_tenant_backlog_s": round(time.perf_counter() - started, 2),
        "second_tenant_sent_after_s": round(bob_sent - started, 2),
    }


def stream(emu: GitHubEmulator, port: int, args: argparse.Namespace) -> dict[str, Any]:
    """Tenant A's delivery of --backlog forks, then tenant B's --stream forks, one per job
    time: does A's backlog keep its turns?"""
    alone = emu.add_repo("bob", "alone", FILES)
    post(port, installed(202, [alone]), "installation_repositories")
    job_s = wait(lambda: vetted(alone), 120)
    forks = [emu.add_repo("mallory", f"fork{i}", FILES) for i in range(args.backlog)]
    bobs = [emu.add_repo("bob", f"b{i}", FILES) for i in range(args.stream)]
    order: list[str] = []

    def watch() -> None:  # check runs in the order they complete
        while len(order) < len(forks) + len(bobs):
            order.extend(
                r.full_name
                for r in [*forks, *bobs]
                if r.full_name not in order
                and any(c["status"] == "completed" for c in r.check_runs)
            )
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    post(port, installed(101, forks), "installation_repositories")
    time.sleep(0.5)
    for repo in bobs:
        post(port, installed(202, [repo]), "installation_repositories")
        time.sleep(job_s)
    a_during = sum(name.startswith("mallory/") for name in order)
    wait(lambda: len(order) == len(forks) + len(bobs), 3600)
    run = longest = 0
    for i, name in enumerate(order):
        a_waiting = any(n.startswith("mallory/") for n in order[i + 1 :])
        run = run + 1 if name.startswith("bob/") and a_waiting else 0
        longest = max(longest, run)
    bob_order = [n for n in order if n.startswith("bob/")]
    return {
        "workers": args.workers,
        "job_time_alone_s": round(job_s, 2),
        "a_backlog": args.backlog,
        "b_streamed": args.stream,
        "a_vetted_while_b_streamed": a_during,
        "longest_b_run_while_a_waits": longest,
        "b_own_order_kept": bob_order == [r.full_name for r in bobs],
        "order": [n.split("/")[1] for n in order],
    }


# The largest comment GitHub allows (65,536 characters): a command, then a GFM table.
LARGE_COMMENT = "/forkvet help\n\n" + "a|b\n-|-\n" + "a\n" * 32_500


def report_comment(issue: dict[str, Any], full_name: str, text: str) -> dict[str, Any]:
    """An issue_comment.created delivery: the fork's owner commenting `text` on the App's
    report issue of `full_name` (the installation its fork delivery names)."""
    owner, name = full_name.split("/")
    payload = adapt(example("issue_comment", "created"), owner, name)
    payload["installation"] = fork(name)["installation"]
    payload["issue"].update(
        {
            "number": issue["number"],
            "body": issue["body"],
            "user": {**payload["issue"]["user"], "login": "forkvet[bot]", "type": "Bot"},
        }
    )
    payload["comment"].update(
        {
            "body": text,
            "author_association": "OWNER",
            "user": {**payload["comment"]["user"], "login": owner, "type": "User"},
        }
    )
    return payload


class Flooder(threading.Thread):
    """Large comments at a steady rate, each sent on its own thread without waiting for the
    last one's answer (GitHub sends deliveries that way); records each one's latency, or
    GitHub's 10 s timeout as a failure."""

    def __init__(self, port: int, rate: float, seconds: float, issue: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.port, self.rate, self.seconds, self.issue = port, rate, seconds, issue
        self.latencies: list[float] = []
        self.failed = 0

    def one(self, text: str) -> None:
        try:
            payload = report_comment(self.issue, "acme/flooded", text)
            status, seconds = post(self.port, payload, "issue_comment")
        except OSError:  # http.client's timeout (10 s, GitHub's) or a reset
            self.failed += 1
            return
        self.latencies.append(seconds)
        self.failed += status != 202

    def run(self) -> None:
        senders = []
        started = time.perf_counter()
        for i in range(int(self.rate * self.seconds)):
            time.sleep(max(0.0, started + i / self.rate - time.perf_counter()))
            text = f"{LARGE_COMMENT}{uuid.uuid4().hex}\n"  # every body its own (no replay)
            senders.append(threading.Thread(target=self.one, args=(text,), daemon=True))
            senders[-1].start()
        for t in senders:
            t.join(30)


def comments(emu: GitHubEmulator, port: int, args: argparse.Namespace) -> dict[str, Any]:
    """Round 20c F11: one tenant floods its report issue with 65 KB comments; the other
    tenant's deliveries (pings) are timed all along."""
    flooded = emu.add_repo("acme", "flooded", FILES)
    post(port, fork("flooded"), "repository")
    wait(lambda: vetted(flooded), 120)
    issue = flooded.issues[0]
    prober = Prober(port, args.probe_rate)
    prober.start()
    time.sleep(3)
    quiet = len(prober.latencies)
    flooder = Flooder(port, args.flood_rate, args.flood_s, issue)
    flooder.start()
    flooder.join()
    prober.stop.set()
    prober.join()
    during = prober.latencies[quiet:]
    return {
        "flood": f"{args.flood_rate:g}/s for {args.flood_s:g} s, {len(LARGE_COMMENT)} chars",
        "other_tenant_quiet_p50_ms": _ms(prober.latencies[:quiet], 50),
        "other_tenant_during_p50_ms": _ms(during, 50),
        "other_tenant_during_p99_ms": _ms(during, 99),
        "other_tenant_during_max_ms": round(max(during) * 1000, 1) if during else None,
        "other_tenant_n": len(during),
        "other_tenant_timed_out_or_failed": len(prober.bad),
        "flooder_p50_ms": _ms(flooder.latencies, 50),
        "flooder_p99_ms": _ms(flooder.latencies, 99),
        "flooder_sent": int(args.flood_rate * args.flood_s),
        "flooder_timed_out_or_failed": flooder.failed,
    }


def _ms(values: list[float], pct: int) -> float | None:
    if len(values) < 2:
        return None
    # Inclusive: a percentile between the measured values, never past the largest.
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1] * 1000, 1)


if __name__ == "__main__":
    main()
