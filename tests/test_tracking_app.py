# ruff: noqa: F811  (the App fixtures are shared with tests/test_app.py by import)
"""The App remembers each GPU run's training result per commit, compares it with the default
branch's previous one, and keeps a trend in the report issue — through the real Actions API
(artifacts listed and downloaded from the emulator, which validates against GitHub's OpenAPI)."""

from __future__ import annotations

import io
import json
import math
import subprocess
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
    from forkvet.runtime.runs_table import final_loss

    assert final_loss([huge, 2.0, 1.0]) == 1.0


def test_archive_reading_is_bounded_and_validated() -> None:
    assert result_from_archive(b"not a zip") is None
    assert result_from_archive(artifact(None)) is None
    # Round 13b F6: a folder the smoke command named `evil.log` held a forged train.json,
    # and the template's `smoke/*.log` uploaded it: only the archive's root result counts.
    nested = artifact(None, {"smoke/evil.log/train.json": json.dumps(curve(0.4))})
    assert result_from_archive(nested) is None
    both = artifact(curve(0.5), {"smoke/evil.log/train.json": json.dumps(curve(0.1))})
    assert result_from_archive(both) == curve(0.5)
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


# -- results where the pull request is ---------------------------------------------------------
HOSTILE_METRIC = "top1 <!-- forkvet:train-check --> @acme/admins"


def with_metrics(result: dict[str, Any], top1: float) -> dict[str, Any]:
    def metric(kind: str, last: float, best: float, goal: str) -> dict[str, Any]:
        return {
            "points": [[10, last], [400, last]],
            "first": last,
            "last": last,
            "best": best,
            "best_step": 400,
            "goal": goal,
            "trend": "flat",
            "kind": kind,
        }

    final = result["losses"][-1]
    return {
        **result,
        "gpu_utilization_mean": 64.0,
        "metrics": {
            "loss": metric("train_loss", final, final, "min"),
            "val_loss": metric("val_loss", final + 0.1, final + 0.1, "min"),
            HOSTILE_METRIC: metric("metric", top1, top1, "max"),
        },
    }


def pull_minimal(emulator: GitHubEmulator, number: int, sha: str, head: Any, base: Any) -> Any:
    """A workflow run's `pull_requests` entry, as GitHub's schema has it."""

    def side(repo: Any, ref: str) -> dict[str, Any]:
        url = f"{emulator.base_url}/repos/{repo.full_name}"
        return {"ref": ref, "sha": sha, "repo": {"id": repo.id, "url": url, "name": repo.name}}

    return {
        "id": 9000 + number,
        "number": number,
        "url": f"{emulator.base_url}/repos/{base.full_name}/pulls/{number}",
        "head": side(head, "feature"),
        "base": side(base, "main"),
    }


def open_pull(emulator: GitHubEmulator, repo: Any) -> int:
    number = len(repo.issues) + len(repo.pulls) + 1
    repo.pulls.append(
        {
            "id": 8000 + number,
            "number": number,
            "title": "try a new schedule",
            "body": "",
            "state": "open",
            "_head": "feature",
            "_base": "main",
            "created_at": "2026-12-06T08:00:00Z",
        }
    )
    return number


def pr_run(
    emulator: GitHubEmulator, repo: Any, sha: str, number: int, result: dict[str, Any]
) -> dict[str, Any]:
    run = emulator.add_workflow_run(
        repo,
        sha,
        branch="feature",
        event="pull_request",
        artifacts={"forkvet-runtime": artifact(result)},
    )
    run["pull_requests"] = [pull_minimal(emulator, number, sha, repo, repo)]
    return run


def bot_comments(emulator: GitHubEmulator, repo: Any, number: int) -> list[dict[str, Any]]:
    return [c for c in repo.comments if c["issue"] == number and c["_user"] == emulator.bot_login]


def test_one_pull_request_comment_updated_in_place_for_trusted_runs_only(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    from forkvet.github.pr_comments import MARKER

    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    base = merge_setup_workflow(emulator, repo)
    fold(
        client,
        emulator,
        emulator.add_workflow_run(repo, base, artifacts={"forkvet-runtime": artifact(curve(0.5))}),
    )
    # a same-repository pull request from the branch `feature`, where someone already pasted
    # forkvet's marker into a comment of their own
    subprocess.run(
        ["git", "--git-dir", str(repo.bare), "update-ref", "refs/heads/feature", base], check=True
    )
    number = open_pull(emulator, repo)
    human = emulator.add_comment(repo, number, f"{MARKER}\nmine, not forkvet's", "mallory")

    first = emulator.commit(repo, "feature", {"train.py": "# cosine\n"}, "cosine")
    run1 = pr_run(emulator, repo, first, number, with_metrics(curve(0.45), 0.91))
    fold(client, emulator, run1)
    wait_for(lambda: bot_comments(emulator, repo, number))
    [comment] = bot_comments(emulator, repo, number)
    body = comment["body"]
    assert body.startswith(MARKER) and body.count(MARKER) == 1
    assert f"`{first[:12]}`: **pass**" in body and "#### Metrics" in body
    assert '```mermaid\nxychart-beta\n    title "training loss"' in body  # drawn by the App
    assert "@acme/admins" not in body and "<!-- forkvet:train-check -->" not in body[1:]
    assert f"](https://github.com/acme/deepnet/actions/runs/{run1['id']}/artifacts/" in body
    assert f"no regression vs `{base[:7]}`" in body
    assert human["_edits"] == 0 and human["body"].endswith("mine, not forkvet's")

    # the next commit of the pull request: the same comment, updated in place
    second = emulator.commit(repo, "feature", {"train.py": "# lr typo\n"}, "lr")
    fold(client, emulator, pr_run(emulator, repo, second, number, with_metrics(curve(1.3), 0.5)))
    wait_for(lambda: second[:12] in bot_comments(emulator, repo, number)[0]["body"])
    [again] = bot_comments(emulator, repo, number)
    assert again["id"] == comment["id"] and again["_edits"] == 1
    assert f"**regressed** vs `{base[:7]}`" in again["body"] and human["_edits"] == 0

    # the report issue's runs table grew by one row per commit, newest first
    table = repo.issues[0]["body"].split("### Training over commits", 1)[1]
    assert "| train loss | val loss | best metric |" in table
    rows = [table.index(f"| `{sha[:7]}` |") for sha in (second, first, base)]
    assert rows == sorted(rows)
    assert "64%" in table and "0.91" in table and "@acme/admins" not in table

    # a locked pull request refuses the edit: the job still ends, with one more check run
    # (a retried job would add a second one)
    third = emulator.commit(repo, "feature", {"train.py": "# warmup\n"}, "warmup")
    emulator.fail_next("PATCH", r"/issues/comments/\d+$", 403)
    gpu_checks = sum(r["name"] == "forkvet GPU" for r in repo.check_runs)
    fold(client, emulator, pr_run(emulator, repo, third, number, with_metrics(curve(0.4), 0.9)))
    store = Store(settings.db)
    wait_for(lambda: any(m == "PATCH" and s == 403 for m, _p, s in emulator.calls))
    wait_for(lambda: set(store.counts()) == {"done"})
    assert sum(r["name"] == "forkvet GPU" for r in repo.check_runs) == gpu_checks + 1
    assert third[:12] not in bot_comments(emulator, repo, number)[0]["body"]

    # a pull request from another fork: its run never counts, so no comment
    other = emulator.add_repo("mallory", "deepnet", FORK_FILES)
    fork_run = emulator.add_workflow_run(
        repo,
        second,
        event="pull_request",
        head_repo=other,
        artifacts={"forkvet-runtime": artifact(curve(0.1))},
    )
    fork_run["pull_requests"] = [pull_minimal(emulator, number, second, other, repo)]
    # and the fork's own push whose run names that other fork's pull request
    push_run = emulator.add_workflow_run(repo, second, branch="feature")
    push_run["pull_requests"] = [pull_minimal(emulator, number, second, other, repo)]
    for run in (fork_run, push_run):
        payload = adapt(example("workflow_run", "completed"), "acme", "deepnet")
        payload["workflow_run"] = run
        payload["repository"]["id"] = repo.id
        assert post(client, payload, "workflow_run").get_json()["jobs"] == 0
    assert len(repo.comments) == 2 and again["_edits"] == 1


def test_only_pull_requests_between_the_forks_own_branches_are_kept() -> None:
    from bot.handlers.workflow_run import own_pulls

    def pr(number: Any, head: Any = 7, base: Any = 7) -> dict[str, Any]:
        return {"number": number, "head": {"repo": {"id": head}}, "base": {"repo": {"id": base}}}

    assert own_pulls({"pull_requests": []}, 7) == []
    assert own_pulls({"pull_requests": [pr(3), pr(5)]}, 7) == [3, 5]
    for bad in (
        [pr(3, head=8)],  # from another fork
        [pr(3), pr(4, base=8)],  # one of them into another repository
        [pr(True)],
        [pr("3")],
        [{"number": 3}],  # repositories not named: cannot be told
        [{"number": 3, "head": "x", "base": []}],
        "not a list",
    ):
        assert own_pulls({"pull_requests": bad}, 7) is None, bad


def test_the_comment_and_the_table_say_slower_when_only_speed_fell() -> None:
    from bot.tracking import pr_comment, row_of, trend_table

    entry = {
        "sha": "c" * 40,
        "created": 100.0,
        "verdict": "pass",
        "final_loss": 0.5,
        "regression": True,
        "slower_only": True,
        "baseline_sha": "d" * 40,
        "reasons": ["training is slower: 6 vs 10 steps/s (-40%, tolerance 20%)"],
    }
    body = pr_comment("c" * 40, "success", ("logs", None), curve(0.5), entry, 1)
    assert "**slower** vs `ddddddd`" in body and "regressed" not in body
    # an entry stored before the runs table existed (no `row`) still gives its row
    assert row_of(entry).train_loss == 0.5 and row_of(entry).vs_baseline == "slower"
    assert "**slower** vs `ddddddd`" in trend_table([entry])


def test_the_result_cannot_claim_a_regression_or_a_verdict_of_its_own(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    """Round 5's F5: the fork's code writes train.json, so its `baseline` object and its
    `verdict` are claims. The report issue's `vs baseline` is the App's own comparison only
    (none here: no earlier result of the default branch), and a verdict that is not one of
    train-check's own shows as `unknown`."""
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    base = merge_setup_workflow(emulator, repo)
    subprocess.run(
        ["git", "--git-dir", str(repo.bare), "update-ref", "refs/heads/feature", base], check=True
    )
    number = open_pull(emulator, repo)
    sha = emulator.commit(repo, "feature", {"train.py": "# spoof\n"}, "spoof")
    spoof = {
        **curve(0.5),
        "verdict": "pass ## all clear, approved by maintainers",
        "baseline": {"regression": True, "baseline": "deadbeef"},
    }
    fold(client, emulator, pr_run(emulator, repo, sha, number, spoof))
    wait_for(lambda: bot_comments(emulator, repo, number))
    table = repo.issues[0]["body"].split("### Training over commits", 1)[1]
    row = next(line for line in table.splitlines() if sha[:7] in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "unknown" and cells[-1] == "—"
    assert "regressed" not in table and "deadbeef" not in table and "all clear" not in table
    [comment] = bot_comments(emulator, repo, number)
    assert f"`{sha[:12]}`: **unknown**" in comment["body"] and "all clear" not in comment["body"]
    stored = Store(settings.db).train_results("acme/deepnet")[0]
    assert stored["verdict"] == "unknown" and stored["result"]["verdict"] == "unknown"
