"""What forkvet found about the code's or the weights' terms but could not judge (outside
attack round 19c).

Commercial use is "yes" only when every statement found is a known grant: a document a bound
kept unread (a README over the read size, a weights document or notebook past a size, depth or
count bound), a license named for the weights that forkvet does not know, a license value it
cannot map — each is a gap, and a gap makes the answer "unclear" with its reason, never "yes".
This module lists the gaps as (path, what); the license check turns each into an unclear term.
"""

from __future__ import annotations

from forkvet import rx
from forkvet.vet import licensefields, weightsdocs
from forkvet.vet.context import Context
from forkvet.vet.modelterms import sentences
from forkvet.vet.textnorm import fold


def gaps(ctx: Context) -> list[tuple[str, str]]:
    """(path, what forkvet could not judge), at most a few of each kind."""
    out: list[tuple[str, str]] = []
    out += _unread_readme(ctx)
    out += [(p, f"past what is read in full ({why})") for p, why in weightsdocs.unread_docs(ctx)]
    out += _weights_on_request(ctx)
    out += [(p, f"a metadata file not read ({why})") for p, why in licensefields.unread(ctx)]
    return out


# Weights given on request, through a form or an agreement (round 19c, L19): their terms are
# whatever the request grants, not in the repository, so the code's license earns no "yes".
_ON_REQUEST = rx.compile(
    r"(?i)\b(?:up)?on\s+(?:\w+\s+){0,2}?request\b|\bby\s+request\b|\bupon\s+approval\b|"
    r"\bfill\s*(?:in|out)?\s+(?:this|the|a|our)\b[^.\n]{0,60}?\bform\b|"
    r"\b(?:request|apply\s+for)\s+(?:\w+\s+)?access\b|\baccess\s+requests?\b|"
    r"\bforms\.gle/|\bdocs\.google\.com/forms\b"
)
_WEIGHTS = rx.compile(
    r"(?i)\b(?:models?|weights|checkpoints?|ckpts?|pre-?trained|parameters|snapshots?)\b"
)


def _weights_on_request(ctx: Context) -> list[tuple[str, str]]:
    """The README's first sentence that gives the weights on request (a form, an access
    request): their terms are not stated here."""
    fe = ctx.snap.readme
    if fe is None or not _ON_REQUEST.search(ctx.readme[:200_000]):
        return []
    for s in sentences(fold(ctx.readme[:200_000]))[:5000]:
        if len(s) < 600 and _ON_REQUEST.search(s) and _WEIGHTS.search(s):
            said = " ".join(s.split())[:160]
            return [(fe.path, f"gives the weights on request ({said!r}): their terms are not here")]
    return []


def _unread_readme(ctx: Context) -> list[tuple[str, str]]:
    """The README GitHub shows, over the size forkvet reads: its License section unread."""
    fe = ctx.snap.readme
    if fe is None or fe.size <= ctx.snap.max_text_bytes:
        return []
    return [(fe.path, f"not read ({fe.size:,} bytes, over the {ctx.snap.max_text_bytes:,} read)")]
