"""A read-only view of a repository on disk: its files, their text, and git metadata.

Every check reads the repository through a Snapshot, so the limits (file size, file count,
symlinks that leave the tree, binary files) are enforced in one place and reported as notices.
Nothing here imports, executes or installs anything from the repository.
"""

from __future__ import annotations

import bisect
import codecs
import io
import os
import stat
import struct
import subprocess
import sys
import tokenize
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from forkvet import fstree, hostpaths, rx
from forkvet.errors import InputError
from forkvet.report import Finding

# git's own folder: git never checks a file out into a path with a `.git` part, so nothing the
# repository committed is there and it is not vetted. But a folder that is not a fresh clone
# (an archive, a prepared folder) can hold anything there, and an in-tree symlink reaches it
# (outside attack, round 9): every `.git` folder, at any depth, is walked for the pickle
# probe only (`Snapshot.store`). `.hg` and `.svn` are ordinary names to git: a fork can
# commit a checkpoint there (outside attack, round 6), so they are skipped folders.
VCS_DIRS = frozenset({b".git"})
_STORE = ""  # the skip label of files in a `.git` folder: probed for pickles, never vetted
# Folders that never hold the project's own code: their files are not vetted as code (named
# in a notice), but still get the pickle probe (`Snapshot.probe_files`), and what git tracks
# in them is vetted as usual.
SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
        "site-packages",
        ".idea",
        ".vscode",
        ".cache",
        ".hg",
        ".svn",
    }
)
# Linguist's idea of vendored code: counted for dependencies, not for language statistics.
VENDORED_PARTS = frozenset(
    {
        "third_party",
        "thirdparty",
        "third-party",
        "3rdparty",
        "vendor",
        "vendored",
        "external",
        "externals",
        "extern",
        "deps",
    }
)

MAX_TEXT_BYTES = 2 * 1024 * 1024
# Texts kept in memory for the checks that read a file again (the rest are read again).
TEXT_CACHE_FILE_CHARS = 256 * 1024
TEXT_CACHE_CHARS = 8 * 1024 * 1024
MAX_FILES = 200_000
# Paths are kept several times over (keys, shown names, per-check lists): 150,000 files of
# 4 KB paths once took 2.6 GB. Past this many bytes of paths the list is cut like at
# MAX_FILES (the files past the cut are still probed for pickles, or reported unverified).
MAX_PATH_BYTES = 32 << 20
_BINARY_SNIFF = 8192
_CODING_RE = rx.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


# README formats, preferred first: Markdown, then reStructuredText, text, no suffix.
README_ORDER = {".md": 0, ".markdown": 0, ".rst": 1, ".txt": 2, "": 3}


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # POSIX path relative to the root, as text: `shown_name` of `disk`
    size: int
    # The name on disk (bytes, relative to the root; empty when it is `os.fsencode(path)`)
    # and the file the walk saw: reads open exactly this file, never what the name points at
    # later.
    disk: bytes = b""
    dev: int = 0
    ino: int = 0
    # An alias: the in-tree symlink (bytes, relative to the root) through which this path
    # reaches the file `disk` names (`configs/model.yaml -> ../assets/x.txt`, or a file under a
    # folder link `numpy -> assets/np`). Python and every loader follow such links, so the
    # alias is a file of the tree under its own name with its target's content (see `_aliases`).
    via: bytes = b""
    # Asked for every file by every check: computed once (slots keep 50,000 entries small).
    suffix: str = field(init=False, repr=False, compare=False)
    vendored: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.name
        dot = name.rfind(".")
        # Interned: a tree has few distinct suffixes and many files.
        object.__setattr__(self, "suffix", sys.intern(name[dot:].lower()) if dot > 0 else "")
        folders = self.path.split("/")[:-1]
        object.__setattr__(self, "vendored", any(p.lower() in VENDORED_PARTS for p in folders))

    # Plain string operations (PurePosixPath is several times slower on 50,000-file trees).
    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    @property
    def alias(self) -> bool:
        """Reached through an in-tree symlink (its content is also listed under its own name)."""
        return bool(self.via)


@dataclass
class GitInfo:
    commit: str | None = None
    commit_date: str | None = None
    code_date: str | None = None
    # The newest commit that changed code, which code_date is the date of.
    code_commit: str | None = None
    remote: str | None = None
    refused: str | None = None  # why git was not run in this folder


@dataclass
class Snapshot:
    root: Path
    name: str
    files: list[FileEntry]
    git: GitInfo = field(default_factory=GitInfo)
    notices: list[Finding] = field(default_factory=list)
    max_text_bytes: int = MAX_TEXT_BYTES
    # Files in SKIP_DIRS folders that git does not track: not vetted as code, but probed.
    skipped: list[FileEntry] = field(default_factory=list)
    truncated: bool = False  # the file-count cut hit: files past it are listed by risks
    # Files in `.git` folders (any depth): probed for pickles only (see VCS_DIRS).
    store: list[FileEntry] = field(default_factory=list)
    # Files with a hard link outside the tree: never read as text (nothing of theirs is
    # quoted), but probed for pickles, since their content is what a loader runs.
    linked_out: list[FileEntry] = field(default_factory=list)
    # Symlinks that stay in the tree (shown name -> the shown name of what they resolve to).
    # They are never opened as links: each file a link reaches is listed again under the
    # link's own name (an alias, `FileEntry.via`) in `files`/`skipped`/`linked_out`, so every
    # check keyed on names sees it; a report also names the links that lead to a flagged file.
    links: dict[str, str] = field(default_factory=dict)
    # Files git tracks that are not in the working tree (a sparse checkout, a file deleted
    # without a commit): shown names, the first _MAX_ABSENT, and how many there are.
    tracked_absent: list[str] = field(default_factory=list)
    tracked_absent_count: int = 0
    # Symlinks that leave the tree (shown names): never followed, so never read.
    links_out: list[str] = field(default_factory=list)
    # The paths (bytes, as on disk) in git's index; empty when there is none (then every file
    # counts as committed): see `committed`.
    tracked: frozenset[bytes] = frozenset()

    def __post_init__(self) -> None:
        self._by_path = {f.path: f for f in self.files}
        probed_only = [*self.skipped, *self.store, *self.linked_out]
        self._all = {f.path: f for f in probed_only} | self._by_path
        if len(self._all) != len(self.files) + len(probed_only):
            raise ValueError("two files with one shown name")  # shown_name is one-to-one
        self._text_cache: dict[str, str | None] = {}
        self._cached_chars = 0
        self._read_once: set[str] = set()
        self._oversize: list[str] = []
        self._undecodable: list[str] = []
        # Python files whose PEP 263 cookie names a codec that reads ASCII bytes otherwise
        # than UTF-8 does (shown name -> codec): see `python_decode`; a symlink named `.py` is
        # decoded so too, whatever its target's name (it is listed under its own name).
        self.recoded: dict[str, str] = {}
        # Documents not in UTF-8 read in the encoding detected (shown name -> codec).
        self.detected: dict[str, str] = {}

    # -- lookup -------------------------------------------------------------------------------
    def get(self, path: str) -> FileEntry | None:
        return self._by_path.get(path)

    def committed(self, entry: FileEntry) -> bool:
        """Whether git tracks the file, or there is no index to tell (a tarball, a copy):
        then every file is the repository's. An alias is committed when its link is."""
        if entry.via:
            return not self.tracked or entry.via in self.tracked
        return not self.tracked or (entry.disk or os.fsencode(entry.path)) in self.tracked

    def by_suffix(self, *suffixes: str) -> list[FileEntry]:
        wanted = {s.lower() for s in suffixes}
        return [f for f in self.files if f.suffix in wanted]

    @cached_property
    def probe_files(self) -> list[FileEntry]:
        """Every file the pickle probe reads: the vetted files, those in skipped folders and
        in `.git` folders, and those with hard links outside the tree (see `linked_out`)."""
        every = sorted([*self.files, *self.skipped, *self.linked_out], key=lambda f: f.path)
        # `.git` last: a large store must not spend the run's scan time before the project's
        # own checkpoints are looked at.
        return every + self.store

    @cached_property
    def top_level(self) -> list[FileEntry]:
        return [f for f in self.files if "/" not in f.path]

    @cached_property
    def readme(self) -> FileEntry | None:
        """The README GitHub shows on the repository's page: .github/README* before the root's,
        docs/README* when neither is there (the others are read for terms as other READMEs)."""
        for folder in (".github", "", "docs"):
            candidates = [
                f
                for f in self.files
                if f.name.lower().startswith("readme")
                and f.path.lower() == (f"{folder}/{f.name}" if folder else f.name).lower()
            ]
            candidates.sort(key=lambda f: (README_ORDER.get(f.suffix, 4), f.path))
            if candidates:
                return candidates[0]
        return None

    @cached_property
    def dirs(self) -> set[str]:
        out: set[str] = set()
        for f in self.files:
            parts = f.parts[:-1]
            for i in range(1, len(parts) + 1):
                out.add("/".join(parts[:i]))
        return out

    # -- reading ------------------------------------------------------------------------------
    def fs_path(self, path: str) -> Path:
        """Where a file of the snapshot is on disk (open it with `open`, which checks it)."""
        entry = self._all.get(path)
        if entry is None or not entry.disk:
            return self.root / path
        return Path(os.fsdecode(os.fsencode(self.root) + b"/" + entry.disk))

    def open(self, path: str) -> BinaryIO:
        """The file the walk saw, opened without following a link at any level: a file or
        folder swapped for a symlink (or another file) since is refused with OSError."""
        entry = self._all.get(path)
        if entry is None:
            raise FileNotFoundError(f"not in the snapshot: {path}")
        return open_in_tree(self.root, entry)

    def read_bytes(self, path: str, limit: int | None = None) -> bytes:
        """At most `limit` bytes (by default the text cap + 1: more is "over the cap"), whatever
        size the walk saw: a file may grow after it (outside attack, round 9: 3 GiB read)."""
        with self.open(path) as fh:
            return fh.read(limit if limit is not None else self.max_text_bytes + 1)

    def read_text(self, path: str) -> str | None:
        """The file's text, or None when it is binary, too large or unreadable (with a notice)."""
        if path in self._text_cache:
            return self._text_cache[path]
        entry = self._by_path.get(path)
        text: str | None = None
        first = path not in self._read_once  # a notice is given once, however often it is read
        self._read_once.add(path)
        if entry is not None:
            text = self._text_of(entry, first)
        self._keep(path, text)
        return text

    def _text_of(self, entry: FileEntry, first: bool) -> str | None:
        try:
            raw = self._read_capped(entry)
        except OSError:
            return None  # gone or swapped since the walk
        if raw is None:
            if first:
                self._oversize.append(entry.path)
            return None
        if entry.suffix in PYTHON_SUFFIXES:
            return self._python_decode(raw, entry.path, first)
        return _decode(raw, entry.path, self._undecodable if first else [], self.detected)

    def _python_decode(self, raw: bytes, path: str, first: bool) -> str | None:
        text, codec = python_decode(raw)
        if codec is not None:
            self.recoded[path] = codec
        if text is None:
            return _decode(raw, path, self._undecodable if first else [])
        return text

    def _read_capped(self, entry: FileEntry) -> bytes | None:
        """The file's bytes, or None when it is over the cap: by the walk's size, or by what
        the read found (the file grew since)."""
        if entry.size > self.max_text_bytes:
            return None
        raw = self.read_bytes(entry.path, self.max_text_bytes + 1)
        return None if len(raw) > self.max_text_bytes else raw

    def _keep(self, path: str, text: str | None) -> None:
        # Several checks read the same files: keep small texts for them, up to a total, so
        # that a tree of large notebooks or data files is read again rather than held.
        size = len(text) if text is not None else 0
        if size <= TEXT_CACHE_FILE_CHARS and self._cached_chars + size <= TEXT_CACHE_CHARS:
            self._text_cache[path] = text
            self._cached_chars += size

    def readme_text(self) -> str:
        return (self.read_text(self.readme.path) or "") if self.readme else ""

    def undecodable(self, path: str) -> bool:
        """Whether the file was read, in no encoding that reads it, as Latin-1 (as bytes)."""
        self.read_text(path)
        return path in self._undecodable

    def access_notices(self) -> list[Finding]:
        """Notices about files skipped while reading (collected lazily, so reported at the end)."""
        out: list[Finding] = []
        if self._oversize:
            shown = ", ".join(sorted(self._oversize)[:5])
            out.append(
                Finding(
                    "snapshot",
                    "notice",
                    "Large files skipped",
                    f"{len(self._oversize)} file(s) over {self.max_text_bytes // 1024 // 1024} MiB "
                    f"were not read: {shown}",
                )
            )
        if self._undecodable:
            shown = ", ".join(sorted(self._undecodable)[:5])
            out.append(
                Finding(
                    "snapshot",
                    "notice",
                    "Files with unknown encoding",
                    f"{len(self._undecodable)} file(s) are not UTF-8 and were read as Latin-1: "
                    f"{shown}",
                )
            )
        return out


# Files the interpreter runs as Python source, decoding them by their PEP 263 cookie.
PYTHON_SUFFIXES = (".py", ".pyw")
# ASCII text that decodes to itself in UTF-8 and in every ASCII-compatible codec; a codec that
# reads any of it otherwise (UTF-7's `+AAo-`, unicode_escape's `\\u000a`, UTF-16, EBCDIC) shows
# a reader of the bytes other code than the interpreter runs.
_ASCII_PROBES = (bytes(range(128)), b"# +AAo-x\n", b"# \\u000ax\n", b"# \\nx\n")


def python_decode(raw: bytes) -> tuple[str | None, str | None]:
    """(the text as CPython decodes the source: by its PEP 263 cookie, or None where the
    default decoding applies (no cookie, a UTF-8 one) or the codec fails on the bytes; the
    cookie's codec when it reads ASCII bytes otherwise than UTF-8 does, else None). Nothing is
    executed: the codec is looked up by name and decodes bytes."""
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if utf16 or b"\x00" in raw[:_BINARY_SNIFF]:
        return None, None  # the interpreter refuses a NUL byte in source
    try:
        # Lines as the interpreter counts them for the cookie (a lone CR ends one too): the
        # cookie counts in the first two only (outside attack, round 15).
        lines = raw[:8192].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        codec, _lines = tokenize.detect_encoding(io.BytesIO(lines).readline)
    except (SyntaxError, LookupError, ValueError):
        return None, None  # an unknown codec: the interpreter refuses the file too
    if codec in ("utf-8", "utf-8-sig"):
        return None, None
    odd = None if _ascii_compatible(codec) else codecs.lookup(codec).name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return raw.decode(codec), odd
    except (LookupError, UnicodeError, ValueError, TypeError):
        return None, odd


def _ascii_compatible(codec: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return all(p.decode(codec) == p.decode("ascii") for p in _ASCII_PROBES)
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False


# Documents GitHub renders as prose (READMEs, license and terms files): GitHub shows one that
# is not UTF-8 in the encoding it detects (GBK, Shift-JIS, cp1251, ...), so forkvet reads it so
# too (round 20c, F1); code is never decoded by a guess (a guessed codec may read a byte a
# shell or a loader reads as a backslash or a quote as part of a letter).
DOC_SUFFIXES = frozenset(
    [
        "", ".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdx", ".txt", ".text", ".rst",
        ".rdoc", ".org", ".adoc", ".asciidoc", ".textile", ".mediawiki", ".wiki", ".creole",
        ".pod", ".html", ".htm", ".rmd", ".qmd", ".tex",
    ]
)  # fmt: skip
_DOC_NAME = rx.compile(r"(?i)licen[cs]e|copying|copyright|notice|terms|readme|eula|agreement")
_DETECT_BYTES = 64 * 1024  # the encoding is detected on the opening bytes: bounded time


def is_document(path: str) -> bool:
    """A file GitHub shows as a document: by its suffix, or a name that says it holds terms."""
    name = path.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :].lower() if "." in name[1:] else ""
    return suffix in DOC_SUFFIXES or bool(_DOC_NAME.search(name))


def detect_decode(raw: bytes) -> tuple[str, str] | None:
    """(text, codec) of a document that is not UTF-8, in the encoding charset-normalizer
    detects on its opening bytes (what GitHub shows), or None when none reads all of it."""
    from charset_normalizer import from_bytes  # imported only for a document not in UTF-8

    best = from_bytes(raw[:_DETECT_BYTES]).best()
    if best is None or best.encoding is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return raw.decode(best.encoding), codecs.lookup(best.encoding).name
    except (LookupError, UnicodeError, ValueError):
        return None


def _decode(
    raw: bytes, path: str, undecodable: list[str], detected: dict[str, str] | None = None
) -> str | None:
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        # UTF-32 with its mark (round 20c, F1): read as such, not as UTF-16 with NULs.
        try:
            return raw.decode("utf-32")
        except UnicodeDecodeError:
            return None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # UTF-16 with its mark (what Windows Notepad saves as "Unicode"): text, not binary.
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in raw[:_BINARY_SNIFF]:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # PEP 263 cookie on one of the first two lines (old research code uses latin-1, gbk, ...).
    for line in raw.splitlines()[:2]:
        m = _CODING_RE.match(line)
        if m:
            try:
                return raw.decode(codecs.lookup(m.group(1).decode("ascii")).name)
            except (LookupError, UnicodeDecodeError, UnicodeError):
                break
    if detected is not None and is_document(path):
        found = detect_decode(raw)
        if found is not None:
            detected[path] = found[1]
            return found[0]
    undecodable.append(path)
    return raw.decode("latin-1")


# -- building a snapshot -----------------------------------------------------------------------
def load(root: Path, name: str | None = None, remote: str | None = None) -> Snapshot:
    """Snapshot a directory. Raises InputError for a path that cannot be vetted."""
    if not root.exists():
        raise InputError(f"no such directory: {root}")
    if not root.is_dir():
        raise InputError(f"{root} is a file, not a directory: give the repository's folder")
    root = root.resolve()
    # nothing forkvet runs, imports or loads from now on is searched in the repository
    hostpaths.guard(root)
    tracked = git_tracked(root)
    walked = _walk(root, tracked)
    files = walked.files
    if not files and not walked.links_out:
        # Links leaving the tree alone are still a repository to report on (round 18a F9)
        raise InputError(f"{root} has no files to vet (empty directory)")
    absent = [] if walked.truncated else _tracked_absent(root, tracked, walked)
    snap = Snapshot(
        root=root,
        name=name or root.name,
        files=files,
        notices=walked.notices,
        skipped=walked.skipped,
        store=walked.store,
        linked_out=walked.linked_out,
        links=walked.links,
        truncated=walked.truncated,
        tracked_absent=absent[:_MAX_ABSENT],
        tracked_absent_count=len(absent),
        links_out=walked.links_out,
        tracked=tracked,
    )
    snap.git = read_git_info(root, remote)
    if snap.git.refused:
        snap.notices.append(
            Finding(
                "snapshot",
                "warning",
                "Git metadata not read",
                f"git was not run in this folder: {snap.git.refused}; the commit and its "
                f"date are unknown (vet a fresh clone to get them)",
            )
        )
    return snap


_MAX_ABSENT = 20


def _tracked_absent(root: Path, tracked: frozenset[bytes], walked: Walk) -> list[str]:
    """Paths in git's index that the walk did not find because they are not on disk: what
    a sparse checkout leaves out is still the repository's, and `git checkout` brings it."""
    groups = (walked.files, walked.skipped, walked.store, walked.linked_out)
    seen = {f.disk or os.fsencode(f.path) for group in groups for f in group}
    seen |= {os.fsencode(link) for link in walked.links}
    absent = []
    for raw in sorted(tracked - seen):
        try:
            os.lstat(os.path.join(os.fsencode(root), raw))
        except (FileNotFoundError, NotADirectoryError):
            absent.append(shown_name(raw))
        except OSError:
            continue  # there but unreadable: the walk's own notices say so
    return absent


def shown_name(name: str | bytes) -> str:
    """A file name as text, one-to-one: bytes that are not UTF-8 become \\xNN escapes and a
    backslash becomes \\\\, so a name that reads `\\xff` and the byte 0xff never meet."""
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    if b"\\" not in raw:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


def name_bytes(shown: str) -> bytes:
    """The inverse of `shown_name`: the name's bytes on disk from the name a report shows."""
    out = bytearray()
    i = 0
    while i < len(shown):
        ch = shown[i]
        if ch == "\\" and shown[i + 1 : i + 2] == "\\":
            out.append(0x5C)
            i += 2
        elif ch == "\\" and shown[i + 1 : i + 2] == "x" and _is_hex(shown[i + 2 : i + 4]):
            out.append(int(shown[i + 2 : i + 4], 16))
            i += 4
        else:
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
    return bytes(out)


def _is_hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_dir(root: Path, rel: bytes) -> int:
    """A folder of the tree, each level opened without following a link."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in rel.split(b"/") if rel else ():
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        raise
    return fd


def open_in_tree(root: Path, entry: FileEntry) -> BinaryIO:
    """Open `entry` below `root`: no level may be a symlink now, and the file must be the
    regular file the walk recorded (same device and inode), or OSError."""
    disk = entry.disk or os.fsencode(entry.path)
    folder, _, name = disk.rpartition(b"/")
    dir_fd = _open_dir(root, folder)
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    return _the_walked_file(fd, entry)


def _the_walked_file(fd: int, entry: FileEntry) -> BinaryIO:
    """`fd` as a file object when it is the regular file the walk recorded; else closed, and
    OSError."""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{entry.path} is no longer a regular file")
        if entry.ino and (st.st_dev, st.st_ino) != (entry.dev, entry.ino):
            raise OSError(f"{entry.path} was replaced during the run")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


class FolderChain:
    """Opens files below `root` like `open_in_tree`, keeping the folders of the last file
    open: a sweep over a sorted file list opens each folder level about once, not once per
    file. Each level is still opened without following a link (relative to the level
    above), and each file must be the one the walk recorded. Use it as a context manager."""

    MAX_HELD = 32  # folder levels kept open; deeper ones are opened per file

    def __init__(self, root: Path) -> None:
        self._root = root
        self._names: list[bytes] = []  # the held levels below the root
        self._fds: list[int] = []  # the root's descriptor, then one per held level

    def __enter__(self) -> FolderChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        while self._fds:
            os.close(self._fds.pop())
        self._names.clear()

    def open(self, entry: FileEntry) -> BinaryIO:
        disk = entry.disk or os.fsencode(entry.path)
        folder, _, name = disk.rpartition(b"/")
        parts = folder.split(b"/") if folder else []
        dir_fd = self._hold(parts[: self.MAX_HELD])
        deeper = parts[self.MAX_HELD :]
        if deeper:
            dir_fd = _open_levels(dir_fd, deeper)
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        finally:
            if deeper:
                os.close(dir_fd)
        return _the_walked_file(fd, entry)

    def _hold(self, parts: list[bytes]) -> int:
        """The descriptor of the folder `parts`, its levels opened once and kept."""
        if not self._fds:
            self._fds.append(os.open(self._root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        same = 0
        while same < min(len(parts), len(self._names)) and parts[same] == self._names[same]:
            same += 1
        while len(self._names) > same:
            self._names.pop()
            os.close(self._fds.pop())
        for part in parts[same:]:
            self._fds.append(os.open(part, _DIR_FLAGS, dir_fd=self._fds[-1]))
            self._names.append(part)
        return self._fds[-1]


def _open_levels(fd: int, parts: list[bytes]) -> int:
    """The folder `parts` below the open folder `fd` (which stays open), each level opened
    without following a link."""
    current = fd
    try:
        for part in parts:
            child = os.open(part, _DIR_FLAGS, dir_fd=current)
            if current != fd:
                os.close(current)
            current = child
    except OSError:
        if current != fd:
            os.close(current)
        raise
    return current


@dataclass(frozen=True, slots=True)
class _Link:
    """An in-tree symlink as the walk met it."""

    rel: bytes  # its path below the root
    target: bytes  # what it resolves to (every level), below the root; b"" for the root
    skip: str | None  # the skip label of the folder it is in (see `_walk`)
    skip_name: bool  # its own name is one of SKIP_DIRS (a folder link `__pycache__`)


@dataclass
class _Walked:
    entries: list[tuple[FileEntry, str | None]] = field(default_factory=list)  # (file, skip)
    nlink: dict[tuple[int, int], int] = field(default_factory=dict)  # files with hard links
    notices: list[Finding] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    skipped_dirs: dict[str, int] = field(default_factory=dict)  # shown folder -> files
    special: list[str] = field(default_factory=list)  # FIFOs, devices, sockets: never read
    links: dict[str, str] = field(default_factory=dict)  # in-tree symlink -> its target
    link_rows: list[_Link] = field(default_factory=list)  # the same links, as the walk saw them
    cycles: list[str] = field(default_factory=list)  # folder links not expanded (a cycle)
    truncated: bool = False
    path_bytes: int = 0  # of the listed files' paths (MAX_PATH_BYTES)


@dataclass
class Walk:
    """What the walk found, by the way each file is read (see Snapshot)."""

    files: list[FileEntry]
    skipped: list[FileEntry]
    store: list[FileEntry]
    linked_out: list[FileEntry]
    links: dict[str, str]
    links_out: list[str]
    notices: list[Finding]
    truncated: bool


def _walk(root: Path, tracked: frozenset[bytes] = frozenset()) -> Walk:
    """The tree's files and notices. Names are bytes throughout; each folder is opened level
    by level without following links, so a folder swapped for a symlink mid-walk is never
    listed."""
    walked = _Walked()
    # The project's own folders first, skipped ones after, `.git` last: the file budget
    # goes to code.
    stack: list[tuple[bytes, str | None]] = [(b"", None)]
    later: list[tuple[bytes, str | None]] = []
    last: list[tuple[bytes, str | None]] = []
    while (stack or later or last) and not walked.truncated:
        rel_dir, skip = stack.pop() if stack else later.pop() if later else last.pop()
        _walk_folder(root, rel_dir, skip, tracked, walked, stack, later, last)
    entries, foreign = _without_foreign_links(walked)
    _add_aliases(walked, tracked, entries, foreign)

    def of(kind: str) -> list[FileEntry]:
        picked = (f for f, skip in entries if _kind(skip) == kind)
        return sorted(picked, key=lambda f: f.path)

    return Walk(
        files=of("file"),
        skipped=of("skipped"),
        store=of("store"),
        linked_out=sorted((f for f, _skip in foreign), key=lambda f: f.path),
        links=walked.links,
        links_out=sorted(walked.outside),
        notices=walked.notices + _walk_notices(walked),
        truncated=walked.truncated or len(walked.entries) >= MAX_FILES,
    )


# Folder links inside folder links expanded at most this deep (each level is a link that
# leads to no folder already on the way, so a cycle is never expanded).
_MAX_LINK_DEPTH = 8


def _add_aliases(
    walked: _Walked, tracked: frozenset[bytes], entries: _Entries, foreign: _Entries
) -> None:
    """List every file an in-tree symlink reaches under the link's name (an alias, with the
    target's content: `FileEntry.via`): a file link is one alias, a folder link one per file
    below its target, folder links below that too, each at most _MAX_LINK_DEPTH deep and
    never into a folder already on the way (a cycle, named in a notice). Python and every
    loader follow links, so a check keyed on names (YAML tags, shelve pairs, pycs, native
    extensions, safe-name shadows) must see `configs/model.yaml -> ../assets/x.txt` as a YAML
    file. Aliases count in the file budget like other files (past it, the list is cut);
    aliases of files with hard links outside the tree, or in a `.git` folder, go with the
    files never read as text (`linked_out`)."""
    if not walked.link_rows:
        return
    real: dict[bytes, tuple[FileEntry, str | None, bool]] = {}
    for group, out in ((entries, False), (foreign, True)):
        for f, skip in group:
            # A file in a `.git` folder is git's (in a CI checkout, its config may hold the
            # job's token): reached by a link, it is probed like a hard link outside the
            # tree, never read as text or quoted.
            real[f.disk or os.fsencode(f.path)] = (f, skip, out or skip == _STORE)
    disks = sorted(real)
    links = {link.rel: link for link in walked.link_rows if link.skip != _STORE}
    link_rels = sorted(links)
    made: _Entries = []
    made_foreign: _Entries = []
    steps = 0
    budget = MAX_FILES - len(walked.entries)

    def emit(rel: bytes, top: _Link, f: FileEntry, skip: str | None, out: bool) -> bool:
        nonlocal budget
        walked.path_bytes += len(rel)
        budget -= 1
        if budget < 0 or walked.path_bytes > MAX_PATH_BYTES:
            walked.truncated = True
            return False
        if top.rel in tracked and skip != _STORE:
            skip = None  # git tracks the link: the project's, whatever folder it is in
        if skip and skip != _STORE:
            walked.skipped_dirs[skip] = walked.skipped_dirs.get(skip, 0) + 1
        disk = f.disk or os.fsencode(f.path)
        alias = FileEntry(shown_name(rel), f.size, disk, f.dev, f.ino, via=top.rel)
        (made_foreign if out else made).append((alias, skip))
        return True

    for top in links.values():
        label = top.skip
        hit = real.get(top.target)
        if hit is not None:
            if not emit(top.rel, top, hit[0], label, hit[2]):
                break
            continue
        if label is not None and top.rel not in tracked:
            continue  # a folder link inside an environment or cache (`.venv/lib64 -> lib`)
        if label is None and top.skip_name:
            label = shown_name(top.rel)  # a folder link named like a cache folder
        stack: list[tuple[bytes, bytes, tuple[bytes, ...]]] = [(top.rel, top.target, (top.target,))]
        while stack and not walked.truncated:
            prefix, folder, chain = stack.pop()
            in_store = VCS_DIRS.intersection(folder.split(b"/"))
            for disk in _below(disks, folder):
                f, skip, out = real[disk]
                if skip == _STORE and not in_store:
                    continue  # git's own folder: not what a checkout holds
                rel = prefix + b"/" + disk[len(folder) + 1 :] if folder else prefix + b"/" + disk
                mapped = _mapped_label(skip, folder, prefix) if label is None else label
                if not emit(rel, top, f, mapped, out):
                    break
            for inner in _below(link_rels, folder):
                steps += 1
                if walked.truncated or steps > MAX_FILES:
                    walked.truncated = True
                    break
                rest = inner[len(folder) + 1 :] if folder else inner
                target = links[inner].target
                hit = real.get(target)
                if hit is not None:
                    inner_label = label
                    if label is None:
                        inner_label = _mapped_label(links[inner].skip, folder, prefix)
                    if not emit(prefix + b"/" + rest, top, hit[0], inner_label, hit[2]):
                        break
                elif (
                    any(c == target or c.startswith(target + b"/") or not target for c in chain)
                    or len(chain) >= _MAX_LINK_DEPTH
                ):
                    walked.cycles.append(shown_name(prefix + b"/" + rest))
                else:
                    stack.append((prefix + b"/" + rest, target, (*chain, target)))
        if walked.truncated:
            break
    entries += made
    foreign += made_foreign


def _below(paths: list[bytes], folder: bytes) -> Iterator[bytes]:
    """The sorted paths below `folder` (every one for the root, b"")."""
    if not folder:
        yield from paths
        return
    start = folder + b"/"
    i = bisect.bisect_left(paths, start)
    while i < len(paths) and paths[i].startswith(start):
        yield paths[i]
        i += 1


def _mapped_label(skip: str | None, folder: bytes, prefix: bytes) -> str | None:
    """A skipped folder below a link's target, named below the link instead."""
    if not skip or skip == _STORE:
        return None
    shown_folder = shown_name(folder) if folder else ""
    if shown_folder and not skip.startswith(shown_folder + "/"):
        return None
    rest = skip[len(shown_folder) + 1 :] if shown_folder else skip
    return shown_name(prefix) + "/" + rest


def _kind(skip: str | None) -> str:
    return "file" if skip is None else "store" if skip == _STORE else "skipped"


def _walk_folder(
    root: Path,
    rel_dir: bytes,
    skip: str | None,
    tracked: frozenset[bytes],
    walked: _Walked,
    stack: list[tuple[bytes, str | None]],
    later: list[tuple[bytes, str | None]],
    last: list[tuple[bytes, str | None]],
) -> None:
    try:
        fd = _open_dir(root, rel_dir)
    except OSError as exc:
        walked.notices.append(
            Finding(
                "snapshot",
                "notice",
                "Unreadable folder",
                f"{shown_name(rel_dir)}: {exc.strerror or exc}",
            )
        )
        return
    try:  # the entries stat through the folder's descriptor: keep it open meanwhile
        _read_folder(root, fd, rel_dir, skip, tracked, walked, stack, later, last)
    finally:
        os.close(fd)


def _read_folder(
    root: Path,
    fd: int,
    rel_dir: bytes,
    skip: str | None,
    tracked: frozenset[bytes],
    walked: _Walked,
    stack: list[tuple[bytes, str | None]],
    later: list[tuple[bytes, str | None]],
    last: list[tuple[bytes, str | None]],
) -> None:
    root_b = os.fsencode(root)
    for entry in sorted(os.scandir(fd), key=lambda e: e.name):
        name = os.fsencode(entry.name)
        rel = rel_dir + b"/" + name if rel_dir else name
        if entry.is_symlink():
            # Never follow links: one pointing outside the tree could read the runner's files.
            target = os.path.realpath(root_b + b"/" + rel)
            if not (target == root_b or target.startswith(root_b + b"/")):
                walked.outside.append(shown_name(rel))
                continue
            inside = target[len(root_b) + 1 :]
            if target != root_b:
                walked.links[shown_name(rel)] = shown_name(inside)
            walked.link_rows.append(_Link(rel, inside, skip, entry.name in SKIP_DIRS))
            continue
        if entry.is_dir(follow_symlinks=False):
            if name in VCS_DIRS or skip == _STORE:
                (last if skip != _STORE else stack).append((rel, _STORE))
            elif skip is None and entry.name in SKIP_DIRS:
                walked.skipped_dirs[shown_name(rel)] = 0
                later.append((rel, shown_name(rel)))
            else:
                stack.append((rel, skip))
            continue
        if not entry.is_file(follow_symlinks=False):
            # A FIFO blocks a reader, a device is no file of the repository's: not read.
            walked.special.append(shown_name(rel))
            continue
        walked.path_bytes += len(rel)
        if len(walked.entries) >= MAX_FILES or walked.path_bytes > MAX_PATH_BYTES:
            walked.truncated = True
            return
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone since the folder was listed
        if st.st_nlink > 1:
            walked.nlink[(st.st_dev, st.st_ino)] = st.st_nlink
        # What git tracks is the project's, whatever folder it is in (never in `.git`).
        file_skip = skip if skip == _STORE or rel not in tracked else None
        if file_skip:
            walked.skipped_dirs[file_skip] += 1
        shown = shown_name(rel)
        # The name on disk only where it differs from the shown one (kept small: 200,000).
        disk = b"" if os.fsencode(shown) == rel else rel
        fe = FileEntry(shown, st.st_size, disk, st.st_dev, st.st_ino)
        walked.entries.append((fe, file_skip))


_Entries = list[tuple[FileEntry, str | None]]


def _without_foreign_links(walked: _Walked) -> tuple[_Entries, _Entries]:
    """(the files read as usual, those with hard links outside the tree). A hard link is a
    second name for a file that may live outside the tree (a runner's credentials): such a
    file is read as text only when every one of its names is in the tree; the others are
    only probed for pickles, and nothing of theirs is quoted."""
    names_in_tree: dict[tuple[int, int], int] = {}
    for f, _skip in walked.entries:
        if (f.dev, f.ino) in walked.nlink:
            names_in_tree[(f.dev, f.ino)] = names_in_tree.get((f.dev, f.ino), 0) + 1
    foreign = {key for key, n in names_in_tree.items() if n < walked.nlink[key]}
    if not foreign:
        return walked.entries, []
    # `git clone` of a local path hard-links git's objects: `.git` is never read as text.
    names = sorted(
        f.path for f, skip in walked.entries if (f.dev, f.ino) in foreign and skip != _STORE
    )
    if names:
        walked.notices.append(
            Finding(
                "snapshot",
                "notice",
                "Hard-linked files not read",
                f"{len(names)} file(s) have hard links outside the repository and were not "
                f"read as text (only probed for pickles): " + ", ".join(names[:5]),
                path=names[0],
            )
        )
    kept = [(f, skip) for f, skip in walked.entries if (f.dev, f.ino) not in foreign]
    dropped = [(f, skip) for f, skip in walked.entries if (f.dev, f.ino) in foreign]
    return kept, dropped


def _walk_notices(walked: _Walked) -> list[Finding]:
    out: list[Finding] = []
    if walked.outside:
        outside = sorted(walked.outside)
        out.append(
            Finding(
                "snapshot",
                "notice",
                "Symlinks leaving the repository",
                f"{len(outside)} symlink(s) point outside the repository and were not "
                f"followed: " + ", ".join(outside[:5]),
                path=outside[0],
            )
        )
    if walked.cycles:
        cycles = sorted(walked.cycles)
        out.append(
            Finding(
                "snapshot",
                "notice",
                "Symlink cycles not followed",
                f"{len(cycles)} folder link(s) inside linked folders lead back to a folder "
                f"already on the way (or more than {_MAX_LINK_DEPTH} links deep) and were not "
                f"listed again: " + ", ".join(cycles[:5]),
                path=cycles[0],
            )
        )
    if walked.skipped_dirs:
        shown = [f"{d}/ ({n} file(s))" for d, n in sorted(walked.skipped_dirs.items())]
        out.append(
            Finding(
                "snapshot",
                "notice",
                "Folders not vetted as code",
                f"{len(shown)} folder(s) of caches, environments or build output were not "
                f"vetted as the project's code (files git tracks in them were); every file in "
                f"them was still probed for pickles: " + ", ".join(shown[:8]),
            )
        )
    if walked.special:
        special = sorted(walked.special)
        out.append(
            Finding(
                "snapshot",
                "notice",
                "Special files not read",
                f"{len(special)} FIFO(s), device(s) or socket(s) in the tree were not read "
                f"(no loader gets a repository's pickle from one): " + ", ".join(special[:5]),
                path=special[0],
            )
        )
    if walked.truncated:
        out.append(
            Finding(
                "snapshot",
                "warning",
                "Repository truncated",
                f"only the first {len(walked.entries):,} files were vetted (at most "
                f"{MAX_FILES:,} files or {MAX_PATH_BYTES >> 20} MiB of paths)",
            )
        )
    return out


# -- what git tracks, from its index file (no git program runs) --------------------------------
_INDEX_MAX_BYTES = 256 << 20
# A v4 index stores each path as a suffix of the previous one: 70 bytes on disk can decode to
# a 20,000-byte path. git never writes a path over PATH_MAX; the decoded total is capped too.
_INDEX_MAX_PATH = 4096
_INDEX_MAX_DECODED = 32 << 20
_GITLINK = 0o160000


def git_tracked(root: Path) -> frozenset[bytes]:
    """The paths in `.git/index`, read as a file (git's documented index format, versions 2-4).
    Empty when there is no plain `.git` folder with a plain index, or it does not parse: a
    forged index can only make more files count as the project's, never fewer."""
    try:
        if not stat.S_ISDIR((root / ".git").lstat().st_mode):
            return frozenset()
        with open_in_tree(root, FileEntry(".git/index", 0, b".git/index")) as fh:
            data = fh.read(_INDEX_MAX_BYTES + 1)
    except OSError:
        return frozenset()
    if len(data) > _INDEX_MAX_BYTES:
        return frozenset()
    try:
        return frozenset(_index_paths(data))
    except (ValueError, IndexError, struct.error):
        return frozenset()


def _index_paths(data: bytes) -> list[bytes]:
    # a submodule (gitlink) is another repository, not a file
    return [path for path, mode in index_entries(data) if mode & 0o170000 != _GITLINK]


def index_gitlinks(data: bytes) -> list[bytes]:
    """The submodule paths a git index records (mode 160000)."""
    return [path for path, mode in index_entries(data) if mode & 0o170000 == _GITLINK]


def index_entries(data: bytes) -> list[tuple[bytes, int]]:
    """(path, mode) of every entry of a git index (git's documented format, versions 2-4);
    ValueError (or IndexError, struct.error) when it does not parse."""
    signature, version, count = struct.unpack_from(">4sLL", data, 0)
    if signature != b"DIRC" or version not in (2, 3, 4):
        raise ValueError("not a git index")
    pos, previous, decoded = 12, b"", 0
    out: list[tuple[bytes, int]] = []
    for _ in range(count):
        mode = struct.unpack_from(">L", data, pos + 24)[0]
        flags = struct.unpack_from(">H", data, pos + 60)[0]
        head = 62 + (2 if version >= 3 and flags & 0x4000 else 0)
        start = pos + head
        if version == 4:
            strip, start = _varint(data, start)
            end = data.index(b"\0", start)
            if strip > len(previous):
                raise ValueError("bad prefix length")
            path = previous[: len(previous) - strip] + data[start:end]
            pos = end + 1
        else:
            end = data.index(b"\0", start)
            path = data[start:end]
            pos += (end - pos + 8) // 8 * 8  # NUL-padded to a multiple of 8
        decoded += len(path)
        if len(path) > _INDEX_MAX_PATH or decoded > _INDEX_MAX_DECODED:
            raise ValueError("index paths past git's own bounds")
        out.append((path.rstrip(b"/"), mode))  # a sparse index lists whole folders as `dir/`
        previous = path
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    # git's offset varint (varint.c): 7 bits a byte, each continuation adds one.
    byte = data[pos]
    value = byte & 0x7F
    while byte & 0x80:
        pos += 1
        byte = data[pos]
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, pos + 1


def _git(root: Path, *args: str) -> str | None:
    from forkvet.gitrun import run_git

    try:
        proc = run_git(list(args), repo=root, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


CODE_PATHSPECS = (
    "*.py",
    "*.pyx",
    "*.ipynb",
    "*.lua",
    "*.c",
    "*.cc",
    "*.cpp",
    "*.cu",
    "*.h",
    "*.m",
    "*.sh",
    # Not code: packaging metadata (a 2026 setup.py edit of 2021 code), docs and CI.
    ":(exclude)*setup.py",
    ":(exclude)docs/*",
    ":(exclude)doc/*",
    ":(exclude).github/*",
    ":(exclude).circleci/*",
    ":(exclude).gitlab/*",
    ":(exclude)ci/*",
)


def git_refusal(root: Path) -> str | None:
    """Why git must not run in this folder at all, or None. Git reads more than the tree:
    a `.git` file or `commondir` points at another repository, alternates and config
    includes read files elsewhere, a partial clone fetches missing objects from a remote the
    repository names (running its upload-pack), and a FIFO where git expects a file hangs."""
    dot = root / ".git"
    try:
        st = dot.lstat()
    except OSError:
        return None  # not a repository: git finds nothing (the parent check follows)
    if not stat.S_ISDIR(st.st_mode):
        return "its .git is not a folder (a gitdir link to another repository)"
    for name in (
        "HEAD",
        "config",
        "packed-refs",
        "commondir",
        "objects/info/alternates",
        "objects/info/http-alternates",
    ):
        try:
            mode = (dot / name).lstat().st_mode
        except OSError:
            continue
        if name in ("commondir", "objects/info/alternates", "objects/info/http-alternates"):
            return f".git/{name} points git at objects outside the repository"
        if not stat.S_ISREG(mode):
            return f".git/{name} is not a regular file"
    try:
        with open(dot / "config", "rb") as fh:
            config = fh.read(256 * 1024).decode("utf-8", "replace").lower()
    except OSError:
        config = ""
    if rx.search(r"^\s*(partialclone|promisor)\s*=", config, rx.M) or "[include" in config:
        return ".git/config makes git fetch from a remote or read other files"
    refs = dot / "refs"
    count = 0
    for dirpath, dirnames, filenames in fstree.walk(refs, followlinks=False):
        for fname in filenames:
            count += 1
            if count > 20_000:
                return "too many refs"
            if not stat.S_ISREG(os.lstat(os.path.join(dirpath, fname)).st_mode):
                return ".git/refs holds something that is not a file"
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    return None


def _own_git_folder(root: Path) -> bool:
    try:
        return stat.S_ISDIR((root / ".git").lstat().st_mode)
    except OSError:
        return False


def read_git_info(root: Path, remote: str | None = None) -> GitInfo:
    refusal = git_refusal(root)
    if refusal is not None:
        info = GitInfo(remote=redact_url(remote) if remote else None)
        info.refused = refusal
        return info
    top = _git(root, "rev-parse", "--show-toplevel")  # git's ownership check, by discovery
    if top is None or Path(top).resolve() != root or not _own_git_folder(root):
        # Not a repository, or a subfolder of one: report no commit rather than the parent's.
        return GitInfo(remote=redact_url(remote) if remote else None)
    # Every value from the checkout's own `.git` and nothing else git might discover there: the
    # folder itself holding HEAD, objects/ and refs/ with core.worktree is a repository to
    # git's discovery, which the runtime's command could write (outside attack, round 18b F4).
    own = ("--git-dir", str(root / ".git"), "--work-tree", str(root))
    commit = _git(root, *own, "rev-parse", "HEAD")
    date = _git(root, *own, "log", "-1", "--format=%cI")
    code = _git(root, *own, "log", "-1", "--format=%H %cI", "--", *CODE_PATHSPECS) or ""
    code_commit, _, code_date = code.partition(" ")
    code_date = code_date or date or ""
    remote = remote or _git(root, *own, "config", "--get", "remote.origin.url")
    return GitInfo(
        commit=commit or None,
        commit_date=date or None,
        code_date=code_date or None,
        code_commit=code_commit or None,
        remote=redact_url(remote) if remote else None,
    )


def enclosing_git_info(root: Path) -> GitInfo | None:
    """The git information of the nearest repository above `root` (a folder of a larger
    checkout), read as for a checkout's own (`read_git_info`, refusals included); None when
    no folder above has a `.git`."""
    for folder in root.parents:
        if os.path.lexists(folder / ".git"):
            return read_git_info(folder)
    return None


def redact_url(url: str, mark: str = "") -> str:
    """Drop credentials from a URL (https://user:token@host/... → https://host/...), or put
    `mark` in their place (`***@`, where a message should say some were there)."""
    return rx.sub(r"(?i)^([a-z][a-z0-9+.-]*://)[^/@]+@", r"\1" + mark, url)
