"""License text normalisation, shared by the data build script and the matcher.

Follows the spirit of SPDX's matching guidelines: case, punctuation, bullets, quotes,
copyright lines, URLs and common spelling variants do not matter; words and their order do.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable

_COPYRIGHT_LINE = re.compile(
    # One possessive run of comment marks and blanks: no backtracking between overlapping sets.
    r"^[#*/;!\- \t]*+(?:copyright\b|\(c\)|©|all rights reserved\.?[ \t]*$).*$",
    re.IGNORECASE | re.MULTILINE,
)
_URL = re.compile(r"https?://\S+|www\.\S+")
_WORD = re.compile(r"[a-z0-9]+")
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
    text = _COPYRIGHT_LINE.sub(" ", text)
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
            newlines.extend(m.start() for m in re.finditer("\n", text))
            built = True
        return bisect.bisect_left(newlines, pos) + 1

    return at
