"""`forkvet env` does its remote reads side by side: the vulnerability audit runs while the
dependency licenses are read (real local index, real OSV server, real uv)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from forkvet.envgen import licenses
from tests.conftest import MakeRepo
from tests.test_audit import OSVServer
from tests.test_env import TF1, index, run_env  # noqa: F401  (index: test_env's fixture)

pytest.importorskip("uv")


@pytest.mark.usefixtures("index")
def test_the_audit_runs_while_the_licenses_are_read(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(TF1)
    with OSVServer([]) as osv:
        monkeypatch.setenv("FORKVET_OSV_URL", osv.url)
        real_check = licenses.check
        waited: list[bool] = []

        def check_once_the_audit_asked(*args: Any, **kwargs: Any) -> list[licenses.DepLicense]:
            # Run one after the other, the audit would only start after this returns.
            deadline = time.monotonic() + 30
            while not osv.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            waited.append(bool(osv.requests))
            return real_check(*args, **kwargs)

        monkeypatch.setattr(licenses, "check", check_once_the_audit_asked)
        code, data = run_env(repo, tmp_path / "out", capsys, "--as-of", "2019-01-01")
    assert waited == [True], "the license check waited in vain: the audit did not run beside it"
    assert code == 0, data
    audit: dict[str, Any] = data["audit"]  # type: ignore[assignment]
    assert "error" not in audit and audit["counts"] is not None, audit
    pins = {r["name"] for r in data["requirements"]}  # type: ignore[attr-defined]
    assert {x["name"] for x in data["licenses"]} == pins  # type: ignore[attr-defined]
    assert any(p.startswith("/v1/query") for p in osv.requests)


@pytest.mark.usefixtures("index")
def test_with_verify_off_and_no_audit_nothing_runs_beside(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = make_repo(TF1)
    code, data = run_env(repo, tmp_path / "out", capsys, "--as-of", "2019-01-01", "--no-audit")
    assert code == 0 and "audit" not in data and data["licenses"]
