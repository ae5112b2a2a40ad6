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
from forkvet.vet.shown import as_shown

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
    text = _rendered(as_shown(text))  # shortcodes and HTML tables as shown (round 23)
    if not text.isascii():
        if "\u202e" in text:
            text = _OVERRIDDEN.sub(lambda m: m.group(1)[::-1], text)
        text = unicodedata.normalize("NFKD", text).translate(_FOLD)
    if "non" in text or "NON" in text or "Non" in text:
        # "non·commercial", "non/commercial", "non_commercial": any separator between "non"
        # and the word it negates reads as the hyphen a reader sees there.
        text = _NON_SEPARATED.sub(r"\1-\2", text)
    if " " in text:
        # Letter-spaced words read as words: "N O N - C O M M E R C I A L".
        text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    text = _misspelt(_unabbreviated(text))
    if "?" in text:
        # A terse question and its answer, "Commercial use? Nope.", read as a label and its
        # value ("Commercial use: Nope."), so that a sentence split keeps them together.
        text = _ASKED.sub(lambda m: m.group(1) + ":", text)
    return text


# A right-to-left override shows its text reversed ("U+202E laicremmoc-non U+202C" shows
# "non-commercial"): read as shown, up to its pop, the next override or the line end.
_OVERRIDDEN = rx.compile("\u202e([^\u202a-\u202e\u2066-\u2069\n]{0,500})")
_NON_SEPARATED = rx.compile(r"(?i)\b(non)(?:[ \t]*(?:[^\w\s-]|-{2,3})[ \t]*|_+)(commerc|profit)")


def disguised(text: str) -> bool:
    """Whether fold() may read a word in text otherwise than as written: a character outside
    ASCII, a separator after "non", a key word written with digits, one two edits away. A
    text for which this is False reads the same folded (for cheap pre-filters)."""
    if not text.isascii() or _NON_SEPARATED.search(text) or _SPACED.search(text):
        return True
    if any(not m.group(0).isalpha() for m in _LEET_KEY.finditer(text)):
        return True
    return bool(_two_edits(set(text.lower().translate(_TO_BLANK).split())))


_ASKED = rx.compile(r"(?i)\b(commercial(?:ly)?(?:\s+(?:use|usage|purposes?))?)\s*\?+")
_SPACED = rx.compile(r"\b(?:[A-Za-z] (?:- )?){3,}[A-Za-z]\b")

# "Commercial" in the languages research code is written in besides English (read by
# licenseterms' foreign-commercial clause). A word holding one of these stems is a word of its
# own language ("comercial", "commerciale"), never read as a misspelt English word below.
FOREIGN_COMMERCE_STEMS = (
    "商用",
    "商业",
    "商業",
    "营利",
    "營利",
    "営利",
    "盈利",
    "상업",
    "영리",
    "коммерч",
    "комерц",
    "прибыл",  # profit: "use for profit is prohibited"
    "lucro",
    "profitto",
    "gewinn",
    "kommerz",
    "gewerblich",
    "kommersi",
    "kommerci",
    "commercieel",
    "commerciele",
    "commerciale",
    "commerciali",
    "commerciaux",
    "comercial",
    "komercyj",
    "komercni",
    "kaupalli",
    "ticari",
    "komersial",
    "thuong mai",
    "تجاري",
    "व्यावसायिक",
)


# The words the terms hinge on. A reader understands "commerical", "comercial", "c0mmercial",
# "commerciaI" (a capital I for an l) and "commer-\ncial" (a word hyphenated across a line) as
# the word itself, so each is read as the word: every spelling one edit away (a letter or digit
# dropped, added, changed, or two neighbours swapped), digits 0/1 and a capital I between
# lower-case letters read as o/l/l, and a word hyphenated at a line end joined when the joined
# word is one of these. The words are chosen so that no English word is one edit away from
# them ("license" is not one: "licensee" and "licensed" are other words).
KEY_WORDS = (
    "commercial",
    "commercially",
    "noncommercial",
    "commercialize",
    "commercialise",
    "commercialization",
    "commercialisation",
    "research",
)
_EDIT_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _EDIT_ALPHABET}
    out |= {a + c + b for a, b in splits for c in _EDIT_ALPHABET}
    return out


def _misspellings() -> dict[str, str]:
    table: dict[str, str] = {}
    for key in KEY_WORDS:
        for variant in _one_edit(key):
            table.setdefault(variant, key)
    for key in KEY_WORDS:  # a key word is never another's misspelling
        table.pop(key, None)
    return {
        variant: key
        for variant, key in table.items()
        if not any(stem in variant for stem in FOREIGN_COMMERCE_STEMS)
    }


_MISSPELT = _misspellings()
# Punctuation and symbols to blanks, so that str.split() yields the words (C speed).
_TO_BLANK = {c: " " for c in range(0x21, 0x7F) if not chr(c).isalnum()}
# A digit 0 or 1 between letters, a capital I after a lower-case letter ("c0mmercial", "n0n",
# "commerc1al", "commerciaI"): read as o, l and l.
_LOOKALIKE = rx.compile(r"[A-Za-z][01]+[A-Za-z]|[a-z]I")
_DIGIT_AS = str.maketrans("01", "ol")
# Leetspeak: other digits in a word read as letters ("n0n-c0mm3rc14l"), but only where the
# word then reads as a key word or "non" (a model name such as "gpt4o" stays as written).
_LEET_AS = str.maketrans("0134579", "oleastg")
_LEET_OF = {"o": "0", "l": "1", "i": "1", "e": "3", "a": "4", "s": "5", "t": "7", "g": "9"}
# The start of a key word or "non" with any of its letters written as digits (a match with
# no digit is the word itself, left to the cheap path).
_LEET_KEY = rx.compile(
    r"(?i)\b(?:"
    + "|".join(
        "".join(f"[{c}{_LEET_OF[c]}]" if c in _LEET_OF else c for c in k[:6])
        for k in sorted({k[:6] for k in KEY_WORDS} | {"non"})
    )
    + ")"
)
# A word broken at a line end with a hyphen: "commer-\ncial" (a quote or list mark may open
# the next line).
_WRAPPED = rx.compile(r"\b([A-Za-z]{2,30})-[ \t]*\r?\n[ \t>]*([A-Za-z]{2,30})\b")
_WORDS = rx.compile(r"([A-Za-z0-9]+)")
# A key word broken anywhere by a line end (with or without a hyphen: GitHub renders
# "commer⏎cial" as "commer cial"), by a blank or by hyphens, once or several times
# ("com-⏎mer-⏎cial"): read as the word. Each letter of each key word, then an optional break.
_BREAK = r"(?:-?[ \t]*\r?\n[ \t>]*|[ \t]|-)"
_SPLIT_KEY_WORD = rx.compile(
    r"(?i)\b(?:"
    + "|".join(f"{_BREAK}?".join(rx.escape(c) for c in k) for k in sorted(KEY_WORDS, key=len)[::-1])
    + r")\b"
)


def _rejoined(m: rx.Match[str]) -> str:
    """A key word written with breaks, read whole (its words unchanged when unbroken)."""
    found = m.group(0)
    if _UNBROKEN.fullmatch(found):  # "non-commercial" is the word as written
        return found
    return "".join(c for c in found if c.isalpha()).lower()


_UNBROKEN = rx.compile(r"(?i)(?:non[- ]?)?[a-z]+")


def _load_term_words() -> tuple[rx.Pattern[str], dict[str, str]]:
    """`forkvet/data/term_words.json`: one pattern for every abbreviation after "non-" and
    every synonym, and what each (lower-cased) stands for."""
    raw = resources.files("forkvet.data").joinpath("term_words.json").read_text("utf-8")
    table = json.loads(raw)
    means: dict[str, str] = {}
    after_non = [(a, w) for w, abbrs in table["after_non"].items() for a in abbrs]
    synonyms = [(a, w) for w, syns in table["synonyms"].items() for a in syns]
    alternatives = []
    for abbr, word in sorted(after_non, key=lambda p: -len(p[0])):
        alternatives.append(rf"\bnon[-\s]?{rx.escape(abbr)}(?:\.|\b)(?:[^\w]|$)")
        means[f"non-{abbr}"] = f"non-{word}"
    for syn, word in synonyms:
        alternatives.append(rf"\b{rx.escape(syn)}\b")
        means[syn] = word
    return rx.compile("(?i)" + "|".join(alternatives)), means


_ABBREVIATED, _MEANS = _load_term_words()
_NON_SPELLING = rx.compile(r"(?i)^non[-\s]?")


def _unabbreviated(text: str) -> str:
    """Abbreviations and synonyms of the key words read as the words ("non-comm." is
    "non-commercial", "no lucrative use" is "no commercial use"); RE2, linear."""
    return _ABBREVIATED.sub(_expand, text)


def _expand(m: rx.Match[str]) -> str:
    found = m.group(0)
    core = found.rstrip(".").rstrip()
    tail = found[len(core) :]
    key = _NON_SPELLING.sub("non-", core.lower()).rstrip(".")
    word = _MEANS.get(key.rstrip())
    if word is None:
        return found
    return word + (" " if tail.startswith(".") else tail)


def _key_word(word: str) -> str | None:
    lower = word.lower()
    if lower in KEY_WORDS:
        return lower
    return _MISSPELT.get(lower)


def _joined(m: rx.Match[str]) -> str:
    joined = m.group(1) + m.group(2)
    key = _key_word(joined)
    return key if key is not None else m.group(0)


def _misspelt(text: str) -> str:
    """Key words read as the reader reads them (see KEY_WORDS): each misspelling replaced by
    its word (RE2 and dictionary look-ups, linear in the text)."""
    if "-" in text and "\n" in text:
        text = _WRAPPED.sub(_joined, text)
    text = _SPLIT_KEY_WORD.sub(_rejoined, text)
    lookalike = _LOOKALIKE.search(text) is not None or any(
        not m.group(0).isalpha() for m in _LEET_KEY.finditer(text)
    )
    words = set(text.lower().translate(_TO_BLANK).split())
    further = _two_edits(words)
    if not lookalike and not further and _MISSPELT.keys().isdisjoint(words):
        return text  # the common case: C-speed passes, nothing to read otherwise
    # Every word looked up once, however many distinct misspellings there are (no cap a text
    # could fill with decoys): the text cut into words and the rest (linear).
    pieces = _WORDS.split(text)
    for i in range(1, len(pieces), 2):
        word = _unlooked(pieces[i]) if lookalike else pieces[i]
        lower = word.lower()
        pieces[i] = _MISSPELT.get(lower) or further.get(lower) or word
    return "".join(pieces)


# Two edits away is still the word for the long key words ("non-comercal"), unless the word
# holds a key word itself ("commercials", "uncommercial", "noncommercially" are words).
_LONG_KEYS = tuple(k for k in KEY_WORDS if len(k) >= 10)


def _two_edits(words: set[str]) -> dict[str, str]:
    """{word: key word} for the words two edits from a long key word (a cheap filter on
    length and letters first, then a bounded edit distance; each distinct word once)."""
    out: dict[str, str] = {}
    for word in [w for w in words if 8 <= len(w) <= 17 and "c" in w[:2] and "m" in w]:
        if word in _MISSPELT or any(k in word for k in ("commercial", "research")):
            continue
        if any(stem in word for stem in FOREIGN_COMMERCE_STEMS):
            continue
        key = next((k for k in _LONG_KEYS if _within_two(word, k)), None)
        if key is not None:
            out[word] = key
    return out


def _within_two(a: str, b: str) -> bool:
    """Levenshtein distance of a and b at most 2 (a banded table: linear in the length)."""
    if abs(len(a) - len(b)) > 2:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [3] * len(b)
        for j in range(max(1, i - 2), min(len(b), i + 2) + 1):
            cost = 0 if ca == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        if min(cur) > 2:
            return False
        prev = cur
    return prev[-1] <= 2


def _unlooked(word: str) -> str:
    """A word with its look-alike digits and capitals as letters: 0 and 1 in a word of
    letters (at least two) and no other digits, a capital I after a lower-case letter."""
    if "0" in word or "1" in word:
        letters = sum(c.isalpha() for c in word)
        digits = word.count("0") + word.count("1")
        if (
            letters >= 2
            and letters + digits == len(word)
            and word[0].isalpha()
            and word[-1].isalpha()
        ):
            word = word.translate(_DIGIT_AS)
    if not word.isalpha():
        leet = word.translate(_LEET_AS)
        if leet.isalpha() and (leet.lower() == "non" or _key_word(leet) is not None):
            word = leet
    if "I" in word and not word.isupper():
        word = word[0] + "".join(
            "l" if c == "I" and word[k].islower() else c for k, c in enumerate(word[1:])
        )
    return word


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
