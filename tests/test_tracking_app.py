# ruff: noqa: F811  (the App fixtures are shared with tests/test_app.py by import)
"""The App remembers each GPU run's training result per commit, compares it with the default
branch's previous one, and keeps a trend in the report issue — through the real Actions API
(artifacts listed and downloaded from the emulator, which validates against GitHub's OpenAPI)."""

from __future__ import annotations

import io
import json
import math
import zipfile
from typing import Any

from bot.settings import Settings
from bot.store import Store
from bot.web import create_app
from forkvet.github.artifacts import result_from_archive
from forkvet.runtime.baseline import curve_from_result
from tests.app_fixtures import adapt, example
from tests.github.emulator import GitHubEmulator
from tests.test_app import (  # noqa: F401
    FORK_FILES,
    WORKFLOW_PATH,
    done,
    emulator,
    fork_payload,
    merge_setup_workflow,
    post,
    rendered,
    settings,
    wait_for,
    worker,
)


def curve(final: float, n: int = 40, noise: float = 0.01, sps: float = 10.0) -> dict[str, Any]:
    """A train-check result whose loss decays from 2.3 to `final` with a small wobble."""
    losses = [
        round(final + (2.3 - final) * math.exp(-i / 6) + noise * math.sin(i * 1.7), 5)
        for i in range(n)
    ]
    return {
        "verdict": "pass",
        "losses": losses,
        "steps": list(range(10, 10 * n + 1, 10)),
        "steps_per_second": sps,
        "peak_gpu_memory_mib": 2048.0,
    }


def artifact(result: dict[str, Any] | None, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        if result is not None:
            zf.writestr("train.json", json.dumps(result))
        zf.writestr("train/train.log", "step 10 loss 2.3\n")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def fold(client: Any, emulator: GitHubEmulator, run: dict[str, Any]) -> dict[str, Any]:
    payload = adapt(example("workflow_run", "completed"), "acme", "deepnet")
    payload["workflow_run"] = run
    payload["repository"]["id"] = emulator.repos["acme/deepnet"].id
    before = sum(r["name"] == "forkvet GPU" for r in emulator.repos["acme/deepnet"].check_runs)
    assert post(client, payload, "workflow_run").get_json()["jobs"] == 1
    repo = emulator.repos["acme/deepnet"]
    wait_for(lambda: sum(r["name"] == "forkvet GPU" for r in repo.check_runs) > before)
    return [r for r in repo.check_runs if r["name"] == "forkvet GPU"][-1]


def test_trend_and_regression_over_commits(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    merge_setup_workflow(emulator, repo)  # runs count only of the App's own workflow
    first = emulator.commit(repo, "main", {"train.py": "# v1\n"}, "v1")
    run1 = emulator.add_workflow_run(
        repo, first, artifacts={"forkvet-runtime": artifact(curve(0.5))}
    )
    check1 = fold(client, emulator, run1)
    assert check1["conclusion"] == "success" and "regressed" not in check1["output"]["title"]

    # a change that hurts: the loss ends far higher, the run is slower
    second = emulator.commit(repo, "main", {"train.py": "# v2, lr typo\n"}, "v2")
    run2 = emulator.add_workflow_run(
        repo, second, artifacts={"forkvet-runtime": artifact(curve(1.2, sps=6.0))}
    )
    check2 = fold(client, emulator, run2)
    assert check2["output"]["title"].endswith(f"regressed vs {first[:7]}")
    assert "slower" in check2["output"]["summary"] and "worse" in check2["output"]["summary"]
    assert check2["conclusion"] == "success"  # a regression fails only when configured

    body = repo.issues[0]["body"]
    assert "### Training over commits" in body
    table = body.split("### Training over commits", 1)[1]
    assert table.index(second[:7]) < table.index(first[:7])  # newest first
    assert "**regressed**" in table
    # the token went to the API only, never to the storage host behind the redirect
    assert emulator.blob_auth and all(a is None for a in emulator.blob_auth)
    stored = Store(settings.db).train_results("acme/deepnet")
    assert [e["sha"] for e in stored] == [second, first] and stored[0]["regression"]


def test_fail_on_regression_and_bad_artifacts(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    files = {
        **FORK_FILES,
        ".github/forkvet.yml": "train:\n  fail_on_regression: true\n",
        WORKFLOW_PATH: rendered(settings),
    }
    repo = emulator.add_repo("acme", "deepnet", files)
    client = create_app(settings).test_client()
    base = emulator.sha(repo, "main")
    assert base
    fold(
        client,
        emulator,
        emulator.add_workflow_run(repo, base, artifacts={"forkvet-runtime": artifact(curve(0.5))}),
    )
    # an artifact without a result, and one whose train.json is not a result: no crash, no row
    bad = emulator.commit(repo, "main", {"a.py": "1\n"}, "bad")
    check = fold(
        client,
        emulator,
        emulator.add_workflow_run(
            repo,
            bad,
            artifacts={"forkvet-runtime": artifact(None, {"train.json": '{"losses": "nope"}'})},
        ),
    )
    assert "regressed" not in check["output"]["title"]
    assert len(Store(settings.db).train_results("acme/deepnet")) == 1
    worse = emulator.commit(repo, "main", {"b.py": "2\n"}, "worse")
    check = fold(
        client,
        emulator,
        emulator.add_workflow_run(repo, worse, artifacts={"forkvet-runtime": artifact(curve(1.5))}),
    )
    assert check["conclusion"] == "failure" and "regressed" in check["output"]["title"]


def test_trend_table_survives_hostile_numbers() -> None:
    from bot.tracking import trend_table

    huge = 10**400
    table = trend_table(
        [
            {
                "sha": "a" * 40,
                "branch": "main",
                "verdict": "pass",
                "final_loss": huge,
                "steps_per_second": float("nan"),
                "peak_gpu_memory_mib": True,
            }
        ]
    )
    assert table.count("—") >= 3
    assert curve_from_result({"losses": [huge, 1.0], "steps_per_second": huge}).losses[1] == 1.0
    from bot.tracking import _final_loss

    assert _final_loss([huge, 2.0, 1.0]) == 1.0


def test_archive_reading_is_bounded_and_validated() -> None:
    assert result_from_archive(b"not a zip") is None
    assert result_from_archive(artifact(None)) is None
    nested = artifact(None, {"out/train.json": json.dumps(curve(0.4))})
    assert result_from_archive(nested) is not None
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("train.json", b" " * (8 * 1024 * 1024))  # over the member limit
    assert result_from_archive(bomb.getvalue()) is None


def test_the_action_takes_its_baseline_from_the_default_branch(
    emulator: GitHubEmulator, tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    from forkvet.cli import main

    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    other = emulator.add_repo("mallory", "deepnet", FORK_FILES)
    old = emulator.sha(repo, "main")
    assert old
    emulator.add_workflow_run(repo, old, artifacts={"forkvet-runtime": artifact(curve(0.5))})
    new = emulator.commit(repo, "main", {"x.py": "1\n"}, "x")
    # newer, but from a pull request of another fork: its numbers must never be the baseline
    emulator.add_workflow_run(
        repo,
        new,
        event="pull_request",
        head_repo=other,
        artifacts={"forkvet-runtime": artifact(curve(9.9))},
    )
    emulator.add_workflow_run(
        repo, new, branch="feature", artifacts={"forkvet-runtime": artifact(curve(7.7))}
    )
    monkeypatch.setenv("GITHUB_TOKEN", emulator.user_token("acme"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/deepnet")
    monkeypatch.setenv("GITHUB_API_URL", emulator.base_url)
    monkeypatch.setenv(
        "GITHUB_WORKFLOW_REF", "acme/deepnet/.github/workflows/forkvet.yml@refs/heads/main"
    )
    out = tmp_path / "baseline.json"
    assert main(["baseline", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["commit"] == old and data["losses"] == curve(0.5)["losses"]
    # nothing on another branch: no file, and a clear line
    out2 = tmp_path / "none.json"
    assert main(["baseline", "--out", str(out2), "--branch", "nope"]) == 0
    assert not out2.exists() and "no earlier result" in capsys.readouterr().out
