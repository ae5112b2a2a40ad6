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


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xff\xfe\x00", "not UTF-8"),
        (b'{"verdict": "pass", "n": ' + b"9" * 5000 + b"}", "unreadable number"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"verdict": ["pass"], "losses": []}', "verdict must be one of"),
    ],
)
def test_report_refuses_a_result_file_it_cannot_trust_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, said: str
) -> None:
    # Rounds 13a F8 / 13b F3: train.json is written where the repository's code ran; these
    # ended in "internal error" (exit 3), or passed a list through as the step's verdict.
    path = tmp_path / "train.json"
    path.write_bytes(content)
    code = main(["report", "--train", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and said in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_an_operator_file_that_is_no_regular_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    # Round 13b F7: `--config /dev/zero` read until MemoryError, a FIFO blocked for ever.
    import os

    if kind == "fifo":
        path = tmp_path / "c.fifo"
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "m.py").write_text("import torch\n")
    for args in (["vet", str(repo), "--config", str(path)], ["report", "--train", str(path)]):
        code = main(args)
        err = capsys.readouterr().err.strip()
        assert code == 2 and "is not a regular file" in err and len(err.splitlines()) == 1, err
