"""The composite actions and the workflow template, run as the Actions runner runs them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.action_runner import run_action
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_actions_are_composite_with_documented_inputs_and_outputs(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    assert spec["runs"]["using"] == "composite"  # Docker actions cannot see the GPU
    for section in ("inputs", "outputs"):
        for name, item in spec[section].items():
            assert item.get("description"), f"{path}: {section}.{name} has no description"
    for step in spec["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        else:
            assert "${{" not in step["run"], "expressions must reach run: through env:"


def test_vet_action_on_the_example_repository(tmp_path: Path) -> None:
    outputs, summary, procs = run_action(
        ACTIONS[0], {"path": str(ROOT / "examples" / "tiny-model")}, ROOT, tmp_path
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    assert outputs["verdict"] == "pass" and outputs["license"] == "MIT"
    assert outputs["commercial-use"] == "true"
    assert Path(outputs["report"]).is_file()
    assert summary.startswith("✅ **forkvet**")


def test_vet_action_fails_the_step_on_policy_violation(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "m.py").write_text("import torch\n")
    policy = tmp_path / "policy.yml"
    policy.write_text("license:\n  require_commercial_use: true\n")
    temp = tmp_path / "runner"
    temp.mkdir()
    outputs, _, procs = run_action(
        ACTIONS[0], {"path": str(repo), "config": str(policy)}, repo, temp
    )
    assert procs[-1].returncode == 1 and "::error" in procs[-1].stdout
    assert outputs["verdict"] == "fail" and outputs["license"] == "none"


def test_train_check_action_with_real_training(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(DATA / "runtime" / "train_tiny.py", repo / "train.py")
    temp = tmp_path / "runner"
    temp.mkdir()
    action = ROOT / "actions" / "train-check" / "action.yml"
    outputs, summary, procs = run_action(
        action, {"command": "python train.py", "python": sys.executable}, repo, temp
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    assert outputs["verdict"] == "pass" and Path(outputs["plot"]).is_file()
    assert "xychart-beta" in summary


def test_smoke_action_reports_a_failure_as_an_annotation(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "demo.py").write_text("import missing_pkg_qq\n")
    temp = tmp_path / "runner"
    temp.mkdir()
    action = ROOT / "actions" / "smoke-test" / "action.yml"
    outputs, summary, procs = run_action(
        action, {"command": "python demo.py", "python": sys.executable}, repo, temp
    )
    assert outputs["verdict"] == "fail" and procs[-1].returncode == 1
    assert "::error title=forkvet smoke test failed::" in procs[-1].stdout
    assert "missing module 'missing_pkg_qq'" in summary


def test_workflow_template_guards_the_self_hosted_runner() -> None:
    wf = yaml.safe_load((ROOT / "workflows" / "forkvet.yml").read_text())
    assert wf["permissions"] == {}
    assert "pull_request_target" not in wf[True]  # PyYAML reads `on:` as True
    gpu = wf["jobs"]["gpu"]
    assert gpu["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert "head.repo.full_name == github.repository" in gpu["if"]
    # read-only everywhere; the GPU job may also read earlier runs' artifacts (its baseline)
    assert wf["jobs"]["vet"]["permissions"] == {"contents": "read"}
    assert gpu["permissions"] == {"contents": "read", "actions": "read"}
    for job in wf["jobs"].values():
        assert job["timeout-minutes"] and set(job["permissions"].values()) == {"read"}
        for step in job["steps"]:
            if "uses" in step:
                assert re.search(r"@[0-9a-f]{40}$", step["uses"])
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False


def test_zizmor_reports_nothing() -> None:
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(zizmor).exists():
        pytest.skip("zizmor is not installed")
    files = [
        "workflows/forkvet.yml",
        "action.yml",
        *[str(p.relative_to(ROOT)) for p in ACTIONS[1:]],
    ]
    proc = subprocess.run(
        [zizmor, "--offline", "--no-progress", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_env_action_offline(tmp_path: Path) -> None:
    action = ROOT / "actions" / "env" / "action.yml"
    outputs, summary, procs = run_action(
        action,
        {
            "path": str(ROOT / "examples" / "tiny-model"),
            "offline": "true",
            "out": str(tmp_path / "env"),
        },
        ROOT,
        tmp_path,
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    # offline gives names and the authors' ranges, no versions: not a complete environment
    assert outputs["complete"] == "false" and outputs["python"].startswith("3.")
    assert "torch>=1.13" in Path(outputs["requirements"]).read_text()
    assert summary.startswith("### forkvet environment")


def test_train_check_action_compares_with_a_baseline(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    good = "".join(f"step {i} loss: {2.0 * 0.95**i + 0.3:.4f}\n" for i in range(1, 61))
    worse = "".join(f"step {i} loss: {2.0 * 0.99**i + 0.9:.4f}\n" for i in range(1, 61))
    (repo / "good.log").write_text(good)
    (repo / "worse.log").write_text(worse)
    temp = tmp_path / "runner"
    temp.mkdir()
    action = ROOT / "actions" / "train-check" / "action.yml"
    first, _, _ = run_action(action, {"log": str(repo / "good.log")}, repo, temp)
    baseline = tmp_path / "baseline.json"
    shutil.copy(first["result"], baseline)
    temp2 = tmp_path / "runner2"
    temp2.mkdir()
    outputs, summary, procs = run_action(
        action, {"log": str(repo / "worse.log"), "baseline": str(baseline)}, repo, temp2
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    result = json.loads(Path(outputs["result"]).read_text())
    assert result["baseline"]["regression"] is True
    assert "**Regressed** against the baseline" in summary
