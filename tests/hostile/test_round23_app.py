"""Round 22c (the App), fixed in round 23; each test failed first."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
# ruff: noqa: F811
# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import queue
from bot.settings import Settings
from bot.store import Store
from bot.web import create_app
from tests.github.emulator import _git
from tests.hostile.test_app_hostile import served  # noqa: F401  (a pytest fixture)
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    FORK_FILES,
    command_payload,
    emulator,
    fork_payload,
    no_package_index,
    post,
    redis_url,
    settings,
    vetted,
    wait_for,
    worker,
)


def _store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    if kind == "redis":
        from bot.redis_store import RedisStore

        return RedisStore(request.getfixturevalue("redis_url"))
    return Store(str(tmp_path / "s.sqlite3"))


def _comment(store: Any, iid: int, user: str, n: int) -> Any:
    payload = {"installation_id": iid, "comment": True, "user": user, "issue_number": 1}
    return store.add_job(f"c{iid}-{n}#0", "comment", "mal/model", payload, "/forkvet recheck")


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_many_commenters_of_one_tenant_cost_another_tenant_one_start(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    """Round 22c F5: comment jobs waited in one line per commenter, and accounts are free:
    60 accounts commenting on one installation's report issue put another installation's
    fork vet behind 60 job starts (3.5 s -> 84 s). The turns are the installation's: its
    comments, whoever wrote them, share one turn a round with its own jobs; another tenant's
    vet is among the first two jobs started, in every round; the tenant's own push waits
    for at most one of its comments."""
    store = _store(kind, tmp_path, request)
    for n in range(60):
        _comment(store, 77, f"sock{n}", n)
    bobs = store.add_job("bob#0", "vet", "bob/model", {"installation_id": 88})
    first = [store.claim_next() for _ in range(2)]
    assert bobs in [j.id for j in first if j], first
    # a second round: the attacker's fork is pushed, and another of bob's forks arrives
    own = store.add_job("mal#0", "vet", "mal/model", {"installation_id": 77})
    bobs2 = store.add_job("bob2#0", "vet", "bob/other", {"installation_id": 88})
    second = [store.claim_next() for _ in range(3)]
    ids = [j.id for j in second if j]
    assert bobs2 in ids[:2] and own in ids, second


@pytest.mark.parametrize("author", [None, ("Mallory", "mallory@example.com")])
def test_a_setup_branch_forkvet_did_not_make_is_named_on_the_check_run(
    settings: Settings, emulator: Any, worker: None, author: tuple[str, str] | None
) -> None:
    """Round 22c F2: a `forkvet/setup` branch someone else made (an upstream's, copied by a
    fork made with all branches) silently switched off the setup pull request: no pull
    request, and no word in the check run, the report issue or the log. It is still never
    built on; the check run now names the branch, why it is not forkvet's, and what to do."""
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    _git(repo.bare, "update-ref", "refs/heads/forkvet/setup", emulator.sha(repo, "main"))
    hostile = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: [{run: env}]\n"
    files = {".github/workflows/up.yml": hostile}
    planted = emulator.commit(repo, "forkvet/setup", files, "ci", author=author)
    assert post(create_app(settings).test_client(), fork_payload(), "repository").status_code == 202
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1})
    assert emulator.sha(repo, "forkvet/setup") == planted and repo.pulls == []
    summary = repo.check_runs[-1]["output"]["summary"]
    assert "**No setup pull request**" in summary, summary[:500]
    assert "git push origin --delete forkvet/setup" in summary


def test_accept_binds_the_file_the_reviewer_saw_not_the_one_the_job_finds(
    settings: Settings, emulator: Any, worker: None
) -> None:
    """Round 22c F4: `/forkvet accept` recorded the file's blob as the job found it, so a
    push landing between the comment and its job (which waits in line) was accepted, and the
    reply named no content. It binds the file at the commit of the report the comment
    answered (the report issue names it, as GitHub sends the issue with the comment): a file
    changed since is refused; the reply names the blob accepted."""
    repo = vetted(settings, emulator)
    seen = dict(repo.issues[0])  # the report the reviewer reads, as the comment's payload has it
    accept = "/forkvet accept risks/torch-load train.py reviewed our checkpoints"
    changed = FORK_FILES["train.py"] + "import os\n"
    emulator.commit(repo, "main", {"train.py": changed}, "another writer's push")
    client = create_app(settings).test_client()
    assert post(client, command_payload(seen, accept, "acme"), "issue_comment").status_code == 202
    wait_for(lambda: len(repo.comments) == 1)
    reply = repo.comments[-1]["body"]
    assert "not accepted: `train.py` changed since the report you answered" in reply, reply
    _, store = queue.setup(settings)
    assert store.acceptances("acme/deepnet") == []
    # a report that names no commit (an older App's, or a copied marker) binds nothing
    old = {**seen, "body": seen["body"].replace("<!-- forkvet:commit ", "<!-- x ")}
    assert post(client, command_payload(old, accept, "acme"), "issue_comment").status_code == 202
    wait_for(lambda: len(repo.comments) == 2)
    assert "names no commit" in repo.comments[-1]["body"]
    # the report as it is now (the file at its commit is the one reviewed): accepted
    post(client, command_payload(seen, "/forkvet recheck", "acme"), "issue_comment")
    wait_for(lambda: len(repo.comments) == 3)
    now = dict(repo.issues[0])
    post(client, command_payload(now, accept, "acme"), "issue_comment")
    wait_for(lambda: len(repo.comments) == 4)
    (entry,) = store.acceptances("acme/deepnet")
    assert f"(blob `{entry['blob'][:12]}`)" in repo.comments[-1]["body"]


@pytest.mark.parametrize("ref", ["refs/tags/v1.1", "refs/pull/7/head", "refs/heads/old"])
def test_an_opt_in_the_upstream_publishes_under_any_ref_is_not_the_forks(
    tmp_path: Path, ref: str
) -> None:
    """Round 22c F3: an upstream's opt-in commit reachable only from a tag (a release the
    fork merged and pushed) counted as the fork's: the upstream's record of pushes lists
    branch pushes only. Every branch, tag and pull request head the upstream publishes is
    read now; a commit one of them reaches is the upstream's words. An upstream that cannot
    be read decides nothing (fail closed)."""
    from types import SimpleNamespace

    from bot.optin import pushed_to_fork
    from tests.conftest import git
    from tests.hostile.test_round22_app import _Requester

    root = tmp_path / "fork"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_text("a\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "copy")
    copy = git(root, "rev-parse", "HEAD").strip()
    (root / ".github").mkdir()
    (root / ".github/forkvet.yml").write_text("upstream:\n  open_pull_requests: true\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release 1.1")
    release = git(root, "rev-parse", "HEAD").strip()
    up = tmp_path / "up.git"
    git(tmp_path, "init", "-q", "--bare", str(up))
    git(root, "push", "-q", str(up), f"{copy}:refs/heads/main")

    def repo(url: str, pushes: list[dict[str, Any]]) -> Any:
        return SimpleNamespace(
            url="https://api.github.com/repos/a/m",
            default_branch="main",
            full_name="a/m",
            clone_url=url,
            _requester=_Requester(pushes),
        )

    def decided(url: str) -> bool:
        fork = repo("", [{"before": copy, "after": release, "activity_type": "push"}])
        return pushed_to_fork(fork, root, ".github/forkvet.yml", repo(url, []))

    assert decided(str(up)) is True  # the upstream publishes only the copy
    git(root, "push", "-q", str(up), f"{release}:{ref}")
    assert decided(str(up)) is False, ref
    assert decided(str(tmp_path / "gone.git")) is False


def _set(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    import copy

    out = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("repository.id", True),
        ("repository.id", 10**20),
        ("repository.fork", "false"),
        ("repository.owner.login", ["a"]),
        ("repository.full_name", "../../x"),
        ("repository.full_name", "acme/.."),
        ("action", 5),
        ("comment.body", None),
        ("comment.body", 5),
        ("comment.author_association", 5),
        ("comment.user", None),
        ("issue.number", "1"),
        ("issue.number", 10**20),
        ("issue.user.login", "a/b"),
        ("repository.id", float("nan")),
        ("repository.id", float("inf")),
    ],
)
def test_signed_deliveries_with_fields_of_other_types_are_refused(
    settings: Settings, path: str, value: Any
) -> None:
    """Round 22c L1: only the top level and `installation.id` were typed; a signed delivery
    whose other fields had other types (`repository.fork: "false"`, `issue.number: "1"`,
    `comment.body: null`, NaN) was answered 202, and a `full_name` of `../../x` was sent to
    GitHub's API as a path. The fields the App reads are checked against GitHub's types and
    name patterns (bot.schema) before any handler: a 400 naming the field, nothing queued."""
    import json

    client = create_app(settings).test_client()
    good = command_payload({"number": 1, "body": "report\n<!-- forkvet:report -->"}, "x", "acme")
    assert good["repository"]["full_name"] == "acme/deepnet"
    bad = _set(good, path, value)
    answer = post(client, json.dumps(bad).encode(), "issue_comment")
    assert answer.status_code == 400, (path, value, answer.get_json())
    assert Store(settings.db).counts() == {}
    assert post(client, good, "issue_comment").status_code == 202


def _head(sock: Any) -> bytes:
    """What the server sent up to the end of one response's (or interim's) headers."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_expect_100_continue_is_answered_only_once_the_body_is_read(
    served: tuple[Any, int],
) -> None:
    """Round 22c L2: gunicorn answered `Expect: 100-continue` as soon as the headers were
    parsed, so an unsigned request declaring 20 MB was invited to send them before its 401.
    The 100 is sent when the application first reads the body: an unsigned request gets its
    401 first and no 100; a signed one gets its 100, sends the body, and is answered 202."""
    import socket

    from bot.web import WEBHOOK_PATH
    from tests.app_fixtures import example, signed

    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n"
            "Expect: 100-continue\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: d1\r\n\r\n".encode()
        )
        first = _head(sock)
    assert first.startswith(b"HTTP/1.1 401"), first[:200]
    assert b"100 Continue" not in first
    body, headers = signed({**example("ping"), "zen": "expect"}, "ping")
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            f"Expect: 100-continue\r\n{lines}\r\n".encode()
        )
        interim = _head(sock)
        assert interim.startswith(b"HTTP/1.1 100 Continue"), interim[:200]
        sock.sendall(body)
        final = interim.split(b"\r\n\r\n", 1)[1] or _head(sock)
    assert final.startswith(b"HTTP/1.1 202"), final[:200]
