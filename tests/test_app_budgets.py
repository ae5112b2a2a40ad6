"""Round 17c F3, F4, F6 against the GitHub emulator (real bare git repositories behind it) and
the real worker: a failure that is the repository's content is never retried, and every
attempt of a job shares one time budget (F3); a fork with Issues disabled still gets its
report on the check run and its setup pull request, and no output's failure loses another
(F4); each job has a disk budget, checked on the tree before checkout and on the job's folder
while it runs (F6)."""

from __future__ import annotations

import errno
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bot import isolate, jobs, queue
from bot.settings import Settings
from bot.store import Store
from bot.web import create_app
from forkvet import source
from tests.github.emulator import GitHubEmulator, RepoState
from tests.test_app import (
    FORK_FILES,
    emulator,
    fork_payload,
    merge_setup_workflow,
    post,
    settings,
    wait_for,
    worker,
    workflow_run_payload,
)

__all__ = ["emulator", "settings", "worker"]  # the fixtures, shared

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "a",
    "GIT_AUTHOR_EMAIL": "a@example.org",
    "GIT_COMMITTER_NAME": "a",
    "GIT_COMMITTER_EMAIL": "a@example.org",
}


def _git(bare: Path, *args: str, data: bytes | None = None) -> str:
    return (
        subprocess.run(["git", "-C", str(bare), *args], input=data, capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )


def _commit_tree(repo: RepoState, tree: str) -> None:
    head = _git(repo.bare, "rev-parse", "main")
    commit = subprocess.run(
        ["git", "-C", str(repo.bare), "commit-tree", tree, "-p", head, "-m", "change"],
        capture_output=True,
        check=True,
        env=GIT_ENV,
    ).stdout.decode()
    _git(repo.bare, "update-ref", "refs/heads/main", commit.strip())


def plant_dot_git(repo: RepoState) -> None:
    """A tree entry `.git/config` (written with --literally: GitHub stores such trees): git
    fetches it and refuses every checkout of it."""
    blob = _git(repo.bare, "hash-object", "-w", "--stdin", data=b"[core]\n\tbare = false\n")
    sub = _git(
        repo.bare,
        "hash-object",
        "-t",
        "tree",
        "-w",
        "--literally",
        "--stdin",
        data=b"100644 config\0" + bytes.fromhex(blob),
    )
    tree = _git(repo.bare, "rev-parse", "main^{tree}")
    entries = subprocess.run(
        ["git", "-C", str(repo.bare), "cat-file", "tree", tree], capture_output=True, check=True
    ).stdout
    new = _git(
        repo.bare,
        "hash-object",
        "-t",
        "tree",
        "-w",
        "--literally",
        "--stdin",
        data=b"40000 .git\0" + bytes.fromhex(sub) + entries,
    )
    _commit_tree(repo, new)


def plant_copies(repo: RepoState, files: int, size: int) -> None:
    """`files` tree entries naming one blob of `size` bytes: a tiny fetch, files*size on disk."""
    blob = _git(repo.bare, "hash-object", "-w", "--stdin", data=os.urandom(size))
    listing = "".join(f"100644 blob {blob}\tf{i:05d}.dat\n" for i in range(files))
    sub = _git(repo.bare, "mktree", data=listing.encode())
    base = _git(repo.bare, "ls-tree", "main")
    tree = _git(repo.bare, "mktree", data=(base + f"\n040000 tree {sub}\tdata\n").encode())
    _commit_tree(repo, tree)


def use(settings: Settings) -> None:
    """The in-process worker (the `worker` fixture) reads its settings here."""
    queue._state["settings"] = settings


# -- F3: the repository's content is not a transient failure ----------------------------------
def test_a_tree_git_refuses_to_check_out_is_said_at_once_not_retried(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("mallory", "dotgit", FORK_FILES)
    plant_dot_git(repo)
    client = create_app(settings).test_client()
    post(client, fork_payload("mallory", "dotgit"), "repository")
    # A retry would wait 10 s, then 20 s, ... with the check run in progress.
    wait_for(lambda: repo.check_runs and repo.check_runs[0]["status"] == "completed", 40)
    run = repo.check_runs[0]
    assert run["conclusion"] == "action_required", run
    assert "git refuses to check out" in run["output"]["title"]
    summary = run["output"]["summary"]
    assert "This repository was not vetted" in summary and "Not retried" in summary
    assert ".git" in summary and "What to do" in summary
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1})
    job = store.get(1)
    assert job is not None and job.attempts == 1
    assert not repo.issues and not repo.pulls  # nothing was vetted: nothing to publish


def test_what_is_worth_a_retry() -> None:
    assert jobs.is_transient(ConnectionResetError("reset"))
    assert jobs.is_transient(jobs.Transient("fetch failed"))
    assert jobs.is_transient(OSError(errno.ENOSPC, "No space left on device"))
    # The repository's content, the same on every attempt:
    assert not jobs.is_transient(source.CheckoutRefused("invalid path '.git/config'"))
    assert not jobs.is_transient(source.TreeTooLarge("over the bounds"))
    assert not jobs.is_transient(OSError(errno.ENAMETOOLONG, "File name too long"))
    assert not jobs.is_transient(PermissionError(errno.EACCES, "Permission denied"))


def _job(tmp_path: Path, spent: float) -> tuple[Store, int]:
    store = Store(str(tmp_path / "a.db"))
    job_id = store.add_job("d#0", "vet", "o/r", {})  # no installation: the report fails too
    assert job_id is not None and store.start(job_id)
    store.add_spent(job_id, spent)
    return store, job_id


def test_every_attempt_of_a_job_shares_its_one_time_budget(
    settings: Settings, tmp_path: Path
) -> None:
    from huey.exceptions import RetryTask

    budget = replace(settings, job_timeout_s=100.0)
    store, job_id = _job(tmp_path, 30.0)
    job = store.get(job_id)
    assert job is not None and job.spent == 30.0
    with pytest.raises(RetryTask):  # 70 s of 100 left: worth another attempt
        queue._failed(budget, store, job, ConnectionError("reset"))
    store.start(job_id)
    store.add_spent(job_id, 65.0)  # 5 s left: less than a tenth of the budget
    job = store.get(job_id)
    assert job is not None
    queue._failed(budget, store, job, ConnectionError("reset"))  # no RetryTask: for good
    with store.conn() as db:
        status = db.execute("SELECT status FROM jobs WHERE id=?", (job_id,)).fetchone()[0]
    assert status == "failed"
    # A redelivery is a person asking again: a new budget.
    assert store.retry_failed("d") == [job_id]
    job = store.get(job_id)
    assert job is not None and job.spent == 0 and job.attempts == 0


def test_an_attempt_gets_only_what_earlier_attempts_left(settings: Settings) -> None:
    with pytest.raises(isolate.JobKilled) as killed:
        isolate.run(settings, 1, budget=0.0)
    assert killed.value.reason == "time"
    assert f"time budget of {settings.job_timeout_s:g} s" in str(killed.value)
    assert "earlier attempts had run 600 s" in str(killed.value)


# -- F4: Issues disabled, or any one output failing ------------------------------------------
def _published(repo: RepoState) -> bool:
    return bool(repo.check_runs) and repo.check_runs[0]["status"] == "completed"


@pytest.mark.parametrize("how", ["disabled", "gone"])
def test_a_fork_with_issues_disabled_gets_its_report_and_setup_pr(
    settings: Settings, emulator: GitHubEmulator, worker: None, how: str
) -> None:
    repo = emulator.add_repo("acme", "noissues", FORK_FILES)
    if how == "disabled":  # GitHub's default for a new fork
        repo.has_issues = False
    else:  # disabled after the repository was read: the write answers 410
        emulator.fail_next("POST", "/repos/acme/noissues/issues$", 410)
    client = create_app(settings).test_client()
    post(client, fork_payload("acme", "noissues"), "repository")
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1}, 90)
    run = repo.check_runs[0]
    assert run["conclusion"] == "neutral", run  # the vet's own verdict
    summary = run["output"]["summary"]
    assert "Issues are disabled" in summary and "enable Issues" in summary
    assert "⚠️ **forkvet**" in summary and "MIT" in summary  # the report itself
    assert run["_annotations"]
    assert not repo.issues
    assert len(repo.pulls) == 1 and repo.pulls[0]["_head"] == "forkvet/setup"


def test_a_gpu_run_on_a_fork_with_issues_disabled_still_gets_its_check_run(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    repo.has_issues = False
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1}, 90)
    run = workflow_run_payload(head_sha=merge_setup_workflow(emulator, repo))
    assert post(client, run, "workflow_run").get_json()["jobs"] == 1
    wait_for(lambda: store.counts() == {"done": 2}, 60)
    gpu = [r for r in repo.check_runs if r["name"] == "forkvet GPU"]
    assert len(gpu) == 1 and gpu[0]["conclusion"] == "success"
    assert not repo.issues


def test_a_setup_pull_request_refused_loses_neither_report(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "nopulls", FORK_FILES)
    emulator.fail_next("POST", "/repos/acme/nopulls/pulls$", 422)
    client = create_app(settings).test_client()
    post(client, fork_payload("acme", "nopulls"), "repository")
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1}, 90)
    run = repo.check_runs[0]
    summary = run["output"]["summary"]
    assert run["conclusion"] == "neutral" and "⚠️ **forkvet**" in summary
    assert "The setup pull request was not written** (error id `" in summary
    assert "422" not in summary  # what GitHub answered stays in the App's log
    assert len(repo.issues) == 1 and "MIT" in repo.issues[0]["body"]


# -- F6: a disk budget per job ---------------------------------------------------------------
def test_a_tree_past_the_disk_budget_is_refused_before_checkout(
    settings: Settings, emulator: GitHubEmulator, worker: None, tmp_path: Path
) -> None:
    # 400 entries naming one 32 KiB blob: a ~40 KiB fetch that would write 12.5 MiB.
    repo = emulator.add_repo("mallory", "disk", FORK_FILES)
    plant_copies(repo, 400, 32 * 1024)
    small = replace(settings, job_disk_mb=8)
    use(small)
    client = create_app(small).test_client()
    post(client, fork_payload("mallory", "disk"), "repository")
    wait_for(lambda: _published(repo), 60)
    run = repo.check_runs[0]
    assert run["conclusion"] == "action_required" and "not vetted" in run["output"]["title"]
    summary = run["output"]["summary"]
    assert "disk budget is 8 MiB" in summary and "FORKVET_JOB_DISK_MB" in summary
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1})
    job = store.get(1)
    assert job is not None and job.attempts == 1


def test_the_checkout_measure_counts_whole_blocks_and_what_git_fetched(tmp_path: Path) -> None:
    src = tmp_path / "src"
    subprocess.run(["git", "init", "-q", "-b", "main", str(src)], check=True)
    for i in range(1500):  # 1,500 one-byte files: 1.5 KB of contents, 5.9 MiB of blocks
        (src / f"f{i}.txt").write_text(str(i % 10))
    subprocess.run(["git", "-C", str(src), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(src), "commit", "-qm", "x"], check=True, env=GIT_ENV)
    with pytest.raises(source.TreeTooLarge, match="5 MiB on disk"):
        source.clone(f"file://{src}", tmp_path / "a", max_bytes=5 << 20)
    assert not list((tmp_path / "a").glob("f*"))  # nothing checked out
    source.clone(f"file://{src}", tmp_path / "b", max_bytes=8 << 20)
    assert len(list((tmp_path / "b").glob("f*"))) == 1500


def test_a_job_writing_past_its_disk_budget_is_killed_and_says_so(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    from tests.slow_job import FILL_DISK

    repo = emulator.add_repo("mallory", "fill", {**FORK_FILES, FILL_DISK: "x"})
    small = replace(settings, job_module="tests.slow_job", job_disk_mb=16)
    use(small)
    client = create_app(small).test_client()
    post(client, fork_payload("mallory", "fill"), "repository")
    wait_for(lambda: _published(repo), 90)
    run = repo.check_runs[0]
    assert run["conclusion"] == "failure", run
    summary = run["output"]["summary"]
    assert "needed more disk than the disk budget" in summary and "16 MiB" in summary
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"failed": 1})
    job = store.get(1)
    assert job is not None and job.attempts == 1


def test_a_setup_pull_request_github_failed_is_retried_and_written_once(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    # More 500s than PyGithub's own retries: the job itself is tried again, and its second
    # attempt writes each output in place (one check run, one issue, one pull request).
    repo = emulator.add_repo("acme", "flaky", FORK_FILES)
    emulator.fail_next("POST", "/repos/acme/flaky/pulls$", 500, times=6)
    client = create_app(settings).test_client()
    post(client, fork_payload("acme", "flaky"), "repository")
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1}, 120)
    job = store.get(1)
    assert job is not None and job.attempts == 2
    assert len(repo.check_runs) == 1 and len(repo.issues) == 1 and len(repo.pulls) == 1
    summary = repo.check_runs[0]["output"]["summary"]
    assert "⚠️ **forkvet**" in summary and "was not written" not in summary


def test_the_disk_budget_is_a_setting() -> None:
    from tests.app_fixtures import SECRET, keypair

    env = {
        "FORKVET_APP_ID": "1",
        "FORKVET_PRIVATE_KEY": keypair()[0],
        "FORKVET_WEBHOOK_SECRET": SECRET,
        "FORKVET_ACTION_REF": "a" * 40,
    }
    assert Settings.from_env(env).job_disk_mb == 2048
    assert Settings.from_env({**env, "FORKVET_JOB_DISK_MB": "512"}).job_disk_mb == 512
    assert Settings.from_env({**env, "FORKVET_JOB_DISK_MB": "0"}).job_disk_mb == 0
