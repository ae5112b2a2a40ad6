"""The composite actions and the workflow template, run as the Actions runner runs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
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
            assert re.fullmatch(r"[\w-]+/[\w-]+(/[\w-]+)*@[0-9a-f]{40}", step["uses"]), step["uses"]
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


def test_vet_action_writes_sarif_and_uploads_it_with_a_pinned_action(tmp_path: Path) -> None:
    outputs, _, procs = run_action(
        ACTIONS[0], {"path": str(ROOT / "examples" / "tiny-model"), "sarif": "true"}, ROOT, tmp_path
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    log = json.loads(Path(outputs["sarif"]).read_text())
    assert log["version"] == "2.1.0" and log["runs"][0]["tool"]["driver"]["name"] == "forkvet"
    spec = yaml.safe_load(ACTIONS[0].read_text())
    (upload,) = [s for s in spec["runs"]["steps"] if "upload-sarif" in s.get("uses", "")]
    assert upload["if"] == "inputs.sarif == 'true'"
    assert upload["with"]["sarif_file"] == "${{ steps.vet.outputs.sarif }}"
    # off by default: no SARIF file, no upload
    (tmp_path / "off").mkdir()
    outputs, _, _ = run_action(
        ACTIONS[0], {"path": str(ROOT / "examples" / "tiny-model")}, ROOT, tmp_path / "off"
    )
    assert outputs["sarif"] == ""


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
    # read-only everywhere; the GPU job may also read earlier runs' artifacts (its baseline);
    # the vet job may write code scanning alerts (SARIF), nothing else
    vet = wf["jobs"]["vet"]
    assert vet["permissions"] == {"contents": "read", "security-events": "write"}
    assert gpu["permissions"] == {"contents": "read", "actions": "read"}
    (vet_step,) = [s for s in vet["steps"] if s.get("id") == "vet"]
    assert "head.repo.full_name == github.repository" in vet_step["with"]["sarif"]
    for name, job in wf["jobs"].items():
        perms = {k: v for k, v in job["permissions"].items() if k != "security-events"}
        assert job["timeout-minutes"] and set(perms.values()) == {"read"}
        assert name == "vet" or "security-events" not in job["permissions"]
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


FAKE_UV = r"""#!/usr/bin/env bash
# uv as install.sh calls it: records each call and its settings, lays out a venv.
echo "$* | link=$UV_LINK_MODE cache=$UV_CACHE_DIR" >> "$FAKE_UV_LOG"
if [ "$1" = venv ]; then
  venv="${@: -1}"
  mkdir -p "$venv/bin" "$venv/lib/site-packages"
  printf '#!/bin/sh\n' > "$venv/bin/python"; chmod +x "$venv/bin/python"
  ln -s python "$venv/bin/python3"
elif [ "$1" = pip ]; then
  for a in "$@"; do case "$a" in */bin/python) venv="${a%/bin/python}";; esac; done
  mkdir -p "$venv/lib/site-packages/forkvet"
  echo "VERSION = 1" > "$venv/lib/site-packages/forkvet/__init__.py"
  printf '#!/bin/sh\necho forkvet\n' > "$venv/bin/forkvet"; chmod +x "$venv/bin/forkvet"
fi
"""


def test_install_reuses_forkvets_venv_only_when_every_file_is_as_installed(
    tmp_path: Path,
) -> None:
    """A later step runs forkvet from this venv with the step's secrets: a .pth, a changed
    file or a replaced link left by the repository's code means a fresh install."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "uv").write_text(FAKE_UV)
    (bindir / "uv").chmod(0o755)
    temp = tmp_path / "runner"
    temp.mkdir()
    log = tmp_path / "uv.log"
    env = {
        "PATH": f"{bindir}:/usr/bin:/bin",
        "RUNNER_TEMP": str(temp),
        "RUNNER_TOOL_CACHE": str(tmp_path / "tools"),
        "GITHUB_PATH": str(temp / "add_path"),
        "FAKE_UV_LOG": str(log),
    }

    def install() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(ROOT / "actions" / "install.sh")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def calls() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    first = install()
    assert first.returncode == 0, first.stderr
    assert len(calls()) == 2 and "::warning" not in first.stdout
    # copied, not hard-linked, from forkvet's own cache in the tool folder; byte code compiled
    assert all(f"link=copy cache={tmp_path}/tools/forkvet-uv-cache" in c for c in calls())
    assert "--compile-bytecode" in calls()[1]
    assert (temp / "add_path").read_text() == f"{temp}/forkvet-venv/bin\n"
    again = install()
    assert again.returncode == 0 and len(calls()) == 2, again.stdout  # reused as it is
    venv = temp / "forkvet-venv"
    site = venv / "lib" / "site-packages"

    def pth() -> None:
        (site / "evil.pth").write_text("import os; os.system('id')\n")

    def edit() -> None:
        (site / "forkvet" / "__init__.py").write_text("VERSION = 2\n")

    def relink() -> None:
        (venv / "bin" / "python3").unlink()
        (venv / "bin" / "python3").symlink_to("/x")

    def folder() -> None:
        (site / "forkvet" / "__pycache__").mkdir()

    tamper: list[Callable[[], None]] = [pth, edit, relink, folder]
    for i, change in enumerate(tamper):
        change()
        proc = install()
        assert proc.returncode == 0, proc.stderr
        assert "::warning title=forkvet::forkvet's environment changed" in proc.stdout, i
        assert len(calls()) == 2 * (i + 2), i
        assert not (site / "evil.pth").exists()
        assert (site / "forkvet" / "__init__.py").read_text() == "VERSION = 1\n"
        assert os.readlink(venv / "bin" / "python3") == "python"


# The attack of issue 17 through the Action: the command writes every runner file it can
# name, for later steps (BASH_ENV, PATH, a forged verdict, a summary), then fails.
HOSTILE = r"""
import os, sys
for name, line in [
    ("GITHUB_ENV", "BASH_ENV=/tmp/pwn.sh"),
    ("GITHUB_PATH", "/tmp/pwn-bin"),
    ("GITHUB_OUTPUT", "smoke-verdict=pass"),
    ("GITHUB_STEP_SUMMARY", "PWNED summary"),
]:
    for path in sys.argv[1:]:
        try:
            with open(path, "a") as fh:
                fh.write(line + "\n")
            print("WROTE", path)
        except OSError as exc:
            print("refused", exc.strerror)
sys.exit(1)
"""


def test_smoke_action_the_command_cannot_write_the_runners_files(tmp_path: Path) -> None:
    from forkvet.runtime.sandbox import probe

    if not probe().ok:
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "demo.py").write_text(HOSTILE)
    temp = tmp_path / "runner"
    temp.mkdir()
    # the runner's files of every step (action_runner's layout): named on the command line
    targets = ["set_env", "add_path", "summary.md", *[f"out-{i}" for i in range(3)]]
    command = "python demo.py " + " ".join(str(temp / t) for t in targets)
    action = ROOT / "actions" / "smoke-test" / "action.yml"
    outputs, summary, procs = run_action(
        action, {"command": command, "python": sys.executable}, repo, temp
    )
    assert outputs["verdict"] == "fail", [p.stderr for p in procs]
    # (under /tmp, as here, a write may land in the sandbox's private /tmp: never on the host)
    for name in targets:
        text = (temp / name).read_text() if (temp / name).exists() else ""
        assert "BASH_ENV" not in text and "pwn-bin" not in text and "PWNED" not in text, name
    assert (temp / "set_env").read_text() == "" and (temp / "add_path").read_text() == ""
    assert "PWNED" not in summary


def test_smoke_action_fails_closed_without_a_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "demo.py").write_text("print('ran')\n")
    monkeypatch.setenv("FORKVET_NO_SANDBOX", "1")  # as on a runner without bubblewrap
    action = ROOT / "actions" / "smoke-test" / "action.yml"
    inputs = {"command": "python demo.py", "python": sys.executable}
    temp = tmp_path / "runner"
    temp.mkdir()
    outputs, _, procs = run_action(action, inputs, repo, temp)
    said = procs[-1].stdout + procs[-1].stderr  # forkvet's stderr is on stdout (`2>&1`)
    assert procs[-1].returncode != 0 and outputs["verdict"] == "", said  # failed
    assert "without a sandbox" in said and "allow-unsandboxed" in said
    temp2 = tmp_path / "runner2"
    temp2.mkdir()
    opted, _, procs = run_action(action, {**inputs, "allow-unsandboxed": "true"}, repo, temp2)
    assert opted["verdict"] == "pass", [p.stderr for p in procs]
    assert json.loads(Path(opted["result"]).read_text())["isolation"] == "none"


def test_smoke_action_runs_the_code_without_network_when_asked(tmp_path: Path) -> None:
    """network: none reaches the command as its own network namespace (no loopback server
    answers); anything else than shared or none is refused before forkvet runs."""
    from forkvet.runtime.sandbox import probe

    if not probe().ok:
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "demo.py").write_text(
        "import socket\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
        "    print('REACHED')\nexcept OSError as e:\n    print('CUT', e)\n"
    )
    action = ROOT / "actions" / "smoke-test" / "action.yml"
    base = {"command": "python demo.py", "python": sys.executable}
    try:
        for network, word in (("shared", "REACHED"), ("none", "CUT")):
            temp = tmp_path / f"runner-{network}"
            temp.mkdir()
            outputs, _, procs = run_action(action, {**base, "network": network}, repo, temp)
            result = json.loads(Path(outputs["result"]).read_text())
            assert any(word in line for line in result["tail"]), (network, result["tail"])
        temp = tmp_path / "runner-bad"
        temp.mkdir()
        _, _, procs = run_action(action, {**base, "network": "off"}, repo, temp)
        assert procs[-1].returncode == 2 and "shared or none" in procs[-1].stdout + procs[-1].stderr
    finally:
        server.close()


def test_every_action_pins_uv_itself_and_reads_no_repository_file_for_it() -> None:
    """Round 13b F5: setup-uv without `version:` reads `required-version` from uv.toml or
    pyproject.toml in the workspace, the fork's checkout: the fork chose the uv release."""
    import yaml

    root = Path(__file__).resolve().parent.parent
    files = [root / "action.yml", *sorted((root / "actions").glob("*/action.yml"))]
    pinned = set()
    for path in files:
        for step in yaml.safe_load(path.read_text())["runs"]["steps"]:
            if str(step.get("uses", "")).startswith("astral-sh/setup-uv@"):
                given = step.get("with") or {}
                assert re.fullmatch(r"\d+\.\d+\.\d+", str(given.get("version"))), path
                assert given.get("working-directory") == "${{ github.action_path }}", path
                pinned.add(str(given["version"]))
    assert len(pinned) == 1  # one uv for every action
