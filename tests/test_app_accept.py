"""`/forkvet accept` on the report issue, against the GitHub emulator: only people with write
access (and only when the operator allows it) accept a finding; the App records who, when and
why; the report shows it as accepted; a change to the file makes it due again."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import queue
from bot.settings import Settings, SettingsError, _acceptances
from bot.store import Store
from bot.web import create_app
from tests.github.emulator import GitHubEmulator, RepoState
from tests.test_app import (
    FORK_FILES,
    command_payload,
    emulator,
    post,
    redis_url,
    settings,
    vetted,
    wait_for,
)

__all__ = ["emulator", "redis_url", "settings"]  # the fixtures, shared

ACCEPT = "/forkvet accept risks/torch-load train.py loads only our own checkpoints until 2099-12-31"


@pytest.fixture(params=["write"])
def app_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return dataclasses.replace(settings, acceptances=request.param)


@pytest.fixture
def app_worker(app_settings: Settings) -> Iterator[None]:
    huey, store = queue.setup(app_settings)
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False)
    consumer.start()
    beat = queue.start_heartbeat(app_settings, store)
    yield
    beat.set()
    consumer.stop(graceful=True)


def comment(app_settings: Settings, repo: RepoState, body: str, user: str, replies: int) -> str:
    payload = command_payload(repo.issues[0], body, user)
    assert (
        post(create_app(app_settings).test_client(), payload, "issue_comment").get_json()["jobs"]
        == 1
    )
    wait_for(lambda: len(repo.comments) == replies)
    return str(repo.comments[-1]["body"])


def test_a_writer_accepts_a_finding_until_the_file_changes(
    app_settings: Settings, emulator: GitHubEmulator, app_worker: None
) -> None:
    repo = vetted(app_settings, emulator)
    assert "torch-load" in repo.issues[0]["body"]
    reply = comment(app_settings, repo, ACCEPT, "stranger", 1)
    assert "only people with write access" in reply
    assert Store(app_settings.db).acceptances("acme/deepnet") == []
    reply = comment(app_settings, repo, "/forkvet accept risks/torch-load", "acme", 2)
    assert "give a rule, a path and a reason" in reply
    reply = comment(app_settings, repo, ACCEPT.replace("train.py", "nope.py"), "acme", 3)
    assert "is not a file on" in reply

    reply = comment(app_settings, repo, ACCEPT, "acme", 4)
    assert reply.startswith("@acme accepted `risks/torch-load` on `train.py` until 2099-12-31")
    (entry,) = Store(app_settings.db).acceptances("acme/deepnet")
    blob = subprocess.run(
        ["git", "--git-dir", str(repo.bare), "rev-parse", "main:train.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert entry["by"] == "@acme" and entry["blob"] == blob and entry["at"]
    assert entry["reason"] == "loads only our own checkpoints"
    body = repo.issues[0]["body"]
    assert "Accepted: Torch load" in body and "loads only our own checkpoints" in body
    assert "acme" in body and "2099-12-31" in body
    run = repo.check_runs[-1]
    assert run["status"] == "completed"

    # the file changes: the finding is due again, and the report says why
    emulator.commit(
        repo, "main", {"train.py": FORK_FILES["train.py"] + "print(m)\n"}, "change train.py"
    )
    comment(app_settings, repo, "/forkvet recheck", "acme", 5)
    body = repo.issues[0]["body"]
    assert "Acceptance no longer applies" in body and "Accepted: Torch load" not in body


@pytest.mark.parametrize("app_settings", ["off"], indirect=True)
def test_the_operator_can_turn_acceptances_off(
    app_settings: Settings, emulator: GitHubEmulator, app_worker: None
) -> None:
    repo = vetted(app_settings, emulator)
    reply = comment(app_settings, repo, ACCEPT, "acme", 1)
    assert "turned acceptances off" in reply
    assert Store(app_settings.db).acceptances("acme/deepnet") == []


def test_acceptance_settings_are_checked() -> None:
    assert _acceptances(None) == "write" and _acceptances("team:acme/ml-sec") == "team:acme/ml-sec"
    with pytest.raises(SettingsError, match="FORKVET_ACCEPTANCES"):
        _acceptances("everyone")


def test_both_stores_keep_one_acceptance_per_rule_and_path(tmp_path: Path, redis_url: str) -> None:
    from bot.redis_store import RedisStore

    for store in (Store(str(tmp_path / "a.sqlite3")), RedisStore(redis_url)):
        first = {"rule": "risks/eval", "path": "a.py", "reason": "one", "at": "2026-01-01"}
        second = {**first, "reason": "two", "at": "2026-01-02"}
        other = {**first, "path": "b.py", "at": "2026-01-03"}
        for entry in (first, second, other):
            store.save_acceptance("o/r", f"{entry['rule']} {entry['path']}", entry)
        assert store.acceptances("o/r") == [second, other]
        assert store.acceptances("o/other") == []


@pytest.mark.parametrize("expiry", ["2027-1-1", "99999-01-01", "2027-02-30", "2027/03/01"])
def test_an_expiry_that_is_no_date_is_refused_never_read_as_reason(expiry: str) -> None:
    # Round 14b F6: `until 2027-1-1` became part of the reason, with no expiry at all.
    from bot.accepting import parse_args

    with pytest.raises(ValueError, match="is not a date"):
        parse_args(f"risks/torch-load train.py reviewed by us until {expiry}")
    _, _, reason, until = parse_args("risks/torch-load train.py fine until release")
    assert (reason, until) == ("fine until release", None)
    assert parse_args("risks/torch-load a.py ok until 2027-03-31")[3].isoformat() == "2027-03-31"


def test_an_acceptance_is_recorded_only_when_it_accepts_a_finding(
    app_settings: Settings, emulator: GitHubEmulator, app_worker: None
) -> None:
    """Round 21c F5: `/forkvet accept RULE ./PATH` was answered "accepted" while the report
    said the acceptance matched no finding. PATH is read as findings name files, and the
    acceptance is tried in the vet that refreshes the report: one that accepts no finding is
    refused in the reply and not recorded."""
    repo = vetted(app_settings, emulator)
    reply = comment(app_settings, repo, ACCEPT.replace("train.py", "README.md"), "acme", 1)
    assert reply.startswith("@acme not accepted: `risks/torch-load` on `README.md`"), reply
    assert "matches no finding" in reply
    assert Store(app_settings.db).acceptances("acme/deepnet") == []
    assert "Acceptance matches no finding" not in repo.issues[0]["body"]
    reply = comment(app_settings, repo, ACCEPT.replace("train.py", "w/../train.py"), "acme", 2)
    assert "is not a path in the repository" in reply
    reply = comment(app_settings, repo, ACCEPT.replace("train.py", ".//./train.py"), "acme", 3)
    assert reply.startswith("@acme accepted `risks/torch-load` on `train.py`"), reply
    (entry,) = Store(app_settings.db).acceptances("acme/deepnet")
    assert entry["path"] == "train.py" and "Accepted: Torch load" in repo.issues[0]["body"]
