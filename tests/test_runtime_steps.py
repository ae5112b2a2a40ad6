"""The small steps the runtime commands are made of, each on its own (issue 23)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from forkvet.errors import InputError
from forkvet.runtime import cli
from forkvet.runtime.smoke import SmokeResult


def test_smoke_and_train_check_share_the_result_options() -> None:
    parser = argparse.ArgumentParser()
    cli._result_options(parser, "where logs go")
    args = parser.parse_args(["--config", "p.yml", "--out", "o", "--format", "json", "-o", "r"])
    assert (args.config, args.out, args.format, args.output, args.github) == (
        "p.yml",
        "o",
        "json",
        "r",
        False,
    )
    assert "where logs go" in parser.format_help()


def test_register_adds_the_three_runtime_commands() -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    smoke = parser.parse_args(["smoke", "repo", "--timeout", "5", "--github"])
    assert (smoke.func, smoke.timeout, smoke.github) == (cli.cmd_smoke, 5.0, True)
    train = parser.parse_args(["train-check", "--max-steps", "0"])
    assert (train.func, train.target, train.max_steps, train.min_points) == (
        cli.cmd_train_check,
        None,
        0,
        8,
    )
    assert parser.parse_args(["notebooks", "repo"]).func is cli.cmd_notebooks


def test_a_missing_notebook_is_an_input_error(tmp_path: Path) -> None:
    assert cli._notebook_arg(None) is None
    nb = tmp_path / "demo.ipynb"
    nb.write_text("{}")
    assert cli._notebook_arg(str(nb)) == nb
    with pytest.raises(InputError, match=r"--notebook .*nope.ipynb: no such notebook"):
        cli._notebook_arg(str(tmp_path / "nope.ipynb"))


def test_smoke_summary_names_the_command_exit_imports_gpu_and_reasons() -> None:
    result = SmokeResult(
        "fail",
        ["import pkg.cuda: no GPU"],
        "python test.py",
        "README",
        {"modules": 4, "failures": [{"module": "pkg.cuda"}]},
        exit_code=1,
        duration=2.5,
        timed_out=True,
        gpu="H100",
        peak_gpu_memory_mib=1234.4,
    )
    assert cli.smoke_summary(result, "  env       /envs/x") == (
        "forkvet smoke: FAIL\n"
        "  env       /envs/x\n"
        "  command   python test.py (README)\n"
        "  exit      1 in 2.5 s (timed out)\n"
        "  imports   4 module(s), 1 failed\n"
        "  GPU       H100, peak 1234 MiB\n"
        "  - import pkg.cuda: no GPU\n"
    )
    notebook = SmokeResult("pass", [], None, "--notebook", None)
    assert cli.smoke_summary(notebook, "  env") == (
        "forkvet smoke: PASS\n  env\n  GPU       none visible\n"
    )


def test_import_reasons_are_the_first_ten_failures() -> None:
    from forkvet.runtime.imports import ImportCheck
    from forkvet.runtime.smoke import import_reasons

    failures = [{"module": f"m{i}", "reason": "boom"} for i in range(12)]
    reasons = import_reasons(ImportCheck(False, 12, failures))
    assert reasons[0] == "import m0: boom" and len(reasons) == 10
    assert import_reasons(None) == [] and import_reasons(ImportCheck(True, 3)) == []


def test_sandbox_steps_refuse_a_writable_root_and_hide_the_runner_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.runtime import sandbox

    with pytest.raises(InputError, match="is /: refusing to run"):
        sandbox._writable([tmp_path, "/"])
    assert sandbox._writable([tmp_path, tmp_path / "missing"]) == [str(tmp_path.resolve())]
    assert sandbox._child_environment(False) == [
        *("--setenv", "TMPDIR", "/tmp", "--unsetenv", "JPY_PARENT_PID")
    ]
    commands = tmp_path / "_runner_file_commands"
    commands.mkdir()
    (commands / "set_env").write_text("")
    loose = tmp_path / "output"
    loose.write_text("")
    monkeypatch.setenv("GITHUB_ENV", str(commands / "set_env"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(loose))
    folders = sandbox._command_folders()
    assert folders == {str(commands.resolve())}
    assert sandbox._empty_command_folders(folders) == [
        *("--size", str(64 << 10), "--tmpfs", str(commands.resolve())),
        *("--remount-ro", str(commands.resolve())),
    ]
    masks = sandbox._masks([], folders)  # the loose file is hidden one by one
    assert masks[-3:] == ["--ro-bind", "/dev/null", str(loose.resolve())]


def test_weigh_orders_the_rules_of_the_verdict() -> None:
    from forkvet.runtime.decide import weigh

    assert weigh(0.5, "decreasing", False, 0.1) == ("pass", None, None)
    verdict, lead, note = weigh(0.5, "no trend", True, 0.1)
    assert (verdict, lead) == ("pass", None) and note and note.startswith("converged early")
    assert weigh(0.5, "increasing", True, 0.1)[:2] == ("fail", weigh(-0.5, "no trend", 0, 0.1)[1])
    assert weigh(0.5, "no trend", False, 0.1)[0] == "inconclusive"
    assert "less than 10%" in (weigh(0.05, "decreasing", False, 0.1)[1] or "")
    assert weigh(0.0, "no trend", False, 0.1)[1] == "loss is flat: the model is not learning"


def test_initial_loss_is_checked_against_ln_c() -> None:
    from forkvet.runtime.decide import initial_loss_warning

    assert initial_loss_warning(2.3, 10) == []  # ln(10) = 2.30
    assert initial_loss_warning(50.0, 10)[0].startswith("warning: initial loss 50 is far")
    assert initial_loss_warning(50.0, None) == initial_loss_warning(50.0, 1) == []


def test_baseline_steps_judge_loss_beyond_noise_and_speed_beyond_tolerance() -> None:
    from forkvet.runtime.baseline import Comparison, Curve, _compare_speed, _judge_loss

    worse = Comparison(regression=False, matched_on="steps")
    _judge_loss(worse, 1.2, 1.0, noise=0.01)
    assert worse.regression and worse.final_loss_change == 0.2
    assert worse.reasons[0].startswith("the loss is worse than the baseline: 1.2 vs 1")
    noisy = Comparison(regression=False)
    _judge_loss(noisy, 1.2, 1.0, noise=0.2)  # within twice the noise
    assert not noisy.regression and noisy.reasons == [
        "the loss matches the baseline within its noise"
    ]
    slow = Comparison(regression=False)
    _compare_speed(slow, Curve([], steps_per_second=1.0), Curve([], steps_per_second=2.0), 0.2)
    assert slow.regression and slow.speed_change == -0.5
    unknown = Comparison(regression=False)
    _compare_speed(unknown, Curve([]), Curve([], steps_per_second=2.0), 0.2)
    assert unknown.speed_change is None and not unknown.reasons


def test_read_lines_splits_redraws_skips_blanks_and_stops_when_asked() -> None:
    import io
    import threading
    from collections import deque

    from forkvet.runtime.process import _read_lines

    stop, tail, log = threading.Event(), deque[str](maxlen=3), io.StringIO()
    stream = io.BytesIO(b"step 1\rstep 2\n\n  \nloss 0.5\n\xffend\n")
    _read_lines(stream, stop, tail, log, False, lambda line: line.startswith("loss"))
    assert stop.is_set()
    assert list(tail) == ["step 2", "loss 0.5", "\ufffdend"]
    assert log.getvalue() == "step 1\nstep 2\nloss 0.5\n\ufffdend\n"


def test_wait_says_whether_the_time_ran_out() -> None:
    import subprocess
    import sys
    import threading
    import time

    from forkvet.runtime.process import _wait

    quick = subprocess.Popen([sys.executable, "-c", "pass"])
    assert _wait(quick, threading.Event(), time.monotonic(), 30) is False
    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert _wait(slow, threading.Event(), time.monotonic(), 0.3) is True
        stop = threading.Event()
        stop.set()
        assert _wait(slow, stop, time.monotonic(), 30) is False
    finally:
        slow.kill()
        slow.wait()
