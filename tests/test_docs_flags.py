"""Every long flag of every `forkvet` command's --help is on that command's docs page.

The commands are read from the parser itself (subcommands of subcommands too), so a command
or flag added later is checked without touching this file, and a command with no page here
fails until it gets one.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from forkvet.cli import build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"
# command (its first word) -> the docs page that documents it
PAGES = {
    "vet": "vet.md",
    "env": "env.md",
    "audit": "audit.md",
    "notebooks": "runtime.md",
    "smoke": "runtime.md",
    "train-check": "runtime.md",
    "envs": "runtime.md",
    "attribution": "giveback.md",
    "upstream": "giveback.md",
    "thank": "giveback.md",
    "report": "actions.md",
    "baseline": "tracking.md",
    "runs": "tracking.md",
}
NOT_DOCUMENTED = {"--help", "--version"}  # argparse's own


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(words of the command, its parser) for every command and subcommand."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def long_flags(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(
        {
            option
            for action in parser._actions
            for option in action.option_strings
            if option.startswith("--") and option not in NOT_DOCUMENTED
        }
    )


def missing(flags: list[str], text: str) -> list[str]:
    """The flags the text never names as a whole word (`--out` is not in `--output`)."""
    return [f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", text)]


ALL = [(path, parser) for path, parser in commands(build_parser()) if path]


@pytest.mark.parametrize(("path", "parser"), ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_flag_is_on_the_commands_page(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    command = " ".join(path)
    page = PAGES.get(path[0])
    assert page, f"forkvet {command} has no docs page: add it to PAGES in {__file__}"
    absent = missing(long_flags(parser), (DOCS / page).read_text(encoding="utf-8"))
    assert not absent, f"docs/{page} does not mention {', '.join(absent)} of forkvet {command}"


def test_the_walk_finds_subcommands_and_the_match_is_whole_words() -> None:
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--top")
    sub = parser.add_subparsers()
    one = sub.add_parser("one")
    one.add_argument("--output", "-o")
    two = one.add_subparsers().add_parser("two")
    two.add_argument("--out")
    found = {p: long_flags(ps) for p, ps in commands(parser)}
    assert found == {(): ["--top"], ("one",): ["--output"], ("one", "two"): ["--out"]}
    assert missing(["--out", "--output"], "use `--output FILE`") == ["--out"]
    assert missing(["--out"], "| `--out DIR` |") == []
    assert len(ALL) >= 12 and all(p for p, _ in ALL)  # the real parser's commands were found
