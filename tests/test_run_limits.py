"""Run limits are caps the repository can only lower.

Finding 5 of the third attack round: `smoke.timeout: 1000000000` in a repository's
.github/forkvet.yml ran its command for ~31 years (the CLI took the repository's value when
the operator gave no --timeout, and tighten() took the smoke/train sections whole). The
operator's --timeout/--max-steps, else its --config, else forkvet's default, is the cap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forkvet.config import Config, load_config, tighten
from tests.conftest import MakeRepo


def _repo_config(text: str) -> Config:
    return load_config(Path(".github/forkvet.yml"), text)


@pytest.mark.parametrize(
    ("text", "smoke", "train", "steps"),
    [
        ("smoke:\n  timeout: 1000000000\n", 600, 900, 50),
        ("train:\n  timeout: 1000000000\n  max_steps: 0\n", 600, 900, 50),
        ("smoke:\n  timeout: 5\ntrain:\n  timeout: 7\n  max_steps: 3\n", 5, 7, 3),
        ("smoke:\n  command: make test\n", 600, 900, 50),  # unset: the cap itself
    ],
)
def test_the_repository_can_only_lower_the_floors_limits(
    text: str, smoke: int, train: int, steps: int
) -> None:
    cfg = tighten(Config(), _repo_config(text))
    assert (cfg.smoke.timeout, cfg.train.timeout, cfg.train.max_steps) == (smoke, train, steps)


@pytest.mark.parametrize(
    ("text", "gate", "slowdown"),
    [
        ("train:\n  fail_on_regression: false\n  max_slowdown: 100000000\n", True, 10),
        ("", True, 10),  # an empty file resets nothing
        ("license:\n  deny: [AGPL-3.0-only]\n", True, 10),
        ("train:\n  max_slowdown: 5\n", True, 5),  # stricter: kept
    ],
)
def test_the_repository_cannot_switch_off_the_operators_regression_gate(
    text: str, gate: bool, slowdown: int
) -> None:
    """Round 14b F4: any `.github/forkvet.yml` replaced the operator's `fail_on_regression`
    and `max_slowdown` (false, an empty file, even one that only denied a license)."""
    floor = Config()
    floor.train.fail_on_regression, floor.train.max_slowdown = True, 10
    cfg = tighten(floor, _repo_config(text))
    assert (cfg.train.fail_on_regression, cfg.train.max_slowdown) == (gate, slowdown)
    # without the operator's gate, the repository may ask for one
    asked = tighten(Config(), _repo_config("train:\n  fail_on_regression: true\n"))
    assert asked.train.fail_on_regression is True


def test_an_operator_without_a_step_limit_lets_the_repository_set_one() -> None:
    floor = Config()
    floor.train.max_steps = 0  # the operator's "no limit"
    assert tighten(floor, _repo_config("train:\n  max_steps: 20\n")).train.max_steps == 20
    assert tighten(floor, _repo_config("train:\n  max_steps: 0\n")).train.max_steps == 0


def _smoke(repo: Path, tmp_path: Path, *extra: str) -> tuple[dict[str, object], float]:
    start = time.monotonic()
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "forkvet", "smoke", str(repo), "--python", sys.executable),
            *("--no-import-check", "--format", "json", "--out", str(tmp_path / "o"), *extra),
        ],
        cwd=tmp_path,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout.startswith("{"), proc.stderr[-2000:]
    return json.loads(proc.stdout), time.monotonic() - start


@pytest.mark.parametrize("how", ["--timeout", "--config"])
def test_the_operators_timeout_holds_against_the_repositorys_file(
    make_repo: MakeRepo, tmp_path: Path, how: str
) -> None:
    repo = make_repo(
        {".github/forkvet.yml": "smoke:\n  command: sleep 60\n  timeout: 1000000000\n"}
    )
    policy = tmp_path / "policy.yml"
    policy.write_text("smoke:\n  timeout: 2\n")
    extra = ["--timeout", "2"] if how == "--timeout" else ["--config", str(policy)]
    data, took = _smoke(repo, tmp_path, *extra)
    assert data["timed_out"] is True and took < 30, (data, took)
