"""Outside attack round 23c (the App), fixed in session 14: the setup branch's tree is, by
construction, the fork's default branch plus forkvet's files (F2, F3). An upstream planted a
`forkvet/setup` branch cut from an older commit that still held a workflow the default branch
has since deleted, with one commit forged as the App changing only forkvet's own workflow: the
App accepted it, committed on its old tree, pushed with its token (which runs that workflow)
and opened a setup pull request whose diff hid it."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
# ruff: noqa: F811
from __future__ import annotations

from typing import Any

from bot import queue
from bot.settings import Settings
from bot.web import create_app
from tests.github.emulator import _git
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    FORK_FILES,
    emulator,
    fork_payload,
    no_package_index,
    post,
    settings,
    wait_for,
    worker,
)

OLD_WORKFLOW = ".github/workflows/old.yml"
HOSTILE = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: [{run: env}]\n"


def _delete_on_main(emulator: Any, repo: Any, path: str) -> None:
    """A push to main that deletes path (the emulator's commit only adds or changes files)."""
    index = emulator.workdir / "idx-delete"
    (emulator.workdir / "wt-delete").mkdir(exist_ok=True)  # update-index wants a work tree
    env = {"GIT_INDEX_FILE": str(index), "GIT_AUTHOR_NAME": "Fork Owner",
           "GIT_AUTHOR_EMAIL": "o@example.org", "GIT_COMMITTER_NAME": "Fork Owner",
           "GIT_COMMITTER_EMAIL": "o@example.org",
           "GIT_WORK_TREE": str(emulator.workdir / "wt-delete")}  # fmt: skip
    parent = emulator.sha(repo, "main")
    _git(repo.bare, "read-tree", parent, env=env)
    _git(repo.bare, "update-index", "--force-remove", path, env=env)
    tree = _git(repo.bare, "write-tree", env=env).decode().strip()
    sha = _git(repo.bare, "commit-tree", tree, "-p", parent, "-m", "ci: drop", env=env)
    _git(repo.bare, "update-ref", "refs/heads/main", sha.decode().strip())
    index.unlink(missing_ok=True)


def _tree(repo: Any, ref: str) -> list[str]:
    return _git(repo.bare, "ls-tree", "-r", "--name-only", ref).decode().split()


def test_a_setup_branch_cut_from_an_older_commit_never_brings_its_files_back(
    settings: Settings, emulator: Any, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", {**FORK_FILES, OLD_WORKFLOW: HOSTILE})
    _git(repo.bare, "update-ref", "refs/heads/forkvet/setup", emulator.sha(repo, "main"))
    _delete_on_main(emulator, repo, OLD_WORKFLOW)  # the fork removed the upstream's workflow
    forged = {".github/workflows/forkvet.yml": "on: push\n"}  # authored as the App
    emulator.commit(repo, "forkvet/setup", forged, "forkvet: set up")
    assert OLD_WORKFLOW in _tree(repo, "forkvet/setup")
    assert post(create_app(settings).test_client(), fork_payload(), "repository").status_code == 202
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1})
    pushed = _tree(repo, "forkvet/setup")
    assert OLD_WORKFLOW not in pushed, pushed
    main = set(_tree(repo, "main"))
    assert main <= set(pushed) and ".github/workflows/forkvet.yml" in pushed
    parent = _git(repo.bare, "rev-parse", "forkvet/setup^").decode().strip()
    assert parent == emulator.sha(repo, "main")  # one commit on the default branch's tip
