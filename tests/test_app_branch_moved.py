"""Round 21c F3: the worker reads the branch head, starts the check run on it, then clones the
branch; a push in between (a clean commit on top of a malicious one) made the newer tree's
verdict the older commit's, a green check for a commit holding an `os.system` pickle. The
verdict is published only where the clone is the check run's commit."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from bot.jobs import branch_moved


class _Check:
    """A check run as the worker holds it: its commit, and what the worker writes to it."""

    def __init__(self, head_sha: str) -> None:
        self.id = 7
        self.head_sha = head_sha
        self.edits: list[dict[str, Any]] = []

    def edit(self, **fields: Any) -> None:
        self.edits.append(fields)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _commit(repo: Path, name: str) -> str:
    (repo / name).write_bytes(b"data")
    _git(repo, "add", name)
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", name)
    return _git(repo, "rev-parse", "HEAD")


def test_a_clone_of_a_newer_commit_never_completes_the_older_commits_check(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "fork"
    repo.mkdir()
    _git(repo, "init", "-q")
    malicious = _commit(repo, "model.pkl")
    _commit(repo, "cleanup.txt")  # pushed while the worker was starting the check run
    check = _Check(malicious)
    result = branch_moved(repo, check)  # type: ignore[arg-type]
    assert result is not None and result["skipped"] == "branch moved"
    assert [e["conclusion"] for e in check.edits] == ["neutral"]
    assert "not vetted" in check.edits[0]["output"]["title"]


def test_a_clone_of_the_checks_commit_is_vetted(tmp_path: Path) -> None:
    repo = tmp_path / "fork"
    repo.mkdir()
    _git(repo, "init", "-q")
    head = _commit(repo, "model.pkl")
    check = _Check(head)
    assert branch_moved(repo, check) is None  # type: ignore[arg-type]
    assert check.edits == []
