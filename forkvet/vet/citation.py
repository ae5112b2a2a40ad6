"""Check 8: how to cite the work — CITATION.cff, BibTeX in the README, arXiv ids, authors."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from forkvet import rx, safeyaml
from forkvet.report import Finding
from forkvet.vet.context import Context
from forkvet.vet.textnorm import line_of

CHECK = "citation"
_ARXIV = rx.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s*)(\d{4}\.\d{4,5}|[a-z-]+/\d{7})(?:v\d+)?", rx.I
)
_DOI = rx.compile(r"\b(10\.\d{4,9}/[^\s\"'<>)\]]+)")
_BIB_START = rx.compile(
    r"@(article|inproceedings|misc|conference|incollection|book|"
    r"techreport|phdthesis|unpublished|software)\s*\{",
    rx.I,
)


# Entries looked at in one text: a hostile 2 MB of `@article{` once cost 90 s of CPU.
_MAX_BIB_STARTS = 2000


def bibtex_blocks(text: str, limit: int | None = None) -> list[str]:
    """Balanced-brace BibTeX entries found in free text (the first `limit` of them)."""
    out: list[str] = []
    scanned = 0  # an entry never starts inside one that did not close: each byte read once
    for n, m in enumerate(_BIB_START.finditer(text)):
        if (limit is not None and len(out) >= limit) or n >= _MAX_BIB_STARTS:
            break
        if m.start() < scanned:
            continue
        depth = 0
        end = min(len(text), m.end() + 5000)
        scanned = end
        for i in range(m.end() - 1, end):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[m.start() : i + 1])
                    scanned = i + 1
                    break
    return out


def _bib_field(entry: str, name: str) -> str | None:
    m = rx.search(rf"\b{name}\s*=\s*[{{\"](.+?)[}}\"]\s*,?\s*\n", entry, rx.I | rx.S)
    if not m:
        return None
    return rx.sub(r"[{}]", "", " ".join(m.group(1).split()))


def _from_cff(text: str) -> dict[str, Any] | None:
    try:
        data = safeyaml.load(text)
    except (safeyaml.YamlLimitError, safeyaml.YamlValueError):
        raise  # said as a notice by the caller
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    pref_raw = data.get("preferred-citation")
    pref: dict[str, Any] = pref_raw if isinstance(pref_raw, dict) else data
    authors = []
    for a in pref.get("authors") or data.get("authors") or []:
        if isinstance(a, dict):
            name = " ".join(str(a[k]) for k in ("given-names", "family-names") if a.get(k))
            authors.append(name or str(a.get("name", "")))
    year = pref.get("year") or str(pref.get("date-released") or "")[:4] or None
    return {
        "title": pref.get("title") or data.get("title"),
        "authors": [a for a in authors if a],
        # a year: four digits (a quoted 5,000-digit "year" is past int()'s limit)
        "year": int(year) if year and str(year).isdigit() and len(str(year)) <= 4 else None,
        "doi": pref.get("doi") or data.get("doi"),
        "url": pref.get("url") or data.get("url"),
    }


_CITE_HEADING = rx.compile(r"(?i)cit(?:e|ing|ation)|bibtex|reference|publication|paper")
_HEADING = rx.compile(r"^\s{0,3}(#{1,6})\s+(.+)$|^(.+)\n[=-]{3,}\s*$", rx.M)
# A link labelled only with these words points at the repository's own paper.
_OWN_LABEL_WORDS = frozenset(
    [
        "paper",
        "arxiv",
        "pdf",
        "preprint",
        "tech",
        "technical",
        "report",
        "article",
        "abs",
        "full",
        "our",
        "the",
        "an",
        "a",
        "link",
        "here",
        "version",
        "v1",
        "v2",
        "extended",
    ]
)


class _OwnLabel:
    @staticmethod
    def match(label: str) -> bool:
        words = rx.findall(r"[a-z0-9]+", label.lower())
        return bool(words) and all(w in _OWN_LABEL_WORDS for w in words)


_OWN_LABEL = _OwnLabel()
_OWN_LINE = rx.compile(
    r"(?i)^\W*(?:paper|arxiv|pdf|preprint)\s*[:|]|img\.shields\.io|badge|"
    r"\b(?:our|full)\s+paper\b|"
    r"\b(?:the|our)\s+(?:paper|preprint)\s+(?:can\s+be\s+found|is\s+(?:available|on|at))\b"
)
# "This implements ... from [Paper](arxiv)": the paper the code is the implementation of.
_IMPLEMENTS = rx.compile(
    r"(?i)\b(?:implement(?:s|ation|ing|ed)?|(?:code|codebase|code ?release|source code|"
    r"repository|repo) (?:for|of)|official|reproduc\w*|accompan\w*|"
    r"(?:described|introduced|proposed|presented) in|from the paper)\b"
)
_THEIR = rx.compile(r"(?i)\b(?:also|their|original|following works?|baselines?|related)\b")


def _heading_before(text: str, pos: int) -> str:
    last = ""
    for m in _HEADING.finditer(text, 0, pos):
        last = m.group(2) or m.group(3) or ""
    return last


def own_bibtex(text: str) -> str | None:
    """The BibTeX the README asks you to cite for this repository, not one it mentions."""
    scored: list[tuple[int, int, str]] = []
    for i, entry in enumerate(bibtex_blocks(text)[:20]):
        at = text.find(entry)
        before = text[max(0, at - 400) : at]
        score = 0
        if _CITE_HEADING.search(_heading_before(text, at)):
            score += 2
        if rx.search(r"(?i)\bcit(?:e|ing)\b", before):
            score += 1
        if _THEIR.search(before[-200:]):
            score -= 2
        scored.append((-score, i, entry))
    # One the prose around it calls someone else's ("also cite their paper") is not it.
    return min(scored)[2] if scored and -min(scored)[0] >= 0 else None


def _bib_arxiv(entry: str) -> str | None:
    m = rx.search(r"(?i)eprint\s*=\s*[{\"]\s*(\d{4}\.\d{4,5})", entry) or _ARXIV.search(entry)
    return m.group(1) if m else None


def _words(title: str) -> set[str]:
    return {w for w in rx.findall(r"[a-z0-9-]{4,}", title.lower())}


@dataclass
class _Paper:
    """What the README says about its own paper, for scoring each arXiv link."""

    text: str
    bib: str | None
    title_words: set[str]
    short: str  # "ESRGAN: Enhanced ..." -> "esrgan"
    first_heading: int
    lines_at: Callable[[int], int]
    headings: list[tuple[int, str]]  # (where, title) of every heading, in order
    heading_starts: list[int]  # where each heading is (bisected for every link)
    under_title: bool = False  # the first link under the title only: the next is another's


@dataclass
class _Link:
    """One arXiv link: its line, the label of the Markdown link it sits in, the words that
    lead to it."""

    line: str
    lineno: int
    label: str
    lead: str
    start: int
    heading: str = ""  # the section it is in


def own_arxiv(text: str, title: str | None, bib: str | None) -> str | None:
    """The repository's own arXiv id: in its BibTeX, its title or badge lines, a link labelled
    "paper", or the only one near the top. Papers it merely mentions are not it."""
    if bib:
        found = _bib_arxiv(bib)
        if found:
            return found
    paper = _paper(text, title, bib)
    software = bool(bib) and _cites_software(bib or "")
    candidates: list[tuple[int, str, bool]] = []
    for arxiv_id, link in _links(paper):
        score, other_title = _link_score(paper, link)
        # The README's BibTeX names the own paper: a link labelled with another title is not it.
        if score <= 0 or (bib and other_title) or _bib_disagrees(paper, link):
            continue
        # A BibTeX of the code itself (a GitHub URL, @software): the code may implement
        # someone else's paper, so only a link the authors claim ("our paper", [Paper]) is own.
        if software and not _claimed(link):
            continue
        candidates.append((-score, arxiv_id, link.lineno <= paper.first_heading))
    return _best(candidates)


# `[ref]: https://arxiv.org/abs/…`: a Markdown reference definition, used elsewhere as
# `[label][ref]` or `[ref]`.
_REF_DEF = rx.compile(r"^[ \t]{0,3}\[([^\]\n]{1,100})\]:[ \t]*<?(?:https?://)?(?:www\.|export\.)?$")
_HTML_HREF = rx.compile(
    r"(?i)<a\s[^<>]{0,200}href\s*=\s*[\"']\s*(?:https?://)?(?:www\.|export\.)?$"
)
_HTML_TEXT = rx.compile(r"^[^\"'<>\s]{0,100}[\"'][^<>]{0,200}>([^<]{1,150})</a>", rx.I)


def _links(paper: _Paper) -> list[tuple[str, _Link]]:
    """Every arXiv link of the README with its words: inline Markdown and HTML links, and for
    a reference definition each place that uses it (the first 500 links decide)."""
    text = paper.text
    out: list[tuple[str, _Link]] = []
    lower: str | None = None
    seen_refs: dict[str, list[_Link]] = {}  # reference name -> the places that use it
    for n, m in enumerate(_ARXIV.finditer(text)):
        if n >= 500:
            break  # a README of thousands of arXiv links: the first 500 decide
        line_start = text.rfind("\n", max(0, m.start() - 300), m.start()) + 1
        ref = _REF_DEF.match(text[line_start : m.start()])
        if ref is None:
            out.append((m.group(1), _link(paper, m)))
            continue
        if lower is None:
            # References match case-insensitively; a text whose lower case changes its
            # length (a dotted capital I) is searched as written, so positions still agree.
            folded = text.lower()
            lower = folded if len(folded) == len(text) else text
        key = ref.group(1).lower()
        if key not in seen_refs and len(seen_refs) < 100:
            seen_refs[key] = _ref_uses(paper, lower, ref.group(1))
        uses = seen_refs.get(key, [])
        out += [(m.group(1), link) for link in uses] or [(m.group(1), _link(paper, m))]
    return out


def _ref_uses(paper: _Paper, lower: str, ref: str) -> list[_Link]:
    """The places `[label][ref]`, `[ref][]` or `[ref]` use a reference definition (at most 5)."""
    text, needle = paper.text, f"[{ref.lower()}]"
    links: list[_Link] = []
    at = lower.find(needle)
    for _ in range(50):  # a README repeating one reference thousands of times: 50 looks
        if at < 0 or len(links) >= 5:
            break
        end = at + len(needle)
        if text[end : end + 1] not in (":", "("):  # not the definition, not an inline link
            label, link_at = ref, at
            if at > 0 and text[at - 1] == "]":  # [label][ref]
                link_at = text.rfind("[", max(0, at - 300), at - 1)
                label = text[link_at + 1 : at - 1] if link_at >= 0 else ref
                link_at = max(link_at, 0)
            links.append(_link_at(paper, at, end, " ".join(label.split()), link_at))
        at = lower.find(needle, end)
    return links


def _bib_disagrees(paper: _Paper, link: _Link) -> bool:
    """The README's BibTeX gives the own paper's title: a link below the header, not
    labelled "paper", with nothing of that title around it, is another paper (the BibTeX
    wins, or no id is given)."""
    tw = paper.title_words
    if not paper.bib or len(tw) < 3 or link.lineno <= paper.first_heading:
        return False
    if link.label and _OWN_LABEL.match(link.label):
        return False
    around = paper.text[max(0, link.start - 400) : link.start] + link.line + link.label
    return len(tw & _words(around)) < 0.5 * len(tw)


def _paper(text: str, title: str | None, bib: str | None) -> _Paper:
    lines = text.splitlines()
    first_heading = next(
        (i for i, ln in enumerate(lines) if i > 0 and rx.match(r"^\s{0,3}#{2,6}\s", ln)), 15
    )
    short = (title or "").split(":")[0].strip().lower() if ":" in (title or "") else ""
    short = short if rx.fullmatch(r"[a-z0-9][a-z0-9+-]{2,29}", short) else ""
    headings = [(m.start(), m.group(2) or m.group(3) or "") for m in _HEADING.finditer(text)]
    starts = [at for at, _ in headings]
    tw = _words(title or "")
    return _Paper(text, bib, tw, short, first_heading, line_of(text), headings, starts)


def _heading_at(paper: _Paper, pos: int) -> str:
    """The title of the section pos is in ("" above the first heading)."""
    before = bisect.bisect_right(paper.heading_starts, pos)
    return paper.headings[before - 1][1] if before else ""


def _link(paper: _Paper, m: rx.Match[str]) -> _Link:
    text = paper.text
    prev_start = _line_start(text, _line_start(text, m.start()) - 1)
    # A label may wrap onto the link's line ("[ZeRO style\nsharding](…)").
    label_m = rx.search(
        r"\[\[?([^\]\[]*)\]\]?\(\s*(?:https?://)?(?:www\.|export\.)?$",
        text[max(prev_start, m.start() - 200) : m.start()],
    )
    label = " ".join(label_m.group(1).split()) if label_m else ""
    # The cue must lead to this link: "implements ... from [Paper](…)", nothing between.
    link_at = text.rfind("[", prev_start, m.start()) if label_m else m.start()
    if not label_m:
        # <a href="https://arxiv.org/abs/…">Technical Report</a>: the anchor's text.
        href = _HTML_HREF.search(text[max(prev_start, m.start() - 250) : m.start()])
        anchor = _HTML_TEXT.match(text[m.end() : m.end() + 400]) if href else None
        if href and anchor:
            label = " ".join(anchor.group(1).split())
            link_at = text.rfind("<", max(0, m.start() - 250), m.start())
    if rx.search(r"(?i)^\s*(?:https?://|arxiv\.org|\d{4}\.\d{4,5})", label):
        label = ""  # [http://arxiv.org/abs/x](http://arxiv.org/abs/x): no words
    return _link_at(paper, m.start(), m.end(), label, link_at)


def _line_start(text: str, pos: int) -> int:
    """Where the line holding pos begins, looking back at most 500 characters."""
    pos = max(0, pos)
    nl = text.rfind("\n", max(0, pos - 500), pos)
    return nl + 1 if nl >= 0 else max(0, pos - 500)


def _link_at(paper: _Paper, at: int, end: int, label: str, link_at: int) -> _Link:
    """The link whose address (or reference) spans at..end, labelled label, starting at
    link_at ("[" or "<a")."""
    text = paper.text
    # Line-bound and length-bound: never a scan back over a huge line.
    start = _line_start(text, at)
    stop = text.find("\n", end, end + 500)
    line = text[start : stop if stop >= 0 else min(len(text), end + 500)]
    lineno = paper.lines_at(at) - 1
    if link_at < start:
        start = text.rfind("\n", 0, link_at) + 1  # the link begins on the line above
    return _Link(line, lineno, label, _lead(text, start, link_at), start, _heading_at(paper, at))


def _lead(text: str, start: int, link_at: int) -> str:
    """The words just before a link. A sentence wrapped just before the link ("described in
    the paper\n[FaceNet](…)") leads to it from the line above; a blank line does not, unless
    the paragraph above ends on a colon ("please refer to our paper:" / blank / the link)."""
    lead_from = start
    if not text[start:link_at].strip(_LEAD_JUNK) and start > 0:
        prev = _line_start(text, start - 1)
        above = text[prev : start - 1]
        if not above.strip(_LEAD_JUNK) and prev > 0:
            prev2 = _line_start(text, prev - 1)
            if text[prev2 : prev - 1].rstrip(_LEAD_JUNK).endswith(":"):
                prev, above = prev2, text[prev2 : prev - 1]
        if above.strip(_LEAD_JUNK):
            lead_from = prev
    return text[max(lead_from, link_at - 100) : max(lead_from, link_at)]


# Blanks and Markdown around a link: spaces, zero-width and no-break spaces, quotes, emphasis.
_LEAD_JUNK = " \t\r[(*_\"'>\u200b\u00a0\ufeff"


def _link_score(paper: _Paper, link: _Link) -> tuple[int, bool]:
    """How strongly a link names the own paper, and whether it is labelled with another
    paper's title."""
    label = link.label
    score = _cue_score(paper, link)
    # A link labelled with another paper's title ("[A Style-Based Generator Architecture
    # for GANs](…)" in a metrics reference list) shares words with any GAN title: only an
    # unlabelled or short-labelled line counts by word overlap.
    bare = label.strip(" *_`'\"").lower()
    tw = paper.title_words
    other_title = (
        bool(_words(label))
        and not _OWN_LABEL.match(label)
        and not (paper.short and bare == paper.short)
        and len(tw & _words(label)) < max(2, len(tw) // 2)
    )
    if tw and not other_title and len(tw & _words(link.line)) >= max(2, len(tw) // 2):
        score += 2
    # The link on the lines just under the paper's title (bold title, authors, link).
    above = paper.text[max(0, link.start - 400) : link.start].splitlines()[-4:]
    if not label and not paper.under_title and _same_title(tw, "\n".join(above)):
        paper.under_title = True  # the first such link only: the next title is another paper's
        score += 4
    # Labelled with the cited title itself, or with its short name: the own paper.
    if label and (
        (paper.short and bare == paper.short)
        or (len(tw) >= 3 and len(tw & _words(label)) >= 0.8 * len(tw))
    ):
        score += 4
    if link.lineno <= paper.first_heading and not label:
        score += 1
    if label and not _OWN_LABEL.match(label) and score < 2:
        score -= 2  # [Transformer](arxiv...): a paper the README mentions
    if _NEWS.search(link.heading):
        # "[Model Release] … released implementation of X [Paper](…)": a news list announces
        # papers the code base also covers; it names the own paper only when nothing else does.
        score = min(score, 1)
    return score, other_title


_NEWS = rx.compile(
    r"(?i)^\W*(?:what'?s\s+new|(?:latest\s+|recent\s+)?news|(?:latest\s+|recent\s+)?updates?|"
    r"change\s*log|release\s+notes|announcements?)\b"
)


def _cue_score(paper: _Paper, link: _Link) -> int:
    """Words that say "this is our paper": an "implements … from" lead, a "paper" label or line."""
    label, lead = link.label, link.lead
    score = 0
    # "... which implements [ZeRO-style sharding](…)": a part of the code, not the paper.
    if (
        _IMPLEMENTS.search(lead)
        and "](" not in lead
        and not rx.search(r"(?i)\b(?:which|that|also)\s+implement", lead)
        and not _TOOL_OF_CODE.search(_after_last(_IMPLEMENTS, lead))
        and not _by_other_authors(lead, label)
    ):
        score += 3
    if (label and _OWN_LABEL.match(label)) or _OWN_LINE.search(link.line):
        score += 3
        if link.lineno <= paper.first_heading:
            score += 1  # [[Paper]](…) in the header, not a "[paper](…)" deep in the text
        if label and rx.search(r"(?i)\bour\s*\W?$", lead):
            score += 2  # "in our [paper](…)"
    elif _OUR_PAPER.search(lead) and "](" not in lead:
        score += 3  # "please refer to our paper:" then [Its Title](…)
    return score


_OUR_PAPER = rx.compile(
    r"(?i)\bour\s+(?:[\w-]+\s+){0,2}(?:paper|preprint|report|publication|article)\W*$"
)
# Words by which the authors claim a paper: "our paper", "we propose", "official".
_CLAIM = rx.compile(r"(?i)\b(?:our|we|official(?:ly)?)\b")


def _claimed(link: _Link) -> bool:
    """Whether the authors call the linked paper theirs: a [Paper] label, or "our"/"we"/
    "official" before it or on its line."""
    return bool(
        (link.label and _OWN_LABEL.match(link.label))
        or _CLAIM.search(link.lead[-80:])
        or _CLAIM.search(link.line)
    )


# A BibTeX entry that cites the code, not a paper: @software/@manual, or one published at
# a code host's address (`howpublished = {\url{https://github.com/…}}`, `journal = {GitHub
# repository}`) with no proceedings (a paper's entry may carry its code's URL too).
_SOFTWARE_KIND = rx.compile(r"(?i)^\s*@(?:software|manual)\b")
_CODE_HOST_FIELD = rx.compile(
    r"(?i)\b(?:howpublished|url|journal|note|publisher)\s*=\s*[{\"][^\n]{0,200}"
    r"(?:github\.com|gitlab\.com|github\s+repository)"
)


def _cites_software(bib: str) -> bool:
    if _SOFTWARE_KIND.search(bib):
        return True
    if not _CODE_HOST_FIELD.search(bib):
        return False
    journal = _bib_field(bib, "journal") or ""
    on_code_host = bool(rx.search(r"(?i)github|gitlab|https?://", journal))
    return not rx.search(r"(?i)\bbooktitle\s*=", bib) and (not journal or on_code_host)


# "Code for reproducing X using low-rank adaptation ([LoRA](…))": the link names a method
# the code uses, not the paper the code is for.
_TOOL_OF_CODE = rx.compile(
    r"(?i)\b(?:using|uses|with|via|based\s+on|built\s+on|on\s+top\s+of|leverag\w*|thanks\s+to)\b|"
    # "We implemented a carefully tuned variation of Section 5.1 of [Paper](…)": a piece of
    # another paper inside the code, not the paper the code is.
    r"\b(?:variations?|variants?|sections?|parts?|tricks?|ideas?|techniques?|components?)\b"
    r"[^.]{0,20}\b(?:of|from|in)\b"
)


def _by_other_authors(lead: str, label: str) -> bool:
    """ "implements the models proposed by [Vinyals et al. from Google](…)": a paper the link
    credits to its authors by name is theirs, not the repository's own."""
    return bool(rx.search(r"(?i)\bby\s*$", lead) and rx.search(r"(?i)\bet\.?\s+al\b", label))


def _after_last(pattern: rx.Pattern[str], text: str) -> str:
    """The text after the last match of pattern."""
    end = 0
    for m in pattern.finditer(text):
        end = m.end()
    return text[end:]


def _best(candidates: list[tuple[int, str, bool]]) -> str | None:
    if not candidates:
        return None
    best = min(candidates)[0]
    tied = [(i, header) for score, i, header in candidates if score == best]
    if len({i for i, _ in tied}) == 1:
        return tied[0][0]
    # Several papers equally likely (a collection of implementations): none is "the" paper,
    # unless all are the header's own papers (a v1 and its v1.5): the first one listed.
    return tied[0][0] if all(header for _, header in tied) else None


def _same_title(title_words: set[str], text: str) -> bool:
    """Whether text holds (nearly all of) a title of three or more long words."""
    return len(title_words) >= 3 and len(title_words & _words(text)) >= 0.8 * len(title_words)


def _bib_files(ctx: Context) -> list[str]:
    return [
        f.path
        for f in ctx.snap.top_level
        if f.suffix == ".bib" or f.name.upper() in ("CITATION", "CITATION.BIB", "CITATION.TXT")
    ]


def check(ctx: Context) -> tuple[dict[str, Any] | None, list[Finding]]:
    """CITATION.cff, then the README's own BibTeX (or a .bib file), then the own arXiv id."""
    findings: list[Finding] = []
    citation = _cff_citation(ctx, findings)
    text = ctx.readme
    entry, source = _own_entry(ctx)
    if entry:
        citation.setdefault("source", source)
        citation["bibtex"] = entry
        _add_bib_fields(citation, entry)
    own = own_arxiv(text, citation.get("title") or _readme_title(text), entry)
    if not own and entry and citation.get("title"):
        own = _docs_arxiv(ctx, str(citation["title"]))
    mentioned = sorted({m.group(1) for m in _ARXIV.finditer(text)} - {own})
    if own:
        citation["arxiv"] = own
        citation.setdefault("url", f"https://arxiv.org/abs/{own}")
        citation.setdefault("source", source)
    if mentioned:
        # Papers the README refers to: never offered as the repository's own.
        citation["mentioned_arxiv"] = mentioned
    if "doi" not in citation and (entry or own):
        doi = _DOI.search(entry or "") or _DOI.search(text[:3000])
        if doi:
            citation["doi"] = doi.group(1).rstrip(".,}")
    # Formal: the authors wrote down how to cite them (BibTeX or CITATION.cff).
    citation["formal"] = bool(entry) or citation.get("source") == "CITATION.cff"
    if not (set(citation) - {"formal", "mentioned_arxiv"}):
        findings.append(
            Finding(
                CHECK,
                "notice",
                "No citation",
                "No CITATION.cff, BibTeX or arXiv link of the repository's own paper found; "
                "credit the authors by repository URL.",
            )
        )
        return None, findings
    return citation, findings


MAX_DOC_PAGES = 30  # Markdown pages under docs/ searched for the own paper's arXiv id


def _docs_arxiv(ctx: Context, title: str) -> str | None:
    """The README's BibTeX has no arXiv id and no link of the README stands for it: a BibTeX
    entry of the same title in the documentation pages (docs/MUSICGEN.md) that has one."""
    want = _title_key(title)
    pages = [
        f
        for f in ctx.snap.files
        if f.suffix in (".md", ".rst")
        and len(f.parts) <= 3
        and f.parts[0].lower() in ("docs", "doc")
        and not f.vendored
        and f.size <= 200_000
    ][:MAX_DOC_PAGES]
    for f in pages:
        for entry in bibtex_blocks(ctx.snap.read_text(f.path) or "", limit=20):
            found = _bib_arxiv(entry)
            if found and _title_key(_bib_field(entry, "title") or "") == want:
                return found
    return None


def _title_key(title: str) -> str:
    return " ".join(rx.findall(r"[a-z0-9]+", title.lower()))


def _cff_citation(ctx: Context, findings: list[Finding]) -> dict[str, Any]:
    """What a top-level CITATION.cff says (a notice when it is over the YAML limits)."""
    citation: dict[str, Any] = {}
    for f in ctx.snap.files:
        if f.name != "CITATION.cff" or f.path.count("/") != 0:
            continue
        try:
            cff = _from_cff(ctx.snap.read_text(f.path) or "")
        except (safeyaml.YamlLimitError, safeyaml.YamlValueError) as exc:
            why = "over forkvet's YAML limits" if isinstance(exc, safeyaml.YamlLimitError) else ""
            findings.append(
                Finding(
                    CHECK,
                    "notice",
                    "CITATION.cff not read",
                    f"{why or 'a value that cannot be read'} ({exc}): skipped",
                    f.path,
                )
            )
            continue
        if cff:
            citation.update({k: v for k, v in cff.items() if v})
            citation["source"] = f.path
    return citation


def _own_entry(ctx: Context) -> tuple[str | None, str]:
    """The README's own BibTeX entry, else the first one of a top-level .bib file; and where."""
    entry = own_bibtex(ctx.readme)
    source = ctx.snap.readme.path if ctx.snap.readme else "README"
    if entry is None:
        for path in _bib_files(ctx):
            bibs = bibtex_blocks(ctx.snap.read_text(path) or "")
            if bibs:
                return bibs[0], path
    return entry, source


def _add_bib_fields(citation: dict[str, Any], entry: str) -> None:
    """Title, authors, year and venue from BibTeX, where CITATION.cff did not give them."""
    title = _bib_field(entry, "title")
    if title:
        citation.setdefault("title", title)
    authors = _bib_field(entry, "author")
    if authors:
        citation.setdefault("authors", [a.strip() for a in rx.split(r"\s+and\s+", authors)])
    year = _bib_field(entry, "year")
    if year and year[:4].isdigit():
        citation.setdefault("year", int(year[:4]))
    for key in ("journal", "booktitle"):
        venue = _bib_field(entry, key)
        if venue:
            citation.setdefault("venue", venue)


def _readme_title(text: str) -> str | None:
    m = _HEADING.search(text)
    return (m.group(2) or m.group(3)) if m else None
