"""Copyright holders: who owns the code, from one-line notices (`Copyright (c) 2020 Name`),
never from license boilerplate ("the copyright holders and contributors")."""

from __future__ import annotations

import itertools
from typing import Any

from forkvet import rx
from forkvet.report import Finding
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet.context import Context

_NOTICE_LINE = rx.compile(
    # "Modifications Copyright 2017 Abigail See": who adapted a derived work is a holder too.
    # "Modified & original work Copyright 2019 Jane Doe": which work the notice is for, too.
    r"^[#/*;\s\"'-]*(?:(?:Software|Code|Source code|Portions|Modifications|Modified|Changes|"
    r"Additions|Original)(?:\s+(?:&|and|original|modified|work|code|software))*\s+)?"
    # "The MIT License (MIT) Copyright (c) 2020 Andrej Karpathy": title and notice on one line.
    r"(?:(?:The\s+)?[\w.-]+(?:\s+[\w.-]+){0,3}\s+Licen[cs]e(?:\s*\([\w.-]+\))?[\s:,-]*)?"
    r"((?:Copyright|\(c\)|©)[^\n]{3,150})$",
    rx.I | rx.M,
)
_ANY_MARK = rx.compile(r"(?i)copyright|\(c\)|©")
# License text that talks about copyright, never a holder's notice.
_BOILERPLATE = rx.compile(
    r"(?i)copyright\s+(?:notice|statement|license|law|holders?(?:[^\w:]|$)|owners?(?:[^\w:]|$)|and\s+"
    r"(?:related|similar)|protection|interest|infringement|claims?|to\s+the\s+work)|"
    r"included in or attached|holders and contributors|the\s+(?:above|following)\s+copyright|"
    r"<(?:year|owner|name|copyright)[^>]*>|\[(?:yyyy|year|name)[^\]]*\]|\{(?:yyyy|year|name)\}|"
    r"free software foundation|sam hocevar|this (?:license|agreement)|all copies|"
    r"\bthe\s+respective\s+(?:contributors|authors|owners)\b|"
    r"^copyright\W*$|^\(c\)\s*$|"
    # "(c) You must retain, in the Source form ...": a clause letter, not a copyright mark.
    r"^\(c\)\s+(?:you|the|any|if|in|to|this|such|that|an?|for|no|neither|each)\b"
)
# A holder's notice names a year or a (c)/© mark followed by a name.
# (Apache's appendix filled in without a year: "Copyright Zhengxiao Du", names only.)
_HOLDER_NOTICE = rx.compile(
    r"(?i)(?:\b(?:19|20)\d\d\b|\(c\)\s*\w|©\s*\w)|"
    r"^Copyright(?-i:\s+[A-Z][\w.-]*(?:\s+(?:[A-Z][\w.,&-]*|of|de|van|von|der|zur)){0,6})\s*$"
)
# Where a license file's own grant ends and appended third-party notices begin.
_NOTICES_START = rx.compile(
    r"(?im)^\s*(?:-{3,}|={3,}|\*{3,}|license for\b|third[- ]party|"
    # A second license's title: the text of a bundled library's license follows.
    r"(?:the\s+)?(?:mit|bsd|apache|gnu|mozilla|isc)\b[^\n]{0,40}\blicen[cs]e\b[^\n]{0,30}$|"
    # A short heading ("Third-party notices:"), not a clause that ends on the word ("(b) You
    # must cause any modified files to carry prominent notices", Apache-2.0 section 4).
    r"(?:[^\s(][^\s]*[ \t]+){0,4}notices?\s*:?\s*$)"
)
# An explicit line that starts the appended notices of bundled code.
_SEPARATOR = rx.compile(r"(?im)^[ \t]*(?:-{3,}|={3,}|\*{3,}|license\s+for\b|third[- ]party\b)")
_LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "COPYRIGHT")


def is_holder_notice(line: str) -> bool:
    """`Copyright (c) 2020 Jane Doe` is one; "copyright notice that is included in or attached
    to the work" (license boilerplate) is not."""
    return bool(_HOLDER_NOTICE.search(line)) and not _BOILERPLATE.search(line)


def notice_lines(snap: Snapshot, limit: int = 20) -> list[str]:
    """Holders' copyright lines from license files and source headers."""
    found: list[str] = []
    candidates = [f for f in snap.files if f.name.upper().startswith(_LICENSE_NAMES)]
    candidates += [f for f in snap.files if f.suffix in (".py", ".c", ".cpp", ".h", ".cu", ".lua")][
        :300
    ]
    for f in candidates:
        text = (snap.read_text(f.path) or "")[:3000]
        if not _ANY_MARK.search(text):
            continue  # most source files: one cheap search instead of a try at every line
        for m in _NOTICE_LINE.finditer(text):
            line = " ".join(m.group(1).split())
            if len(found) >= limit or not is_holder_notice(line):
                continue
            if line not in found:
                found.append(line)
    return found


def holder_name(line: str) -> str | None:
    """The owner a notice names: "Copyright (c) 2014-2017, Facebook, Inc." → "Facebook, Inc."."""
    name = rx.sub(r"(?i)\bcopyright\b|\(c\)|©", " ", line)
    name = _PARENTHESIS.sub(_expansion_or_blank, name)
    # "Copyright © Niantic, Inc. 2018. Patent Pending.": a patent notice is no part of the name.
    name = rx.sub(
        r"(?i)all rights reserved\.?|patents?\s+pending\.?|<[^>]*>|https?://\S+|[\"`]", " ", name
    )
    # "© July 17th 2016 Carnegie Mellon University": the date, not the owner.
    name = _DAY_BEFORE_YEAR.sub(lambda m: " " + m.group(1), name)
    name = rx.sub(r"\b(?:19|20)\d\d(?:\s*[-–,]\s*(?:(?:19|20)\d\d|present))*\b", " ", name)
    name = rx.sub(r"(?i)^\W*(?:by\s+)?", "", " ".join(name.split()))
    name = rx.sub(r"(?i)(?:\s+[.,])?\s+acting\s+on\s+behalf\b.*$", "", name)  # "…e.V. acting on…"
    name = name.strip(" ,;:-")
    name = (
        rx.sub(r"\.\s*$", "", name)
        if not rx.search(r"(?i)\b(?:inc|ltd|co|corp|e\.v)\.$", name)
        else name
    )
    name = name.rstrip(" ,;:-")
    return name if rx.search(r"[A-Za-z]{2}", name) else None


_PARENTHESIS = rx.compile(r"(\b[A-Z][A-Z0-9&]+\s*)?\(([^)]*)\)")


def _expansion_or_blank(m: rx.Match[str]) -> str:
    """ "Intel ISL (Intel Intelligent Systems Lab)": a parenthesis that spells out the acronym
    before it is part of the one holder's name; any other ("(MIT)", "(MPG)", "(https://…)") is
    dropped."""
    acronym = (m.group(1) or "").strip()
    initials = "".join(w[0] for w in m.group(2).split() if w[:1].isupper())
    if len(acronym) >= 2 and initials.upper().endswith(acronym.upper()):
        return f"{m.group(1)}({m.group(2)})"
    return f"{m.group(1) or ''} "


def holders(snap: Snapshot) -> list[str]:
    """Who owns the repository's code, from the first source that names anyone: the top-level
    license files' own section (not appended notices), license files one folder down (each
    part's, when there is no root one), a notice in the README, the docs' `copyright =`
    setting, and last the owners most (non-vendored) source headers name."""
    top = [f for f in snap.top_level if f.name.upper().startswith(_LICENSE_NAMES)]
    parts = [
        f
        for f in snap.files
        if f.path.count("/") == 1 and f.name.upper().startswith(_LICENSE_NAMES) and not f.vendored
    ]
    # LICENSE and NOTICE before LICENSE-NVIDIA or LICENSE-LPIPS, bundled code's licenses.
    own = [f for f in top if not _is_part_license(f.name)]
    return (
        _license_holders(snap, own)
        or _license_holders(snap, top)
        or (_license_holders(snap, parts[:10]) if not top else [])
        or _readme_holders(snap)
        or _docs_conf_holders(snap)
        or _source_holders(snap)
    )


_PART_LICENSE = rx.compile(r"(?i)(?:licen[cs]e|copying)[-_.](\w[\w.-]*)")
_PLAIN_SUFFIX = rx.compile(r"(?i)txt|md|rst")


def _is_part_license(name: str) -> bool:
    """LICENSE-NVIDIA, COPYING.lib: a part's license; LICENSE.txt/.md/.rst is the whole's."""
    m = _PART_LICENSE.fullmatch(name)
    return m is not None and not _PLAIN_SUFFIX.fullmatch(m.group(1))


def _readme_holders(snap: Snapshot) -> list[str]:
    """ "Copyright (c) 2016 Logan Engstrom. Contact me for commercial use": a README's notice."""
    text = snap.readme_text()[:100_000]
    out: list[str] = []
    # [ \t], not \s: a run of blank lines must not be rescanned from every line start.
    for m in rx.finditer(
        r"(?im)^[ \t>*_#-]*((?:Copyright|©)[ \t]*(?:\(c\)[ \t]*)?[^\n.]{3,120})", text
    ):
        line = " ".join(m.group(1).split())
        name = holder_name(line) if is_holder_notice(line) else None
        for part in _split_names(name) if name else []:
            if part not in out and len(out) < 5:
                out.append(part)
    return out


_CONF_COPYRIGHT = rx.compile(r"""(?m)^copyright\s*=\s*(?:u?['"])([^'"\n]{2,200})['"]""")


_COMMA_YEAR = rx.compile(r",\s*((?:19|20)\d\d)\b")


def _split_before_years(text: str) -> list[str]:
    """ "2021 Org, 2020 Authors" -> ["2021 Org", "2020 Authors"]: cut at a comma before a year."""
    out, start = [], 0
    for m in _COMMA_YEAR.finditer(text):
        out.append(text[start : m.start()])
        start = m.start(1)
    return [*out, text[start:]]


def _docs_conf_holders(snap: Snapshot) -> list[str]:
    """Sphinx's `copyright = "2021 Org, 2020 Authors"` (docs/conf.py): one holder per year."""
    for path in ("docs/conf.py", "doc/conf.py", "docs/source/conf.py", "doc/source/conf.py"):
        m = _CONF_COPYRIGHT.search((snap.read_text(path) or "")[:50_000])
        if not m:
            continue
        pieces = _split_before_years(m.group(1))
        names = [holder_name(p) for p in pieces]
        return [n for n in names if n][:5]
    return []


def _license_holders(snap: Snapshot, files: list[FileEntry]) -> list[str]:
    out: list[str] = []
    for f in files:
        text = (snap.read_text(f.path) or "")[:20000]
        start = _NOTICES_START.match(text.lstrip())
        if start and start.start() == 0 and not f.name.upper().startswith(("LICENSE", "LICENCE")):
            continue  # a NOTICE that opens with "--- LICENSE FOR <library> ---": bundled code's
        # The file's own grant ends where appended notices begin: past its first holder's
        # notice ("The modifications are Copyright OpenAI" / "The MIT License" / "Copyright
        # Taehoon Kim" keeps the original author of a derived work).
        notices = (m for m in _NOTICE_LINE.finditer(text) if is_holder_notice(m.group(1)))
        holder = next(notices, None)
        first = holder.end() if holder else 0
        cut = next(
            (m.start() for m in _NOTICES_START.finditer(text) if m.start() > max(80, first)),
            len(text),
        )
        # "------ LICENSE FOR NVIDIA code ------" before any notice: the grant names no holder,
        # every notice below it is the bundled code's.
        bundled = next((m for m in _SEPARATOR.finditer(text) if m.start() > 80), None)
        if holder and bundled and bundled.start() < holder.start():
            cut = 0
        for m in _NOTICE_LINE.finditer(text[:cut]):
            line = " ".join((m.group(1) + _wrapped(text[:cut], m)).split())
            if not is_holder_notice(line):
                continue
            name = holder_name(line)
            if not name:
                continue
            # "Phillip Isola and Jun-Yan Zhu" are two; "Meta Platforms, Inc. and affiliates" one.
            for part in _split_names(name):
                if part not in out and len(out) < 20:
                    out.append(part)
    return out


# A person's name: two to four capitalised words, none an organisation's word.
_PERSON = rx.compile(r"[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){1,3}")
_ORGANISATION = rx.compile(
    r"\b(?:Inc|Ltd|LLC|Corp|Corporation|University|Institute|Group|Lab|Labs|Team|"
    r"Authors|Foundation|Company|Contributors|Research|Limited|Technologies|Systems|"
    r"Networks|Laboratory|Laboratories|AI|Center|Centre|College|School|Academy|GmbH|"
    r"Microsoft|Google|Facebook|Meta|NVIDIA|Intel|Apple|Amazon|IBM|Baidu|Tencent|Alibaba)\b"
)


def _split_names(name: str) -> list[str]:
    # "Phillip Isola and Jun-Yan Zhu" are two; "Meta Platforms, Inc. and affiliates" is one;
    # "Patrick Esser and contributors" is Patrick Esser.
    name = rx.sub(r"(?i)\s+and\s+(?:other\s+)?(?:contributors|others)\b.*$", "", name)
    if "," in name:
        people = [rx.sub(r"^and\s+", "", p.strip()) for p in name.split(",") if p.strip()]
        if len(people) >= 2 and all(
            _PERSON.fullmatch(p) and not _ORGANISATION.search(p) for p in people
        ):
            # "Gabriel Ilharco, Mitchell Wortsman, Nicholas Carlini", "Tri Dao, Albert Gu"
            return people
        return [name]  # "Machine Vision and Learning Group, LMU Munich": one organisation
    parts, last = [], 0
    for m in _AND.finditer(name):
        end = m.end()
        if _AFFILIATES.match(name[end : end + 64]):
            # `\s+and\s+(?!(?:its\s+)?affiliates)` backtracked one blank when it could.
            if not name[end - 2 : end].isspace():
                continue
            end -= 1
        parts.append(name[last : m.start()])
        last = end
    parts.append(name[last:])
    return [p.strip(" ,") for p in parts if p.strip(" ,")]


_DAY_BEFORE_YEAR = rx.compile(
    r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}"
    r"(?:st|nd|rd|th)?\b,?(\s*(?:19|20)\d\d\b)"
)


_AND = rx.compile(r"\s+and\s+")
_AFFILIATES = rx.compile(r"(?:its\s+)?affiliates")


def _wrapped(text: str, m: rx.Match[str]) -> str:
    """A list of names wrapped over the next lines ("Copyright (c) 2021 Ann Lee, Bo Chen,"
    / "Cy Diaz"): the lines up to the blank one, when the notice ends on a comma."""
    if not m.group(1).rstrip().endswith(","):
        return ""
    rest = text[m.end() : m.end() + 400]
    blank = rest.find("\n\n", 1)
    return " " + rest[: blank if blank >= 0 else len(rest)]


_CONTINUED = rx.compile(r"\n[ \t]*[#/*;\"'-]+[ \t]*([a-zäöüé][^\n]{0,150})")  # a comment line


def _continuation(text: str, end: int) -> str:
    """A notice wrapped onto the next comment line ("Copyright©2019 Max-Planck-Gesellschaft
    zur Förderung" / "# der Wissenschaften e.V. (MPG). acting on behalf of ..."): that line,
    when it goes on in lower case."""
    m = _CONTINUED.match(text, end)
    return " " + m.group(1) if m and not text[:end].rstrip().endswith(".") else ""


def _source_holders(snap: Snapshot) -> list[str]:
    """No notice in the license files: the owners most source headers name."""
    counts: dict[str, int] = {}
    sources = list(
        itertools.islice(
            (
                f
                for f in snap.files
                if f.suffix in (".py", ".lua", ".c", ".cpp", ".cu", ".h", ".m")
                and not f.vendored
                and not _in_library_copy(f)
            ),
            300,
        )
    )
    for f in sources:
        head = "\n".join((snap.read_text(f.path) or "")[:2000].splitlines()[:30])
        notices: list[list[str]] = []
        after = 0  # where the previous notice ended
        for m in _NOTICE_LINE.finditer(head):
            line = " ".join((m.group(1) + _continuation(head, m.end())).split())
            name = holder_name(line) if is_holder_notice(line) else None
            copied = _COPIED_FROM.search(head[max(after, m.start() - 300) : m.start()])
            after = m.end()
            # "This code is based on tatsu-lab/stanford_alpaca. Below is the original
            # copyright:" and "Copyright 2023 The HuggingFace Team" (a library's example
            # script copied in): the owners of the code it was copied from.
            if name and not copied and not _LIBRARY_TEAM.search(name):
                notices.append(_split_names(name))
        # "Copyright 2022 The HuggingFace team" then "Copyright 2023 Jane Doe": the last
        # notice is the one who adapted the file here; the first is the original's.
        for name in set(notices[-1] if notices else []):
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    # One or two headers among many sources are files copied from elsewhere.
    floor = 3 if len(sources) >= 10 else 1
    ranked = sorted(counts, key=lambda n: (-counts[n], n))
    return [n for n in ranked if counts[n] * 2 >= top and counts[n] >= floor][:3]


# Words before a header's notice saying it is the notice of the code the file was copied from.
_COPIED_FROM = rx.compile(
    r"(?i)\b(?:based\s+on|adapted\s+from|copied\s+from|modified\s+from|borrowed\s+from|"
    r"taken\s+from|derived\s+from|ported\s+from|original\s+(?:copyright|license|notice))\b"
)
# The teams of libraries whose example scripts are copied into research code with their
# headers ("The HuggingFace Team", "The BigCode & HuggingFace Inc. teams"); the libraries'
# own repositories name them in the license file, which is read before any header.
_LIBRARY_TEAM = rx.compile(
    r"(?i)\b(?:hugging\s*face|tensorflow|keras|pytorch(?:\s+lightning)?|lightning(?:\s+ai)?|"
    r"fairseq|jax|flax|openmmlab|mmcv)(?:\s+inc\.?)?\s+(?:teams?|authors)\b"
)


def _in_library_copy(f: FileEntry) -> bool:
    """A file inside a folder named like a known library's package (annotator/uniformer/mmcv/):
    a copy of that library, whose headers name its owners, not the repository's."""
    from forkvet.vet.importmap import dist_for_module

    return any(dist_for_module(part)[1] for part in f.parts[1:-1])


def check(ctx: Context) -> tuple[dict[str, Any], list[Finding]]:
    return {"holders": holders(ctx.snap), "notices": notice_lines(ctx.snap)}, []
