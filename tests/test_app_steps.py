"""The small steps the App's web side and queue are made of, each on its own (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

from bot import web
from bot.routing import Event
from bot.settings import Settings
from bot.store import Store


def _settings(tmp_path: Path) -> Settings:
    return Settings(app_id="1", private_key="k", webhook_secret="s", db=str(tmp_path / "a.db"))


def test_health_needs_a_recent_worker_heartbeat(tmp_path: Path) -> None:
    settings, store = _settings(tmp_path), Store(str(tmp_path / "a.db"))
    down = web._health(settings, store)
    assert down.status_code == 503 and json.loads(down.get_data())["status"] == "no worker"
    store.heartbeat("w1")
    up = web._health(settings, store)
    assert up.status_code == 200 and json.loads(up.get_data())["status"] == "ok"


def test_a_redelivery_without_failed_jobs_is_a_duplicate(tmp_path: Path) -> None:
    settings, store = _settings(tmp_path), Store(str(tmp_path / "a.db"))
    store.record_delivery("d1", "push", "h")
    response = web._redelivery(settings, store, "d1", "push")
    assert (response.status_code, json.loads(response.get_data())) == (
        202,
        {"status": "duplicate"},
    )


def test_an_event_no_handler_wants_queues_nothing(tmp_path: Path) -> None:
    settings, store = _settings(tmp_path), Store(str(tmp_path / "a.db"))
    event = Event("star", "d2", {"action": "created"})
    assert web._jobs_of(event) == []
    assert web._enqueue_jobs(settings, store, event, web._jobs_of(event)) == (0, 0)
    assert store.counts() == {} or sum(store.counts().values()) == 0


def test_a_failed_job_is_retried_when_transient_and_failed_for_good_otherwise(
    tmp_path: Path,
) -> None:
    import pytest
    from huey.exceptions import RetryTask

    from bot import queue

    settings, store = _settings(tmp_path), Store(str(tmp_path / "a.db"))
    job_id = store.add_job("d3#0", "vet", "o/r", {})  # no installation: the report fails too
    assert job_id is not None
    job = store.get(job_id)
    assert job is not None
    with pytest.raises(RetryTask):
        queue._failed(settings, store, job, ConnectionError("reset"))
    queue._failed(settings, store, job, ValueError("a bug"))
    with store.conn() as db:
        status, error = db.execute(
            "SELECT status, error FROM jobs WHERE id=?", (job_id,)
        ).fetchone()
    assert status == "failed" and error.endswith("] ValueError: a bug")


def test_the_action_pin_is_a_full_sha_unless_unpinned_is_allowed() -> None:
    import pytest

    from bot.settings import SettingsError, _action_pin

    sha = "a" * 40
    assert _action_pin({"FORKVET_ACTION_REF": f" {sha} "}, False) == ("forkvet/forkvet", sha)
    assert _action_pin({"FORKVET_ACTION_REPO": "me/fv"}, True) == ("me/fv", "")
    with pytest.raises(SettingsError, match="FORKVET_ACTION_REF is not set"):
        _action_pin({}, False)
    with pytest.raises(SettingsError, match="full 40-character commit SHA"):
        _action_pin({"FORKVET_ACTION_REF": "v1"}, True)
    with pytest.raises(SettingsError, match="must be owner/repo"):
        _action_pin({"FORKVET_ACTION_REPO": "a b"}, True)


def test_the_private_key_comes_from_the_variable_or_the_file(tmp_path: Path) -> None:
    import pytest

    from bot.settings import SettingsError, _read_private_key

    pem = tmp_path / "key.pem"
    pem.write_text("PEM")
    assert _read_private_key({"FORKVET_PRIVATE_KEY": "inline"}) == "inline"
    assert _read_private_key({"FORKVET_PRIVATE_KEY_PATH": str(pem)}) == "PEM"
    assert _read_private_key({}) is None
    with pytest.raises(SettingsError, match="FORKVET_PRIVATE_KEY_PATH: cannot read"):
        _read_private_key({"FORKVET_PRIVATE_KEY_PATH": str(tmp_path / "none.pem")})
