"""The weights' own terms: a code license answers for the code. Checkpoints the repository
links or loads, with no statement of their own anywhere in it, are reported apart, so that a
"commercial use: yes" is never read as covering them."""

from __future__ import annotations

from forkvet import rx
from forkvet.report import Finding, LicenseInfo, Severity, Weight
from forkvet.vet.context import Context
from forkvet.vet.license import names_a_license, other_readmes
from forkvet.vet.modelterms import sentences

CHECK = "license"
# "The model is licensed under the Apache 2.0 license", "models released under BSD 2-clause",
# "All other materials (the weights) are licensed under CC BY 4.0".
_LICENSE_WORDS = rx.compile(r"(?i)\blicen[cs]\w*|\breleased\s+under\b|\bdistributed\s+under\b")
_WEIGHT_WORDS = rx.compile(
    r"(?i)\b(?:models?|weights|checkpoints?|pre-?trained|materials)\b|\bparameters\b"
)
# A model card or a weights license file states the weights' terms itself.
_TERMS_FILE = rx.compile(
    r"(?i)^(?:model[-_ ]?card|model[-_]licen[cs]e|licen[cs]e[-_](?:model|weights)|"
    r"weights?[-_]licen[cs]e)\w*(?:\.\w+)?$"
)


# "Should you use these pre-trained weights, please adhere to the license agreements": the
# weights come with terms of their own that the repository does not hold.
# "The use of GLM-4 model weights must follow the Model License" (a link): a model license.
_OWN_TERMS = rx.compile(
    r"(?i)\blicen[cs]e\s+(?:agreements?|terms)\b|\bterms\s+of\s+(?:use|service)\b|"
    r"\b(?:usage|use|download)\s+agreements?\b|\bmodel\s+licen[cs]e\b"
)
# ... which the reader is told to follow (a sentence that only mentions an agreement, "the
# Community License Agreement is updated", binds nothing).
_COMPLY = rx.compile(
    r"(?i)\b(?:(?:adhere|comply|abide|agree|accept|follow)(?:s|d|ed|ing)?|subject\s+to|"
    r"governed\s+by|bound\s+by)\b"
)
_SAME_TERMS = rx.compile(r"(?i)\b(?:same|this|our|above|repository'?s?|code'?s?)\s+licen[cs]e")


def check(ctx: Context, info: LicenseInfo, found: list[Weight]) -> tuple[None, list[Finding]]:
    """Commercial use `unclear` when the README puts the weights under terms it does not hold;
    a notice (and a clause in `governs_reason`) when the answer is "yes" from the code's
    license while weights that nothing licenses are linked or loaded."""
    outside = [w for w in found if w.url or w.source != "repository"]
    if info.commercial_use is not True or not found:
        return None, []
    elsewhere = _terms_elsewhere(ctx)
    if elsewhere:
        info.commercial_use = None
        info.governs_reason += (
            "; the README puts the weights under license terms the repository does not hold"
        )
        message = (
            f"{info.name} answers for the code. The README says the weights come with terms "
            f'of their own ("{elsewhere[:160]}"): read them before any commercial use.'
        )
        return None, [Finding(CHECK, "warning", "Weights under separate terms", message)]
    if not outside or _stated(ctx, info):
        return None, []
    first = outside[0].url or outside[0].path or ""
    info.governs_reason += (
        "; the weights it links or loads state no license in the repository "
        "(the code's license answers for the code)"
    )
    message = (
        f"{info.name} answers for the code. The {len(outside)} checkpoint link(s) or "
        f"download(s) it names ({first[:120]}) state no license of their own anywhere in the "
        "repository: check their terms before using them commercially."
    )
    # A policy that requires commercial use needs the weights' terms checked by hand.
    severity: Severity = "warning" if ctx.config.license.require_commercial_use else "notice"
    return None, [Finding(CHECK, severity, "Weights license not stated", message)]


def _terms_elsewhere(ctx: Context) -> str:
    """The README sentence (or one of its translations' and older versions') that puts the
    weights under license terms of their own without naming a license forkvet knows or this
    repository's license; "" when there is none."""
    texts = [ctx.readme[:200_000]] + [text[:200_000] for _, text in other_readmes(ctx)]
    for text in texts:
        for s in sentences(text)[:5000]:
            if (
                len(s) < 1000
                and _OWN_TERMS.search(s)
                and _COMPLY.search(s)
                and _WEIGHT_WORDS.search(s)
                and not _SAME_TERMS.search(s)
                and not names_a_license(s)
            ):
                return s.strip()
    return ""


def _stated(ctx: Context, info: LicenseInfo) -> bool:
    """A statement covers the weights: a weights license or model card file, a license found
    for the weights or data (`role: weights-or-data`), or a README sentence that licenses them."""
    if any(m.role == "weights-or-data" for m in info.all):
        return True
    if any(_TERMS_FILE.match(f.name) and f.path.count("/") <= 1 for f in ctx.snap.files):
        return True
    text = ctx.readme[:200_000]
    return any(
        _LICENSE_WORDS.search(s) and _WEIGHT_WORDS.search(s)
        for s in sentences(text)[:5000]
        if len(s) < 1000
    )
