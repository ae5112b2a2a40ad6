"""A read-only view of a repository on disk: its files, their text, and git metadata.

Every check reads the repository through a Snapshot, so the limits (file size, file count,
symlinks that leave the tree, binary files) are enforced in one place and reported as notices.
Nothing here imports, executes or installs anything from the repository.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from forkvet.errors import InputError
from forkvet.report import Finding

# Directories that never hold the project's own code.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
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
MAX_FILES = 200_000
_BINARY_SNIFF = 8192
_CODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


@dataclass(frozen=True)
class FileEntry:
    path: str  # POSIX path relative to the root
    size: int

    # Plain string operations: these run for every file in every check (PurePosixPath is
    # several times slower on 50,000-file trees).
    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def suffix(self) -> str:
        name = self.name
        dot = name.rfind(".")
        return name[dot:].lower() if dot > 0 else ""

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    @property
    def vendored(self) -> bool:
        return any(p.lower() in VENDORED_PARTS for p in self.parts[:-1])


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
    # Shown path -> the name on disk, for names that are not valid UTF-8 (shown with \xNN
    # escapes so that every report, render and JSON output holds valid text).
    disk_names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_path = {f.path: f for f in self.files}
        self._text_cache: dict[str, str | None] = {}
        self._oversize: list[str] = []
        self._undecodable: list[str] = []

    # -- lookup -------------------------------------------------------------------------------
    def get(self, path: str) -> FileEntry | None:
        return self._by_path.get(path)

    def by_suffix(self, *suffixes: str) -> list[FileEntry]:
        wanted = {s.lower() for s in suffixes}
        return [f for f in self.files if f.suffix in wanted]

    @cached_property
    def top_level(self) -> list[FileEntry]:
        return [f for f in self.files if "/" not in f.path]

    @cached_property
    def readme(self) -> FileEntry | None:
        candidates = [f for f in self.top_level if f.name.lower().startswith("readme")]
        # Prefer Markdown, then reStructuredText, then anything else.
        order = {".md": 0, ".markdown": 0, ".rst": 1, ".txt": 2, "": 3}
        candidates.sort(key=lambda f: (order.get(f.suffix, 4), f.path))
        return candidates[0] if candidates else None

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
        """Where a file of the snapshot is on disk."""
        return self.root / self.disk_names.get(path, path)

    def read_bytes(self, path: str, limit: int | None = None) -> bytes:
        with open(self.fs_path(path), "rb") as fh:
            return fh.read(limit if limit is not None else -1)

    def read_text(self, path: str) -> str | None:
        """The file's text, or None when it is binary, too large or unreadable (with a notice)."""
        if path in self._text_cache:
            return self._text_cache[path]
        entry = self._by_path.get(path)
        text: str | None = None
        if entry is not None:
            if entry.size > self.max_text_bytes:
                self._oversize.append(path)
            else:
                try:
                    text = _decode(self.read_bytes(path), path, self._undecodable)
                except OSError:
                    text = None
        self._text_cache[path] = text
        return text

    def readme_text(self) -> str:
        return (self.read_text(self.readme.path) or "") if self.readme else ""

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


def _decode(raw: bytes, path: str, undecodable: list[str]) -> str | None:
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
    disk_names: dict[str, str] = {}
    files, notices = _walk(root, disk_names)
    if not files:
        raise InputError(f"{root} has no files to vet (empty directory)")
    snap = Snapshot(
        root=root, name=name or root.name, files=files, notices=notices, disk_names=disk_names
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


def shown_name(name: str) -> str:
    """A file name as valid text: bytes that are not UTF-8 become \\xNN escapes."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def _walk(
    root: Path, disk_names: dict[str, str] | None = None
) -> tuple[list[FileEntry], list[Finding]]:
    files: list[FileEntry] = []
    notices: list[Finding] = []
    outside: list[str] = []
    linked: dict[tuple[int, int], tuple[int, list[int]]] = {}
    truncated = False
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError as exc:
            notices.append(
                Finding(
                    "snapshot",
                    "notice",
                    "Unreadable folder",
                    f"{shown_name(current.relative_to(root).as_posix())}: {exc.strerror}",
                )
            )
            continue
        entries.sort(key=lambda e: e.name)
        for entry in entries:
            rel = Path(entry.path).relative_to(root).as_posix()
            shown = shown_name(rel)
            if shown != rel:
                if disk_names is None or shown in disk_names:
                    continue
                disk_names[shown] = rel
                rel = shown
            if entry.is_symlink():
                # Never follow links: one pointing outside the tree could read the runner's files.
                target = os.path.realpath(entry.path)
                if not (target == str(root) or target.startswith(str(root) + os.sep)):
                    outside.append(rel)
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    stack.append(Path(entry.path))
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            if len(files) >= MAX_FILES:
                truncated = True
                break
            st = entry.stat(follow_symlinks=False)
            if st.st_nlink > 1:
                linked.setdefault((st.st_dev, st.st_ino), (st.st_nlink, []))[1].append(len(files))
            files.append(FileEntry(rel, st.st_size))
        if truncated:
            break
    # A hard link is a second name for a file that may live outside the tree (a runner's
    # credentials): such a file is read only when every one of its names is in the tree.
    foreign = sorted(i for nlink, idx in linked.values() if len(idx) < nlink for i in idx)
    if foreign:
        names = [files[i].path for i in foreign]
        for i in reversed(foreign):
            del files[i]
        notices.append(
            Finding(
                "snapshot",
                "notice",
                "Hard-linked files not read",
                f"{len(names)} file(s) have hard links outside the repository and were not "
                f"read: " + ", ".join(names[:5]),
                path=names[0],
            )
        )
    if outside:
        notices.append(
            Finding(
                "snapshot",
                "notice",
                "Symlinks leaving the repository",
                f"{len(outside)} symlink(s) point outside the repository and were not followed: "
                + ", ".join(sorted(outside)[:5]),
                path=sorted(outside)[0],
            )
        )
    if truncated:
        notices.append(
            Finding(
                "snapshot",
                "warning",
                "Repository truncated",
                f"only the first {MAX_FILES} files were vetted",
            )
        )
    files.sort(key=lambda f: f.path)
    return files, notices


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
    if re.search(r"^\s*(partialclone|promisor)\s*=", config, re.M) or "[include" in config:
        return ".git/config makes git fetch from a remote or read other files"
    refs = dot / "refs"
    count = 0
    for dirpath, dirnames, filenames in os.walk(refs, followlinks=False):
        for fname in filenames:
            count += 1
            if count > 20_000:
                return "too many refs"
            if not stat.S_ISREG(os.lstat(os.path.join(dirpath, fname)).st_mode):
                return ".git/refs holds something that is not a file"
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    return None


def read_git_info(root: Path, remote: str | None = None) -> GitInfo:
    refusal = git_refusal(root)
    if refusal is not None:
        info = GitInfo(remote=redact_url(remote) if remote else None)
        info.refused = refusal
        return info
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root:
        # Not a repository, or a subfolder of one: report no commit rather than the parent's.
        return GitInfo(remote=redact_url(remote) if remote else None)
    commit = _git(root, "rev-parse", "HEAD")
    date = _git(root, "log", "-1", "--format=%cI")
    code = _git(root, "log", "-1", "--format=%H %cI", "--", *CODE_PATHSPECS) or ""
    code_commit, _, code_date = code.partition(" ")
    code_date = code_date or date or ""
    remote = remote or _git(root, "config", "--get", "remote.origin.url")
    return GitInfo(
        commit=commit or None,
        commit_date=date or None,
        code_date=code_date or None,
        code_commit=code_commit or None,
        remote=redact_url(remote) if remote else None,
    )


def redact_url(url: str) -> str:
    """Drop credentials from a URL (https://user:token@host/... → https://host/...)."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]+@", r"\1", url)
