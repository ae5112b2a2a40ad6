"""Runtime isolation: what the repository's code can reach when forkvet runs it.

forkvet runs as its own process here (as on a runner), with secrets in the environment it was
started with; the repository's code tries what a hostile fork would try.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from forkvet.runtime.process import scrubbed_env
from forkvet.runtime.sandbox import available
from tests.conftest import MakeRepo

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

# Walks up from its parent, reading every ancestor's /proc/<pid>/environ it can read.
READER = r"""
import json, os, sys
planted = sys.argv[1]
pid, seen = os.getppid(), []
while pid > 1:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read()
        seen.append({"pid": pid, "bytes": len(env.strip(b"\0")), "found": planted.encode() in env})
    except OSError as exc:
        seen.append({"pid": pid, "error": exc.strerror})
    with open(f"/proc/{pid}/stat") as fh:
        stat = fh.read()
    pid = int(stat[stat.rindex(")") + 2 :].split()[1])
print("ANCESTORS " + json.dumps(seen))
"""

# Double fork + setsid: the grandchild leaves the process group and is orphaned.
ESCAPER = r"""
import os, sys, time
marker = sys.argv[1]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", marker])
    os._exit(0)
print("started", flush=True)
time.sleep(float(sys.argv[2]))
"""


def forkvet(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forkvet", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def smoke(repo: Path, cmd: str, tmp_path: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    """`forkvet smoke --format json` of one command, as a user runs it."""
    args = [
        "smoke",
        str(repo),
        "--python",
        sys.executable,
        "--no-import-check",
        "--format",
        "json",
        "--out",
        str(tmp_path / "o"),
        "--cmd",
        cmd,
        *extra,
    ]
    return dict(json.loads(forkvet(args, env, tmp_path).stdout))


def alive(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text()
        except OSError:
            continue
        if marker.encode() in cmdline and state[state.rindex(")") + 2] != "Z":
            found.append(entry.name)
    return found


@pytest.mark.parametrize("sandbox", ["namespace", "off"])
def test_child_cannot_read_forkvets_environment_through_proc(
    make_repo: MakeRepo, tmp_path: Path, sandbox: str
) -> None:
    """Two layers, each tested alone: the PID namespace (ancestors invisible), and without it
    forkvet's own wiped, non-dumpable environment."""
    if sandbox == "namespace" and not available():
        pytest.skip("this machine cannot start a PID namespace")
    planted = f"ghp_planted{uuid.uuid4().hex}"
    repo = make_repo({"reader.py": READER})
    data = smoke(
        repo,
        f"python reader.py {planted}",
        tmp_path,
        {
            "GH_PAT": planted,
            "DATABASE_URL": f"postgres://u:{planted}@db/x",
            **({"FORKVET_NO_SANDBOX": "1"} if sandbox == "off" else {}),
        },
    )
    line = next(t for t in data["tail"] if t.startswith("ANCESTORS "))
    ancestors = json.loads(line[len("ANCESTORS ") :])
    if sandbox == "namespace":
        # its own PID namespace: the command is process 1 there, no ancestor to read at all
        assert data["isolation"] == "namespace" and ancestors == [], ancestors
        return
    assert data["isolation"] == "process"
    assert ancestors, data["tail"]
    assert not any(a.get("found") for a in ancestors), ancestors
    # Not vacuous: the reader reached forkvet's own process (the shell's parent), and what
    # /proc shows of forkvet's environment is empty (wiped) or unreadable (not dumpable).
    shell, me = ancestors[0], ancestors[1]
    assert "bytes" in shell and shell["bytes"] > 0  # the shell's scrubbed environment
    assert me.get("bytes", 0) == 0 or "error" in me, me


def test_a_setsid_grandchild_is_killed_at_the_timeout(make_repo: MakeRepo, tmp_path: Path) -> None:
    marker = f"forkvet-escape-{uuid.uuid4().hex}"
    repo = make_repo({"escape.py": ESCAPER})
    data = smoke(repo, f"python escape.py {marker} 300", tmp_path, {}, "--timeout", "3")
    assert data["timed_out"] is True and "started" in data["tail"]
    assert alive(marker) == []


def test_a_daemon_left_by_a_finished_command_is_killed(make_repo: MakeRepo, tmp_path: Path) -> None:
    marker = f"forkvet-daemon-{uuid.uuid4().hex}"
    repo = make_repo({"escape.py": ESCAPER})
    data = smoke(repo, f"python escape.py {marker} 0.5", tmp_path, {})
    assert data["verdict"] == "pass" and data["exit_code"] == 0
    assert alive(marker) == []


SECRETS = {
    "GITHUB_TOKEN": "ghs_x",
    "GH_PAT": "ghp_x",
    "MY_ORG_PAT": "x",
    "KAGGLE_KEY": "x",
    "KAGGLE_USERNAME": "someone",
    "OPENAI_KEY": "x",
    "DATABASE_URL": "postgres://app:hunter2@db.internal/prod",
    "CACHE_BACKEND": "redis://:hunter2@cache.internal:6379/0",
    "NETRC": "/home/runner/.netrc",
    "GOOGLE_CREDENTIALS": "{}",
    "DOCKER_AUTH_CONFIG": "{}",
    "X_AUTHORIZATION": "Bearer x",
    "AZURE_CLIENT_SECRET": "x",
    "GOOGLE_CLOUD_PROJECT": "p",
    "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": "/t",
    "HF_TOKEN": "hf_x",
}
RUNNER_FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
KEPT = {
    "CUDA_VISIBLE_DEVICES": "0",
    "HOME": "/root",
    "PUBLIC_URL": "https://example.org/data",
    "KEYBOARD_LAYOUT": "us",
}


def test_secret_variables_are_scrubbed_and_kept_ones_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {**SECRETS, **KEPT}.items():
        monkeypatch.setenv(k, v)
    for k in RUNNER_FILES:
        monkeypatch.setenv(k, f"/runner/_temp/{k}")
    env = scrubbed_env()
    assert not set(SECRETS) & set(env), set(SECRETS) & set(env)
    assert not set(RUNNER_FILES) & set(env)
    for k, v in KEPT.items():
        assert env[k] == v
    # On purpose: the operator names what the repository's code may see.
    assert scrubbed_env(pass_env=["HF_TOKEN"])["HF_TOKEN"] == "hf_x"


def test_pass_env_from_the_operator_not_from_the_fork(make_repo: MakeRepo, tmp_path: Path) -> None:
    printer = "import os\nprint('HF', os.environ.get('HF_TOKEN'), 'GH', os.environ.get('GH_PAT'))\n"
    repo = make_repo(
        {
            "show.py": printer,
            # The fork asks for the runner's token in its own config: ignored.
            ".github/forkvet.yml": "runtime:\n  pass_env: [GH_PAT]\n",
        }
    )
    operator = tmp_path / "policy.yml"
    operator.write_text("runtime:\n  pass_env: [HF_TOKEN]\n")
    secrets = {"HF_TOKEN": "hf_gated", "GH_PAT": "ghp_runner"}
    plain = smoke(repo, "python show.py", tmp_path, secrets)
    assert plain["tail"] == ["HF None GH None"]
    flag = smoke(repo, "python show.py", tmp_path, secrets, "--pass-env", "HF_TOKEN")
    assert flag["tail"] == ["HF hf_gated GH None"]
    policy = smoke(repo, "python show.py", tmp_path, secrets, "--config", str(operator))
    assert policy["tail"] == ["HF hf_gated GH None"]
