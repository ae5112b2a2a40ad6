"""The `forkvet` command line. Every subcommand is a thin layer over the library."""

from __future__ import annotations

import argparse
import difflib
import itertools
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from forkvet import __version__, cmdgate
from forkvet.config import CONFIG_PATH, config_for, load_config
from forkvet.errors import ForkvetError, InputError
from forkvet.redact import redacted_streams
from forkvet.safe_write import output_format
from forkvet.safe_write import write_output as _write  # the name the commands here use

EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def nonblank(action: argparse.Action, value: str) -> str:
    """Refuse an empty or blank value for any argument that takes one: a blank shell variable
    (`forkvet smoke "$REPO"`, `--log "$LOG"`) must never quietly mean "this folder", "no log,
    so run the training" or "the default"."""
    if value.strip():
        return value
    name = "/".join(action.option_strings) or str(action.metavar or action.dest)
    hint = "give the repository (. for this folder)" if name == "TARGET" else "give a value"
    raise argparse.ArgumentError(None, f"{name} is empty: {hint}")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, and no argument of any command
    takes an empty value (checked here, where argparse turns every given string into a value,
    so a new option cannot forget it)."""

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        # A subcommand's strings are its own parser's to check; a REMAINDER passes through.
        if action.nargs not in (argparse.PARSER, argparse.REMAINDER):
            nonblank(action, arg_string)
        return super()._get_value(action, arg_string)

    _given: list[str] = []

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._given = list(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(self._given, namespace)
        unknown = self._unknown_option(extras)
        if unknown:  # here, where this command's options are known, to name the closest
            self.error(unknown)
        return parsed, extras

    def _unknown_option(self, tokens: Sequence[str]) -> str | None:
        """`unknown option --fromat: did you mean --format?` for the first long option in
        tokens this parser does not have (argparse's own abbreviations still count)."""
        known = [o for a in self._actions for o in a.option_strings]
        for token in tokens:
            if token == "--":
                break
            name = token.split("=", 1)[0]
            if not name.startswith("--") or any(o.startswith(name) for o in known):
                continue
            # Compared without the dashes, which every option shares.
            words = {o.lstrip("-"): o for o in known if o.startswith("--")}
            close = difflib.get_close_matches(name.lstrip("-"), words, n=1, cutoff=0.7)
            return f"unknown option {name}" + (
                f": did you mean {words[close[0]]}?" if close else ""
            )
        return None

    def error(self, message: str) -> NoReturn:
        # A missing argument is often the consequence of a mistyped option: name that first
        # (before the COMMAND only, where the parser has commands: the rest is theirs).
        given = self._given
        if any(isinstance(a, argparse._SubParsersAction) for a in self._actions):
            given = list(itertools.takewhile(lambda t: t.startswith("-"), given))
        message = self._unknown_option(given) or message
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def cmd_vet(args: argparse.Namespace) -> int:
    from forkvet import accept, sarif
    from forkvet.render import to_markdown, to_text
    from forkvet.source import open_target
    from forkvet.vet import vet

    if not args.target.strip():
        raise InputError("TARGET is empty: give a folder or a git URL (. for this folder)")
    if args.config:
        load_config(Path(args.config))  # fail fast, before a clone
    with open_target(args.target, args.ref) as snap:
        config, notes = config_for(args.config, snap.root)
        report = vet(snap, config)
        report.findings += notes
        accept.apply(report, config.accept, snap.root, files=accept.snapshot_files(snap))
    fmt = output_format(args.format, args.output)
    if fmt == "json":
        text = report.to_json() + "\n"
    elif fmt == "markdown":
        text = to_markdown(report)
    elif fmt == "sarif":
        text = sarif.from_report(report)
    else:
        text = to_text(report)
    _write(text, args.output, repo=snap.root)
    if args.sarif:
        _write(sarif.from_report(report), args.sarif, repo=snap.root)
    return EXIT_POLICY if report.has_errors else EXIT_OK


def build_parser(vet_only: bool = False) -> argparse.ArgumentParser:
    """The whole command line; `vet_only`: the `vet` command alone (what `forkvet vet ...`
    parses the same way), without importing the other commands' modules."""
    parser = _Parser(
        prog="forkvet",
        description="Vet an ML research repository before you build on it.",
        epilog="Exit codes: 0 clean, 1 policy violation or dangerous file (or a failed check), "
        "2 usage or input error, 3 internal error (a bug in forkvet: please report it).",
    )
    parser.add_argument("--version", action="version", version=f"forkvet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    vet_p = sub.add_parser(
        "vet",
        help="static vetting: license, languages, Python, frameworks, dependencies, "
        "entry points, weights, citation, risks, health",
        description="Vet a repository statically. Reads files only: never imports, runs or "
        "installs anything from it.",
    )
    vet_p.add_argument("target", metavar="TARGET", help="a local folder or a git URL")
    vet_p.add_argument(
        "--ref",
        help="branch, tag or commit to vet (default: the checkout / the remote's default branch)",
    )
    vet_p.add_argument(
        "--format",
        choices=("text", "json", "markdown", "sarif"),
        help="default: by -o FILE's extension (.json, .md, .sarif), else text; sarif: SARIF 2.1.0 "
        "for GitHub code scanning (see docs/vet.md)",
    )
    vet_p.add_argument(
        "--config",
        metavar="FILE",
        help=f"your policy file (default: forkvet's defaults); the repository's own "
        f"{CONFIG_PATH} can only tighten it",
    )
    vet_p.add_argument(
        "--output", "-o", metavar="FILE", help="write the report here (default: stdout)"
    )
    vet_p.add_argument(
        "--sarif",
        metavar="FILE",
        help="also write the findings as SARIF 2.1.0 here (one vet, two outputs)",
    )
    vet_p.set_defaults(func=cmd_vet)
    for register in [] if vet_only else _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction[_Parser]], None]]:
    # Each area registers its own subcommands, keeping this file small.
    from forkvet import envs_cli, gha
    from forkvet.audit import cli as audit_cli
    from forkvet.envgen import cli as env_cli
    from forkvet.giveback import cli as giveback_cli
    from forkvet.runtime import cli as runtime_cli

    return [
        env_cli.register,
        runtime_cli.register,
        giveback_cli.register,
        gha.register,
        audit_cli.register,
        envs_cli.register,
    ]


def _unwind_on_sigterm() -> None:
    """SIGTERM (a cancelled CI job, `timeout`) unwinds like an exception, so every `finally`
    runs: a temporary clone is removed, the sandbox's private /tmp too, children killed."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # run as a program (a test calling main() keeps its own handlers)
        # In GitHub Actions the runner processes none of this process's lines as workflow
        # commands but forkvet's own (forkvet.cmdgate): first, before anything is printed.
        cmdgate.start()
        _unwind_on_sigterm()
    given = list(sys.argv[1:] if argv is None else argv)
    # `vet` is the command that must start fast (CI runs it on every pull request).
    parser = build_parser(vet_only=given[:1] == ["vet"])
    args = parser.parse_args(given)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with redacted_streams():  # no credentials in anything forkvet prints
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except ForkvetError as exc:
        # one line, escaped: a message may carry a repository's name, a path or a value
        from forkvet.escape import terminal

        print(f"forkvet: error: {terminal(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("forkvet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug of ours: one line, and the traceback on request
        if os.environ.get("FORKVET_DEBUG"):
            raise
        from forkvet.escape import terminal

        print(
            f"forkvet: internal error: {type(exc).__name__}: {terminal(exc)} (set "
            f"FORKVET_DEBUG=1 for details and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
