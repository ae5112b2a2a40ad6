"""The training check on a real tiny PyTorch model (CPU), through the CLI as Actions run it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import DATA
from tests.runtime_steps import run_step

pytest.importorskip("torch")
PY = sys.executable


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(DATA / "runtime" / "train_tiny.py", root / "train.py")
    return root


@pytest.fixture
def actions_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {"GITHUB_OUTPUT": tmp_path / "output", "GITHUB_STEP_SUMMARY": tmp_path / "summary"}
    for name, path in files.items():
        path.write_text("")
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    return files


def outputs(path: Path) -> dict[str, str]:
    """Parse GITHUB_OUTPUT (name<<DELIM ... DELIM blocks)."""
    out: dict[str, str] = {}
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            name, delim = lines[i].split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
        else:
            name, _, value = lines[i].partition("=")
            out[name] = value
            i += 1
    return out


def run_check(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object]]:
    return run_step("train-check", repo, tmp_path, capsys, *extra)


def test_learning_run_passes_with_outputs_summary_and_plot(
    repo: Path, tmp_path: Path, actions_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = run_check(repo, tmp_path, capsys, "--cmd", "python train.py --lr 0.1", "--github")
    assert code == 0 and data["verdict"] == "pass"
    assert len(data["losses"]) == 30 and data["losses"][0] > data["losses"][-1]
    assert data["steps"][:2] == [4, 8] and data["steps_per_second"] > 0
    assert Path(data["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = outputs(actions_env["GITHUB_OUTPUT"])
    assert out["train-verdict"] == "pass" and json.loads(out["losses"]) == data["losses"]
    summary = actions_env["GITHUB_STEP_SUMMARY"].read_text()
    assert "forkvet training check: pass" in summary and "xychart-beta" in summary


def test_too_high_learning_rate_diverges_and_fails(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = run_check(repo, tmp_path, capsys, "--cmd", "python train.py --lr 5")
    assert code == 1 and data["verdict"] == "fail"
    assert data["stopped_early"] is True  # stopped at the first non-finite value


def test_nan_run_fails(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_check(repo, tmp_path, capsys, "--cmd", "python train.py --nan-at 60")
    assert code == 1 and data["verdict"] == "fail"
    assert data["losses"][-1] is None and data["nonfinite"]
    assert any("nan" in r for r in data["reasons"])


def test_an_unparsable_line_in_the_live_output_is_skipped_not_the_end(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Round 13b F4: a 5,000-digit step number killed the live reader, so the command blocked
    on a full pipe until the timeout and the NaN after it was never seen: a pass."""
    (repo / "big.py").write_text(
        "import math\n"
        "for i in range(30):\n"
        "    print(f'step {i} loss: {2.0 * math.exp(-i / 10):.4f}', flush=True)\n"
        "print('step ' + '9' * 5000 + ' loss: 0.1', flush=True)\n"
        "for i in range(30, 5000):\n"
        "    print(f'step {i} loss: nan', flush=True)\n"
    )
    code, data = run_check(repo, tmp_path, capsys, "--cmd", "python big.py", "--timeout", "60")
    assert code == 1 and data["verdict"] == "fail" and data["nonfinite"]
    assert any("skipped 1 line(s) of the output" in r for r in data["reasons"]), data["reasons"]
    assert not any("time limit" in r for r in data["reasons"])


def test_three_logged_points_is_inconclusive(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = run_check(
        repo, tmp_path, capsys, "--cmd", "python train.py --steps 12 --log-every 4 --style dict"
    )
    assert code == 0 and data["verdict"] == "inconclusive"
    assert len(data["losses"]) == 3


def test_max_steps_bounds_the_run(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, data = run_check(
        repo, tmp_path, capsys, "--cmd", "python train.py --steps 100000", "--max-steps", "20"
    )
    assert data["stopped_early"] is True and len(data["losses"]) == 20
    assert data["verdict"] == "pass"


def test_reading_an_existing_log(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "train.log"
    log.write_text("".join(f"it {i} loss={2.0 / (1 + i / 10):.4f}\n" for i in range(40)))
    code, data = run_check(repo, tmp_path, capsys, "--log", str(log))
    assert code == 0 and data["verdict"] == "pass" and data["source"] == str(log)


def test_crashing_command_fails_with_a_reason(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "broken.py").write_text("import nonexistent_module_xyz\n")
    code, data = run_check(repo, tmp_path, capsys, "--cmd", "python broken.py")
    assert code == 1 and data["verdict"] == "fail"
    assert any("missing module 'nonexistent_module_xyz'" in r for r in data["reasons"])


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train-check", str(tmp_path), "--pattern", "loss=("]) == 2
    assert main(["train-check", str(tmp_path / "nope"), "--cmd", "true"]) == 2
    assert main(["train-check", str(tmp_path), "--log", str(tmp_path / "missing.log")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("forkvet: error:") == 3
