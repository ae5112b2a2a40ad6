"""Round 16c C1, against the GitHub emulator with the real App: the branch the App pushes to a
fork for an upstream fix (a merged pull request labelled `upstream`, or `/forkvet upstream`)
holds the fix alone, on the newest upstream commit the fork has — never upstream's newer
commits, such as a workflow a hostile upstream added after the fork was made, which a push
with the App's token would run with the fork's secrets."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot import queue
from bot.settings import Settings
from bot.web import create_app
from forkvet.config import Config, UpstreamConfig
from forkvet.github.issues import MARKER
from tests.app_fixtures import adapt, example
from tests.conftest import git
from tests.github.emulator import GitHubEmulator, RepoState
from tests.test_app import (
    FORK_FILES,
    command_payload,
    emulator,
    post,
    settings,
    wait_for,
    worker,
)

__all__ = ["emulator", "settings", "worker"]  # the fixtures, shared

WORKFLOW = ".github/workflows/ci.yml"
HOSTILE = (
    "on: push\njobs:\n  grab:\n    runs-on: [self-hosted, linux, x64, gpu]\n    steps:\n"
    "      - run: echo ${{ secrets.HF_TOKEN }}\n"
)
FIXED = FORK_FILES["train.py"].replace("torch.load('ckpt.pth')", "torch.load('ckpt.pth', True)")


def bare(repo: RepoState, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo.bare), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def fix_branches(repo: RepoState) -> list[str]:
    refs = bare(repo, "for-each-ref", "--format=%(refname)", "refs/heads/forkvet/").split()
    return [r for r in refs if "/fix-" in r]


def trigger(
    client: Any, emulator: GitHubEmulator, repo: RepoState, sha: str, how: str
) -> dict[str, Any]:
    """The fix reaches the App as a merged, labelled pull request or a command; the App's
    answer (a comment) is returned."""
    if how == "merged":
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
        event = adapt(example("pull_request", "closed"), "acme", "deepnet")
        event["pull_request"].update(
            {
                "merged": True,
                "number": 42,
                "merge_commit_sha": sha,
                "labels": [{"name": "upstream"}],
            }
        )
        assert post(client, event, "pull_request").get_json()["jobs"] == 1
    else:
        issue = {
            "id": 7001,
            "number": 1,
            "title": "forkvet report",
            "body": f"{MARKER}\nreport",
            "state": "open",
            "_creator": emulator.bot_login,
        }
        repo.issues.append(issue)
        comment = command_payload(issue, "/forkvet upstream", "acme")
        assert post(client, comment, "issue_comment").get_json()["jobs"] == 1
    wait_for(lambda: bool(repo.comments))
    return repo.comments[0]


@pytest.mark.parametrize("how", ["merged", "command"])
def test_a_workflow_upstream_added_later_is_never_pushed_into_the_fork(
    settings: Settings, emulator: GitHubEmulator, worker: None, how: str
) -> None:
    upstream = emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    # The hostile upstream adds a GPU job reading secrets after the fork was made.
    emulator.commit(upstream, "main", {WORKFLOW: HOSTILE}, "ci: add GPU job")
    sha = emulator.commit(
        repo,
        "main",
        {"train.py": FIXED},
        "Fix unsafe checkpoint loading",
        author=("Bea Fixer", "bea@example.org"),
    )
    reply = trigger(create_app(settings).test_client(), emulator, repo, sha, how)
    assert "Fix unsafe checkpoint loading** — drafted" in reply["body"], reply["body"]
    [branch] = fix_branches(repo)
    assert WORKFLOW not in bare(repo, "ls-tree", "-r", "--name-only", branch).split()
    # Its one commit the fork lacks is the fix; everything below it is the fork's own history.
    assert bare(repo, "rev-list", "--count", branch, "^refs/heads/main") == "1"
    assert bare(repo, "rev-parse", f"{branch}~1") == bare(repo, "rev-parse", "main~1")
    assert upstream.pulls == []  # no user token: nothing is written upstream


def test_a_branch_that_would_revive_removed_ci_is_refused_with_what_to_do(
    settings: Settings, emulator: GitHubEmulator, worker: None, tmp_path: Path
) -> None:
    """The fork removed the upstream's workflow; the fork point still has it. The branch
    would run it again on a push: refused, and the reply says why and what to do."""
    files = {**FORK_FILES, WORKFLOW: HOSTILE}
    emulator.add_repo("upstream-org", "model", files, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", files, parent="upstream-org/model")
    _remove(repo, WORKFLOW, tmp_path / "work")
    sha = emulator.commit(
        repo,
        "main",
        {"train.py": FIXED},
        "Fix unsafe checkpoint loading",
        author=("Bea Fixer", "bea@example.org"),
    )
    reply = trigger(create_app(settings).test_client(), emulator, repo, sha, "merged")["body"]
    assert "Fix unsafe checkpoint loading** — refused" in reply, reply
    assert WORKFLOW in reply and "git cherry-pick -x" in reply
    assert "compare/" not in reply  # no link to a branch that was not pushed
    assert fix_branches(repo) == []


def _remove(repo: RepoState, path: str, work: Path) -> None:
    """The fork's own clean-up: a commit on main that removes path."""
    subprocess.run(["git", "clone", "-q", str(repo.bare), str(work)], check=True)
    git(work, "rm", "-q", path)
    git(work, "commit", "-q", "-m", "Remove upstream's CI: not on our runners")
    git(work, "push", "-q", "origin", "HEAD:main")


def test_a_pull_request_merged_with_a_merge_commit_drafts_the_commits_it_brought(
    settings: Settings, emulator: GitHubEmulator, worker: None, tmp_path: Path
) -> None:
    """GitHub's default "Create a merge commit": merge_commit_sha is the merge, which is no fix
    itself; the pull request's own commits are what is drafted upstream."""
    emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo.bare), str(work)], check=True)
    git(work, "checkout", "-q", "-b", "fix-loading")
    (work / "train.py").write_text(FIXED)
    git(work, "commit", "-q", "-am", "Fix unsafe checkpoint loading")
    git(work, "checkout", "-q", "main")
    git(
        work,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #42 from acme/fix-loading",
        "fix-loading",
    )
    git(work, "push", "-q", "origin", "HEAD:main")
    merge = git(work, "rev-parse", "HEAD").strip()
    reply = trigger(create_app(settings).test_client(), emulator, repo, merge, "merged")["body"]
    assert "Fix unsafe checkpoint loading** — drafted" in reply, reply
    [branch] = fix_branches(repo)
    assert bare(repo, "rev-list", "--count", branch, "^refs/heads/main") == "1"


def _comment(emulator: GitHubEmulator, repo: RepoState, body: str) -> dict[str, Any]:
    """`body` commented by the fork's owner on the App's report issue of `repo`."""
    issue = {
        "id": 7001 + repo.id,
        "number": 1,
        "title": "forkvet report",
        "body": f"{MARKER}\nreport",
        "state": "open",
        "_creator": emulator.bot_login,
    }
    repo.issues.append(issue)
    payload = command_payload(issue, body, repo.owner)
    adapt(payload, repo.owner, repo.name)
    return payload


@pytest.fixture
def operator(settings: Settings, emulator: GitHubEmulator) -> Iterator[Settings]:
    """An App whose operator set a user token and allows 1 pull request an hour, 1 open, on
    each upstream; its worker running."""
    policy = Config(
        upstream=UpstreamConfig(
            open_pull_requests=True, thank_you=True, max_prs_per_hour=1, max_open_prs=1
        )
    )
    mine = replace(settings, user_token=emulator.user_token("operator"), policy=policy)
    huey, store = queue.setup(mine)
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False)
    consumer.start()
    beat = queue.start_heartbeat(mine, store)
    yield mine
    beat.set()
    consumer.stop(graceful=True)


def test_the_operators_caps_hold_per_upstream_across_forks(
    operator: Settings, emulator: GitHubEmulator
) -> None:
    """Round 17c F1 and F2: the operator allows 1 pull request an hour on an upstream. Two
    forks of it, each opted in, each ask: one pull request is opened, with the operator's
    token, and its title (the fork's commit subject) is escaped as a title."""
    settings = operator
    upstream = emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    subject = "Fix loading @acme/admins #1 \u202eRTL \x1b[31mRED"
    client = create_app(settings).test_client()
    for owner in ("mallory", "mallory2"):
        repo = emulator.add_repo(owner, "model", FORK_FILES, parent="upstream-org/model")
        opt_in = "upstream:\n  open_pull_requests: true\n"
        emulator.commit(repo, "main", {".github/forkvet.yml": opt_in}, "opt in")
        emulator.commit(repo, "main", {"train.py": FIXED}, subject, author=("B", "b@example.org"))
        assert post(client, _comment(emulator, repo, "/forkvet upstream"), "issue_comment")
        wait_for(lambda repo=repo: bool(repo.comments), timeout=120)  # type: ignore[misc]
    assert len(upstream.pulls) == 1, [p["_head"] for p in upstream.pulls]
    [pull] = upstream.pulls
    assert pull["_creator"] == "operator" and pull["_head"].startswith("mallory:")
    assert "\u202e" not in pull["title"] and "\x1b" not in pull["title"]
    assert "#1" not in pull["title"] and "@acme" not in pull["title"]
    second = emulator.repos["mallory2/model"].comments[0]["body"]
    assert "capped" in second and "from any fork" in second, second


def test_the_upstream_lock_is_one_per_upstream_across_jobs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock two forks' jobs share: held, another job for the same upstream waits (and is
    retried later, Transient, past the wait); another upstream is not held up."""
    from bot import jobs
    from bot.store import Store

    store = Store(settings.db)
    monkeypatch.setattr(jobs, "UPSTREAM_LOCK_WAIT_S", 0.3)
    with jobs.upstream_lock(store, "Upstream-Org/Model"):
        with jobs.upstream_lock(store, "other-org/model"):
            pass
        taken: list[bool] = []

        def other_job() -> None:  # another worker thread: another lock owner
            try:
                with jobs.upstream_lock(store, "upstream-org/model"):
                    taken.append(True)
            except jobs.Transient:
                taken.append(False)

        t = threading.Thread(target=other_job)
        t.start()
        t.join()
        assert taken == [False]
    with jobs.upstream_lock(store, "upstream-org/model"):
        pass


@pytest.mark.parametrize(
    "own",
    [
        "licence:\n  allow: [permissive]\n",  # a typo elsewhere in the file
        "upstream:\n  open_pull_request: true\n  thank_yuo: true\n",
        "upstream:\n  open_pull_requests: 'yes'\n  thank_you: 'yes'\n",
        "upstream: [",
    ],
)
def test_a_broken_fork_file_opts_in_to_nothing(
    operator: Settings, emulator: GitHubEmulator, own: str
) -> None:
    """Round 17c F5: the operator opts in; the fork's own file does not parse. The operator's
    policy stays in force, but the fork has not opted in: drafts only, nothing upstream."""
    upstream = emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("mallory", "model", FORK_FILES, parent="upstream-org/model")
    emulator.commit(repo, "main", {".github/forkvet.yml": own}, "config")
    emulator.commit(repo, "main", {"train.py": FIXED}, "Fix loading", author=("B", "b@example.org"))
    _upstream_and_thank_are_drafts(emulator, operator, repo, upstream)


@pytest.mark.parametrize(
    "word",
    [
        "--upload-pack=touch",
        "HEAD~0",
        "0123456789abcdef0123456789abcdef01234567",
        "a",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_an_unknown_commit_is_named_in_the_answer(
    settings: Settings, emulator: GitHubEmulator, worker: None, word: str
) -> None:
    """Round 17c L1: `/forkvet upstream WORD` with a word that is no fix commit of the fork is
    answered by name, not with a generic failure; nothing is drafted or pushed. A sha-shaped
    word gets the commits it may name; round 20c F13: any other word is named (with the
    command's forms) before anything is cloned or fetched."""
    emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    emulator.commit(repo, "main", {"train.py": FIXED}, "Fix loading", author=("B", "b@x.org"))
    client = create_app(settings).test_client()
    assert post(client, _comment(emulator, repo, f"/forkvet upstream {word}"), "issue_comment")
    wait_for(lambda: bool(repo.comments), timeout=120)
    body = repo.comments[0]["body"]
    first = word.split()[0]
    assert f"`{first}`" in body and "could not run" not in body, body
    if first.startswith("0123"):
        assert "is not one of this fork's commits that upstream lacks" in body, body
        assert "Fix loading" in body  # the commits the command may name
    else:
        assert "is not a commit sha" in body and "/forkvet upstream SHA" in body, body
    assert fix_branches(repo) == []


def test_a_word_is_named_even_where_fetching_upstream_fails(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    """Round 20c F13: the tester's fork shared no history with its parent, so fetching the
    upstream failed and `/forkvet upstream <img …>` was answered "could not run … (error
    id)". The word is checked first: named, whatever the repositories hold."""
    emulator.add_repo("upstream-org", "model", {"README.md": "other\n"}, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    client = create_app(settings).test_client()
    body = "/forkvet upstream <img src=x onerror=alert(1)>"
    assert post(client, _comment(emulator, repo, body), "issue_comment")
    wait_for(lambda: bool(repo.comments), timeout=120)
    reply = repo.comments[0]["body"]
    assert "`<img` is not a commit sha" in reply and "could not run" not in reply, reply


OPT_IN = "upstream:\n  open_pull_requests: true\n  thank_you: true\n"


@pytest.mark.parametrize("synced", [False, True])
def test_the_upstreams_own_opt_in_file_opts_the_fork_in_to_nothing(
    operator: Settings, emulator: GitHubEmulator, synced: bool
) -> None:
    """Round 19c A4: the operator opts in; the upstream ships `.github/forkvet.yml` opting in
    to pull requests and thank-you issues, and the fork is a copy of it (as every GitHub fork
    is) — at the fork point, or by syncing the upstream's later commit. The fork's own commits
    never wrote the file: drafts only, nothing upstream with the operator's token."""
    files = FORK_FILES if synced else {**FORK_FILES, ".github/forkvet.yml": OPT_IN}
    upstream = emulator.add_repo("upstream-org", "model", files, fork=False, parent=None)
    repo = emulator.add_repo("alice", "model", files, parent="upstream-org/model")
    if synced:
        later = emulator.commit(upstream, "main", {".github/forkvet.yml": OPT_IN}, "opt in")
        bare(repo, "fetch", "-q", str(upstream.bare), f"{later}:refs/heads/main")
    emulator.commit(repo, "main", {"train.py": FIXED}, "Fix loading", author=("A", "a@x.org"))
    _upstream_and_thank_are_drafts(emulator, operator, repo, upstream)
    assert "--upstream-repo" not in repo.comments[0]["body"]  # no CLI flag in the App's answer


@pytest.mark.parametrize("how", ["rewind", "default_branch", "synced_then_rewind"])
def test_an_upstream_that_rewinds_its_branch_opts_the_fork_in_to_nothing(
    operator: Settings, emulator: GitHubEmulator, how: str
) -> None:
    """Round 21c F2: the upstream commits an opt-in, the fork is a copy of that commit, and
    the upstream then rewinds its branch to the commit before (or makes a branch at it its
    default). The fork's file was then neither the merge base's nor the upstream head's,
    and counted as the fork's own: the operator's token opened a pull request and a thank-you
    issue upstream. Only a push to the fork that brought the file's last change counts, and
    only when no push to the upstream brought it (a fork that synced it pushed it too)."""
    upstream = emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    before = bare(upstream, "rev-parse", "main")
    later = emulator.commit(upstream, "main", {".github/forkvet.yml": OPT_IN}, "opt in")
    repo = emulator.add_repo("alice", "model", FORK_FILES, parent="upstream-org/model")
    bare(repo, "fetch", "-q", str(upstream.bare), f"{later}:refs/heads/main")  # the copy
    if how == "synced_then_rewind":  # the fork synced the opt-in: a push to the fork
        repo.activity.insert(0, emulator._push(repo, "main", before, later))
    emulator.commit(repo, "main", {"train.py": FIXED}, "Fix loading", author=("A", "a@x.org"))
    if how != "default_branch":
        bare(upstream, "update-ref", "refs/heads/main", before)
    else:
        bare(upstream, "update-ref", "refs/heads/legacy", before)
        bare(upstream, "symbolic-ref", "HEAD", "refs/heads/legacy")
        upstream.default_branch = "legacy"
    _upstream_and_thank_are_drafts(emulator, operator, repo, upstream)


def _upstream_and_thank_are_drafts(emulator: Any, operator: Any, repo: Any, upstream: Any) -> None:
    """`/forkvet upstream` and `/forkvet thank` on the fork: both answered with drafts, and
    nothing opened upstream."""
    client = create_app(operator).test_client()
    for n, command in enumerate(("/forkvet upstream", "/forkvet thank"), 1):
        payload = _comment(emulator, repo, command)
        payload["issue"]["number"] = repo.issues[-1]["number"] = n
        assert post(client, payload, "issue_comment")
        wait_for(lambda n=n: len(repo.comments) == n, timeout=120)  # type: ignore[misc]
    assert upstream.pulls == [] and upstream.issues == []
    assert "Fix loading** — drafted" in repo.comments[0]["body"], repo.comments[0]["body"]
    assert "here is a draft thank-you issue" in repo.comments[1]["body"]
