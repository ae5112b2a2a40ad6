"""Outside attack round 23b (runtime), fixed in session 14: what the command prints of the
operator's --pass-env values never reaches the published log, tail or summary (F10)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from forkvet.runtime import process
from forkvet.runtime.sandbox import probe

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

SECRET = "hf_leakme0123456789abcdef"


def test_a_passed_value_the_command_prints_is_masked_in_the_log_and_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not probe().ok:
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    monkeypatch.setenv("GATED_TOKEN", SECRET)
    repo = tmp_path / "repo"
    repo.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    result = process.run(
        'echo "token=$GATED_TOKEN"; echo "twice $GATED_TOKEN$GATED_TOKEN"',
        repo,
        timeout=60,
        log_path=out / "smoke.log",
        pass_env=["GATED_TOKEN"],
    )
    assert result.returncode == 0, result.tail
    assert "token=***" in result.tail and "twice ******" in result.tail
    log = (out / "smoke.log").read_text()
    assert SECRET not in log and SECRET not in "\n".join(result.tail)
    assert "token=***" in log


def test_short_or_absent_values_mask_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHORT_ONE", "ab")
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    mask = process.masked_values(["SHORT_ONE", "NOT_SET_HERE"])
    assert mask("ab cd") == "ab cd"
