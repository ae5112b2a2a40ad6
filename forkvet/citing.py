"""The paper every citing output names (the report, attribution, thank-you drafts, the App's
issue and ATTRIBUTION.md): one view of the citation, agreeing with the BibTeX printed beside
it. When the BibTeX and the chosen arXiv id disagree, the BibTeX wins: the authors wrote it.

forkvet.vet's helpers are imported where used: forkvet.vet itself calls `agree`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LINKS = 200  # arXiv links looked at in a README (the first ones decide)
AGREE = 0.6  # share of the BibTeX title's words that must stand beside an arXiv link


@dataclass
class Paper:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    arxiv: str | None = None
    bibtex: str | None = None


def paper(citation: dict[str, Any] | None) -> Paper:
    """What to print: the BibTeX's title, authors and year when there is one, and the arXiv id
    only as agreed (see `agree`)."""
    c = citation or {}
    authors = c.get("authors") if isinstance(c.get("authors"), list) else []
    year = c.get("year") if isinstance(c.get("year"), int) else None
    out = Paper(
        title=c.get("title") if isinstance(c.get("title"), str) else None,
        authors=[str(a) for a in authors or []],
        year=year,
        arxiv=c.get("arxiv") if isinstance(c.get("arxiv"), str) else None,
        bibtex=c.get("bibtex") if isinstance(c.get("bibtex"), str) else None,
    )
    if out.bibtex:
        from forkvet.vet.citation import _bib_arxiv, _bib_field

        out.title = _bib_field(out.bibtex, "title") or out.title
        out.arxiv = _bib_arxiv(out.bibtex) or out.arxiv
    return out


def agree(citation: dict[str, Any] | None, readme: str) -> dict[str, Any] | None:
    """Make the chosen arXiv id agree with the BibTeX: the BibTeX's own id; else the README's
    arXiv link standing beside the BibTeX's title; else none (a link labelled with another
    paper's title is another paper)."""
    if not citation or not isinstance(citation.get("bibtex"), str):
        return citation
    from forkvet.vet.citation import _bib_arxiv, _bib_field

    bib = citation["bibtex"]
    if bib.lstrip().lower().startswith(("@software", "@manual")):
        return citation  # the code's own entry ("OpenCLIP"), not a paper's title to agree with
    own = _bib_arxiv(bib)
    title = _bib_field(bib, "title")
    chosen = citation.get("arxiv") if isinstance(citation.get("arxiv"), str) else None
    if own:
        best: str | None = own
    elif not title:
        return citation
    else:
        best = _agreeing(chosen, _title_scores(readme, _words(title)))
    if best == chosen:
        return citation
    out = dict(citation)
    mentioned = set(out.get("mentioned_arxiv") or [])
    if chosen:
        mentioned.add(chosen)
        if out.get("url") == f"https://arxiv.org/abs/{chosen}":
            del out["url"]
    if best:
        out["arxiv"] = best
        out.setdefault("url", f"https://arxiv.org/abs/{best}")
        mentioned.discard(best)
    else:
        out.pop("arxiv", None)
    out["mentioned_arxiv"] = sorted(mentioned)
    return out


def _words(text: str) -> set[str]:
    # str methods, not a regex: this reads repository text
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    return {w for w in cleaned.split() if len(w) >= 4}


def _agreeing(chosen: str | None, scores: dict[str, tuple[float, int]]) -> str | None:
    """The chosen id when its link stands beside the title (or is not in the README at all);
    else the link that does; else none when the chosen link is labelled with another title."""
    if chosen and (chosen not in scores or scores[chosen][0] >= AGREE):
        return chosen
    agreeing = [i for i, (share, _) in scores.items() if share >= AGREE]
    if agreeing:
        return max(agreeing, key=lambda i: scores[i][0])
    if chosen and scores[chosen][1] >= 3:  # "[A Style-Based Generator ...](arxiv…)"
        return None
    return chosen


def _title_scores(readme: str, title: set[str]) -> dict[str, tuple[float, int]]:
    """arXiv id -> (the best share of the title's words in its link label, or, for a bare
    link, in its line and the three non-empty lines above it; the label's word count)."""
    if not title:
        return {}
    from forkvet.vet.citation import _ARXIV

    lines = readme.splitlines()
    scores: dict[str, tuple[float, int]] = {}
    for n, line in enumerate(lines):
        if len(scores) >= MAX_LINKS:
            break
        for m in _ARXIV.finditer(line[:2000]):
            label = _label(line[: m.start()])
            if label is None:
                if len(title) < 3:
                    continue  # "Neural Style": two words stand beside many papers' links
                above = [ln for ln in lines[max(0, n - 6) : n] if ln.strip()][-3:]
                context, named = " ".join([*above, line[:2000]]), 0
                share = len(title & _words(context)) / len(title)
            else:
                # Both ways: a reference list's "Neural machine translation by jointly
                # learning to align" holds three words of "Neural Machine Translation
                # Tutorial", but most of its own words are not the title's.
                words = _words(label)
                named, common = len(words), len(title & words)
                share = common / (len(title) if common * 2 >= named else named)
            if share >= scores.get(m.group(1), (-1.0, 0))[0]:
                scores[m.group(1)] = (share, named)
    return scores


def _label(before: str) -> str | None:
    """The text of `[label](` right before a link, when the link is a Markdown link."""
    at = before.rfind("](")
    if at < 0 or " " in before[at + 2 :].strip():
        return None
    start = before.rfind("[", 0, at)
    return before[start + 1 : at] if start >= 0 else None


def citation_line(citation: dict[str, Any] | None) -> str:
    """Title — authors (year) — arXiv id, leaving out what is missing (plain text: the caller
    escapes for its sink)."""
    p = paper(citation)
    parts = [
        (p.title or "")
        + (f" — {', '.join(p.authors[:6])}" if p.authors else "")
        + (f" ({p.year})" if p.year else ""),
        f"arXiv {p.arxiv}" if p.arxiv else "",
    ]
    return " — ".join(x.strip(" —") for x in parts if x.strip(" —"))
