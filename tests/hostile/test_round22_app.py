"""Round 21c (the App) and 21a F3 (acceptances), fixed in round 22; each test failed first."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
# ruff: noqa: F811
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.store import Store
from bot.web import create_app
from forkvet.github.issues import MARKER
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    command_payload,
    emulator,
    no_package_index,
    post,
    redis_url,
    settings,
    worker,
)


def _comment_bytes(body_json: str) -> bytes:
    """A report-issue comment whose body is the JSON string literal `body_json` as written."""
    payload = command_payload({"number": 1, "body": f"report\n{MARKER}"}, "@@BODY@@", "acme")
    return json.dumps(payload).replace('"@@BODY@@"', body_json).encode()


def test_a_lone_surrogate_in_a_signed_delivery_is_a_400_not_a_500(settings: Settings) -> None:
    """Round 21c F4: `\\ud800` unpaired in a signed delivery's JSON (a comment body, a key)
    decodes to a lone surrogate that no store or log can encode: a 500 after the delivery was
    half recorded. It is refused at the door, and nothing is queued; a surrogate PAIR is an
    emoji and stays a command."""
    client = create_app(settings).test_client()
    for body in ('"/forkvet help \\ud800"', '"/forkvet upstream \\udfff\\ud800"'):
        answer = post(client, _comment_bytes(body), "issue_comment")
        assert answer.status_code == 400, (body, answer.status_code)
        assert "surrogate" in answer.get_json()["error"]
    key = _comment_bytes('"/forkvet help"').replace(b'"comment": {', b'"comment": {"\\udc80": 1, ')
    assert post(client, key, "issue_comment").status_code == 400
    pair = post(client, _comment_bytes('"/forkvet help \\ud83d\\ude00"'), "issue_comment")
    assert pair.status_code == 202 and pair.get_json()["jobs"] == 1
    assert Store(settings.db).counts() == {"queued": 1}


def _accepted(root: Path, entries: list[dict[str, str]]) -> dict[str, str]:
    """Each finding's path -> its severity and title after the policy's acceptances."""
    from forkvet import accept
    from forkvet.snapshot import load
    from forkvet.vet import vet

    snap = load(root)
    report = vet(snap)
    accept.apply(report, accept.parse(entries, "policy"), snap.root)
    return {f"{f.path} {f.severity}": f.title for f in report.findings if f.check == "risks"}


REMOTE = '{"model_type": "tiny", "auto_map": {"AutoModel": "%s--modeling_tiny.TinyModel"}}'


def test_remote_code_and_link_acceptances_pin_what_was_reviewed(tmp_path: Path) -> None:
    """Round 21a F3: `risks/remote-code` on config.json and `risks/link-outside` on a link,
    accepted by rule and path, stayed accepted after the upstream repointed `auto_map` to
    another repository and the link to ~/.ssh. Both now pin the file (its blob; a link's
    blob is its target's text, as git stores it): unpinned they accept nothing, pinned
    they hold until what was reviewed changes."""
    from forkvet.accept import file_blob

    root = tmp_path / "r"
    root.mkdir()
    (root / "config.json").write_text(REMOTE % "goodorg/tiny-model")
    (root / "infer.py").write_text(
        "from transformers import AutoModel\n"
        "m = AutoModel.from_pretrained('.', trust_remote_code=True)\n"
    )
    (root / "hostinfo.txt").symlink_to("/etc/hostname")
    # git's own blob of the link: its target's text
    assert str(file_blob(root, "hostinfo.txt")) == _git_blob(b"/etc/hostname")
    rules = {
        "config.json": ("risks/remote-code", "Remote code"),
        "hostinfo.txt": ("risks/link-outside", "Link outside"),
    }
    pinned = _pinned_after_review(root, rules)
    (root / "config.json").write_text(REMOTE % "evilorg/payload")
    (root / "hostinfo.txt").unlink()
    (root / "hostinfo.txt").symlink_to("/root/.ssh/id_rsa")
    swapped = _accepted(root, pinned)
    assert swapped["config.json error"] == "Remote code", swapped
    assert swapped["hostinfo.txt error"] == "Link outside", swapped


def _pinned_after_review(root: Path, rules: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    """Each path's finding (rule, title) is an error; accepted by rule and path alone it stays
    one; pinned to the file's blob it is accepted. The pinned entries, for the swap."""
    from forkvet.accept import file_blob

    plain = [{"rule": r, "path": p, "reason": "reviewed"} for p, (r, _) in rules.items()]
    pinned = [{**e, "blob": str(file_blob(root, e["path"]))} for e in plain]
    stages = [([], "error", ""), (plain, "error", ""), (pinned, "notice", "Accepted: ")]
    for entries, severity, prefix in stages:
        found = _accepted(root, entries)
        for path, (_, title) in rules.items():
            assert found[f"{path} {severity}"] == prefix + title, (entries, found)
    return pinned


def _git_blob(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _comment_job(store: Any, n: int, user: str = "mallory") -> Any:
    payload = {"installation_id": 1, "comment": True, "user": user, "issue_number": 1}
    return store.add_job(f"c{n}#0", "comment", "alice/model", payload, "/forkvet recheck")


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_readers_comments_never_queue_ahead_of_the_forks_own_push(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    """Round 21c F1: every comment of someone with a role but no write access (CONTRIBUTOR,
    a read-only COLLABORATOR) queued a job in the fork's installation line, FIFO, holding
    the fork's one slot while it asked GitHub for the permission: 300 comments held the
    fork's next push back ~16 minutes. A comment's job now waits in its commenter's line and
    is free of the repository (neither waits for nor holds its running job) until a writer's
    command is bound to it: the push's vet is the second job chosen, whatever the backlog."""
    if kind == "redis":
        from bot.redis_store import RedisStore

        store: Any = RedisStore(request.getfixturevalue("redis_url"))
    else:
        store = Store(str(tmp_path / "s.sqlite3"))
    for n in range(40):
        _comment_job(store, n)
    vet = store.add_job("push#0", "vet", "alice/model", {"installation_id": 1})
    first = store.claim_next()
    assert first is not None and first.kind == "comment"  # running, free: holds nothing
    second = store.claim_next()
    assert second is not None and second.id == vet
    # the vet runs: free comments still run beside it; a writer's bound one waits for it
    writer = _comment_job(store, 99, user="alice")
    assert writer is not None
    store.bind(writer)
    third = store.claim_next()
    assert third is not None and third.kind == "comment" and third.id != writer
    store.finish(vet)
    assert store.waiting_on_running() is False
    claimed = [store.claim_next() for _ in range(3)]
    assert writer in [job.id for job in claimed if job], claimed
    bound = store.get(writer)
    assert bound is not None and bound.payload["bound"] is True


class _Requester:
    def __init__(self, pushes: list[dict[str, Any]] | None) -> None:
        self.pushes = pushes

    def requestJsonAndCheck(self, *_: Any, **__: Any) -> tuple[dict[str, Any], Any]:
        from github import GithubException

        if self.pushes is None:
            raise GithubException(403, {"message": "Resource not accessible"}, {})
        return {}, self.pushes


def test_the_opt_in_counts_only_when_a_push_to_the_fork_brought_it(tmp_path: Path) -> None:
    """Round 21c F2, the decision alone (bot.optin): the file's last change counts as the
    fork's only when GitHub's record of the fork's pushes shows a push whose `after` has it
    and whose `before` does not; anything undecidable is not the fork's (fail closed)."""
    from types import SimpleNamespace

    from bot.optin import pushed_to_fork
    from tests.conftest import git

    root = tmp_path / "fork"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_text("a\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "copy")
    copy = git(root, "rev-parse", "HEAD").strip()
    (root / ".github").mkdir()
    (root / ".github/forkvet.yml").write_text("upstream:\n  thank_you: true\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "opt in")
    mine = git(root, "rev-parse", "HEAD").strip()
    up = tmp_path / "up.git"  # the upstream publishes the copy only (round 22c F3 reads it)
    git(tmp_path, "init", "-q", "--bare", str(up))
    git(root, "push", "-q", str(up), f"{copy}:refs/heads/main")

    def repo(pushes: list[dict[str, Any]] | None) -> Any:
        return SimpleNamespace(
            url="https://api.github.com/repos/a/m",
            default_branch="main",
            full_name="a/m",
            clone_url=str(up),
            _requester=_Requester(pushes),
        )

    def decided(pushes: list[dict[str, Any]] | None, upstream: Any = None) -> bool:
        return pushed_to_fork(repo(pushes), root, ".github/forkvet.yml", upstream)

    def push(before: str, after: str, kind: str = "push") -> dict[str, Any]:
        return {"before": before, "after": after, "activity_type": kind}

    assert decided([push(copy, mine)]) is True
    assert decided([push(copy, mine, "force_push")]) is True
    assert decided(None) is False  # the API refused
    assert decided([]) is False  # never pushed: the copy it began as
    assert decided([push("0" * 40, mine, "branch_creation")]) is False
    assert decided([push("f" * 40, mine)]) is False  # a `before` the clone lacks
    assert decided([push(mine, mine)]) is False  # there before that push
    assert decided([push(copy, "--upload-pack=x")]) is False
    # the upstream's record: a push there brought it (then rewound) -> the upstream's words
    assert decided([push(copy, mine)], repo([])) is True
    assert decided([push(copy, mine)], repo([push(copy, mine)])) is False
    assert decided([push(copy, mine)], repo(None)) is False  # the upstream's record unread


def test_shell_string_and_native_image_acceptances_pin_what_was_reviewed(tmp_path: Path) -> None:
    """Round 22a F10: `risks/shell-in-data` and `risks/native-code` (added in round 22)
    were accepted by rule and path without naming the file: a later command or image under
    that path stayed accepted. Unpinned they accept nothing; pinned they hold until the
    file changes."""
    root = tmp_path / "r"
    root.mkdir()
    (root / "data.yaml").write_text("train: 'pipe:sh fetch.sh'\n")
    (root / "colormap.bin").write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 57)
    rules = {
        "data.yaml": ("risks/shell-in-data", "Shell in data"),
        "colormap.bin": ("risks/native-code", "Native code"),
    }
    pinned = _pinned_after_review(root, rules)
    (root / "data.yaml").write_text("train: 'pipe:sh other.sh'\n")
    swapped = _accepted(root, pinned)
    assert swapped["data.yaml error"] == "Shell in data", swapped


def test_a_planted_setup_branch_is_never_built_on(
    settings: Settings,
    emulator: Any,
    worker: None,
) -> None:
    """Round 22c F1: an upstream shipped a `forkvet/setup` branch whose commit names the App
    as author and adds a workflow; a fork made with all branches has it. The App committed on
    top of it with its installation token (a push that runs that workflow) and opened the
    setup pull request carrying it. A setup branch that changes files forkvet does not write
    is left alone, and no pull request is opened from it."""
    from tests.github.emulator import _git
    from tests.test_app import FORK_FILES, fork_payload, wait_for

    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    _git(repo.bare, "update-ref", "refs/heads/forkvet/setup", emulator.sha(repo, "main"))
    hostile = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: [{run: env}]\n"
    planted = emulator.commit(repo, "forkvet/setup", {".github/workflows/up.yml": hostile}, "ci")
    client = create_app(settings).test_client()
    assert post(client, fork_payload(), "repository").status_code == 202
    from bot import queue

    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1})
    assert repo.issues  # the job ran to its end
    assert emulator.sha(repo, "forkvet/setup") == planted  # not built on, not pushed
    assert repo.pulls == []
