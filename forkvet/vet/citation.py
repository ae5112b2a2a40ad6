"""Check 8: how to cite the work — CITATION.cff, BibTeX in the README, arXiv ids, authors."""

from __future__ import annotations

import re
from typing import Any

import yaml

from forkvet import safeyaml
from forkvet.report import Finding
from forkvet.vet.context import Context

CHECK = "citation"
_ARXIV = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s*)(\d{4}\.\d{4,5}|[a-z-]+/\d{7})(?:v\d+)?", re.I
)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>)\]]+)")
_BIB_START = re.compile(
    r"@(article|inproceedings|misc|conference|incollection|book|"
    r"techreport|phdthesis|unpublished|software)\s*\{",
    re.I,
)


def bibtex_blocks(text: str) -> list[str]:
    """Balanced-brace BibTeX entries found in free text."""
    out = []
    for m in _BIB_START.finditer(text):
        depth = 0
        for i in range(m.end() - 1, min(len(text), m.end() + 5000)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[m.start() : i + 1])
                    break
    return out


def _bib_field(entry: str, name: str) -> str | None:
    m = re.search(rf"\b{name}\s*=\s*[{{\"](.+?)[}}\"]\s*,?\s*\n", entry, re.I | re.S)
    if not m:
        return None
    return re.sub(r"[{}]", "", " ".join(m.group(1).split()))


def _from_cff(text: str) -> dict[str, Any] | None:
    try:
        data = safeyaml.load(text)
    except safeyaml.YamlLimitError:
        raise
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
        "year": int(year) if year and str(year).isdigit() else None,
        "doi": pref.get("doi") or data.get("doi"),
        "url": pref.get("url") or data.get("url"),
    }


def check(ctx: Context) -> tuple[dict[str, Any] | None, list[Finding]]:
    citation: dict[str, Any] = {}
    findings = []
    for f in ctx.snap.files:
        if f.name == "CITATION.cff" and f.path.count("/") == 0:
            try:
                cff = _from_cff(ctx.snap.read_text(f.path) or "")
            except safeyaml.YamlLimitError as exc:
                findings.append(
                    Finding(CHECK, "notice", "CITATION.cff not read", f"{exc}: skipped", f.path)
                )
                continue
            if cff:
                citation.update({k: v for k, v in cff.items() if v})
                citation["source"] = f.path
    text = ctx.readme
    bibs = bibtex_blocks(text)
    if bibs:
        entry = bibs[0]
        citation.setdefault("source", ctx.snap.readme.path if ctx.snap.readme else "README")
        citation["bibtex"] = entry
        title = _bib_field(entry, "title")
        if title:
            citation.setdefault("title", title)
        authors = _bib_field(entry, "author")
        if authors:
            citation.setdefault("authors", [a.strip() for a in re.split(r"\s+and\s+", authors)])
        year = _bib_field(entry, "year")
        if year and year[:4].isdigit():
            citation.setdefault("year", int(year[:4]))
        for key in ("journal", "booktitle"):
            venue = _bib_field(entry, key)
            if venue:
                citation.setdefault("venue", venue)
    arxiv = sorted({m.group(1) for m in _ARXIV.finditer(text)})
    if arxiv:
        citation["arxiv"] = arxiv[0] if len(arxiv) == 1 else arxiv
        citation.setdefault("url", f"https://arxiv.org/abs/{arxiv[0]}")
        citation.setdefault("source", ctx.snap.readme.path if ctx.snap.readme else "README")
    if "doi" not in citation:
        doi = _DOI.search(text)
        if doi:
            citation["doi"] = doi.group(1).rstrip(".,")
    if not citation:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "No citation",
                "No CITATION.cff, BibTeX or arXiv link found; credit the "
                "authors by repository URL.",
            )
        )
        return None, findings
    return citation, findings
