"""What a license lets you do: category, commercial use and obligations.

No license tool answers "may my company use this commercially?": this table is ours to keep.
It also recognises licenses that model code ships under but that are not on the SPDX list
(NVIDIA Source Code License, the OpenRAIL family, Llama community licenses), and classifies
custom texts by their clauses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from forkvet import rx
from forkvet.vet.textnorm import FOREIGN_COMMERCE_STEMS, fold

# From most to least permissive: the strictest of several licenses governs, the most
# permissive of a dual license may be chosen.
RESTRICTIVENESS = {
    "permissive": 0,
    "weak-copyleft": 1,
    "strong-copyleft": 2,
    "network-copyleft": 3,
    "custom-restricted": 4,
    "non-commercial": 5,
    "no-permission": 6,
    "none": 7,
}

CATEGORIES = (
    "permissive",
    "weak-copyleft",
    "strong-copyleft",
    "network-copyleft",
    "non-commercial",
    "custom-restricted",
    "no-permission",
    "none",
)

KEEP_NOTICE = "Keep the copyright notice and license text in copies"
STATE_CHANGES = "State the changes you made to the files"
NOTICE_FILE = "Keep the NOTICE file's attributions (Apache-2.0 §4(d))"
PATENT = "Patent license; it ends if you sue over patents in the work"
NO_ENDORSE = "Do not use the authors' names to endorse your product"
DISCLOSE = "Disclose the source code when you distribute it"
SAME_LICENSE = "License derivative works under the same license"
SAME_LICENSE_FILES = "Modified files of the library stay under the same license"
NETWORK = "Offer the source to users who interact with it over a network"
NONCOMMERCIAL = "No commercial use"
ATTRIBUTION = "Give credit to the authors, link the license and indicate changes"
SHARE_ALIKE = "Share adaptations under the same license"
NO_DERIVATIVES = "Do not distribute modified versions"
USE_RESTRICTIONS = "Follow the use restrictions and pass them on to everyone downstream"
INCLUDE_LICENSE = "Include a copy of the license with the model or code"


@dataclass(frozen=True)
class Terms:
    category: str
    commercial_use: bool | None
    obligations: tuple[str, ...] = field(default_factory=tuple)


_PUBLIC_DOMAIN = {
    "CC0-1.0",
    "Unlicense",
    "0BSD",
    "MIT-0",
    "WTFPL",
    "CC-PDDC",
    "PDDL-1.0",
    "Unlicense-libtelnet",
    "BlueOak-1.0.0",
}
_NETWORK = ("AGPL-", "SSPL-", "OSL-", "RPL-", "EUPL-", "CPAL-", "Parity-")
_STRONG = (
    "GPL-",
    "CC-BY-SA-",
    "CECILL-1",
    "CECILL-2",
    "QPL-",
    "Sleepycat",
    "ODbL-",
    "GFDL-",
    "RPSL-",
    "copyleft-next",
    "Watcom-",
    "EPICS",
)
_WEAK = (
    "LGPL",
    "MPL-",
    "EPL-",
    "CDDL-",
    "CPL-",
    "MS-RL",
    "APSL-",
    "CECILL-C",
    "ErlPL-",
    "IPL-",
    "OFL-",
    "LPL-",
    "NPL-",
    "SPL-",
    "Motosoto",
    "CUA-OPL",
    "Nokia",
    "RSCPL",
    "SimPL-",
    "CATOSL-",
    "OSET-PL",
    "LGPLLR",
    "CDLA-Sharing",
    "CAL-1.0",
)
_NONCOMMERCIAL = (
    "CC-BY-NC",
    "PolyForm-Noncommercial",
    "NCGL-UK",
    "Elastic-License-NC",
    "NPOSL-",
    "Aladdin",
    "TORQUE-1.1",
    "NLOD-",
    "Prosperity",
)
_RESTRICTED = (
    "CC-BY-ND-",
    "BUSL-",
    "Elastic-",
    "JSON",
    "Commons-Clause",
    "PolyForm-",
    "SSPL",
    "Hippocratic",
    "OPUBL",
    "Sendmail-Open-Source",
)
_PERMISSIVE_NON_OSI = (
    "CC-BY-",
    "Beerware",
    "X11",
    "MIT",
    "BSD-",
    "ISC",
    "Zlib",
    "zlib-",
    "libpng",
    "HPND",
    "curl",
    "PSF-",
    "Python-",
    "Apache-",
    "AFL-",
    "BSL-1.0",
    "NCSA",
    "Unicode",
    "ImageMagick",
    "FTL",
    "IJG",
    "Libpng",
    "OpenSSL",
    "SGI-B",
    "W3C",
    "TCL",
    "Spencer",
    "Info-ZIP",
    "bzip2",
    "PHP-",
    "Ruby",
    "Vim",
    "X11-",
    "Xerox",
    "Zed",
    "Zend",
    "CDLA-Permissive",
    "Artistic-2.0",
    "UPL-",
    "MulanPSL",
    "Intel",
    "NTP",
    "Fair",
    "Glulxe",
    "blessing",
)


def _startswith(spdx: str, prefixes: tuple[str, ...]) -> bool:
    return any(spdx.startswith(p) for p in prefixes)


def spdx_terms(spdx: str, osi: bool) -> Terms:
    """Terms of a license on the SPDX list, by id."""
    if spdx in _PUBLIC_DOMAIN:
        return Terms("permissive", True, ())
    if _startswith(spdx, _NONCOMMERCIAL):
        obl = [NONCOMMERCIAL]
        if spdx.startswith("CC-"):
            obl.append(ATTRIBUTION)
            if "-SA-" in spdx:
                obl.append(SHARE_ALIKE)
            if "-ND-" in spdx:
                obl.append(NO_DERIVATIVES)
        return Terms("non-commercial", False, tuple(obl))
    if _startswith(spdx, _NETWORK):
        return Terms(
            "network-copyleft", True, (KEEP_NOTICE, STATE_CHANGES, DISCLOSE, SAME_LICENSE, NETWORK)
        )
    if spdx.startswith("CC-BY-SA-"):
        return Terms("strong-copyleft", True, (ATTRIBUTION, SHARE_ALIKE))
    if spdx.startswith("CC-BY-ND-"):
        return Terms("custom-restricted", True, (ATTRIBUTION, NO_DERIVATIVES))
    if _startswith(spdx, _WEAK):
        return Terms("weak-copyleft", True, (KEEP_NOTICE, DISCLOSE, SAME_LICENSE_FILES))
    if _startswith(spdx, _STRONG):
        return Terms("strong-copyleft", True, (KEEP_NOTICE, STATE_CHANGES, DISCLOSE, SAME_LICENSE))
    if spdx.startswith("BUSL-"):
        return Terms(
            "custom-restricted",
            None,
            ("Production use needs a commercial license until the change date",),
        )
    if spdx == "JSON":
        return Terms("custom-restricted", True, (KEEP_NOTICE, "Use it for good, not evil"))
    if _startswith(spdx, _RESTRICTED):
        return Terms("custom-restricted", None, (KEEP_NOTICE,))
    if spdx.startswith("Apache-"):
        return Terms("permissive", True, (KEEP_NOTICE, STATE_CHANGES, NOTICE_FILE, PATENT))
    if spdx.startswith("CC-BY-"):
        return Terms("permissive", True, (ATTRIBUTION,))
    if spdx.startswith("BSD-3") or spdx.startswith("BSD-4"):
        return Terms("permissive", True, (KEEP_NOTICE, NO_ENDORSE))
    if osi or _startswith(spdx, _PERMISSIVE_NON_OSI):
        return Terms("permissive", True, (KEEP_NOTICE,))
    return Terms(
        "custom-restricted",
        None,
        (KEEP_NOTICE, "Read the license: forkvet has no verdict on its commercial terms"),
    )


# -- licenses not on the SPDX list (or easily confused) ---------------------------------------
@dataclass(frozen=True)
class KnownLicense:
    key: str
    name: str
    pattern: rx.Pattern[str]
    terms: Terms
    # SPDX has no id for these (checked against the bundled SPDX list and ScanCode's index):
    # LicenseRef- ids, the form SPDX reserves for licenses not on its list.
    spdx: str
    # RE2 repeats at most 1000 times: "A, then B within N characters" is A as `pattern` and
    # B as `then`, checked on the N characters after each A.
    then: rx.Pattern[str] | None = None
    within: int = 0
    # What, right after the name, makes it another license ("CC BY-NC" then "4.0": an SPDX id).
    unless: rx.Pattern[str] | None = None
    # Lower-case words the pattern cannot match without: a substring test skips the regex
    # (and the memory RE2 spends on it) for texts that cannot name this license.
    needs: tuple[str, ...] = ()
    # The license this one is a point release of ("llama-3" for Llama 3.1): a policy that
    # names the family names its releases too.
    family: str | None = None


def _obligation(ref: str, named: dict[str, str]) -> str:
    return named.get(ref, ref)


_Urls = tuple[tuple[rx.Pattern[str], str], ...]


def _load_known() -> tuple[tuple[KnownLicense, ...], dict[str, str], _Urls]:
    """The model licenses in forkvet/data/model_licenses.json: each license, the model-card
    tags that name one, and the addresses a pointer LICENSE may hold (pattern, key)."""
    raw = resources.files("forkvet.data").joinpath("model_licenses.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    named: dict[str, str] = data["obligations"]
    known: list[KnownLicense] = []
    tags: dict[str, str] = {}
    urls: list[tuple[rx.Pattern[str], str]] = []
    for lic in data["licenses"]:
        terms = Terms(
            lic["category"],
            lic["commercial_use"],
            tuple(_obligation(o, named) for o in lic["obligations"]),
        )
        then = lic.get("then")
        unless = lic.get("unless")
        known.append(
            KnownLicense(
                lic["key"],
                lic["name"],
                rx.compile(lic["pattern"], rx.I),
                terms,
                lic["spdx"],
                rx.compile(then, rx.I) if then else None,
                int(lic.get("within", 0)),
                rx.compile(unless, rx.I) if unless else None,
                tuple(lic.get("needs", ())),
                lic.get("family"),
            )
        )
        tags.update({t.lower(): lic["key"] for t in lic.get("tags", ())})
        urls += [(rx.compile(u, rx.I), lic["key"]) for u in lic.get("urls", ())]
    return tuple(known), tags, tuple(urls)


KNOWN, _TAGS, KNOWN_URLS = _load_known()


def _load_bases() -> _Urls:
    raw = resources.files("forkvet.data").joinpath("model_licenses.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    return tuple((rx.compile(b["pattern"], rx.I), b["license"]) for b in data["base_models"])


# Base models under a conditional license, with its key: fine-tunes of them follow it.
BASE_MODELS = _load_bases()


def known_by_tag(tag: str) -> KnownLicense | None:
    """A license named by its key or model-card tag ("nvidia-nc", "llama2", "openrail++")."""
    key = _TAGS.get(tag.strip().lower(), tag.strip().lower())
    return next((k for k in KNOWN if k.key == key), None)


def known_license(text: str) -> KnownLicense | None:
    found = known_license_at(text)
    return found[0] if found else None


def known_license_at(text: str) -> tuple[KnownLicense, int] | None:
    """The first license off the SPDX list that text names, and where it names it."""
    head = text[:20000]
    lower = head.lower()
    for known in KNOWN:
        if known.needs and not any(n in lower for n in known.needs):
            continue
        for m in known.pattern.finditer(head):
            if known.unless is not None and known.unless.match(head[m.end() : m.end() + 16]):
                continue
            if known.then is None or _within(known.then, head, m.end(), known.within):
                return known, m.start()
    return None


def _within(then: rx.Pattern[str], text: str, end: int, within: int) -> bool:
    # `then` starts at most `within` characters after `end`.
    found = then.search(text[end : end + within + 64])
    return found is not None and found.start() <= within


# LicenseRef ids forkvet gives itself, with their terms.
PUBLIC_DOMAIN_REF = "LicenseRef-Public-Domain"
BSD_REF = "LicenseRef-BSD"  # "BSD license" without saying which BSD
_REF_TERMS = {
    PUBLIC_DOMAIN_REF: Terms("permissive", True, ()),
    BSD_REF: Terms("permissive", True, (KEEP_NOTICE, NO_ENDORSE)),
    **{k.spdx: k.terms for k in KNOWN},
}


def ref_terms(spdx: str) -> Terms | None:
    """Terms of a LicenseRef id forkvet names itself (None for a custom text's own ref)."""
    return _REF_TERMS.get(spdx)


# -- clause classifier for custom texts ----------------------------------------------------------
# "for any purpose, commercial or non-commercial" grants; it must not read as "non-commercial".
_BOTH_USES = rx.compile(
    r"whether\s+or\s+not\s+(?:for\s+|in\s+)?(?:a\s+)?commercial(?:ly)?|"
    r"(?:commercial|profit)\s*(?:and|or|&|/|and/or)\s*non-?\s?(?:commercial|profit)|"
    r"non-?\s?(?:commercial|profit)\s*(?:and|or|&|/|and/or)\s*(?:commercial|profit)",
    rx.I,
)
# A prohibition ("you may not", "cannot", "is prohibited from") and what a commercial use is
# called after "commercial": the class of phrasings, not a list of sentences.
_FORBID = (
    r"(?:\b(?:may|must|shall|can|will)\s*not|\bcannot|\b(?:may|must|shall)\s+never|"
    r"\b(?:do\s+not|don'?t)|\b(?:prohibited|forbidden|barred)\s+from|"
    r"\bnot\s+(?:allowed|permitted|authori[sz]ed|licensed|entitled)\s+to)"
)
_USE_VERB = (
    r"(?:use|used|using|employ|exploit|deploy|incorporate|include|integrate|embed|distribute|"
    r"sell|sold|offer|provide|apply|utili[sz]e|run|host|redistribute|license|sublicense|"
    r"make|made|ship|publish|market)\w*\b"
)
_COMMERCIAL_USE = (
    r"(?:purposes?|products?|use|usage|uses|exploitation|applications?|services?|settings?|"
    r"activit(?:y|ies)|gain|advantage|offerings?|software|deployments?|environments?|"
    r"contexts?|manner|ways?|distribution|projects?|ventures?|enterprises?)\b"
)
# Commercial use in other words: a for-profit purpose, a business, money made by it.
_BUSINESS = (
    rf"(?:(?:for-?\s?profit|profit-?making|monetary|financial)\s+{_COMMERCIAL_USE}|"
    r"(?:business|company|companies|corporation|enterprise)s?\b|"
    r"products?\s+(?:sold|offered|licensed|provided)\s+to\s+(?:customers|clients|third)|"
    r"(?:monetary|financial)\s+gain)"
)
# "is prohibited", "is not permitted", after what it forbids.
_BANNED = (
    r"\b(?:is|are)\s+(?:strictly\s+|expressly\s+)?(?:prohibited|forbidden|"
    r"not\s+(?:permitted|allowed|licensed|authori[sz]ed))"
)
# "Commercial" in the languages research code is written in besides English: terms about
# commerce that forkvet does not read are never a plain "yes" (an appended "禁止商用", "nur für
# nicht-kommerzielle Zwecke", "utilisation commerciale interdite"). Matched on folded text,
# so each stem is also given as fold() leaves it (Cyrillic look-alikes read as Latin).
_FOREIGN_COMMERCE = rx.compile(
    "|".join(
        rx.escape(stem)
        for stem in sorted({w for s in FOREIGN_COMMERCE_STEMS for w in (s, fold(s).lower())})
    ),
    rx.I,
)
FOREIGN_COMMERCE = _FOREIGN_COMMERCE
_CLAUSES: dict[str, rx.Pattern[str]] = {
    # Prohibitions, not grants: nothing is allowed without asking.
    "no-permission": rx.compile(
        r"no\s+(?:permission|right|license|licence)s?\s+(?:is|are)\s+(?:hereby\s+)?"
        r"(?:granted|given)|"
        r"(?:no|not|nor)\b[^.;]{0,80}\bfor\s+any\s+(?:commercial\s+or\s+non-?\s?commercial|"
        r"non-?\s?commercial\s+or\s+commercial)\s+purpose|"
        r"(?:may|must|shall|can)\s*not\s+(?:be\s+)?(?:used|use|copied|copy|reproduced)"
        r"(?:\s*,\s*|\s+or\s+|\s+and\s+|\s+|/)(?:\w+(?:\s*,\s*|\s+or\s+|\s+and\s+|\s+|/)){0,8}"
        r"(?:in\s+any\s+(?:form|way|manner)|for\s+any\s+purpose|by\s+anyone)|"
        r"(?:not\s+licensed|unlicensed)\s+for\s+(?:any\s+)?(?:use|reuse|redistribution)|"
        # NVIDIA's proprietary header: "Any use, reproduction, disclosure or distribution of
        # this software ... without an express license agreement from X is strictly prohibited."
        r"\bany\s+use\b[^.;]{0,160}?\bwithout\s+(?:an?\s+)?(?:express\s+|written\s+|prior\s+)*"
        r"(?:license|licence|permission|consent|authori[sz]ation)[^.;]{0,80}?\b(?:is|are)\s+"
        r"(?:strictly\s+|expressly\s+)?(?:prohibited|forbidden|not\s+permitted)|"
        # Round 20c, F2: terms that grant nothing, in the words of any document. Proprietary
        # ("are proprietary and confidential property of"), unlicensed ("The pretrained
        # models are not licensed."), a use other than one named needing written permission,
        # a place excluded ("may not be used in the United States"), a trial.
        r"\b(?:is|are|remains?)\s+(?:the\s+)?(?:strictly\s+)?(?:proprietary|confidential)\b|"
        r"\bproprietary\s+and\s+confidential\b|"
        r"\b(?:is|are)\s+(?:not\s+licen[sc]ed|unlicen[sc]ed)\s*(?:[.;!)]|$)|"
        r"\brequires?\s+(?:(?:our|the|their|its|an?|prior|express|explicit|separate|specific)"
        r"\s+){0,3}written\s+(?:permission|consent|approval|authori[sz]ation|agreement)|"
        rf"{_FORBID}\s+(?:be\s+)?{_USE_VERB}\s+(?:in|within|inside)\s+(?:the\s+)?"
        # A place: a capitalised name ("in the United States"; not "DO NOT USE IN A USER
        # PROGRAM", a header's capitals), a country's short name, or the word for one.
        r"(?:(?-i:[A-Z][a-z]+)\s+){0,3}?(?:(?-i:[A-Z][a-z]+|US|USA|EU|UK|PRC)|countries|"
        r"territories|regions|jurisdictions)\b|"
        r"\b(?:\d{1,3}|seven|fourteen|thirty|sixty|ninety)[- ](?:days?|weeks?|months?)\s+"
        r"(?:free\s+)?(?:trial|evaluation)\b|\b(?:as|for)\s+an?\s+(?:free\s+|limited\s+)?trial\b|"
        r"\btrial\s+(?:licen[sc]e|version|period)\b",
        rx.I,
    ),
    "non-commercial": rx.compile(
        r"non-?\s?commercial|not\s+(?:be\s+)?used\s+for\s+(?:any\s+)?commercial|"
        r"no\s+commercial\s+use|without\s+(?:a\s+)?commercial\s+licen[sc]e|"
        # "Not for commercial use", "not for commercial exploitation"; "not licensed for
        # commercial use", "not intended for use in commercial products", "not to be used in
        # any commercial setting": a negated grant or purpose, then commercial.
        r"\bnot\s+for\s+(?:any\s+)?commercial|"
        r"\bnot\s+(?:be\s+|to\s+be\s+)?(?:licen[sc]ed|permitted|allowed|authori[sz]ed|intended|"
        r"meant|designed|available|granted|approved|cleared|suitable|released|provided|"
        r"distributed|used|for\s+use)\s+(?:for|in|to|with|within)\s+"
        r"(?:any\s+|an?\s+|the\s+)?(?:use\s+in\s+(?:an?\s+|any\s+)?)?commercial|"
        # Terse answers: "Commercial use: no", "Commercial: ✗", "Commercial use? Nope." (fold()
        # reads the question mark as a colon), a table row "| Commercial use | ✅ | ❌ |" (a
        # mark of refusal in any cell of the row: code yes, weights no is not a plain yes).
        r"\bcommercial(?:ly)?(?:\s+(?:use|usage|uses|purposes?|licen[sc]e|applications?|"
        r"deployment|products?))?\s*(?:[:=|]|\s[-–])\s*(?:[^|\n]{0,40}\|\s*){0,6}?[*_`\s]*"
        # A refusal: a word, "N" (a Y/N column), or a mark as GitHub shows it (a shortcode is
        # read as its mark: `:x:` is ❌; ✖ heavy, ☒ a crossed box: round 23, 22d F14).
        r"(?:(?:no|nope|nah|never|n|not\s+(?:allowed|permitted|granted|ok|okay))"
        r"\s*(?:[.!,;)|*_`\n]|$)|[\u2716\u2717\u2718\u2612\u274c\u274e\u00d7\U0001f6ab\u26d4])|"
        # A prohibition, then a commercial use within the sentence: "You may not use the
        # Software for any commercial purpose", "... or use it in a commercial product".
        rf"{_FORBID}\s+(?:be\s+)?{_USE_VERB}[^.;:\n]{{0,80}}?\b(?:for|in|into|as|within)\s+"
        rf"(?:any\s+|an?\s+|the\s+)?commercial(?:ly)?\s+{_COMMERCIAL_USE}|"
        # "shall not be used commercially".
        rf"{_FORBID}\s+(?:be\s+)?{_USE_VERB}[^.;:\n]{{0,40}}?\bcommercially\b|"
        # "You may not sell the Software", "may not rent, lease or sell".
        rf"{_FORBID}\s+(?:[\w-]+,?\s+(?:or\s+)?){{0,3}}?(?:sell|resell|monetize|monetise)\b|"
        # "Commercial use of the Software is prohibited" (not "is not restricted": a grant).
        rf"\bcommercial\s+{_COMMERCIAL_USE}"
        r"(?:\s+(?:of|by|in|for|with|on)\s+(?:[\w-]+\s+){0,5}?)?"
        r"\s*(?:(?:is|are)\s+)?(?:strictly\s+|expressly\s+)?(?:prohibited|forbidden|not\s+(?:permitted|allowed|"
        r"licensed|granted|authori[sz]ed|covered|included))|"
        # "Commercial use without our written permission is prohibited", "... requires a
        # separate written license": the grant withdrawn for commercial use.
        rf"\bcommercial\s+{_COMMERCIAL_USE}[^.;:\n]{{0,60}}?\bwithout\b[^.;:\n]{{0,60}}?"
        rf"{_BANNED}|"
        rf"\bcommercial\s+{_COMMERCIAL_USE}\s+(?:(?:also|always|still)\s+)?(?:requires?|needs?)\s+"
        r"(?:an?\s+)?(?:(?:separate|prior|written|additional|explicit|special)\s+){0,3}"
        r"(?:licen[sc]e|permission|agreement|consent|authori[sz]ation)|"
        # The Commons Clause: "does not grant to you, the right to Sell the Software".
        r"\bcommons\s+clause\b|\bright\s+to\s+sell\s+the\s+software\b|"
        # "in any product or service that generates revenue requires a separate paid license",
        # "companies must obtain a license".
        r"\b(?:requires?|needs?)\s+(?:an?\s+)?(?:separate\s+)?(?:paid|commercial|purchased)\s+"
        r"licen[sc]e|\b(?:companies|corporations|businesses|enterprises)\s+(?:must|need\s+to|"
        r"shall|have\s+to)\s+(?:obtain|purchase|buy|acquire|get)\b|"
        # "does not grant any rights for commercial use".
        r"\bnot\s+grant\w*\s+(?:you\s+)?(?:any\s+)?(?:rights?|permission|licen[sc]es?)\s+"
        r"(?:for|to)\s+(?:any\s+)?commercial|"
        # A named non-commercial license: "CC BY-NC 4.0", "CC-BY-NC-SA"; "licensed for NC use"
        # (the abbreviation, in capitals only).
        r"\bcc[-\s]*by[-\s]*nc\b|\bby-nc(?:-sa|-nd)?\b|"
        r"\b(?-i:NC)\s+(?:use|usage|purposes?|only|licen[sc]e|terms)\b|"
        # The abbreviation said of the weights or a license: "weights are NC", "model: NC",
        # "NC-licensed", "NC weights".
        r"\b(?:weights?|models?|checkpoints?|parameters|licen[sc]e[sd]?|terms)\s*"
        r"(?:(?:is|are|as|under)\s+)?(?:[:=(]\s*)?(?-i:NC)\b|"
        r"\b(?-i:NC)(?:\s+|-)(?:weights?|models?|checkpoints?|licen[sc]ed|only)\b|"
        # What a commercial use is called without the word: "for any for-profit purpose",
        # "in any business", "for monetary gain", "to make money", "products sold to customers".
        rf"{_FORBID}\s+(?:be\s+)?{_USE_VERB}[^.;:\n]{{0,80}}?\b(?:for|in|into|as|within|by)\s+"
        rf"(?:any\s+|an?\s+|the\s+)?{_BUSINESS}|"
        rf"{_FORBID}\s+(?:be\s+)?{_USE_VERB}[^.;:\n]{{0,80}}?\bto\s+(?:make|earn|generate)\s+"
        r"(?:money|profits?|revenue|income)\b|"
        rf"\b(?:use|usage)\s+(?:by|in|within|for)\s+(?:any\s+|an?\s+|the\s+)?{_BUSINESS}"
        rf"[^.;:\n]{{0,60}}?{_BANNED}",
        rx.I,
    ),
    "research-only": rx.compile(
        r"(?:academic|research|educational|evaluation|non-?profit|personal)\s+"
        r"(?:and\s+\w+\s+|or\s+\w+\s+)?(?:purposes?|use|usage)\s+only|"
        r"(?:solely|exclusively|strictly)\s+for\s+(?:academic\s+|non-?commercial\s+|internal\s+)?"
        r"(?:research|evaluation)|"
        r"(?:only|exclusively|strictly)\s+for\s+(?:academic|research|non-?commercial|evaluation)|"
        r"free\s+for\s+(?:personal|research|academic|educational|non-?commercial|non-?profit)\b"
        r"(?:\s+(?:or|and)\s+\w+)?\s+(?:use|purposes?)|"
        # "Tongyi Qianwen RESEARCH LICENSE AGREEMENT", "Microsoft Research License"
        r"\bresearch[- ](?:only\s+|use\s+)?licen[sc]e|"
        # "agree to the research-use terms" (a form before the weights, round 20c F2).
        r"\b(?:research|academic|non-?commercial)[- ](?:only|use)\s+(?:terms|agreement|"
        r"conditions)\b|"
        # "licensed for academic research only", "for non-commercial research only".
        r"\bfor\s+(?:[\w-]+\s+){0,2}?(?:academic|research|scientific|non-?profit)"
        r"(?:\s+(?:research|purposes?|use|usage|settings?))?\s+only\b|"
        # "may only be used for academic research", "is only available for research".
        r"\bonly\s+(?:be\s+)?(?:used|use|available|licensed|released|provided|distributed|"
        r"permitted|allowed|intended)\s+(?:[\w-]+\s+){0,2}?for\s+(?:[\w-]+\s+){0,2}?"
        r"(?:academic|research|non-?commercial|educational|non-?profit|evaluation|"
        r"benchmarking|testing)\b|"
        # "The weights are released for research purposes", "made available for academic
        # use": a purpose named for the release itself.
        r"\b(?:released|provided|distributed|available|licensed|shared|published|intended)\s+"
        r"(?:[\w-]+\s+){0,2}?for\s+(?:the\s+)?(?:academic|research|non-?commercial|educational|"
        r"scientific)\s+(?:and\s+\w+\s+)?(?:purposes?|use|usage)\b|"
        # "for any purpose other than scientific research", "for non-profit organizations only".
        r"\bpurposes?\s+other\s+than\s+(?:[\w-]+\s+){0,2}?(?:research|academic|education|study)|"
        r"\bnon-?\s?profit\s+(?:organi[sz]ations?|institutions?|entities|users?)\s+only\b|"
        # "This model is for non-profit use", "Weights: private, non-profit use" (not "a
        # non-profit organisation"; "commercial and non-profit use" is any use, read before).
        r"\bfor\s+(?:[\w-]+\s+)?(?:non-?\s?profit|not-for-profit)\s+"
        r"(?:use|usage|purposes?|research|applications?)\b|"
        r"\b(?:non-?\s?profit|not-for-profit)\s+(?:use|usage|purposes?)\b",
        rx.I,
    ),
    # "contact us for commercial use": a restriction when nothing else is granted; next to an
    # open-source license it is an offer of another license (dual licensing), not a restriction.
    "commercial-contact": rx.compile(
        r"contact\b[^.;\n]{0,60}\bfor\s+(?:any\s+)?commercial\s+(?:use|purposes?|usage|licen)|"
        r"for\s+commercial\s+(?:use|purposes?|usage|licen\w*)[^.;\n]{0,30}\bcontact",
        rx.I,
    ),
    "foreign-commercial": _FOREIGN_COMMERCE,
    "no-derivatives": rx.compile(
        r"no\s+derivative|not\s+(?:create|make|distribute)\s+(?:any\s+)?(?:derivative|modified)|"
        r"may\s+not\s+modify",
        rx.I,
    ),
    "share-alike": rx.compile(r"share\s*-?\s*alike|under\s+the\s+same\s+(?:license|terms)", rx.I),
    "patent": rx.compile(r"\bpatent", rx.I),
    "public-domain": rx.compile(
        r"(?:released|dedicated|placed|put|is|are|lies)\s+(?:in|into|to)\s+the\s+public\s+domain|"
        r"\bis\s+public\s+domain\b|"
        r"do\s+(?:whatever|what\s+(?:ever\s+)?the\s+\S+)\s+you\s+want|"
        r"no\s+rights\s+reserved|waives?\s+all\s+(?:copyright|rights)",
        rx.I,
    ),
    "permission-grant": rx.compile(
        r"permission\s+is\s+hereby\s+granted|redistribution\s+and\s+use\s+in\s+source|"
        r"licensed\s+under|grants?\s+you\s+a",
        rx.I,
    ),
}
RESTRICTIVE_CLAUSES = (
    "no-permission",
    "non-commercial",
    "research-only",
    "no-derivatives",
    "foreign-commercial",
)
# Words each clause cannot match without: a substring test skips most regex scans of long
# license texts (the GPL is 35 kB).
_NEEDS: dict[str, tuple[str, ...]] = {
    "no-permission": (
        "no ",
        "not",
        "nor ",
        "unlicensed",
        "prohibited",
        "forbidden",
        "proprietary",
        "confidential",
        "written",
        "trial",
    ),
    "non-commercial": (
        "commercial",
        "clause",
        "paid",
        "purchased",
        "sell",
        "monetiz",
        "monetis",
        "nc",
        "profit",
        "business",
        "compan",
        "corporat",
        "enterprise",
        "monetary",
        "financial",
        "money",
        "customers",
        "clients",
    ),
    "research-only": (
        "only",
        "solely",
        "free for",
        "research",
        "academic",
        "educational",
        "profit",
        "exclusively",
        "other than",
    ),
    "foreign-commercial": tuple(
        sorted({w[:4].lower() for s in FOREIGN_COMMERCE_STEMS for w in (s, fold(s))})
    ),
    "commercial-contact": ("commercial",),
    "no-derivatives": ("derivative", "modif"),
    "share-alike": ("alike", "same"),
    "patent": ("patent",),
    "public-domain": ("public domain", "you want", "rights reserved", "waive"),
    "permission-grant": ("granted", "redistribution", "licensed under", "grant"),
}


def _candidates(text: str) -> tuple[str, list[tuple[str, rx.Pattern[str]]]]:
    text = fold(text)
    lower = text.lower()
    if "commercial" in lower or "profit" in lower:
        text = _BOTH_USES.sub(" any use ", text)
        if "|" in text:
            text += table_columns(text)
        lower = text.lower()
    return text, [
        (name, pat) for name, pat in _CLAUSES.items() if any(w in lower for w in _NEEDS[name])
    ]


_TABLE_ROW = rx.compile(r"^[ \t]*\|?(.*?)\|?[ \t]*$")
_TABLE_RULE = rx.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")


def table_columns(text: str) -> str:
    """A Markdown table whose header column speaks of commercial use ("| Model | Commercial use
    |" with ✅/❌ per model) read row by row as "Commercial use: ❌" lines, which the clauses
    read as they read a row labelled so (outside attack round 21d, Y2: the round 18 gap)."""
    lines = text.splitlines()[:20_000]
    out: list[str] = []
    for i, line in enumerate(lines[:-1]):
        if (
            "|" not in line
            or "commercial" not in line.lower()
            or not _TABLE_RULE.match(lines[i + 1])
        ):
            continue
        head = [c.strip() for c in _cells(line)]
        columns = [k for k, c in enumerate(head) if "commercial" in c.lower()]
        for row in lines[i + 2 : i + 2002]:
            if "|" not in row:
                break
            cells = _cells(row)
            out += [f"{head[k]}: {cells[k].strip()}" for k in columns if k < len(cells)]
    return "\n\n" + "\n\n".join(out) if out else ""


def _cells(line: str) -> list[str]:
    m = _TABLE_ROW.match(line)
    return (m.group(1) if m else line).split("|")


def _load_foreign() -> list[tuple[str, rx.Pattern[str]]]:
    """(clause, pattern) of `forkvet/data/foreign_restrictions.json`: the phrases for "for
    research only", "non-commercial", "for academic use only" in other languages, folded as a
    text is before it is matched (round 19c, L3/L18)."""
    raw = resources.files("forkvet.data").joinpath("foreign_restrictions.json").read_text("utf-8")
    table = json.loads(raw)
    out = []
    for clause in ("non-commercial", "research-only"):
        phrases = {p for ps in table[clause].values() for p in ps}
        variants = sorted({v for p in phrases for v in (p.lower(), fold(p).lower())}, key=len)
        out.append((clause, rx.compile("|".join(rx.escape(v) for v in reversed(variants)))))
    return out


FOREIGN_RESTRICTIONS = _load_foreign()


def foreign_clauses(text: str) -> list[str]:
    """The clauses a sentence in another language states, from the phrases' table."""
    lower = fold(text).lower()
    return [c for c, pat in FOREIGN_RESTRICTIONS if pat.search(lower)]


def clauses(text: str) -> list[str]:
    text, candidates = _candidates(text)
    lower = text.lower()
    found = [name for name, pat in candidates if pat.search(text)]
    return found + [c for c, pat in FOREIGN_RESTRICTIONS if c not in found and pat.search(lower)]


def clause_spans(text: str) -> list[tuple[str, str]]:
    """(clause, matched words widened to whole words) for every clause occurrence, to check
    against a template ("noncommercially" in the GPL is not the clause "non-commercial")."""
    text, candidates = _candidates(text)
    out = []
    for name, pat in candidates:
        for m in pat.finditer(text):
            start, end = m.start(), m.end()
            while start > 0 and text[start - 1].isalnum():
                start -= 1
            while end < len(text) and text[end].isalnum():
                end += 1
            out.append((name, text[start:end]))
    return out


def custom_terms(found: list[str]) -> Terms:
    obl = [KEEP_NOTICE]
    if "non-commercial" in found or "research-only" in found or "commercial-contact" in found:
        obl.insert(0, NONCOMMERCIAL)
        if "research-only" in found:
            obl.append("Research use only")
        if "commercial-contact" in found:
            obl.append("Commercial use needs a license from the authors")
        return Terms("non-commercial", False, tuple(obl))
    # After the non-commercial grants: "may not be copied in any form" next to "use it for
    # non-commercial research" limits a grant; alone, nothing is granted.
    if "no-permission" in found:
        return Terms(
            "no-permission",
            False,
            (
                "No permission is granted: do not use, copy, modify or distribute it "
                "without the authors' written permission",
            ),
        )
    if "public-domain" in found:
        return _REF_TERMS[PUBLIC_DOMAIN_REF]
    if "no-derivatives" in found:
        obl.append(NO_DERIVATIVES)
    if "share-alike" in found:
        obl.append(SHARE_ALIKE)
    return Terms("custom-restricted", None, tuple(obl))


NO_LICENSE = Terms(
    "none",
    False,
    (
        "No license: all rights reserved. Ask the authors for "
        "permission before using, copying or modifying the code",
    ),
)
