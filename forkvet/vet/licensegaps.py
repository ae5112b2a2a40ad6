"""What forkvet found about the code's or the weights' terms but could not judge (outside
attack round 19c).

Commercial use is "yes" only when every statement found is a known grant: a document a bound
kept unread (a README over the read size, a weights document or notebook past a size, depth or
count bound), a license named for the weights that forkvet does not know, a license value it
cannot map — each is a gap, and a gap makes the answer "unclear" with its reason, never "yes".
This module lists the gaps as (path, what); the license check turns each into an unclear term.
"""

from __future__ import annotations

from forkvet.vet import weightsdocs
from forkvet.vet.context import Context


def gaps(ctx: Context) -> list[tuple[str, str]]:
    """(path, what forkvet could not judge), at most a few of each kind."""
    out: list[tuple[str, str]] = []
    out += _unread_readme(ctx)
    out += [(p, f"past what is read in full ({why})") for p, why in weightsdocs.unread_docs(ctx)]
    return out


def _unread_readme(ctx: Context) -> list[tuple[str, str]]:
    """The README GitHub shows, over the size forkvet reads: its License section unread."""
    fe = ctx.snap.readme
    if fe is None or fe.size <= ctx.snap.max_text_bytes:
        return []
    return [(fe.path, f"not read ({fe.size:,} bytes, over the {ctx.snap.max_text_bytes:,} read)")]
