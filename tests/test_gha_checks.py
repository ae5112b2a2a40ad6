"""The report step's check run: created when the token may write one, and a graceful
degradation to the job summary when it may not (pull requests from forks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from tests.conftest import license_text


def _env(monkeypatch: pytest.MonkeyPatch, github: Any, tmp_path: Path, sha: str) -> Path:
    summary = tmp_path / "summary.md"
    summary.write_text("")
    (tmp_path / "out").write_text("")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_TOKEN", github.user_token("runner"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/deepnet")
    monkeypatch.setenv("GITHUB_SHA", sha)
    monkeypatch.setenv("GITHUB_API_URL", github.base_url)
    return summary


def test_check_run_created_or_degraded(
    github: Any, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = github.add_repo(
        "acme", "deepnet", {"LICENSE": license_text("MIT.txt"), "m.py": "import numpy\n"}
    )
    sha = github.sha(repo, "main")
    summary = _env(monkeypatch, github, tmp_path, sha)
    result = tmp_path / "train.json"
    result.write_text(
        json.dumps(
            {
                "verdict": "pass",
                "reasons": ["loss fell 90%"],
                "losses": [2.0, 0.2],
                "chart": "",
                "plot": None,
            }
        )
    )
    assert main(["report", "--train", str(result), "--check-run"]) == 0
    run = repo.check_runs[0]
    assert run["name"] == "forkvet train" and run["conclusion"] == "success"
    assert run["head_sha"] == sha and "loss fell 90%" in run["output"]["summary"]
    github.fail_next("POST", "/check-runs$", 403)
    assert main(["report", "--train", str(result), "--check-run"]) == 0
    out = capsys.readouterr().out
    assert "::notice title=forkvet::The token cannot write check runs" in out
    assert len(repo.check_runs) == 1 and "forkvet training check: pass" in summary.read_text()
