"""Check 1: the repository's own license, what it allows, and the team's license policy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from forkvet import rx, safeparse
from forkvet.report import Finding, LicenseInfo, LicenseMatch
from forkvet.vet import (
    hubweights,
    licensedb,
    licensefields,
    licensegaps,
    modelterms,
    termsdocs,
    termsgaps,
    weightsdocs,
)
from forkvet.vet.context import Context
from forkvet.vet.languages import EXTENSIONS
from forkvet.vet.licensesections import (
    custom_ref,
    says_choice,
    title_lines,
    valid_expression,
)
from forkvet.vet.licenseterms import (
    KNOWN,
    NO_DERIVATIVES,
    NO_LICENSE,
    NONCOMMERCIAL,
    RESTRICTIVE_CLAUSES,
    RESTRICTIVENESS,
    Terms,
    clauses,
    custom_terms,
    foreign_clauses,
    known_license,
    known_license_at,
)
from forkvet.vet.readmereader import (
    _CODE_SUBJECT,
    _DATA_SUBJECT,
    _FRONT_MATTER,
    _GATED_TERMS,
    _LICENSE_LINE,
    MAX_LICENSE_CHARS,
    README_TERMS,
    _added_restrictions,
    _dedupe,
    _from_known,
    _front_matter_licenses,
    _grams,
    _item,
    _license_at_url,
    _license_sections,
    _license_values,
    _named,
    _named_in_statement,
    _names_in,
    _other_script,
    _readme_section,
    _sentence_topics,
    _statements,
    _template_words,
    _terms_for_spdx,
    classify_text,
    limiting_sentences,
    readme_licenses,
    unknown_license_name,
)
from forkvet.vet.readmereader import (
    _README_STATEMENT as _README_STATEMENT,
)
from forkvet.vet.readmereader import names_a_license as names_a_license  # weightterms
from forkvet.vet.readmereader import (
    spdx_from_name as spdx_from_name,
)
from forkvet.vet.shown import vocab
from forkvet.vet.textnorm import COPYRIGHT_LINE, fold

CHECK = "license"
# License files matched in full against the SPDX list (~65 ms each for a long text): the root
# and shallowest ones first (see _priority); the rest are named in a notice. A REUSE-style
# LICENSES/ folder of a real project holds a handful; a thousand is a bomb.
MAX_LICENSE_FILES = 24
MAX_LICENSE_DEPTH = 8
_LICENSE_NAME = rx.compile(
    r"^(?:un)?licen[cs]e(?:s)?(?:[-_. ][\w.-]*)?$|^copying(?:[-_.][\w.-]*)?$|"
    r"^[\w-]*[-_.]licen[cs]e(?:\.(?:md|txt|rst|markdown))?$|^eula(?:\.\w+)?$",
    rx.I,
)


@dataclass
class _Found:
    match: LicenseMatch
    terms: Terms
    obligations: tuple[str, ...]
    role: str  # "code", "other", "metadata", "readme", "third-party", "patents", "headers"
    # "grant": what this file/statement grants; "extra": added terms; "superseded": a license
    # file the README retires (listed, restricts nothing)
    kind: str = "grant"


# What each internal role is called in the report's `all[].role`.
_REPORT_ROLE = {
    "code": "license",
    "other": "weights-or-data",
    "metadata": "metadata",
    "readme": "readme",
    "third-party": "third-party",
    "patents": "patents",
    "headers": "source-header",
}


_CLASSIFIER = rx.compile(r"^License :: (?:OSI Approved :: )?(.+)$")


_CONTACT_ONLY = "Custom terms in README (commercial-contact)"


# -- GPL family: -only or -or-later ---------------------------------------------------------
_OR_LATER = rx.compile(
    r"or\s+\(?at\s+your\s+option\)?\s+any\s+later\s+version|"
    r"or\s+any\s+later\s+version|[AL]?GPL-?v?\d(?:\.\d)?\+|-or-later",
    rx.I,
)
_ONLY = rx.compile(r"version\s+\d(?:\.\d)?\s+only|[AL]?GPL-?\d\.\d-only", rx.I)
_GPL_BODY = rx.compile(
    r"(?:GNU\s+(?:LESSER\s+|AFFERO\s+)?GENERAL\s+PUBLIC\s+LICENSE\s*\n\s*"
    r"Version)|TERMS\s+AND\s+CONDITIONS",
    rx.I,
)


def _gpl_variant(ctx: Context, spdx: str, license_text: str) -> tuple[str, str]:
    if not (spdx.endswith("-only") or spdx.endswith("-or-later")):
        return spdx, ""
    base = spdx.rsplit("-", 2)[0] if spdx.endswith("-or-later") else spdx[: -len("-only")]
    body = _GPL_BODY.search(license_text)
    # The license's own "How to Apply" appendix says "any later version": read only notices.
    notices = [license_text[: body.start()] if body else "", ctx.readme]
    for f in ctx.snap.files[:2000]:
        if f.suffix in (".py", ".c", ".cpp", ".h", ".lua", ".m") and len(notices) < 60:
            text = ctx.snap.read_text(f.path)
            if text:
                notices.append(text[:1500])
    joined = "\n".join(notices)
    if _OR_LATER.search(joined):
        return f"{base}-or-later", "the notices say 'or any later version'"
    if _ONLY.search(joined):
        return f"{base}-only", "the notices name this version only"
    return f"{base}-only", "no notice says 'or any later version'; read as this version only"


# -- the check ------------------------------------------------------------------------------
_UNREAD_TERMS = Terms(
    "custom-restricted",
    None,
    ("A license file forkvet could not read: read it before relying on this answer",),
)


def _unread(path: str, why: str) -> _Found:
    """A license file present but not read: terms forkvet cannot read, never a plain yes."""
    name = f"License file not read ({why})"
    match, _ = _item(custom_ref("", f"Unread-{path}"), name, _UNREAD_TERMS, path, 0.5, "file")
    return _Found(match, _UNREAD_TERMS, _UNREAD_TERMS.obligations, "code", "extra")


def _read_in_part(path: str, size: int) -> Finding:
    return Finding(
        CHECK,
        "notice",
        "License files not read",
        f"{path} has {size:,} characters: only its first {MAX_LICENSE_CHARS:,} were read, so "
        "commercial use is unclear; read the rest yourself",
        path,
    )


def _license_files(ctx: Context) -> list[str]:
    out = []
    for f in ctx.snap.files:
        depth = len(f.parts)
        in_licenses_dir = depth == 2 and f.parts[0].upper() in ("LICENSES", "LICENSE")
        # Any depth: `models/pretrained/v1/LICENSE` covers its part (round 19c, L6); the
        # shallowest MAX_LICENSE_FILES are matched, the rest named in a notice.
        if (depth <= MAX_LICENSE_DEPTH and _LICENSE_NAME.match(f.name)) or in_licenses_dir:
            if f.suffix in (".py", ".json", ".yml", ".yaml", ".png", ".jpg"):
                continue
            out.append(f.path)  # a .pdf or .docx is a license forkvet cannot read: unread
    return out


def _matched_license_files(ctx: Context, findings: list[Finding], rest: list[str]) -> Iterator[str]:
    """The license files to match, in priority order: at most MAX_LICENSE_FILES, and none after
    the run's deadline. Files left unmatched, for either reason, are named in one notice, and
    put in rest (_past_the_bound reads them cheaply: round 20c, F7)."""
    ordered = sorted(_license_files(ctx), key=_priority)
    for i, path in enumerate(ordered):
        late = time.monotonic() > ctx.deadline
        if i >= MAX_LICENSE_FILES or late:
            rest += ordered[i:]
            why = "the vetting time limit was reached" if late else f"over {MAX_LICENSE_FILES}"
            findings.append(
                Finding(
                    CHECK,
                    "notice",
                    "License files not read",
                    f"{len(rest)} license file(s) not matched ({why}), e.g. {rest[0]}: the "
                    f"root and shallowest ones were; read the others yourself",
                    rest[0],
                )
            )
            return
        yield path


def _priority(path: str) -> tuple[int, int, str]:
    name = path.rsplit("/", 1)[-1].upper()
    rank = (
        0
        if name.startswith("LICENSE") or name.startswith("LICENCE")
        else 1
        if name.startswith("COPYING")
        else 2
        if name.startswith("UNLICENSE")
        else 3
    )
    return (path.count("/"), rank, path)


_THIRD_PARTY_NAME = rx.compile(r"third|3rd|vendor|notice|bundled|external", rx.I)
_WEIGHTS_NAME = rx.compile(r"model|weight|data|checkpoint|doc|font|image|asset", rx.I)
_PATENTS_NAME = rx.compile(r"^patents(?:\.(?:md|txt))?$", rx.I)
PATENTS_NOTE = (
    "PATENTS file: an additional patent grant that ends if you sue the grantor over patents"
)


def _file_role(path: str) -> str:
    parts = path.split("/")
    name = parts[-1]
    if len(parts) == 1 or parts[0].upper() in ("LICENSES", "LICENSE"):
        if _THIRD_PARTY_NAME.search(name):
            return "third-party"
        return "other" if _WEIGHTS_NAME.search(name) else "code"
    # A license deeper in the tree covers that folder: weights or vendored code.
    return "other" if _WEIGHTS_NAME.search(path) else "third-party"


# A source-header template kept as a file: it points at the licenses, it grants none.
_HEADER_TEMPLATE = rx.compile(
    r"(?i)licensed\s+under\s+the\s+(?:licen[cs]e\s+)?(?:found\s+)?(?:in\s+)?(?:the\s+)?"
    r"licen[cs]e\s+file\s+(?:in|of)\s+(?:each|every|the\s+(?:respective|corresponding))|"
    # "licensed under the (MIT) license found in the LICENSE file in the root directory of
    # this source tree": it points at the license file, it is not one.
    r"licensed\s+under\s+the\s+(?:[a-z0-9.-]+[ \t\n]+){0,3}licen[cs]e\s+found\s+in\s+the\s+"
    r"licen[cs]e\s+file"
)
_EACH_FOLDER = rx.compile(
    r"(?i)licen[cs]e\s+file\s+(?:in|of)\s+(?:each|every|the\s+(?:respective|corresponding))\s+"
    r"(?:\w+\s+)?(?:folder|director|sub-?folder|sub-?director|model)"
)
# LICENSE_HEADER, license-header.txt, license_template: the text stamped into source files.
_HEADER_NAME = rx.compile(r"(?i)header|template")


_RESEARCH_TERMS = Terms("non-commercial", False, (NONCOMMERCIAL, "Research use only"))


_GAP_NOTE = "Terms forkvet found but could not judge: read them before relying on this answer"
_GAP_TERMS = Terms("custom-restricted", None, (_GAP_NOTE,))


def _known_grant(name: str, path: str) -> bool:
    """The name is a license forkvet knows to grant commercial use, and nothing else."""
    named = _named(name, path, "file", 0.7)
    grants = bool(named) and all(t.commercial_use is True for _, t in named)
    return grants and not unknown_license_name(name, path)


def _section_names(text: str) -> list[str]:
    """A License section that opens with a bare name ("MIT-NC", "Apache-2.0"): the name, read
    as a "License: X" line is (round 20c, F15)."""
    out = []
    for body in _license_sections(text):
        first = next((line for line in body.split("\n") if line.strip()), "")
        first = first.strip().strip("*_`>#").strip().rstrip(".")
        if first.isascii() and len(first.split()) == 1:
            out.append(first)
    return out


def _unknown_names(ctx: Context) -> list[tuple[str, str]]:
    """(path, what) of each license name a README states that forkvet does not know."""
    main = ctx.snap.readme.path if ctx.snap.readme else "README"
    out: list[tuple[str, str]] = []
    docs = [(main, ctx.readme[:2_000_000]), *other_readmes(ctx)]
    for path, text in docs + termsdocs.own_documents(ctx):  # one reader (round 22, 21d F11)
        names = [m.group(1) for m in _statements(text)]
        names += [m.group(1) for m in _LICENSE_LINE.finditer(text[:200_000])][:20]
        names += _section_names(text[:200_000])
        for name in names:
            unknown = unknown_license_name(name, path)
            if unknown:
                out.append((path, f"names a license forkvet does not know: {unknown!r}"))
                break
    return out[:5]


_ADDRESS_IN_TITLE = rx.compile(r"(?i)\bhttps?://\S*|\bwww\.\S*")
_SENTENCE_WORDS = rx.compile(r"(?i)\b(?:under|licensed|this|all|is|are)\b|[:.]\s*$")


def _unknown_titles(texts: dict[str, str]) -> list[tuple[str, str]]:
    """A license file whose title names a license forkvet does not know, whatever license a
    later line names ("Functional Source License, Version 1.1, MIT Future License"; a BUSL
    header whose "Change License: MIT" is not the license now)."""
    out: list[tuple[str, str]] = []
    for path, text in [(p, t) for p, t in texts.items() if "/" not in p][:MAX_LICENSE_FILES]:
        title = next(iter(title_lines(text, 1)), "")
        title = rx.split(r"(?i)copyright|\(c\)|©|\d{4}", title)[0]  # not the holder's name
        # A title names a license; a sentence ("All code is licensed under …") is read elsewhere.
        sentence = len(title.split()) > 10 or _SENTENCE_WORDS.search(title)
        title = _ADDRESS_IN_TITLE.sub(" ", title)
        unknown = unknown_license_name(title, path, True) if "licen" in title.lower() else ""
        unknown = "" if sentence else unknown
        if unknown:
            out.append((path, f"is titled {unknown!r}, a license forkvet does not know"))
    return out


def _gaps(ctx: Context, texts: dict[str, str]) -> list[_Found]:
    """Statements forkvet found but cannot judge (an unread document, an unknown license
    name): commercial use is "yes" only when every statement is a known grant."""
    out: list[_Found] = []
    documents = [ctx.snap.readme.path] if ctx.snap.readme else []
    legal = [p for p, _ in _legal_files(ctx, 100_000)]
    documents += _license_files(ctx) + legal[:MAX_LICENSE_FILES]
    readmes = [(documents[0], ctx.readme)] if ctx.snap.readme else []
    sections = [(p, s) for p, t in readmes + other_readmes(ctx) for s in _license_sections(t)]
    gaps = licensegaps.gaps(ctx, documents, sections)
    gaps += _unknown_names(ctx) + _unknown_titles(texts)
    gaps += termsdocs.gaps(ctx, sections)  # documents it cannot read (round 22)
    gaps += termsgaps.gaps(ctx, readmes + other_readmes(ctx))  # unexplained terms (round 23)
    if len(legal) > MAX_LICENSE_FILES:  # files named for terms past those read (20c, F7)
        unread = len(legal) - MAX_LICENSE_FILES
        gaps.append((legal[MAX_LICENSE_FILES], f"{unread} terms files unread"))
    for path, what in gaps[:10]:
        out.append(_gap(path, what))
    return out


def _gap(path: str, what: str, role: str = "readme") -> _Found:
    """A statement forkvet found and cannot judge: commercial use unclear, listed in all."""
    ref = custom_ref("", f"Unjudged-{path}")
    match, _ = _item(ref, f"terms forkvet cannot judge: {what}", _GAP_TERMS, path, 0.5, "file")
    return _Found(match, _GAP_TERMS, _GAP_TERMS.obligations, role, "extra")


def _model_restrictions(ctx: Context) -> list[_Found]:
    """Non-commercial terms on the models (catalogues, model cards, a research-only base
    model): restrictions on the weights, so commercial use is never a plain yes."""
    out: list[_Found] = []
    sources = modelterms.catalogues(ctx) + weightsdocs.weights_doc_terms(ctx)
    base = modelterms.research_base(ctx)
    if base is not None:
        sources.append(base)
    sources += hubweights.downloads(ctx)  # weights it downloads by a hub id (round 20)
    gated = modelterms.gated_weights(ctx)
    if gated is not None:
        out.append(_gated_terms(gated))
    out += _nested_model_cards(ctx)
    for mt in sources:
        named = [item for lic in mt.licenses[:20] for item in _named(lic, mt.path, "file", 0.7)]
        closed = [(m, t) for m, t in named if t.commercial_use is False]
        if mt.base_model:  # a conditional grant binds weights derived from the base, too
            closed += [(m, t) for m, t in named if t.commercial_use is None]
        unjudged = [lic for lic in mt.licenses[:20] if not _known_grant(lic, mt.path)]
        if closed:
            m, terms = closed[0]
            name = f"{m.name} ({mt.what})"
        elif mt.research_only:
            terms = _RESEARCH_TERMS
            name = mt.what
        elif mt.unverified and _own_grants(ctx, mt.what):
            continue  # the repository's own statement licenses its own Hub weights
        elif mt.unverified:
            terms, name = _GAP_TERMS, f"terms forkvet cannot judge: {mt.what}"
        elif unjudged:
            # "llama2", "other", "Academic", a name forkvet does not know: not a known grant.
            terms = _GAP_TERMS
            name = f"terms forkvet cannot judge: {mt.path} names {unjudged[0][:80]!r}"
        else:
            continue
        ref = custom_ref("", f"Model-Terms-{mt.path}")
        match, _ = _item(ref, name, terms, mt.path, 0.6, "file")
        out.append(_Found(match, terms, terms.obligations, "other", "extra"))
    return out


def _own_document_terms(ctx: Context) -> list[_Found]:
    """The weights' own documents (`WEIGHTS.md`, a weights folder's README, a model card) read
    by the README's reader: the whole document as a License section, the gate and the base
    model a README sentence names (outside attack round 21d, F11: one reader of terms for every
    document). A model card's intent and advice are not terms (weightsdocs' rule)."""
    out: list[_Found] = []
    for path, text in termsdocs.own_documents(ctx):
        said = _own_terms(path, text)
        if said is not None:
            terms, name = said
            match, _ = _item(custom_ref("", f"Own-Doc-{path}"), name, terms, path, 0.6, "file")
            out.append(_Found(match, terms, terms.obligations, "other", "extra"))
    return out[:3]


def _own_terms(path: str, text: str) -> tuple[Terms, str] | None:
    """What one weights' own document says that the README's reader reads as terms."""
    if _commercial_out_of_scope(text):
        return _GAP_TERMS, f"terms forkvet cannot judge: {path} lists commercial use out of scope"
    keep = []
    for sentence in modelterms.sentences(fold(_FRONT_MATTER.sub("", text, 1))[:100_000])[:3000]:
        intent = weightsdocs._INTENT.search(sentence) and not weightsdocs._TERMS.search(sentence)
        sentence = _LONG_WORD.sub(" ", sentence)  # a hash, an identifier: no words of terms
        if len(sentence) < 600 and not intent and not _how_to(sentence):
            keep.append(sentence)
        gated = modelterms._GATED.search(sentence) and modelterms._GATED_SUBJECT.search(sentence)
        base = modelterms._research_base(sentence) if modelterms._DERIVED.search(sentence) else None
        if gated:
            return _GATED_TERMS, f"{path}: the weights are gated ({sentence[:120]!r})"
        if base and modelterms._derives_from(sentence, base[1]):
            return _RESEARCH_TERMS, f"{path}: the weights derive from {base[0]}, research-only"
    for m, terms in _readme_section("\n\n".join(keep)[:60_000], path, where=path):
        if terms.commercial_use is not True:
            return terms, f"{m.name} ({path}, read as a License section)"
    return None


# An Out-of-Scope heading (Markdown or a bold line), as the Hub's model-card template writes it.
_LONG_WORD = rx.compile(r"\b\w{16,}\b")


def _how_to(sentence: str) -> bool:
    """Advice, or a how-to whose only limiting words are the scope or an engineering word
    without a modal of use ("if and only if you intend to use CFG", "our internal names"):
    the weights document reader's rule, kept when its document is read as a License section."""
    if weightsdocs._ADVICE.search(sentence) or weightsdocs._DATA.search(sentence):
        return True  # advice; a sentence about data ("fair use"): the data's terms
    topics = limiting_sentences(sentence, "", prose=True)
    weak = all(t in weightsdocs._WEAK_TOPICS for t in topics)
    return bool(topics) and weak and not weightsdocs._MODAL_USE.search(sentence)


_OUT_OF_SCOPE = rx.compile(
    r"(?im)^[ \t]*(?:#{1,6}[ \t]*|\*\*)[^\n]{0,40}\bout[- ]of[- ]scope\b[^\n]{0,40}$"
)


def _commercial_out_of_scope(text: str) -> bool:
    """A card whose Out-of-Scope section names commercial use ("- Commercial use"): the authors'
    intent, but a careful reader would not call the weights plainly usable commercially
    (outside attack round 21d, Y1); other uses out of scope (medical, surveillance) stay
    intent, not terms."""
    for m in list(_OUT_OF_SCOPE.finditer(text[:200_000]))[:10]:
        end = text.find("\n#", m.end())
        body = fold(text[m.end() : end if end >= 0 else m.end() + 4000][:4000]).lower()
        # A list item that is commercial use ("- Commercial use", "* commercial deployment"),
        # not a sentence weighing it ("any deployed use - whether commercial or not - ...").
        for item in _LIST_ITEM.findall(body)[:100]:
            if rx.search(r"\bcommercial(?:ly)?\b", item) and not rx.search(
                r"\bor\s+not\b|non-", item
            ):
                return True
    return False


_LIST_ITEM = rx.compile(r"(?m)^[ \t]*(?:[-*+]|\d{1,2}[.)])[ \t]+([^\n]{1,120})$")


_DOWNLOADED_ID = rx.compile(r"([\w.-]+/[\w.-]+) \(")


def _own_grants(ctx: Context, what: str) -> bool:
    """Every id of the weights it downloads whose terms forkvet cannot read offline is one the
    repository's own README (or a translation, or the weights' own document) licenses in a
    sentence naming the id ("The pretrained weights on the Hub (`org/name`) are released under
    the MIT license"): a grant of its own, read as any license statement is (outside attack
    round 21d, R_ownorg). A list cut short, or one id without such a statement, stays a gap."""
    ids = _DOWNLOADED_ID.findall(what.partition(" — ")[0])
    if not what.startswith("weights it downloads:") or " more — " in what or not ids:
        return False
    docs = [(ctx.snap.readme.path, ctx.readme[:200_000])] if ctx.snap.readme else []
    docs += other_readmes(ctx) + termsdocs.own_documents(ctx)
    return all(any(_grants_id(path, text, i) for path, text in docs) for i in ids[:8])


def _grants_id(path: str, text: str, hub_id: str) -> bool:
    """A sentence of the text names the id and a license that grants commercial use, and no
    restrictive clause."""
    if hub_id.lower() not in text.lower():
        return False
    for sentence in modelterms.sentences(text)[:5000]:
        if len(sentence) > 600 or hub_id.lower() not in sentence.lower():
            continue
        if any(c in RESTRICTIVE_CLAUSES for c in clauses(sentence)):
            return False
        named = [
            t for m in _statements(sentence) for _, t in _named(m.group(1), path, "readme", 0.6)
        ]
        if named and all(t.commercial_use is True for t in named):
            return True
    return False


MAX_NESTED_CARDS = 30
_CARD_NAME = rx.compile(
    r"(?i)^(?:readme(?:\.md)?|model[-_ ]?card(?:[-_.][\w-]+)*(?:\.(?:md|txt))?)$"
)
# The Hub's model-card keys (a Jekyll page's `title:`/`layout:` front matter is no card).
_HUB_CARD_KEY = rx.compile(
    r"(?m)^(?:license|license_name|tags|pipeline_tag|library_name|base_model|model-index|"
    r"datasets|language|inference|extra_gated_\w+)\s*:"
)
# A folder of weights: its README is the weights' model card.
_MODEL_FOLDER = rx.compile(r"(?i)model|weight|checkpoint|ckpt|pretrained")


def _model_card_by_place(path: str) -> bool:
    """A model card by its name (`MODEL_CARD.md`), or a README in a folder of models."""
    folder, _, name = path.rpartition("/")
    return not name.lower().startswith("readme") or bool(_MODEL_FOLDER.search(folder))


def _nested_model_cards(ctx: Context) -> list[_Found]:
    """A model card (`MODEL_CARD.md` at any depth, a README with the Hub's front matter keys or
    in a folder of models or weights): its front matter's `license:` (`license: cc-by-nc-4.0`, the
    Hub's convention for the weights' terms) and its License sections, read as a README's are
    ("## License: the weights may be used for non-commercial research only"). What does not
    plainly allow commercial use restricts the weights (round 14, F4)."""
    out: list[_Found] = []
    cards = [
        f
        for f in ctx.snap.files
        if _CARD_NAME.match(f.name)
        and ("/" in f.path or f.name.upper() != "README.MD")
        and not f.vendored
        and f.size < 1 << 20
    ]
    # Model cards by name or folder first (a tree of configs/*/README.md fills no card's place).
    cards.sort(key=lambda f: (not _model_card_by_place(f.path), f.path.count("/")))
    for fe in cards[:MAX_NESTED_CARDS]:
        text = ctx.snap.read_text(fe.path) or ""
        fm = _FRONT_MATTER.match(text)
        hub = fm is not None and bool(_HUB_CARD_KEY.search(fm.group(1)))
        if hub or _model_card_by_place(fe.path):
            for body in _license_sections(text[:200_000]):
                section = body.strip()[:60000]
                items = _readme_section(section, fe.path, "the model card") if section else []
                for m, terms in items:
                    if terms.commercial_use is not True:
                        out.append(_Found(m, terms, terms.obligations, "other", "extra"))
        if not fm:
            continue
        for m, terms in _front_matter_licenses(fm.group(1), fe.path):
            if terms.commercial_use is not True:
                out.append(_Found(m, terms, terms.obligations, "other", "extra"))
        for name in _license_values(fm.group(1))[:20]:
            if name.lower() not in ("other", "unknown") and not _named(name, fe.path, "file", 0):
                # A license id forkvet does not know: terms it cannot read.
                found = _unread(
                    fe.path, f"a model card's license {name[:60]!r} forkvet does not know"
                )
                out.append(_Found(found.match, found.terms, found.obligations, "other", "extra"))
    return out


def _gated_terms(mt: modelterms.ModelTerms) -> _Found:
    ref = custom_ref("", f"Model-Terms-{mt.path}")
    match, _ = _item(ref, mt.what, _GATED_TERMS, mt.path, 0.6, "file")
    return _Found(match, _GATED_TERMS, _GATED_TERMS.obligations, "other", "extra")


def check(ctx: Context) -> tuple[LicenseInfo, list[Finding]]:
    """Collect every license statement (files, package metadata, README, CITATION.cff, patent
    grants, model terms) → decide the governing one → data set terms → the user's policy."""
    findings: list[Finding] = []
    found, texts = _license_file_statements(ctx, findings)
    found += _metadata_statements(ctx)
    found += _readme_statements(ctx, found)
    found += _citation_statements(ctx)
    found += _metadata_file_statements(ctx)
    found += _field_statements(ctx)
    if not any(f.kind == "grant" for f in found):
        # Nothing else grants: the repository's own source headers are its license.
        found += _header_license(ctx)
    found += _header_restrictions(ctx)
    found += _patent_grants(ctx)
    found += _notice_restrictions(ctx, found)
    found += _terms_beside_templates(ctx, found, texts)
    found += _readme_terms_elsewhere(ctx)
    found += _model_restrictions(ctx)
    found += _own_document_terms(ctx)
    found += _reuse_restrictions(ctx)
    found += _gaps(ctx, texts)
    for item in found:
        item.match.role = _REPORT_ROLE[item.role]
    findings += _superseded(ctx, found)
    info = _decide(ctx, found, texts, findings)
    findings += _data_set_terms(ctx)
    findings += _policy(ctx, info)
    return info, findings


# "The Yi Series Models Community License no longer applies", "MODEL_LICENSE.txt (the previous
# license)": the README retires a license file it names.
_RETIRED = rx.compile(
    r"(?i)\bno\s+longer\s+(?:appl|valid|in\s+effect|in\s+force|used)|\bsuperseded\b|"
    r"\b(?:has\s+been|was|is|are|were|have\s+been)\s+replaced\b|\breplaces\b|"
    r"\b(?:previous|former|earlier|old|older|legacy)\s+(?:model\s+)?licen[cs]e"
)
_WEIGHTS_WORDS = rx.compile(r"(?i)\b(?:weights|checkpoints?|models?)\b")


def _superseded(ctx: Context, found: list[_Found]) -> list[Finding]:
    """A weights license file the README says no longer applies, next to a README statement
    that puts the weights under a license that allows commercial use ("The code and weights
    are distributed under the Apache 2.0 license"): the current statement decides, the old
    file is kept in `all` and restricts nothing."""
    old = [f for f in found if f.role == "other" and f.match.source == "file" and f.kind == "grant"]
    if not old or not ctx.readme:
        return []
    sentences = [s for s in modelterms.sentences(ctx.readme[:200_000]) if len(s) < 800][:5000]
    if not any(_open_weights_statement(s) for s in sentences if _WEIGHTS_WORDS.search(s)):
        return []
    out: list[Finding] = []
    for f in old:
        names = {f.match.path.rsplit("/", 1)[-1].lower(), f.match.name.lower()}
        said = next(
            (s for s in sentences if _RETIRED.search(s) and any(n in s.lower() for n in names)),
            None,
        )
        if said is None:
            continue
        f.kind = "superseded"
        out.append(
            Finding(
                CHECK,
                "notice",
                "Superseded license",
                f"{f.match.path} ({f.match.name}) no longer applies, the README says: "
                f"{' '.join(said.split())[:160]!r}; its current statement decides.",
                path=f.match.path,
            )
        )
    return out


def _open_weights_statement(sentence: str) -> bool:
    """A "the weights are released under X" sentence naming a license that allows commercial
    use without conditions."""
    named = [t for m in _statements(sentence) for _, t in _named_in_statement(m, "", "readme", 0)]
    return bool(named) and all(t.commercial_use is True for t in named)


def _license_file_statements(
    ctx: Context, findings: list[Finding]
) -> tuple[list[_Found], dict[str, str]]:
    """What each license file grants (or the license it points to by URL), most likely the
    main license first; and the files' texts. Bounded: see _matched_license_files."""
    found: list[_Found] = []
    texts: dict[str, str] = {}
    pointers: list[str] = []
    headers: list[tuple[str, str]] = []
    by_folder = bool(_EACH_FOLDER.search(ctx.readme[:200_000]))
    rest: list[str] = []
    for path in _matched_license_files(ctx, findings, rest):
        text = ctx.snap.read_text(path)
        entry = ctx.snap.get(path)
        if text is None and entry is not None and entry.size > 0:
            found.append(_unread(path, "binary, too large or undecodable"))
            continue
        if not text or not text.strip():
            continue
        if _HEADER_TEMPLATE.search(text[:2000]) and len(text) < 2000:
            # "licensed under the LICENSE file in each model folder": a header, which says
            # the folders' license files are the repository's own, each for its part.
            by_folder = by_folder or bool(_EACH_FOLDER.search(text[:2000]))
            continue
        if _HEADER_NAME.search(path.rsplit("/", 1)[-1]):
            headers.append((path, text))
            continue
        texts[path] = text
        if len(text) > MAX_LICENSE_CHARS:
            # Read in part (classify_text): what comes after is terms forkvet did not read,
            # never a plain yes (round 16).
            found.append(_unread(path, f"over {MAX_LICENSE_CHARS:,} characters, read in part"))
            findings.append(_read_in_part(path, len(text)))
        role = _file_role(path)
        if by_folder and role == "third-party" and path.count("/") == 1:
            entry = ctx.snap.get(path)
            role = "code" if entry is None or not entry.vendored else role
        pointed = _license_at_url(text, path)
        if pointed:
            found += [_Found(m, t, t.obligations, role) for m, t in pointed]
            continue
        classified = classify_text(text, path, "file")
        for m, terms, kind in classified:
            item_role = "third-party" if kind == "notice" else role
            found.append(_Found(m, terms, terms.obligations, item_role, kind))
        if not classified and role == "code" and len(text.split()) <= _POINTER_WORDS:
            pointers.append(path)
        elif not classified:
            # A license file forkvet cannot classify is terms it cannot read (20c, F16).
            found.append(_gap(path, "a license file forkvet cannot classify", "code"))
    found += _past_the_bound(ctx, rest)
    for link in list(ctx.snap.links)[:10_000]:
        name = link.rsplit("/", 1)[-1]
        if ctx.snap.get(link) is not None or link in ctx.snap.dirs:
            continue  # read under its own name, with its target's text (an alias)
        if link.count("/") <= 2 and (_LICENSE_NAME.match(name) or name.upper() == "LICENSES"):
            found.append(_unread(link, "a symbolic link, which forkvet never follows"))
    if not any(f.role == "code" and f.kind == "grant" for f in found):
        # A source-header template is the headers' license only when no license file grants.
        for path, text in headers[:1]:
            found += [
                _Found(m, t, t.obligations, "code")
                for m, t, kind in classify_text(text, path, "header")
                if kind == "grant"
            ]
    if pointers and not any(f.role == "code" and f.kind == "grant" for f in found):
        found += _header_license(ctx)
    if pointers and not any(f.role == "code" and f.kind == "grant" for f in found):
        found += [_gap(p, "a license file forkvet cannot classify", "code") for p in pointers]
    return found, texts


MAX_PAST_LICENSE_FILES = 1000
MAX_PAST_LICENSE_CHARS = 4_000_000


def _past_the_bound(ctx: Context, rest: list[str]) -> list[_Found]:
    """License files past MAX_LICENSE_FILES (or the deadline), read cheaply: one that is not
    a known text granting commercial use with no restrictive clause is a gap, and so are any
    past MAX_PAST_LICENSE_FILES, MAX_PAST_LICENSE_CHARS or the deadline: a bound never passes
    silently (round 20c, F7)."""
    total = 0
    for i, path in enumerate(rest):
        late = time.monotonic() > ctx.deadline
        if i >= MAX_PAST_LICENSE_FILES or total > MAX_PAST_LICENSE_CHARS or late:
            return [_gap(path, f"{len(rest) - i} license files past those read", "code")]
        text = (ctx.snap.read_text(path) or "")[:MAX_LICENSE_CHARS]
        total += len(text)
        matched = licensedb.match_text(text) if text.strip() else []
        grants = matched and all(_terms_for_spdx(m.spdx).commercial_use for m in matched)
        said = [c for c in clauses(text) if c in RESTRICTIVE_CLAUSES]
        if not grants or said or _other_script(text):
            return [_gap(path, "a license file past those read in full is not a plain grant")]
    return []


# A LICENSE this short that names no license points elsewhere ("Please refer to license:
# <an address forkvet does not know>"); the source headers then say which license it is.
_POINTER_WORDS = 30
_HEADER_SUFFIXES = (".py", ".c", ".cc", ".cpp", ".h", ".cu", ".lua", ".sh", ".js", ".ts")
_HEADER_FILES = 200


def _header_license(ctx: Context) -> list[_Found]:
    """The license the repository's own source headers name ("may be used and distributed
    according to the terms of the Llama 2 Community License Agreement"), when most of the
    headers that name one agree; read from the first lines of at most _HEADER_FILES files."""
    votes: dict[str, list[tuple[LicenseMatch, Terms]]] = {}
    read = 0
    for f in ctx.snap.files:
        if f.vendored or f.suffix not in _HEADER_SUFFIXES or f.path.count("/") > 2:
            continue
        read += 1
        if read > _HEADER_FILES:
            break
        head = (ctx.snap.read_text(f.path) or "")[:1500]
        if "licen" not in head.lower():
            continue
        known = known_license(head)
        items = [_from_known(known, f.path, "header", 0.7)] if known else []
        for said in [] if items else _statements(head):
            items += _named_in_statement(said, f.path, "header", 0.7)
        if items:
            votes.setdefault(items[0][0].spdx or "", []).append(items[0])
    if not votes:
        return []
    best = max(votes.values(), key=len)
    if 2 * len(best) <= sum(len(v) for v in votes.values()):
        return []  # the headers disagree: no one license is the repository's
    match, terms = best[0]
    return [_Found(match, terms, terms.obligations, "code")]


def _from_source_headers(item: _Found) -> bool:
    """Read from code files' headers (not from a header template file)."""
    return item.match.source == "header" and item.match.path.endswith(_HEADER_SUFFIXES)


# -- what source headers say beside the license (round 14, F5) ------------------------------
# Own source files whose opening comments are read for terms: the shallowest first (the main
# code: train.py, the package's modules), at most _HEADER_SCAN, each its first lines only.
_HEADER_DEPTH = 4
# The files whose headers are read for restrictions (their opening bytes only): past them, a gap.
_HEADER_SCAN = 5000
_HEADER_CHARS = 4000
_HEADER_LINES = 60
_SPDX_ID = rx.compile(r"(?i)SPDX-License-Identifier\s*:\s*([^\n]{1,200})")
# A header that speaks of terms at all (not "# Script only for evaluation").
_TERMS_WORDS = rx.compile(
    r"(?i)licen[cs]|copyright|commercial|permission|rights|terms|proprietary|\bprofit"
)
_HEADER_TERMS_NOTE = "Source files' headers restrict their use: read them before using the code"


def _header_of(text: str) -> str:
    """The comments a source file opens with (a shebang, comment lines, a C block comment, a
    Python module docstring), their markers removed; what follows the first code line is not
    read."""
    out: list[str] = []
    close = ""  # inside a block comment or a docstring: what closes it
    for line in text[:_HEADER_CHARS].lstrip("\ufeff").split("\n")[:_HEADER_LINES]:
        s = line.strip()
        if close:
            out.append(s.replace(close, " ").lstrip("*"))
            close = "" if close in s else close
            continue
        if not s or s.startswith(("#", "//", "--", "*", "%")):
            out.append(s.lstrip("#/-*% !"))
            continue
        opened = s.lstrip("rRuU")
        marker = next((q for q in ("/*", '"""', "'''") if opened.startswith(q)), "")
        if not marker:
            break  # the code starts
        rest = opened[len(marker) :]
        end = "*/" if marker == "/*" else marker
        out.append(rest.replace(end, " "))
        close = "" if end in rest else end
    return "\n".join(out)


def _spdx_header_terms(expression: str) -> list[tuple[str, Terms]]:
    """The terms of a header's SPDX expression: an OR offers the most permissive alternative,
    an AND or a WITH binds them all; an id forkvet does not know is terms it cannot read."""
    best: list[tuple[str, Terms]] | None = None
    for alternative in rx.split(r"\s+OR\s+", expression.strip(" */()").strip())[:10]:
        items: list[tuple[str, Terms]] = []
        for part in rx.split(r"\s+AND\s+", alternative)[:10]:
            part, *exceptions = rx.split(r"\s+WITH\s+", part)
            part = part.strip(" ()")
            if not part:
                continue
            # SPDX's own exceptions only add permissions; one of the author's own
            # (`WITH LicenseRef-Commons-Clause`) is terms forkvet cannot read (19c, L5).
            items += [(e.strip(" ()")[:60], _UNREAD_HEADER) for e in exceptions if _own_ref(e)]
            named = _named(part, "", "header", 0.7, strict=True)
            items += [(m.name, t) for m, t in named[:1]] or [(part[:60], _UNREAD_HEADER)]
        if all(t.commercial_use is True for _, t in items):
            return []
        if best is None:
            best = items
    return [(n, t) for n, t in best or [] if t.commercial_use is not True]


_UNREAD_HEADER = Terms("custom-restricted", None, (_HEADER_TERMS_NOTE,))


def _own_ref(exception: str) -> bool:
    """An exception of the author's own (LicenseRef-/DocumentRef-), not one of SPDX's."""
    return bool(rx.match(r"(?i)\s*\(?\s*(?:LicenseRef|DocumentRef)-", exception))


def _reuse_restrictions(ctx: Context) -> list[_Found]:
    """A REUSE declaration (`.reuse/dep5`, `REUSE.toml`) that puts files under a license that
    does not plainly allow commercial use (`Files: weights/*` / `License: CC-BY-NC-4.0`, an id
    forkvet does not know): those files are not under a plain permission (round 18, F9)."""
    out: list[_Found] = []
    for path, expression in weightsdocs.reuse_expressions(ctx):
        for label, terms in _spdx_header_terms(expression)[:1]:
            name = f"{label} (REUSE declaration {path})"
            ref = custom_ref("", f"REUSE-Terms-{label}")
            match, _ = _item(ref, name, terms, path, 0.7, "file")
            out.append(_Found(match, terms, terms.obligations, "other", "extra"))
        if len(out) >= 5:
            break
    return out


@cache
def _header_kinds() -> frozenset[str]:
    """Every source kind whose opening comments are read for terms (round 23, 22d F16: a
    restriction in `upfirdn2d.cuh` is the one in the `.cu` beside it): the languages check's
    extensions and the other code kinds of `data/terms_vocab.json`, not notebooks or markup."""
    kinds = set(_HEADER_SUFFIXES) | set(EXTENSIONS) | set(vocab()["header_suffixes"])
    return frozenset(kinds - {".ipynb", ".html", ".css"})


def _header_restriction(head: str) -> tuple[str, Terms] | None:
    """What one file's header says that does not plainly allow commercial use: the license it
    names (an SPDX identifier, a known license, "licensed under X") when that does not, or
    restrictive terms of its own ("for non-commercial use only")."""
    if not _TERMS_WORDS.search(head) and not foreign_clauses(head):
        return None
    said: list[tuple[str, Terms]] = []
    spdx = _SPDX_ID.search(head)
    if spdx:
        said += _spdx_header_terms(spdx.group(1))
        head = _SPDX_ID.sub(" ", head)  # its ids are read above, not as words
    known = known_license(head)
    named = [_from_known(known, "", "header", 0.7)] if known else []
    for m in [] if named else _statements(head)[:5]:
        named += _named_in_statement(m, "", "header", 0.7)
    said += [(m.name, t) for m, t in named if t.commercial_use is not True]
    found: list[str] = []
    for sentence in modelterms.sentences(head)[:100]:
        if _DATA_SUBJECT.search(sentence) and not _CODE_SUBJECT.search(sentence):
            continue  # a data set's terms ("the images are for research use only")
        found += [c for c in clauses(sentence) if c in RESTRICTIVE_CLAUSES and c not in found]
    if found:
        said.append((f"terms of its own ({', '.join(found)})", custom_terms(found)))
    if not said:
        return None
    return min(said, key=lambda x: (x[1].commercial_use is not False, x[0]))


def _header_restrictions(ctx: Context) -> list[_Found]:
    """The repository's own source files whose headers restrict their use (a header naming
    CC BY-NC, the NVIDIA Source Code License-NC, a license forkvet cannot read, or saying
    "for non-commercial use only"), beside whatever license the repository states: those
    files are not under a plain permission, so commercial use is never a plain yes. Bounded:
    the first lines of at most _HEADER_SCAN files (past them a gap), the shallowest first;
    vendored folders (third_party/, vendor/) are their libraries' own."""
    own = [
        f
        for f in ctx.snap.files
        if f.suffix in _header_kinds() and not f.vendored and f.path.count("/") <= _HEADER_DEPTH
    ]
    own.sort(key=lambda f: f.path.count("/"))
    hits: list[tuple[str, str, Terms]] = []
    if len(own) > _HEADER_SCAN:
        # Past the bound the headers are unread: a gap, never a silent pass (round 20c, F7).
        path = own[_HEADER_SCAN].path
        hits.append((path, f"{len(own) - _HEADER_SCAN} files' headers not read", _UNREAD_HEADER))
    for f in own[:_HEADER_SCAN]:
        try:  # the opening bytes only, whatever the file's size
            head = ctx.snap.read_bytes(f.path, 4 * _HEADER_CHARS).decode("utf-8-sig", "replace")
        except OSError:
            continue
        said = _header_restriction(_header_of(head))
        if said:
            hits.append((f.path, *said))
    if not hits:
        return []
    path, label, terms = min(hits, key=lambda h: h[2].commercial_use is not False)
    if terms.commercial_use is not False:
        terms = Terms("custom-restricted", None, (*terms.obligations, _HEADER_TERMS_NOTE))
    read = min(len(own), _HEADER_SCAN)
    name = f"{label} in the source headers of {len(hits)} of {read} files read (e.g. {path})"
    ref = custom_ref("", f"Header-Terms-{path}")
    match, _ = _item(ref, name, terms, path, 0.6, "header")
    return [_Found(match, terms, terms.obligations, "headers", "extra")]


_UNPLACED_CLASSIFIER = rx.compile(
    r"(?i)freeware|shareware|restricted|home\s+use|educational|aladdin|\bafpl\b|"
    r"non-?commercial|free\s+to\s+use"
)


def _metadata_statements(ctx: Context) -> list[_Found]:
    """setup(license=...), pyproject license and license classifiers."""
    found: list[_Found] = []
    for meta in ctx.packages:
        names = [meta.license] if meta.license else []
        names += [cm.group(1) for c in meta.classifiers if (cm := _CLASSIFIER.match(c))]
        for name in names:
            found += _metadata_name(name, meta.path, own=name == meta.license)
    return found


def _metadata_name(name: str, path: str, own: bool = True) -> list[_Found]:
    """What one metadata license value says: the license it names, and terms besides."""
    found: list[_Found] = []
    if len(name) > 200:  # the whole license text pasted into setup(license=...)
        items = [(m, t) for m, t, k in classify_text(name, path, "metadata") if k == "grant"]
    else:
        items = _named(name, path, "metadata", 0.8)
    found += [_Found(m, terms, terms.obligations, "metadata") for m, terms in items]
    restrictive = [c for c in clauses(name[:2000]) if c in RESTRICTIVE_CLAUSES]
    # More than a license's name ("MIT; no use in commercial products"): the other
    # words are read as a sentence beside a license is (round 13).
    restrictive += _metadata_terms(name[:2000])
    if "proprietary" in name.lower():
        restrictive.append("no-permission")  # License :: Other/Proprietary License
    elif not items and not restrictive and _UNPLACED_CLASSIFIER.search(name):
        # Freeware, Shareware, "Free To Use But Restricted", AFPL: terms forkvet
        # cannot place are never a plain yes.
        restrictive.append("terms forkvet cannot place")
    if restrictive:
        # "License :: Free for non-commercial use": terms, not a license's name;
        # "MIT, research only": terms beside one.
        terms = custom_terms(restrictive)
        ref = custom_ref("", f"Metadata-Terms-{path}")
        said = f"{name[:80]} ({path})"
        match, _ = _item(ref, said, terms, path, 0.6, "metadata")
        found.append(_Found(match, terms, terms.obligations, "metadata", "extra"))
        if not items and own and terms.commercial_use is None:
            # setup(license="Academic Free for non-profit; ..."): a license of the
            # package's own that forkvet cannot place, never "no license".
            found.append(_Found(match, terms, terms.obligations, "metadata"))
    return found


def _metadata_terms(name: str) -> list[str]:
    """What a metadata license string says besides a license's name, each part (split at
    punctuation: "MIT; research only", "Apache-2.0 (companies excluded)") read as a sentence
    beside a license text is; a name alone ("Academic Free License") says nothing more."""
    topics: set[str] = set()
    for part in rx.split(r"[.!?;,()\[\]:]+\s*|\s+-\s+", fold(name)):
        tokens = rx.findall(r"[a-z]+", part.lower())
        if tokens:
            topics |= _sentence_topics(part, tokens)
    return (
        [f"terms beside the license name about {', '.join(sorted(topics)[:4])}"] if topics else []
    )


def _readme_statements(ctx: Context, found: list[_Found]) -> list[_Found]:
    """The README's license statements and restrictive sentences."""
    if not ctx.snap.readme:
        return _other_readme_terms(ctx)
    items = readme_licenses(ctx.snap.readme.path, ctx.readme)
    named = any(m.spdx != README_TERMS for m, _ in items)
    grants = [f for f in found if f.kind == "grant"]
    if grants and not all(f.terms.category == "permissive" for f in grants):
        # Beside a copyleft license file, "contact us for commercial use" offers another
        # license (dual licensing); beside a permissive one, which grants commercial use
        # already, the authors read their terms otherwise, so it stays: unclear.
        items = [(m, t) for m, t in items if m.name != _CONTACT_ONLY]
    out: list[_Found] = []
    for m, terms in items:
        # Restrictive sentences are the README's license only when it names none.
        kind = "extra" if m.spdx == README_TERMS and named else "grant"
        out.append(_Found(m, terms, terms.obligations, "readme", kind))
    return out + _other_readme_terms(ctx)


# The README in other words: its translations and the run-docs a reader follows (a README.md
# that only points to README_en.md, a GETTING_STARTED.md with the terms of the weights).
_OTHER_README = rx.compile(
    r"(?i)^(?:(?:docs?/)?readme[-_.][\w-]{1,12}|getting[-_ ]?started|quick[-_ ]?start|install"
    r"|usage|docs?/index|docs?/readme|model[-_]?zoo)\.(?:md|rst|txt)$|"
    r"^(?:\.github/|docs?/)?readme(?:\.\w{1,8})?$"
)
_SHOWN_README = rx.compile(r"(?i)^(?:\.github/|docs?/)?readme(?:\.\w{1,8})?$")
_MAX_OTHER_README = 12


def other_readmes(ctx: Context) -> list[tuple[str, str]]:
    """(path, text) of the README's translations, older versions and run-docs, the first
    _MAX_OTHER_README of them, each at most 512 KiB; read once per run (the license and the
    weights' terms both read them)."""
    if "other_readmes" not in ctx.memo:
        ctx.memo["other_readmes"] = _read_other_readmes(ctx)
    return ctx.memo["other_readmes"]  # type: ignore[no-any-return]


def _read_other_readmes(ctx: Context) -> list[tuple[str, str]]:
    main = ctx.snap.readme.path if ctx.snap.readme else ""
    docs = [
        f
        for f in ctx.snap.files
        if f.path != main and f.path.count("/") <= 1 and _OTHER_README.match(f.path)
    ]
    # The READMEs GitHub may show on the repository's page (.github/, the root, docs/) come
    # first: whichever one is not the README read above is read for terms too (round 16).
    shown = [f for f in docs if _SHOWN_README.match(f.path)]
    docs = shown + [f for f in docs if f not in shown]
    return [
        (f.path, ctx.snap.read_text(f.path) or "")
        for f in docs[:_MAX_OTHER_README]
        if f.size <= 512 * 1024
    ]


def _other_readme_terms(ctx: Context) -> list[_Found]:
    """Restrictive sentences in the README's translations and run-docs: never a license of
    the repository (a translation may name it differently), but never a plain yes beside one."""
    out: list[_Found] = []
    for path, text in other_readmes(ctx):
        for m, terms in readme_licenses(path, text):
            if m.spdx != README_TERMS or terms.commercial_use is True:
                continue
            # A translation is in another language by design: "commercial" in it is a
            # restriction when a limiting word stands beside it (非商业, 禁止商用), not in
            # "free for personal, academic and commercial use" (可免费用于…商业用途).
            if m.name.endswith("(foreign-commercial)") and not _FOREIGN_LIMIT.search(text):
                continue
            out.append(_Found(m, terms, terms.obligations, "readme", "extra"))
    return out


# Commerce and limiting words of the languages READMEs are translated into most (Chinese,
# Japanese, Korean, Russian, Spanish, Portuguese, French, German, Italian), for that one test.
_COMMERCE_CJK = (
    r"(?:商业|商用|商業|営利|营利|盈利|상업|영리|коммерч|прибыл|comercial|commercial|kommerziell)"
)
_LIMIT_CJK = (
    r"(?:非|禁止|不得|不可|不能|不允许|不准|仅|僅|只能|限于|限於|禁じ|無断|できません|비|금지|불가"
    r"|только|запрещ|\bне\b|\bno\b|\bnão\b|\bpas\b|nicht|\bnur\b|\bsolo\b|sólo|seulement"
    r"|uniquement|interdit|prohib|verboten|vietat)"
)
_FOREIGN_LIMIT = rx.compile(
    r"(?i)"
    + _LIMIT_CJK
    + r"[^。.!！?？\n]{0,40}?"
    + _COMMERCE_CJK
    + "|"
    + _COMMERCE_CJK
    + r"[^。.!！?？\n]{0,40}?"
    + _LIMIT_CJK
)


def _citation_statements(ctx: Context) -> list[_Found]:
    """`license:` in a CITATION.cff, one id or a list."""
    found: list[_Found] = []
    for f in ctx.snap.files:
        if f.name != "CITATION.cff":
            continue
        text = ctx.snap.read_text(f.path) or ""
        for name in _license_values(text):  # CFF's `license` may be a list: all apply
            for m, terms in _named(name, f.path, "metadata", 0.8):
                found.append(_Found(m, terms, terms.obligations, "metadata"))
    return found


def _patent_grants(ctx: Context) -> list[_Found]:
    """A PATENTS file at the top: an additional grant beside the license."""
    found: list[_Found] = []
    patents = [f.path for f in ctx.snap.files if len(f.parts) == 1 and _PATENTS_NAME.match(f.name)]
    for path in patents:
        terms = Terms("permissive", True, (PATENTS_NOTE,))
        m, _ = _item(
            "LicenseRef-PATENTS", "Additional patent grant (PATENTS)", terms, path, 0.9, "file"
        )
        found.append(_Found(m, terms, terms.obligations, "patents", "extra"))
    return found


# NOTICE, and the terms files model repositories ship beside the license (Llama's
# USE_POLICY.md, TERMS_OF_USE.md, RESPONSIBLE_USE_POLICY.md).
_NOTICE_NAME = rx.compile(
    r"(?i)^(?:notices?|terms(?:[-_ ]of[-_ ](?:use|service))?|(?:acceptable[-_ ])?use[-_ ]policy|"
    r"responsible[-_ ]use(?:[-_ ]policy)?|usage[-_ ](?:policy|terms)|"
    r"(?:[a-z]+[-_ ])*(?:terms|agreement|disclaimer)(?:[-_ ][a-z]+)*)(?:\.(?:md|txt|rst))?$"
)


# Round 16: every name that says a file holds legal text (COPYRIGHT, LEGAL.md, LICENSING.md,
# RESTRICTIONS.md, CONDITIONS.md, COMMERCIAL.md, an acceptable-use policy), any case, any
# extension but a program's or a data file's: a word of the name, between separators.
_LEGAL_NAME = rx.compile(
    r"(?i)(?:^|[-_. ])(?:(?:un)?licen[cs]\w*|copying|copyrights?|legal|notices?|terms|"
    r"restrictions?|conditions?|clauses?|commercial|eula|disclaimers?|agreements?|"
    r"(?:acceptable|responsible)[-_ ]?use\w*|use[-_ ]?polic(?:y|ies)|usage[-_ ]?polic(?:y|ies))"
    r"(?:$|[-_. ])"
)
_NOT_LEGAL_SUFFIX = frozenset(
    [
        ".py", ".pyc", ".pyi", ".ipynb", ".json", ".yml", ".yaml", ".toml", ".cfg", ".ini",
        ".js", ".ts", ".tsx", ".jsx", ".css", ".scss", ".sh", ".bat", ".ps1", ".c", ".cc",
        ".cpp", ".h", ".hpp", ".cu", ".java", ".go", ".rs", ".rb", ".lua", ".m", ".r", ".png",
        ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".csv", ".tsv", ".pt", ".pth",
        ".bin", ".ckpt", ".safetensors", ".npy", ".npz", ".h5", ".onnx", ".zip", ".gz",
        ".tar", ".lock", ".mp4", ".wav", ".mp3",
    ]
)  # fmt: skip
_LEGAL_FOLDERS = (".github", "docs", "doc")


def _legal_files(ctx: Context, most: int = MAX_LICENSE_FILES) -> list[tuple[str, str]]:
    """(path, role) of the files whose names say they hold terms, other than the license
    files matched in full (_license_files): at the root, in .github/ or docs/ (a NOTICE at
    the root only: deeper ones are third-party code's), terms files up to three folders
    down, and whatever the package metadata names as its license file. Roles: a NOTICE or
    terms file is "third-party" (as before round 16), any other "code"."""
    skip = set(_license_files(ctx))
    out: dict[str, str] = {}
    for f in ctx.snap.files:
        if f.vendored or f.path in skip:
            continue
        is_notice = f.name.upper().startswith("NOTICE")
        if _NOTICE_NAME.match(f.name) and (
            len(f.parts) == 1 or (not is_notice and len(f.parts) <= 3)
        ):
            out[f.path] = "third-party"
            continue
        shallow = len(f.parts) == 1 or (
            f.parts[0].lower() in _LEGAL_FOLDERS and len(f.parts) <= 3 and not is_notice
        )
        legal = _LEGAL_NAME.search(f.name) and f.suffix.lower() not in _NOT_LEGAL_SUFFIX
        if shallow and legal:
            out[f.path] = "code"
    for path in _declared_license_files(ctx):
        if path not in skip:
            out.setdefault(path, "code")
    return list(out.items())[:most]


# Files named for the repository's own terms (not a NOTICE of others' code, a COPYRIGHT line
# or a disclaimer): text in them that forkvet cannot classify is a gap.
_TERMS_OF_OWN = rx.compile(
    r"(?i)terms|restrictions?|conditions?|eula|agreements?|commercial"
)  # an acceptable-use policy limits kinds of use, not commercial use: its clauses are read


def _declared_license_files(ctx: Context) -> list[str]:
    """The files the package metadata names as its license (PEP 621 `license = {file}`, PEP
    639 `license-files`, setup.cfg `license_files`, setup(license=open(...).read())): what a
    built wheel carries as its license, whatever their names. Globs are matched on RE2, at most
    eight of them, 16 files each."""
    out: list[str] = []
    paths = [f.path for f in ctx.snap.files]
    known = set(paths)
    globs = 0
    for meta in ctx.packages:
        base = meta.path.rsplit("/", 1)[0] + "/" if "/" in meta.path else ""
        for name in meta.license_files[:32]:
            name = name.strip()
            name = name[2:] if name.startswith("./") else name
            full = f"{base}{name}"
            if full in known:
                out.append(full)
            elif any(ch in name for ch in "*?[") and globs < 8:
                globs += 1
                pattern = _glob(full)
                out += [p for p in paths if pattern.fullmatch(p)][:16]
    return list(dict.fromkeys(out))


def _glob(glob: str) -> rx.Pattern[str]:
    """A setuptools/PEP 639 glob as an RE2 pattern: `**` any folders, `*` and `?` within one
    name, `[…]`/`[!…]` a set of characters, anything else literal."""
    out = []
    for part in rx.split(r"(\*\*/?|\*|\?|\[[^\]\n/]{1,20}\])", glob[:200]):
        if part.startswith("[") and part.endswith("]") and len(part) > 2:
            inner = part[1:-1]
            out.append(f"[^{rx.escape(inner[1:])}]" if inner[0] == "!" else f"[{rx.escape(inner)}]")
        elif part in ("**", "**/"):
            out.append(".*")
        elif part == "*":
            out.append("[^/]*")
        elif part == "?":
            out.append("[^/]")
        elif part:
            out.append(rx.escape(part))
    return rx.compile("".join(out))


def _notice_restrictions(ctx: Context, found: list[_Found]) -> list[_Found]:
    """Restrictive terms in a top-level NOTICE file ("includes model weights licensed for
    non-commercial research use only") or any file named for terms (_legal_files): a part of
    what ships is restricted, so commercial use is never a plain yes. The license texts a
    NOTICE pastes (the GPL's "noncommercially") are their templates' words, not added terms:
    see _added_restrictions. A file too large to read whole is never a plain yes."""
    out: list[_Found] = []
    for path, role in _legal_files(ctx):
        whole = ctx.snap.read_text(path)
        entry = ctx.snap.get(path)
        if whole is None and entry is not None and entry.size > 0:
            out.append(_unread(path, "binary, too large or undecodable"))
            continue
        whole = whole or ""
        if len(whole) > MAX_LICENSE_CHARS:
            out.append(_unread(path, f"over {MAX_LICENSE_CHARS:,} characters, read in part"))
        text = whole[:MAX_LICENSE_CHARS]
        if not clauses(text):
            if _TERMS_OF_OWN.search(path.rsplit("/", 1)[-1]) and not licensedb.match_text(text):
                # Terms forkvet finds no clause of and no license in (round 20c, F16).
                out.append(_gap(path, "a terms file forkvet cannot classify", "code"))
            continue
        ids = {x.match.spdx for x in found if x.match.spdx and x.match.source == "file"}
        ids |= {m.spdx for m in licensedb.match_text(text)}
        extra = _added_restrictions(text, sorted(ids))
        if not extra:
            continue
        terms = custom_terms(extra)
        ref = custom_ref("", f"Notice-Terms-{path}")
        name = f"Terms in {path} ({', '.join(extra)})"
        match, _ = _item(ref, name, terms, path, 0.6, "file")
        out.append(_Found(match, terms, terms.obligations, role, "extra"))
    return out


# Round 16: a sentence beside the license templates that puts the weights (or the code) under
# terms the repository does not hold: at an address, in a separate license or an acceptable-
# use policy, or "alternatively" under another license.
_ELSEWHERE_SUBJECT = rx.compile(r"(?i)\b(?:models?|weights|checkpoints?|pre-?trained|parameters)\b")
# Third-party materials "may be governed by separate terms" (a notice's boilerplate): their
# terms are the third parties', not the weights' the repository ships.
_THIRD_PARTY = rx.compile(r"(?i)\bthird[-\s]+part(?:y|ies)\b")
_ELSEWHERE_TERMS = rx.compile(r"(?i)\blicen[cs]\w*|\bterms\b|\bagreements?\b|\bpolic(?:y|ies)\b")
_ELSEWHERE_WORDS = (
    r"\bseparate(?:ly)?\b|\bown\s+licen[cs]|\bdifferent\s+licen[cs]|"
    r"\badditional\s+(?:licen[cs]|terms)|\bacceptable[-\s]+use\b|\balternatively\b"
)
_ELSEWHERE_WHERE = rx.compile(r"(?i)\bhttps?://|\bwww\.|" + _ELSEWHERE_WORDS)
# In a README, where addresses are everywhere, only the words say the terms are elsewhere.
_ELSEWHERE_SAID = rx.compile(r"(?i)" + _ELSEWHERE_WORDS)
_MD_LINK = rx.compile(r"\[([^\]\n]{0,300})\]\([^()\s]{0,500}\)")
# A file a sentence names for those terms ("see WEIGHTS_LICENSE", "in MODEL_LICENSE.md").
_TERMS_FILE_WORD = rx.compile(r"(?i)[\w./-]*(?:licen[cs]e|terms|polic(?:y|ies)|agreement)[\w./-]*")


def _held(ctx: Context, sentence: str) -> bool:
    """The sentence names a file of this repository that holds the terms (then read as a
    license or legal file)."""
    names = {f.name.lower() for f in ctx.snap.files} | {f.path.lower() for f in ctx.snap.files}
    for word in _TERMS_FILE_WORD.findall(sentence)[:20]:
        word = word.strip("./").lower()
        if ("_" in word or "." in word or "/" in word) and word in names:
            return True
    return False


def _terms_elsewhere(ctx: Context, sentence: str, readme: bool = False) -> bool:
    """A sentence putting the weights under terms forkvet cannot read (see _ELSEWHERE_WHERE;
    in a README, _ELSEWHERE_SAID), not naming a license forkvet knows (as written or as a
    link's text reads) nor a file the repository holds."""
    if len(sentence) >= 1000 or not _ELSEWHERE_SUBJECT.search(sentence):
        return False
    where = _ELSEWHERE_SAID if readme else _ELSEWHERE_WHERE
    if not (_ELSEWHERE_TERMS.search(sentence) and where.search(sentence)):
        return False
    if _THIRD_PARTY.search(sentence):
        return False
    plain = _MD_LINK.sub(r"\1", sentence)
    if names_a_license(plain) or known_license_at(plain) is not None:
        return False
    return not _held(ctx, sentence)


def _restricted_named(sentence: str, path: str) -> list[tuple[LicenseMatch, Terms]]:
    """Licenses a sentence names that do not grant commercial use plainly (the Llama 2
    Community License, CC BY-NC 4.0)."""
    named: list[tuple[LicenseMatch, Terms]] = []
    known_at = known_license_at(sentence)
    if known_at is not None:
        named.append(_from_known(known_at[0], path, "file", 0.6))
    named += _names_in(sentence, path, "file")
    return [(m, t) for m, t in named if t.commercial_use is not True]


_MAX_BESIDE_SENTENCES = 5000
_KNOWN_IDS = frozenset(k.spdx for k in KNOWN)


def _terms_beside_templates(
    ctx: Context, found: list[_Found], texts: dict[str, str]
) -> list[_Found]:
    """Every license file and every file named for terms (_legal_files) read the same way,
    sentence by sentence beside its license templates' own words (round 16): a sentence that
    names a license which does not plainly grant commercial use ("The model weights are
    governed by the Llama 2 Community License") is that license for the weights; one that
    puts them under terms the repository does not hold (_terms_elsewhere) is terms forkvet
    cannot read. Either way commercial use is never a plain yes."""
    docs = dict(texts)
    for path, _role in _legal_files(ctx):
        if path not in docs:
            docs[path] = ctx.snap.read_text(path) or ""
    out: list[_Found] = []
    for path, text in docs.items():
        ids = {f.match.spdx for f in found if f.match.path == path and f.match.source == "file"}
        if ids & _KNOWN_IDS:
            # A model license forkvet knows by its name (OpenRAIL, Llama): no template tells
            # its own sentences ("released under different licensing terms") from added ones.
            continue
        spdx_ids = sorted(i for i in ids if i)
        own = path in texts and bool(spdx_ids)  # a license file with a template: text added
        templates = " " + " ".join(licensedb.template_tokens(i) for i in spdx_ids) + " "
        grams = _grams(templates)
        body = COPYRIGHT_LINE.sub(" ", text[:MAX_LICENSE_CHARS])
        said: list[tuple[LicenseMatch, Terms]] = []
        elsewhere = added = ""
        # Sentences end at . ! ? or a blank line ("licensed separately; see WEIGHTS_LICENSE"
        # is one sentence: the file it names is read).
        parts = rx.split(r"[.!?]\s|\n\s*\n", fold(body))[:_MAX_BESIDE_SENTENCES]
        for sentence in parts:
            tokens = rx.findall(r"[a-z]+", sentence.lower())
            if len(tokens) < 3 or len(sentence) > 2000:
                continue
            if _template_words(tokens, templates, grams):
                continue
            said += _restricted_named(sentence, path)
            if not elsewhere and _terms_elsewhere(ctx, sentence):
                elsewhere = " ".join(sentence.split())[:160]
            if not added and own and termsgaps.terms_sentence(sentence):  # round 23, 22d F15
                added = " ".join(sentence.split())[:160]
        for m, t in _dedupe(said)[:3]:
            if any(f.match.spdx == m.spdx and f.match.path == path for f in found):
                continue  # the file's own license (its title or grant)
            m.name = f"{m.name} (named beside the license text in {path})"
            out.append(_Found(m, t, t.obligations, "other", "extra"))
        if elsewhere:
            out.append(_elsewhere(path, elsewhere))
        elif added and not said:
            # Terms added to a license text that nothing explains ("the model weights are not
            # covered by the license above"): the one terms reader's gap (termsgaps).
            out.append(_gap(path, f"text added to the license text: {added!r}", "code"))
    return out


def _elsewhere(path: str, sentence: str) -> _Found:
    terms = Terms(
        "custom-restricted",
        None,
        (f"Terms kept outside the repository: {sentence!r}: read them first",),
    )
    name = f"Weights under terms the repository does not hold ({path}: {sentence!r})"
    match, _ = _item(custom_ref("", f"Terms-Elsewhere-{path}"), name, terms, path, 0.5, "file")
    return _Found(match, terms, terms.obligations, "code", "extra")


def _readme_terms_elsewhere(ctx: Context) -> list[_Found]:
    """A README's License section (the README's, or one GitHub may show instead, or a
    translation's) that puts the weights under terms the repository does not hold
    (_terms_elsewhere): commercial use is not a plain yes (round 16)."""
    docs = [(ctx.snap.readme.path, ctx.readme)] if ctx.snap.readme else []
    for path, text in docs + other_readmes(ctx):
        for section in _license_sections(text[:200_000]):
            for sentence in modelterms.sentences(section[:20_000])[:500]:
                if _terms_elsewhere(ctx, sentence, readme=True):
                    said = " ".join(sentence.split())[:160]
                    terms = Terms(
                        "custom-restricted",
                        None,
                        (f"Terms kept outside the repository: {said!r}: read them first",),
                    )
                    name = f"Weights under terms the repository does not hold ({said!r})"
                    ref = custom_ref("", f"Terms-Elsewhere-{path}")
                    match, _ = _item(ref, name, terms, path, 0.5, "readme")
                    return [_Found(match, terms, terms.obligations, "readme", "extra")]
    return []


# Metadata files besides the package's (setup.py, setup.cfg, pyproject.toml) and CITATION.cff
# that state the repository's license: Zenodo's record, CodeMeta, npm's package.json (at the
# root), a conda recipe's about.license (round 16). Read like CITATION.cff's `license:`.
_METADATA_FILES = rx.compile(r"(?i)^(?:\.zenodo\.json|codemeta\.json|package\.json)$")
_CONDA_RECIPE = rx.compile(r"(?i)^(?:(?:[\w.-]+/){0,2})meta\.ya?ml$")
_CONDA_LICENSE = rx.compile(r"(?m)^[ \t]+license[ \t]*:[ \t]*['\"]?([^'\"\n#{}]{1,200})")
_SPDX_URL = rx.compile(r"(?i)^https?://(?:www\.)?spdx\.org/licenses/([\w.+-]+?)(?:\.html)?/?$")


def _json_licenses(data: object) -> list[str]:
    """`license` of a JSON record: a name, {"id"|"name"|"url": ...}, or a list of those."""
    if not isinstance(data, dict):
        return []
    value = data.get("license") or data.get("licenses")
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for v in values[:8]:
        if isinstance(v, dict):
            v = v.get("id") or v.get("identifier") or v.get("name") or v.get("type") or v.get("url")
        if isinstance(v, str) and v.strip():
            out.append(v.strip()[:2000])
    return out


def _metadata_file_statements(ctx: Context) -> list[_Found]:
    found: list[_Found] = []
    for f in ctx.snap.files:
        if f.vendored or f.size > 512 * 1024:
            continue
        if len(f.parts) == 1 and _METADATA_FILES.match(f.name):
            try:
                values = _json_licenses(safeparse.json_loads(ctx.snap.read_text(f.path) or ""))
            except (ValueError, RecursionError):
                continue
        elif f.name.lower() in ("meta.yaml", "meta.yml") and _CONDA_RECIPE.match(f.path):
            text = ctx.snap.read_text(f.path) or ""
            if "about" not in text:
                continue
            values = [m.group(1).strip() for m in _CONDA_LICENSE.finditer(text[:200_000])][:4]
        else:
            continue
        for value in values:
            spdx_url = _SPDX_URL.match(value)
            found += _metadata_name(spdx_url.group(1) if spdx_url else value, f.path)
    return found


def _field_statements(ctx: Context) -> list[_Found]:
    """License fields found by their key in any metadata format (licensefields: a nested
    `metafile.yml`, `__license__`, R's DESCRIPTION, Cargo.toml, a safetensors header; round
    20c, F6): each adds its terms beside the governing license, none governs."""
    found: list[_Found] = []
    for path, value in licensefields.fields(ctx) + termsdocs.code_license_fields(ctx):
        for f in _metadata_name(value, path, own=False):
            found.append(_Found(f.match, f.terms, f.obligations, "metadata", "extra"))
    return found


def _data_set_terms(ctx: Context) -> list[Finding]:
    data_terms = modelterms.dataset_terms(ctx)
    if not data_terms:
        return []
    # A data set's terms bind whoever downloads it; they do not decide the code's answer.
    return [
        Finding(
            CHECK,
            "notice",
            "Data set terms",
            f"The README puts data under research-only terms: {data_terms[0]!r}; check "
            f"them before using the data commercially (the code's license is separate).",
            ctx.snap.readme.path if ctx.snap.readme else None,
        )
    ]


# Why the governing license governs, by the role of the evidence it came from.
_GOVERNS_BECAUSE = {
    "code": "license file {path}",
    "metadata": "package metadata in {path}",
    "readme": "statement in {path} (no license file)",
    "other": "license file {path}",
}
# Categories that limit what a company may do with the code: said as a finding.
_LIMITING = (
    "non-commercial",
    "no-permission",
    "custom-restricted",
    "network-copyleft",
    "strong-copyleft",
)


def _decide(
    ctx: Context, found: list[_Found], texts: dict[str, str], findings: list[Finding]
) -> LicenseInfo:
    """The governing grants (license files before metadata before README before the weights'
    license) → one license or an AND/OR of several → obligations → what else restricts it."""
    grants = [f for f in found if f.kind == "grant"]
    role = _governing_role(grants)
    if not role:
        findings.append(_no_license_finding())
        return _no_license(found)
    distinct = _distinct([f for f in grants if f.role == role])
    primary = distinct[0]
    info = LicenseInfo(all=[f.match for f in found])
    reason = _GOVERNS_BECAUSE[role].format(path=primary.match.path)
    if primary.match.source == "header":
        reason = f"the source headers' license ({primary.match.path}); no license file names one"
    choice = len(distinct) > 1 and _offers_choice(ctx, distinct, texts)
    if len(distinct) > 1:
        reason += _combine(info, distinct, choice)
    else:
        reason += _single(ctx, info, primary, texts.get(primary.match.path, ""))
    if _from_source_headers(primary) and info.commercial_use is True:
        # Headers cover the files that carry them; nothing licenses the repository as a whole.
        info.commercial_use = None
        reason += "; only source headers state it, so files without one are unlicensed"
    info.confidence = round(min(d.match.confidence for d in distinct), 2)
    info.files = sorted({f.match.path for f in found if f.match.source == "file"})
    info.obligations, patents = _obligations(found, distinct)
    info.governs_reason = reason + patents
    _restrictions_elsewhere(found, distinct if choice else [primary], info, findings)
    findings += _other_licenses(found, primary, role)
    findings += _category_findings(info, primary)
    return info


def _governing_role(grants: list[_Found]) -> str:
    """The strongest kind of evidence that grants anything ("" when none does)."""
    roles = ("code", "metadata", "readme", "other")
    return next((r for r in roles if any(f.role == r for f in grants)), "")


def _no_license(found: list[_Found]) -> LicenseInfo:
    info = LicenseInfo(all=[f.match for f in found])
    info.obligations = list(NO_LICENSE.obligations)
    info.governs_reason = "no license file, metadata or README statement"
    restrictive = [f for f in found if f.terms.commercial_use is False]
    if restrictive:
        info.governs_reason += f"; {restrictive[0].match.name} in {restrictive[0].match.path}"
    return info


def _no_license_finding() -> Finding:
    return Finding(
        CHECK,
        "warning",
        "No license",
        "No license found: the code is all rights reserved. You may not use, copy or "
        "modify it without the authors' permission; ask them to add a license.",
    )


def _distinct(governing: list[_Found]) -> list[_Found]:
    """One entry per license, in the order found, each with its strongest evidence."""
    # The same license named twice (a LICENSE that says "GPLv3, see COPYING" and COPYING
    # holding the GPL text) is one license: keep the strongest evidence.
    distinct: list[_Found] = []
    for f in sorted(governing, key=lambda f: -f.match.confidence):
        if all(f.match.spdx != d.match.spdx for d in distinct):
            distinct.append(f)
    distinct.sort(key=lambda f: governing.index(f))
    # LGPL-3.0 is the GPL-3.0 plus extra permissions and must ship with the GPL text
    # (COPYING + COPYING.LESSER): the GPL file is part of the LGPL, not a second license.
    if any((d.match.spdx or "").startswith("LGPL-3.0") for d in distinct):
        distinct = [d for d in distinct if not (d.match.spdx or "").startswith("GPL-3.0")]
    return distinct


def _combine(info: LicenseInfo, distinct: list[_Found], choice: bool) -> str:
    """Several licenses: OR (the most permissive decides) or AND (the strictest does).
    Returns what to add to the reason."""
    op = " OR " if choice else " AND "
    terms = [d.terms for d in distinct]
    chosen = _most_permissive(terms) if choice else _most_restrictive(terms)
    info.spdx = op.join(_expr_id(d) for d in distinct)
    info.name = op.join(d.match.name for d in distinct)
    info.category = chosen.category
    info.commercial_use = chosen.commercial_use
    return "; " + (
        "the licenses offer a choice: you may pick one"
        if choice
        else "several licenses apply to the code: the strictest terms apply"
    )


def _single(ctx: Context, info: LicenseInfo, primary: _Found, text: str) -> str:
    """One license, with its GPL variant (-only / -or-later) read from the text. Returns what
    to add to the reason."""
    spdx, why = _gpl_variant(ctx, _expr_id(primary), text)
    info.spdx = spdx
    info.name = primary.match.name
    info.category = primary.terms.category
    info.commercial_use = primary.terms.commercial_use
    if spdx != primary.match.spdx:
        info.name = licensedb.spdx_name(spdx) or info.name
    return f"; {why}" if why else ""


def _obligations(found: list[_Found], distinct: list[_Found]) -> tuple[list[str], str]:
    """The governing licenses' obligations (each once), then a patent grant's; and what the
    patent grants add to the reason."""
    obligations: list[str] = []
    for d in distinct:
        obligations += [o for o in d.obligations if o not in obligations]
    reason = ""
    for f in found:
        if f.role == "patents":
            obligations.append(PATENTS_NOTE)
            reason += f"; {f.match.path} adds a patent grant"
    return obligations, reason


def _other_licenses(found: list[_Found], primary: _Found, role: str) -> list[Finding]:
    """A license of the weights or data beside the code's: said, not deciding."""
    if role == "other":
        return []
    return [
        Finding(
            CHECK,
            "notice",
            "Other license in the repository",
            f"{f.match.path} is under {f.match.name} ({f.match.category}); it covers that "
            f"part (weights or data), not the main code.",
            path=f.match.path,
        )
        for f in found
        if f.role == "other" and f.kind == "grant" and f.match.spdx != primary.match.spdx
    ]


def _category_findings(info: LicenseInfo, primary: _Found) -> list[Finding]:
    """A limiting category, and a text forkvet could only classify by its clauses."""
    out: list[Finding] = []
    if info.category in _LIMITING:
        out.append(
            Finding(
                CHECK,
                "warning" if info.commercial_use is not True else "notice",
                f"License is {info.category}",
                f"{info.name}: " + "; ".join(info.obligations[:4]),
                path=primary.match.path,
            )
        )
    if primary.match.name.startswith("Custom license") and primary.match.confidence <= 0.5:
        out.append(
            Finding(
                CHECK,
                "warning",
                "Unrecognised license text",
                f"{primary.match.path} matches no known license; forkvet classified it by its "
                f"clauses. Have someone read it before relying on it.",
                path=primary.match.path,
            )
        )
    return out


def _expr_id(f: _Found) -> str:
    spdx = f.match.spdx or ""
    if spdx and valid_expression(spdx):
        return spdx
    return custom_ref(f.match.name, f.match.path)


def _offers_choice(ctx: Context, distinct: list[_Found], texts: dict[str, str]) -> bool:
    """Whether the README or the license files say the licenses are alternatives ("dual-
    licensed", "at your option", "either ... or", "individually"); Rust-style LICENSE-MIT +
    LICENSE-APACHE files are alternatives by convention."""
    paths = {d.match.path for d in distinct}
    folders = {p.rsplit("/", 1)[0] if "/" in p else "" for p in paths}
    if len(folders) == len(paths) and "" not in folders and len(paths) > 1:
        return False  # a LICENSE in each model's folder: each covers its part (AND)
    if says_choice(ctx.readme):
        return True
    if all(
        rx.match(
            r"(?i)licen[cs]e[-_.](?:mit|apache|bsd|gpl|lgpl|mpl|isc|zlib|unlicense)",
            p.rsplit("/", 1)[-1],
        )
        for p in paths
    ):
        return True
    for path, text in texts.items():
        templates = " ".join(
            licensedb.template_tokens(f.match.spdx or "") for f in distinct if f.match.path == path
        )
        if says_choice(text[:20000], templates):
            return True
    return False


def _restrictions_elsewhere(
    found: list[_Found], chosen: list[_Found], info: LicenseInfo, findings: list[Finding]
) -> None:
    """Restrictive terms anywhere (an appended notice, added terms, a README, the weights'
    license) mean the answer to "may a company use this?" is never a plain yes."""
    restrictive = [
        f
        for f in found
        if f not in chosen
        and f.role != "patents"
        and f.kind != "superseded"
        and not (f.terms is _GATED_TERMS and _model_licensed(chosen))
        and (
            f.terms.commercial_use is False
            or NO_DERIVATIVES in f.terms.obligations
            # The weights' own license, or a base model's, granting commercial use only under
            # a condition (or not saying): the weights are not plainly yes.
            or (f.role == "other" and f.terms.commercial_use is None)
            # Terms beside a license that forkvet cannot read (another language).
            or (
                f.terms.commercial_use is None
                and f.terms.category == "custom-restricted"
                and (f.kind == "extra" or f.role == "readme")
            )
        )
    ]
    if not restrictive:
        return
    first = restrictive[0]
    m = first.match
    what = {
        "third-party": f"a third-party notice in {m.path} is {m.name}",
        "other": f"{m.path} (weights or data) is {m.name}",
        "readme": f"{m.path} says {m.name}",
        "metadata": f"the package metadata in {m.path} says {m.name}",
        "headers": f"{m.name}",
    }.get(first.role, f"{m.path} adds {m.name}")
    if info.commercial_use is True:
        info.commercial_use = None
        info.governs_reason += f"; commercial use unclear: {what} ({m.category})"
        # The license text itself edited to restrict use is no longer the permissive license
        # it started from, for whatever policy reads its category.
        edited = first.kind == "extra" and m.path in info.files
        if edited and RESTRICTIVENESS[m.category] > RESTRICTIVENESS[info.category]:
            info.category = m.category
        findings.append(
            Finding(
                CHECK,
                "warning",
                "Conflicting license statements",
                f"{info.name} allows commercial use, but {first.match.path} says "
                f"{first.match.name} ({first.match.category}). Commercial use is unclear: check "
                f"which terms cover the part you need, or ask the authors.",
                path=first.match.path,
            )
        )


def _model_licensed(chosen: list[_Found]) -> bool:
    """The governing license is itself a model license (Llama, OpenRAIL): the agreement a
    gated download asks for is most likely that one, already decided on."""
    ids = {k.spdx for k in KNOWN}
    return any(c.match.spdx in ids for c in chosen)


def _most_restrictive(terms: list[Terms]) -> Terms:
    return max(terms, key=lambda t: RESTRICTIVENESS[t.category])


def _most_permissive(terms: list[Terms]) -> Terms:
    return min(terms, key=lambda t: RESTRICTIVENESS[t.category])


def _family_names(family: str | None) -> set[str]:
    """The names a policy may give the license a point release revises (its key and ids)."""
    base = next((k for k in KNOWN if family and k.key == family), None)
    if base is None:
        return set()
    spdx = base.spdx.lower()
    return {base.key, spdx, spdx.removeprefix("licenseref-")}


def _policy(ctx: Context, info: LicenseInfo) -> list[Finding]:
    policy = ctx.config.license
    where = ctx.config.source or "policy"
    ids = {i.strip("() ").lower() for i in rx.split(r"\s+(?:AND|OR)\s+", info.spdx or "")}
    keys = {info.category.lower()} | ids
    # A policy may name a license off the SPDX list by its key ("nvidia-nc"), its LicenseRef
    # id, or the id forkvet used before LicenseRef ids ("CreativeML-OpenRAIL-M").
    for k in KNOWN:
        if k.spdx.lower() in ids:
            keys |= {k.key, k.spdx.lower().removeprefix("licenseref-")}
            keys |= _family_names(k.family)
    out: list[Finding] = []
    denied = [d for d in policy.deny if d.lower() in keys]
    if denied:
        out.append(
            Finding(
                "license-policy",
                "error",
                "License denied by policy",
                f"{info.name} ({info.spdx or 'no license'}) is denied by {where} "
                f"({', '.join(denied)})",
            )
        )
    if policy.allow and not (keys & {a.lower() for a in policy.allow}):
        out.append(
            Finding(
                "license-policy",
                "error",
                "License not allowed by policy",
                f"{info.name} ({info.category}) is not in the allowed list of {where}: "
                f"{', '.join(policy.allow)}",
            )
        )
    if policy.require_commercial_use and info.commercial_use is not True:
        verdict = "forbids" if info.commercial_use is False else "does not clearly allow"
        out.append(
            Finding(
                "license-policy",
                "error",
                "Commercial use not allowed",
                f"{info.name} {verdict} commercial use, which {where} requires",
            )
        )
    return out
