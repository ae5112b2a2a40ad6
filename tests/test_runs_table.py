"""The runs table across commits: rows from train-check results (old and new schema), the
escaped Markdown the App shows, and `forkvet runs` on files and folders of results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.runtime import runs_table
from forkvet.runtime.runs_table import RunRow, row_from_result

SHA1, SHA2, SHA3 = "1" * 40, "2" * 40, "3" * 40


def metric(kind: str, last: float, best: float, goal: str = "min") -> dict[str, Any]:
    return {
        "points": [[10, last + 1], [20, last]],
        "first": last + 1,
        "last": last,
        "best": best,
        "best_step": 20,
        "goal": goal,
        "trend": "falling" if goal == "min" else "rising",
        "kind": kind,
    }


def new_result(train: float, val: float, top1: float, util: float | None = 71.5) -> dict[str, Any]:
    return {
        "verdict": "pass",
        "losses": [2.3, 1.9, 1.5, 1.2],
        "steps": [10, 20, 30, 40],
        "steps_per_second": 12.5,
        "peak_gpu_memory_mib": 2048.0,
        "gpu_utilization_mean": util,
        "metrics": {
            "zz_loss": metric("train_loss", 9.9, 9.9),  # a second train loss: name order
            "loss": metric("train_loss", train, train),
            "val_loss": metric("val_loss", val, val),
            "top1": metric("metric", top1 - 0.01, top1, "max"),
            "bleu": metric("other", 1.0, 1.0, "max"),
            "lr": metric("lr", 0.001, 0.001),
        },
    }


OLD = {"verdict": "inconclusive", "losses": [2.0, 1.8, None, 1.6, 1.4], "steps_per_second": 3}


def test_a_row_takes_the_named_metrics_and_old_results_still_give_one() -> None:
    row = row_from_result(new_result(0.5, 0.7, 0.91), SHA1, 1_700_000_000)
    assert (row.train_loss, row.val_loss) == (0.5, 0.7)
    assert (row.metric, row.metric_value) == ("top1", 0.91)  # kind "metric", not "other"
    assert row.gpu_utilization == 71.5 and row.steps_per_second == 12.5
    old = row_from_result(OLD, "old", None)
    # no metrics: the train loss is today's final loss of `losses` (the mean of the last fifth)
    assert old.train_loss == 1.4 and old.val_loss is None and old.metric is None
    assert old.gpu_utilization is None and old.verdict == "inconclusive"


def test_hostile_values_become_empty_cells_and_text_is_escaped() -> None:
    hostile = {
        "verdict": "pass <!-- forkvet:report --> @acme/admins",
        "losses": "nope",
        "steps_per_second": 10**400,
        "gpu_utilization_mean": float("nan"),
        "metrics": {
            "acc | <img src=x> @acme": {"kind": "metric", "best": True, "last": "1"},
            "val": {"kind": "val_loss", "last": float("inf")},
            "junk": [1, 2],
        },
    }
    row = row_from_result(hostile, "evil|`name`", None)
    assert row.train_loss is None and row.val_loss is None and row.metric_value is None
    assert row.steps_per_second is None and row.gpu_utilization is None
    table = runs_table.markdown([row])
    body = table.splitlines()[2]
    assert body.count(" | ") == len(runs_table.HEADER) - 1  # no cell broke out
    assert "<!--" not in table and "<img" not in table and "@acme" not in table
    assert "\x1b" not in runs_table.text([RunRow("\x1b[31mred", None, "pass", *[None] * 6)])


def test_markdown_is_newest_first_and_marks_regressions() -> None:
    rows = [
        row_from_result(new_result(0.5, 0.7, 0.91), SHA1, 100.0),
        row_from_result(new_result(0.9, 1.1, 0.80), SHA2, 200.0, ("regressed", SHA1)),
        RunRow.from_dict({**row_from_result(OLD, SHA3, 50.0).to_dict(), "junk": 1}),
    ]
    table = runs_table.markdown(rows)
    assert table.index(SHA2[:7]) < table.index(SHA1[:7]) < table.index(SHA3[:7])
    assert f"**regressed** vs `{SHA1[:7]}`" in table
    assert "top1 0.91" in table and "72%" in table and "1970-01-01 00:03" in table
    many = [row_from_result(OLD, f"{i:07x}", float(i)) for i in range(20)]
    assert "5 older runs are not shown" in runs_table.markdown(many)


def write(folder: Path, name: str, data: Any, mtime: float) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    os.utime(path, (mtime, mtime))
    return path


def test_forkvet_runs_prints_the_table_from_a_folder_of_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # as `gh run download` leaves two runs' artifacts, beside files that are not results
    write(tmp_path, "run-1/forkvet-runtime/train.json", {**OLD, "commit": SHA1}, 1_000)
    write(tmp_path, "run-2/forkvet-runtime/train.json", new_result(0.4, 0.6, 0.93), 2_000)
    write(tmp_path, "run-2/forkvet-runtime/smoke.json", {"verdict": "pass"}, 2_000)
    write(tmp_path, "run-2/notes.json", "{not json", 2_000)
    assert main(["runs", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["commit", "date", "verdict"]
    assert lines[1].startswith("forkvet-runtime/train.json") and "top1 0.93" in lines[1]
    assert lines[2].startswith(SHA1[:7]) and len(lines) == 3
    assert "skipped 2 JSON file(s)" in err
    assert main(["runs", str(tmp_path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["commit"] for r in rows] == ["forkvet-runtime/train.json", SHA1]
    assert rows[0]["val_loss"] == 0.6 and rows[0]["date"] == "1970-01-01T00:33:20Z"
    assert main(["runs", str(tmp_path), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| commit | date | verdict |")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "no such file or folder"),
        ("{oops", "not valid JSON"),
        ({"verdict": "pass"}, "not a forkvet train-check result"),
        ("folder", "no train-check result"),
    ],
)
def test_forkvet_runs_refuses_bad_input_in_one_line(
    tmp_path: Path, content: Any, error: str
) -> None:
    path = tmp_path / "result.json"
    if content == "folder":
        path = tmp_path / "empty"
        write(path, "vet.json", {"findings": []}, 1)
    elif content is not None:
        write(tmp_path, "result.json", content, 1)
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "runs", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert error in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_forkvet_runs_help_names_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["runs", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--format {text,markdown,json}" in out and "PATH" in out
    docs = (Path(__file__).parent.parent / "docs" / "tracking.md").read_text()
    assert "forkvet runs PATH" in docs and "--format text|markdown|json" in docs


def test_a_train_check_result_carries_when_it_finished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """train-check writes `finished_at` (and `commit` when it ran the repository's code), so
    `forkvet runs` dates a downloaded result by the run, not by when the file was copied."""
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {i} loss {3.0 - 0.1 * i:.2f}\n" for i in range(20)))
    out = tmp_path / "results" / "train.json"
    out.parent.mkdir()
    assert main(["train-check", str(tmp_path), "--log", str(log), "--output", str(out)]) == 0
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["commit"] is None and abs(data["finished_at"] - time.time()) < 600
    os.utime(out, (1_000, 1_000))  # as if copied long after: the run's own time wins
    assert main(["runs", str(out), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert not row["date"].startswith("1970")


@pytest.mark.parametrize("finished_at", [1e308, -1e18, -1, 1e12, 2**70, "2026-01-01", True])
def test_a_finished_at_that_is_no_date_shows_no_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], finished_at: Any
) -> None:
    """Round 5's F3: one result's `finished_at` of 1e308 or -1e18 made `forkvet runs` end in
    an internal error, hiding every other result."""
    write(tmp_path, "run-1/train.json", {**OLD, "commit": SHA1, "finished_at": 1_000}, 1_000)
    write(tmp_path, "run-2/train.json", {**OLD, "commit": SHA2, "finished_at": finished_at}, 1)
    for form in ("text", "markdown", "json"):
        assert main(["runs", str(tmp_path), "--format", form]) == 0
        out = capsys.readouterr().out
        assert SHA1[:7] in out and SHA2[:7] in out
    rows = {r["commit"]: r for r in json.loads(out)}
    assert rows[SHA2]["date"] is None and rows[SHA1]["date"] == "1970-01-01T00:16:40Z"
    assert runs_table.RunRow.from_dict({"commit": SHA2, "date": finished_at}).date is None


def test_markdown_keeps_no_control_character_of_a_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "r/train.json", {**OLD, "commit": "ab\x1b[31mcd\x07\x00\u202e"}, 1)
    assert main(["runs", str(tmp_path), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert not [ch for ch in out if ord(ch) < 0x20 and ch != "\n"]
    assert "\x7f" not in out and "\u202e" not in out and "[31mcd" in out
