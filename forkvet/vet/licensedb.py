"""Identify a license text against every text on the SPDX license list.

Two passes, like askalono but with a cut-off and multi-license support:
1. word-set containment against all ~700 texts picks a short list (cheap);
2. word-bigram containment (how much of the license is present) and Dice (how much of the
   text is that license) rank the short list.
The bundled texts are SPDX's plain license texts (scripts/build_license_data.py reads
`licenseText`, which has no `<<var>>`/`<<beginOptional>>` template markup), so a template's
optional parts count as if required; a text that leaves them out matches through the
"inside the template" path of match_text.
Containment, not Dice alone, decides: a preamble or a README around the license text must not
hide it (licensee's failure mode). Matches explaining the same words are de-duplicated, so a
BSD-3-Clause text is not also reported as BSD-2-Clause, while a file holding two licenses
yields both.
"""

from __future__ import annotations

import gzip
import json
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from forkvet.vet.textnorm import bigrams, normalize_tokens

ACCEPT = 0.90  # bigram containment needed to name a license
PARTIAL = 0.60  # ...or this much of it, when the text lies inside the template
INSIDE = 0.92  # share of the text's bigrams found in the template for a partial match
SHORTLIST = 12


@dataclass(frozen=True)
class TextMatch:
    spdx: str
    name: str
    containment: float  # share of the license's bigrams found in the text
    dice: float
    osi: bool
    position: int = 0  # token index where the license text starts in the input


@dataclass
class _Entry:
    spdx: str
    name: str
    osi: bool
    raw: str  # normalised words joined by spaces; split only for the short list
    n_words: int  # distinct words
    _tokens: list[str] | None = None
    _bigrams: set[int] | None = None

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = self.raw.split()
        return self._tokens

    @property
    def bigrams(self) -> set[int]:
        if self._bigrams is None:
            self._bigrams = bigrams(self.tokens)
        return self._bigrams


def _load(name: str) -> dict[str, Any]:
    raw = resources.files("forkvet.data").joinpath(name).read_bytes()
    data: dict[str, Any] = json.loads(gzip.decompress(raw))
    return data


@cache
def _db() -> list[_Entry | None]:
    """Every license on the list, in the word index's order (texts under 8 words: None)."""
    data = _load("spdx_licenses.json.gz")
    index = _words()
    out: list[_Entry | None] = []
    for spdx, (n_tokens, n_words) in zip(index["ids"], index["sizes"], strict=True):
        meta = data[spdx]
        if n_tokens >= 8:
            out.append(_Entry(spdx, meta["name"], meta["osi"], meta["tokens"], n_words))
        else:
            out.append(None)
    return out


@cache
def _words() -> dict[str, Any]:
    # Built by scripts/build_license_data.py from the texts; tests check the two agree.
    data = _load("spdx_words.json.gz")
    # Each word's licenses as 16-bit indexes, not lists of int objects: 135,000 postings are
    # held for the whole run (about 6 MiB less).
    data["words"] = {w: array("H", ids) for w, ids in data["words"].items()}
    return data


def vocabulary() -> dict[str, Any]:
    """The words of the license texts (English, almost all): a word here is a word of terms."""
    words: dict[str, Any] = _words()["words"]
    return words


@cache
def _entries() -> list[_Entry]:
    return [e for e in _db() if e is not None]


def spdx_name(spdx: str) -> str | None:
    for e in _entries():
        if e.spdx == spdx:
            return e.name
    return None


def is_osi(spdx: str) -> bool:
    return any(e.spdx == spdx and e.osi for e in _entries())


def known_ids() -> set[str]:
    return {e.spdx for e in _entries()}


# A candidate template's score, the match it makes, and the text bigrams it explains.
_Ranked = list[tuple[float, TextMatch, set[int]]]


def match_text(text: str) -> list[TextMatch]:
    """All licenses found in text, best first; empty when nothing reaches the cut-off.

    A license is found when most of its text is present (containment), or, for texts that
    leave out a template's optional parts (the Creative Commons preamble and trailer, an
    appendix), when the text lies almost wholly inside the template and covers most of it.
    Among full matches the one explaining the most of the text wins: a BSD-3-Clause text
    contains the BSD-1-Clause template too, but BSD-3-Clause explains more of it.
    """
    tokens = normalize_tokens(text)
    if len(tokens) < 8:
        return []
    shortlist = _shortlist(set(tokens))
    cand_bigrams = bigrams(tokens)
    full, partial = _compare(shortlist, cand_bigrams)
    full = _near_twins_by_their_differences(
        sorted(full, key=lambda x: -x[0]), cand_bigrams, shortlist
    )
    ranked = [(m, inter) for _, m, inter in full] or [
        (m, inter) for _, m, inter in sorted(partial, key=lambda x: -x[0])[:1]
    ]
    accepted = _explaining(ranked)
    if len(accepted) > 1:
        accepted = _in_text_order(accepted, tokens)
    return accepted


def _shortlist(words: set[str]) -> list[_Entry]:
    """Templates sharing enough words with the text, most shared first (word containment
    bounds bigram containment from above, roughly: a cheap prune)."""
    db, postings = _db(), _words()["words"]
    shared: Counter[int] = Counter()
    for w in words:
        shared.update(postings.get(w, ()))
    scored = []
    for i, common in shared.items():
        e = db[i]
        if e is None:
            continue
        wc = common / e.n_words
        if wc >= ACCEPT - 0.05 or (wc >= PARTIAL - 0.05 and common / len(words) >= INSIDE - 0.05):
            scored.append((wc, e))
    scored.sort(key=lambda x: -x[0])
    return [e for _, e in scored[: SHORTLIST * 4]]


def _compare(shortlist: list[_Entry], cand_bigrams: set[int]) -> tuple[_Ranked, _Ranked]:
    """(full matches, partial matches) by bigram containment, each with its rank score."""
    full: _Ranked = []
    partial: _Ranked = []
    for e in shortlist:
        inter = e.bigrams & cand_bigrams
        containment = len(inter) / max(1, len(e.bigrams))
        inside = len(inter) / max(1, len(cand_bigrams))
        dice = 2 * len(inter) / (len(e.bigrams) + len(cand_bigrams))
        if containment >= ACCEPT:
            m = TextMatch(e.spdx, e.name, round(containment, 4), round(dice, 4), e.osi)
            # Ranked by how much of the text it explains, less a quarter of the template's
            # bigrams the text lacks: an Apache-2.0 file without its optional appendix is
            # Apache-2.0, not Pixar (Apache minus the appendix, one clause changed), and a
            # whole Apache-2.0 text is not ECL-2.0 (Apache plus a paragraph) for two words a
            # preamble happens to share with ECL.
            missing = len(e.bigrams) - len(inter)
            full.append((len(inter) - missing / 4, m, inter))
        elif containment >= PARTIAL and inside >= INSIDE:
            # Reported containment is capped below ACCEPT: a partial text is weaker evidence.
            conf = round(min(ACCEPT - 0.05, 0.6 + 0.3 * containment), 4)
            m = TextMatch(e.spdx, e.name, conf, round(dice, 4), e.osi)
            partial.append((inside + containment, m, inter))
    return full, partial


def _explaining(ranked: list[tuple[TextMatch, set[int]]]) -> list[TextMatch]:
    """The best match, then each further one that explains mostly text the earlier did not."""
    accepted: list[TextMatch] = []
    explained: set[int] = set()
    for m, inter in ranked:
        new = len(inter - explained) / max(1, len(inter))
        if accepted and new < 0.5:
            continue
        accepted.append(m)
        explained |= inter
    return accepted


def _in_text_order(accepted: list[TextMatch], tokens: list[str]) -> list[TextMatch]:
    """Several licenses: each with where it starts, the text's first one first (the
    document's own license; later ones are appended)."""
    ordered = [hash(p) for p in pairwise(tokens)]
    by_id = {e.spdx: e for e in _entries()}
    located = [
        TextMatch(
            m.spdx, m.name, m.containment, m.dice, m.osi, _start(ordered, by_id[m.spdx].bigrams)
        )
        for m in accepted
    ]
    located.sort(key=lambda m: m.position)
    return located


def _near_twins_by_their_differences(
    full: list[tuple[float, TextMatch, set[int]]], text: set[int], shortlist: list[Any]
) -> list[tuple[float, TextMatch, set[int]]]:
    """A full match with a near-twin template (Pixar is Apache-2.0 without the appendix and
    one clause changed): the twin whose own clauses the text holds wins, when the text lacks
    most of what sets the leader apart, even if the twin's optional part is missing too."""
    if not full:
        return full
    lead = full[0][1]
    a = template_bigrams(lead.spdx)
    for e in shortlist:
        b = e.bigrams
        if e.spdx == lead.spdx or not a or len(a & b) < 0.8 * len(a | b):
            continue
        own_a, own_b = len((a - b) & text), len((b - a) & text)
        # A changed clause (20+ bigrams), not a few words of a BSD variant.
        if own_b > own_a and len(a - b) >= 20 and own_a < 0.5 * len(a - b):
            inter = b & text
            containment = round(len(inter) / max(1, len(b)), 4)
            dice = round(2 * len(inter) / (len(b) + len(text)), 4)
            twin = TextMatch(e.spdx, e.name, max(containment, ACCEPT), dice, e.osi)
            return [(full[0][0], twin, inter), *full[1:]]
    return full


def template_bigrams(spdx: str) -> set[int]:
    for e in _entries():
        if e.spdx == spdx:
            return e.bigrams
    return set()


def template_tokens(spdx: str) -> str:
    """The normalised words of a license on the list, joined by spaces ("" if unknown)."""
    for e in _entries():
        if e.spdx == spdx:
            return e.raw
    return ""


def _start(ordered: list[int], template: set[int], window: int = 30) -> int:
    """First token index where a window of the text is mostly this license."""
    window = min(window, len(ordered))
    if window == 0:
        return 0
    hits = [h in template for h in ordered]
    count = sum(hits[:window])
    for i in range(len(hits) - window + 1):
        if count >= 0.8 * window:
            return i
        if i + window < len(hits):
            count += hits[i + window] - hits[i]
    return len(ordered)
