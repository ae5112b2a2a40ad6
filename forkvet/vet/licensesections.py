"""The shape of a license file: its own grant, appended third-party notices, its title.

Research code often ships one LICENSE holding the project's grant followed by the licenses of
code it copied ("LICENSE FOR pytorch-CycleGAN ----", "THIRD-PARTY SOFTWARE NOTICES"). The
grant at the top governs; the notices are listed, never taken as the project's license.
Also: the SPDX expression checks, and custom licenses' LicenseRef ids.
"""

from __future__ import annotations

import itertools
from functools import cache

from forkvet import rx
from forkvet.vet import licensedb

# A line that starts the third-party part of a license file.
_NOTICE_HEAD = rx.compile(
    r"^\W*(?:"
    r"(?:third|3rd)[- ]party\b|"
    r"(?:the\s+)?following\s+(?:(?:third|3rd)[- ]party\s+|open[- ]source\s+)?"
    r"(?:components?|software|projects?|librar(?:y|ies)|files|code|packages|works)\b|"
    r"this\s+(?:software|project|repository|repo|code|codebase|product|package|work|library)\s+"
    r"(?:also\s+)?(?:contains|includes|incorporates|uses|bundles|is\s+(?:partly\s+)?based\s+on|"
    r"is\s+derived\s+from|borrows|adapts)\b|"
    r"(?:some\s+)?(?:portions|parts)\s+of\s+th(?:is|e)\s+(?:code|software|project|repository)|"
    # Not "licenses for this ..." / "... the software": `_notice_head` reads group `what`.
    r"(?:licen[cs]es?|copyright(?:\s+notices?)?|notices?)\s+(?:for|of|from)\s+(?P<what>\S[^\n]{0,20})|"
    r"other\s+(?:dependencies|licen[cs]es|components)|"
    r"open\s+source\s+software\s+licen[cs]ed\s+under|"
    r"(?:original|upstream|included|bundled|vendored)\s+(?:code\s+)?licen[cs]es?\b|"
    r"code\s+(?:in|under)\s+\S+\s+(?:is|was)\s+(?:adapted|copied|taken)\s+from|"
    r"(?:adapted|copied|taken|borrowed)\s+from\b"
    r")",
    rx.I,
)
_OWN = rx.compile(r"(?i)(?:this|the\s+software)\b")


def _notice_head(line: str) -> bool:
    m = _NOTICE_HEAD.match(line)
    if m is None:
        return False
    what = m.group("what")
    return what is None or _OWN.match(what) is None


# "------ LICENSE FOR pix2pix ------": a heading between rules is a new section.
_RULED_HEADING = rx.compile(r"^\s*[-=*#~_]{3,}\s*(\S.{0,100}?)\s*[-=*#~_]{3,}\s*$")
_RULE = rx.compile(r"^\s*[-=*#~_]{5,}\s*$")


def split_notices(text: str) -> tuple[str, list[str]]:
    """(the file's own part, [appended notice sections]). The own part is never empty."""
    lines = text.splitlines(keepends=True)
    cuts: list[int] = []
    words_before = 0
    prev_blank = True
    for i, line in enumerate(lines):
        stripped = line.strip()
        short = len(stripped) <= 160  # headings are short; long lines never reach the regexes
        heading = _RULED_HEADING.match(stripped) if short else None
        ruled = bool(heading and rx.search(r"[a-z]{3}", heading.group(1), rx.I))
        after_break = prev_blank or bool(
            i and len(lines[i - 1]) < 200 and _RULE.match(lines[i - 1])
        )
        opens = short and (ruled or (after_break and _notice_head(stripped)))
        if words_before >= 8 and opens:
            cuts.append(i)
        words_before += len(stripped.split())
        prev_blank = not stripped or (short and bool(_RULE.match(stripped)))
    if not cuts:
        return text, []
    bounds = [*cuts, len(lines)]
    own = "".join(lines[: cuts[0]])
    notices = ["".join(lines[a:b]) for a, b in itertools.pairwise(bounds)]
    return own, [n for n in notices if n.strip()]


_TITLE_WORDS = rx.compile(r"licen[cs]e|agreement|terms|copying|public\s+domain", rx.I)


def title_lines(text: str, limit: int = 4) -> list[str]:
    """The first few short non-empty lines: where a file names its license."""
    out = []
    for line in text.splitlines():
        line = line.strip().strip("#*_=-").strip()
        if not line:
            continue
        if len(line) <= 100:
            out.append(line)
        if len(out) >= limit:
            break
    return out


def custom_ref(text: str, fallback: str) -> str:
    """A LicenseRef id for a custom text: from its title line, else from the file name."""
    for line in title_lines(text, 6):
        if rx.match(r"(?i)\(?c\)|copyright|©|all rights", line) or not _TITLE_WORDS.search(line):
            continue
        words = rx.findall(r"[A-Za-z0-9]+(?:\.[0-9]+)?", line)
        if 2 <= len(words) <= 12:
            return "LicenseRef-" + "-".join(words[:8])
    slug = "-".join(rx.findall(r"[A-Za-z0-9]+", fallback))[:60] or "Custom"
    return f"LicenseRef-{slug}"


# -- "you may choose" ----------------------------------------------------------------------------
_CHOICE = rx.compile(
    r"dual[-\s]*licen[sc]ed|dual\s+(?:\S+\s+){0,3}licen[sc]e|multi[- ]licen[sc]ed|"
    r"at\s+your\s+(?:option|choice|discretion)|you\s+(?:may|can)\s+(?:choose|select|pick)|"
    r"(?:your|the)\s+choice\s+of|choose\s+(?:either|one|any|which)|"
    r"(?:either|any)\s+(?:of\s+)?(?:the\s+)?(?:(?:following|these|both)\s+)?licen[sc]es?\b|"
    r"\bindividually\s+or\s+in\s+concert|licen[sc]ed\s+under\s+(?:either|any)\b|"
    r"either\s+(?:the\s+)?[\w.\- ]{2,40}?\s+(?:licen[sc]e\s+)?or\s+(?:the\s+)?[\w.\- ]{2,40}?"
    r"licen[sc]e",
    rx.I,
)


def says_choice(text: str, template: str = "") -> bool:
    """Whether text offers a choice between licenses, outside the words of a license template
    (the GPL itself says "at your option" about later versions)."""
    # Read 400-character windows around the first 200 key words only: bounded on hostile
    # input, and a phrase wrapped over two lines still reads as one. Text a reader never sees
    # (an HTML comment, a Markdown link definition) offers nothing (round 20, L12).
    if "<!--" in text or "]:" in text:
        text = _UNSEEN.sub(" ", text)
    flat = " ".join(text.split())
    lower = flat.lower()
    hits = sorted(m.start() for m in rx.finditer("|".join(_CHOICE_WORDS), lower))[:200]
    last_end = -1
    for pos in hits:
        start = max(0, pos - 200)
        if start < last_end - 100:  # this hit's window is mostly read already
            continue
        last_end = pos + 200
        if _choice_in(flat[start:last_end], template):
            return True
    return False


_UNSEEN = rx.compile(r"(?ms)<!--.*?(?:-->|\z)|^[ ]{0,3}\[[^\]\n]{1,999}\]:[^\n]*$")
_CHOICE_WORDS = ("licen", "dual", "option", "choose", "choice", "individually")


def _choice_in(text: str, template: str) -> bool:
    for m in _CHOICE.finditer(text):
        phrase = " ".join(rx.findall(r"[a-z0-9]+", m.group(0).lower()))
        if template and phrase in template:
            continue
        if "licen" not in phrase and not _about_licenses(text, m.start(), m.end()):
            continue  # "At your option, use the small or the large config."
        return True
    return False


def _about_licenses(text: str, start: int, end: int) -> bool:
    """The sentence around a choice phrase speaks of licenses."""
    head = max(text.rfind(c, 0, start) for c in ".!?\n")
    tails = [i for i in (text.find(c, end) for c in ".!?\n") if i >= 0]
    return "licen" in text[head + 1 : min(tails, default=len(text))].lower()


# -- SPDX expressions ----------------------------------------------------------------------------
_REF = rx.compile(r"(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+")


@cache
def _ids() -> frozenset[str]:
    return frozenset(i.lower() for i in licensedb.known_ids())


def valid_expression(expr: str) -> bool:
    """An SPDX license expression of known ids and LicenseRef- ids, AND/OR/WITH and brackets."""
    tokens = rx.findall(r"\(|\)|[^\s()]+", expr)
    pos = 0

    def atom() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            return False
        tok = tokens[pos]
        if tok == "(":
            pos += 1
            if not compound() or pos >= len(tokens) or tokens[pos] != ")":
                return False
            pos += 1
            return True
        base = tok[:-1] if tok.endswith("+") else tok
        if not (_REF.fullmatch(tok) or base.lower() in _ids()):
            return False
        pos += 1
        if pos < len(tokens) and tokens[pos] == "WITH":
            pos += 1
            if pos >= len(tokens) or not rx.fullmatch(r"[A-Za-z0-9.\-]+", tokens[pos]):
                return False
            pos += 1
        return True

    def compound() -> bool:
        nonlocal pos
        if not atom():
            return False
        while pos < len(tokens) and tokens[pos] in ("AND", "OR"):
            pos += 1
            if not atom():
                return False
        return True

    return bool(tokens) and compound() and pos == len(tokens)
