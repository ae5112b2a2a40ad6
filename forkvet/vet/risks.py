"""Check 9: what could hurt you when you run this code — pickles that execute code, unsafe
loaders, remote code, piped shell downloads, hard-coded paths, GPU-only code, absent content."""

from __future__ import annotations

import ast
import codecs
import dataclasses
import io
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import yaml

from forkvet import fstree, limits, rx, safeparse, safeyaml
from forkvet.report import EntryPoints, Finding, Risk
from forkvet.snapshot import FileEntry, FolderChain, Snapshot, shown_name
from forkvet.vet import (
    chattemplates,
    configformats,
    configsinks,
    configtargets,
    containers,
    dataformats,
    evalstrings,
    exportforms,
    gitattrs,
    jsontokens,
    linkforms,
    loadertext,
    modelindex,
    nativefiles,
    pickles,
    shellsinks,
    toolfiles,
    weightrefs,
)
from forkvet.vet.compiled import compiled_risks
from forkvet.vet.context import Context
from forkvet.vet.pysource import PyFile
from forkvet.vet.textrisks import (
    EVAL,
    REMOTE_CODE,
    YAML_LOAD,
)
from forkvet.vet.textrisks import text_risks as text_risks

CHECK = "risks"
# Every version line git-lfs's pointer decoder accepts (lfs/pointer.go: the current URL and
# its v1 aliases): the smudge filter fetches the object for each.
_LFS_VERSIONS = (
    b"version https://git-lfs.github.com/spec/v1",
    b"version https://hawser.github.com/spec/v1",
    b"version http://git-media.io/v/2",
)
_LFS_HEAD = max(len(v) for v in _LFS_VERSIONS)
_ANNEX_POINTER = b"/annex/objects/"
# A download handed to an interpreter unseen: piped into it (through other pipes too:
# `| tee f | sh`), or given to it by process or command substitution (`bash <(curl …)`,
# `sh -c "$(curl …)"`, `eval "$(wget …)"`, `source <(curl …)`).
_RUNNER = r"(?:sudo\s+)?(?:env\s+)?(?:/\S*/)?(?:(?:ba|z|da|k)?sh|python[\d.]*|perl|ruby|node)\b"
_PIPE_SHELL = rx.compile(
    r"(?:curl|wget)\s[^\n]*?\|\s*" + _RUNNER + r"|"
    r"(?:" + _RUNNER + r"|source|eval|\.)\s+(?:-c\s+)?[\"']?(?:<|\$)\(\s*(?:curl|wget)\b"
)
_ABS_PATH = rx.compile(
    r"^(?:/home/|/data\d*/|/mnt/|/nfs/|/scratch/|/Users/|/media/|/share/|"
    r"/gpfs/|/raid/|/disk\d*/|/ssd/|/hdd/|/work/|[A-Za-z]:\\\\?)"
)
_CPU_PATH = rx.compile(
    r"cuda\.is_available|torch\.device\(|['\"]cpu['\"]|map_location|"
    r"device\s*=|--cpu|no_cuda|use_cuda|--gpu",
    rx.I,
)


def _pickle_risks(ctx: Context, risks: list[Risk]) -> None:
    """Every file is sniffed for pickles by content (names lie); containers are opened."""
    deadline = min(ctx.deadline, time.monotonic() + pickles.RUN_SECONDS)
    extra, more = _unlisted(ctx.snap)
    names = pickles.repo_names(_tree_names(ctx.snap.root))
    foreign = {f.path for f in ctx.snap.linked_out}
    if more:
        risks.append(
            _unverified(
                None,
                f"over {_MAX_UNLISTED:,} files or {_MAX_UNLISTED_BYTES >> 20} MiB of paths past "
                "the file list's cut, not probed",
            )
        )
    with FolderChain(ctx.snap.root) as chain:
        sweep = _PickleSweep(ctx, chain, deadline, names, risks, _shadows(ctx))
        sweep.eol = gitattrs.read(ctx.snap)
        store = {id(f) for f in ctx.snap.store}
        for entry in ctx.snap.probe_files:
            if entry.alias:
                continue  # its target is probed by content; a flagged one names its links
            sweep.file(entry, foreign=entry.path in foreign, in_store=id(entry) in store)
        for entry in extra:
            sweep.file(entry, listed=False)
    ctx.memo["loader_texts"] = sweep.texts
    shelves = _shelve_values(ctx, deadline, names, risks)
    risks += shelves
    sweep.plain = [p for p in sweep.plain if p not in {r.path for r in shelves}]
    by_target: dict[str, list[str]] = {}
    for link, target in ctx.snap.links.items():
        by_target.setdefault(target, []).append(link)
    risks[:] = [_with_aliases(r, by_target) for r in risks]
    risks += _plain_pickles_risk(sweep.plain, sweep.unwalked)
    risks += _absent_content(ctx)


# git-annex commits each annexed file as a link into .git/annex/objects (its content arrives
# with `git annex get`); DVC commits `x.dvc` (content with `dvc pull`).
_ANNEX_TARGET = rx.compile(r"(?:^|/)\.git/annex/objects/")
_DVC_OUT = rx.compile(r"(?m)^\s*(?:-\s+)?path:\s*['\"]?([^'\"\n]{1,300})")


def _dvc_outs(text: str) -> list[str]:
    """The `outs` paths of an `x.dvc` file or of every stage of a dvc.lock (never its
    `deps`); by their lines when the YAML does not parse."""
    try:
        data = safeyaml.load(text)
    except (safeyaml.YamlLimitError, yaml.YAMLError):
        return [m.group(1).strip() for m in _DVC_OUT.finditer(text)]
    if not isinstance(data, dict):
        return []
    groups = [data.get("outs")]
    stages = data.get("stages")
    if isinstance(stages, dict):
        groups += [st.get("outs") for st in list(stages.values())[:200] if isinstance(st, dict)]
    return [
        str(o["path"])
        for group in groups
        if isinstance(group, list)
        for o in group[:200]
        if isinstance(o, dict) and isinstance(o.get("path"), str)
    ]


_MAX_DVC_BYTES = 256 << 10


def _absent_content(ctx: Context) -> list[Risk]:
    """Files whose content another tool fetches later, like a Git LFS pointer: not in the
    checkout, so NOT verified (an error, as an unread file is)."""
    out: list[Risk] = []
    if ctx.snap.tracked_absent_count:
        names = ", ".join(ctx.snap.tracked_absent[:5])
        more = ctx.snap.tracked_absent_count - min(5, len(ctx.snap.tracked_absent))
        out.append(
            Risk(
                "tracked-absent",
                "error",
                f"{ctx.snap.tracked_absent_count:,} file(s) git tracks are not in the working "
                f"tree (a sparse checkout, or deleted without a commit) and were NOT verified: "
                f"{names}{f' and {more:,} more' if more > 0 else ''}. Run `git sparse-checkout "
                "disable` (or `git checkout -- .`), then vet again before loading them",
                ctx.snap.tracked_absent[0],
            )
        )
    out += _checkpoints_linked_out(ctx.snap.links_out)
    for link, target in list(ctx.snap.links.items())[:100_000]:
        if _ANNEX_TARGET.search(target) and ctx.snap.get(target) is None:
            out.append(
                Risk(
                    "annex-pointer",
                    "error",
                    "git-annex file: its content is not in the clone and was NOT verified "
                    "(run `git annex get`, then vet again before loading it)",
                    link,
                )
            )
    for fe in ctx.snap.files:
        # `x.dvc` files, and a pipeline's dvc.lock (its stages' `outs`): `dvc pull` brings both.
        if fe.suffix != ".dvc" and fe.name != "dvc.lock":
            continue
        if fe.size > _MAX_DVC_BYTES:
            # Not read: the outputs it names are unknown, and `dvc pull` brings them unread.
            out.append(
                Risk(
                    "dvc-pointer",
                    "error",
                    f"DVC file over {_MAX_DVC_BYTES >> 10} KiB, not read: the outputs `dvc pull` "
                    "brings for it were NOT verified (pull them, then vet again before loading)",
                    fe.path,
                )
            )
            continue
        folder = fe.path.rsplit("/", 1)[0] + "/" if "/" in fe.path else ""
        for out_path in _dvc_outs(ctx.snap.read_text(fe.path) or "")[:50]:
            out.append(
                Risk(
                    "dvc-pointer",
                    "error",
                    f"DVC output {out_path!r} ({fe.path}): its content is not in the clone and "
                    "was NOT verified (run `dvc pull`, then vet again before loading it)",
                    folder + out_path,
                )
            )
    return out


# A symlink that leaves the tree hands whatever reads it a file forkvet never read (`model.pt
# -> ~/.cache/…/x.pt`, `model.skops -> ../other-fork/model.skops`, any file on the runner).
# forkvet reads every file of the tree by content whatever its name (pickles, YAML tags,
# configs, archives), so a link standing in for any of them is NOT verified, an error: no list
# of checkpoint suffixes decides (outside attack, round 18a F9). Nor does a list of harmless
# names: the link's own name says nothing about what reads through it (round 19a F4:
# `weights.md -> /outside/dir` read as `torch.load("weights.md/model.pt")`, `banner.png ->
# /outside/evil.pkl` read by `torch.load`), so every link whose target forkvet did not vet is
# the error, whatever it is named. (Of the labelled real repositories none links a
# document or an image out of its tree; rbgirshick/rcnn's dataset folders were errors already.)
def _checkpoints_linked_out(links_out: list[str]) -> list[Risk]:
    if not links_out:
        return []
    named = links_out
    shown = ", ".join(named[:5]) + (f" and {len(named) - 5:,} more" if len(named) > 5 else "")
    return [
        Risk(
            "link-outside",
            "error",
            f"{len(named):,} symlink(s) point outside the repository, so a loader or script "
            f"reading them would read files forkvet never looked at (NOT verified): {shown}. "
            "Replace them with the files themselves, or check what they point to before "
            "loading anything through them",
            named[0],
        )
    ]


# dbm.dumb (what shelve uses where no gdbm/ndbm is built in) keeps X.dir, one
# `'key', (offset, size)` line per value, and X.dat, the pickles at those offsets (each at a
# 512-byte boundary, NUL bytes between): `shelve.open("X")["key"]` unpickles from the offset,
# which a walk from the file's start never reaches.
_MAX_SHELVE_VALUES = 10_000
_MAX_SHELVE_VALUE = 64 << 20


def _shelve_values(
    ctx: Context, deadline: float, names: frozenset[str], found: list[Risk]
) -> list[Risk]:
    """Every value a dbm.dumb shelve's directory points at in its data file, scanned as the
    pickle shelve reads there. A directory not read to its end (too large, a line too long
    to parse, no time left) leaves its data file NOT verified, an error (round 16)."""
    flagged = {r.path for r in found if r.kind in _PICKLE_ERRORS}
    out: list[Risk] = []
    probed = {f.path for f in ctx.snap.probe_files}  # skipped folders' files (and links) too
    for d in ctx.snap.probe_files:
        if not d.path.endswith(".dir"):
            continue
        pag = d.path[: -len(".dir")] + ".pag"
        if pag in probed and pag not in flagged:  # ndbm's pair, a format read by no magic
            out.append(_unverified(pag, "an ndbm database (beside its .dir) that is not read"))
        dat = d.path[: -len(".dir")] + ".dat"
        if dat in flagged or dat not in probed:
            continue
        try:
            text = _dir_text(ctx, d.path)
        except OSError as exc:
            text, why = None, _why(exc)
        else:
            why = f"over {_MAX_DIR_BYTES >> 20} MiB"
        spans, unread = ([], why) if text is None else _dumb_spans(text, deadline)
        if unread is not None:
            out.append(_unverified(dat, f"its shelve directory {d.path} was not read: {unread}"))
        elif spans:
            out += _shelve_risks(ctx, dat, spans, deadline, names)
    return out


_MAX_DIR_BYTES = 4 << 20
# A directory line is `'key', (offset, size)`: longer ones (a padded key, a trailing comment)
# are parsed up to this length, and past it leave the shelve not verified.
_MAX_DIR_LINE = 64 << 10


def _dumb_spans(
    text: str, deadline: float | None = None
) -> tuple[list[tuple[int, int]], str | None]:
    """(offset, size) of every line of a .dir file, read as dbm.dumb reads it: a Python
    literal (`'key', (512, 71)`, and any other spelling literal_eval takes: hex, `_`, a
    comment), never by a pattern of its usual form (outside attack, round 15), after the
    whitespace dbm.dumb (`rstrip`) and literal_eval (leading spaces) drop (round 16); and why
    the rest was not read, or None."""
    spans: list[tuple[int, int]] = []
    lines = text.splitlines()
    if len(lines) > _MAX_SHELVE_VALUES:
        return spans, f"over {_MAX_SHELVE_VALUES:,} lines"
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if len(line) > _MAX_DIR_LINE:
            return spans, f"a line of {len(line):,} characters"
        if deadline is not None and time.monotonic() > deadline:
            return spans, "the time budget for scanning pickles was spent"
        try:
            _key, pair = ast.literal_eval(line)
            offset, size = pair
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(offset, int) and isinstance(size, int) and offset >= 0 and size >= 0:
            spans.append((offset, size))
    return spans, None


def _dir_text(ctx: Context, path: str) -> str | None:
    """A .dir file as dbm.dumb reads it (Latin-1), also where the file list skipped it; None
    when it is over _MAX_DIR_BYTES (OSError when it cannot be read now)."""
    with ctx.snap.open(path) as fh:
        raw = fh.read(_MAX_DIR_BYTES + 1)
    return None if len(raw) > _MAX_DIR_BYTES else raw.decode("latin-1")


def _shelve_risks(
    ctx: Context, dat: str, spans: list[tuple[int, int]], deadline: float, names: frozenset[str]
) -> list[Risk]:
    try:
        with ctx.snap.open(dat) as fh:
            for offset, size in spans[:_MAX_SHELVE_VALUES]:
                if size > _MAX_SHELVE_VALUE:
                    return [_unverified(dat, f"a shelve value of {size:,} bytes at {offset:,}")]
                fh.seek(offset)
                scan = pickles.scan_file(io.BytesIO(fh.read(size)), dat, deadline)
                if scan is None:
                    continue
                risk = _pickle_verdict(scan, names, _disowns(ctx))
                if risk is not None:
                    where = f" (the shelve value at byte {offset:,}, listed in its .dir file)"
                    return [dataclasses.replace(risk, message=risk.message + where)]
                if scan.unverified:
                    return [
                        _unverified(dat, f"shelve value at byte {offset:,}: {scan.unverified[0]}")
                    ]
    except OSError as exc:
        return [_unverified(dat, f"not read: {_why(exc)}")]
    if len(spans) > _MAX_SHELVE_VALUES:
        return [_unverified(dat, f"over {_MAX_SHELVE_VALUES:,} shelve values")]
    return []


def _with_aliases(risk: Risk, by_target: dict[str, list[str]]) -> Risk:
    """A flagged file that symlinks in the tree lead to is named by them too: a loader opens
    `models/model.pt`, which may be a link to `.git/w.bin` (outside attack, round 9)."""
    if not by_target or not risk.path or risk.kind not in _PICKLE_ERRORS:
        return risk
    path = risk.path
    aliases: list[str] = []
    cut = len(path)
    while cut > 0 and len(aliases) < 4:  # the file itself, then each folder above it
        aliases += [link + path[cut:] for link in by_target.get(path[:cut], [])[:4]]
        cut = path.rfind("/", 0, cut)
    if not aliases:
        return risk
    shown = ", ".join(sorted(aliases)[:3]) + (" and more" if len(aliases) > 3 else "")
    return dataclasses.replace(risk, message=f"{risk.message} Symlinks lead to it: {shown}.")


@dataclass
class _PickleSweep:
    """The pickle scan of a tree, file by file: risks as found, safe pickles collected for
    one line."""

    ctx: Context
    # Opens each file as `open_in_tree` does (no level a link, the inode the walk saw),
    # holding the current folder's levels open between files.
    chain: FolderChain
    deadline: float
    names: frozenset[str]
    risks: list[Risk]
    # safe-listed top-level modules the repository's own files shadow (see _shadows)
    shadows: dict[str, str] = field(default_factory=dict)
    # (device, inode) -> its scan: hard links are scanned once and reported by every name
    seen: dict[tuple[int, int], pickles.FileScan | None] = field(default_factory=dict)
    # (device, inode) of files with a hard link that may be outside the tree
    foreign: set[tuple[int, int]] = field(default_factory=set)
    plain: list[str] = field(default_factory=list)
    unwalked: dict[str, str] = field(default_factory=dict)  # plain file -> what was not walked
    # (file, texts inside it a loader may read as configs, hard-linked outside the tree)
    texts: list[tuple[str, list[loadertext.Text], bool]] = field(default_factory=list)
    # which files a Windows checkout writes with CRLF (git's attribute rules)
    eol: gitattrs.Attributes = field(default_factory=gitattrs.Attributes)

    def file(
        self, entry: FileEntry, listed: bool = True, foreign: bool = False, in_store: bool = False
    ) -> None:
        """Scan one file of the tree: `listed` when the walk saw it (then it must still be
        that file), `foreign` when it has hard links outside the tree (nothing of its
        content is quoted), `in_store` when it is inside a `.git` folder."""
        shown = entry.path

        def eol() -> str:
            return self.eol.mode(self.ctx.snap, entry, in_store)

        try:
            with self.chain.open(entry) as fh:
                scan, foreign = self._scan(shown, fh, listed, foreign, eol)
        except OSError as exc:
            # A file the walk saw and the probe cannot read now (replaced, made a link or a
            # FIFO, removed) was not looked at: what a loader gets there may import anything.
            self.risks.append(_unverified(shown, f"not read: {_why(exc)}"))
            return
        except Exception as exc:
            # By construction: whatever the walker trips on, this file is an error and the
            # sweep goes on (a 5,000-digit INT line once stopped the whole check).
            self.risks.append(_unverified(shown, f"the pickle scan failed ({type(exc).__name__})"))
            return
        if scan is None:
            return
        if scan.texts:  # read with the config rules once the Python is parsed (_yaml_risks)
            self.texts.append((shown, scan.texts, foreign))
        code = scan.code + _config_code(scan, self.names)
        for found in code[:3]:
            # Code a loader runs that is no pickle import (a Keras Lambda layer, a module in a
            # torch.package): an error, named without quoting the file's content (a member
            # name) when it may be someone else's.
            what = found if not foreign else dataformats.unquoted(found)
            self.risks.append(Risk("code-in-data", "error", f"{what}. Do not load it.", shown))
        if (code or scan.config_modules or scan.texts) and not (
            scan.pickles or scan.imports or scan.unverified
        ):
            return  # no pickle in it: not listed with the known-safe pickles
        if _never_loads(scan, self.names):
            return
        risk = _pickle_verdict(scan, self.names, _disowns(self.ctx)) or _shadowed(
            scan, self.names, self.shadows
        )
        if foreign:
            self._report_unquoted(scan, risk, shown)
            return
        if risk is not None:
            self.risks.append(risk)
        elif not scan.unverified:  # what was not fully read is no "known-safe" pickle
            self.plain.append(shown)
            if note := _unwalked(scan):
                self.unwalked[shown] = note
        for reason in scan.unverified[:3]:
            self.risks.append(_unverified(shown, reason))

    def _scan(
        self, shown: str, fh: BinaryIO, listed: bool, foreign: bool, eol: Callable[[], str]
    ) -> tuple[pickles.FileScan | None, bool]:
        """(the scan, None when the file holds no pickle: too small, or a Git LFS pointer (a
        risk of its own); whether the file has hard links that may be outside the tree)."""
        st = os.fstat(fh.fileno())
        key = (st.st_dev, st.st_ino)
        # Past the file list's cut a file's other names are unknown: any may be outside.
        if foreign or (not listed and st.st_nlink > 1):
            self.foreign.add(key)
        foreign = key in self.foreign
        if st.st_size < 2:
            return None, foreign
        if key in self.seen:  # hard links: one scan, every name reported
            cached = self.seen[key]
            return (dataclasses.replace(cached, path=shown) if cached else None), foreign
        head = fh.read(_LFS_HEAD)
        if head.startswith(_ANNEX_POINTER):
            # git-annex's pointer file for an unlocked file (v6+, adjusted branches, file
            # systems without links): `git annex get` brings the content.
            self.risks.append(
                Risk(
                    "annex-pointer",
                    "error",
                    "git-annex pointer: the file's content is not in the clone and was NOT "
                    "verified (run `git annex get`, then vet again before loading it)",
                    shown,
                )
            )
            return None, foreign
        if head.startswith(_LFS_VERSIONS):
            self.risks.append(
                # What a `git lfs pull` brings was never looked at: not verified, an error like
                # any other unread content (outside attack, round 6: a checkpoint in LFS).
                Risk(
                    "lfs-pointer",
                    "error",
                    "Git LFS pointer: the file's content is not in the clone and was NOT verified "
                    "(run `git lfs pull`, then vet again before loading it)",
                    shown,
                )
            )
            return None, foreign
        fh.seek(0)
        scan = pickles.scan_file(fh, shown, self.deadline, eol)
        self.seen[key] = scan
        return scan, foreign

    def _report_unquoted(self, scan: pickles.FileScan, risk: Risk | None, shown: str) -> None:
        """A file with hard links outside the tree may be someone's private file: its
        verdict is reported, but no import, member name or reason read from it."""
        if risk is not None:
            self.risks.append(
                Risk(
                    risk.kind,
                    "error",
                    "Pickle imports callables that run when loaded (not named: the file has hard "
                    "links outside the repository, so nothing of its content is quoted). Do not "
                    "load it.",
                    shown,
                )
            )
        elif not scan.unverified:
            self.plain.append(shown)
        if scan.unverified:
            self.risks.append(_unverified(shown, "the scan stopped before the end"))


def _shadows(ctx: Context) -> dict[str, str]:
    """Safe-listed modules a loader would import from the repository instead: `argparse.py`
    or `numpy/__init__.py` in a folder a loader runs from (the root: `python -c`, `python -m`,
    a notebook; or a folder holding a script or notebook, which Python puts first on sys.path).
    __import__ takes the first it finds, so a safe name then runs the repository's code."""
    found: dict[str, list[tuple[str, str]]] = {}  # top -> (folder it is found from, file)
    for f in ctx.snap.files:
        *folders, name = f.path.split("/")
        init = name.split(".", 1)[0] == "__init__" and name.endswith(pickles.MODULE_SUFFIXES)
        if init and folders and folders[-1] in pickles.SAFE_TOPS:
            # a package: `argparse/__init__.py`, or a sourceless `__init__.pyc` or `.so`
            found.setdefault(folders[-1], []).append(("/".join(folders[:-1]), f.path))
        elif name.endswith(pickles.MODULE_SUFFIXES) and name.split(".", 1)[0] in pickles.SAFE_TOPS:
            found.setdefault(name.split(".", 1)[0], []).append(("/".join(folders), f.path))
    out: dict[str, str] = {}
    for top, where in found.items():
        runnable = [path for folder, path in where if folder == "" or _runs_from(ctx, folder, path)]
        if runnable:
            out[top] = runnable[0]
    return out


def _runs_from(ctx: Context, folder: str, shadow: str) -> bool:
    """Any Python file or notebook in this folder: run there (`python app.py`, `streamlit run`,
    pytest's rootdir insertion, a notebook's kernel), that folder heads sys.path. A `__main__`
    guard is not needed for a file to be run (outside attack, round 15)."""
    for f in ctx.snap.files:
        here = "/" in f.path and f.path.rsplit("/", 1)[0] == folder and f.path != shadow
        if here and f.suffix in (".py", ".ipynb"):
            return True
    return False


def _shadowed(
    scan: pickles.FileScan, names: frozenset[str], shadows: dict[str, str]
) -> Risk | None:
    """An error when a safe-listed import of this pickle resolves to the repository's own file."""
    if not shadows:
        return None
    hit = sorted(g for g in pickles.live_imports(scan, names) if g[0].split(".", 1)[0] in shadows)
    if not hit:
        return None
    module, name = hit[0]
    mine = shadows[module.split(".", 1)[0]]
    return Risk(
        "unsafe-pickle",
        "error",
        f"Pickle imports {module}.{name}, and the repository holds {mine} (a module or package "
        f"of that name where a loader starts): loaded from there, Python imports the "
        f"repository's file instead, and runs it. Do not load it from the repository.",
        scan.path,
    )


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _config_code(scan: pickles.FileScan, names: frozenset[str]) -> list[str]:
    """A Keras config naming a module that is neither Keras's nor the repository's own
    (outside attack, round 17a F12: `{"module": "os", "class_name": "function", "config":
    "system"}` ran os.system at load_model, safe_mode=True)."""
    rule = dataformats.module_rule()
    out = []
    for where, modules in scan.config_modules.items():
        foreign = sorted(m for m in modules if m.split(".", 1)[0] not in names)
        if rule is not None and foreign:
            shown = ", ".join(foreign[:3])
            what = f"{rule['message']} ({shown})"
            out.append(f"{where}: {what}" if where else what)
    return out


def _unwalked(scan: pickles.FileScan) -> str:
    """What of the file the known-safe claim is not about: the bytes after its last pickle
    that are no pickle (outside attack, round 17a F4)."""
    for where, (walked, rest) in scan.unwalked.items():
        if where.startswith(pickles.CRLF_CHECKOUT):
            continue
        inside = f" of {where}" if where else ""
        after = f"the {rest:,} bytes after them" if rest else "the bytes after them"
        return (
            f" (its pickles are the first {walked:,} bytes{inside}; {after} are no pickle "
            f"and were not walked)"
        )
    return ""


def _plain_pickles_risk(plain: list[str], unwalked: dict[str, str] | None = None) -> list[Risk]:
    if not plain:
        return []
    unwalked = unwalked or {}
    shown = [p + unwalked.get(p, "") for p in plain[:3]]
    later = sum(1 for p in plain[3:] if p in unwalked)
    more = (
        f"; {later} more of them hold bytes after their pickles that were not walked"
        if later
        else ""
    )
    return [
        Risk(
            "pickle-checkpoint",
            "notice",
            f"{len(plain)} pickle-based file(s) with only known-safe imports; "
            f"still load them with torch.load(weights_only=True): "
            f"{', '.join(shown)}{more}",
            plain[0],
        )
    ]


_MAX_UNLISTED = 500_000
_MAX_UNLISTED_BYTES = 32 << 20  # of their paths: memory bounded whatever a path's length


_MAX_TREE_NAMES = 500_000


def _tree_names(root: Path) -> Iterator[str]:
    """Every path in the tree as the file system names it (not as shown: `ev\\il.py` is
    shown escaped), symlinks and skipped folders included: __import__ finds a module by any
    of them (`helpers.py -> notes.txt` imports). Only .git is left out; bounded. Yielded one
    at a time: 150,000 paths of 4 KB are never held at once."""
    count = 0
    for top, dirs, files in fstree.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d != ".git"]
        rel = os.path.relpath(top, root)
        for name in [*dirs, *files]:
            yield name if rel == "." else f"{rel}/{name}"
            # symlinked folders are in dirs but not walked (followlinks=False)
        count += len(dirs) + len(files)
        if count >= _MAX_TREE_NAMES:
            return


def _unlisted(snap: Snapshot) -> tuple[list[FileEntry], bool]:
    """The regular files past the file list's count cut, and whether there were more than
    _MAX_UNLISTED. A loader reads them like any other file, `.git` folders included."""
    if not snap.truncated:
        return [], False
    root = os.fsencode(snap.root)
    listed = {f.disk or os.fsencode(f.path) for f in snap.probe_files}
    out: list[FileEntry] = []
    kept = 0
    stack = [b""]
    while stack:
        rel = stack.pop()
        try:
            # Streamed, never listed whole: a folder of 150,000 long names would hold every
            # entry's full path at once.
            entries = os.scandir(os.path.join(root, rel) if rel else root)
        except OSError:
            continue
        with entries:
            found, more = _unlisted_in(entries, rel, listed, out, stack, kept)
        kept = found
        if more:
            return out, True
    return out, False


def _unlisted_in(
    entries: Iterator[os.DirEntry[bytes]],
    rel: bytes,
    listed: set[bytes],
    out: list[FileEntry],
    stack: list[bytes],
    kept: int,
) -> tuple[int, bool]:
    """One folder's files past the cut, into `out`; (path bytes kept, whether a bound hit)."""
    for e in entries:
        sub = os.path.join(rel, e.name) if rel else e.name
        if e.is_symlink():
            continue  # never followed (the file list's rule)
        if e.is_dir(follow_symlinks=False):
            stack.append(sub)
        elif e.is_file(follow_symlinks=False) and sub not in listed:
            kept += len(sub)
            if len(out) >= _MAX_UNLISTED or kept > _MAX_UNLISTED_BYTES:
                return kept, True
            out.append(FileEntry(shown_name(sub), 0, sub))
    return kept, False


def _never_loads(scan: pickles.FileScan, names: frozenset[str]) -> bool:
    """Opcodes whose only imports name nothing any loader can import (text that spells a
    GLOBAL, `changes\n=======\n`), or that no loader gets to call (see live_imports):
    every loader fails there, before running anything."""
    every = {g for found in scan.imports.values() for g in found}
    return bool(every) and not scan.unverified and not pickles.live_imports(scan, names)


def _unverified(path: str | None, reason: str) -> Risk:
    # What was not looked at may import anything: an error, like a dangerous pickle (the
    # operator's risks.fail_on_dangerous_pickle: false makes both warnings).
    return Risk(
        "pickle-unverified",
        "error",
        f"Pickle data NOT verified ({reason}): treat it as dangerous and do not load it",
        path,
    )


def _disowns(ctx: Context) -> Callable[[str], bool]:
    """Whether a dotted name of one of the tree's modules is, by what the module's source
    binds it to, no own code (configtargets.OwnModules.disowns; round 20a F8)."""
    if "own_modules" not in ctx.memo:
        ctx.memo["own_modules"] = configtargets.OwnModules(ctx.snap, set())
    own: configtargets.OwnModules = ctx.memo["own_modules"]
    return own.disowns


def _pickle_verdict(
    scan: pickles.FileScan,
    repo_names: frozenset[str],
    disowns: Callable[[str], bool] = lambda _: False,
) -> Risk | None:
    """dangerous-pickle (imports that are no model class: see pickles.model_class, and a
    name of the tree's own module that the module binds to something else: `Net =
    subprocess.Popen` after `class Net`, round 20a F8) or unsafe-pickle (only the
    repository's own or a model library's classes: loading runs that code too); None when
    every import only rebuilds data. The message names the whole set of imports (past five,
    by a digest), so a fingerprint naming it pins that set."""
    unsafe = {g for g in pickles.live_imports(scan, repo_names) if not pickles.is_safe(*g)}
    if not unsafe:
        return None
    dangerous = pickles.dangerous(unsafe, repo_names)
    dangerous |= {g for g in unsafe - dangerous if disowns(f"{g[0]}.{g[1]}")}
    shown = dangerous or unsafe
    inside = _inside(scan, shown)
    names = _import_names(unsafe, shown)
    if dangerous:
        return Risk(
            "dangerous-pickle",
            "error",
            f"Pickle imports code that runs when loaded: {names}{inside}. Do not load it.",
            scan.path,
        )
    return Risk(
        "unsafe-pickle",
        "error",
        f"Pickle imports callables that are not on the safe list, and loading it runs them: "
        f"{names}{inside}. Load only what you trust, or re-save the weights as a state_dict "
        f"or safetensors.",
        scan.path,
    )


def _import_names(every: set[tuple[str, str]], shown: set[tuple[str, str]]) -> str:
    """The first five of `shown`; past them, how many more and a digest of every import."""
    names = sorted(f"{m}.{n}" for m, n in shown)
    text = ", ".join(names[:5])
    if len(names) > 5 or len(every) > len(shown):
        import hashlib

        digest = hashlib.sha256("\n".join(sorted(f"{m}.{n}" for m, n in every)).encode())
        more = len(every) - min(len(names), 5)
        text += f" and {more} more (imports {digest.hexdigest()[:12]})"
    return text


def _inside(scan: pickles.FileScan, shown: set[tuple[str, str]]) -> str:
    """Where those imports are, the committed form's members before the CRLF checkout's:
    a CRLF checkout is named only for imports the committed bytes do not hold (round 17a
    F5), and the file itself is never named by an empty member name."""
    crlf = pickles.CRLF_CHECKOUT
    where = {w: found & shown for w, found in scan.imports.items() if found & shown}
    committed = set().union(*(f for w, f in where.items() if not w.startswith(crlf)))
    places = sorted(
        w for w, f in where.items() if w and not (w.startswith(crlf) and f <= committed)
    )
    return f" (in {', '.join(places[:3])})" if places else ""


def _call_name(node: ast.Call) -> str:
    fn = node.func
    if isinstance(fn, ast.Attribute):
        base = fn.value.id if isinstance(fn.value, ast.Name) else ""
        return f"{base}.{fn.attr}" if base else f".{fn.attr}"
    return fn.id if isinstance(fn, ast.Name) else ""


# PyYAML's loaders that construct Python objects: what a `!!python/...` tag names runs.
_YAML_LOADS = ("yaml.load", "yaml.load_all")
_YAML_UNSAFE_CALLS = ("yaml.unsafe_load", "yaml.unsafe_load_all")
_YAML_UNSAFE_LOADERS = frozenset({"Loader", "UnsafeLoader", "CLoader", "CUnsafeLoader"})
YAML_UNSAFE = (
    "{} with an unsafe Loader runs the code a `!!python/...` tag in the YAML names; "
    "use yaml.safe_load"
)


def _unsafe_yaml_loader(node: ast.Call) -> bool:
    loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
    if loader is None and len(node.args) >= 2:
        loader = node.args[1]
    if isinstance(loader, ast.Attribute):
        return loader.attr in _YAML_UNSAFE_LOADERS
    return isinstance(loader, ast.Name) and loader.id in _YAML_UNSAFE_LOADERS


def _dotted(fn: ast.expr) -> str:
    """`a.b.c` for a chain of names, `.c` when the chain starts elsewhere (a call)."""
    parts: list[str] = []
    while isinstance(fn, ast.Attribute):
        parts.append(fn.attr)
        fn = fn.value
    if isinstance(fn, ast.Name):
        parts.append(fn.id)
    elif parts:
        parts.append("")
    return ".".join(reversed(parts))


def import_aliases(nodes: list[ast.AST]) -> dict[str, str]:
    """The module or object each name a file's imports bind stands for, as the import
    resolves it (`from torch import hub` → hub: torch.hub; `import torch.hub as th` → th:
    torch.hub; `from torch.hub import load` → load: torch.hub.load). Flow-insensitive: a
    name bound twice keeps the last binding walked."""
    out: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _resolved(dotted: str, aliases: Mapping[str, str]) -> str:
    head, dot, rest = dotted.partition(".")
    full = aliases.get(head)
    return f"{full}{dot}{rest}" if full else dotted


def _call_risk(
    node: ast.Call, aliases: Mapping[str, str] | None = None
) -> tuple[str, str, str] | None:
    """(kind, severity, message) of a risky call, or None. A call is judged by the name its
    file's imports resolve it to (`aliases`, from import_aliases), then as spelled."""
    name = _call_name(node)
    kws = {k.arg for k in node.keywords}
    # Loaders that run code stored in data (forkvet/data/loaders.json), by the call's
    # dotted name and its keywords' constant values (`...` where not a constant).
    values = {
        k.arg: k.value.value if isinstance(k.value, ast.Constant) else ...
        for k in node.keywords
        if k.arg
    }
    first = node.args[0] if node.args else None
    spelled = _dotted(node.func)
    found = None
    for dotted in dict.fromkeys((_resolved(spelled, aliases or {}), spelled)):
        found = found or dataformats.call_risk(
            dotted, values, first.value if isinstance(first, ast.Constant) else ...
        )
    if found:
        return found
    if name == "yaml.load" and "Loader" not in kws and len(node.args) < 2:
        return "yaml-load", "warning", YAML_LOAD
    if name in _YAML_UNSAFE_CALLS or (name in _YAML_LOADS and _unsafe_yaml_loader(node)):
        return "yaml-load", "warning", YAML_UNSAFE.format(name)
    if name in ("eval", "exec") and node.args and not isinstance(node.args[0], ast.Constant):
        return "eval", "warning", EVAL.format(name)
    for kw in node.keywords:
        if (
            kw.arg == "trust_remote_code"
            and isinstance(kw.value, ast.Constant)
            and kw.value.value is True
        ):
            return "trust-remote-code", "warning", REMOTE_CODE
    return None


def analyze_file(f: PyFile, tree: ast.Module, nodes: list[ast.AST]) -> None:
    """Per-file analyzer: risky calls, absolute paths and .cuda() calls, with line numbers."""
    calls: list[tuple[str, str, str, int]] = []
    abs_paths: list[tuple[int, str]] = []
    cuda: list[int] = []
    aliases = import_aliases(nodes)
    for node in nodes:
        if isinstance(node, ast.Call):
            risk = _call_risk(node, aliases)
            if risk:
                calls.append((*risk, node.lineno))
            if _call_name(node).endswith(".cuda"):
                cuda.append(node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and len(node.value) < 300
            and _ABS_PATH.match(node.value)
        ):
            abs_paths.append((getattr(node, "lineno", 0), node.value))
    f.facts["risks"] = (calls, abs_paths, cuda)
    # What a Python config names for its loader to call (round 20a F3): judged in _yaml_risks.
    f.facts["config_refs"] = configformats.python_references(nodes, aliases)


# Code forkvet does not vet as the repository's source: package archives (installing one runs
# whatever it holds) and `.pth` files, whose `import` lines run at every start of an
# interpreter that has them in site-packages.
_ARCHIVES = (".whl", ".egg")
# Python runs code from any zip: a zipapp (`python tool.pyz`) or any zip archive put on
# sys.path (zipimport). Those are named like package archives.
_ZIPAPPS = (".pyz", ".pyzw")
_ZIP_CODE = (".py", ".pyw", ".pyc", ".so", ".pyd")
_PTH_IMPORT = rx.compile(r"(?m)^[ \t]*import[ \t]")
_MAX_ARCHIVES = 50
_MAX_ZIPS = 200  # zip archives opened to look for Python modules
_MAX_SNIFFED = 5000
_NOT_ZIP_WORDS = (
    ".py .md .txt .json .yaml .yml .png .jpg .jpeg .gif .svg .ipynb .csv .tsv .rst .html "
    ".js .css .c .cc .cpp .h .hpp .cu .sh .toml .cfg .ini .tex .bib .pdf"
)
_NOT_ZIP = frozenset(_NOT_ZIP_WORDS.split())


def _code_zips(ctx: Context) -> list[tuple[str, list[str]]]:
    """(path, Python members) of committed zipapps and of zip archives (by name or by magic)
    holding Python modules."""
    out: list[tuple[str, list[str]]] = []
    opened = sniffed = 0
    for f in ctx.snap.files:
        if f.suffix in _ARCHIVES or len(out) >= _MAX_ARCHIVES or opened >= _MAX_ZIPS:
            continue
        if f.suffix not in _ZIPAPPS and f.suffix != ".zip":
            # zipimport reads any file by its content: others are sniffed (text and images
            # not, and a bounded number).
            if f.suffix in _NOT_ZIP or f.size < 22 or sniffed >= _MAX_SNIFFED:
                continue
            sniffed += 1
            try:
                with ctx.snap.open(f.path) as fh:
                    if fh.read(4) != b"PK\x03\x04":
                        continue
            except OSError:
                continue
        opened += 1
        # Each open is bounded (containers.open_zip); past the run's deadline none is opened,
        # and the archive is named as one whose members were not listed.
        members = (
            None
            if time.monotonic() > ctx.deadline
            else _zip_members(ctx, f.path, (*_ZIP_CODE, "constants.pkl"))
        )
        if members is None:  # not listed: may hold anything (its pickle scan says so too)
            out.append((f.path, [_UNLISTED]))
            continue
        if any(m.endswith("constants.pkl") for m in members):
            continue  # a TorchScript archive (its code/ is TorchScript): an error of its own
        if members or f.suffix in _ZIPAPPS:
            out.append((f.path, members))
    return out


_UNLISTED = "members forkvet did not list (its directory is past forkvet's bounds, or time ran out)"


def _package_archives(ctx: Context) -> list[Risk]:
    out: list[Risk] = []
    for path, members in _code_zips(ctx):
        named = ", ".join(members[:3]) + (" and more" if len(members) > 3 else "")
        holds = f" It holds {named}." if members else ""
        out.append(
            Risk(
                "package-archive",
                "warning",
                f"A zip archive of Python code committed to the repository: Python runs its "
                f"modules when it is run (`python {path.rsplit('/', 1)[-1]}`) or put on sys.path "
                f"(zipimport), and forkvet did not vet that code (only its pickles were probed)."
                f"{holds} Use the project's source instead.",
                path,
            )
        )
    archives = [f for f in ctx.snap.files if f.suffix in _ARCHIVES][:_MAX_ARCHIVES]
    for f in archives:
        pth = _pth_members(ctx, f.path) if time.monotonic() <= ctx.deadline else [_UNLISTED]
        runs = (
            f" Its {', '.join(pth[:3])} runs at every interpreter start once installed."
            if pth and pth != [_UNLISTED]
            else f" It holds {_UNLISTED}."
            if pth
            else ""
        )
        out.append(
            Risk(
                "package-archive",
                "warning",
                f"A package archive committed to the repository: installing it runs code forkvet "
                f"did not vet (only its pickles were probed).{runs} Install the project from its "
                "source or a trusted index instead.",
                f.path,
            )
        )
    for f in ctx.snap.files:
        if f.suffix == ".pth" and f.size <= 1 << 20:
            text = ctx.snap.read_text(f.path) or ""
            m = _PTH_IMPORT.search(text)
            if m:
                out.append(
                    Risk(
                        "pth-import",
                        "warning",
                        "A .pth file with `import` lines: copied into a site-packages folder (an "
                        "install, a setup script), they run at every interpreter start.",
                        f.path,
                        text.count("\n", 0, m.start()) + 1,
                    )
                )
    return out


def _zip_members(ctx: Context, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
    """The names of a zip archive's members with these suffixes; None when its directory is
    past the bounds zipfile is given it under (containers.open_zip): not listed."""
    import zipfile

    try:
        with ctx.snap.open(path) as fh, containers.open_zip(fh) as zf:
            return [
                shown_name(i.filename)
                for i in zf.infolist()
                if i.filename.lower().endswith(suffixes) and not i.is_dir()
            ]
    except containers.ContainerBound:
        return None
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError):
        return []


# PyYAML's loaders that build Python objects (yaml.unsafe_load, Loader=yaml.Loader or
# UnsafeLoader, FullLoader before 5.4, plain yaml.load before 5.1) call what these tags name:
# `!!python/object/apply:os.system [...]`. Found by PyYAML's own scanner, with every tag
# resolved as its parser resolves it (`%TAG` handles, `!<...>` verbatim tags, %-escapes).
#
# Decided by content, never by name (outside attack, round 17a F1: the same bytes as
# `configs/resnet.cfg`, handed to yaml.load by the README's command, passed): every file is
# read as PyYAML's Reader reads it (UTF-16 by its BOM, else UTF-8), up to the first character
# that Reader refuses (a NUL, a control byte: nothing after it is ever constructed, so a binary
# file costs a few bytes), and searched for what a code tag needs. Only a file with that is
# handed to the scanner.
_YAML_CORE = "tag:yaml.org,2002:"
_YAML_CODE_TAGS = ("python/name:", "python/module:", "python/object")
_YAML_SUFFIXES = (".yaml", ".yml")
_MAX_YAML_BYTES = 2 << 20  # read with PyYAML's own (Python) scanner; larger, with libyaml's
# A file not read to its end (over _MAX_YAML_STREAM where a code tag may be, out of time) is
# NOT verified: an error when it is named .yaml/.yml or the repository names it (a command,
# an argparse default, an open() literal, a config value: what a loader may be handed), a
# notice for other text (round 16; round 17a).
_MAX_YAML_STREAM = 256 << 20
_YAML_FILE_SECONDS = 10.0
_YAML_SECONDS = 20.0  # all files of a run
# What a code tag needs: a `!` that starts a tag (at a line's start, after a space or a flow
# indicator), then within its first characters `python/` or a %-escape (`!!python/`,
# `!python/`, `!<tag:yaml.org,2002:python/`, `!!%70ython/`); or a %TAG directive (a handle
# whose prefix spells the rest: `%TAG !e! tag:yaml.org,2002:pyt` then `!e!hon/object`).
# A tag starts after a space, a flow indicator or a line break (PyYAML's breaks include NEL,
# U+2028 and U+2029); HyperPyYAML's `!new:`, `!name:`, `!apply:`… tags too (17a F13).
# (The search and the Reader's refused characters are loadertext's, which archive members and
# safetensors metadata go through too: one search for every text a loader reads.)
_YAML_CODE_NEED = loadertext.TAG_NEED
_YAML_REFUSED = loadertext.REFUSED
_YAML_WINDOW = 1 << 20
_YAML_HEAD = 4096  # the first read: most binary files stop PyYAML's Reader within it


class _YamlTimeout(Exception):
    pass


def _yaml_code_tag(tag: str) -> bool:
    for prefix in (_YAML_CORE, "!"):
        if tag.startswith(prefix) and tag[len(prefix) :].startswith(_YAML_CODE_TAGS):
            return True
    return False


def _yaml_tags(
    source: str | BinaryIO | _YamlText,
    loader: type = yaml.SafeLoader,
    deadline: float | None = None,
) -> Iterator[tuple[str, int]]:
    """(tag, line) of every tag a YAML text (or stream) spells, until the scanner stops;
    _YamlTimeout past the deadline."""
    handles = {"!": "!", "!!": _YAML_CORE}
    try:
        for n, token in enumerate(yaml.scan(source, Loader=loader)):
            if deadline is not None and not n & 0x3FF and time.monotonic() > deadline:
                raise _YamlTimeout
            if isinstance(token, yaml.DirectiveToken) and token.name == "TAG" and token.value:
                handle, prefix = token.value
                handles[handle] = prefix
            elif isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                tag = suffix if handle is None else handles.get(handle, handle) + suffix
                yield tag, token.start_mark.line + 1
    except (yaml.YAMLError, RecursionError, ValueError):
        return


class _YamlText:
    """A file's text as PyYAML's Reader gets it, read in windows: decoded as it decodes bytes
    (UTF-16 by its BOM, else UTF-8; a byte that is no UTF-8 as U+FFFD, as a text-mode open
    with errors="replace" or a one-byte codec would read on), and ended before the first
    character the Reader refuses. A stream object for yaml.scan (str from read())."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        head = fh.read(2)
        fh.seek(0)
        utf16 = head in (b"\xff\xfe", b"\xfe\xff")
        self._decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")("replace")
        self._pending = ""
        self._at = 0  # what of _pending was handed out
        self._first = True
        self.ended = False  # no more text: the file's end, or a refused character
        self.refused = False  # ended at a character the Reader refuses

    def window(self) -> str:
        """The next piece of text ("" at the end)."""
        if self.ended:
            return ""
        raw = self._fh.read(_YAML_HEAD if self._first else _YAML_WINDOW)
        self._first = False
        text = self._decoder.decode(raw, final=not raw)
        if not raw:
            self.ended = True
        bad = _YAML_REFUSED.search(text)
        if bad is not None:
            self.ended = self.refused = True
            text = text[: bad.start()]
        return text

    def read(self, size: int = -1) -> str:
        # The scanner asks for a few KiB at a time: handed out of the pending window by
        # position, never by copying what is left of it at each read.
        while not self.ended and (size < 0 or len(self._pending) - self._at < size):
            self._pending = self._pending[self._at :] + self.window()
            self._at = 0
        end = len(self._pending) if size < 0 else min(len(self._pending), self._at + size)
        out = self._pending[self._at : end]
        self._at = end
        return out


# OpenMMLab's config loader in use: its packages (their tools load `.py` configs), openmim.
_OPENMMLAB = rx.compile(
    r"\bmm(?:engine|cv|det|det3d|seg|pretrain|cls|pose|ocr|action|yolo|rotate|agic|edit|track)\b"
    r"|\bConfig\.fromfile\(|\bopenmim\b|\bmim[ \t]+(?:install|train|test|run)\b"
)
# A script that builds objects from configs: its folder is on sys.path when it runs.
# (A Python file naming targets is such a script too: `class_path` in a test of its own class.)
_INSTANTIATES = rx.compile(
    r"\binstantiate\(|\bhydra\b|\bOmegaConf\b|\bmmengine\b|\bLazyConfig\b|\bgin\b"
    r"|\bclass_path\b|\b_target_\b"
)


@dataclass
class _YamlScan:
    """One run's search of every file for YAML Python tags (see _YAML_CODE_NEED) and, in the
    same reading, for configs naming code to call (configtargets: Hydra `_target_`)."""

    ctx: Context
    deadline: float
    found: list[Risk] = field(default_factory=list)
    late: list[tuple[str, str]] = field(default_factory=list)  # (path, why) not read to the end
    seen: dict[tuple[int, int], list[Risk]] = field(default_factory=dict)
    _own: configtargets.OwnModules | None = None
    _resolvers: dict[str, str] | None = None
    _unproven: dict[str, tuple[str, bool]] | None = None
    _locators: dict[str, str] | None = None
    _by_target: dict[str, list[str]] | None = None  # in-tree link targets -> the links
    strings_left: float = _YAML_SECONDS  # seconds left to judge config strings (evalstrings)

    def file(self, f: FileEntry) -> None:
        key = (f.dev, f.ino)
        if f.ino and key in self.seen:  # an alias: the same content under another name
            self.found += [dataclasses.replace(r, path=f.path) for r in self.seen[key]]
            return
        if time.monotonic() > self.deadline:
            self.late.append((f.path, f"the {_YAML_SECONDS:.0f} s for YAML was spent"))
            return
        found: list[Risk] = []
        try:
            self._scan(f, found)
        except _YamlTimeout:
            self.late.append((f.path, "its time budget was spent"))
        except _YamlTooLarge:
            self.late.append((f.path, f"over {_MAX_YAML_STREAM >> 20} MiB"))
        except OSError as exc:
            self.late.append((f.path, f"not read: {_why(exc)}"))
        else:
            if f.ino:
                self.seen[key] = found
        self.found += found

    def resolvers(self) -> dict[str, str]:
        """OmegaConf resolvers the repository's code registers as eval/exec: name -> file."""
        if self._resolvers is None:
            self._resolvers = {}
            for py in self.ctx.py.files:
                if "resolver" in py.text:
                    for name in configtargets.eval_resolvers(py.text):
                        self._resolvers.setdefault(name, py.path)
        return self._resolvers

    def unproven(self) -> dict[str, tuple[str, bool]]:
        """OmegaConf resolvers registered with a function not proven safe: name -> (file,
        whether it runs code)."""
        if self._unproven is None:
            self._unproven = {}
            for py in self.ctx.py.files:
                for name, runs_code in configtargets.unproven_resolvers(py.text):
                    self._unproven.setdefault(name, (py.path, runs_code))
        return self._unproven

    def _openmmlab(self) -> bool:
        """Whether the repository loads configs with OpenMMLab's tools (its code, README or
        requirements name mmengine, mmcv, openmim or `Config.fromfile`)."""
        texts = [self.ctx.readme or "", *(py.text for py in self.ctx.py.files)]
        texts += [
            self.ctx.snap.read_text(f.path) or ""
            for f in self.ctx.snap.files
            if f.name.startswith("requirements") and f.size < 1 << 20
        ][:20]
        return any(_OPENMMLAB.search(t) for t in texts)

    def _main_defines(self, name: str) -> bool:
        """Whether a script of the repository (a file that can be `__main__`) defines name."""
        defines = rx.compile(rf"(?m)^(?:class|def|async[ \t]+def)[ \t]+{rx.escape(name)}\b")
        return any(defines.search(py.text) for py in self.ctx.py.files if "__main__" in py.text)

    def locators(self) -> dict[str, str]:
        """OmegaConf resolvers registered as a name locator (hydra.utils.get_method): name ->
        file."""
        if self._locators is None:
            self._locators = {}
            for py in self.ctx.py.files:
                for name in configtargets.locator_resolvers(py.text):
                    self._locators.setdefault(name, py.path)
        return self._locators

    def _interpolated(self, path: str, text: str) -> list[Risk]:
        """What the resolvers the code registers do with this config text."""
        return [
            *configtargets.eval_risks(path, text, self.resolvers()),
            *configtargets.unproven_risks(path, text, self.unproven()),
            *configtargets.locator_risks(self.ctx.snap, path, text, self.locators(), self.own()),
        ]

    def own(self) -> configtargets.OwnModules:
        if self._own is None:
            scripts = {
                py.path.rsplit("/", 1)[0] + "/"
                for py in self.ctx.py.files
                if "/" in py.path and _INSTANTIATES.search(py.text)
            }
            self._own = configtargets.OwnModules(self.ctx.snap, scripts)
        return self._own

    def _scan(self, f: FileEntry, found: list[Risk]) -> None:
        deadline = min(self.deadline, time.monotonic() + _YAML_FILE_SECONDS)
        found += self._named(f.path)
        with self.ctx.snap.open(f.path) as fh:
            size = os.fstat(fh.fileno()).st_size
            strings = _judged_strings(f)
            need = _needs(
                _YamlText(fh),
                deadline,
                size <= configtargets.MAX_CONFIG_BYTES,
                f.suffix in configtargets.TYPE_SUFFIXES,
                strings,
            )
            if need.interpolation and need.text is not None:
                found += self._interpolated(f.path, need.text)
            # Values a library's sink acts on (configsinks: env_set, dictConfig, fileConfig);
            # the lines of a subtree it judges are judged by that rule alone (round 21a).
            sinks = configsinks.Judged()
            if need.sink:
                sinks = self._sink_risks(f, need.text)
            if need.target is not None:
                if need.text is not None:
                    found += [
                        r
                        for r in configtargets.config_risks(
                            self.ctx.snap, f.path, need.text, self.own()
                        )
                        if not sinks.judged(r)
                    ]
                    if configtargets.unread_format(f.suffix, need.text):
                        found.append(
                            _config_unverified(f.path, "a syntax forkvet's readers refuse")
                        )
                elif "\\" not in need.target:  # a key spelled out, past the cap
                    found.append(_config_unverified(f.path))
            if need.gin:
                found += self._gin_risks(f.path, need.text, f.suffix == ".py")
            found += sinks.risks
            said: list[Risk] = []
            if need.expr:
                said = self._string_risks(f, need, found, sinks.claimed)
                deadline = min(self.deadline, time.monotonic() + _YAML_FILE_SECONDS)
            if not need.tag or size > _MAX_YAML_STREAM:
                found += said
                if need.tag:
                    raise _YamlTooLarge
                return
            fh.seek(0)
            loader = (
                yaml.SafeLoader
                if size <= _MAX_YAML_BYTES
                else getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            )
            tags = self._tag_risks(f.path, _YamlText(fh), loader, deadline)
            # A code tag makes the file an error already: the strings it is handed add nothing.
            found += tags or said

    def _named(self, path: str) -> list[Risk]:
        """A file a tool reads by its name: `.env`, `wandb/settings` (round 21a F15), and the
        files a developer tool executes (`.pdbrc`, `.deepspeed_env`, pylint/mypy/flake8 hooks:
        toolfiles, round 22a F3, F5, F19)."""
        found: list[Risk] = []
        if configsinks.named(path):
            found += configsinks.named_risks(path, self.ctx.snap.read_text(path))
        if toolfiles.named(path):
            tree = lambda top: self.own().tree(top)  # noqa: E731 (built only when asked)
            found += toolfiles.risks(path, self.ctx.snap.read_text(path), tree)
        return found

    def _gin_risks(self, path: str, text: str | None, python: bool) -> list[Risk]:
        """gin references through the file's imports (round 20a F1) naming code neither own
        nor known; a gin text too large to read whole is NOT verified."""
        if text is None:
            return [_config_unverified(path)]
        found = [
            configtargets.target_risk(self.ctx.snap, path, "gin", target, line, [])
            for target, line in configformats.gin_references(text, python)
            if not configtargets.allowed(target, self.own())
            and not (  # `import __main__`: the script running, when one defines the name
                target.count(".") == 1
                and target.startswith("__main__.")
                and self._main_defines(target[9:])
            )
        ]
        return found[:3]

    def python_configs(self) -> None:
        """What Python configs name for mmengine's registry, Hydra or LazyConfig to call
        (round 20a F3), by the names the file's imports resolve: as a YAML's targets. A `type`
        key counts where OpenMMLab's config loader is used (a generic word in Python dicts
        elsewhere: big_vision's evaluator names)."""
        mm: bool | None = None
        for py in self.ctx.py.files:
            found: list[Risk] = []
            for key, target, line in py.facts.get("config_refs", ()):
                if len(found) >= 3:
                    break
                if key == "type" and not (mm := self._openmmlab() if mm is None else mm):
                    continue
                judged = key == "_target_" or configtargets.DOTTED.fullmatch(target) is not None
                if "${" in target or (judged and not configtargets.allowed(target, self.own())):
                    found.append(
                        configtargets.target_risk(self.ctx.snap, py.path, key, target, line, [])
                    )
            self.found += found

    def _sink_risks(self, f: FileEntry, text: str | None) -> configsinks.Judged:
        """configsinks' judgement of a text; a YAML file too large to keep is NOT verified."""
        if text is not None:
            return configsinks.risks(f.path, text, self.own())
        if f.suffix in _YAML_SUFFIXES:
            return configsinks.Judged([_config_unverified(f.path)])
        return configsinks.Judged()

    def _string_risks(
        self, f: FileEntry, need: _Needs, found: list[Risk], claimed: set[tuple[int, str]]
    ) -> list[Risk]:
        """Config strings that are code when a library evaluates them (evalstrings, round 20a
        F2/F7), but those another finding of the file quotes. They get a budget of their own
        (_YAML_SECONDS a run, _YAML_FILE_SECONDS a file; the time spent is given back to the
        tag search): a file not judged in it is NOT verified, as one past the tag search's.
        A YAML file over the cap with what such a string needs is NOT verified."""
        if need.text is None:
            return [_strings_unverified(f.path)] if f.suffix in _YAML_SUFFIXES else []
        start = time.monotonic()
        stop = start + min(self.strings_left, _YAML_FILE_SECONDS)

        def tick() -> None:
            if time.monotonic() > stop:
                raise _YamlTimeout

        said = [r.message for r in found if r.kind == "code-in-data"]
        try:
            if start > stop:
                raise _YamlTimeout
            return evalstrings.risks(f.path, need.text, self.own(), tick, said, claimed)
        finally:
            spent = time.monotonic() - start
            self.strings_left -= spent
            self.deadline += spent

    def _tag_risks(
        self, path: str, source: str | _YamlText, loader: type, deadline: float
    ) -> list[Risk]:
        """A YAML Python tag (the first), and HyperPyYAML tags naming code (three at most)."""
        found: list[Risk] = []
        python = hyper = 0
        for tag, line in _yaml_tags(source, loader, deadline):
            if _yaml_code_tag(tag) and not python:
                python += 1
                found.append(_yaml_code_risk(path, tag, line))
            target = configtargets.tag_target(tag)
            if target is not None and hyper < 3 and not configtargets.allowed(target, self.own()):
                hyper += 1
                risk = configtargets.target_risk(self.ctx.snap, path, "tag", target, line, [])
                found.append(risk)
            elif hyper < 3 and (outside := configsinks.include_risk(path, tag, line)):
                hyper += 1
                found.append(outside)
            if python and hyper >= 3:
                break
        return found

    def texts(self, path: str, texts: list[loadertext.Text], foreign: bool) -> None:
        """Texts inside a file that a loader reads as configs (archive members, safetensors
        metadata: see loadertext), read with the rules the repository's own files get. One
        that could not be read whole is NOT verified, an error."""
        found: list[Risk] = []
        deadline = min(self.deadline, time.monotonic() + _YAML_FILE_SECONDS)
        for t in texts:
            inside = f"{t.where}, inside {path}"
            if time.monotonic() > self.deadline:
                why = f"the {_YAML_SECONDS:.0f} s for config texts inside files were spent"
                found.append(_inner_unverified(path, t.where if not foreign else "", why))
                break
            if t.text is None:
                if t.spelled or t.tag or t.unread:
                    found.append(_inner_unverified(path, t.where if not foreign else "", t.why))
                continue
            risks: list[Risk] = []
            if t.interpolation:
                risks += self._interpolated(inside, t.text)
            if t.target:
                risks += configtargets.config_risks(self.ctx.snap, t.where, t.text, self.own())
            if t.tag:
                try:
                    risks += self._tag_risks(inside, t.text, yaml.SafeLoader, deadline)
                except _YamlTimeout:
                    risks.append(_inner_unverified(path, t.where, "its time budget was spent"))
            for r in risks:
                at = f" (line {r.line} of {t.where}, inside this file)" if r.line else ""
                message = (
                    f"{r.message.rstrip('.')}{at or f' ({t.where}, inside this file)'}."
                    if not foreign
                    else "A config inside this file names code that loading it runs (not "
                    "quoted: the file has hard links outside the repository). Do not load it."
                )
                found.append(dataclasses.replace(r, path=path, line=None, message=message))
        if found and self._by_target is None:
            self._by_target = {}
            for link, target in self.ctx.snap.links.items():
                self._by_target.setdefault(target, []).append(link)
        self.found += [_with_aliases(r, self._by_target or {}) for r in found]


class _YamlTooLarge(Exception):
    pass


@dataclass
class _Needs:
    tag: bool = False  # what a YAML code tag needs
    target: str | None = None  # what a config target needs (the text found)
    text: str | None = None  # the whole text, when kept (small files)
    interpolation: bool = False  # an OmegaConf `${` (a resolver may run it)
    gin: bool = False  # gin's dynamic registration (imports resolve `@references`)
    expr: bool = False  # what a config string that is code needs (evalstrings)
    sink: bool = False  # what a library's config sink needs (configsinks)


def _judged_strings(f: FileEntry) -> bool:
    """Whether a file's strings are judged as code a library may evaluate (evalstrings): a
    YAML/JSON config, but GitHub's own (workflows, actions: `if: always()` is GitHub's
    expression language, no Python loader's)."""
    name = f.path.rsplit("/", 1)[-1].lower()
    return (
        f.suffix in evalstrings.SUFFIXES
        and not f.path.startswith(".github/")
        and name not in ("action.yml", "action.yaml")
    )


def _needs(
    text: _YamlText, deadline: float, keep: bool, types: bool, strings: bool = False
) -> _Needs:
    """Whether the text holds what a code tag or a config target needs, searched window by
    window (a piece of the window before kept: a tag cut by a window's end is found whole);
    keep: the text is kept whole for the config reader; types: a dotted `type` counts;
    strings: what a config string that is code needs counts (evalstrings)."""
    out = _Needs()
    need = configtargets.NEED_TYPES if types else configtargets.NEED
    kept: list[str] = []
    tail = ""
    while True:
        window = text.window()
        if not window:
            break
        if keep:
            kept.append(window)
        window = tail + window
        out.tag = out.tag or bool(_YAML_CODE_NEED.search(window))
        # `in` first: most text has no `_target_`, backslash or `type` at all.
        if (
            out.target is None
            and (
                configtargets.may_instantiate(window)
                or "\\" in window
                or (types and configtargets.may_type(window))
            )
            and (m := need.search(window))
        ):
            out.target = m.group(0)
        out.interpolation = out.interpolation or "${" in window
        out.gin = out.gin or configformats.GIN_NEED in window
        out.expr = out.expr or (strings and bool(evalstrings.need().search(window)))
        out.sink = out.sink or configsinks.need(window)
        if out.tag and out.target is not None and not keep:
            break
        if time.monotonic() > deadline:
            raise _YamlTimeout
        tail = window[-64:]
    if keep and (out.target is not None or out.interpolation or out.gin or out.expr or out.sink):
        out.text = "".join(kept)
    return out


def _config_unverified(path: str, why: str = "") -> Risk:
    why = why or f"over {configtargets.MAX_CONFIG_BYTES >> 20} MiB"
    return Risk(
        "code-in-data",
        "error",
        f"Config NOT verified for callables it names ({why}): it has a Hydra `_target_`, a "
        "dotted `type` or gin's dynamic registration, whose "
        "loader imports and calls what it names; read it before running anything that loads it.",
        path,
    )


def _strings_unverified(path: str) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        "Config NOT verified for strings that are code (over "
        f"{configtargets.MAX_CONFIG_BYTES >> 20} MiB): it has what a Python expression needs "
        "(a call, a dotted name), and libraries "
        "evaluate config strings (YOLOv5's parse_model, rl_zoo3); read it before running "
        "anything that loads it.",
        path,
    )


def _inner_unverified(path: str, where: str, why: str) -> Risk:
    inside = f" ({where}, inside this file)" if where else ""
    return Risk(
        "code-in-data",
        "error",
        f"Config NOT verified for callables it names{inside}: {why}. It has a Hydra "
        "`_target_`, a dotted `type` or a YAML tag, which a loader of this file (NeMo's "
        "restore_from, a library instantiating safetensors metadata) imports and calls; read it "
        "before loading the file.",
        path,
    )


def _yaml_code_risk(path: str, tag: str, line: int) -> Risk:
    shown = tag.replace(_YAML_CORE, "!!", 1)[:120]
    return Risk(
        "code-in-data",
        "error",
        f"YAML with a Python tag ({shown}): PyYAML's unsafe loaders (yaml.unsafe_load, "
        "Loader=yaml.Loader or UnsafeLoader, yaml.load of PyYAML < 5.1) run the code it names "
        "when the file is loaded; read it only with yaml.safe_load.",
        path,
        line,
    )


def _yaml_unverified(paths: list[str], why: str) -> Risk:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5:,} more" if len(paths) > 5 else "")
    return Risk(
        "code-in-data",
        "error",
        f"YAML NOT verified for Python tags ({why}): {shown}. A `!!python/...` tag in it runs "
        "code under PyYAML's unsafe loaders (yaml.unsafe_load, Loader=yaml.Loader, mmcv/"
        "mmengine configs); treat it as unsafe and load it only with yaml.safe_load.",
        paths[0],
    )


def _yaml_risks(ctx: Context) -> list[Risk]:
    """Every file searched for YAML Python tags by its content, .yaml/.yml files first (the
    run's time for it goes to them first)."""
    scan = _YamlScan(ctx, time.monotonic() + _YAML_SECONDS)
    named = [f for f in ctx.snap.files if f.suffix in _YAML_SUFFIXES]
    others = [f for f in ctx.snap.files if f.suffix not in _YAML_SUFFIXES]
    for f in named + others:
        scan.file(f)
    scan.python_configs()
    pickle_risks(ctx)  # fills loader_texts: texts inside archives and weight headers
    # The texts inside files get one budget of their own for the whole run, within the run's
    # deadline: what is not read by then is NOT verified (round 19a F14).
    scan.deadline = min(ctx.deadline, time.monotonic() + _YAML_SECONDS)
    for path, texts, foreign in ctx.memo.get("loader_texts", []):
        scan.texts(path, texts, foreign)
    out = scan.found
    if scan.late:
        loaded = _named_files(ctx, [p for p, _ in scan.late])
        errors = [
            (p, why) for p, why in scan.late if p in loaded or p.lower().endswith(_YAML_SUFFIXES)
        ]
        for why in dict.fromkeys(w for _, w in errors):
            out.append(_yaml_unverified([p for p, w in errors if w == why], why))
        unverified = {q for q, _ in errors}
        rest = [p for p, _ in scan.late if p not in unverified]
        if rest:
            out.append(_yaml_unsearched(rest))
    return out


def _yaml_unsearched(paths: list[str]) -> Risk:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5:,} more" if len(paths) > 5 else "")
    return Risk(
        "yaml-unsearched",
        "notice",
        f"{len(paths):,} text file(s) not searched for YAML Python tags (the time or size for "
        f"it was spent): {shown}. No code or command of the repository names them; a "
        "`!!python/...` tag in one runs code if it is loaded with an unsafe YAML loader.",
        paths[0],
    )


# What names a file a loader may be handed: a path or file name as a word of the code, the
# README, a shell script or a config (`--config configs/resnet.cfg`, `open("x.cfg")`,
# `default='configs/a.cfg'`, `cfg_file: x.cfg`).
_NAME_WORD = rx.compile(r"[^\s'\"`()\[\]{},;=<>|&*:]+")
_NAMING_SUFFIXES = frozenset(
    [
        ".sh",
        ".bash",
        ".md",
        ".rst",
        ".yml",
        ".yaml",
        ".txt",
        ".cfg",
        ".json",
        ".toml",
        ".ini",
        ".conf",
        ".ipynb",
    ]
)


_NAMING_SECONDS = 5.0


def _named_files(ctx: Context, paths: list[str]) -> set[str]:
    """Those of paths (files not searched to their end) that the repository names; all of
    them when the texts could not be read within _NAMING_SECONDS (fail closed: errors)."""
    deadline = time.monotonic() + _NAMING_SECONDS
    wanted: dict[str, list[str]] = {}
    for p in paths:
        wanted.setdefault(p.rsplit("/", 1)[-1], []).append(p)

    def texts() -> Iterator[str]:  # one at a time: none is held longer than its search
        yield from (py.text for py in ctx.py.files if not py.copy_of)
        yield ctx.readme or ""
        for f in ctx.snap.files:
            if (f.suffix in _NAMING_SUFFIXES or f.name in ("Dockerfile", "Makefile")) and (
                f.size <= 1 << 20
            ):
                yield ctx.snap.read_text(f.path) or ""

    out: set[str] = set()
    for text in texts():
        if time.monotonic() > deadline:
            return set(paths)
        for m in _NAME_WORD.finditer(text):
            word = m.group(0).strip("./")
            base = word.rsplit("/", 1)[-1]
            for p in wanted.get(base, ()):
                if "/" not in word or p.endswith(word):
                    out.add(p)
    return out


def _pth_members(ctx: Context, path: str) -> list[str]:
    """The `.pth` members of a zip archive whose lines import (and so run) code."""
    import zipfile

    found: list[str] = []
    try:
        with ctx.snap.open(path) as fh, containers.open_zip(fh) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".pth") and info.file_size <= 1 << 16:
                    text = zf.read(info).decode("utf-8", "replace")
                    if _PTH_IMPORT.search(text):
                        found.append(shown_name(info.filename))
    except containers.ContainerBound:
        return [_UNLISTED]
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError):
        return found
    return found


def _code_risks(ctx: Context, risks: list[Risk]) -> None:
    abs_paths: list[tuple[str, int, str]] = []
    cuda_calls: list[tuple[str, int]] = []
    cpu_path = False
    counts: dict[str, int] = {}

    def add(kind: str, severity: str, msg: str, path: str, line: int) -> None:
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= 10:
            risks.append(Risk(kind, severity, msg, path, line))  # type: ignore[arg-type]

    for f in ctx.py.files:
        if f.copy_of:
            continue
        if not cpu_path and _CPU_PATH.search(f.text):  # once found, no need to look again
            cpu_path = True
        facts = f.facts.get("risks")
        if facts is None:  # not parsed (Python 2, over the budget): the same risks by pattern
            code = "\n".join(f.code_lines) if f.code_lines is not None else f.text
            if ".cuda()" in code:
                cuda_calls.append((f.path, code[: code.find(".cuda()")].count("\n") + 1))
            for kind, severity, msg, line in text_risks(code):
                add(kind, severity, msg, f.path, line)
            continue
        calls, paths, cuda = facts
        for kind, severity, msg, line in calls:
            add(kind, severity, msg, f.path, line)
        abs_paths += [(f.path, ln, value) for ln, value in paths]
        cuda_calls += [(f.path, ln) for ln in cuda]
    if abs_paths:
        p, ln, value = abs_paths[0]
        risks.append(
            Risk(
                "absolute-path",
                "notice",
                f"{len(abs_paths)} hard-coded absolute path(s), e.g. {value!r}: the "
                f"authors' machine; pass your own paths",
                p,
                ln,
            )
        )
    if cuda_calls and not cpu_path:
        p, ln = cuda_calls[0]
        risks.append(
            Risk(
                "cuda-only",
                "warning",
                f"{len(cuda_calls)} .cuda() call(s) and no CPU fallback: needs an "
                f"NVIDIA GPU to run",
                p,
                ln,
            )
        )
    for kind, n in counts.items():
        if n > 10:
            risks.append(Risk(kind, "notice", f"... and {n - 10} more of these"))


# Where shell lines live: scripts, docs and CI files; and the strings of Python code and
# notebooks (`os.system("curl … | sh")`), read from the parsed sources already in memory.
_SHELL_TEXT = (".sh", ".bash", ".md", ".rst", ".yml", ".yaml", ".txt", ".cfg")


def _shell_texts(ctx: Context) -> Iterator[tuple[str, str]]:
    for f in ctx.snap.files:
        if f.suffix in _SHELL_TEXT or f.name in ("Dockerfile", "Makefile"):
            yield f.path, ctx.snap.read_text(f.path) or ""
    for py in ctx.py.files:
        if ("curl" in py.text or "wget" in py.text) and not py.copy_of:
            yield py.path, py.text


def _shell_risks(ctx: Context, risks: list[Risk]) -> None:
    for path, text in _shell_texts(ctx):
        m = _PIPE_SHELL.search(text)
        if m:
            risks.append(
                Risk(
                    "curl-pipe-shell",
                    "warning",
                    f"Downloads a script and runs it unseen: `{m.group(0)[:80]}`",
                    path,
                    text.count("\n", 0, m.start()) + 1,
                )
            )


# transformers' dynamic modules: with trust_remote_code=True, `from_pretrained` and
# `pipeline()` import the module a config names and run it. A reference
# `owner/repo--module.Class` takes that module from ANOTHER Hub repository:
# get_class_from_dynamic_module splits at `--` whichever key it came from (`auto_map` in
# config.json, tokenizer_config.json, processor configs, round 18a F5; `custom_pipelines`'
# `impl`, round 19a F10): code forkvet never saw, whatever this tree holds. So no list of
# keys decides: every string value of a JSON file shaped as such a reference (one `--`, a
# repository before it, a dotted `module.Class` after it) is named with its repository,
# and is an error when the repository's own code or README loads with trust_remote_code=True.
_MAX_AUTO_MAP_BYTES = 4 << 20
_MAX_JSON_NODES = 200_000
# A JSON string token that may hold such a reference: no whitespace, a `--` (or an escaped
# dash). Only files holding one are parsed; past the walk's node budget these tokens are
# decoded one by one, so a reference is found wherever a large document keeps it.
_REF_TOKEN = rx.compile(r'"[^"\s]{0,400}(?:--|\\u002[dD])[^"\s]{0,400}"')
_REF_PREFIX = rb'[^"\s]{0,400}(?:--|\\u002[dD])[^"\s]{0,400}"'  # the same, for jsontokens


def _cross_repo_ref(value: str) -> bool:
    """Whether transformers would fetch this class reference from another repository: it
    splits at `--` into a repository (a Hub id or a folder; no whitespace: huggingface_hub
    refuses such an id) and `module.Class` (split at its one dot)."""
    parts = value.split("--")
    if len(parts) != 2 or not parts[0] or any(c.isspace() for c in parts[0]):
        return False
    module, dot, name = parts[1].partition(".")
    return bool(dot and module and name) and "." not in name


def _auto_map_refs(doc: object, text: str = "") -> list[tuple[str, str]]:
    """(key path, reference) of every string value in the document naming another
    repository's module, in document order; a walk past _MAX_JSON_NODES reads the rest from
    the text's string tokens (key path unknown)."""
    out = _walk_refs(doc)
    if out is None:
        out = []
        for m in _REF_TOKEN.finditer(text):
            try:
                value = safeparse.json_loads(m.group(0))
            except ValueError:
                continue
            if isinstance(value, str) and _cross_repo_ref(value):
                out.append(("(a string value)", value))
            if len(out) >= 200:
                break
    return out


def _walk_refs(doc: object) -> list[tuple[str, str]] | None:
    """The walk of _auto_map_refs; None when the document has more nodes than it reads."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, object]] = [("", doc)]
    seen = 0
    while stack and seen < _MAX_JSON_NODES and len(out) < 200:
        where, node = stack.pop()
        seen += 1
        if isinstance(node, str):
            if "--" in node and _cross_repo_ref(node):
                out.append((where or "(the document)", node))
        elif isinstance(node, dict):
            keys = [(f"{where}.{k}" if where else str(k), v) for k, v in node.items()]
            stack.extend(reversed(keys))
        elif isinstance(node, list):
            stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(node))))
    return None if stack and seen >= _MAX_JSON_NODES else out


def _auto_map_risks(ctx: Context, risks: list[Risk]) -> list[Risk]:
    trusted = any(r.kind == "trust-remote-code" for r in risks)
    out: list[Risk] = []
    for f in ctx.snap.files:
        if f.suffix != ".json" or len(out) >= 20:
            continue
        small = f.size <= min(_MAX_AUTO_MAP_BYTES, ctx.snap.max_text_bytes)
        text = ctx.snap.read_text(f.path) if small else None
        unread: str | None = None
        if text is None:  # too large to parse whole (or no text): its tokens, streamed
            refs, unread = _streamed_refs(ctx, f.path)
        elif not _REF_TOKEN.search(text):
            continue
        else:
            try:
                refs = _auto_map_refs(safeparse.json_loads(text), text)
            except ValueError:
                continue  # transformers fails on it too
        if refs:
            out.append(_remote_ref_risk(refs, trusted, f.path))
        elif unread is not None:
            # A bound hit fails closed (outside attack, round 20a F13: past ~2 MiB a
            # reference was silently not found).
            out.append(
                Risk(
                    "remote-code",
                    "error" if trusted else "warning",
                    f"a JSON file not searched to its end ({unread}) may name code in another "
                    "repository that transformers downloads and runs with "
                    "trust_remote_code=True (NOT verified)",
                    f.path,
                )
            )
    return out


def _remote_ref_risk(refs: list[tuple[str, str]], trusted: bool, path: str) -> Risk:
    repos = list(dict.fromkeys(ref.split("--", 1)[0] for _, ref in refs))
    shown = ", ".join(repr(r[:100]) for r in repos[:3])
    where, ref = refs[0]
    return Risk(
        "remote-code",
        "error" if trusted else "warning",
        f"{where[:80]!r} names code in another repository ({shown}: {ref[:160]!r}); "
        "with trust_remote_code=True, transformers (from_pretrained, pipeline) "
        "downloads that module and runs it, and forkvet never saw it (NOT verified)"
        + (", and this repository loads with trust_remote_code=True" if trusted else "")
        + ". Vet that repository too, or pin `revision=` to a commit you read.",
        path,
    )


_MAX_STREAMED_JSON = 1 << 30


def _streamed_refs(ctx: Context, path: str) -> tuple[list[tuple[str, str]], str | None]:
    """A JSON file too large to parse whole, as a stream of its string tokens (UTF-8, as
    transformers reads a config), each that may hold a reference decoded: the references
    found, and why the file was not read to its end (None when it was)."""
    found: dict[str, None] = {}
    tokens = jsontokens.StringTokens(_REF_PREFIX)  # as json.loads tokenizes (UTF-8 bytes)
    read = 0
    try:
        with ctx.snap.open(path) as fh:
            while True:
                chunk = fh.read(1 << 20)
                read += len(chunk)
                if read > _MAX_STREAMED_JSON or time.monotonic() > ctx.deadline:
                    why = "no time left" if read <= _MAX_STREAMED_JSON else "over 1 GiB"
                    return [("(a string value)", v) for v in found], why
                for _, token, _ in tokens.feed(chunk, final=not chunk):
                    value = jsontokens.value(token)
                    if value is not None and _cross_repo_ref(value) and len(found) < 200:
                        found[value] = None
                if not chunk:
                    break
    except OSError as exc:
        return [], f"could not be read ({type(exc).__name__})"
    except jsontokens.TooLarge as exc:
        return [("(a string value)", v) for v in found], str(exc)
    return [("(a string value)", v) for v in found], None


# Submodules named one by one; past this many, one summary (a hostile .gitmodules can name
# tens of thousands, each of which would otherwise be a finding).
_MAX_SUBMODULE_RISKS = 20


def _submodule_risks(ctx: Context, risks: list[Risk]) -> None:
    gm = ctx.snap.get(".gitmodules")
    if gm is None:
        return
    text = ctx.snap.read_text(gm.path) or ""
    folders = {p for f in ctx.snap.files for p in _parents(f.path)}
    absent: list[tuple[str, int]] = []
    line, seen = 1, 0
    for m in rx.finditer(r"^[ \t]*path[ \t]*=(.*)$", text, rx.M):
        line += text.count("\n", seen, m.start())
        seen = m.start()
        path = m.group(1).strip().rstrip("/")
        if path not in folders:
            absent.append((path, line))
    named = [p for p, _ in absent[:_MAX_SUBMODULE_RISKS]]
    brought, loads = _submodules_used(ctx, named) if absent else ({}, {})
    sections = {p: _submodule_section(text, p) for p in named}
    for path, at in absent[:_MAX_SUBMODULE_RISKS]:
        weights_like = _WEIGHTS_NAME.search(sections[path]) is not None
        why = loads.get(path) or (brought.get(path) if weights_like else None)
        if why is not None:
            # Content the instructions bring in and forkvet never saw: NOT verified, an error
            # like an LFS pointer's (outside attack, round 16a: checkpoints in a submodule the
            # README clones with --recursive).
            risks.append(
                Risk(
                    "submodule-unverified",
                    "error",
                    f"Git submodule {path} is not checked out, and {why}: its content was NOT "
                    "verified (run `git submodule update --init --recursive`, then vet again "
                    "before using it)",
                    ".gitmodules",
                    at,
                )
            )
            continue
        how = brought.get(path)
        risks.append(
            Risk(
                "submodule-absent",
                "warning",
                f"Git submodule {path} is not checked out (run `git submodule update --init`)"
                + (f"; {how}, and its code was not vetted" if how else ""),
                ".gitmodules",
                at,
            )
        )
    if len(absent) > _MAX_SUBMODULE_RISKS:
        more = len(absent) - _MAX_SUBMODULE_RISKS
        risks.append(
            Risk(
                "submodule-absent",
                "warning",
                f"{more:,} more git submodules are not checked out (run `git submodule update "
                f"--init`); only the first {_MAX_SUBMODULE_RISKS} are named",
                ".gitmodules",
            )
        )


# What brings submodules in: a recursive clone, `git submodule update/init`, or a checkout
# or pull that recurses.
_POPULATES = rx.compile(
    r"--recurse-submodules|git\s+clone\s[^\n]*--recursive|submodule\s+(?:update|init|sync)"
    r"|submodule\s+foreach"
)
# Files a loader reads (weights, pickles, arrays, archives, configs that may hold code).
_DATA_SUFFIX = (
    r"\.(?:pth|pt|ckpt|h5|hdf5|pb|caffemodel|t7|npz|npy|pkl|pickle|bin|onnx|safetensors|"
    r"tflite|params|mat|weights|model|tar|joblib|msgpack|gguf|keras|gz|zip|yaml|yml|json|"
    r"gin|toml|ini|cfg)\b"
)
# A submodule whose name or URL says it holds weights (or a Hugging Face model repository).
_WEIGHTS_NAME = rx.compile(r"ckpt|checkpoint|weight|pretrain|huggingface\.co|hf\.co/", rx.I)
# (configs may name one too: a gin `include`, a TOML's path)
_USE_SUFFIXES = (
    ".md", ".rst", ".txt", ".py", ".sh", ".ipynb", ".yaml", ".yml", ".cfg", ".gin", ".toml",
    ".ini", ".json",
)  # fmt: skip
_USE_FILES = ("Makefile", "Dockerfile", "setup.py", "environment.yml")
_MAX_USE_BYTES = 32 << 20  # text read to find uses of an absent submodule (only then)


def _submodules_used(ctx: Context, paths: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(path -> how the README, a doc or a script brings submodules in; path -> where a file
    names something a loader reads inside it: `checkpoints/model.pt`)."""
    brought: dict[str, str] = {}
    loads: dict[str, str] = {}
    read = 0
    sources = [("the README", ctx.readme or "")]
    code = [py.text for py in ctx.py.files]  # what an INI inside is read by (configsinks)
    for f in ctx.snap.files:
        if read > _MAX_USE_BYTES:
            break
        name = f.path.rsplit("/", 1)[-1]
        if (f.suffix in _USE_SUFFIXES or name in _USE_FILES) and f.size <= 1 << 20:
            read += f.size
            sources.append((shown_name(f.path), ctx.snap.read_text(f.path) or ""))
    # a file inside it, as code and commands write one (`checkpoints/x.pt`, "./ckpt/x.pkl"),
    # not the tail of another path (`/usr/lib/x.pt`)
    inside = {
        path: rx.compile(
            r"(?:^|[\s'\"(=`,\[]|\./)" + rx.escape(path) + r"/[^\s'\"`)\]]{0,200}?" + _DATA_SUFFIX,
            rx.M | rx.I,
        )
        for path in paths
    }
    for where, text in sources:
        if not text:
            continue
        m = _POPULATES.search(text)
        if m is not None:
            said = m.group(0)
            how = (
                "--recurse-submodules"
                if said.startswith("--")
                else "git clone --recursive"
                if said.endswith("--recursive")
                else "git submodule " + said.split()[-1]
            )
            for path in paths:
                brought.setdefault(path, f"{where} brings submodules in (`{how}`)")
        for path in paths:
            if (
                path not in loads
                and f"{path}/" in text
                and any(
                    configsinks.acts_on_ini(m.group(0), code) for m in inside[path].finditer(text)
                )
            ):
                loads[path] = f"{where} names a file inside it that a loader reads"
    return brought, loads


# A README sending the user to another branch, tag or commit (outside attack, round 16a, M1):
# `git checkout release`, `git switch -c x origin/v2`, `git clone -b release URL`.
_COMMAND_START = r"(?:^[ \t]*(?:[$>][ \t]*)?|&&[ \t]*|;[ \t]*|`)"  # a command, not prose
# ASCII classes and unbounded repetition: a bounded repeat of a Unicode class costs RE2
# 0.1 s to compile (every run pays it); a ref is cut to 100 characters after the match.
_CHECKOUT_REF = rx.compile(
    _COMMAND_START
    + r"git[ \t]+(?:checkout|switch)(?:[ \t]+(?:-q|--quiet|--detach|-f|--force|-t|--track))*"
    r"(?:[ \t]+-[bBc][ \t]+[\w./-]+)?[ \t]+(\w[\w./@^~-]*)",
    rx.M | rx.A,
)
_CLONE_REF = rx.compile(
    _COMMAND_START + r"git[ \t]+clone\b[^\n]*?[ \t](?:-b|--branch)(?:[ \t]+|=)(\w[\w./-]*)",
    rx.M | rx.A,
)
_DEFAULT_REFS = frozenset({"main", "master", "HEAD", "origin/main", "origin/master"})
_NOT_REFS = (".py", ".sh", ".txt", ".md", ".yaml", ".yml", ".json", ".cfg", ".ipynb")


_CLONE_URL = rx.compile(r"\bgit[ \t]+clone\b[^\n]*?([^\s/:]+?)(?:\.git)?/?[ \t]*(?:\n|$|&&|;|`)")


def _own_names(ctx: Context) -> set[str]:
    names = {ctx.snap.name.replace("+", "/").rstrip("/").rsplit("/", 1)[-1]}
    if ctx.snap.git.remote:
        names.add(ctx.snap.git.remote.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))
    return {n.lower() for n in names if n}


def _this_repository_text(text: str, own: set[str]) -> str:
    """The README without the commands that follow a clone of another repository, up to the
    end of that code block or paragraph (`git clone …/mxnet.git; cd mxnet; git checkout
    v0.10.0` is about MXNet's refs)."""
    out: list[str] = []
    foreign = False
    for line in text.split("\n"):
        m = _CLONE_URL.search(line + "\n")
        if m is not None:
            foreign = m.group(1).lower() not in own
        elif not line.strip() or line.lstrip().startswith("```"):
            foreign = False
        out.append("" if foreign else line)
    return "\n".join(out)


def _other_ref_risks(ctx: Context) -> list[Risk]:
    """A warning naming each other ref the README checks out: forkvet vetted this one only."""
    text = _this_repository_text(limits.clip_lines(ctx.readme or ""), _own_names(ctx))
    refs: list[str] = []
    for pattern in (_CHECKOUT_REF, _CLONE_REF):
        for m in pattern.finditer(text):
            ref = m.group(1)[:100].rstrip(".")
            if ref not in _DEFAULT_REFS and not ref.endswith(_NOT_REFS) and ref not in refs:
                refs.append(ref)
    return [
        Risk(
            "other-ref",
            "warning",
            f"The README has you check out `{shown_name(ref)}`: only this checkout was vetted, "
            f"not that ref's content. Vet it too (`forkvet vet URL --ref {shown_name(ref)}`) "
            "before running it.",
            ctx.snap.readme.path if ctx.snap.readme else None,
        )
        for ref in refs[:5]
    ]


def _submodule_section(text: str, path: str) -> str:
    """The .gitmodules section declaring this path (its name, path and url lines)."""
    for section in text.split("[submodule")[1:]:
        for line in section.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "path" and value.strip().rstrip("/") == path:
                return section[:4096]
    return path


def _parents(path: str) -> list[str]:
    """Every folder above a file (`a/b/c.py` → a, a/b)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


_PICKLE_ERRORS = (
    "dangerous-pickle",
    "code-in-data",
    "unsafe-pickle",
    "pickle-unverified",
    "lfs-pointer",
    "annex-pointer",
    "dvc-pointer",
    "tracked-absent",
    "submodule-unverified",
    "link-outside",
)


def pickle_risks(ctx: Context) -> list[Risk]:
    """Every file sniffed for pickles (needs no parsed Python: vet runs it while workers
    parse); computed once per context."""
    if "pickle_risks" not in ctx.memo:
        found: list[Risk] = []
        _pickle_risks(ctx, found)
        ctx.memo["pickle_risks"] = found
    return list(ctx.memo["pickle_risks"])


def unread_entry_points(ctx: Context, entries: EntryPoints) -> tuple[list[Risk], list[Finding]]:
    """Python entry points (scripts the README, a wrapper or their name says to run) over the
    text cap: no byte of them was read, so nothing they run was vetted. An error that says
    so, never the "Large files skipped" notice alone (outside attack, round 16)."""
    found: list[Risk] = []
    seen: set[str] = set()
    for script in [*entries.train, *entries.test, *entries.prepare]:
        f = ctx.snap.get(script.path)
        if f is None or f.path in seen or f.suffix not in (".py", ".pyw"):
            continue
        seen.add(f.path)
        if f.size > ctx.snap.max_text_bytes:
            found.append(
                Risk(
                    "code-unverified",
                    "error",
                    f"Entry point NOT verified: {f.path} is over "
                    f"{ctx.snap.max_text_bytes >> 20} MiB, so forkvet read none of it and "
                    "vetted nothing it runs. Read it yourself before running it",
                    f.path,
                )
            )
    findings = [
        Finding(CHECK, r.severity, r.kind.replace("-", " ").capitalize(), r.message, r.path)
        for r in found
    ]
    return found, findings


def _installed_names(ctx: Context) -> frozenset[str]:
    """Top-level import names of known distributions the code imports (an environment built
    for it installs them), less those the repository's own setup builds."""
    from forkvet.vet.dependencies import built_extensions
    from forkvet.vet.importmap import dist_for_module

    built = built_extensions(ctx)
    tops = {ref.top for ref in ctx.py.imports} - set(built)
    return frozenset(t for t in tops if all(dist_for_module(t)))


def check(ctx: Context) -> tuple[list[Risk], list[Finding]]:
    risks = pickle_risks(ctx)
    _code_risks(ctx, risks)
    # after the code risks: they read every Python file
    risks += compiled_risks(ctx.snap, _installed_names(ctx))
    risks += nativefiles.native_risks(ctx.snap)  # by content, whatever the name (21a F8)
    risks += weightrefs.reference_risks(ctx.snap, ctx.deadline)  # paths weights name (22a F7)
    risks += linkforms.link_file_risks(ctx, check)  # a symlink as its target text (22a F15)
    risks += exportforms.archive_risks(
        ctx, check
    )  # export-subst files as git archive writes (22a F8)
    _shell_risks(ctx, risks)
    _submodule_risks(ctx, risks)
    risks += _other_ref_risks(ctx)
    risks += _package_archives(ctx)
    risks += _auto_map_risks(ctx, risks)
    risks += modelindex.model_index_risks(
        ctx.snap, any(r.kind == "trust-remote-code" for r in risks)
    )
    risks += _yaml_risks(ctx)
    errors = {r.path for r in risks if r.severity == "error" and r.path}  # one error a file
    risks += chattemplates.template_risks(ctx.snap, ctx.deadline, errors)
    risks += shellsinks.shell_risks(ctx.snap, ctx.deadline, errors)
    findings: list[Finding] = []
    if not ctx.config.risks.fail_on_dangerous_pickle:
        # The operator's downgrade holds in the JSON `risks` too, not only in the findings.
        risks = [
            dataclasses.replace(r, severity="warning") if r.kind in _PICKLE_ERRORS else r
            for r in risks
        ]
    for r in risks:
        severity = r.severity
        if severity in ("error", "warning"):
            findings.append(
                Finding(
                    CHECK,
                    severity,
                    r.kind.replace("-", " ").capitalize(),
                    r.message,
                    r.path,
                    r.line,
                )
            )
    return risks, findings
