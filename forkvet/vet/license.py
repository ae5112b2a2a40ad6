"""Check 1: the repository's own license, what it allows, and the team's license policy."""

from __future__ import annotations

import re
from dataclasses import dataclass

from forkvet.report import Finding, LicenseInfo, LicenseMatch
from forkvet.vet import licensedb
from forkvet.vet.context import Context
from forkvet.vet.licenseterms import (
    NO_LICENSE,
    RESTRICTIVENESS,
    KnownLicense,
    Terms,
    clauses,
    custom_terms,
    known_license,
    spdx_terms,
)

CHECK = "license"
_LICENSE_NAME = re.compile(
    r"^(?:un)?licen[cs]e(?:s)?(?:[-_. ][\w.-]*)?$|^copying(?:[-_.][\w.-]*)?$|"
    r"^[\w-]*[-_.]licen[cs]e(?:\.(?:md|txt|rst|markdown))?$|^eula(?:\.\w+)?$",
    re.I,
)
# Top-level license files about weights, data or docs rather than the code.
_NOT_CODE = re.compile(r"model|weight|data|checkpoint|doc|font|image|asset|third|vendor", re.I)
_DUAL_HINT = re.compile(
    r"dual[- ]licen[cs]ed|either\s+(?:the\s+)?\S+\s+(?:license\s+)?or\s+"
    r"(?:the\s+)?\S+\s+license|at\s+your\s+option",
    re.I,
)


@dataclass
class _Found:
    match: LicenseMatch
    terms: Terms
    obligations: tuple[str, ...]
    role: str  # "code", "other", "metadata", "readme"


def _terms_for_spdx(spdx: str) -> Terms:
    return spdx_terms(spdx, licensedb.is_osi(spdx))


def _from_known(
    known: KnownLicense, path: str, source: str, conf: float
) -> tuple[LicenseMatch, Terms]:
    spdx = known.spdx or "NOASSERTION"
    return (
        LicenseMatch(
            spdx, known.name, known.terms.category, known.terms.commercial_use, path, conf, source
        ),
        known.terms,
    )


def classify_text(text: str, path: str, source: str) -> list[tuple[LicenseMatch, Terms]]:
    """Every license in a text: known non-SPDX licenses first, then SPDX texts, then clauses."""
    known = known_license(text)
    if known is not None:
        return [_from_known(known, path, source, 0.9)]
    matches = licensedb.match_text(text)
    if matches:
        out = []
        for m in matches:
            terms = _terms_for_spdx(m.spdx)
            out.append(
                (
                    LicenseMatch(
                        m.spdx,
                        m.name,
                        terms.category,
                        terms.commercial_use,
                        path,
                        m.containment,
                        source,
                    ),
                    terms,
                )
            )
        return out
    if len(text.split()) < 20:
        return []
    found = clauses(text)
    terms = custom_terms(found)
    detail = ", ".join(c for c in found if c != "permission-grant") or "no known clauses"
    return [
        (
            LicenseMatch(
                "NOASSERTION",
                f"Custom license ({detail})",
                terms.category,
                terms.commercial_use,
                path,
                0.5,
                source,
            ),
            terms,
        )
    ]


# -- names in metadata and READMEs --------------------------------------------------------------
_NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), spdx)
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
_CLASSIFIER = re.compile(r"^License :: (?:OSI Approved :: )?(.+)$")


def spdx_from_name(name: str) -> str | None:
    """Map a license name as people write it ("Apache 2.0", "GPLv3", "cc-by-nc-4.0") to SPDX."""
    stripped = name.strip().strip(".")
    by_id = {i.lower(): i for i in licensedb.known_ids()}
    if stripped.lower() in by_id:
        return by_id[stripped.lower()]
    for pattern, spdx in _NAME_PATTERNS:
        m = pattern.search(stripped)
        if m:
            return spdx.format(*m.groups())
    return None


_README_STATEMENT = re.compile(
    r"(?:licen[sc]ed|released|distributed|available|provided|published)\s+under\s+"
    r"(?:the\s+|an?\s+)?(?:terms\s+of\s+(?:the\s+)?)?([^\n.;:()]{2,80}?)"
    r"(?:\s+licen[sc]e\b|\.|;|\n|$)",
    re.I,
)
_LICENSE_SECTION = re.compile(
    r"^(?:#{1,6}\s*|\*\*)?\s*(?:licen[sc]e|licensing|terms of use|copyright)\b[^\n]*\n"
    r"(?:[=\-~^]{3,}\s*\n)?(.*?)(?=^#{1,6}\s|^\S[^\n]*\n[=\-~^]{3,}\s*$|\Z)",
    re.I | re.M | re.S,
)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_FM_LICENSE = re.compile(r"^license:\s*['\"]?([\w.+-]+)", re.M)


def readme_licenses(path: str, text: str) -> list[tuple[LicenseMatch, Terms]]:
    """License statements in a README: model-card front matter, a License section, a sentence."""
    out: list[tuple[LicenseMatch, Terms]] = []
    fm = _FRONT_MATTER.match(text)
    if fm:
        m = _FM_LICENSE.search(fm.group(1))
        if m and m.group(1).lower() not in ("other", "unknown"):
            out += _named(m.group(1), path, "readme", 0.8)
    sections = [m.group(1) for m in _LICENSE_SECTION.finditer(text)]
    for section in sections:
        section = section.strip()
        if not section:
            continue
        if len(section.split()) > 120:
            found = classify_text(section, path, "readme")
            if found and found[0][0].confidence >= 0.9:
                out += found
                continue
        known = known_license(section)
        if known:
            out.append(_from_known(known, path, "readme", 0.75))
            continue
        named = _statement_names(section, path)
        if named:
            out += named
            continue
        restrictive = [
            c
            for c in clauses(section)
            if c in ("non-commercial", "research-only", "no-derivatives")
        ]
        if restrictive:
            terms = custom_terms(restrictive)
            label = f"Custom terms in README ({', '.join(restrictive)})"
            out.append(
                (
                    LicenseMatch(
                        "NOASSERTION",
                        label,
                        terms.category,
                        terms.commercial_use,
                        path,
                        0.6,
                        "readme",
                    ),
                    terms,
                )
            )
    if not out:
        out += _statement_names(text, path)
    return _dedupe(out)


def _statement_names(text: str, path: str) -> list[tuple[LicenseMatch, Terms]]:
    out: list[tuple[LicenseMatch, Terms]] = []
    for m in _README_STATEMENT.finditer(text):
        out += _named(m.group(1), path, "readme", 0.7)
    known = known_license(text) if not out else None
    if known:
        out.append(_from_known(known, path, "readme", 0.7))
    return out


def _named(name: str, path: str, source: str, conf: float) -> list[tuple[LicenseMatch, Terms]]:
    spdx = spdx_from_name(name)
    if spdx is None:
        known = known_license(name)
        return [_from_known(known, path, source, conf)] if known else []
    terms = _terms_for_spdx(spdx)
    display = licensedb.spdx_name(spdx) or spdx
    return [
        (
            LicenseMatch(spdx, display, terms.category, terms.commercial_use, path, conf, source),
            terms,
        )
    ]


def _dedupe(items: list[tuple[LicenseMatch, Terms]]) -> list[tuple[LicenseMatch, Terms]]:
    seen: set[tuple[str | None, str]] = set()
    out = []
    for m, t in items:
        key = (m.spdx, m.name if m.spdx == "NOASSERTION" else "")
        if key not in seen:
            seen.add(key)
            out.append((m, t))
    return out


# -- GPL family: -only or -or-later ---------------------------------------------------------
_OR_LATER = re.compile(
    r"or\s+\(?at\s+your\s+option\)?\s+any\s+later\s+version|"
    r"or\s+any\s+later\s+version|[AL]?GPL-?v?\d(?:\.\d)?\+|-or-later",
    re.I,
)
_ONLY = re.compile(r"version\s+\d(?:\.\d)?\s+only|[AL]?GPL-?\d\.\d-only", re.I)
_GPL_BODY = re.compile(
    r"(?:GNU\s+(?:LESSER\s+|AFFERO\s+)?GENERAL\s+PUBLIC\s+LICENSE\s*\n\s*"
    r"Version)|TERMS\s+AND\s+CONDITIONS",
    re.I,
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
def _license_files(ctx: Context) -> list[str]:
    out = []
    for f in ctx.snap.files:
        depth = len(f.parts)
        in_licenses_dir = depth == 2 and f.parts[0].upper() in ("LICENSES", "LICENSE")
        if (depth <= 3 and _LICENSE_NAME.match(f.name)) or in_licenses_dir:
            if f.suffix in (".py", ".json", ".yml", ".yaml", ".png", ".jpg", ".pdf"):
                continue
            out.append(f.path)
    return out


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


def check(ctx: Context) -> tuple[LicenseInfo, list[Finding]]:
    findings: list[Finding] = []
    found: list[_Found] = []
    texts: dict[str, str] = {}
    for path in sorted(_license_files(ctx), key=_priority):
        text = ctx.snap.read_text(path)
        if not text or not text.strip():
            continue
        texts[path] = text
        top = "/" not in path or path.upper().startswith("LICENSES/")
        name = path.rsplit("/", 1)[-1]
        role = "code" if top and not _NOT_CODE.search(name) else "other"
        for m, terms in classify_text(text, path, "file"):
            found.append(_Found(m, terms, terms.obligations, role))
    for meta in ctx.packages:
        names = [meta.license] if meta.license else []
        names += [cm.group(1) for c in meta.classifiers if (cm := _CLASSIFIER.match(c))]
        for name in names:
            if len(name) > 200:  # the whole license text pasted into setup(license=...)
                items = classify_text(name, meta.path, "metadata")
            else:
                items = _named(name, meta.path, "metadata", 0.8)
            for m, terms in items:
                found.append(_Found(m, terms, terms.obligations, "metadata"))
    if ctx.snap.readme:
        for m, terms in readme_licenses(ctx.snap.readme.path, ctx.readme):
            found.append(_Found(m, terms, terms.obligations, "readme"))
    for f in ctx.snap.files:
        if f.name == "CITATION.cff":
            text = ctx.snap.read_text(f.path) or ""
            cm = re.search(r"^license:\s*['\"]?([\w.+-]+)", text, re.M)
            if cm:
                for m, terms in _named(cm.group(1), f.path, "metadata", 0.8):
                    found.append(_Found(m, terms, terms.obligations, "metadata"))
    info = _decide(ctx, found, texts, findings)
    findings += _policy(ctx, info)
    return info, findings


def _decide(
    ctx: Context, found: list[_Found], texts: dict[str, str], findings: list[Finding]
) -> LicenseInfo:
    info = LicenseInfo(all=[f.match for f in found])
    if not found:
        info.obligations = list(NO_LICENSE.obligations)
        info.governs_reason = "no license file, metadata or README statement"
        findings.append(
            Finding(
                CHECK,
                "warning",
                "No license",
                "No license found: the code is all rights reserved. You may not use, copy or "
                "modify it without the authors' permission; ask them to add a license.",
            )
        )
        return info
    for role in ("code", "metadata", "readme", "other"):
        governing = [f for f in found if f.role == role]
        if governing:
            break
    # Several distinct licenses of the code itself: a choice (OR) when the files or the README
    # say so, else the code is under all of them (AND), so the strictest terms apply.
    distinct: list[_Found] = []
    for f in governing:
        if all(
            f.match.spdx != d.match.spdx
            or (f.match.spdx == "NOASSERTION" and f.match.name != d.match.name)
            for d in distinct
        ):
            distinct.append(f)
    if role == "code" and len(distinct) > 1:
        same_file = len({d.match.path for d in distinct}) == 1
        if same_file:
            # One LICENSE file with several texts: the first is the project's, the rest are
            # usually third-party notices appended to it.
            distinct = distinct[:1]
    primary = distinct[0]
    spdx = primary.match.spdx
    reason = {
        "code": f"license file {primary.match.path}",
        "metadata": f"package metadata in {primary.match.path}",
        "readme": f"statement in {primary.match.path}",
        "other": f"license file {primary.match.path}",
    }[role]
    text = texts.get(primary.match.path, "")
    if spdx and spdx != "NOASSERTION":
        spdx, why = _gpl_variant(ctx, spdx, text)
        if why:
            reason += f"; {why}"
    terms = [d.terms for d in distinct]
    if len(distinct) > 1:
        ids = [d.match.spdx if d.match.spdx != "NOASSERTION" else d.match.name for d in distinct]
        # License texts themselves say "at your option" (GPL): read only the README and the
        # Rust-style file names (LICENSE-MIT + LICENSE-APACHE) for a choice.
        suffixed = all(re.match(r"(?i)licen[cs]e[-_.]\w", d.match.path) for d in distinct)
        dual = bool(_DUAL_HINT.search(ctx.readme)) or suffixed
        op = " OR " if dual else " AND "
        spdx = op.join(i or "NOASSERTION" for i in ids)
        chosen = _most_permissive(terms) if dual else _most_restrictive(terms)
        info.name = op.join(d.match.name for d in distinct)
        info.category = chosen.category
        info.commercial_use = chosen.commercial_use
        reason += "; " + (
            "dual-licensed: you may choose"
            if dual
            else "several licenses apply to the code: the strictest terms apply"
        )
    else:
        info.name = primary.match.name
        info.category = primary.terms.category
        info.commercial_use = primary.terms.commercial_use
        if spdx and spdx != primary.match.spdx:
            info.name = licensedb.spdx_name(spdx) or info.name
    info.spdx = spdx
    info.confidence = round(min(d.match.confidence for d in distinct), 2)
    info.files = sorted({f.match.path for f in found if f.match.source == "file"})
    obligations: list[str] = []
    for d in distinct:
        obligations += [o for o in d.obligations if o not in obligations]
    info.obligations = obligations
    info.governs_reason = reason
    _conflicts(found, primary, info, findings)
    for f in found:
        if f.role == "other" and f.match.spdx != primary.match.spdx and role != "other":
            findings.append(
                Finding(
                    CHECK,
                    "notice",
                    "Other license in the repository",
                    f"{f.match.path} is under {f.match.name} ({f.match.category}); it covers that "
                    f"part (weights, data or vendored code), not the main code.",
                    path=f.match.path,
                )
            )
    if info.category in (
        "non-commercial",
        "custom-restricted",
        "network-copyleft",
        "strong-copyleft",
    ):
        findings.append(
            Finding(
                CHECK,
                "warning" if info.commercial_use is not True else "notice",
                f"License is {info.category}",
                f"{info.name}: " + "; ".join(info.obligations[:4]),
                path=primary.match.path,
            )
        )
    if primary.match.spdx == "NOASSERTION" and primary.match.confidence <= 0.5:
        findings.append(
            Finding(
                CHECK,
                "warning",
                "Unrecognised license text",
                f"{primary.match.path} matches no known license; forkvet classified it by its "
                f"clauses. Have someone read it before relying on it.",
                path=primary.match.path,
            )
        )
    return info


def _most_restrictive(terms: list[Terms]) -> Terms:
    return max(terms, key=lambda t: RESTRICTIVENESS[t.category])


def _most_permissive(terms: list[Terms]) -> Terms:
    return min(terms, key=lambda t: RESTRICTIVENESS[t.category])


def _conflicts(
    found: list[_Found], primary: _Found, info: LicenseInfo, findings: list[Finding]
) -> None:
    """A README restricting what the LICENSE file allows (common in research code)."""
    for f in found:
        if f is primary or f.role == "other":
            continue
        stricter = RESTRICTIVENESS[f.terms.category] > RESTRICTIVENESS[primary.terms.category]
        if f.terms.commercial_use is False and primary.terms.commercial_use is not False:
            info.commercial_use = None
            findings.append(
                Finding(
                    CHECK,
                    "warning",
                    "Conflicting license statements",
                    f"{primary.match.path} says {primary.match.name}, but {f.match.path} says "
                    f"{f.match.name} ({f.match.category}). Commercial use is unclear: ask the "
                    f"authors which terms apply.",
                    path=f.match.path,
                )
            )
            return
        if stricter and f.match.spdx not in (None, primary.match.spdx):
            findings.append(
                Finding(
                    CHECK,
                    "notice",
                    "Different license named elsewhere",
                    f"{f.match.path} names {f.match.name}, "
                    f"{primary.match.path} {primary.match.name}.",
                    path=f.match.path,
                )
            )


def _policy(ctx: Context, info: LicenseInfo) -> list[Finding]:
    policy = ctx.config.license
    where = ctx.config.source or "policy"
    ids = {i.strip().lower() for i in re.split(r"\s+(?:AND|OR)\s+", info.spdx or "")}
    keys = {info.category.lower()} | ids
    for m in info.all:
        if m.spdx == "NOASSERTION" and m.name == info.name:
            keys |= {k.key for k in _known_for(m.name)}
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


def _known_for(name: str) -> list[KnownLicense]:
    from forkvet.vet.licenseterms import KNOWN

    return [k for k in KNOWN if k.name == name]
