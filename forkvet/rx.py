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
from re2 import _re2

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
# RE2's memory budget per pattern (program plus DFA cache; past it, a slower NFA). Most
# patterns run within 1 MiB; the few whose compiled program is larger (repeated Unicode
# classes) get RE2's default 8 MiB. The smaller budget took 15-20 MiB off every real vet.
_MAX_MEM = 1 << 20
_MAX_MEM_LARGE = 8 << 20


class Match(Protocol[AnyStr]):
    """The part of `re.Match` that forkvet uses (groups by number or name)."""

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
    def start(self, group: int | str = 0, /) -> int: ...
    def end(self, group: int | str = 0, /) -> int: ...
    def span(self, group: int | str = 0, /) -> tuple[int, int]: ...
    def expand(self, template: AnyStr) -> AnyStr: ...
    @property
    def string(self) -> AnyStr: ...
    @property
    def lastindex(self) -> int | None: ...


_NO_SPAN = (-1, -1)
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_START = _re2.RE2.Anchor.ANCHOR_START
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH


class _Match:
    """A match: spans in characters (str) or bytes, as `re` gives them."""

    __slots__ = ("_pattern", "_spans", "endpos", "pos", "string")

    def __init__(
        self, pattern: Pattern[Any], text: Any, pos: int, endpos: int, spans: list[tuple[int, int]]
    ) -> None:
        self._pattern = pattern
        self.string = text
        self.pos = pos
        self.endpos = endpos
        self._spans = spans

    def __repr__(self) -> str:
        return f"<rx.Match span={self._spans[0]} match={self.group()!r}>"

    def _index(self, group: int | str) -> int:
        if isinstance(group, str):
            try:
                return self._pattern.groupindex[group]
            except KeyError:
                raise IndexError(f"no such group: {group!r}") from None
        if not 0 <= group < len(self._spans):
            raise IndexError(f"no such group: {group}")
        return group

    def __getitem__(self, group: int | str) -> Any:
        a, b = self._spans[self._index(group)]
        return None if a < 0 else self.string[a:b]

    def group(self, *groups: int | str) -> Any:
        if len(groups) <= 1:
            return self[groups[0] if groups else 0]
        return tuple(self[g] for g in groups)

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        return tuple(default if a < 0 else self.string[a:b] for a, b in self._spans[1:])

    def groupdict(self, default: Any = None) -> dict[str, Any]:
        out = {}
        for name, i in self._pattern.groupindex.items():
            a, b = self._spans[i]
            out[name] = default if a < 0 else self.string[a:b]
        return out

    def start(self, group: int | str = 0) -> int:
        return self._spans[self._index(group)][0]

    def end(self, group: int | str = 0) -> int:
        return self._spans[self._index(group)][1]

    def span(self, group: int | str = 0) -> tuple[int, int]:
        return self._spans[self._index(group)]

    @property
    def lastindex(self) -> int | None:
        # The group whose closing parenthesis comes last (the outermost on ties), as in `re`.
        best, best_end = None, -1
        for i, (_a, b) in enumerate(self._spans[1:], 1):
            if b > best_end:
                best, best_end = i, b
        return best

    def expand(self, template: Any) -> Any:
        return _expand(self, template)


def _expand(match: _Match, template: Any) -> Any:
    # RE2's own template expansion (\1, \g<name>), on a match object it knows.
    spans = match._spans
    theirs = re2._Match(match._pattern._rx_object(), match.string, match.pos, match.endpos, spans)
    return theirs.expand(template)


class Pattern(Generic[AnyStr]):
    """An RE2 pattern with the `re.Pattern` methods forkvet uses. RE2 compiles on first use
    (a few hundred patterns, most unused in one run); `compile` has already checked it."""

    __slots__ = ("_compiled", "_groupindex", "_regexp", "flags", "pattern", "translated")

    pattern: AnyStr
    translated: AnyStr  # what RE2 compiles

    def __init__(self, pattern: AnyStr, flags: int, translated: AnyStr) -> None:
        self.pattern = pattern
        self.flags = flags
        self.translated = translated
        self._compiled: Any = None
        self._regexp: Any = None  # RE2 itself, once compiled
        self._groupindex: dict[str, int] | None = None

    def __repr__(self) -> str:
        return f"rx.compile({self.pattern!r}, {self.flags})"

    def _rx_object(self) -> Any:
        if self._compiled is None:
            try:
                self._compiled = self._compile(_MAX_MEM)
            except re2.error as exc:
                if "too large" not in str(exc):  # RE2's words for a program over the budget
                    raise
                self._compiled = self._compile(_MAX_MEM_LARGE)
            self._regexp = self._compiled._regexp
        return self._compiled

    def _compile(self, max_mem: int) -> Any:
        options = re2.Options()
        options.log_errors = False
        options.max_mem = max_mem
        if isinstance(self.translated, bytes):
            options.encoding = re2.Options.Encoding.LATIN1  # bytes match bytes, not UTF-8
        return re2.compile(self.translated, options)

    @property
    def groups(self) -> int:
        return int(self._rx_object().groups)

    @property
    def groupindex(self) -> dict[str, int]:
        if self._groupindex is None:
            # Names are text, as in `re` (RE2 gives a bytes pattern's names as bytes).
            self._groupindex = {
                (k.decode("latin-1") if isinstance(k, bytes) else k): int(v)
                for k, v in self._rx_object().groupindex.items()
            }
        return self._groupindex

    def _iter(
        self, anchor: Any, text: AnyStr, pos: int, endpos: int | None
    ) -> Iterator[Match[AnyStr]]:
        regexp = self._regexp or self._rx_object()._regexp
        n = len(text)
        pos = max(0, min(pos, n))
        endpos = n if endpos is None else max(0, min(endpos, n))
        if pos > endpos:
            return
        encoded, offsets = _encoded(text)
        if offsets is None:
            bpos, bend = pos, endpos
        else:
            bpos, bend = offsets.to_bytes(pos), offsets.to_bytes(endpos)
        empty_at = -1  # where the last match was empty: `re` never repeats an empty match
        while True:
            spans = regexp.Match(anchor, encoded, bpos, bend)
            start, end = spans[0]
            if start < 0:
                return
            if start == end == empty_at:
                if bpos >= bend:
                    return
                bpos = bpos + 1 if offsets is None else offsets.next_char(bpos)
                continue
            found = spans if offsets is None else offsets.to_chars(spans)
            yield _Match(self, text, pos, endpos, found)
            bpos = end
            empty_at = end if start == end else -1

    def _first(
        self, anchor: Any, text: AnyStr, pos: int, endpos: int | None
    ) -> Match[AnyStr] | None:
        # The common call (a whole text, from its start), without a generator.
        if pos or endpos is not None:
            return next(self._iter(anchor, text, pos, endpos), None)
        regexp = self._regexp or self._rx_object()._regexp
        encoded, offsets = _encoded(text)
        spans = regexp.Match(anchor, encoded, 0, len(encoded))
        if spans[0][0] < 0:
            return None
        found = spans if offsets is None else offsets.to_chars(spans)
        return _Match(self, text, 0, len(text), found)

    def search(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> Match[AnyStr] | None:
        return self._first(_UNANCHORED, text, pos, endpos)

    def match(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> Match[AnyStr] | None:
        return self._first(_ANCHOR_START, text, pos, endpos)

    def fullmatch(
        self, text: AnyStr, pos: int = 0, endpos: int | None = None
    ) -> Match[AnyStr] | None:
        return self._first(_ANCHOR_BOTH, text, pos, endpos)

    def finditer(
        self, text: AnyStr, pos: int = 0, endpos: int | None = None
    ) -> Iterator[Match[AnyStr]]:
        return self._iter(_UNANCHORED, text, pos, endpos)

    def resuming(
        self, text: AnyStr, resume: Callable[[Match[AnyStr]], int]
    ) -> Iterator[Match[AnyStr]]:
        """`finditer` that starts each next search at `resume(match)`: where a pattern ends
        in a consumed stand-in for a look-ahead, the next match may begin inside it."""
        pos = 0
        while pos <= len(text):
            m = self.search(text, pos)
            if m is None:
                return
            yield m
            pos = max(resume(m), m.start() + 1)

    def findall(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> list[Any]:
        empty = text[:0]
        groups = self.groups
        out: list[Any] = []
        for m in self.finditer(text, pos, endpos):
            if groups == 0:
                out.append(m.group())
            elif groups == 1:
                out.append(m.groups(empty)[0])
            else:
                out.append(m.groups(empty))
        return out

    def split(self, text: AnyStr, maxsplit: int = 0) -> list[AnyStr | Any]:
        out: list[Any] = []
        last = 0
        for i, m in enumerate(self.finditer(text)):
            if maxsplit and i >= maxsplit:
                break
            out.append(text[last : m.start()])
            out.extend(m.groups())
            last = m.end()
        out.append(text[last:])
        return out

    def sub(
        self, repl: AnyStr | Callable[[Match[AnyStr]], AnyStr], text: AnyStr, count: int = 0
    ) -> AnyStr:
        return self.subn(repl, text, count)[0]

    def subn(
        self, repl: AnyStr | Callable[[Match[AnyStr]], AnyStr], text: AnyStr, count: int = 0
    ) -> tuple[AnyStr, int]:
        if callable(repl):
            replace = repl
        elif _has_backslash(repl):
            template = repl
            replace = lambda m: _expand(m, template)  # type: ignore[arg-type]  # noqa: E731
        else:
            literal = repl
            replace = lambda _m: literal  # noqa: E731
        pieces: list[AnyStr] = []
        last = 0
        done = 0
        for m in self.finditer(text):
            if count and done >= count:
                break
            pieces.append(text[last : m.start()])
            pieces.append(replace(m))
            last = m.end()
            done += 1
        pieces.append(text[last:])
        return text[:0].join(pieces), done


class _Offsets:
    """Character <-> UTF-8 byte offsets of one text. Each conversion starts from the closest
    point already known at or before it (the last one, or an offset of the last match), so
    a scan forwards through the text, or a search resumed inside the last match, reads each
    part of the text about once. The known points are replaced whole (atomic under the GIL),
    so threads sharing a text lose only speed, never correctness."""

    __slots__ = ("_encoded", "_marks")

    def __init__(self, encoded: bytes) -> None:
        self._encoded = encoded
        self._marks: tuple[tuple[int, int], ...] = ((0, 0),)  # (char, byte) pairs

    def to_bytes(self, char: int) -> int:
        c, b = max((m for m in self._marks if m[0] <= char), default=(0, 0))
        b += _re2.CharLenToBytes(self._encoded, b, char - c)
        self._marks = (*self._marks, (char, b))[-8:]
        return int(b)

    def to_chars(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        offsets = sorted({o for span in spans for o in span if o >= 0})
        c, b = max(((c, b) for c, b in self._marks if b <= offsets[0]), default=(0, 0))
        cache: dict[int, int] = {}
        marks = []
        for offset in offsets:
            c += _re2.BytesToCharLen(self._encoded, b, offset)
            b = offset
            cache[offset] = c
            marks.append((c, b))
        self._marks = tuple(marks)
        return [_NO_SPAN if a < 0 else (cache[a], cache[z]) for a, z in spans]

    def next_char(self, byte: int) -> int:
        return byte + int(_re2.CharLenToBytes(self._encoded, byte, 1))


# The text last matched, encoded once for the many patterns that read the same file in turn
# (and its offsets, for searches that resume in it).
_last_text: tuple[Any, bytes, _Offsets | None] = ("", b"", None)


def _encoded(text: str | bytes) -> tuple[bytes, _Offsets | None]:
    global _last_text
    last = _last_text
    if last[0] is text:
        return last[1], last[2]
    if isinstance(text, bytes):
        return text, None
    if text.isascii():
        _last_text = (text, text.encode("ascii"), None)
    else:
        encoded = text.encode("utf-8", "surrogatepass")
        _last_text = (text, encoded, _Offsets(encoded))
    return _last_text[1], _last_text[2]


def _has_backslash(text: str | bytes) -> bool:
    return (b"\\" in text) if isinstance(text, bytes) else ("\\" in text)


# Every pattern compiled so far, by (pattern, flags): module-level calls reuse them, and the
# engine test walks them.
REGISTRY: dict[tuple[str | bytes, int], Pattern[Any]] = {}
_REGISTRY_MAX = 4096


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
    if len(REGISTRY) < _REGISTRY_MAX:  # patterns built from data (names) must not grow it forever
        REGISTRY[key] = compiled
    return compiled


def compile_now(pattern: str, flags: int = 0) -> Pattern[str]:
    """`compile` for a pattern a person typed: RE2's objection is raised here, not at first use."""
    compiled = compile(pattern, flags)
    compiled._rx_object()
    return compiled


def check_all() -> None:
    """Compile every registered pattern on RE2 now (tests; a bad one raises `error`)."""
    for compiled in list(REGISTRY.values()):
        compiled._rx_object()


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
