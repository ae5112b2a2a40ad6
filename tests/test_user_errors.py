"""Plain user errors are one line and exit 2 — never 3 ("internal error, please report it")."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo, write_files
from tests.test_giveback import repos  # noqa: F401  (the fixture: real upstream and fork)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.count("forkvet: error:") == 1, err
    return err


def test_unwritable_out_and_output(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({"demo.py": "print('hi')\n"})
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    common = ["--python", sys.executable, "--cmd", "python demo.py", "--no-import-check"]
    assert main(["smoke", str(repo), *common, "--out", str(blocker / "logs")]) == 2
    assert "logs" in one_line_error(capsys)
    code = main(
        ["smoke", str(repo), *common, "--out", str(tmp_path / "o"), "-o", str(blocker / "x")]
    )
    assert code == 2 and "a-file" in one_line_error(capsys)
    assert main(["train-check", "--log", str(blocker), "--out", str(blocker / "o")]) == 2
    one_line_error(capsys)


def test_report_and_github_outside_actions(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    result = tmp_path / "smoke.json"
    result.write_text(json.dumps({"verdict": "pass", "reasons": [], "tail": []}))
    assert main(["report", "--smoke", str(result)]) == 2
    assert "GITHUB_OUTPUT" in one_line_error(capsys)
    marker = tmp_path / "ran"
    repo = make_repo({"demo.py": f"open({str(marker)!r}, 'w')\n"})
    code = main(
        [
            "smoke",
            str(repo),
            "--python",
            sys.executable,
            "--cmd",
            "python demo.py",
            "--github",
            "--no-import-check",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "run them inside a workflow" in one_line_error(capsys)
    assert not marker.exists()  # refused before running anything


def test_thank_open_with_the_network_down(
    repos: dict[str, Path],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fork = repos["fork"]
    write_files(fork, {".github/forkvet.yml": "upstream:\n  thank_you: true\n"})
    monkeypatch.setenv("FORKVET_USER_TOKEN", "ghp_test")
    code = main(
        [
            "thank",
            str(fork),
            "--upstream",
            "https://github.com/upstream-org/model",
            "--api-url",
            f"http://127.0.0.1:{port}",
            "--open",
        ]
    )
    assert code == 2 and "cannot reach GitHub" in one_line_error(capsys)


def test_upstream_path_is_relative_to_the_current_folder(
    repos: dict[str, Path],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    up = repos["upstream"]
    monkeypatch.chdir(up.parent)
    code = main(
        ["attribution", str(repos["fork"]), "--upstream", f"./{up.name}", "--format", "json"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert json.loads(out)["changed"]  # upstream was found and compared


def test_train_check_without_the_runtime_extra_stops_before_training(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pymannkendall", None)  # as if not installed
    marker = tmp_path / "trained"
    repo = make_repo({"train.py": f"open({str(marker)!r}, 'w')\n"})
    code = main(
        [
            "train-check",
            str(repo),
            "--python",
            sys.executable,
            "--cmd",
            "python train.py",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "pip install 'forkvet[runtime]'" in one_line_error(capsys)
    assert not marker.exists()


def _value_arguments() -> list[tuple[str, list[str], list[str]]]:
    """(command, argv that fills the other positionals, argv with "" in one argument) for every
    argument of every command that takes a value, walked from the real parser."""
    from forkvet.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cases = []
    for name, sub in commands.choices.items():
        takes_value = [a for a in sub._actions if a.nargs != 0 and a.dest != "help"]
        positionals = [a for a in takes_value if not a.option_strings]
        for action in takes_value:
            argv = [name]
            for pos in positionals:
                filler = str(next(iter(pos.choices))) if pos.choices else "x"
                argv.append("" if pos is action else filler)
            if action.option_strings:
                argv += [action.option_strings[0], ""]
            cases.append((name, action.option_strings[:1] or [str(action.metavar)], argv))
    return cases


def test_every_argument_of_every_command_refuses_an_empty_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cases = _value_arguments()
    assert len(cases) > 60 and {c[0] for c in cases} >= {"vet", "env", "smoke", "runs", "envs"}
    for name, _what, argv in cases:
        with pytest.raises(SystemExit) as stop:
            main(argv)
        err = capsys.readouterr().err
        assert stop.value.code == 2, (argv, err)
        assert "Traceback" not in err and err.count("\n") == 1, (argv, err)
        assert f"forkvet {name}: error:" in err and "is empty" in err, (argv, err)


def test_an_empty_log_is_an_input_error_and_runs_nothing(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "trained"
    repo = make_repo({"train.py": f"open({str(marker)!r}, 'w')\n"})
    for argv in (
        ["train-check", str(repo), "--log", "", "--python", sys.executable],
        ["smoke", str(repo), "--cmd", "", "--python", sys.executable],
        ["smoke", "", "--python", sys.executable, "--cmd", "python train.py"],
        ["env", "", "--offline"],
        ["vet", str(repo), "-o", ""],
    ):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2 and "is empty" in capsys.readouterr().err, argv
    assert not marker.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--min-drop", "-0.5"),
        ("--min-drop", "1.5"),
        ("--min-points", "0"),
        ("--min-points", "-3"),
        ("--num-classes", "0"),
        ("--num-classes", "1"),
        ("--num-classes", "-4"),
        ("--python-version", "9.9"),
        ("--python-version", "3"),
        ("--python-version", "3.x"),
    ],
)
def test_train_check_numbers_out_of_range(
    option: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {i} loss {3 - i / 10}\n" for i in range(12)))
    with pytest.raises(SystemExit) as stop:
        main(["train-check", str(tmp_path), "--log", str(log), f"{option}={value}"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and option in err, err


def test_smoke_refuses_a_python_version_that_is_none(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["smoke", ".", "--python-version", "9.9", "--dry-run"])
    assert stop.value.code == 2 and "3.10 or 2.7" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["vet", "--fromat", "json", "."], "unknown option --fromat: did you mean --format?"),
        (["train-check", ".", "--min-drp", "0.2"], "did you mean --min-drop?"),
        (["envs", "--bogus"], "unknown option --bogus"),  # not "required: action"
        (["smoke", ".", "--bogus=3"], "unknown option --bogus"),
    ],
)
def test_a_mistyped_option_is_named_with_the_closest_one(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and said in err and err.count("\n") == 1, err
    assert "did you mean --out" not in err


def test_a_log_folder_without_event_files_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "result.json").write_text("{}")
    assert main(["train-check", str(tmp_path), "--log", str(tmp_path)]) == 2
    assert "has no event files (*tfevents*)" in one_line_error(capsys)


def test_attribution_with_an_unrelated_upstream(
    repos: dict[str, Path],  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = make_repo({"README.md": "# Something else\n"})
    code = main(
        ["attribution", str(repos["fork"]), "--upstream", str(other), "--out", str(tmp_path)]
    )
    assert code == 2 and "share no history" in one_line_error(capsys)
