"""JSON (or JSON Lines) text of any size as a stream of its string tokens, never parsed whole.

The text is fed in chunks (UTF-8 bytes). One RE2 pattern reads it as json.loads tokenizes
it: outside a string every byte but `"` is structure, whitespace, a number or a literal, and
a string runs from `"` to the next `"` no backslash escapes. So a token is found where a
loader would find it, whatever the chunk boundaries, and only tokens whose first characters
a caller asks for (spelled literally or as JSON escapes, `\\u0067A` is `gA`) come back, each
whole (its raw bytes; `value()` decodes it as json.loads does). Only those tokens cost
Python time: the pattern skips everything else in RE2's linear scan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from forkvet import rx

# A string token, or any run of bytes outside strings (no `"`).
_TOKEN = rb'"(?:[^"\\]|\\.)*"'
_OUTSIDE = rb'(?:[^"]|' + _TOKEN + rb")*"
_STRING = rx.compile(_TOKEN, rx.S)
_SKIP = rx.compile(_OUTSIDE, rx.S)
_BODY = rx.compile(rb'(?:[^"\\]|\\.)*', rx.S)  # a string's bytes, up to its closing quote
_DECIDE = 1024  # bytes of a string's start that tell whether a caller asks for it
MAX_TOKEN = 64 << 20  # bytes of one string token held to be decoded
_BEFORE = 1024


def spelled(ch: str) -> bytes:
    """An RE2 pattern for one ASCII character as JSON may spell it in a string: itself or a
    `\\u00XX` escape (either case of hex digits), or `\\/` for a slash."""
    hi, lo = f"{ord(ch):04x}"[2], f"{ord(ch):04x}"[3]
    alts = [rx.escape(ch).encode(), rb"\\u00" + _hex_class(hi) + _hex_class(lo)]
    if ch == "/":
        alts.append(rb"\\/")
    return b"(?:" + b"|".join(alts) + b")"


def _hex_class(d: str) -> bytes:
    return f"[{d.lower()}{d.upper()}]".encode() if d.isalpha() else d.encode()


class TooLarge(Exception):
    """A string token longer than MAX_TOKEN bytes: it cannot be held to be decoded."""


class StringTokens:
    """Feed chunks; get back every string token whose spelling after its opening quote
    matches `prefix` (an RE2 bytes pattern holding no `"` but, perhaps, a last one, and
    matching within _DECIDE bytes), whole, with up to 1 KiB of the bytes before it (`before`,
    which may start inside another token: for labels only) and the bytes that follow it up to
    the next string token's quote or the end of what was fed (`after`). Only such tokens are
    held across chunks (up to MAX_TOKEN); any other string is skipped as it streams by, each
    byte read once."""

    def __init__(self, prefix: bytes) -> None:
        self._next = rx.compile(_OUTSIDE + rb'?"(?:' + prefix + rb")", rx.S)
        self.buf, self.start = b"", 0  # bytes kept from the last chunk; where reading resumes
        self.take_next = False  # set by the caller: the next token comes back, whatever it is
        self.skipping = False  # inside a string no caller asked for, read from self.start
        self.body = -1  # in a held token (at self.start): where its unread bytes begin

    def feed(self, chunk: bytes, final: bool = False) -> Iterator[tuple[bytes, bytes, bytes]]:
        buf, pos = self.buf + chunk, self.start
        self.buf, self.start = b"", 0
        if self.skipping or self.body >= 0:  # a string open at the last chunk's end
            end = _BODY.match(buf, self.body if self.body >= 0 else pos)
            closed = end is not None and buf[end.end() : end.end() + 1] == b'"'
            if not closed and not final:
                at = end.end() if end is not None else pos
                held = self.body >= 0
                return self._keep(buf, pos, at) if held else self._keep(buf, at, -1)
            if self.skipping:
                pos = end.end() + 1 if end is not None else len(buf)
            self.skipping, self.body = False, -1
        while True:
            if self.take_next:
                quote = buf.find(b'"', pos)
                if quote < 0:
                    break
            elif (m := self._next.match(buf, pos)) is not None:
                quote = buf.rfind(b'"', pos, m.end() - 1)  # a prefix may end with the `"`
            else:
                return self._rest(buf, pos, final)
            whole = _STRING.match(buf, quote)
            after = buf.find(b'"', whole.end()) if whole is not None else -1
            if whole is None or (after < 0 and not final):
                if whole is None and not final:  # held: read on from where this chunk ends
                    body = _BODY.match(buf, quote + 1)
                    return self._keep(buf, quote, body.end() if body is not None else quote + 1)
                pos = quote  # what follows it goes on in the next chunk
                break
            self.take_next = False
            before = buf[max(0, quote - _BEFORE) : quote]
            yield before, whole.group(0), buf[whole.end() : len(buf) if after < 0 else after]
            pos = whole.end()
        if not final:
            self._keep(buf, pos, -1)

    def _rest(self, buf: bytes, pos: int, final: bool) -> None:
        """No token asked for starts in buf[pos:]: its strings skipped, and one open at its
        end skipped on in the next chunk once it is long enough to tell (_DECIDE bytes)."""
        skip = _SKIP.match(buf, pos)
        pos = skip.end() if skip is not None else pos
        if final:
            return
        if len(buf) - pos < _DECIDE:
            return self._keep(buf, pos, -1)
        body = _BODY.match(buf, pos + 1)
        at = body.end() if body is not None else pos + 1
        self._keep(buf, at, -1)
        self.skipping = True

    def _keep(self, buf: bytes, pos: int, body: int) -> None:
        keep = max(0, pos - _BEFORE)  # with the bytes before, for `before`
        self.buf, self.start = buf[keep:], pos - keep
        self.body = body - keep if body >= 0 else -1
        if len(self.buf) - self.start > MAX_TOKEN:
            raise TooLarge(f"a string token over {MAX_TOKEN >> 20} MiB")


def value(token: bytes) -> str | None:
    """The string a token decodes to, as json.loads decodes it (None where it raises)."""
    try:
        out = json.loads(token)
    except (ValueError, RecursionError):
        return None
    return out if isinstance(out, str) else None
