"""A runtime step (`forkvet smoke`, `forkvet train-check`) run in this process as a user runs
it, with its JSON result read back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from forkvet.cli import main


def run_step(
    step: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object]]:
    """Exit code and result of `forkvet <step> REPO --python <this Python> ... --format json`."""
    result = tmp_path / f"{step}.json"
    argv = [step, str(repo), "--python", sys.executable, "--out", str(tmp_path / "out")]
    code = main([*argv, "--format", "json", "-o", str(result), *extra])
    capsys.readouterr()
    return code, json.loads(result.read_text())
