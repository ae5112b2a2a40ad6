"""The App against a hostile fork and a hostile network: GitHub's real webhook examples,
signed, against the emulator validated with GitHub's OpenAPI description; real gunicorn and
real `forkvet-app serve` processes on 127.0.0.1 for the server-side promises."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
# ruff: noqa: F811
from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot import queue
from bot.settings import Settings
from bot.store import Store
from bot.web import WEBHOOK_PATH, create_app
from forkvet.config import parse_config
from tests.app_fixtures import example, signed
from tests.github.emulator import GitHubEmulator, RepoState
from tests.pkgindex import PackageIndex
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    FORK_FILES,
    WORKFLOW_PATH,
    app_env,
    command_payload,
    done,
    emulator,
    fork_payload,
    no_package_index,
    post,
    rendered,
    settings,
    wait_for,
    worker,
    workflow_run_payload,
)
from tests.test_escape import HOSTILE_FILES, MARKER, assert_inert, parse


@contextlib.contextmanager
def worker_settings(settings: Settings) -> Iterator[Settings]:
    """The in-process worker reads its settings from the queue: run it with these."""
    before = queue._state["settings"]
    queue._state["settings"] = settings
    try:
        yield settings
    finally:
        queue._state["settings"] = before


def branch_file(repo: RepoState, path: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo.bare), "show", f"forkvet/setup:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


REPORT_TAGS = {
    "p",
    "h3",
    "strong",
    "em",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "pre",
    "details",
    "summary",
    "sub",
    "ul",
    "li",
}


# -- rendering -------------------------------------------------------------------------------
def test_a_hostile_forks_text_is_inert_in_every_place_the_app_writes(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", HOSTILE_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    summary = repo.check_runs[0]["output"]["summary"]
    issue = repo.issues[0]["body"]
    pull = repo.pulls[0]["body"]
    assert issue.count(MARKER) == 1 and issue.startswith(MARKER)  # only forkvet's own
    # the App's own hidden line naming the report's commit (round 22c F4) follows the marker
    own, _, rest = issue.removeprefix(MARKER + "\n").partition("\n")
    assert own.startswith("<!-- forkvet:commit ") and own.endswith(" -->")
    for text in (summary, rest, pull):
        assert MARKER not in text
        assert_inert(parse(text), REPORT_TAGS)
    assert "forkvet: no problems found" in summary  # the title is shown, as text
    attribution = branch_file(repo, "ATTRIBUTION.md")
    assert MARKER not in attribution
    assert_inert(parse(attribution), {"h1", "h2", "p", "ul", "li", "strong", "code", "pre"})


# -- workflow_run ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"event": "pull_request"}, id="a pull request run"),
        pytest.param({"event": "pull_request_target"}, id="pull_request_target"),
        pytest.param({"event": "workflow_run"}, id="a run started by another run"),
        pytest.param({"head_repository": {"id": 999, "full_name": "evil/deepnet"}}, id="fork PR"),
        pytest.param({"path": ".github/workflows/ci.yml"}, id="another workflow named forkvet"),
        pytest.param({"pull_requests": [{"number": 3}]}, id="run attached to a pull request"),
    ],
)
def test_only_the_forks_own_runs_of_its_forkvet_workflow_count(
    settings: Settings, emulator: GitHubEmulator, change: dict[str, Any]
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    payload = workflow_run_payload(emulator.sha(repo, "main") or "", **change)
    assert post(client, payload, "workflow_run").get_json() == {"status": "ignored", "jobs": 0}


def test_a_trusted_run_is_reported_without_its_own_text(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", {**FORK_FILES, WORKFLOW_PATH: rendered(settings)})
    client = create_app(settings).test_client()
    name = "forkvet ✅ all GPU checks passed <!-- forkvet:report --> @acme/admins"
    payload = workflow_run_payload(
        emulator.sha(repo, "main") or "",
        name=name,
        head_branch="main`<img src=x>",
        html_url="https://evil.example/acme/deepnet/actions/runs/1",
    )
    assert post(client, payload, "workflow_run").get_json()["jobs"] == 1
    wait_for(lambda: any(r["name"] == "forkvet GPU" for r in repo.check_runs))
    gpu = next(r for r in repo.check_runs if r["name"] == "forkvet GPU")
    issue = repo.issues[0]["body"]
    for text in (gpu["output"]["summary"], issue):
        assert "all GPU checks passed" not in text and "@acme/admins" not in text
        assert "](https://evil.example" not in text  # a URL elsewhere is code, not a link
    assert issue.count(MARKER) == 1
    assert "details_url" not in gpu or "evil.example" not in str(gpu.get("details_url"))
    assert gpu["conclusion"] == "success"  # the App's own workflow: counted, text and all


# What the upstream ships as its own forkvet.yml: any runner, no forkvet, always green.
PLANTED = """name: forkvet
on: [push]
jobs:
  gpu:
    runs-on: [self-hosted]
    steps:
      - run: echo "no forkvet here <!-- forkvet:report --> @acme/admins"; exit 0
"""


@pytest.mark.parametrize(
    "workflow",
    [
        pytest.param(lambda ours: {WORKFLOW_PATH: PLANTED}, id="planted by the upstream"),
        pytest.param(lambda ours: {WORKFLOW_PATH: ours + " "}, id="one byte more"),
        pytest.param(
            lambda ours: {WORKFLOW_PATH: ours.replace("a" * 40, "a" * 39 + "b")},
            id="one byte changed (the pin)",
        ),
        pytest.param(
            lambda ours: {".github/workflows/gpu.yml": ours}, id="forkvet's file, another path"
        ),
    ],
)
def test_a_run_of_a_workflow_forkvet_did_not_render_never_counts(
    settings: Settings, emulator: GitHubEmulator, worker: None, workflow: Any
) -> None:
    """The attack: the fork's push runs a `.github/workflows/forkvet.yml` that forkvet did not
    write (the upstream's, or an edit) while the setup pull request stays unmerged. Right path,
    the fork's own push: the run still must not count, and the human is told what to do."""
    files = {**FORK_FILES, **workflow(rendered(settings))}
    repo = emulator.add_repo("acme", "deepnet", files)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    assert not repo.pulls[0].get("_merged")  # the setup pull request stays unmerged
    head = emulator.sha(repo, "main") or ""
    assert post(client, workflow_run_payload(head), "workflow_run").get_json()["jobs"] == 1
    wait_for(lambda: any(r["name"] == "forkvet GPU" for r in repo.check_runs))
    gpu = next(r for r in repo.check_runs if r["name"] == "forkvet GPU")
    assert gpu["conclusion"] == "neutral" and gpu["head_sha"] == head
    assert "not forkvet's" in gpu["output"]["title"]
    issue = repo.issues[0]["body"]
    for text in (gpu["output"]["summary"], issue):
        assert "Merge the forkvet setup pull request" in text
        assert "is not the one forkvet proposed" in text
        assert "no forkvet here" not in text and "@acme/admins" not in text
        assert "**success**" not in text
    assert "**not counted**" in issue and issue.count(MARKER) == 1
    assert Store(settings.db).train_results("acme/deepnet") == []
    # and the run of the right content under another path is not even looked at
    other = workflow_run_payload(head, path=".github/workflows/gpu.yml")
    assert post(client, other, "workflow_run").get_json()["jobs"] == 0


# -- the webhook endpoint --------------------------------------------------------------------
def test_a_replayed_body_is_refused_and_deep_json_is_a_400(settings: Settings) -> None:
    client = create_app(settings).test_client()
    payload = fork_payload()
    assert post(client, payload, "repository", delivery="d-1").status_code == 202
    replay = post(client, payload, "repository", delivery="d-2-new-id")
    assert replay.status_code == 409 and "already delivered" in replay.get_json()["error"]
    assert post(client, payload, "repository", delivery="d-1").get_json()["status"] == "duplicate"
    for depth in (100, 100_000):
        deep = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
        resp = post(client, deep, "repository")
        assert resp.status_code == 400 and "nested deeper" in resp.get_json()["error"]
    shallow = json.dumps({"a": [[["]]]]]"]]], "s": "{{{{[[[["}).encode()
    assert post(client, shallow, "ping").status_code == 202  # brackets in strings do not count
    assert post(client, fork_payload("acme", "other"), "repository").status_code == 202


def test_a_failed_delivery_is_told_by_error_id_and_redelivery_runs_it_again(
    settings: Settings,
    emulator: GitHubEmulator,
    worker: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    # Reading the fork's own config file, after the check run exists: not transient, fails
    # for good. (A report issue that fails is a notice on the check run, round 17c F4.)
    emulator.fail_next("GET", "/contents/", 422)
    client = create_app(settings).test_client()
    body, headers = signed(fork_payload(), "repository", "f-1")
    assert client.post(WEBHOOK_PATH, data=body, headers=headers).get_json()["jobs"] == 1
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts().get("failed") == 1)
    wait_for(lambda: repo.check_runs[0]["conclusion"] == "action_required")
    summary = repo.check_runs[0]["output"]["summary"]
    error_id = summary.split("error id `")[1].split("`")[0]
    assert "422" not in summary and "Exception" not in summary and "What to do" in summary
    assert any(getattr(r, "error_id", None) == error_id for r in caplog.records)
    # GitHub's "Redeliver": same id, same body. The failed job runs again and succeeds.
    again = client.post(WEBHOOK_PATH, data=body, headers=headers)
    assert again.get_json() == {"status": "retried", "jobs": 1}
    wait_for(lambda: store.counts() == {"done": 1})
    assert done(emulator, repo) and len(repo.issues) == 1
    assert client.post(WEBHOOK_PATH, data=body, headers=headers).get_json()["status"] == (
        "duplicate"
    )


def test_help_and_unknown_commands_get_an_answer(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    issue = repo.issues[0]
    for body in ("/forkvet help", "/forkvet frobnicate <b>now</b>"):
        assert (
            post(client, command_payload(issue, body, "acme"), "issue_comment").get_json()["jobs"]
            == 1
        )
    wait_for(lambda: len(repo.comments) == 2)
    replies = sorted((c["body"] for c in repo.comments), key=len)
    assert all("`/forkvet recheck`" in r and "`/forkvet help`" in r for r in replies)
    assert "`/forkvet frobnicate` is not a forkvet command" in replies[1]


# -- policy ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fork_file", "license_file", "conclusion", "needle"),
    [
        ("licence:\n  allow: [GPL-3.0-only]\n", "MIT", "action_required", "Invalid .github"),
        ("license:\n  deny: []\n", "GPL", "failure", "License denied by policy"),
        ("license:\n  deny: [MIT]\n", "MIT", "failure", "License denied by policy"),
    ],
)
def test_the_operators_policy_is_a_floor_the_fork_can_only_raise(
    settings: Settings,
    emulator: GitHubEmulator,
    worker: None,
    fork_file: str,
    license_file: str,
    conclusion: str,
    needle: str,
) -> None:
    from tests.conftest import license_text

    lic = license_text("MIT.txt" if license_file == "MIT" else "GPL-3.0-only.txt")
    files = {**FORK_FILES, "LICENSE": lic, ".github/forkvet.yml": fork_file}
    repo = emulator.add_repo("acme", "deepnet", files)
    policy = parse_config({"license": {"deny": ["strong-copyleft"]}}, "operator policy")
    with worker_settings(replace(settings, policy=policy)) as s:
        post(create_app(s).test_client(), fork_payload(), "repository")
        wait_for(lambda: done(emulator, repo))
    run = repo.check_runs[0]
    assert run["conclusion"] == conclusion and needle in run["output"]["summary"]


# -- the setup pull request's environment -----------------------------------------------------
def test_setup_pr_carries_the_pinned_environment_or_says_why_not(
    settings: Settings,
    emulator: GitHubEmulator,
    worker: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.test_env import DISTS, TF1

    monkeypatch.setenv("GIT_COMMITTER_DATE", "2019-12-01T10:00:00+00:00")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2019-12-01T10:00:00+00:00")
    online = emulator.add_repo("acme", "tf1", TF1)
    offline = emulator.add_repo("acme", "tf1-offline", TF1)
    client = create_app(settings).test_client()
    from tests.test_audit import OSVServer, record

    advisory = record(
        "PYSEC-2019-999", "numpy", [{"introduced": "0"}, {"fixed": "1.18.0"}], severity="HIGH"
    )
    with PackageIndex(DISTS) as idx, OSVServer([advisory]) as osv:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("FORKVET_OSV_URL", osv.url)
        post(client, fork_payload("acme", "tf1"), "repository")
        wait_for(lambda: done(emulator, online), timeout=120)
    reqs = branch_file(online, "requirements.txt")
    assert "tensorflow==1.15.0" in reqs and "numpy==1.17.4" in reqs
    assert "  - python=3.7" in branch_file(online, "environment.yml")
    body = online.pulls[0]["body"]
    assert "No package index was reachable" not in body
    # the pins the authors used are kept, and their known vulnerabilities are named
    assert "Known vulnerabilities in these pins" in body and "PYSEC-2019-999" in body
    assert "nearest safe `1.18.0`" in body
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/simple/")
    post(client, fork_payload("acme", "tf1-offline"), "repository")
    wait_for(lambda: done(emulator, offline), timeout=120)
    assert "No package index was reachable" in offline.pulls[0]["body"]
    assert "--offline" in branch_file(offline, "requirements.txt")


def test_unpinned_dev_mode_warns_in_every_setup_pr(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    with worker_settings(replace(settings, action_ref="", allow_unpinned=True)) as s:
        post(create_app(s).test_client(), fork_payload(), "repository")
        wait_for(lambda: done(emulator, repo))
    assert "without `FORKVET_ACTION_REF`" in repo.pulls[0]["body"]
    assert "@" + "0" * 40 in branch_file(repo, ".github/workflows/forkvet.yml")


# -- the server process: real gunicorn under `forkvet-app serve` ------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, timeout: float = 3) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] not in ("Z", "X")
    except OSError:
        return False


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    yield from _serve(settings, tmp_path)


def _serve(
    settings: Settings, tmp_path: Path, **extra: str
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=app_env(settings, FORKVET_DB=str(tmp_path / "serve.sqlite3"), **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def healthy() -> bool:
        with contextlib.suppress(OSError):
            return _get(port, "/healthz")[0] == 200
        return False

    wait_for(healthy, timeout=60)  # 200 only once the supervised worker has beaten
    yield proc, port
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=60)


def test_slow_clients_do_not_stall_the_webhook_server(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    _, port = served
    stop = threading.Event()
    slow: list[socket.socket] = []

    def trickle(sock: socket.socket) -> None:
        # Headers one byte every half second, never finished while the test runs.
        sock.sendall(b"POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while not stop.wait(0.5):
            with contextlib.suppress(OSError):
                sock.sendall(b"a")

    threads = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", port), source_address=(ATTACKER, 0))
        slow.append(sock)
        threads.append(threading.Thread(target=trickle, args=(sock,), daemon=True))
        threads[-1].start()
    time.sleep(1.0)  # the slow clients hold their connections
    try:
        body, headers = signed(example("ping"), "ping")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        started = time.monotonic()
        conn.request("POST", WEBHOOK_PATH, body=body, headers=headers)
        resp = conn.getresponse()
        elapsed = time.monotonic() - started
        assert resp.status == 202 and json.loads(resp.read())["status"] == "ignored"
        assert elapsed < 5  # a stalled server never answers while the trickle goes on
    finally:
        stop.set()
        for sock in slow:
            sock.close()


ATTACKER = "127.0.0.3"  # another address than GitHub's deliveries and the health check


@pytest.fixture
def served_fast_deadline(
    settings: Settings, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    yield from _serve(settings, tmp_path, FORKVET_WEB_READ_S="4")


def _slow_body(port: int, i: int, source: str = ATTACKER) -> socket.socket:
    """A request with a well-formed (wrong) signature whose body is promised, then trickled."""
    sock = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
    sock.sendall(
        (
            f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: ping\r\nX-GitHub-Delivery: slow-{i}\r\n"
            f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: 5000\r\n\r\n{{"
        ).encode()
    )
    return sock


def test_slow_bodies_cost_a_bounded_share_of_the_server(
    served_fast_deadline: tuple[subprocess.Popen[str], int],
) -> None:
    """Round 18c F5: 100 connections trickling a forged body (one byte a second, from one
    address, reconnecting when dropped) against the default web settings (2 workers x 16
    threads): `/healthz` and a signed delivery answer promptly throughout, and a slow body is
    cut at the read deadline (408), never held open."""
    _, port = served_fast_deadline
    stop = threading.Event()
    socks: list[socket.socket] = []
    lock = threading.Lock()
    for i in range(100):
        socks.append(_slow_body(port, i))

    def trickle() -> None:
        n = 100
        while not stop.wait(1.0):
            with lock:
                for k, sock in enumerate(socks):
                    try:
                        sock.send(b" ")
                    except OSError:  # refused or cut: the attacker comes straight back
                        sock.close()
                        n += 1
                        with contextlib.suppress(OSError):
                            socks[k] = _slow_body(port, n)

    attacker = threading.Thread(target=trickle, daemon=True)
    attacker.start()
    health: list[float] = []
    deliveries: list[float] = []
    try:
        time.sleep(2)
        end = time.monotonic() + 12  # three read deadlines of the slow bodies
        while time.monotonic() < end:
            started = time.monotonic()
            assert _get(port, "/healthz", timeout=5)[0] == 200
            health.append(time.monotonic() - started)
            body, headers = signed({**example("ping"), "zen": f"z{len(health)}"}, "ping")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            started = time.monotonic()
            conn.request("POST", WEBHOOK_PATH, body=body, headers=headers)
            resp = conn.getresponse()
            assert resp.status == 202
            deliveries.append(time.monotonic() - started)
            conn.close()
            time.sleep(0.5)
        # A slow body from an address with threads to spare: cut with 408 at the deadline.
        probe = _slow_body(port, 10_000, source="127.0.0.4")
        probe.settimeout(15)
        started = time.monotonic()
        answer = probe.recv(200)
        cut = time.monotonic() - started
        probe.close()
    finally:
        stop.set()
        attacker.join(timeout=5)
        for sock in socks:
            sock.close()
    print(
        f"healthz max {max(health):.3f}s, delivery max {max(deliveries):.3f}s "
        f"({len(health)} each); slow body cut after {cut:.1f}s: {answer[:40]!r}"
    )
    assert max(health) < 1 and max(deliveries) < 1
    assert answer.startswith(b"HTTP/1.1 408") and 3 < cut < 8


def test_one_address_sending_one_request_after_another_is_never_refused(
    settings: Settings, tmp_path: Path
) -> None:
    """With one thread per address, a client's next connection often arrives before its last
    one's thread is released: it waits for that thread (no 503)."""
    gen = _serve(settings, tmp_path, FORKVET_WEB_PEER_THREADS="1")
    _, port = next(gen)
    try:
        statuses = [_get(port, "/healthz")[0] for _ in range(60)]
        assert statuses == [200] * 60
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


def test_serve_killed_leaves_no_orphans(served: tuple[subprocess.Popen[str], int]) -> None:
    proc, port = served
    children = _children(proc.pid)
    assert len(children) == 2  # gunicorn's master and the queue worker
    grandchildren = [g for c in children for g in _children(c)]  # gunicorn's web workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for pid in children + grandchildren:
        wait_for(lambda p=pid: not _alive(p), timeout=30)
    with pytest.raises(OSError):
        _get(port, "/healthz", timeout=1)


def test_serve_exits_when_a_child_dies_and_on_sigterm(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    proc, _ = served
    children = _children(proc.pid)
    worker_pid = next(c for c in children if "bot.cli" in Path(f"/proc/{c}/cmdline").read_text())
    os.kill(worker_pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == 1
    assert "queue worker exited" in (proc.stderr.read() if proc.stderr else "")
    for pid in children:
        wait_for(lambda p=pid: not _alive(p), timeout=30)


def test_serve_stops_cleanly_on_sigterm(served: tuple[subprocess.Popen[str], int]) -> None:
    proc, _ = served
    children = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    for pid in children:
        wait_for(lambda p=pid: not _alive(p), timeout=30)


def test_a_second_serve_on_a_busy_port_exits_with_a_clear_message(
    settings: Settings, served: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    _, port = served
    second = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=app_env(settings, FORKVET_DB=str(tmp_path / "second.sqlite3")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_serve_refuses_to_start_unpinned(settings: Settings, tmp_path: Path) -> None:
    env = app_env(settings, FORKVET_DB=str(tmp_path / "x.sqlite3"))
    env.pop("FORKVET_ACTION_REF")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("forkvet-app: error: FORKVET_ACTION_REF is not set")


def test_upstream_drafts_quote_the_forks_commits_inertly(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    subject = (
        "Fix loading <!-- forkvet:report --> @upstream-org/maintainers [x](https://evil.example)"
    )
    emulator.commit(
        repo,
        "main",
        {
            "train.py": FORK_FILES["train.py"].replace(
                "'ckpt.pth')", "'ckpt.pth', weights_only=True)"
            )
        },
        subject + "\n\n```\n</details><img src=https://evil.example/p.png>\n",
        author=("Bea Fixer", "bea@example.org"),
    )
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    post(client, command_payload(repo.issues[0], "/forkvet upstream", "acme"), "issue_comment")
    wait_for(lambda: len(repo.comments) == 1)
    reply = repo.comments[0]["body"].removeprefix("@acme ")  # forkvet answers the commenter
    assert "Fix loading" in reply and MARKER not in reply
    assert_inert(parse(reply), {"p", "ul", "li", "strong", "code", "pre", "a"})
    assert "](https://evil.example" not in reply


# -- the worker's own paths --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["generated", ".git", "checkout", "repo"])
def test_a_fork_named_like_the_workers_own_paths_is_vetted(
    settings: Settings, emulator: GitHubEmulator, worker: None, name: str
) -> None:
    """The worker's checkout and work folders are its own names inside a fresh temporary
    folder: a repository's name is never a path, so no name collides."""
    files = {**FORK_FILES, "model.pkl": "not a pickle, but named like one"}
    repo = emulator.add_repo("acme", name, files)
    post(create_app(settings).test_client(), fork_payload("acme", name), "repository")
    wait_for(lambda: done(emulator, repo))
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1})
    assert store.get(1) is not None and store.get(1).attempts == 1  # type: ignore[union-attr]
    run = repo.check_runs[0]
    assert run["conclusion"] != "action_required"
    assert "forkvet:" in run["output"]["title"]
    assert f"name: {name}" in branch_file(repo, "environment.yml") or name == ".git"


# -- the operator's floor covers what uses the operator's credentials ---------------------------
@pytest.mark.parametrize("operator_allows", [False, True])
def test_upstream_writes_need_the_operators_opt_in_not_only_the_forks(
    settings: Settings, emulator: GitHubEmulator, worker: None, operator_allows: bool
) -> None:
    emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    opt_in = "upstream:\n  thank_you: true\n  open_pull_requests: true\n"
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    emulator.commit(repo, "main", {".github/forkvet.yml": opt_in}, "Ask for upstream writes")
    emulator.commit(
        repo,
        "main",
        {"train.py": FORK_FILES["train.py"].replace("'ckpt.pth')", "'ckpt.pth', weights_only=1)")},
        "Fix unsafe checkpoint loading",
        author=("Bea Fixer", "bea@example.org"),
    )
    policy = parse_config(
        {"upstream": {"thank_you": operator_allows, "open_pull_requests": operator_allows}}
        if operator_allows
        else {},
        "operator policy",
    )
    token = emulator.user_token("operator")
    with worker_settings(replace(settings, policy=policy, user_token=token)) as s:
        client = create_app(s).test_client()
        post(client, fork_payload(), "repository")
        wait_for(lambda: done(emulator, repo))
        for body in ("/forkvet upstream", "/forkvet thank"):
            post(client, command_payload(repo.issues[0], body, "acme"), "issue_comment")
        wait_for(lambda: len(repo.comments) == 2)
    upstream = emulator.repos["upstream-org/model"]
    assert bool(upstream.pulls) is operator_allows
    assert bool(upstream.issues) is operator_allows
    if not operator_allows:
        thanks = next(c["body"] for c in repo.comments if "thank-you" in c["body"])
        assert "draft thank-you issue" in thanks and "the App's operator" in thanks


def test_the_fork_never_picks_a_narrower_runner_set_or_secrets() -> None:
    from bot.workflow import choose_labels
    from forkvet.config import tighten

    gpu, a100 = ("self-hosted", "linux", "x64", "gpu"), ("self-hosted", "linux", "x64", "a100")
    for narrowed in (["self-hosted"], ["self-hosted", "gpu"], ["linux", "x64", "gpu"], ["gpu"]):
        labels, note = choose_labels(narrowed, (gpu, a100))
        assert labels == list(gpu) and note and "not one of the label sets" in note
    assert choose_labels(["a100", "x64", "linux", "self-hosted"], (gpu, a100)) == (list(a100), None)
    # A superset is no allowed set either: it would match only runners the operator never named.
    assert choose_labels([*gpu, "privileged"], (gpu,))[0] == list(gpu)
    fork = parse_config({"runtime": {"pass_env": ["GH_PAT", "AWS_SECRET_ACCESS_KEY"]}}, "fork")
    operator = parse_config({"runtime": {"pass_env": ["HF_TOKEN"]}}, "operator")
    assert tighten(operator, fork).runtime.pass_env == ["HF_TOKEN"]
    assert tighten(parse_config({}, "operator"), fork).runtime.pass_env == []


# -- a hostile job costs only its own budget ----------------------------------------------------
def _descendants(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        out += [child, *_descendants(child)]
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.parametrize(
    ("marker", "budget", "conclusion", "words"),
    [
        # Every job gets this budget, the benign one too: room for it on a busy machine.
        ("FORKVET_TEST_BURN_CPU", {"job_timeout_s": 30.0}, "timed_out", "time budget of 30 s"),
        ("FORKVET_TEST_EAT_MEMORY", {"job_memory_mb": 1024}, "failure", "memory budget of 1024"),
    ],
)
def test_a_job_past_its_budget_is_killed_and_the_check_run_says_so(
    settings: Settings,
    emulator: GitHubEmulator,
    worker: None,
    marker: str,
    budget: dict[str, Any],
    conclusion: str,
    words: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tempfile

    # The worker's own temporary folder: each job's (its clone included) is made here.
    jobs_tmp = tmp_path / "jobs-tmp"
    jobs_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(jobs_tmp))
    hostile = emulator.add_repo("acme", "slow", {**FORK_FILES, marker: "x"})
    benign = emulator.add_repo("acme", "deepnet", FORK_FILES)
    slow = replace(settings, **{"job_module": "tests.slow_job", "job_timeout_s": 60.0, **budget})
    _, store = queue.setup(settings)
    with worker_settings(slow) as s:
        client = create_app(s).test_client()
        post(client, fork_payload("acme", "slow"), "repository")
        wait_for(lambda: bool(hostile.check_runs))  # the hostile job is running
        post(client, fork_payload(), "repository")
        wait_for(lambda: done(emulator, benign), timeout=90)
        hostile_still_running = hostile.check_runs[0]["status"] != "completed"
        seen = store.last_heartbeat()
        assert seen is not None and time.time() - seen < 3  # the worker beats on
        wait_for(lambda: hostile.check_runs[0]["status"] == "completed", timeout=90)
    run = hostile.check_runs[0]
    assert run["conclusion"] == conclusion, run
    summary = run["output"]["summary"]
    assert "This repository was not vetted" in summary and words in summary
    assert "What to do" in summary and "not vetted" in run["output"]["title"]
    assert benign.check_runs[0]["conclusion"] != "timed_out"
    # The benign fork did not wait for the endless one's budget to run out.
    assert hostile_still_running or marker != "FORKVET_TEST_BURN_CPU"
    wait_for(lambda: store.counts() == {"done": 1, "failed": 1})
    # Not retried (it would cost the budget again), and nothing of the job is left running.
    assert all(j.attempts == 1 for j in (store.get(1), store.get(2)) if j is not None)
    assert not [p for p in _descendants(os.getpid()) if "slow_job" in _cmdline(p)]
    # The killed job's folder, with the clone it was vetting, is gone: the worker owns it.
    assert list(jobs_tmp.iterdir()) == []


def test_serve_stops_at_once_with_a_job_running_and_its_child_goes_too(
    settings: Settings, emulator: GitHubEmulator, tmp_path: Path
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    emulator.delays = {"GET /repos/acme/deepnet/issues": 60}  # the job hangs mid-way
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=app_env(settings, FORKVET_DB=str(tmp_path / "serve.sqlite3")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _healthy(port), timeout=60)
        body, headers = signed(fork_payload(), "repository")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", WEBHOOK_PATH, body=body, headers=headers)
        assert conn.getresponse().status == 202
        wait_for(lambda: bool(repo.check_runs), timeout=60)
        jobs = [p for p in _descendants(proc.pid) if "bot.jobchild" in _cmdline(p)]
        assert len(jobs) == 1  # the job runs in its own child process
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert time.monotonic() - started < 15  # not the job's 60 s, nor its budget
        wait_for(lambda: not _alive(jobs[0]), timeout=10)
    finally:
        emulator.delays = {}
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _healthy(port: int) -> bool:
    with contextlib.suppress(OSError):
        return _get(port, "/healthz")[0] == 200
    return False


# -- small costs an outsider could raise ---------------------------------------------------------
def test_an_artifact_with_hundreds_of_result_members_reads_only_the_first_few() -> None:
    import io
    import zipfile

    from forkvet.github.artifacts import result_from_archive

    bad = json.dumps({"pad": [1.5] * 500_000}).encode()  # ~3 MB, parses, is no result
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(300):
            zf.writestr(f"d{i}/train.json", bad)
    started = time.process_time()
    assert result_from_archive(buf.getvalue()) is None
    assert time.process_time() - started < 1.5


class _Zeros:
    """A request body that is produced as it is read, and counts what was read."""

    def __init__(self, size: int) -> None:
        self.size, self.pos, self.read_bytes = size, 0, 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n < 0 else min(n, self.size - self.pos)
        self.pos += n
        self.read_bytes += n
        return b"0" * n

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = self.size + offset if whence == 2 else offset
        return self.pos


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64])
def test_a_forged_24_mb_delivery_is_refused_in_bounded_memory(
    settings: Settings, signature: str | None
) -> None:
    import tracemalloc

    client = create_app(settings).test_client()
    size = 24 * 1024 * 1024
    body = _Zeros(size)
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1", "Content-Length": str(size)}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    tracemalloc.start()
    try:
        resp = client.post(WEBHOOK_PATH, input_stream=body, headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.status_code == 401
    assert peak < 3 * 1024 * 1024, peak
    # Unsigned: not one byte of the body was read.
    assert body.read_bytes == (0 if signature is None else size)


def test_a_weak_webhook_secret_is_a_one_line_startup_error(settings: Settings) -> None:
    env = app_env(settings, FORKVET_WEBHOOK_SECRET="z" * 16)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("forkvet-app: error: FORKVET_WEBHOOK_SECRET must be at least")
    assert len(proc.stderr.strip().splitlines()) == 1
