"""Round 20c F11: a 65 KB `/forkvet` comment (a GFM table after the command) cost 3-6 s of
web-tier CPU before its 202, holding the GIL of a thread that other tenants' deliveries share.
The web tier now decides with bounded work whatever the body (the author's association and a
line scan); the comment is read as CommonMark in the job child, on the tenant's budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot import queue
from bot.handlers.comments import read_command
from bot.settings import Settings
from bot.web import create_app
from forkvet.github.issues import MARKER
from tests.cputime import cpu_call, cpu_time
from tests.github.emulator import GitHubEmulator
from tests.test_app import (
    command_payload,
    emulator,
    post,
    redis_url,
    settings,
    vetted,
    wait_for,
    worker,
)

__all__ = ["emulator", "redis_url", "settings", "worker"]  # the fixtures, shared

# GitHub's cap is 65,536 characters a comment: the tester's table, as long as it allows.
TABLE = "a|b\n-|-\n" + "a\n" * 32_500
LARGE = "/forkvet help\n\n" + TABLE


def _comment(issue: dict[str, Any], body: str, association: str = "OWNER") -> dict[str, Any]:
    comment = command_payload(issue, body, "acme")
    comment["comment"]["author_association"] = association
    return comment


def test_a_large_comments_acknowledgement_costs_bounded_web_cpu(settings: Settings) -> None:
    """The 202 for the largest comment GitHub allows costs the web tier a small, fixed share
    of what reading it as CommonMark costs (measured here, in this process), from the owner
    or from a contributor without write access alike; the job is queued all the same."""
    client = create_app(settings).test_client()
    issue = {"number": 1, "body": f"report\n{MARKER}"}
    post(client, _comment(issue, "/forkvet help"), "issue_comment")  # warm: imports, tables
    reading = cpu_time(lambda: read_command(LARGE), runs=1)
    assert read_command(LARGE) == {"command": "help", "args": ""}
    for association in ("OWNER", "CONTRIBUTOR"):
        answer, web = cpu_call(
            lambda a=association: post(client, _comment(issue, LARGE, a), "issue_comment")
        )
        assert answer.status_code == 202 and answer.get_json()["jobs"] == 1
        assert web < min(0.25, reading / 10), (association, web, reading)


def test_a_large_comments_command_is_read_in_the_job(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    """The command in a large comment is still read, in the job: `/forkvet help` before a
    long table is answered with the list; a `/forkvet` line only inside fenced code (a
    candidate for the web tier's line scan) costs a job that asks GitHub nothing and
    answers nothing."""
    repo = vetted(settings, emulator)
    client = create_app(settings).test_client()
    issue = repo.issues[0]
    _, store = queue.setup(settings)
    fenced = "```\n/forkvet recheck\n```\n\n" + TABLE
    assert post(client, _comment(issue, fenced), "issue_comment").get_json()["jobs"] == 1
    wait_for(lambda: store.counts() == {"done": 2}, timeout=120)
    assert repo.comments == []
    assert post(client, _comment(issue, LARGE), "issue_comment").get_json()["jobs"] == 1
    wait_for(lambda: bool(repo.comments), timeout=120)
    assert "/forkvet recheck" in repo.comments[0]["body"]  # the list of commands
    assert "is not a forkvet command" not in repo.comments[0]["body"]
    assert sum(r["status"] == "completed" for r in repo.check_runs) == 1


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_comments_text_is_kept_beside_its_job_not_in_its_payload(
    settings: Settings, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    """Choosing the next job reads every queued job's payload (its installation): a flood of
    large comments must not make that read 65 KB a job, so the text is a field of the job
    record of its own, read only by the job that runs."""
    from dataclasses import replace

    if kind == "redis":
        settings = replace(settings, redis_url=request.getfixturevalue("redis_url"))
    client = create_app(settings).test_client()
    issue = {"number": 1, "body": f"report\n{MARKER}"}
    assert post(client, _comment(issue, LARGE), "issue_comment").get_json()["jobs"] == 1
    _, store = queue.setup(settings)
    job = store.claim_next()
    assert job is not None and job.kind == "comment"
    assert len(json.dumps(job.payload)) < 1000, job.payload
    assert store.job_text(job.id) == LARGE
    store.finish(job.id, error="boom")  # failed: kept for GitHub's redelivery
    assert store.job_text(job.id) == LARGE
    store.finish(job.id)  # done: not kept
    assert store.job_text(job.id) is None
