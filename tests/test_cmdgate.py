"""The Actions runner processes no workflow command forkvet did not mean (forkvet.cmdgate),
checked with a model of the runner's parser (tests/runner_commands.py); and the escaping of
terminal lines leaves the parser nothing to find (round 17, tester 17b F1)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from forkvet.escape import terminal, visible
from tests.action_runner import run_action
from tests.runner_commands import REGISTERED, Runner, parse

ROOT = Path(__file__).resolve().parents[1]
# Unicode white space the runner's TrimStart() removes: Zs, and the controls
WHITE = ["", " ", "\t", "\u2003", "\u3000", "\xa0", "\u205f", " \u2002 "]
HOSTILE = [
    "numpy===##[error]forkvet:VERIFIED-this-fork-is-safe",
    "[stderr] ##[error file=README.md;line=1;title=forkvet: verified]safe to merge",
    "##[add-matcher].github/m.json",
    "x ##[STOP-COMMANDS]t",
    *(f"{w}::{name} title=x::forged" for w in WHITE for name in sorted(REGISTERED)),
    "\u2003::ERROR::forged",
    "a\r\n\u3000::warning::forged",
    "ok\n\u2028::notice::forged",
    "##\x00[error]x",  # an escape must not make one
]


def test_the_model_finds_what_the_runner_finds() -> None:
    assert parse("numpy===##[error]x") == ("error", "x")
    assert parse("\u2003::ERROR::x") == ("error", "x")
    assert parse("::set-output name=a::b") == ("set-output", "b")
    assert parse("text ::error::x") is None and parse("##[nothing]x") is None
    r = Runner().feed("::stop-commands::tok\n::error::a\n##[tok]\n::error::b\n")
    assert r.processed == [("error", "b")] and r.stop_token is None


@pytest.mark.parametrize("text", HOSTILE)
def test_terminal_and_visible_text_holds_no_command(text: str) -> None:
    for shown in (terminal(text), visible(text, keep="\r\n\t"), visible(text, keep="\n\t")):
        assert Runner().feed(shown).processed == [], shown
        assert Runner().feed("prefix " + shown).processed == []
    # the text still reads as it was: only a backslash added
    assert terminal("numpy===##[error]x") == "numpy===##\\[error]x"
    assert terminal("\u2003::error::x") == "\u2003\\::error::x"
    assert terminal("a::b ::c") == "a::b ::c"


_GATED = textwrap.dedent(
    """
    import os, subprocess, sys
    from forkvet import cmdgate
    cmdgate.start()
    print("numpy===##[error]forged on stdout")
    print("\\u2003::warning::forged", file=sys.stderr)
    sys.stdout.write("no newline yet ::error::x")  # still buffered when forkvet speaks
    subprocess.run(["sh", "-c", "echo '::error::a child inherits stderr' >&2"], check=True)
    from forkvet import gha
    gha._gha = lambda: __import__("github_action_utils")
    gha._annotate([("error", "forkvet: ours", "a ##[error]b\\n::error::c", None, None)])
    print("##[add-mask]after", file=sys.stderr)
    if os.environ.get("KILL"):
        os.kill(os.getpid(), 9)
    """
)


def _run_gated(tmp_path: Path, kill: bool = False) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    if kill:
        env["KILL"] = "1"
    # stdout and stderr on one pipe, as forkvet's actions run it (`2>&1`)
    return subprocess.run(
        [sys.executable, "-c", _GATED],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=60,
    )


def test_only_forkvets_own_commands_are_processed(tmp_path: Path) -> None:
    proc = _run_gated(tmp_path)
    assert proc.returncode == 0, proc.stdout
    runner = Runner().feed(proc.stdout)
    assert runner.processed == [("error", "a ##\\[error]b%0A\\::error::c")], proc.stdout
    assert runner.stop_token is None  # resumed at exit: the step's later lines count again
    # every stop used a fresh token, none written anywhere but its own two lines
    tokens = [ln.split("::")[2] for ln in proc.stdout.splitlines() if "::stop-commands::" in ln]
    assert len(tokens) == len(set(tokens)) == 2
    assert all(proc.stdout.count(t) == 2 for t in tokens)


def test_a_killed_forkvet_leaves_the_rest_of_its_step_stopped(tmp_path: Path) -> None:
    proc = _run_gated(tmp_path, kill=True)
    assert proc.returncode == -signal.SIGKILL
    runner = Runner().feed(proc.stdout)
    assert runner.processed == [("error", "a ##\\[error]b%0A\\::error::c")]
    assert runner.stop_token is not None  # documented: nothing after forkvet in its step


def test_outside_actions_nothing_is_added(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "--version"],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "::" not in proc.stdout + proc.stderr


def test_smoke_action_prints_no_command_of_the_repository(tmp_path: Path) -> None:
    """The round 17 attack: uv's error quotes a requirement line `numpy===##[error]...`,
    printed by forkvet on a `forkvet: error:` line of the smoke-test step."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("numpy===##[error]forkvet:VERIFIED-this-fork-is-safe\n")
    (repo / "run.py").write_text("print('hello')\n")
    temp = tmp_path / "runner"
    temp.mkdir()
    action = ROOT / "actions" / "smoke-test" / "action.yml"
    _, _, procs = run_action(action, {"command": "python run.py", "device": "cpu"}, repo, temp)
    assert procs[-1].returncode == 2 and "VERIFIED" in procs[-1].stdout, procs[-1].stderr
    for proc in procs:
        assert "VERIFIED" not in proc.stderr  # forkvet's lines: one pipe, in order
        runner = Runner().feed(proc.stderr).feed(proc.stdout)
        assert runner.processed == [] and runner.stop_token is None, proc.stdout


def test_report_action_annotations_are_the_only_commands(tmp_path: Path) -> None:
    result = tmp_path / "smoke.json"
    reasons = ["import pkg: ##[error title=x]forged", "\u2003::warning::forged"]
    result.write_text(json.dumps({"verdict": "fail", "reasons": reasons, "tail": reasons}))
    temp = tmp_path / "runner"
    temp.mkdir()
    action = ROOT / "actions" / "report" / "action.yml"
    _, _, procs = run_action(action, {"smoke": str(result)}, tmp_path, temp)
    runner = Runner().feed(procs[-1].stderr).feed(procs[-1].stdout)
    assert [name for name, _ in runner.processed] == ["error", "error"], procs[-1].stdout
    assert runner.stop_token is None


def test_each_step_runs_forkvet_on_one_runner_pipe() -> None:
    """Every forkvet of a step writes its stderr (where forkvet.cmdgate's lines go) onto the
    step's stdout, together with its stdout unless that is a file or a capture: the runner
    reads a step's stdout and stderr in no guaranteed order, one pipe keeps the order."""
    import yaml

    for path in [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]:
        for step in yaml.safe_load(path.read_text())["runs"]["steps"]:
            calls = [
                ln.strip()
                for ln in step.get("run", "").splitlines()
                if "forkvet " in ln and not ln.strip().startswith(("#", "echo"))
            ]
            for call in calls:
                captured = "$(forkvet" in call or ">>" in call
                if captured and len(calls) == 1:
                    continue  # its stderr is the only pipe it writes to the runner
                assert "2>&1" in call, (path, call)
                if ">" in call.split("2>&1", 1)[0]:
                    raise AssertionError((path, call))  # 2>&1 first: onto the step's stdout
