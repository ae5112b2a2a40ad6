"""The bounds static vetting runs under, in one place (documented in the README's Limits).

A hostile repository can be tiny and still costly to read: a 1 KB YAML anchor bomb, a 2.5 KiB
pickle opcode bomb, a README that makes a regex quadratic, one large file under 50 names. Every
parse of repository content is bounded by size, by count or by this run's deadline, and a
bound reached becomes a notice or a warning in the report, never a hang and never a pass.
"""

from __future__ import annotations

import os
import time

# The whole `forkvet vet` run: checks still to run when it passes are skipped with a notice.
VET_SECONDS = 60.0
# Bytes of repository text handed to parsers and regexes in one run (duplicates count once).
MAX_PARSE_BYTES = 256 * 1024 * 1024
# Regexes over free text (README, docs) see at most this much of one file, and lines are cut
# to MAX_LINE characters first: no pattern can then cost more than a bounded amount.
MAX_REGEX_TEXT = 1024 * 1024
# vermin (minimum Python version) and pyflakes (undefined names) cost more than linear time in
# a file's definitions: they read files up to this size, within this share of the run.
SLOW_ANALYZER_MAX_BYTES = 256 * 1024
SLOW_ANALYZER_SECONDS = 20.0
# ...and, per run, files up to these many bytes in all (vermin reads ~0.5 MB/s, pyflakes ~1.5):
# all of a typical research repository, and a bounded share of the rest. Syntax that needs a
# newer Python (f-strings, :=, match) is still found in every file by forkvet's own pass.
VERMIN_MAX_BYTES = 128 * 1024
PYFLAKES_MAX_BYTES = 256 * 1024
MAX_LINE = 4096
# ast holds ~700 bytes per syntax node and every analyzer walks them all: a 2 MB file of a
# million names took 1.4 GB and 40 s. A file estimated (by a token count) over this many
# nodes is read by the line scanner used for Python 2 code instead, with a notice.
MAX_PARSE_TOKENS = 400_000
# Files over this size are parsed in the main process, one at a time and between deadline
# checks, never in the worker pool (workers parsing big trees at once multiply the memory;
# a 256 KiB file's tree is ~30 MB, generated model definitions of 70-90 KiB are common).
MAX_POOLED_FILE_BYTES = 256 * 1024
# Python given to ast and the per-file analyzers in one run (~1 s per MB on 2 cores, the run's
# largest cost): the repository's own code first (not vendored, shallow, small), then vendored
# copies. Files past it (a vendored 14 MB library) are skimmed: imports and risky calls by
# pattern, nothing else, so that any repository is vetted in about 2 s and 100 MiB (a notice
# lists them).
FULL_ANALYSIS_BYTES = 1024 * 1024


def vet_seconds() -> float:
    """The run's time budget: FORKVET_VET_SECONDS overrides the default (e.g. for huge trees)."""
    raw = os.environ.get("FORKVET_VET_SECONDS", "")
    try:
        value = float(raw)
    except ValueError:
        return VET_SECONDS
    return value if value > 0 else VET_SECONDS


def deadline() -> float:
    return time.monotonic() + vet_seconds()


def clip_lines(text: str, limit: int = MAX_REGEX_TEXT, line: int = MAX_LINE) -> str:
    """Text for line-oriented regexes: at most `limit` characters, no line over `line`."""
    text = text[:limit]
    if all(len(ln) <= line for ln in text.split("\n")):
        return text
    return "\n".join(ln[:line] for ln in text.split("\n"))
