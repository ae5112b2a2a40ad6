"""Regular expressions on a linear-time engine (RE2) for everything a repository says.

Python's `re` backtracks: one pattern with nested or overlapping repetition, fed the text a
hostile fork chose, can take minutes (200 KB of `curl ` once took 11 s). RE2 runs in time
linear in the text for every pattern it accepts, and it refuses the features that need
backtracking (backreferences, look-arounds, possessive or atomic groups). So every pattern
forkvet applies to repository text is compiled here, and tests/hostile/test_regex_engine.py
fails on any that is not.

`compile` takes Python's syntax and flags and keeps Python's meaning where RE2 differs:
`\\w \\d \\s` (and their negations) match Unicode as in `re` unless `A` is given, `\\Z` is end of
text, `{,n}` is `{0,n}` and `\\uXXXX` is a code point. What stays different (documented in
docs/vet.md): `\\b`/`\\B` see ASCII word characters only, and `$` without `M` matches only at
the very end (Python also matches before a final newline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, AnyStr, Generic, Literal, Protocol, overload

import re2  # type: ignore[import-untyped]

# Python's flag values, so callers need no `re` import; VERBOSE is not supported.
A = ASCII = re.ASCII
I = IGNORECASE = re.IGNORECASE  # noqa: E741
M = MULTILINE = re.MULTILINE
S = DOTALL = re.DOTALL
_KNOWN_FLAGS = A | I | M | S

error = re2.error
escape = re.escape  # its output is valid RE2 (escaped punctuation, literal non-ASCII)

# Python's Unicode classes spelled for RE2 (str patterns without ASCII). Python's \w is
# str.isalnum() or "_", its \d is Unicode Nd and its \s is str.isspace().
_WORD = r"\p{L}\p{N}_"
_DIGIT = r"\p{Nd}"
_SPACE = (
    r"\t\n\x0b\f\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
_IN_CLASS = {"w": _WORD, "d": _DIGIT, "s": _SPACE}
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "d": f"[{_DIGIT}]",
    "D": f"[^{_DIGIT}]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}
_MAX_MEM = 64 << 20  # RE2's DFA cache per pattern; past it RE2 falls back to a slower NFA


class Match(Protocol[AnyStr]):
    """The part of `re.Match` that RE2's matches offer (and forkvet uses)."""

    @overload
    def group(self, group: Literal[0] = 0, /) -> AnyStr: ...
    @overload
    def group(self, group: str | int, /) -> AnyStr | Any: ...
    @overload
    def group(
        self, group1: str | int, group2: str | int, /, *groups: str | int
    ) -> tuple[AnyStr | Any, ...]: ...
    def __getitem__(self, group: str | int, /) -> AnyStr | Any: ...
    def groups(self, default: Any = None) -> tuple[AnyStr | Any, ...]: ...
    def groupdict(self, default: Any = None) -> dict[str, AnyStr | Any]: ...
    def start(self, group: int = 0, /) -> int: ...
    def end(self, group: int = 0, /) -> int: ...
    def span(self, group: int = 0, /) -> tuple[int, int]: ...
    def expand(self, template: AnyStr) -> AnyStr: ...
    @property
    def string(self) -> AnyStr: ...
    @property
    def lastindex(self) -> int | None: ...


class Pattern(Generic[AnyStr]):
    """An RE2 pattern with the `re.Pattern` methods forkvet uses."""

    __slots__ = ("_rx", "flags", "pattern", "translated")

    pattern: AnyStr
    translated: AnyStr  # what RE2 compiled

    def __init__(self, pattern: AnyStr, flags: int, translated: AnyStr) -> None:
        self.pattern = pattern
        self.flags = flags
        self.translated = translated
        options = re2.Options()
        options.log_errors = False
        options.max_mem = _MAX_MEM
        if isinstance(translated, bytes):
            options.encoding = re2.Options.Encoding.LATIN1  # bytes match bytes, not UTF-8
        self._rx = re2.compile(translated, options)

    def __repr__(self) -> str:
        return f"rx.compile({self.pattern!r}, {self.flags})"

    @property
    def groups(self) -> int:
        return int(self._rx.groups)

    @property
    def groupindex(self) -> dict[str, int]:
        return dict(self._rx.groupindex)

    def search(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> Match[AnyStr] | None:
        return self._rx.search(text, pos, endpos)  # type: ignore[no-any-return]

    def match(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> Match[AnyStr] | None:
        return self._rx.match(text, pos, endpos)  # type: ignore[no-any-return]

    def fullmatch(
        self, text: AnyStr, pos: int = 0, endpos: int | None = None
    ) -> Match[AnyStr] | None:
        return self._rx.fullmatch(text, pos, endpos)  # type: ignore[no-any-return]

    def finditer(
        self, text: AnyStr, pos: int = 0, endpos: int | None = None
    ) -> Iterator[Match[AnyStr]]:
        return self._rx.finditer(text, pos, endpos)  # type: ignore[no-any-return]

    def findall(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> list[Any]:
        return self._rx.findall(text, pos, endpos)  # type: ignore[no-any-return]

    def split(self, text: AnyStr, maxsplit: int = 0) -> list[AnyStr | Any]:
        return self._rx.split(text, maxsplit)  # type: ignore[no-any-return]

    def sub(
        self, repl: AnyStr | Callable[[Match[AnyStr]], AnyStr], text: AnyStr, count: int = 0
    ) -> AnyStr:
        return self.subn(repl, text, count)[0]

    def subn(
        self, repl: AnyStr | Callable[[Match[AnyStr]], AnyStr], text: AnyStr, count: int = 0
    ) -> tuple[AnyStr, int]:
        if isinstance(repl, str | bytes) and not _has_backslash(repl):
            literal = repl  # no group references: skip RE2's template expansion
            return self._rx.subn(lambda _m: literal, text, count)  # type: ignore[no-any-return]
        return self._rx.subn(repl, text, count)  # type: ignore[no-any-return]


def _has_backslash(text: str | bytes) -> bool:
    return (b"\\" in text) if isinstance(text, bytes) else ("\\" in text)


# Every pattern compiled so far, by (pattern, flags): module-level calls reuse them, and the
# engine test walks them.
REGISTRY: dict[tuple[str | bytes, int], Pattern[Any]] = {}


@overload
def compile(pattern: str, flags: int = 0) -> Pattern[str]: ...
@overload
def compile(pattern: bytes, flags: int = 0) -> Pattern[bytes]: ...
def compile(pattern: str | bytes, flags: int = 0) -> Pattern[Any]:
    """Compile Python-syntax `pattern` for RE2; raises `error` for what RE2 cannot run."""
    key = (pattern, flags)
    found = REGISTRY.get(key)
    if found is not None:
        return found
    if flags & ~_KNOWN_FLAGS:
        raise error(f"unsupported flags {flags:#x} (VERBOSE is not supported)")
    if isinstance(pattern, bytes):
        # Python's bytes patterns are ASCII-only: \w is [A-Za-z0-9_], as in RE2.
        body = _with_flags(pattern.decode("latin-1"), flags | A)
        translated: str | bytes = body.encode("latin-1")
        compiled: Pattern[Any] = _bytes_pattern(pattern, flags, translated)
    else:
        compiled = Pattern(pattern, flags, _with_flags(pattern, flags))
    REGISTRY[key] = compiled
    return compiled


def _bytes_pattern(pattern: bytes, flags: int, translated: str | bytes) -> Pattern[bytes]:
    assert isinstance(translated, bytes)
    return Pattern(pattern, flags, translated)


def _with_flags(pattern: str, flags: int) -> str:
    inline = "".join(c for f, c in ((I, "i"), (M, "m"), (S, "s")) if flags & f)
    body = translate(pattern, unicode=not flags & A)
    return f"(?{inline}){body}" if inline else body


def translate(pattern: str, unicode: bool = True) -> str:
    """Python regex syntax to RE2 syntax with Python's meaning (see the module docstring)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if unicode and nxt in _OUTSIDE:
                if not in_class:
                    out.append(_OUTSIDE[nxt])
                elif nxt in _IN_CLASS:
                    out.append(_IN_CLASS[nxt])
                else:
                    raise error(f"\\{nxt} inside a character class: spell the class out")
                i += 2
                continue
            if nxt == "Z" and not in_class:
                out.append(r"\z")
                i += 2
                continue
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                out.append(r"\x{" + pattern[i + 2 : i + 2 + width] + "}")
                i += 2 + width
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            # A leading ] (or ^]) is a literal member, as in Python.
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):
                out.append(r"\]")
                i += 1
        elif ch == "{" and pattern.startswith(",", i + 1) and out and _is_count(pattern, i):
            out.append("{0")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _is_count(pattern: str, i: int) -> bool:
    end = pattern.find("}", i)
    return end > i + 2 and pattern[i + 2 : end].isdigit()


# Module-level helpers in `re`'s shape, compiling once through the registry.
def search(pattern: AnyStr, text: AnyStr, flags: int = 0) -> Match[AnyStr] | None:
    return compile(pattern, flags).search(text)


def match(pattern: AnyStr, text: AnyStr, flags: int = 0) -> Match[AnyStr] | None:
    return compile(pattern, flags).match(text)


def fullmatch(pattern: AnyStr, text: AnyStr, flags: int = 0) -> Match[AnyStr] | None:
    return compile(pattern, flags).fullmatch(text)


def finditer(pattern: AnyStr, text: AnyStr, flags: int = 0) -> Iterator[Match[AnyStr]]:
    return compile(pattern, flags).finditer(text)


def findall(pattern: AnyStr, text: AnyStr, flags: int = 0) -> list[Any]:
    return compile(pattern, flags).findall(text)


def split(pattern: AnyStr, text: AnyStr, maxsplit: int = 0, flags: int = 0) -> list[AnyStr | Any]:
    return compile(pattern, flags).split(text, maxsplit)


def sub(
    pattern: AnyStr,
    repl: AnyStr | Callable[[Match[AnyStr]], AnyStr],
    text: AnyStr,
    count: int = 0,
    flags: int = 0,
) -> AnyStr:
    return compile(pattern, flags).sub(repl, text, count)


def subn(
    pattern: AnyStr,
    repl: AnyStr | Callable[[Match[AnyStr]], AnyStr],
    text: AnyStr,
    count: int = 0,
    flags: int = 0,
) -> tuple[AnyStr, int]:
    return compile(pattern, flags).subn(repl, text, count)


__all__ = ["REGISTRY", "A", "I", "M", "Match", "Pattern", "S", "compile", "error", "translate"]
