"""A model of how the GitHub Actions runner finds workflow commands in a step's output, from
its documented behaviour (actions/runner: ActionCommand.TryParseV2 and TryParse, tried in
that order on every line of stdout and stderr, and ActionCommandManager's stop-commands):

- `::name props::data` is a command when the line, after .NET's TrimStart() (every Unicode
  white space character, Zs included), starts with `::`; the name ends at a space or `::`;
- the legacy `##[name props]data` is a command wherever `##[` occurs in the line;
- names are compared without case; only registered names count;
- `::stop-commands::TOKEN` stops all processing until a command named TOKEN (`::TOKEN::` or
  `##[TOKEN]`); the state is the step's.

Lines end at CR, LF or CRLF (.NET's ReadLine).
"""

from __future__ import annotations

import re
import unicodedata

REGISTERED = frozenset(
    (
        "set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher",
        "remove-matcher", "debug", "warning", "error", "notice", "group", "endgroup", "echo",
        "stop-commands",
    )
)  # fmt: skip


def _white(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def parse(line: str, registered: set[str] | frozenset[str] = REGISTERED) -> tuple[str, str] | None:
    """(command name in lower case, data) when the runner reads a command in the line."""
    i = 0
    while i < len(line) and _white(line[i]):
        i += 1
    trimmed = line[i:]
    if trimmed.startswith("::"):
        end = trimmed.find("::", 2)
        if end >= 0:
            name = trimmed[2:end].split(" ", 1)[0].lower()
            if name in registered:
                return name, trimmed[end + 2 :]
    start = line.find("##[")
    if start >= 0:
        close = line.find("]", start)
        if close >= 0:
            name = line[start + 3 : close].split(" ", 1)[0].lower()
            if name in registered:
                return name, line[close + 1 :]
    return None


def lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


class Runner:
    """One step's command processing: feed it the step's lines in the order read."""

    def __init__(self) -> None:
        self.registered = set(REGISTERED)
        self.stop_token: str | None = None
        self.processed: list[tuple[str, str]] = []

    def feed(self, text: str) -> Runner:
        for line in lines(text):
            found = parse(line, self.registered)
            if found is None:
                continue
            name, data = found
            if self.stop_token is not None:
                if name == self.stop_token:
                    self.registered.discard(name)
                    self.stop_token = None
                continue
            if name == "stop-commands":
                self.stop_token = data.lower()
                self.registered.add(self.stop_token)
                continue
            self.processed.append((name, data))
        return self
