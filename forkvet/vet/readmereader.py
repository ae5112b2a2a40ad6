"""The README's license reader (moved out of license.py, round 22): the sentence reader of a
License section, license names as people write them, statements ("released under X"), badges,
front matter and the limiting sentences beside a license. license, licensegaps and weightsdocs
import it directly (it imports none of them): one reader of terms for every document."""

from __future__ import annotations

import difflib
import html
import unicodedata
from collections.abc import Iterator
from functools import cache
from itertools import pairwise
from urllib.parse import parse_qs, unquote

from forkvet import rx
from forkvet.report import LicenseMatch
from forkvet.vet import licensedb
from forkvet.vet.licensesections import (
    custom_ref,
    split_notices,
    title_lines,
)
from forkvet.vet.licenseterms import (
    BSD_REF,
    FOREIGN_COMMERCE,
    FOREIGN_RESTRICTIONS,
    KNOWN_URLS,
    PUBLIC_DOMAIN_REF,
    RESTRICTIVE_CLAUSES,
    KnownLicense,
    Terms,
    clause_spans,
    clauses,
    custom_terms,
    known_by_tag,
    known_license,
    known_license_at,
    ref_terms,
    spdx_terms,
    table_columns,
)
from forkvet.vet.shown import as_shown
from forkvet.vet.textnorm import COPYRIGHT_LINE, fold, normalize_tokens

MAX_LICENSE_CHARS = 200_000


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


# A License heading as GitHub renders it, whatever its markup (round 23, 22d F11): Markdown
# `#`s or an HTML `<h2 align="center">`, then an emoji or a symbol, a section number ("7.",
# "2.1"), then the word; the section ends at the next heading of either kind.
_LICENSE_SECTION = rx.compile(
    r"^(?:(?:#{1,6}|<h[1-6]\b[^>\n]{0,200}>)[ \t]*(?:[^\pL\pN\s]{1,8}[ \t]*)?"
    r"(?:\d{1,3}(?:\.\d{1,3})*\.?[ \t]+)?|\*\*)?[ \t]*"
    r"(?:licen[sc]e|licensing|terms of use|copyright)\b[^\n]*\n"
    r"(?:[=\-~^]{3,}[ \t]*\n)?(.*?)(^#{1,6}\s|^<h[1-6]\b|^\S[^\n]*\n[=\-~^]{3,}\s*$|\Z)",
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
    seen = as_shown(text[:200_000])  # `:x:` as ❌, an HTML table as a table (round 23)
    shown = text + _badge_texts(text) + (table_columns(seen) if "|" in seen else "")
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


_GATED_TERMS = Terms(
    "custom-restricted",
    None,
    ("The weights are gated: read the agreement you accept to get them, and its commercial terms",),
)


_GATE_KEY = rx.compile(r"(?m)^extra_gated_[\w]+\s*:")


def _gate_terms(path: str) -> tuple[LicenseMatch, Terms]:
    name = "Gated on the Hub (extra_gated_*: an agreement before the weights)"
    return _item(custom_ref("", f"Gated-{path}"), name, _GATED_TERMS, path, 0.6, "readme")
