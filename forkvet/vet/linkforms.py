"""A symlink as a file: its target text (outside attack, round 22a F15).

A checkout on Windows (Git for Windows' default `core.symlinks=false`), any clone with
`core.symlinks=false` or on a filesystem without links, and every zipball a Python helper
extracts (`zipfile.extractall`: torch.hub's GitHub download, pip, "download and unzip"
scripts) writes a symlink as a regular file holding its target text. That file is what a
loader there reads: `weights.pkl -> "cposix\\nsystem\\n(S'…'\\ntR."` is a pickle. forkvet
judges where a link leads (snapshot.py); this module derives the other form the tree takes for
those consumers, as gitattrs.py does for CRLF: every link's target text is written as a file
of the link's name into a private folder, and that tree gets every risk check a tree gets
(the same dispatch as any file: pickles, YAML tags, configs, code). Its errors are the tree's.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forkvet import fstree
from forkvet.errors import InputError
from forkvet.report import Risk
from forkvet.snapshot import load
from forkvet.vet.context import Context

MAX_LINKS = 10_000
_PLACEHOLDER = ".forkvet-form"
MAX_TARGET = 1 << 16  # a link's target text (Linux allows 4 KiB; a git blob may hold more)
_FORM = (
    "as a Windows checkout, a core.symlinks=false clone or an extracted zipball writes the "
    "symlink (a regular file holding its target text): "
)


def link_file_risks(ctx: Context, check: Check) -> list[Risk]:
    """The errors of the tree's symlinks read as files of their target text."""
    every = set(ctx.snap.links) | set(ctx.snap.links_out)
    # links in a `.git` folder are git's, never written by a checkout or an archive
    shown = sorted(p for p in every if ".git" not in p.lower().split("/"))[:MAX_LINKS]
    if not shown:
        return []
    root = os.fsencode(ctx.snap.root)
    with fstree.temporary_folder("forkvet-linkforms-") as tmp:
        written = 0
        for path in shown:
            written += _write(root, path, Path(tmp))
        return form_errors(ctx, Path(tmp), _FORM, check) if written else []


# risks.check, handed in by its caller (risks imports this module: no circle)
Check = Callable[[Context], tuple[list[Risk], Any]]


def form_errors(ctx: Context, folder: Path, form: str, check: Check) -> list[Risk]:
    """The errors every risk check finds in `folder`, a form the tree takes (its files under
    the tree's names), each message saying which form."""
    # a file outside every skipped folder: a form whose files are all in `__pycache__` or
    # `.cache` is still a tree to load (their files get the pickle probe there)
    (folder / _PLACEHOLDER).write_bytes(b"")
    try:
        mini = Context(load(folder, ctx.snap.name), ctx.config, ctx.deadline)
    except InputError as exc:
        return [Risk("pickle-unverified", "error", f"{form}NOT verified ({exc})", None)]
    found, _findings = check(mini)
    errors = [r for r in found if r.severity == "error"]
    return [dataclasses.replace(r, message=form + r.message) for r in errors]


def _write(root: bytes, path: str, tmp: Path) -> int:
    """Writes the link's target text as tmp/path; 1 when written."""
    try:
        target = os.readlink(root + b"/" + os.fsencode(path))
    except (OSError, ValueError):
        return 0
    dest = tmp / path
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(target[:MAX_TARGET])
    except OSError:  # a link below another link's name: that one is already a file here
        return 0
    return 1
