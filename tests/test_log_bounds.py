"""`train-check --log FILE` on a log the fork wrote (round 5, F2 and F4): every series the
verdict and the metrics code see is bounded, reading is capped, and a line that fails to
parse is skipped and counted, never the end of the check."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from forkvet.runtime import losses as L
from forkvet.runtime import metrics as M
from forkvet.runtime.train_check import check

pytest.importorskip("pymannkendall")


def _log(path: Path, n: int, nan_at: int | None = None) -> Path:
    values = [math.nan if i == nan_at else 2 - i * 1e-3 for i in range(n)]
    lines = [f"step {i} loss: {v:.6f}\n" for i, v in enumerate(values)]
    path.write_text("".join(lines))
    return path


@pytest.fixture
def mk_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every series handed to Mann-Kendall (its memory is quadratic in it)."""
    import pymannkendall

    sizes: list[int] = []
    real = pymannkendall.original_test

    def spy(x: Any, alpha: float = 0.05) -> Any:
        sizes.append(len(x))
        return real(x, alpha=alpha)

    monkeypatch.setattr(pymannkendall, "original_test", spy)
    return sizes


def test_a_long_log_is_thinned_before_the_verdict_and_the_trend_test(
    tmp_path: Path, mk_sizes: list[int]
) -> None:
    n = 3 * M.MAX_POINTS + 7
    result = check(log=_log(tmp_path / "train.log", n), out_dir=tmp_path / "out")
    assert result.verdict == "pass"
    assert mk_sizes and max(mk_sizes) <= M.MAX_POINTS
    assert len(result.losses) <= M.MAX_POINTS
    assert result.losses[-1] == pytest.approx(2 - (n - 1) * 1e-3)  # the last point kept
    assert result.steps is not None and result.steps[-1] == n - 1
    assert all(len(m["points"]) <= M.MAX_POINTS + 1 for m in result.metrics.values())
    assert any(f"{n:,} loss values thinned" in r for r in result.reasons)


def test_the_first_nan_of_a_long_log_survives_the_thinning(tmp_path: Path) -> None:
    log = _log(tmp_path / "train.log", 3 * M.MAX_POINTS, nan_at=1501)
    result = check(log=log, out_dir=tmp_path / "out")
    assert result.verdict == "fail"
    assert len(result.losses) <= M.MAX_POINTS and None in result.losses


def test_decide_and_trend_bound_any_series_they_are_given(mk_sizes: list[int]) -> None:
    from forkvet.runtime.decide import decide

    values = [2 - i * 1e-4 for i in range(5 * M.MAX_POINTS)]
    assert decide(values).verdict in ("pass", "fail")
    assert M.trend(values) == "falling"
    assert mk_sizes == [M.MAX_POINTS, M.MAX_POINTS]


def test_reading_a_log_stops_at_the_line_cap_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(L, "MAX_LOG_LINES", 100)
    log = _log(tmp_path / "train.log", 250)
    points, notices = L.read(log)
    assert len(points) == 100
    assert notices == [f"notice: read only the first 100 lines of {log}"]


GOOD_JSONL = "".join(json.dumps({"step": i, "loss": 2.0 - i * 0.05}) + "\n" for i in range(30))
GOOD_CSV = "step,loss\n" + "".join(f"{i},{2 - i * 0.05}\n" for i in range(30))
HOSTILE = {
    "deep.jsonl": GOOD_JSONL + "[" * 100_000 + "]" * 100_000 + "\n",
    "bigint.jsonl": GOOD_JSONL + '{"step": 31, "loss": ' + "9" * 5000 + "}\n",
    "badstep.jsonl": GOOD_JSONL + '{"step": "x", "loss": 0.1}\n',
    "field.csv": GOOD_CSV + '31,"' + "x" * 200_000 + '"\n',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_line_is_skipped_and_counted(tmp_path: Path, name: str) -> None:
    log = tmp_path / name
    log.write_text(HOSTILE[name])
    result = check(log=log, out_dir=tmp_path / "out")
    assert result.verdict == "pass"
    assert len(result.losses) == 30
    assert f"notice: skipped 1 line(s) of {log} that could not be parsed" in result.reasons
    assert len(result.metrics["loss"]["points"]) >= 30  # the metrics reader kept the rest
