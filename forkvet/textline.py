"""Repository text made safe to put on one line of a file forkvet writes (a requirements
comment, a YAML scalar, a Markdown table cell): a file name with a newline must not become a
line of its own."""

from __future__ import annotations

import unicodedata


def one_line(text: str) -> str:
    """text with every control, format or separator character other than a plain space shown
    as an escape (\\n, \\x1b, \\u2028), so it cannot start a new line or hide text."""
    if all(ch == " " or unicodedata.category(ch)[0] not in "CZ" for ch in text):
        return text
    return "".join(
        ch
        if ch == " " or unicodedata.category(ch)[0] not in "CZ"
        else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )
