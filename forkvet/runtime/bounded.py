"""Text written into a result (smoke.json, train.json) is bounded in *encoded* bytes.

A result carries the repository's text: the run's last lines of output, reasons quoting it,
metric names. A bound in lines or characters is not a bound in bytes: JSON writes a control
character as six (`\\u0001`), a character outside the BMP as twelve, so 40 lines of 1 MiB of
`\\x01` became a 180 MiB smoke.json, over `forkvet report`'s own 64 MiB input limit (outside
attack, round 16b). Every string of a result is cut to MAX_TEXT_BYTES of its JSON encoding, and
the output tail to MAX_TAIL_BYTES in all; a cut says so."""

from __future__ import annotations

import json
from typing import Any

MAX_TEXT_BYTES = 16 << 10  # one string of a result, as JSON encodes it
MAX_TAIL_BYTES = 64 << 10  # the kept lines of output together
CUT = "[…cut by forkvet]"


def encoded(text: str) -> int:
    """Bytes of text as json.dumps writes it (quotes included)."""
    return len(json.dumps(text))


def _char_bytes(ch: str) -> int:
    return len(json.dumps(ch)) - 2


def cut(text: str, limit: int = MAX_TEXT_BYTES, keep_end: bool = False) -> str:
    """text, or as much of its start (its end: keep_end) as fits with CUT in limit encoded
    bytes. Looks at no more characters than the limit allows, whatever the text's length."""
    if len(text) * 12 + 2 <= limit or encoded(text) <= limit:
        return text
    budget = max(0, limit - encoded(CUT))
    chars = reversed(text) if keep_end else iter(text)
    kept = 0
    used = 0
    for ch in chars:
        size = _char_bytes(ch)
        if used + size > budget:
            break
        used += size
        kept += 1
    return CUT + text[len(text) - kept :] if keep_end else text[:kept] + CUT


def tail(
    lines: list[str], limit: int = MAX_TAIL_BYTES, line_limit: int = MAX_TEXT_BYTES
) -> list[str]:
    """The last lines whose JSON encoding fits in limit bytes together (each line cut to its
    end first: the end of a progress line is the newest)."""
    out: list[str] = []
    used = 2  # the list's brackets
    for line in reversed(lines):
        line = cut(line, line_limit, keep_end=True)
        size = encoded(line) + 2  # a comma and a blank or newline
        if used + size > limit:
            break
        out.append(line)
        used += size
    return out[::-1]


def strings(value: Any, limit: int = MAX_TEXT_BYTES) -> Any:
    """value (a result's dict) with every string in it, keys too, cut to limit encoded bytes."""
    if isinstance(value, str):
        return cut(value, limit)
    if isinstance(value, dict):
        return {strings(k, limit): strings(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strings(v, limit) for v in value]
    return value
