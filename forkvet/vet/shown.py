"""Text as GitHub shows it, before any terms reader reads it (round 23, outside attack round
22d F14): an emoji shortcode (`:x:`) is the mark it renders (❌), and an HTML table is a table
(`<tr><th>Commercial use</th>…<td>❌</td>` read as the Markdown table a reader sees), so the
readers of table rows and columns read both forms. The vocabulary is data
(`forkvet/data/terms_vocab.json`)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from forkvet import rx


@cache
def vocab() -> dict[str, Any]:
    """The terms reader's vocabulary (`forkvet/data/terms_vocab.json`)."""
    raw = resources.files("forkvet.data").joinpath("terms_vocab.json").read_text("utf-8")
    return json.loads(raw)  # type: ignore[no-any-return]


_SHORTCODE = rx.compile(r":([a-z0-9_+-]{1,40}):")
_TABLE = rx.compile(r"(?is)<table\b[^>]{0,500}>(.*?)</table\s*>")
_ROW = rx.compile(r"(?i)<tr\b[^>]{0,500}>")
_CELL = rx.compile(r"(?i)<t[hd]\b[^>]{0,500}>")
_CELL_END = rx.compile(r"(?i)</t[hdr]\s*>")
_TAG = rx.compile(r"<[^>]{0,500}>")
MAX_TABLES = 50


def as_shown(text: str) -> str:
    """Shortcodes replaced by their marks, HTML tables written as Markdown tables."""
    if ":" in text:
        codes = vocab()["shortcodes"]
        text = _SHORTCODE.sub(lambda m: codes.get(m.group(1).lower(), m.group(0)), text)
    if "<t" in text or "<T" in text:
        text = _TABLE.sub(_markdown_table, text, count=MAX_TABLES)
    return text


def _markdown_table(m: rx.Match[str]) -> str:
    rows = []
    for row in _ROW.split(m.group(1))[1:2001]:
        cells = [_TAG.sub(" ", _CELL_END.split(c)[0]) for c in _CELL.split(row)[1:51]]
        cells = [" ".join(c.replace("|", " ").split()) for c in cells]
        if cells:
            rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return m.group(0)
    rule = "|" + "---|" * rows[0].count(" | ") + "---|"
    return "\n\n" + "\n".join([rows[0], rule, *rows[1:]]) + "\n\n"
