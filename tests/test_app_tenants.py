"""Fair between tenants: one installation's backlog does not hold back another's first vet.
The real queue (huey on SQLite) and jobs (child processes), against the GitHub emulator."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
# ruff: noqa: F811
from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot import queue
from bot.settings import Settings
from bot.store import Store
from bot.web import create_app
from tests.app_fixtures import adapt, example
from tests.github.emulator import GitHubEmulator, RepoState
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    FORK_FILES,
    app_env,
    emulator,
    no_package_index,
    post,
    redis_url,
    settings,
    wait_for,
    worker,
)

MALLORY, BOB = 101, 202


def added(installation: int, repos: list[RepoState]) -> dict[str, Any]:
    """One installation_repositories.added delivery listing every repository."""
    payload = example("installation_repositories", "added")
    payload["installation"] = {"id": installation}
    payload["repositories_added"] = [
        {"id": r.id, "name": r.name, "full_name": r.full_name, "private": False} for r in repos
    ]
    return payload


def completed(repo: RepoState) -> bool:
    return any(r["status"] == "completed" for r in repo.check_runs)


def deliver(settings: Settings, emulator: GitHubEmulator) -> tuple[list[RepoState], RepoState]:
    """Mallory's one delivery of 8 forks, then bob's one fork half a second later."""
    backlog = [emulator.add_repo("mallory", f"fork{i}", FORK_FILES) for i in range(8)]
    bobs = emulator.add_repo("bob", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    assert post(client, added(MALLORY, backlog), "installation_repositories").get_json() == {
        "status": "queued",
        "jobs": 8,
    }
    time.sleep(0.5)  # mallory's first jobs are running when bob's fork arrives
    fork = adapt(example("repository", "created"), "bob", "deepnet", fork=True)
    fork["installation"] = {"id": BOB}
    post(client, fork, "repository")
    return backlog, bobs


def completion_order(backlog: list[RepoState], bobs: RepoState) -> list[str]:
    order: list[str] = []

    def record() -> bool:
        for repo in [*backlog, bobs]:
            if repo.full_name not in order and completed(repo):
                order.append(repo.full_name)
        return len(order) == 9

    wait_for(record, timeout=240)
    return order


def test_a_tenants_backlog_does_not_hold_back_anothers_first_fork(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    order = completion_order(*deliver(settings, emulator))
    # bob's fork waits for the jobs already running (2 workers), and at most one more of
    # mallory's queued ones that came first in its place in line; never for all 8
    assert order.index("bob/deepnet") <= 3, order


def test_fair_on_redis_too(
    settings: Settings, emulator: GitHubEmulator, redis_url: str, tmp_path: Path
) -> None:
    """Web and a worker process sharing only Redis; the worker starts once both tenants'
    jobs wait, so the order is the queue's alone."""
    web = replace(settings, redis_url=redis_url, db=str(tmp_path / "web.sqlite3"))
    backlog, bobs = deliver(web, emulator)
    env = app_env(
        settings,
        FORKVET_REDIS_URL=redis_url,
        FORKVET_DB=str(tmp_path / "worker.sqlite3"),
        FORKVET_WORKERS="2",
    )
    worker_proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, stderr=subprocess.DEVNULL
    )
    try:
        order = completion_order(backlog, bobs)
    finally:
        worker_proc.send_signal(signal.SIGINT)
        worker_proc.wait(timeout=20)
    # taken second (after mallory's first), so among the first jobs to finish
    assert order.index("bob/deepnet") <= 2, order


def test_place_in_line_counts_the_installations_own_waiting_jobs(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "app.sqlite3"))
    ids = [store.add_job(f"d{i}", "vet", f"m/r{i}", {"installation_id": 1}) for i in range(3)]
    other = store.add_job("e", "vet", "b/r", {"installation_id": 2})
    assert None not in ids and other is not None
    places = [queue.place_in_line(store, i) for i in ids if i is not None]
    assert places == [0, 1, 2] and queue.place_in_line(store, other) == 0
    store.finish(ids[0] or 0)  # a finished job leaves the line
    assert queue.place_in_line(store, ids[2] or 0) == 1
