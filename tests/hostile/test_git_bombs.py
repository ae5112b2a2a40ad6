"""Git tree bombs (outside attack, round 4, F5): a repository of a few objects whose folders
all point at one subtree checks out to 10^k files. forkvet measures a commit's tree with
`git ls-tree` before anything is checked out and refuses one over its file or byte bound,
with a one-line error (exit 2) and nothing left in the temporary folder."""

# ruff: noqa: F811

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.web import create_app
from forkvet.snapshot import MAX_FILES
from forkvet.source import MAX_CHECKOUT_BYTES
from tests.github.emulator import GitHubEmulator
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


def _git(cwd: Path, *args: str, stdin: bytes = b"") -> str:
    out = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True)
    return out.stdout.decode().strip()


def _bomb(root: Path, levels: int, blob: bytes = b"x\n") -> tuple[str, str]:
    """A bare repository: 10**levels copies of one blob under nested folders d0..d9."""
    bare = root / "bomb.git"
    _git(root, "init", "-q", "--bare", str(bare))
    return f"file://{bare}", _bomb_commit(bare, levels, blob)


def _bomb_commit(bare: Path, levels: int, blob: bytes = b"x\n") -> str:
    sha = _git(bare, "hash-object", "-w", "--stdin", stdin=blob)
    tree = _git(bare, "mktree", stdin=f"100644 blob {sha}\tf\n".encode())
    for _ in range(levels):
        rows = "".join(f"040000 tree {tree}\td{i}\n" for i in range(10))
        tree = _git(bare, "mktree", stdin=rows.encode())
    readme = _git(bare, "hash-object", "-w", "--stdin", stdin=b"# model\n")
    rows = f"040000 tree {tree}\tbomb\n100644 blob {readme}\tREADME.md\n"
    top = _git(bare, "mktree", stdin=rows.encode())
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b"}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"}
    commit = (
        subprocess.run(
            ["git", "commit-tree", top, "-m", "bomb"], cwd=bare, env=env, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    _git(bare, "update-ref", "refs/heads/main", commit)
    _git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    return commit


def _vet(url: str, scratch: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    return subprocess.run(
        [sys.executable, "-m", "forkvet", "vet", url, "--format", "json", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("ref", ["", "main", "commit"])
def test_a_tree_of_a_million_files_is_refused_before_checkout(tmp_path: Path, ref: str) -> None:
    """The default branch, a branch by name, and a commit by its sha (fetched alone)."""
    assert MAX_FILES < 10**6
    url, commit = _bomb(tmp_path, 6)
    ref = commit if ref == "commit" else ref
    started = time.monotonic()
    proc = _vet(url, tmp_path / "scratch", *(["--ref", ref] if ref else []))
    assert time.monotonic() - started < 60
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"over {MAX_FILES} files" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list((tmp_path / "scratch").iterdir()) == []  # nothing left behind


def test_a_tree_over_the_byte_bound_is_refused(tmp_path: Path) -> None:
    """10,000 files (under the file bound) of one 1 MiB blob: 10 GiB checked out."""
    assert MAX_CHECKOUT_BYTES < 10**4 * 2**20
    url, _ = _bomb(tmp_path, 4, b"\0" * 2**20)
    proc = _vet(url, tmp_path / "scratch")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "GiB" in proc.stderr and "forkvet vet FOLDER" in proc.stderr
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_small_tree_is_still_checked_out(tmp_path: Path) -> None:
    proc = _vet(_bomb(tmp_path, 2)[0], tmp_path / "scratch")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]


def test_the_app_refuses_a_tree_bomb_once_and_says_what_to_do(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    from bot import queue

    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    _bomb_commit(repo.bare, 6)  # main now checks out to a million files
    post(create_app(settings).test_client(), fork_payload(), "repository")
    wait_for(lambda: bool(repo.check_runs) and repo.check_runs[0]["status"] == "completed")
    run = repo.check_runs[0]
    assert run["conclusion"] == "action_required", run
    summary = run["output"]["summary"]
    assert "This repository was not vetted" in summary and f"over {MAX_FILES} files" in summary
    assert "What to do" in summary and "forkvet vet FOLDER" in summary
    _, store = queue.setup(settings)
    wait_for(lambda: store.counts() == {"done": 1})
    job = store.get(1)
    assert job is not None and job.attempts == 1  # not retried: the same tree tomorrow


def test_sigterm_mid_checkout_leaves_no_clone_behind(tmp_path: Path) -> None:
    """Under both bounds (100,000 files), so the checkout runs: SIGTERM (a cancelled job,
    `timeout`) in the middle unwinds and removes the temporary clone."""
    import signal

    url, _ = _bomb(tmp_path, 5)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "forkvet", "vet", url, "--format", "json"],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list(scratch.glob("forkvet-*/bomb/bomb")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert list(scratch.iterdir()) == []


def _folder_chains(bare: Path, files: int, depth: int) -> str:
    """Round 18c F10: `files` one-byte files, each under its own chain of `depth` folders,
    all chains one tree object: a few KiB fetched, files x depth folders checked out."""
    blob = _git(bare, "hash-object", "-w", "--stdin", stdin=b"x")
    tree = _git(bare, "mktree", stdin=f"100644 blob {blob}\tf\n".encode())
    for i in range(depth):
        tree = _git(bare, "mktree", stdin=f"040000 tree {tree}\td{i}\n".encode())
    rows = "".join(f"040000 tree {tree}\tt{i:05d}\n" for i in range(files))
    top = _git(bare, "mktree", stdin=rows.encode())
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b"}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"}
    commit = (
        subprocess.run(
            ["git", "commit-tree", top, "-m", "folders"], cwd=bare, env=env, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    _git(bare, "update-ref", "refs/heads/main", commit)
    _git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    return commit


def test_folders_count_against_the_disk_budget_before_checkout(tmp_path: Path) -> None:
    """300 files under chains of 40 folders: 12,300 folders (48 MiB of folder blocks) for
    1.2 MiB of file blocks. With a 16 MiB budget the tree is refused before anything is
    checked out (it used to be let through on its files' blocks alone)."""
    from forkvet.source import TreeTooLarge, clone

    bare = tmp_path / "chains.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _folder_chains(bare, 300, 40)
    dest = tmp_path / "clone"
    with pytest.raises(TreeTooLarge, match="16 MiB on disk"):
        clone(f"file://{bare}", dest, max_bytes=16 << 20)
    assert [p.name for p in dest.iterdir()] == [".git"]  # nothing checked out
    # The same tree under a budget that holds its folders is checked out.
    ok = tmp_path / "ok"
    clone(f"file://{bare}", ok, max_bytes=128 << 20)
    chain = Path("t00299", *(f"d{i}" for i in reversed(range(40))), "f")
    assert (ok / chain).read_text() == "x"
