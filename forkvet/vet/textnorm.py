"""License text normalisation, shared by the data build script and the matcher.

Follows the spirit of SPDX's matching guidelines: case, punctuation, bullets, quotes,
copyright lines, URLs and common spelling variants do not matter; words and their order do.
"""

from __future__ import annotations

import bisect
import functools
import html
import itertools
import json
import unicodedata
from collections.abc import Callable
from importlib import resources

from forkvet import rx

COPYRIGHT_LINE = rx.compile(
    # A run of comment marks and blanks (RE2 is linear; the words start with none of them).
    r"^[#*/;!\- \t]*(?:copyright\b|\(c\)|©|all rights reserved\.?[ \t]*$).*$",
    rx.IGNORECASE | rx.MULTILINE,
)
_URL = rx.compile(r"https?://\S+|www\.\S+")
_WORD = rx.compile(r"[a-z0-9]+")
# Spelling variants SPDX treats as equivalent (a small, frequent subset).
_EQUIV = {
    "licence": "license",
    "licences": "licenses",
    "licensor": "licensor",
    "acknowledgement": "acknowledgment",
    "analogue": "analog",
    "authorisation": "authorization",
    "authorised": "authorized",
    "behaviour": "behavior",
    "favour": "favor",
    "organisation": "organization",
    "sublicence": "sublicense",
    "noncommercial": "non commercial",
    "percent": "percent",
    "copyright": "copyright",
    "centre": "center",
    "whilst": "while",
}


def normalize_tokens(text: str) -> list[str]:
    text = text.lower()
    text = _URL.sub(" ", text)
    text = COPYRIGHT_LINE.sub(" ", text)
    text = text.replace("&", " and ")
    words = _WORD.findall(text)
    out: list[str] = []
    for w in words:
        rep = _EQUIV.get(w)
        if rep is None:
            out.append(w)
        else:
            out.extend(rep.split())
    return out


def _load_confusables() -> dict[int, str]:
    raw = resources.files("forkvet.data").joinpath("confusables.json").read_text("utf-8")
    table: dict[str, str] = json.loads(raw)["map"]
    return {int(k.removeprefix("U+"), 16): v for k, v in table.items()}


class _Fold(dict[int, str | None]):
    """str.translate table, filled as characters are met: a look-alike letter or dash becomes
    its ASCII twin, an invisible format character (soft hyphen, zero-width space, joiners)
    or a combining mark is dropped; anything else stays as it is."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        out = None if unicodedata.category(char) in ("Cf", "Mn", "Me") else char
        if len(self) < 100_000:  # a hostile text of every code point: bounded memory
            self[code] = out
        return out


_FOLD = _Fold(_load_confusables())
# Markup GitHub renders away: comments, tags, Markdown emphasis marks and the backslash of an
# escaped punctuation mark. Each piece is bounded, so an unclosed "<!--" or "<" costs a
# bounded look-ahead, not a scan to the end of the text (RE2: linear in all).
_MARKUP = rx.compile(
    r"<!--[^\x00]{0,1000}?-->|</?[A-Za-z][\w-]{0,30}(?:\s[^<>]{0,500})?/?>|\*+|\\([!-/:-@\[-`{-~])"
)
_MARKUP_CHARS = frozenset("<*\\&")


def _rendered(text: str) -> str:
    """Text as GitHub renders a Markdown or HTML file: markup dropped, then character
    references decoded ("non&#45;comm&shy;ercial" is what a reader sees as non-commercial)."""
    if not _MARKUP_CHARS.intersection(text):
        return text
    return html.unescape(_MARKUP.sub(lambda m: m.group(1) or "", text))


@functools.lru_cache(maxsize=16)  # one text is read by several clause patterns in turn
def fold(text: str) -> str:
    """Text as a reader sees it, for matching clauses: compatibility forms unified (NFKD:
    fullwidth and mathematical letters, ligatures), invisible characters and accents
    dropped, Cyrillic/Greek look-alike letters read as Latin. A hostile file cannot hide
    "non-commercial" from a pattern by spelling it with a soft hyphen or a Cyrillic o, an
    HTML entity, a tag, Markdown emphasis or spaces between its letters."""
    text = _rendered(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_FOLD)
    if " " in text:
        # Letter-spaced words read as words: "N O N - C O M M E R C I A L".
        text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    return text


_SPACED = rx.compile(r"\b(?:[A-Za-z] (?:- )?){3,}[A-Za-z]\b")


def bigrams(tokens: list[str]) -> set[int]:
    # Hash pairs to ints: sets of ints are several times smaller than sets of tuples.
    return {hash((a, b)) for a, b in itertools.pairwise(tokens)}


def line_of(text: str) -> Callable[[int], int]:
    """A function from an offset in text to its 1-based line number, for loops over many
    matches (text.count("\\n", 0, pos) for each match is quadratic on a hostile README)."""
    newlines: list[int] = []
    built = False

    def at(pos: int) -> int:
        nonlocal built
        if not built:
            newlines.extend(m.start() for m in rx.finditer("\n", text))
            built = True
        return bisect.bisect_left(newlines, pos) + 1

    return at
