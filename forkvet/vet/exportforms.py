"""What `git archive` writes (outside attack, round 22a F8).

GitHub's archives (torch.hub's zipball, "Download ZIP", `pip install …/archive/REF.zip`) are
`git archive` of the commit, which honours the `export-subst` attribute: each `$Format:…$`
placeholder in such a file is replaced by the commit's own data (`%B`: its message, which the
fork's author writes). `checkpoints/model.pkl` holding `$Format:%B$` in the checkout is a
pickle in the archive. This module derives that form as gitattrs.py derives the CRLF one:
every tracked file the tree's attributes (the same reader: patterns, macros, either case) give
`export-subst` is written by git itself (`git archive HEAD`, with forkvet's neutral git
configuration) into a private folder; the files whose archived bytes differ from the checkout
get every risk check a tree gets (linkforms.form_errors), and their errors are the tree's.
More than MAX_FILES such files, an archive over MAX_BYTES, or a git failure is an error
("NOT verified"): the archive holds files forkvet did not read.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from forkvet import fstree, gitrun, hostpaths
from forkvet.report import Risk
from forkvet.vet import gitattrs
from forkvet.vet.context import Context
from forkvet.vet.linkforms import Check, form_errors

MAX_FILES = 1000
MAX_BYTES = 256 << 20
TIMEOUT_S = 60
_FORM = (
    "as `git archive` writes it (GitHub's zipballs, torch.hub, archive URLs: the file's "
    "export-subst attribute fills `$Format:…$` from the commit): "
)


def archive_risks(ctx: Context, check: Check) -> list[Risk]:
    """The errors of the tree's export-subst files as the commit's archive holds them."""
    snap = ctx.snap
    if not snap.git.commit or not snap.tracked:
        return []
    attrs = gitattrs.read(snap)
    if not attrs.mentions("export-subst"):
        return []
    paths = [f.path for f in snap.files if attrs.is_set(snap, f, "export-subst")]
    # git's own matching too, wherever the attribute is spelled: a pattern the reader reads
    # otherwise than git still archives with its placeholders filled
    tracked = [f.path for f in snap.files if snap.committed(f) and not f.via]
    paths = sorted(set(paths) | _git_says(snap.root, tracked))
    if not paths:
        return []
    if len(paths) > MAX_FILES:
        return [_unverified(paths[0], f"more than {MAX_FILES:,} files have export-subst")]
    with fstree.temporary_folder("forkvet-exportforms-") as tmp:
        why = _archive(snap.root, paths, Path(tmp))
        if why:
            return [_unverified(paths[0], why)]
        changed = _drop_unchanged(snap.root, paths, Path(tmp) / "tree")
        return form_errors(ctx, Path(tmp) / "tree", _FORM, check) if changed else []


def _git_says(root: Path, paths: list[str]) -> set[str]:
    """The paths git's `check-attr` (attributes from the index) gives export-subst."""
    try:
        git = [hostpaths.program("git"), "-C", str(root), "check-attr", "--cached", "-z"]
        proc = subprocess.run(
            [*git, "--stdin", "export-subst"],
            input="\0".join(paths).encode("utf-8", "surrogateescape"),
            capture_output=True,
            env=gitrun.git_env(root),
            timeout=TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, hostpaths.ProgramMissing):
        return set()
    fields = proc.stdout.decode("utf-8", "replace").split("\0")
    return {fields[i] for i in range(0, len(fields) - 2, 3) if fields[i + 2] == "set"}


def _archive(root: Path, paths: list[str], tmp: Path) -> str:
    """Writes what `git archive HEAD` holds for paths under tmp/tree; "" or why not."""
    tar = tmp / "archive.tar"
    git = [hostpaths.program("git"), "-C", str(root), "archive", "--format=tar", "HEAD", "--"]
    specs = [":(literal)" + p for p in paths]
    try:
        with open(tar, "wb") as out:
            proc = subprocess.run(
                [*git, *specs],
                stdout=out,
                stderr=subprocess.PIPE,
                env=gitrun.git_env(root),
                timeout=TIMEOUT_S,
                check=False,
            )
        if proc.returncode != 0:
            return "git archive failed: " + proc.stderr.decode("utf-8", "replace")[:120]
        if tar.stat().st_size > MAX_BYTES:
            return f"the archive is over {MAX_BYTES >> 20} MiB"
        with tarfile.open(tar) as tf:
            members = [m for m in tf.getmembers() if m.isfile()]
            tf.extractall(tmp / "tree", members=members, filter="data")
    except (OSError, subprocess.SubprocessError, tarfile.TarError, hostpaths.ProgramMissing) as e:
        return f"git archive could not be read ({str(e)[:80]})"
    return ""


def _drop_unchanged(root: Path, paths: list[str], tree: Path) -> int:
    """Removes the archived files whose bytes are the checkout's; how many are left."""
    left = 0
    for path in paths:
        archived = tree / path
        try:
            same = archived.read_bytes() == (root / path).read_bytes()
        except OSError:
            same = not archived.exists()
        if same:
            archived.unlink(missing_ok=True)
        else:
            left += 1
    return left


def _unverified(path: str, why: str) -> Risk:
    return Risk(
        "pickle-unverified",
        "error",
        f"Archive form NOT verified: files with the export-subst attribute are rewritten by "
        f"`git archive` (GitHub's zipballs, torch.hub), and {why}. Read what the archive holds "
        "before loading anything from it",
        path,
    )
