"""Check 1: the repository's own license, what it allows, and the team's license policy."""

from __future__ import annotations

import difflib
import html
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from urllib.parse import parse_qs, unquote

from forkvet import rx, safeparse
from forkvet.report import Finding, LicenseInfo, LicenseMatch
from forkvet.vet import (
    hubweights,
    licensedb,
    licensefields,
    licensegaps,
    licensereader,
    modelterms,
    termsdocs,
    weightsdocs,
)
from forkvet.vet.context import Context
from forkvet.vet.licensesections import (
    custom_ref,
    says_choice,
    split_notices,
    title_lines,
    valid_expression,
)
from forkvet.vet.licenseterms import (
    BSD_REF,
    FOREIGN_COMMERCE,
    FOREIGN_RESTRICTIONS,
    KNOWN,
    KNOWN_URLS,
    NO_DERIVATIVES,
    NO_LICENSE,
    NONCOMMERCIAL,
    PUBLIC_DOMAIN_REF,
    RESTRICTIVE_CLAUSES,
    RESTRICTIVENESS,
    KnownLicense,
    Terms,
    clause_spans,
    clauses,
    custom_terms,
    foreign_clauses,
    known_by_tag,
    known_license,
    known_license_at,
    ref_terms,
    spdx_terms,
    table_columns,
)
from forkvet.vet.textnorm import COPYRIGHT_LINE, fold, normalize_tokens

CHECK = "license"
MAX_LICENSE_CHARS = 200_000
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


def _terms_for_spdx(spdx: str) -> Terms:
    return ref_terms(spdx) or spdx_terms(spdx, licensedb.is_osi(spdx))


def _item(
    spdx: str, name: str, terms: Terms, path: str, conf: float, source: str
) -> tuple[LicenseMatch, Terms]:
    match = LicenseMatch(spdx, name, terms.category, terms.commercial_use, path, conf, source)
    return match, terms


def _from_known(
    known: KnownLicense, path: str, source: str, conf: float
) -> tuple[LicenseMatch, Terms]:
    return _item(known.spdx, known.name, known.terms, path, conf, source)


Classified = list[tuple[LicenseMatch, Terms, str]]  # (match, terms, "grant" | "extra" | "notice")


def classify_text(text: str, path: str, source: str) -> Classified:
    """What a license file says: its own grant (first), terms added to a license text, and
    the third-party notices appended to it."""
    # The longest real license texts are ~40 kB (GPL, CC); a larger file is read in part.
    own, notices = split_notices(text[:MAX_LICENSE_CHARS])
    out = _classify_section(own, path, source)
    for notice in notices:
        # Third-party texts: their holders' words ("the Regents of the University of
        # California") are not terms the authors add to their own grant.
        items = _classify_section(notice, path, source, own=False)
        out += [(m, t, "notice" if kind == "grant" else kind) for m, t, kind in items]
    if out and not any(kind == "grant" for _, _, kind in out):
        # The file opens with its notices' heading: the first license in it is its own.
        first = next(i for i, (_, _, kind) in enumerate(out) if kind == "notice")
        m, t, _ = out[first]
        out[first] = (m, t, "grant")
    return out


def _classify_section(text: str, path: str, source: str, own: bool = True) -> Classified:
    known_at = known_license_at(text)
    matches: list[licensedb.TextMatch] | None = None
    if known_at is not None:
        known, pos = known_at
        # Named in the opening lines, it is this file's license. Named further down ("the
        # weights are under the Llama 2 Community License"), a full SPDX text wins.
        if pos > 300:
            matches = [m for m in licensedb.match_text(text) if m.containment >= licensedb.ACCEPT]
        if not matches:
            # No template to tell its own words from added ones: only what no English
            # template holds (another script, commerce in another language) is added. A
            # model license that grants commercial use (OpenRAIL-M, Gemma, DeepSeek) has no
            # restrictive clause of its own: one in its file is added (round 16).
            grant: Classified = [(*_from_known(known, path, source, 0.9), "grant")]
            ids: list[str] | None = [] if known.terms.commercial_use is True else None
            return grant + _added_terms(text, ids, path, source)
    if matches is None:
        matches = licensedb.match_text(text)
    if matches:
        out: Classified = []
        for i, m in enumerate(matches):
            terms = _terms_for_spdx(m.spdx)
            kind = "grant" if i == 0 else "notice"  # later texts are appended to the first
            out.append((*_item(m.spdx, m.name, terms, path, m.containment, source), kind))
        return out + _added_terms(text, [m.spdx for m in matches], path, source, own)
    found = clauses(text)
    restrictive = [c for c in found if c in RESTRICTIVE_CLAUSES]
    named = _names_in(text, path, source)
    if named:
        out = [(m, t, "grant") for m, t in named[:1]]
        if restrictive:
            terms = custom_terms(restrictive)
            name = f"Terms next to the license name in {path} ({', '.join(restrictive)})"
            ref = custom_ref("", f"Added-Terms-{path}")
            out.append((*_item(ref, name, terms, path, 0.6, source), "extra"))
        return out
    if len(text.split()) < 20 and not (restrictive or "public-domain" in found):
        return []
    terms = custom_terms(found)
    if terms.category == "permissive":  # a public-domain dedication of its own words
        return [(*_item(PUBLIC_DOMAIN_REF, "Public domain", terms, path, 0.6, source), "grant")]
    detail = ", ".join(c for c in found if c != "permission-grant") or "no known clauses"
    ref = custom_ref(text, path.rsplit("/", 1)[-1])
    return [
        (*_item(ref, f"Custom license ({detail})", terms, path, 0.5, source), "grant"),
    ]


def _added_terms(
    text: str, spdx_ids: list[str] | None, path: str, source: str, own: bool = True
) -> Classified:
    """Restrictive terms added to the license texts of a file, as one custom item."""
    edited = _edited_grants(text, spdx_ids or []) if own else []
    extra = edited + _added_restrictions(text, spdx_ids)
    if not extra:
        return []
    terms = custom_terms(extra)
    name = f"Terms added to the license text in {path} ({', '.join(extra)})"
    ref = custom_ref("", f"Added-Terms-{path}")
    return [(*_item(ref, name, terms, path, 0.6, source), "extra")]


_BSD_CONDITIONS = (
    ("BSD-4-Clause", rx.compile(r"advertising\s+materials\s+mentioning", rx.I)),
    ("BSD-3-Clause", rx.compile(r"endorse\s+or\s+promote", rx.I)),
    ("BSD-2-Clause", rx.compile(r"redistributions\s+in\s+binary\s+form", rx.I)),
    ("BSD-1-Clause", rx.compile(r"redistributions\s+of\s+source\s+code", rx.I)),
)


def _bsd_by_conditions(text: str, path: str, source: str) -> list[tuple[LicenseMatch, Terms]]:
    """A "BSD License" whose wording differs from the templates (another disclaimer): which
    BSD it is follows from the conditions it lists."""
    if not _BSD_CONDITIONS[-1][1].search(text):
        return []
    spdx = next(spdx for spdx, pat in _BSD_CONDITIONS if pat.search(text))
    name = licensedb.spdx_name(spdx) or spdx
    return [_item(spdx, name, _terms_for_spdx(spdx), path, 0.7, source)]


OTHER_SCRIPT = "text in another script"
# Words that narrow a grant when written into it ("to any non-profit academic institution
# obtaining", "for research purposes", "but not to sell copies"), and the rights a permissive
# grant lists, whose removal narrows it too.
_NARROWING = frozenset(
    [
        "only",
        "not",
        "non",
        "no",
        "except",
        "excluding",
        "research",
        "academic",
        "educational",
        "education",
        "personal",
        "profit",
        "commercial",
        "commercially",
        "sell",
        "selling",
        "institution",
        "institutions",
        "university",
        "universities",
        "purposes",
        "limited",
        "restricted",
        "prohibited",
        "forbidden",
        "evaluation",
        "internal",
        "scientific",
        "study",
        "students",
        "individuals",
        "organizations",
        "organisations",
        "companies",
        "company",
        "government",
        "military",
        "permission",
        "written",
    ]
)
_RIGHTS = frozenset(
    ["use", "copy", "modify", "merge", "publish", "distribute", "sublicense", "sell"]
)
# What a sentence written before or after a short permissive text is about when it limits
# who may use the code or for what ("Companies may not use this Software", "Licensed for
# research use", "requires prior written agreement", "a royalty of 5% of revenue"): such a
# sentence beside the template's words is terms of the authors' own, whatever its phrasing.
# The strong topics speak of commercial use themselves; the weak ones (a university, an
# agreement) also name who holds a copyright or how contributions are licensed.
_STRONG_TOPICS = frozenset(
    [
        "commercial", "commercially", "business", "businesses", "company", "companies",
        "corporation", "corporations", "enterprise", "enterprises", "sell", "selling", "sale",
        "sales", "royalty", "royalties", "revenue", "profit", "nonprofit", "research",
        "academic", "evaluation", "personal", "fee", "fees", "paid", "payment", "monetary",
        "production", "hosted", "saas", "industry", "industrial",
    ]
)  # fmt: skip
# Round 13: who or what a grant covers in more words (a product, consent for a use, money
# charged, a classroom); weak, so each needs a limiting word ("requires", "excluded").
_USE_TOPICS = _STRONG_TOPICS | frozenset(
    [
        "students", "student", "university", "universities", "educational", "permitted",
        "allowed", "prohibited", "forbidden", "restricted", "agreement", "internal",
        "employees", "employee", "staff", "members", "customers", "licensees", "product",
        "products", "consent", "approval", "authorization", "money", "charge", "charged",
        "charging", "classroom", "classrooms", "teaching", "school", "schools", "education",
        "entity", "entities", "government", "military", "organizations", "individuals",
    ]
)  # fmt: skip
# Short grants only (MIT, BSD, ISC): long texts such as Apache-2.0 come in wordings that
# differ from the SPDX template in places, which a diff cannot tell from edits (they get the
# bounded n-gram check of _inserted_into_grant instead).
_MAX_DIFF_TOKENS = 400
# A plain permission ("Commercial use is permitted", "You may sell products built with it")
# widens nothing the template limits; a sentence with any of these words may limit it.
_PERMITS = frozenset(
    ["permitted", "allowed", "allow", "allows", "allowing", "may", "can", "grant", "grants",
     "granted", "free"]
)  # fmt: skip
_LIMITS = frozenset(
    [
        "only", "not", "no", "cannot", "never", "except", "exclusively", "solely", "requires",
        "require", "required", "must", "royalty", "royalties", "fee", "fees", "paid",
        "restricted", "prohibited", "forbidden", "don", "doesn", "isn", "limited", "contact",
        "exclude", "excluded", "excludes", "excluding", "exclusion", "needs", "need",
    ]
)  # fmt: skip
# What the grant covers ("this grant", "use", "the rights granted"), and words that bound
# it: together they limit who or what the grant covers, whatever the subject ("Only for use
# in the classroom", "The rights granted here apply solely to teaching").
_SCOPE = frozenset(
    ["use", "used", "using", "usage", "grant", "granted", "grants", "license", "licensed",
     "permission", "rights", "apply", "applies", "covers", "extend", "extends"]
)  # fmt: skip
_BOUNDS = frozenset(
    ["only", "solely", "exclusively", "exclude", "excluded", "excludes", "excluding",
     "exclusion", "limited", "restricted", "except"]
)  # fmt: skip
# A request is no bound ("We only ask that you use GPT-2 responsibly").
_REQUESTS = frozenset(["ask", "asks", "request", "requests", "encourage", "please", "hope"])
# Words that tell a sentence's own terms from a template's (a changed holder or a variant
# word keeps a sentence the template's; one of these outside the template's runs does not).
# Holders' names are no terms ("NVIDIA CORPORATION", "International Business Machines").
_HOLDER_WORDS = frozenset(
    ["company", "companies", "corporation", "corporations", "enterprise", "enterprises",
     "business", "businesses", "research", "academic", "industry", "industrial"]
)  # fmt: skip
_TELLING = (_STRONG_TOPICS - _HOLDER_WORDS) | _LIMITS | _BOUNDS
_GRAM = 4


def _grams(templates: str) -> set[tuple[str, ...]]:
    """The runs of four words of the file's license templates."""
    words = templates.split()
    return {tuple(words[i : i + _GRAM]) for i in range(len(words) - _GRAM + 1)}


def _covered(tokens: list[str], grams: set[tuple[str, ...]]) -> list[bool]:
    """Which words lie in a run of four words the templates hold (linear in the words)."""
    out = [False] * len(tokens)
    for i in range(len(tokens) - _GRAM + 1):
        if tuple(tokens[i : i + _GRAM]) in grams:
            out[i : i + _GRAM] = [True] * _GRAM
    return out


def _template_words(tokens: list[str], templates: str, grams: set[tuple[str, ...]]) -> bool:
    """A sentence of the file's license texts (in a wording that may differ from the SPDX
    template elsewhere): the whole sentence is there, or most of its words lie in runs of
    the templates' words and none outside them could limit a grant. A sentence that reuses
    template words around its own ("shall be used for Good, not Evil, and not for profit")
    is not the template's: its own words are read like an appended sentence (round 13)."""
    if f" {' '.join(tokens)} " in templates:
        return True
    covered = _covered(tokens, grams)
    if 2 * sum(covered) < len(tokens):
        return False
    return not {t for t, c in zip(tokens, covered, strict=True) if not c} & _TELLING


# English function words: a sentence of four or more words with almost none of them is in
# another language, whatever its words say ("Kizárólag nem kereskedelmi célra használható").
_ENGLISH = frozenset(
    [
        "the", "a", "an", "of", "to", "in", "for", "is", "are", "be", "and", "or", "not",
        "may", "with", "by", "this", "that", "on", "any", "it", "you", "use", "as", "at",
        "from", "all", "its", "can", "must", "only", "no", "their", "over", "each", "uses",
        "which", "these", "those", "has", "have", "was", "were", "will", "would", "should",
        "under", "same", "our", "we", "your", "they", "them", "who", "what", "when", "where",
        "there", "if", "so", "but", "than", "then", "also", "into", "about", "after",
        "before", "other", "such", "do", "does", "been", "being", "his", "her", "here",
    ]
)  # fmt: skip


# Addresses, and a copyright statement inside a sentence ("… with this copyright: Copyright
# (c) 2015, NVIDIA CORPORATION"), are no words of anyone's terms.
_ADDRESS = rx.compile(
    r"(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+|\S+@\S+\.\w+|\bcopyright\s*(?:\(c\)|©)[^\n]*"
)


def _foreign(sentence: str, tokens: list[str]) -> bool:
    """Prose (mostly lower-case words: a list of names is not) with almost no English
    function word."""
    if len(tokens) < 4 or 5 * sum(t in _ENGLISH for t in tokens) >= len(tokens):
        return False
    words: list[str] = rx.findall(r"\w+", sentence)
    return 2 * sum(w[:1].islower() for w in words) > len(words)


def _sentence_topics(sentence: str, tokens: list[str], prose: bool = False) -> set[str]:
    """What one sentence beside a license is about when it may limit the grant: another
    language (forkvet cannot read it); who may use it or for what, unless a plain permission
    (a weak topic, a university or an agreement, only with a limiting word); or the grant's
    scope bounded ("Only for use in the classroom", "Companies are excluded from this
    grant"), whatever its subject. prose (a README): a limiting word is always needed, as
    README prose describes as often as it limits ("allowing both academic and commercial
    use"), and other languages are the README scan's (FOREIGN_COMMERCE)."""
    if not prose and _foreign(sentence, tokens):
        return {"text in another language"}
    words = set(tokens)
    if words & _SCOPE and words & _BOUNDS and not words & _REQUESTS:
        return {"the grant's scope"} | (words & _USE_TOPICS)
    found = words & _USE_TOPICS
    if not found:
        return set()
    limits = bool(words & _LIMITS)
    if not limits and (prose or not found & _STRONG_TOPICS):
        return set()
    return found if limits or not words & _PERMITS else set()


# "all commercial rights reserved", "rights reserved except for academic use": rights
# reserved for a kind of use on a copyright line (which the sentences below leave out).
_RESERVED = rx.compile(
    r"(?i)([A-Za-z-]+(?:[ \t]+[A-Za-z-]+){0,3})[ \t]+rights[ \t]+reserved([^\n]*)"
)


def _reserved_for(text: str) -> set[str]:
    out: set[str] = set()
    for line in COPYRIGHT_LINE.findall(fold(text[:MAX_LICENSE_CHARS]))[:50]:
        for m in _RESERVED.finditer(line):
            before = m.group(1).lower().split()
            # The words qualifying "rights": after "all", else the one word before them.
            said = (
                before[len(before) - before[::-1].index("all") :]
                if "all" in before
                else before[-1:]
            )
            after = set(rx.findall(r"[a-z]+", m.group(2).lower()))
            out |= (set(said) & (_USE_TOPICS | _NARROWING)) | (after & (_USE_TOPICS | _BOUNDS))
    return out


def limiting_sentences(text: str, templates: str, prose: bool = False) -> list[str]:
    """What the sentences beside the file's license templates are about, when one may limit
    the grant (see _sentence_topics), and rights a copyright line reserves for a kind of
    use. A sentence is the templates' own by its words (_template_words), so words written
    into a template's sentence are read too."""
    topics = _reserved_for(text)
    body = COPYRIGHT_LINE.sub(" ", text[:MAX_LICENSE_CHARS])
    grams = _grams(templates)
    for sentence in rx.split(r"[.!?;]\s|\n\s*\n", fold(body))[:500]:
        sentence = _ADDRESS.sub(" ", sentence)  # an address is no words of anyone's terms
        tokens = rx.findall(r"[a-z]+", sentence.lower())
        if len(tokens) < 3 or _template_words(tokens, templates, grams):
            continue
        if names_a_license(sentence):
            continue
        topics |= _sentence_topics(sentence, tokens, prose)
    return sorted(topics)[:4]


def _grant_span(template: list[str]) -> tuple[int, int]:
    """Where a permissive template's grant sentence is: from its "permission" (or
    "redistribution") to its "conditions", "provided (that)" or "restrictions" (MIT, BSD and
    ISC grant first, zlib after its disclaimer); the conditions after it may be relaxed
    freely ("need not be included with content created by the Software")."""
    head = template[:200]
    start = next((i for i, w in enumerate(head) if w in ("permission", "redistribution")), 0)
    for i in range(start, len(head)):
        if head[i] in ("conditions", "provided", "restrictions"):
            return start, i + 1
    return start, min(len(template), start + 120)


def _edited_grants(text: str, spdx_ids: list[str]) -> list[str]:
    """A permissive license text edited inside (words that narrow it written in, or rights
    taken out): a diff against a short template, a bounded n-gram check of a long one's
    grants, whatever the wording; and the sentences beside the templates that may limit the
    grant (limiting_sentences)."""
    words = normalize_tokens(text[:MAX_LICENSE_CHARS])
    own_words = " " + " ".join(licensedb.template_tokens(spdx) for spdx in spdx_ids) + " "
    out: list[str] = []
    read_beside = False
    for spdx in spdx_ids:
        template = licensedb.template_tokens(spdx).split()
        # Every template that grants commercial use: permissive ones, and the JSON License,
        # whose own line ("for Good, not Evil") is no wildcard for another (round 13).
        terms = _terms_for_spdx(spdx)
        granting = terms.category == "permissive" or (
            terms.category == "custom-restricted" and terms.commercial_use is True
        )
        if not granting or not template:
            continue
        if not read_beside:  # the sentences beside the templates, read once
            read_beside = True
            limiting = limiting_sentences(text, own_words)
            if limiting:
                return [f"sentences beside the {spdx} text about {', '.join(limiting)}"]
        if len(template) > _MAX_DIFF_TOKENS or len(words) > 10 * _MAX_DIFF_TOKENS:
            inserted = _inserted_into_grant(template, words)
            if inserted:
                out.append(f"the {spdx} text edited: {inserted!r}")
            continue
        diff = difflib.SequenceMatcher(None, template, words, autojunk=False)
        # The template's span: from its first run of five words to its last (a title line
        # and a preamble before the grant are not inside it).
        blocks = [b for b in diff.get_matching_blocks() if b.size >= 5]
        if not blocks:
            continue
        vocabulary = set(template)
        start, end = _grant_span(template)
        first = max(blocks[0].a, start - 1)
        last = min(blocks[-1].a + blocks[-1].size, end)
        for tag, i1, i2, j1, j2 in diff.get_opcodes():
            if tag == "equal" or not first < i1 < last:
                continue
            added, removed = set(words[j1:j2]), set(template[i1:i2])
            # Words the template never uses, written into its grant ("any person listed in
            # AUTHORIZED_USERS.txt"): whatever they say, the grant is not the template's.
            foreign = {w for w in added - vocabulary if len(w) > 2 and not w.isdigit()}
            if added & _NARROWING or (removed & _RIGHTS) - added or foreign:
                said = " ".join(words[j1:j2][:8]) or "-" + " ".join(template[i1:i2][:8])
                out.append(f"the {spdx} text edited: {said!r}")
                break
    return out


def _grant_region(template: list[str]) -> int:
    """Where a long template's grants end: after its definitions and grants ("hereby
    grants", "granted"), at the first condition that follows the last grant word of its
    first half (Apache-2.0: §1-§3, up to §4's "provided that")."""
    half = template[: len(template) // 2]
    last = max((i for i, w in enumerate(half) if w in ("grants", "granted", "hereby")), default=0)
    for i in range(last, len(template)):
        if template[i] in ("conditions", "provided", "restrictions"):
            return i + 1
    return min(len(template), last + 120)


def _inserted_into_grant(template: list[str], words: list[str]) -> str:
    """Words a long permissive template never uses (or words that narrow a grant), written
    into its definitions or grants ("copyright license, solely for academic teaching, to
    reproduce", "'License' shall mean the terms for use by universities"): the text's words
    outside every run of four template words, between two runs that lie in the grant region.
    Linear in the text and the template (a set of runs, one pass), unlike a diff."""
    if len(words) > MAX_LICENSE_CHARS // 2:
        words = words[: MAX_LICENSE_CHARS // 2]
    end = _grant_region(template)
    where: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(template) - _GRAM + 1):
        places = where.setdefault(tuple(template[i : i + _GRAM]), [])
        if len(places) < 8:  # a phrase the template repeats: a few of its places
            places.append(i)
    covered = _covered(words, set(where))
    vocabulary = set(template)
    i, n = 0, len(words)
    while i < n:
        if covered[i]:
            i += 1
            continue
        j = i
        while j < n and not covered[j]:
            j += 1
        # Written into the template where it stands: the run of template words before it
        # and the run after it are neighbours in the template (at most a few of its words
        # replaced), in its grant region. Text between two texts, or after the template,
        # is not inside it (appended sentences are read by _limiting_sentences).
        if i >= _GRAM and j < n and _in_place(where, words, i, j, end):
            run = words[i:j]
            foreign = {w for w in run if w not in vocabulary and len(w) > 2 and not w.isdigit()}
            if foreign or set(run) & _NARROWING:
                return " ".join(run[:8])
        i = j
    return ""


def _in_place(
    where: dict[tuple[str, ...], list[int]], words: list[str], i: int, j: int, end: int
) -> bool:
    """The template runs ending at i and starting at j are 0-8 template words apart, before
    the grant region's end."""
    before = where.get(tuple(words[i - _GRAM : i]), [])
    after = where.get(tuple(words[j : j + _GRAM]), [])
    return any(b < end and 0 <= a - (b + _GRAM) <= 8 for b in before for a in after)


# Words of use terms in the scripts holders' names are written in: on a copyright line they
# are not a name ("Copyright (c) 2024 Example Labs 仅限学术研究使用").
_TERMS_ON_COPYRIGHT = rx.compile(r"仅|僅|限|禁|研究|学术|學術|非営利|営利|연구|금지|전용")


def _other_script(text: str) -> bool:
    """Letters of a script other than Latin outside copyright lines (a holder's name may be
    written in any script, but not terms), after look-alike letters are read as Latin."""
    head = text[:MAX_LICENSE_CHARS]
    if head.isascii():
        return False
    lines = " ".join(m.group(0) for m in COPYRIGHT_LINE.finditer(head))
    if _TERMS_ON_COPYRIGHT.search(lines) or FOREIGN_COMMERCE.search(lines):
        return True
    body = fold(COPYRIGHT_LINE.sub(" ", head))
    if body.isascii():
        return False
    return any(
        ch.isalpha() and not ch.isascii() and not unicodedata.name(ch, "").startswith("LATIN")
        for ch in body
    )


def _added_restrictions(text: str, spdx_ids: list[str] | None) -> list[str]:
    """Restrictive clauses in a text that its license templates do not themselves contain (the
    GPL's own "occasionally and noncommercially" is not a restriction added by the authors).
    Every clause counts wherever it stands, in a paragraph of its own or written into the
    template's ("... DEALINGS IN THE SOFTWARE. Not for commercial use.", "to use (for research
    only), copy"): the template's words are told apart by the words, not by the paragraph."""
    templates = " ".join(licensedb.template_tokens(spdx) for spdx in spdx_ids or [])
    out: list[str] = []
    if _other_script(text):
        # License templates are English: words in another script are terms forkvet does not
        # read ("本软件仅供学术研究使用"), so they are never a plain "yes".
        out.append(OTHER_SCRIPT)
    for clause, words in clause_spans(text):
        if clause not in RESTRICTIVE_CLAUSES or clause in out:
            continue
        if spdx_ids is None and clause != "foreign-commercial":
            continue
        if f" {' '.join(normalize_tokens(words))} " in f" {templates} ":
            continue
        out.append(clause)
    return out


def _names_in(text: str, path: str, source: str) -> list[tuple[LicenseMatch, Terms]]:
    """A license named by a text that is not a license text: its title line ("MIT License",
    "Attribution-NonCommercial 4.0 International"), or a sentence ("released under a GPLv3
    license")."""
    lines = title_lines(text)
    # A title may run over two lines ("Apache License" / "Version 2.0, January 2004").
    for line in [*lines, *(f"{a} {b}" for a, b in pairwise(lines))]:
        if len(line.split()) <= 12:
            named = _named(line, path, source, 0.6, strict=True)
            if named and named[0][0].spdx == BSD_REF:
                named = _bsd_by_conditions(text, path, source) or named
            if named:
                return named
    out: list[tuple[LicenseMatch, Terms]] = []
    for m in _statements(text):
        out += _named_in_statement(m, path, source, 0.65)
    return out


def names_a_license(sentence: str) -> bool:
    """The sentence names a license forkvet knows ("released under CC BY 4.0")."""
    return bool(_names_in(sentence, "", "readme"))


def _named_in_statement(
    m: rx.Match[str], path: str, source: str, conf: float
) -> list[tuple[LicenseMatch, Terms]]:
    """The license a "released under X" sentence names; when X names none ("the same
    license as Caffe (BSD-2)"), the name in the parentheses right after it."""
    named = _named(m.group(1), path, source, conf)
    if not named:
        after = rx.match(r"\s*\(([^()\n]{2,40})\)", m.string[m.end(1) : m.end(1) + 60])
        if after:
            named = _named(after.group(1), path, source, conf, strict=True)
    return named


def _statements(text: str) -> list[rx.Match[str]]:
    """ "released under X" sentences; only paragraphs that say "under" reach the regex (a
    2 MB README stays fast), each read to 2,000 characters."""
    out: list[rx.Match[str]] = []
    for para in rx.split(r"\n\s*\n", text):
        if "under" in para.lower():
            # The statement's end is matched too (RE2 has no look-ahead): the next one may
            # start right after the name.
            out += _README_STATEMENT.resuming(para[:2000], lambda m: m.end(1))
            if len(out) >= 20:  # a README names its license a few times, not thousands
                return out[:20]
    return out


# -- names in metadata and READMEs --------------------------------------------------------------
_NAME_PATTERNS: tuple[tuple[rx.Pattern[str], str], ...] = tuple(
    (rx.compile(p, rx.I), spdx)
    for p, spdx in (
        (r"\bcc[- ]by[- ]nc[- ]sa[- ]?(\d\.\d)", "CC-BY-NC-SA-{0}"),
        (r"\bcc[- ]by[- ]nc[- ]nd[- ]?(\d\.\d)", "CC-BY-NC-ND-{0}"),
        (r"\bcc[- ]by[- ]nc[- ]?(\d\.\d)", "CC-BY-NC-{0}"),
        (r"\bcc[- ]by[- ]sa[- ]?(\d\.\d)", "CC-BY-SA-{0}"),
        (r"\bcc[- ]by[- ]nd[- ]?(\d\.\d)", "CC-BY-ND-{0}"),
        (r"attribution[- ]noncommercial[- ]sharealike (\d\.\d)", "CC-BY-NC-SA-{0}"),
        (r"attribution[- ]noncommercial[- ]noderivatives (\d\.\d)", "CC-BY-NC-ND-{0}"),
        (r"attribution[- ]noncommercial (\d\.\d)", "CC-BY-NC-{0}"),
        (r"attribution[- ]sharealike (\d\.\d)", "CC-BY-SA-{0}"),
        (r"creative commons attribution (\d\.\d)", "CC-BY-{0}"),
        (r"\bcc[- ]by[- ]?(\d\.\d)", "CC-BY-{0}"),
        (r"\bcc0\b", "CC0-1.0"),
        (r"\bapache(?: software)?(?: license)?,?(?: version| v\.?)? ?2(?:\.0)?\b", "Apache-2.0"),
        (r"\bapache[- ]2\.0\b", "Apache-2.0"),
        (r"\bmit\b(?: license)?", "MIT"),
        (
            r"\bbsd[- ]?3[- ]clause\b|\b3[- ]clause bsd\b|\bnew bsd\b|\bmodified bsd\b|"
            r"\bbsd[- ]3\b",
            "BSD-3-Clause",
        ),
        (
            r"\bbsd[- ]?2[- ]clause\b|\b2[- ]clause bsd\b|\bsimplified bsd\b|\bfreebsd\b|"
            r"\bbsd[- ]2\b",
            "BSD-2-Clause",
        ),
        (r"\bagpl[- ]?v?3(?:\.0)?\+|\bagpl[- ]?v?3(?:\.0)?[- ]or[- ]later", "AGPL-3.0-or-later"),
        (r"\bagpl[- ]?v?3|affero general public license,? (?:version )?3", "AGPL-3.0-only"),
        (r"\blgpl[- ]?v?3(?:\.0)?\+|\blgpl[- ]?v?3(?:\.0)?[- ]or[- ]later", "LGPL-3.0-or-later"),
        (r"\blgpl[- ]?v?3|lesser general public license,? (?:version |v)?3", "LGPL-3.0-only"),
        (r"\blgpl[- ]?v?2\.1\+|\blgpl[- ]?v?2\.1[- ]or[- ]later", "LGPL-2.1-or-later"),
        (r"\blgpl[- ]?v?2\.1|lesser general public license,? (?:version |v)?2\.1", "LGPL-2.1-only"),
        (r"\bgpl[- ]?v?3(?:\.0)?\+|\bgpl[- ]?v?3(?:\.0)?[- ]or[- ]later", "GPL-3.0-or-later"),
        (r"\bgpl[- ]?v?3|general public license,? (?:version |v)?3", "GPL-3.0-only"),
        (r"\bgpl[- ]?v?2(?:\.0)?\+|\bgpl[- ]?v?2(?:\.0)?[- ]or[- ]later", "GPL-2.0-or-later"),
        (r"\bgpl[- ]?v?2|general public license,? (?:version |v)?2", "GPL-2.0-only"),
        (r"\bmpl[- ]?2\.0|mozilla public license,? (?:version |v)?2", "MPL-2.0"),
        (r"\bunlicense\b", "Unlicense"),
        (r"\bisc license\b", "ISC"),
        (r"\bwtfpl\b", "WTFPL"),
        (r"\bzlib license\b", "Zlib"),
        (r"\bbsl[- ]1\.0\b|boost software license", "BSL-1.0"),
        (r"\bepl[- ]?2\.0\b|eclipse public license,? (?:version |v)?2", "EPL-2.0"),
    )
)
_CLASSIFIER = rx.compile(r"^License :: (?:OSI Approved :: )?(.+)$")


@cache
def _ids_by_lower() -> dict[str, str]:
    return {i.lower(): i for i in licensedb.known_ids()}


def spdx_from_name(name: str) -> str | None:
    """Map a license name as people write it ("Apache 2.0", "GPLv3", "cc-by-nc-4.0") to SPDX."""
    stripped = name.strip().strip(".")
    by_id = _ids_by_lower()
    if stripped.lower() in by_id:
        return by_id[stripped.lower()]
    one_id = _ID_LIKE.fullmatch(stripped)
    for pattern, spdx in _NAME_PATTERNS:
        m = pattern.search(stripped)
        if m and one_id and not _whole_id(stripped, m):
            return None  # "MIT-NC": an id of its own, not MIT (round 20c, F15)
        if m:
            return spdx.format(*m.groups())
    return None


# One identifier-like token ("MIT-NC", "Apache-2.0-modified"): a known name must be all of it.
_ID_LIKE = rx.compile(r"[A-Za-z][A-Za-z0-9.+]*(?:[-_][A-Za-z0-9.+]+)+")


def _whole_id(token: str, m: rx.Match[str]) -> bool:
    """The name matched covers the whole token, but for a "-License" word after it."""
    rest = (token[: m.start()] + " " + token[m.end() :]).strip(" -_").lower()
    return rest in ("", "license", "licence")


_README_STATEMENT = rx.compile(
    r"(?:licen[sc]ed|released|distributed|available|provided|published|offered|covered)\s+"
    r"(?:as\s+\S+\s+)?under\s+(?:the\s+|an?\s+)?(?:terms\s+of\s+(?:the\s+)?)?"
    # The end of the name is matched too (RE2 has no look-ahead): only group 1 is read.
    r"([^\n;()]{2,80}?)(?:\.(?:\D|$)|;|\(|\n|$|,?\s+(?:and|but|except|which|with|see|for)\b)",
    rx.I,
)
_LICENSE_LINE = rx.compile(r"^\W{0,4}licen[sc]e\W{0,3}\s*[:：]\s*\**([^\n]{2,80})$", rx.I | rx.M)
_LICENSE_SECTION = rx.compile(
    r"^(?:#{1,6}|\*\*)?[ \t]*(?:licen[sc]e|licensing|terms of use|copyright)\b[^\n]*\n"
    r"(?:[=\-~^]{3,}[ \t]*\n)?(.*?)(^#{1,6}\s|^\S[^\n]*\n[=\-~^]{3,}\s*$|\Z)",
    rx.I | rx.M | rx.S,
)


def _license_sections(text: str, most: int = 5) -> Iterator[str]:
    """The first sections under a license heading. Each ends where the next heading starts
    (group 2); the next search starts there, as the look-ahead `(?=...)` once let it."""
    pos = 0
    for _ in range(most):
        m = _LICENSE_SECTION.search(text, pos)
        if m is None:
            return
        yield m.group(1)
        pos = max(m.start(2), m.start() + 1)


_FRONT_MATTER = rx.compile(r"\A---\s*\n(.*?)\n---\s*\n", rx.S)
# `license: mit`, `license: [mit, cc-by-nc-4.0]`, or `license:` then `- mit` lines.
_FM_LICENSE = rx.compile(r"^license:[ \t]*([^\n]*)((?:\n[ \t]*-[ \t]*[^\n]*)*)", rx.M)
_FM_LICENSE_NAME = rx.compile(r"^license_name:\s*['\"]?([\w.+-]+)", rx.M)
# A license badge: alt text "License: MIT", or a shields.io "badge/license-Apache%202.0-blue".
_BADGE = rx.compile(
    r"!\[(?:code\s+)?licen[sc]e\s*:\s*([^\]\n]{2,40})\]|"
    r"img\.shields\.io/badge/(?:code(?:%20|_|\s))?licen[sc]e-((?:[^-/?\s)]|--){2,60})-[\w%]+",
    rx.I,
)
README_TERMS = "LicenseRef-README-Terms"
_SENTENCE_END = rx.compile(r"[.!?\n]")
_TITLE_LIKE = rx.compile(r"licen[sc]e|international|public\s+domain|\bversion\b", rx.I)
_GENERIC_BSD = rx.compile(r"\bbsd\b", rx.I)
_PUBLIC_DOMAIN = rx.compile(r"public\s+domain|\bunlicen[sc]e\b", rx.I)
# npm's "UNLICENSED" (and a project "unlicensed"): no rights granted at all, the opposite of
# the Unlicense (round 21d, F5) — the word's -d is the whole difference.
_NO_RIGHTS = rx.compile(r"\bunlicen[sc]ed\b", rx.I)
UNLICENSED_REF = "LicenseRef-Unlicensed"


_DATA_SUBJECT = rx.compile(r"(?i)\b(?:data\s*sets?|corpus|corpora|annotations|images)\b")
_CODE_SUBJECT = rx.compile(
    r"(?i)\b(?:code|software|models?|weights|checkpoints?|repository|this\s+(?:work|project))\b"
)


def readme_licenses(path: str, text: str) -> list[tuple[LicenseMatch, Terms]]:
    """License evidence in a README or model card (weaker than a license file): front matter,
    a License section, a "License: X" line, a sentence naming a license, restrictive terms."""
    out: list[tuple[LicenseMatch, Terms]] = []
    fm = _FRONT_MATTER.match(text)
    if fm:
        out += _front_matter_licenses(fm.group(1), path)
        if _GATE_KEY.search(fm.group(1)):
            # The Hub's gate (`extra_gated_prompt:`): the weights come after an agreement.
            out.append(_gate_terms(path))
    for m in _BADGE.finditer(text[:20000]):
        name = (m.group(1) or m.group(2) or "").replace("--", "\0").replace("-", " ")
        name = name.replace("\0", "-").replace("%20", " ").replace("_", " ")
        out += _named(name, path, "readme", 0.5)
    for body in _license_sections(text):
        section = body.strip()[:60000]  # a pasted GPL is 35 kB
        if section:
            out += _readme_section(section, path)
    for m in _LICENSE_LINE.finditer(text):
        out += _named(m.group(1), path, "readme", 0.6)
    if not out:
        out += _statement_names(text, path)
    # Restrictive terms anywhere in the README ("intended and licensed for research use only").
    restrictive: list[str] = []
    read = 0
    shown = text + _badge_texts(text) + (table_columns(text[:200_000]) if "|" in text else "")
    for sentence in _SENTENCE_END.split(fold(shown)):
        if not _may_restrict(sentence.lower()):
            continue
        read += 1
        if read > 200:  # bounded on hostile READMEs; real ones say it in a few sentences
            break
        if _DATA_SUBJECT.search(sentence) and not _CODE_SUBJECT.search(sentence):
            continue  # a data set's terms: reported apart (modelterms.dataset_terms)
        found = [
            c
            for c in clauses(sentence)
            if (c in RESTRICTIVE_CLAUSES or c == "commercial-contact") and c not in restrictive
        ]
        if not found and "who may use it" not in restrictive and _limits_use(sentence):
            found = ["who may use it"]  # "Industry users should contact us before using it."
        restrictive += found
    # "Contact us for commercial use" next to a copyleft license offers another license (dual
    # licensing, as ORB-SLAM2 does for its GPL code); next to a permissive one, which grants
    # commercial use already, it says the authors read their terms otherwise: unclear.
    copyleft = out and not all(t.category == "permissive" for _, t in out)
    if copyleft and restrictive == ["commercial-contact"]:
        restrictive = []
    if restrictive and not any(t.commercial_use is False for _, t in out):
        out.append(_readme_terms(restrictive, path))
    return _dedupe(out)


_SHIELD = rx.compile(
    r"img\.shields\.io/(?:badge/([^/?\s)\]\"']{3,200})|static/v1/?\?([^\s)\]\"']{3,400}))"
)


def _badge_texts(text: str) -> str:
    """What a shields.io badge reads, "Weights | Non-Commercial" for `badge/Weights-Non--
    Commercial-red` (`--` a dash, `_` a space, percent escapes decoded: `CC%20BY--NC`), or
    for `static/v1?label=Weights&message=non-commercial`, one line each (round 19c, L8;
    round 20c, F9)."""
    out = []
    for m in list(_SHIELD.finditer(text[:200_000]))[:50]:
        if m.group(2):
            query = parse_qs(html.unescape(m.group(2)))
            parts = [unquote(query.get(k, [""])[0]) for k in ("label", "message")]
            out.append(": ".join(p for p in parts if p))
            continue
        body = m.group(1).replace("--", "\0").replace("__", "\1")
        parts = [
            unquote(p.replace("\0", "-").replace("_", " ").replace("\1", "_"))
            for p in body.split("-")
        ]
        out.append(": ".join(parts[:-1] if len(parts) > 1 else parts))
    return "".join(f"\n{line}.\n" for line in out)


def _front_matter_licenses(block: str, path: str) -> list[tuple[LicenseMatch, Terms]]:
    """A model card's `license:`: one id or a list, and every entry of a list applies (the
    Hub's `license: [mit, cc-by-nc-4.0]` does not let the first decide). `license: other` is
    a license of the card's own: the one `license_name` names, else custom terms on which
    forkvet has no verdict (commercial use unclear)."""
    out: list[tuple[LicenseMatch, Terms]] = []
    for name in _license_values(block):
        if name.lower() == "other":
            out += _other_license(block, path)
        elif name.lower() != "unknown":
            out += _named(name, path, "readme", 0.7)
    return out


def _license_values(block: str) -> list[str]:
    """The values of the top-level `license:` keys of a YAML block (model-card front matter,
    CITATION.cff): `license: mit`, `license: [mit, cc-by-nc-4.0]` or `license:` then `- id`
    lines. Read by pattern, as before, so a block YAML rejects still gives its license."""
    names: list[str] = []
    for m in list(_FM_LICENSE.finditer(block))[:5]:
        value = m.group(1).split(" #")[0].strip()
        items = value.strip("[]").split(",") if value.startswith("[") else [value]
        items += [line.strip().removeprefix("-") for line in m.group(2).split("\n")]
        names += [n.strip().strip("'\"").strip() for n in items[:20]]
    return [n for n in names if n]


def _other_license(block: str, path: str) -> list[tuple[LicenseMatch, Terms]]:
    """`license: other` (+ `license_name: llama3`): the license named, else a custom one."""
    other = _FM_LICENSE_NAME.search(block)
    named = _named(other.group(1), path, "readme", 0.7) if other else []
    if named:
        return named
    label = other.group(1) if other else "other"
    terms = custom_terms([])
    ref = custom_ref("", f"Model-Card-{label}")
    name = f"Custom license in the model card (license: other, {label})"
    return [_item(ref, name, terms, path, 0.6, "readme")]


_RESTRICT_WORDS = (
    "licen",
    "commercial",
    "profit",
    "money",
    "business",
    "monetary",
    "customers",
    "by-nc",  # a license's short name on a badge ("Weights: CC BY-NC 4.0")
)


# Words a README uses about engineering as often as about terms ("not for production use").
_TECHNICAL = frozenset(["production", "hosted", "saas", "internal"])
_HARD_LIMITS = frozenset(["only", "not", "cannot", "prohibited", "forbidden", "contact"])
_USE_WORDS = frozenset(["use", "using", "used", "available", "licensed", "access", "usage"])


def _limits_use(sentence: str) -> bool:
    """A README sentence about who may use the code or for what, with a limiting word and no
    plain permission ("This code is made available to universities and students")."""
    words = set(rx.findall(r"[a-z]+", sentence.lower()))
    topics = (_STRONG_TOPICS - _TECHNICAL) | {"universities", "students"}
    if not words & _USE_WORDS or not words & topics:
        return False
    # README prose describes as often as it limits: a limiting word is needed.
    return bool(words & _LIMITS) and not (words & _PERMITS and not words & _HARD_LIMITS)


def _may_restrict(lower: str) -> bool:
    """Whether a README sentence can hold a restriction: it names a license or commercial or
    non-profit use or commercial use in other words ("to make money", "in any business"), or
    says "only" about research ("may only be used for academic research") or releases for it."""
    if any(w in lower for w in _RESTRICT_WORDS) or FOREIGN_COMMERCE.search(lower):
        return True
    if any(pat.search(lower) for _, pat in FOREIGN_RESTRICTIONS):
        return True  # "研究目的でのみ", "solo para investigación" (round 19c, L3)
    if any(w in lower for w in ("industr", "universit", "student", "internal", "production")):
        return True
    about_research = "research" in lower or "academic" in lower
    # "only" about research, or a release for it ("weights released for research purposes").
    return about_research and ("only" in lower or any(w in lower for w in _RELEASE_WORDS))


_RELEASE_WORDS = ("released", "available", "provided", "distributed", "intended", "shared")


def _readme_section(
    section: str, path: str, where: str = "README"
) -> list[tuple[LicenseMatch, Terms]]:
    if len(section.split()) > 120:
        found = [(m, t) for m, t, kind in classify_text(section, path, "readme") if kind == "grant"]
        if found and found[0][0].confidence >= 0.9:
            return found
    known = known_license(section)
    found_clauses = clauses(section)
    # "Code: MIT. Weights: Llama 2 Community License": both are named.
    named = _names_in(section, path, "readme")
    if not named:
        # "MIT. Note: ...": a section opening with a license's name and a full stop.
        first = rx.match(r"\s*([^.\n]{2,60})\.(?:\s|$)", section)
        named = _named(first.group(1), path, "readme", 0.6, strict=True) if first else []
    if known:
        named.append(_from_known(known, path, "readme", 0.7))
    restrictive = [c for c in found_clauses if c in RESTRICTIVE_CLAUSES]
    if not named and "commercial-contact" in found_clauses:
        restrictive.append("commercial-contact")
    out = named[:3]
    if (
        not restrictive
        and "commercial-contact" not in found_clauses  # dual licensing beside copyleft
        and all(t.category == "permissive" for _, t in named)
    ):
        # A License section is about terms: a sentence in it beside a permissive license is
        # read as one beside its text ("MIT. Deployment in any production system is not
        # allowed"), engineering words included (round 13).
        limiting = limiting_sentences(section, "", prose=True)
        if limiting:
            restrictive = [f"who may use it ({', '.join(limiting)})"]
    if restrictive:
        out.append(_readme_terms(restrictive, path, where))
    elif not named and "public-domain" in found_clauses:
        out.append(
            _item(
                PUBLIC_DOMAIN_REF,
                "Public domain",
                custom_terms(["public-domain"]),
                path,
                0.6,
                "readme",
            )
        )
    return out


_CONTACT_ONLY = "Custom terms in README (commercial-contact)"


def _readme_terms(
    restrictive: list[str], path: str, where: str = "README"
) -> tuple[LicenseMatch, Terms]:
    terms = custom_terms(restrictive)
    label = f"Custom terms in {where} ({', '.join(restrictive)})"
    return _item(README_TERMS, label, terms, path, 0.6, "readme")


def _statement_names(text: str, path: str) -> list[tuple[LicenseMatch, Terms]]:
    out: list[tuple[LicenseMatch, Terms]] = []
    for m in _statements(text):
        out += _named_in_statement(m, path, "readme", 0.6)
    known = known_license(text) if not out else None
    if known:
        out.append(_from_known(known, path, "readme", 0.6))
    return out


def _named(
    name: str, path: str, source: str, conf: float, strict: bool = False
) -> list[tuple[LicenseMatch, Terms]]:
    """A license name as people write it. strict: the text must look like a title ("MIT
    License", "Attribution-NonCommercial 4.0 International", or just "MIT"), not any line."""
    name = name.strip().strip("*_`").strip()
    if not strict and len(name) <= 300:  # a name, not a text: the split below backtracks
        # "a dual Apache v2/GPL v2 license", "Apache-2.0 or MIT": every license named.
        parts = rx.split(r"\s*(?:/|,?\s+or\s+|,?\s+and\s+|\s+&\s+)\s*", name)
        if len(parts) > 1:
            each = [x for p in parts for x in _named(p, path, source, conf, strict=True)]
            if len({m.spdx for m, _ in each}) > 1:
                return each
    if strict and len(name.split()) > 3 and not _TITLE_LIKE.search(name):
        return []
    if strict and rx.match(r"(?i)\(?c\)|copyright|©", name):
        return []
    spdx = spdx_from_name(name)
    if spdx is None:
        known = known_by_tag(name) or known_license(name)
        if known:
            return [_from_known(known, path, source, conf)]
        if _GENERIC_BSD.search(name) and len(name.split()) <= 6:
            terms = _terms_for_spdx(BSD_REF)
            return [
                _item(BSD_REF, "BSD license (which BSD is not stated)", terms, path, conf, source)
            ]
        if _NO_RIGHTS.search(name) and len(name.split()) <= 8:
            terms = custom_terms(["no-permission"])
            said = "UNLICENSED (no rights granted)"
            return [_item(UNLICENSED_REF, said, terms, path, conf, source)]
        if _PUBLIC_DOMAIN.search(name) and len(name.split()) <= 8:
            terms = _terms_for_spdx(PUBLIC_DOMAIN_REF)
            return [_item(PUBLIC_DOMAIN_REF, "Public domain", terms, path, conf, source)]
        return []
    terms = _terms_for_spdx(spdx)
    display = licensedb.spdx_name(spdx) or spdx
    return [_item(spdx, display, terms, path, conf, source)]


def _dedupe(items: list[tuple[LicenseMatch, Terms]]) -> list[tuple[LicenseMatch, Terms]]:
    seen: set[tuple[str | None, str]] = set()
    out = []
    for m, t in items:
        key = (m.spdx, m.name)
        if key not in seen:
            seen.add(key)
            out.append((m, t))
    return out


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
# A LICENSE that holds only an address: the license it names there.
_LICENSE_URLS: tuple[tuple[rx.Pattern[str], str], ...] = (
    (rx.compile(r"creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)", rx.I), "CC-{0}-{1}"),
    (rx.compile(r"creativecommons\.org/publicdomain/zero/1\.0", rx.I), "CC0-1.0"),
    (rx.compile(r"apache\.org/licenses/LICENSE-2\.0", rx.I), "Apache-2.0"),
    (rx.compile(r"gnu\.org/licenses/(a?gpl|lgpl)-(\d\.\d)", rx.I), "{0}-{1}"),
    (rx.compile(r"opensource\.org/licenses?/([\w.-]+?)(?:\.php|\.html)?/?$", rx.I), "{0}"),
    (rx.compile(r"choosealicense\.com/licenses/([\w.-]+?)/?$", rx.I), "{0}"),
)


def _license_at_url(text: str, path: str) -> list[tuple[LicenseMatch, Terms]]:
    """A license file of a line or two that is an address ("https://creativecommons.org/
    licenses/by-nc/4.0/"): the license that address names, when forkvet knows it."""
    words = text.split()
    urls = [w.strip("<>()[]\"'.,") for w in words if rx.match(r"[<(\[]?https?://", w)]
    if len(urls) != 1 or len(words) > 12:
        return []
    for pattern, template in _LICENSE_URLS:
        m = pattern.search(urls[0])
        if m:
            groups = [
                g.upper() if "CC-" in template or "gpl" in g.lower() else g for g in m.groups()
            ]
            name = template.format(*groups)
            items = _named(name, path, "file", 0.8, strict=True)
            if items:
                return items
    # The model licenses' own pages (forkvet/data/model_licenses.json).
    for pattern, key in KNOWN_URLS:
        known = known_by_tag(key) if pattern.search(urls[0]) else None
        if known:
            return [_from_known(known, path, "file", 0.8)]
    return []


_RESEARCH_TERMS = Terms("non-commercial", False, (NONCOMMERCIAL, "Research use only"))


_GAP_NOTE = "Terms forkvet found but could not judge: read them before relying on this answer"
_GAP_TERMS = Terms("custom-restricted", None, (_GAP_NOTE,))


def _known_grant(name: str, path: str) -> bool:
    """The name is a license forkvet knows to grant commercial use, and nothing else."""
    named = _named(name, path, "file", 0.7)
    grants = bool(named) and all(t.commercial_use is True for _, t in named)
    return grants and not unknown_license_name(name, path)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that refer to a license without naming one ("the same license", "the terms in
# LICENSE.md", "an open-source license"): a statement of only these names nothing unknown.
_REFERRING = _wordset(
    "the this that these those same following above below its their our his her "
    "respective original corresponding appropriate permissive open source open-source "
    "free license licence licenses licences licensing file files terms term agreement "
    "conditions condition a an of in as each which specified included attached stated "
    "described project repository repo model models code weights own upstream individual "
    "various several different applicable separate other their's found given listed "
    "detailed shown provided contained at is are be see under it v software or and either "
    "dual both option choice your"
)
_WORD = rx.compile(r"[\pL\pN]+(?:\.(?:md|txt|rst|\d+))*")
_GIVER = rx.compile(r"(?i)\s(?:by|from|to|on|at|via|unless|if|when|so|that|because|please|here)\s")


def _before_giver(name: str) -> str:
    """The name before who gives it ("… by Facebook"); Creative Commons' BY element ("CC BY
    4.0", "Creative Commons by-sa") is part of the name."""
    for m in _GIVER.finditer(name):
        word = m.group().strip()
        before = name[: m.start()].rstrip().lower()
        if word.lower() == "by" and (word == "BY" or before.endswith(("cc", "commons"))):
            continue
        return name[: m.start()]
    return name


_LINK_TEXT = rx.compile(r"\[([^\]\n]{0,200})\]\([^)\n]{0,500}\)")
# A name up to its last "License" word and the version after it.
_THROUGH_LICENSE = rx.compile(
    r"(?i).*\b(?:licen[cs]es?|agreement)\b(?:,?\s*(?:version|v\.?)?\s*\d+(?:\.\d+)*)?"
)
_DATE_WORDS = _wordset(
    "version january february march april may june july august september october november "
    "december th st nd rd"
)


@cache
def _spdx_names() -> list[tuple[frozenset[str], bool]]:
    """(words of the name, whether it grants commercial use) of every SPDX license."""
    out = []
    for spdx in sorted(licensedb.known_ids()):
        name = licensedb.spdx_name(spdx) or spdx
        words = frozenset(w.lower() for w in _WORD.findall(f"{name} {spdx}"))
        out.append((words, _terms_for_spdx(spdx).commercial_use is True))
    return out


def unknown_license_name(name: str, path: str, title: bool = False) -> str:
    """The name a "released under X" statement or a "License: X" line gives, when it is not
    a license forkvet knows and not a mere reference to one ("" otherwise): "Coqui Public
    Model License 1.0.0", "S-Lab License 1.0", "Functional Source License, Version 1.1, MIT
    Future License" (MIT is in it, but so are words no MIT name has)."""
    name = " ".join(_LINK_TEXT.sub(lambda m: m.group(1), name).strip("*_`[] ").split())[:120]
    # "the MIT license by Facebook", "… from the authors", "BSD license allowing academic
    # use": who gives it, or what it is said to allow, is no part of its name.
    name = whole = _before_giver(name)
    through = _THROUGH_LICENSE.match(name)
    name = through.group(0) if through else name
    words = [w.lower().strip(".") for w in _WORD.findall(name)]
    own = [w for w in words if w not in _REFERRING and w not in _DATE_WORDS]
    own = [w for w in own if not rx.search(r"(?i)\.(?:md|txt|rst)$|^licen", w)]
    if not own:
        return ""
    named = _named(name, path, "readme", 0.6)
    if not named:
        # An SPDX full name ("Business Source License 1.1") or a family's ("GNU General Public
        # License"): known when every license it can name grants commercial use.
        family = [g for ws, g in _spdx_names() if set(own) <= ws]
        if title:  # a title forkvet cannot place is the text's to judge, not the title's
            return name if family and not all(family) else ""
        return "" if family and all(family) else name
    # The known names' letters run together: "rail" is in "OpenRAIL-M".
    known = "".join(w.lower() for m, _ in named for w in _WORD.findall(f"{m.spdx} {m.name}"))
    left = [w for w in own if w.isalpha() and w not in known]
    if title and len(rx.findall(r"(?i)licen[cs]e|agreement", name)) < 2:
        # "Modified MIT License": the text says how; a title naming two is two. Prose words
        # in it ("MIT License (modified for academic use)") say what the text does not: the
        # title's own terms, which forkvet cannot read (round 20c, F15).
        return whole if _modifying_words(whole, known) else ""
    return name if left and any(t.commercial_use is True for _, t in named) else ""


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


def _modifying_words(title: str, known: str) -> list[str]:
    """Lower-case prose words of a title that are no words of the license it names, no
    function words and no reference ("for ProjectX", "(MIT)"): what the title adds to it."""
    words = rx.findall(r"[\pL]+", title)
    return [
        w
        for w in words
        if w.islower()
        and w not in known
        and w not in _ENGLISH
        and w not in _REFERRING
        and w not in _DATE_WORDS
        and not w.startswith("licen")
    ]


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
def _how_to(sentence: str) -> bool:
    """Advice, or a how-to whose only limiting words are the scope or an engineering word
    without a modal of use ("if and only if you intend to use CFG", "our internal names"):
    the weights document reader's rule, kept when its document is read as a License section."""
    if weightsdocs._ADVICE.search(sentence):
        return True
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
        if rx.search(r"\bcommercial(?:ly)?\b", body) and "non-commercial" not in body:
            return True
    return False


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


_GATED_TERMS = Terms(
    "custom-restricted",
    None,
    ("The weights are gated: read the agreement you accept to get them, and its commercial terms",),
)


_GATE_KEY = rx.compile(r"(?m)^extra_gated_[\w]+\s*:")


def _gate_terms(path: str) -> tuple[LicenseMatch, Terms]:
    name = "Gated on the Hub (extra_gated_*: an agreement before the weights)"
    return _item(custom_ref("", f"Gated-{path}"), name, _GATED_TERMS, path, 0.6, "readme")


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
        if f.suffix in _HEADER_SUFFIXES and not f.vendored and f.path.count("/") <= _HEADER_DEPTH
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
        templates = " " + " ".join(licensedb.template_tokens(i) for i in spdx_ids) + " "
        grams = _grams(templates)
        body = COPYRIGHT_LINE.sub(" ", text[:MAX_LICENSE_CHARS])
        said: list[tuple[LicenseMatch, Terms]] = []
        elsewhere = ""
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
        for m, t in _dedupe(said)[:3]:
            if any(f.match.spdx == m.spdx and f.match.path == path for f in found):
                continue  # the file's own license (its title or grant)
            m.name = f"{m.name} (named beside the license text in {path})"
            out.append(_Found(m, t, t.obligations, "other", "extra"))
        if elsewhere:
            terms = Terms(
                "custom-restricted",
                None,
                (f"Terms kept outside the repository: {elsewhere!r}: read them first",),
            )
            name = f"Weights under terms the repository does not hold ({path}: {elsewhere!r})"
            match, _ = _item(
                custom_ref("", f"Terms-Elsewhere-{path}"), name, terms, path, 0.5, "file"
            )
            out.append(_Found(match, terms, terms.obligations, "code", "extra"))
    return out


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


# The reader's own tests, for the modules this one imports (licensegaps, weightsdocs).
licensereader.bind(
    foreign=_foreign,
    names_a_license=names_a_license,
    referring=_REFERRING,
    unknown_license_name=unknown_license_name,
    license_at_url=_license_at_url,
    limiting_sentences=limiting_sentences,
)
