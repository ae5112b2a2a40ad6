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
