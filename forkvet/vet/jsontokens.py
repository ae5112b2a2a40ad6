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
    matches `prefix` (an RE2 bytes pattern holding no `"` but, perhaps, a last one), whole,
    with up to 1 KiB of the bytes before it (`before`, which may start inside another token:
    for labels only) and the bytes that
    follow it up to the next string token's quote or the end of what was fed (`after`)."""

    def __init__(self, prefix: bytes) -> None:
        self._next = rx.compile(_OUTSIDE + rb'?"(?:' + prefix + rb")", rx.S)
        self.buf, self.start = b"", 0  # bytes kept from the last chunk; where reading resumes
        self.take_next = False  # set by the caller: the next token comes back, whatever it is

    def feed(self, chunk: bytes, final: bool = False) -> Iterator[tuple[bytes, bytes, bytes]]:
        buf, pos = self.buf + chunk, self.start
        self.buf, self.start = b"", 0
        while True:
            if self.take_next:
                quote = buf.find(b'"', pos)
                if quote < 0:
                    break
            elif (m := self._next.match(buf, pos)) is not None:
                quote = buf.rfind(b'"', pos, m.end() - 1)  # a prefix may end with the `"`
            else:
                skip = _SKIP.match(buf, pos)
                pos = skip.end() if skip is not None else pos
                break
            whole = _STRING.match(buf, quote)
            after = buf.find(b'"', whole.end()) if whole is not None else -1
            if whole is None or (after < 0 and not final):
                pos = quote  # the token (or what follows it) goes on in the next chunk
                break
            self.take_next = False
            before = buf[max(0, quote - _BEFORE) : quote]
            yield before, whole.group(0), buf[whole.end() : len(buf) if after < 0 else after]
            pos = whole.end()
        if not final:
            keep = max(0, pos - _BEFORE)  # with the bytes before, for `before`
            self.buf, self.start = buf[keep:], pos - keep
            if len(self.buf) - self.start > MAX_TOKEN:
                raise TooLarge(f"a string token over {MAX_TOKEN >> 20} MiB")


def value(token: bytes) -> str | None:
    """The string a token decodes to, as json.loads decodes it (None where it raises)."""
    try:
        out = json.loads(token)
    except (ValueError, RecursionError):
        return None
    return out if isinstance(out, str) else None
