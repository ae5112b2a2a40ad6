"""The forkvet GitHub App end to end: GitHub's real webhook examples, signed as GitHub signs
them, against the emulator that validates every call with GitHub's OpenAPI description."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import queue
from bot.handlers.comments import COMMAND, bounded_text, read_command
from bot.settings import Settings, SettingsError
from bot.signature import sign, verify
from bot.web import WEBHOOK_PATH, create_app
from bot.workflow import is_rendered, render, renderings
from forkvet.config import load_config
from forkvet.github.issues import MARKER
from tests.app_fixtures import (
    APP_ID,
    SECRET,
    adapt,
    example,
    keypair,
    signed,
    trimmed_spec,
)
from tests.conftest import license_text
from tests.github.emulator import GitHubEmulator, RepoState

FORK_FILES = {
    "LICENSE": license_text("MIT.txt"),
    "README.md": "# DeepNet\n\n```\npython train.py --epochs 1\n```\n",
    "train.py": "import torch\nimport numpy as np\nm = torch.load('ckpt.pth')\n",
}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[GitHubEmulator]:
    private, public = keypair()
    del private
    spec = trimmed_spec(tmp_path.parent)
    with GitHubEmulator(tmp_path / "github", spec, APP_ID, public) as emu:
        yield emu
    assert emu.errors == [], "\n".join(emu.errors)


@pytest.fixture
def settings(tmp_path: Path, emulator: GitHubEmulator) -> Settings:
    (tmp_path / "github").mkdir(exist_ok=True)
    private, _ = keypair()
    return Settings(
        app_id=str(APP_ID),
        private_key=private,
        webhook_secret=SECRET,
        api_url=emulator.base_url,
        db=str(tmp_path / "app.sqlite3"),
        action_repo="forkvet-org/forkvet",
        action_ref="a" * 40,
        workers=2,
        seconds_between_requests=0,
        seconds_between_writes=0,
        heartbeat_s=0.5,
    )


@pytest.fixture(autouse=True)
def no_package_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The worker's own uv configuration: here an index nobody listens on (tests that need
    one start tests/pkgindex.py), so setup pull requests fall back to --offline files."""
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/simple/")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@pytest.fixture
def worker(settings: Settings) -> Iterator[None]:
    huey, store = queue.setup(settings)
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False)
    consumer.start()
    beat = queue.start_heartbeat(settings, store)
    yield
    beat.set()
    consumer.stop(graceful=True)


def app_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a real `forkvet-app` process gets for these settings."""
    return {
        **os.environ,
        "FORKVET_APP_ID": settings.app_id,
        "FORKVET_PRIVATE_KEY": settings.private_key,
        "FORKVET_WEBHOOK_SECRET": SECRET,
        "FORKVET_GITHUB_API_URL": settings.api_url,
        "FORKVET_DB": settings.db,
        "FORKVET_ACTION_REPO": settings.action_repo,
        "FORKVET_ACTION_REF": settings.action_ref,
        "FORKVET_SECONDS_BETWEEN_REQUESTS": "0",
        "FORKVET_SECONDS_BETWEEN_WRITES": "0",
        "FORKVET_HEARTBEAT_S": "0.5",
        **extra,
    }


def wait_for(cond: Any, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def post(
    client: Any, payload: dict[str, Any] | bytes, event: str, delivery: str | None = None
) -> Any:
    body, headers = signed(payload, event, delivery)
    return client.post(WEBHOOK_PATH, data=body, headers=headers)


def fork_payload(owner: str = "acme", name: str = "deepnet") -> dict[str, Any]:
    return adapt(example("repository", "created"), owner, name, fork=True)


def done(emulator: GitHubEmulator, repo: RepoState) -> bool:
    runs = [r for r in repo.check_runs if r["status"] == "completed"]
    return bool(runs) and bool(repo.issues) and bool(repo.pulls)


def vetted(settings: Settings, emulator: GitHubEmulator) -> RepoState:
    """The fork `acme/deepnet` (FORK_FILES), its first vet published: check run, report
    issue, setup pull request (a worker must be running)."""
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    post(create_app(settings).test_client(), fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    return repo


# -- signatures and bad requests ------------------------------------------------------------
def test_githubs_documented_signature_vector() -> None:
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign("It's a Secret to Everybody", b"Hello, World!") == expected
    assert verify("It's a Secret to Everybody", b"Hello, World!", expected)
    sha1 = (
        "sha1="
        + hmac.new(b"It's a Secret to Everybody", b"Hello, World!", hashlib.sha1).hexdigest()
    )
    assert not verify("It's a Secret to Everybody", b"Hello, World!", sha1)


def test_bad_requests_get_the_right_status_and_the_server_keeps_serving(settings: Settings) -> None:
    client = create_app(settings).test_client()
    body, headers = signed(fork_payload(), "repository")
    assert (
        client.post(
            WEBHOOK_PATH,
            data=body,
            headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64},
        ).status_code
        == 401
    )
    sha1_only = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    sha1_only["X-Hub-Signature"] = "sha1=" + "0" * 40
    assert client.post(WEBHOOK_PATH, data=body, headers=sha1_only).status_code == 401
    garbage = b"{not json"
    assert post(client, garbage, "repository").status_code == 400
    assert post(client, b"[1, 2]", "repository").status_code == 400
    big = b" " * (25 * 1024 * 1024 + 1)
    assert client.post(WEBHOOK_PATH, data=big, headers=headers).status_code == 413
    health = client.get("/healthz")  # no worker has ever run: deliveries would pile up
    assert health.status_code == 503 and health.get_json()["status"] == "no worker"
    ping = example("ping")
    resp = post(client, ping, "ping")
    assert resp.status_code == 202 and resp.get_json()["status"] == "ignored"


def test_an_installation_id_that_is_not_an_id_is_a_400(settings: Settings) -> None:
    """Round 12b F7: a signed delivery whose installation.id was a string was a 500."""
    client = create_app(settings).test_client()
    for bad in ["abc", "101", 1.5, 10**200, 0, -1, True, [1], {"id": 1}]:
        payload = {**fork_payload(), "installation": {"id": bad}}
        resp = post(client, payload, "repository")
        assert resp.status_code == 400, (bad, resp.status_code)
        assert resp.get_json() == {"error": "installation.id is not a positive 64-bit integer"}
    good = post(client, {**fork_payload(), "installation": {"id": 2**63 - 1}}, "repository")
    assert good.status_code == 202 and good.get_json()["jobs"] == 1


@pytest.mark.parametrize(
    ("event", "action", "field", "value"),
    [
        ("repository", "created", "repository", 5),
        ("issue_comment", "created", "issue", "str"),
        ("check_run", "rerequested", "check_run", 7),
        ("installation", "created", "repositories", "str"),
        ("pull_request", "closed", "pull_request", [1]),
        ("repository", "created", "repository", {"full_name": ["a", "b"], "fork": True}),
    ],
)
def test_signed_fields_of_the_wrong_type_are_a_400_not_a_500(
    settings: Settings, event: str, action: str, field: str, value: object
) -> None:
    """Round 13b F1: a signed body whose fields had other JSON types (or a 5,000-digit
    number) ended in a traceback and a 500."""
    client = create_app(settings).test_client()
    payload = {**adapt(example(event, action), "acme", "deepnet", fork=True), field: value}
    resp = post(client, payload, event)
    assert resp.status_code == 400, resp.data
    assert "unexpected types" in resp.get_json()["error"]
    number = b'{"action": "created", "n": ' + b"9" * 5000 + b"}"
    assert post(client, number, event).status_code == 400
    assert post(client, fork_payload(), "repository").status_code == 202  # still serving


def test_healthz_follows_the_worker_heartbeat(settings: Settings) -> None:
    client = create_app(settings).test_client()
    _, store = queue.setup(settings)
    assert client.get("/healthz").status_code == 503
    store.heartbeat("host:1")
    assert client.get("/healthz").get_json()["status"] == "ok"
    from dataclasses import replace

    stale = create_app(replace(settings, health_max_age_s=0.0)).test_client()
    time.sleep(0.01)
    assert stale.get("/healthz").status_code == 503


VALID = {
    "FORKVET_APP_ID": "1",
    "FORKVET_PRIVATE_KEY": keypair()[0],
    "FORKVET_WEBHOOK_SECRET": "a-long-enough-webhook-secret-3e9d0b7c",
    "FORKVET_ACTION_REF": "b" * 40,
}
FAKE_PEM = "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"


def _ec_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"FORKVET_WEBHOOK_SECRET": "   \t   "}, "FORKVET_WEBHOOK_SECRET has surrounding"),
        ({"FORKVET_WEBHOOK_SECRET": "short"}, "at least 32"),
        ({"FORKVET_WEBHOOK_SECRET": "a-long-enough-webhook-secret"}, "at least 32"),
        ({"FORKVET_WEBHOOK_SECRET": " a-long-enough-webhook-secret-3e9d "}, "surrounding"),
        ({"FORKVET_WEBHOOK_SECRET": "x" * 16}, "at least 32"),
        ({"FORKVET_WEBHOOK_SECRET": "x" * 64}, "too predictable"),
        ({"FORKVET_WEBHOOK_SECRET": "ab" * 32}, "too predictable"),
        ({"FORKVET_WEBHOOK_SECRET": "abcdefgh" * 4}, "too predictable"),
        ({"FORKVET_PRIVATE_KEY": FAKE_PEM}, "not a usable PEM private key .it does not parse"),
        ({"FORKVET_PRIVATE_KEY": "PRIVATE KEY"}, "not a usable PEM private key"),
        ({"FORKVET_PRIVATE_KEY": _ec_key()}, "not the RSA key"),
        ({"FORKVET_ACTION_REF": ""}, "FORKVET_ACTION_REF is not set"),
        ({"FORKVET_ACTION_REF": "v1.2.0"}, "full 40-character commit SHA"),
        ({"FORKVET_RUNNER_LABELS": "gpu, bad label"}, "FORKVET_RUNNER_LABELS"),
        ({"FORKVET_POLICY": "/nonexistent/policy.yml"}, "FORKVET_POLICY"),
        ({"FORKVET_WORKERS": "two"}, "FORKVET_WORKERS must be a number"),
        ({"FORKVET_JOB_TIMEOUT_S": "0"}, "FORKVET_JOB_TIMEOUT_S must be more than 0"),
        ({"FORKVET_JOB_MEMORY_MB": "-1"}, "FORKVET_JOB_MEMORY_MB must not be negative"),
    ],
)
def test_settings_refuse_what_would_be_unsafe(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**VALID, **change})


def test_settings_defaults_and_dev_mode() -> None:
    settings = Settings.from_env(VALID)
    assert settings.pinned and settings.runner_labels == (("self-hosted", "linux", "x64", "gpu"),)
    unpinned = Settings.from_env({**VALID, "FORKVET_ACTION_REF": ""}, allow_unpinned=True)
    assert not unpinned.pinned and unpinned.allow_unpinned
    assert (settings.job_timeout_s, settings.job_memory_mb, settings.workers) == (600, 3072, 4)
    one_line = VALID["FORKVET_PRIVATE_KEY"].strip().replace("\n", "\\n")
    assert "\n" not in one_line
    keyed = Settings.from_env({**VALID, "FORKVET_PRIVATE_KEY": one_line})
    assert keyed.private_key.strip() == VALID["FORKVET_PRIVATE_KEY"].strip()
    labels = Settings.from_env(
        {**VALID, "FORKVET_RUNNER_LABELS": "[self-hosted, a100]; self-hosted,linux, h100"}
    )
    assert labels.runner_labels == (("self-hosted", "a100"), ("self-hosted", "linux", "h100"))


def test_settings_need_the_secrets(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="FORKVET_APP_ID"):
        Settings.from_env({"FORKVET_WEBHOOK_SECRET": "x"})
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.from_env(
            {
                "FORKVET_APP_ID": "1",
                "FORKVET_WEBHOOK_SECRET": "x",
                "FORKVET_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem"),
            }
        )


def test_non_forks_and_unhandled_events_are_acknowledged_and_ignored(settings: Settings) -> None:
    client = create_app(settings).test_client()
    not_fork = adapt(example("repository", "created"), "acme", "own", fork=False)
    assert post(client, not_fork, "repository").get_json() == {"status": "ignored", "jobs": 0}
    star = adapt(example("star"), "acme", "deepnet")
    assert post(client, star, "star").status_code == 202


# -- end to end ------------------------------------------------------------------------------
def test_fork_gets_a_check_run_a_report_issue_and_a_setup_pr(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    started = time.perf_counter()
    resp = post(client, fork_payload(), "repository")
    assert resp.status_code == 202 and resp.get_json() == {"status": "queued", "jobs": 1}
    assert time.perf_counter() - started < 1.0
    wait_for(lambda: done(emulator, repo))
    run = repo.check_runs[0]
    assert run["name"] == "forkvet" and run["conclusion"] == "neutral"
    assert run["head_sha"] == emulator.sha(repo, "main")
    assert run["output"]["summary"].startswith("⚠️ **forkvet**")
    assert any(a["path"] == "train.py" for a in run["_annotations"])
    issue = repo.issues[0]
    assert "<!-- forkvet:report -->" in issue["body"] and "MIT" in issue["body"]
    pull = repo.pulls[0]
    assert pull["_head"] == "forkvet/setup" and pull["_base"] == "main"
    wf = subprocess.run(
        ["git", "--git-dir", str(repo.bare), "show", "forkvet/setup:.github/workflows/forkvet.yml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "forkvet-org/forkvet/actions/smoke-test@" + "a" * 40 in wf
    reqs = subprocess.run(
        ["git", "--git-dir", str(repo.bare), "show", "forkvet/setup:requirements.txt"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "torch" in reqs and "numpy" in reqs
    sbom = json.loads(
        subprocess.run(
            ["git", "--git-dir", str(repo.bare), "show", "forkvet/setup:sbom.cdx.json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert sbom["bomFormat"] == "CycloneDX"
    assert {"torch", "numpy"} <= {c["name"] for c in sbom["components"]}
    assert sbom["metadata"]["component"]["name"] == "deepnet"
    # reproducible: no timestamp or serial number, so a re-vet does not rewrite it
    assert "serialNumber" not in sbom and "timestamp" not in sbom["metadata"]


def test_redelivery_and_concurrent_deliveries_make_one_issue_one_pr(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    payload = fork_payload()
    first = post(client, payload, "repository", delivery="d-1")
    again = post(client, payload, "repository", delivery="d-1")
    assert first.get_json()["status"] == "queued" and again.get_json()["status"] == "duplicate"
    push = adapt(example("push"), "acme", "deepnet")
    push.update({"ref": "refs/heads/main", "deleted": False})
    # Two pushes (two bodies: a signed body seen twice under two ids is a replay).
    pushes = [{**push, "after": f"{i}" * 40} for i in range(2)]
    threads = [
        threading.Thread(
            target=post, args=(create_app(settings).test_client(), pushes[i], "push", f"p-{i}")
        )
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _, store = queue.setup(settings)
    # A push's vet merges into a vet of the fork still queued (round 18c F8): 1 to 3 vets.
    wait_for(lambda: set(store.counts()) == {"done"})
    assert len(repo.issues) == 1 and len(repo.pulls) == 1
    assert sum(r["status"] == "completed" for r in repo.check_runs) == store.counts()["done"]


def command_payload(issue: dict[str, Any], body: str, user: str) -> dict[str, Any]:
    """GitHub's real issue_comment example, as `user` commenting `body` on forkvet's issue."""
    comment = adapt(example("issue_comment", "created"), "acme", "deepnet")
    comment["issue"].update(
        {
            "number": issue["number"],
            "body": issue["body"],
            "user": {**comment["issue"]["user"], "login": "forkvet[bot]", "type": "Bot"},
        }
    )
    comment["comment"].update(
        {"body": body, "user": {**comment["comment"]["user"], "login": user, "type": "User"}}
    )
    return comment


def test_recheck_command_only_from_writers(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    issue = repo.issues[0]
    for user, allowed in (("stranger", False), ("acme", True)):
        comment = command_payload(issue, "/forkvet recheck", user)
        assert post(client, comment, "issue_comment").get_json()["jobs"] == 1
        wait_for(lambda a=allowed: len(repo.comments) == (2 if a else 1))
    assert "only people with write access" in repo.comments[0]["body"]
    assert "done" in repo.comments[1]["body"]
    assert sum(r["status"] == "completed" for r in repo.check_runs) == 2


def test_a_strangers_command_costs_no_job(settings: Settings, emulator: GitHubEmulator) -> None:
    """Round 13b F8: anyone's `/forkvet` comment on a public fork's report issue cost a job and
    a reply. GitHub marks people with no role in the repository: their comments queue nothing."""
    client = create_app(settings).test_client()
    issue = {"number": 1, "body": f"report\n{MARKER}"}
    for association, jobs in (("NONE", 0), ("FIRST_TIMER", 0), ("OWNER", 1), ("COLLABORATOR", 1)):
        comment = command_payload(issue, "/forkvet recheck", "someone")
        comment["comment"]["author_association"] = association
        assert post(client, comment, "issue_comment").get_json()["jobs"] == jobs, association


def test_commands_count_only_on_the_apps_own_issue(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    """The report marker can be copied into any issue; a command there is not run."""
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    report = repo.issues[0]
    fake = {**report, "id": 999_001, "number": 99, "_creator": "mallory"}
    repo.issues.append(fake)
    # A person's issue: the webhook sees a User author and queues nothing.
    human = command_payload(fake, "/forkvet recheck", "acme")
    human["issue"]["user"] = {**human["issue"]["user"], "login": "mallory", "type": "User"}
    assert post(client, human, "issue_comment").get_json()["jobs"] == 0
    # A payload that claims a bot author: the worker reads the issue's real author and stops.
    claimed = command_payload(fake, "/forkvet recheck", "acme")
    assert post(client, claimed, "issue_comment").get_json()["jobs"] == 1
    # The same command on the App's own issue runs (and proves the worker got that far).
    post(client, command_payload(report, "/forkvet recheck", "acme"), "issue_comment")
    wait_for(lambda: len(repo.comments) == 1)
    assert [c["issue"] for c in repo.comments] == [report["number"]]
    assert sum(r["status"] == "completed" for r in repo.check_runs) == 2


def test_workflow_run_results_are_folded_into_the_report(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    # the fork merges the setup pull request: the App's own rendered workflow now counts
    run = workflow_run_payload(head_sha=merge_setup_workflow(emulator, repo))
    assert post(client, run, "workflow_run").get_json()["jobs"] == 1
    wait_for(lambda: "Runtime checks" in (repo.issues[0]["body"] or ""))
    assert "**success**" in repo.issues[0]["body"] and len(repo.issues) == 1
    wait_for(lambda: any(r["name"] == "forkvet GPU" for r in repo.check_runs))
    gpu = next(r for r in repo.check_runs if r["name"] == "forkvet GPU")
    assert gpu["conclusion"] == "success" and gpu["head_sha"] == run["workflow_run"]["head_sha"]


WORKFLOW_PATH = ".github/workflows/forkvet.yml"


def rendered(settings: Settings) -> str:
    """The workflow the App proposes under these settings (the first allowed label set)."""
    return render(settings.action_repo, settings.action_ref, list(settings.runner_labels[0]))


def merge_setup_workflow(emulator: GitHubEmulator, repo: RepoState) -> str:
    """The setup pull request's workflow file, as the App committed it, onto main (what
    merging it does to that file); the new commit."""
    text = subprocess.run(
        ["git", "--git-dir", str(repo.bare), "show", f"forkvet/setup:{WORKFLOW_PATH}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return emulator.commit(repo, "main", {WORKFLOW_PATH: text}, "Merge forkvet/setup")


def test_only_the_workflows_the_app_renders_count_byte_for_byte() -> None:
    allowed = (("self-hosted", "linux", "x64", "gpu"), ("self-hosted", "a100"))
    pin = ("forkvet-org/forkvet", "b" * 40)
    texts = renderings(*pin, allowed)
    assert len(texts) == 2  # one per label set the operator allows
    for labels in allowed:
        text = render(*pin, list(labels)).encode()
        assert is_rendered(text, *pin, allowed)
        assert not is_rendered(text + b"\n", *pin, allowed)
        assert not is_rendered(text.replace(b"b" * 40, b"c" * 40), *pin, allowed)
        assert not is_rendered(text.replace(b"\n", b"\r\n"), *pin, allowed)
    # a label set the operator does not allow, and another pin, are not this App's
    assert not is_rendered(render(*pin, ["self-hosted"]).encode(), *pin, allowed)
    assert not is_rendered(render(pin[0], "c" * 40, list(allowed[0])).encode(), *pin, allowed)
    assert is_rendered(render(*pin, None).encode(), *pin, ())  # the template's own default


def test_the_operators_runtime_floor_is_written_into_the_rendered_workflow() -> None:
    # FORKVET_POLICY's caps and network cut bind the runner: the fork's own
    # .github/forkvet.yml is the only other policy the actions read there.
    policy = (
        "runtime: {network: none}\nsmoke: {timeout: 120}\ntrain: {timeout: 300, max_steps: 20}\n"
    )
    floor = load_config(Path("policy.yml"), policy)
    pin = ("forkvet-org/forkvet", "b" * 40)
    text = render(*pin, None, floor)
    for line in ('timeout: "120"', 'max-steps: "20"', 'timeout: "300"'):
        assert line in text
    assert text.count('network: "none"') == 2  # smoke test and training check
    assert 'timeout: "600"' not in text and 'max-steps: "50"' not in text
    # Only the rendering under the operator's floor counts as this App's workflow.
    assert is_rendered(text.encode(), *pin, (), floor)
    assert not is_rendered(render(*pin, None).encode(), *pin, (), floor)


def workflow_run_payload(head_sha: str, **run: Any) -> dict[str, Any]:
    """GitHub's real workflow_run.completed example as the fork's own push run of the
    workflow the setup pull request adds."""
    payload = adapt(example("workflow_run", "completed"), "acme", "deepnet")
    payload["repository"]["id"] = 4242
    payload["workflow_run"].update(
        {
            "name": "forkvet",
            "status": "completed",
            "conclusion": "success",
            "path": ".github/workflows/forkvet.yml",
            "event": "push",
            "head_sha": head_sha,
            "head_repository": {**payload["workflow_run"]["head_repository"], "id": 4242},
            "html_url": "https://github.com/acme/deepnet/actions/runs/30433642",
            "pull_requests": [],
            **run,
        }
    )
    return payload


def test_retries_on_500_and_rate_limit_then_succeeds(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    emulator.fail_next("POST", "/check-runs$", 500)
    emulator.fail_next("POST", "/check-runs$", 403, headers={"Retry-After": "1"})
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    statuses = [s for m, p, s in emulator.calls if m == "POST" and p.endswith("/check-runs")]
    assert statuses[:2] == [500, 403] and 201 in statuses
    assert len([r for r in repo.check_runs if r["status"] == "completed"]) == 1


def test_missing_repository_is_logged_not_crashed(
    settings: Settings, emulator: GitHubEmulator, worker: None, caplog: pytest.LogCaptureFixture
) -> None:
    client = create_app(settings).test_client()
    post(client, fork_payload("acme", "vanished"), "repository")
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts().get("done", 0) == 1)
    assert client.get("/healthz").status_code == 200


def test_worker_killed_mid_job_completes_once_after_restart(
    settings: Settings, emulator: GitHubEmulator, tmp_path: Path
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    # Looking for the report issue hangs long enough to kill the worker in the middle (after
    # the check run exists, before anything else is written).
    emulator.delays = {"GET /repos/acme/deepnet/issues": 20}
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    env = app_env(settings)
    first = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, stderr=subprocess.DEVNULL
    )
    wait_for(lambda: repo.check_runs, timeout=60)
    time.sleep(1)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    _, store = queue.setup(settings)
    assert store.counts() == {"running": 1}  # killed in the middle of the job
    emulator.delays = {}
    second = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: done(emulator, repo), timeout=90)
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=20)
    # The restarted worker reused the check run the killed one had created.
    assert len(repo.check_runs) == 1 and repo.check_runs[0]["status"] == "completed"
    assert len(repo.issues) == 1 and len(repo.pulls) == 1


def test_upstream_and_thank_commands_post_drafts(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    emulator.commit(
        repo,
        "main",
        {
            "train.py": FORK_FILES["train.py"].replace(
                "torch.load('ckpt.pth')", "torch.load('ckpt.pth', weights_only=True)"
            )
        },
        "Fix unsafe checkpoint loading",
        author=("Bea Fixer", "bea@example.org"),
    )
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    issue = repo.issues[0]
    for body in ("/forkvet upstream", "/forkvet thank"):
        comment = command_payload(issue, body, "acme")
        assert post(client, comment, "issue_comment").get_json()["jobs"] == 1
    wait_for(lambda: len(repo.comments) == 2)
    upstream_reply = next(c["body"] for c in repo.comments if "upstream drafts" in c["body"])
    assert "Fix unsafe checkpoint loading** — drafted" in upstream_reply
    assert "compare/main...acme:forkvet/fix-" in upstream_reply
    branch = next(
        ref
        for ref in subprocess.run(
            ["git", "--git-dir", str(repo.bare), "for-each-ref", "--format=%(refname:short)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        if "fix-" in ref
    )
    assert emulator.sha(repo, branch)
    thanks = next(c["body"] for c in repo.comments if "thank-you" in c["body"])
    assert "draft thank-you issue" in thanks
    upstream = emulator.repos["upstream-org/model"]
    assert upstream.pulls == [] and upstream.issues == []  # drafts: nothing written upstream


def test_merged_upstream_labelled_pull_request_is_drafted(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    sha = emulator.commit(
        repo,
        "main",
        {
            "train.py": FORK_FILES["train.py"].replace(
                "torch.load('ckpt.pth')", "torch.load('ckpt.pth', weights_only=True)"
            )
        },
        "Fix unsafe checkpoint loading",
        author=("Bea Fixer", "bea@example.org"),
    )
    repo.pulls.append(
        {
            "id": 9,
            "number": 42,
            "title": "Fix loading",
            "body": "",
            "state": "closed",
            "_head": "fix-loading",
            "_base": "main",
        }
    )
    client = create_app(settings).test_client()
    event = adapt(example("pull_request", "closed"), "acme", "deepnet")
    event["pull_request"].update(
        {"merged": True, "number": 42, "merge_commit_sha": sha, "labels": [{"name": "upstream"}]}
    )
    assert post(client, event, "pull_request").get_json()["jobs"] == 1
    wait_for(lambda: any(c["issue"] == 42 for c in repo.comments))
    reply = next(c["body"] for c in repo.comments if c["issue"] == 42)
    assert "Fix unsafe checkpoint loading** — drafted" in reply
    unlabelled = adapt(example("pull_request", "closed"), "acme", "deepnet")
    unlabelled["pull_request"].update({"merged": True, "labels": []})
    assert post(client, unlabelled, "pull_request").get_json()["jobs"] == 0


GPU = ("self-hosted", "linux", "x64", "gpu")
A100 = ("self-hosted", "linux", "x64", "a100")


@pytest.mark.parametrize(
    ("allowed", "requested", "runs_on", "note"),
    [
        ((GPU, A100), "[a100, self-hosted, linux, x64]", "[self-hosted, linux, x64, a100]", False),
        # A subset of an allowed set reaches every runner that has those labels: refused.
        ((GPU, A100), "[self-hosted, a100]", "[self-hosted, linux, x64, gpu]", True),
        (((*GPU, "a100"),), "[self-hosted]", "[self-hosted, linux, x64, gpu, a100]", True),
    ],
)
def test_fork_config_picks_one_of_the_operators_runner_label_sets_exactly(
    settings: Settings,
    emulator: GitHubEmulator,
    worker: None,
    allowed: tuple[tuple[str, ...], ...],
    requested: str,
    runs_on: str,
    note: bool,
) -> None:
    from dataclasses import replace

    settings = replace(settings, runner_labels=allowed)
    repo = emulator.add_repo(
        "acme",
        "deepnet",
        {**FORK_FILES, ".github/forkvet.yml": f"runner:\n  labels: {requested}\n"},
    )
    worker_settings = queue._state["settings"]
    queue._state["settings"] = settings  # the worker thread reads the same settings
    try:
        client = create_app(settings).test_client()
        post(client, fork_payload(), "repository")
        wait_for(lambda: done(emulator, repo))
    finally:
        queue._state["settings"] = worker_settings
    wf = subprocess.run(
        ["git", "--git-dir", str(repo.bare), "show", "forkvet/setup:.github/workflows/forkvet.yml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"runs-on: {runs_on}" in wf
    body = repo.pulls[0]["body"]
    assert ("are not one of the label sets this App's operator allows" in body) is note


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    import shutil
    import socket

    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    wait_for(lambda: _pings(redis.Redis.from_url(url)), timeout=10)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # not up yet
        return False


def test_redis_queue_with_a_worker_on_another_machine(
    settings: Settings, emulator: GitHubEmulator, redis_url: str, tmp_path: Path
) -> None:
    """Web and worker share only Redis (each has its own FORKVET_DB), as on two machines."""
    from dataclasses import replace

    web_settings = replace(settings, redis_url=redis_url, db=str(tmp_path / "web.sqlite3"))
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(web_settings).test_client()
    assert post(client, fork_payload(), "repository", delivery="r-1").get_json()["jobs"] == 1
    assert (
        post(client, fork_payload(), "repository", delivery="r-1").get_json()["status"]
        == "duplicate"
    )
    env = app_env(
        settings, FORKVET_REDIS_URL=redis_url, FORKVET_DB=str(tmp_path / "worker.sqlite3")
    )
    worker_proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: done(emulator, repo), timeout=60)
    finally:
        worker_proc.send_signal(signal.SIGINT)
        worker_proc.wait(timeout=20)
    _, store = queue.setup(web_settings)
    assert store.counts() == {"done": 1}
    assert len(repo.issues) == 1 and len(repo.pulls) == 1


def test_commands_in_code_or_hidden_are_not_commands(
    settings: Settings, emulator: GitHubEmulator
) -> None:
    """Round 18c F7: GitHub shows a fenced or indented code block as code and an HTML comment
    not at all: a `/forkvet` line there is no command (someone pasting instructions). Round
    19c A5: the comment is read as CommonMark; only a top-level paragraph's first line is a
    command. Round 20c F11: that reading happens in the job (`read_command`); the web tier
    queues a job for every comment with a candidate line, so never misses a command."""
    client = create_app(settings).test_client()
    issue = {"number": 1, "body": f"report\n{MARKER}"}
    for body, is_command in (
        ("```\n/forkvet recheck\n```", 0),
        ("~~~~ text\n/forkvet recheck\n~~~\n~~~~\n", 0),
        ("```\n/forkvet recheck", 0),  # never closed: code to the end
        ("    /forkvet recheck", 0),
        ("\t/forkvet recheck", 0),
        ("> /forkvet recheck", 0),
        ("<!--\n/forkvet recheck\n-->", 0),
        ("```\ncode\n```\n/forkvet recheck", 1),
        ("   /forkvet recheck", 1),
        ("see below\n\n/forkvet recheck\n", 1),
        # Round 19c A5: what GitHub does not show as a line of plain text of its own.
        ('[x]: https://example.org "\n/forkvet recheck\n"', 0),  # a link definition's title
        ("<script>\n/forkvet recheck\n</script>", 0),  # dropped with its content
        ("<textarea>\n/forkvet recheck\n</textarea>", 0),
        ("<div hidden>\n/forkvet recheck\n</div>", 0),
        ("$$\n/forkvet recheck\n$$", 0),  # math
        ("> I ran this:\n/forkvet recheck", 0),  # a quote's lazy continuation line
        ("![\n/forkvet recheck\n](x.png)", 0),  # an image's alt text
        ("/forkvet recheck\n===", 0),  # a heading
        ("<details><summary>log</summary>\n\n/forkvet recheck\n\n</details>", 1),
        ("/forkvet accept R p.py ok  \nmore words", 1),
        ("\u00a0" * 4 + "/forkvet recheck", 0),  # the line as written: no-break spaces are text
        ("text\r\n\r\n  /forkvet recheck\r\nmore", 1),
    ):
        assert (read_command(body) is not None) == is_command, body
        comment = command_payload(issue, body, "acme")
        comment["comment"]["author_association"] = "OWNER"
        jobs = post(client, comment, "issue_comment").get_json()["jobs"]
        assert jobs == (1 if COMMAND.search(bounded_text(body)) else 0), body
        assert jobs >= is_command, body


def test_a_refusal_is_answered_once_per_person_and_fork(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    """Round 18c F7: a reader commenting commands in a loop gets one refusal reply, not one
    bot comment per comment (each one notifies every watcher)."""
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    issue = repo.issues[0]
    for i in range(5):
        comment = command_payload(issue, f"/forkvet recheck {i}", "reader")
        comment["comment"]["author_association"] = "CONTRIBUTOR"
        assert post(client, comment, "issue_comment").get_json()["jobs"] == 1
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 6})
    replies = [c for c in repo.comments if "only people with write access" in c["body"]]
    assert len(replies) == 1
    # Someone else is answered: the limit is per person.
    other = command_payload(issue, "/forkvet recheck", "another")
    other["comment"]["author_association"] = "CONTRIBUTOR"
    post(client, other, "issue_comment")
    wait_for(lambda: store.counts() == {"done": 7})
    assert sum("only people with write access" in c["body"] for c in repo.comments) == 2
    assert sum(r["status"] == "completed" for r in repo.check_runs) == 1
