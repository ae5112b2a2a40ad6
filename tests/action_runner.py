"""Run a composite action's `run:` steps the way the Actions runner does, on this machine.

Inputs are substituted into `${{ inputs.* }}`, step outputs flow through GITHUB_OUTPUT files
into `${{ steps.*.outputs.* }}`, and the action's declared outputs are evaluated at the end.
`uses:` steps (setup-uv) and the install step are replaced by the test environment, where
forkvet is already installed. This tests the real shell in action.yml, not a copy of it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _read_outputs(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
            continue
        name, _, value = line.partition("=")
        out[name] = value
        i += 1
    return out


def run_action(
    action_yml: Path, inputs: dict[str, str], workdir: Path, temp: Path
) -> tuple[dict[str, str], str, list[subprocess.CompletedProcess[str]]]:
    spec: dict[str, Any] = yaml.safe_load(action_yml.read_text())
    values = {k: str(v.get("default", "")) for k, v in (spec.get("inputs") or {}).items()}
    values.update(inputs)
    steps_out: dict[str, dict[str, str]] = {}
    summary = temp / "summary.md"
    summary.touch()
    # The runner's other workflow-command files: what a step writes there changes later steps.
    runner_files = {"GITHUB_ENV": temp / "set_env", "GITHUB_PATH": temp / "add_path"}
    for path in runner_files.values():
        path.touch()
    bindir = str(Path(sys.executable).parent)

    def expr(m: re.Match[str]) -> str:
        key = m.group(1)
        if key.startswith("inputs."):
            return values.get(key[len("inputs.") :], "")
        parts = key.split(".")
        if parts[0] == "steps" and parts[2] == "outputs":
            return steps_out.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"unsupported expression {key}")

    procs = []
    for step in spec["runs"]["steps"]:
        if "uses" in step or "install.sh" in step.get("run", ""):
            continue
        output = temp / f"out-{len(procs)}"
        output.touch()
        env = {
            **os.environ,
            "PATH": bindir + os.pathsep + os.environ["PATH"],
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            **{name: str(path) for name, path in runner_files.items()},
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(temp),
            "GITHUB_ACTION_PATH": str(action_yml.parent),
            # what the skipped install.sh writes to GITHUB_ENV: forkvet by its absolute path
            "FORKVET_PROGRAM": str(Path(bindir) / "forkvet"),
        }
        for k, v in (step.get("env") or {}).items():
            env[k] = _EXPR.sub(expr, str(v))
        assert "${{" not in step["run"], "untrusted values must reach run: through env:"
        (temp / "forkvet").mkdir(exist_ok=True)
        proc = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        procs.append(proc)
        if "id" in step:
            steps_out[step["id"]] = _read_outputs(output)
        if proc.returncode != 0:
            break
    outputs = {k: _EXPR.sub(expr, str(v["value"])) for k, v in (spec.get("outputs") or {}).items()}
    return outputs, summary.read_text(), procs
