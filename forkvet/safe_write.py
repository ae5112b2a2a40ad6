"""Every file forkvet writes goes through here: no write follows a link a repository planted.

A vetted repository can commit symlinks (`forkvet-env -> ~/.config`, `requirements.txt ->
~/.bashrc`) and name files with newlines. So an output folder is opened one component at a
time, without following links, from the first component forkvet cannot vouch for (inside the
vetted repository, or not existing yet), and created fresh where missing; files are then created
inside it relative to that open folder with O_NOFOLLOW, replacing only a verified regular file
with a single link. Names are one plain path component. A refusal is an UnsafeOutput (an input
error: one line, exit 2). Every byte written here, and a command's `--output` on standard output,
passes `forkvet.redact` first: no URL in any output carries credentials.

Default locations keep outputs out of the vetted repository: `default_out` is a folder in the
current directory unless that directory is inside the target, else a per-user folder under
`${XDG_CACHE_HOME:-~/.cache}/forkvet/`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import stat
import sys
from pathlib import Path
from types import TracebackType
from typing import TextIO

from forkvet import rx
from forkvet.errors import InputError
from forkvet.redact import redact, redact_bytes

_BAD_NAME = rx.compile(r"[/\x00-\x1f\x7f\x85\u2028\u2029]")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeOutput(InputError):
    """A write forkvet refuses: a link, a special file, or a name that is not one plain name."""


def check_name(name: str) -> str:
    if not name or name in (".", "..") or len(name.encode()) > 255 or _BAD_NAME.search(name):
        raise UnsafeOutput(f"refusing to write a file named {name!r}: not one plain file name")
    return name


def safe_name(text: str, fallback: str = "output") -> str:
    """A repository-supplied string made into a usable file name (for derived names)."""
    name = rx.sub(r"[^\w.+-]+", "_", text).strip("._")[:120]
    return name or fallback


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _trusted_prefix(path: Path, repo: Path | None) -> tuple[Path, tuple[str, ...]]:
    """(a real folder forkvet may open by name, the components of path below it, to walk
    without following links). Links on the way are followed only while they are the user's own:
    the walk stops at the repository (however its path is spelled), at the first missing
    component, and always before path's last component."""
    root = Path(os.path.realpath(repo)) if repo is not None else None
    parts = path.parts[1:]
    current = Path(path.anchor)
    for i, part in enumerate(parts[:-1]):
        if root is not None and _inside(current, root):
            return current, parts[i:]
        candidate = current / part
        if not candidate.is_dir():  # missing (or not a folder: the walk says so)
            return current, parts[i:]
        current = Path(os.path.realpath(candidate))
    return current, parts[-1:]


class OutputDir:
    """An output folder opened without following links; write files into it by name."""

    def __init__(self, path: Path | str, repo: Path | None = None, create: bool = True) -> None:
        self.path = Path(os.path.abspath(path))
        if self.path == Path(self.path.anchor):
            raise UnsafeOutput(f"refusing to write into {self.path}")
        prefix, below = _trusted_prefix(self.path, repo)
        try:
            fd = os.open(prefix, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise UnsafeOutput(f"cannot open {prefix}: {exc.strerror}") from exc
        for part in below:
            try:
                name = check_name(part)
            except UnsafeOutput:
                os.close(fd)
                raise
            fd = self._step(fd, name, create)  # closes the parent, also on failure
        self.fd = fd

    def _step(self, parent: int, name: str, create: bool) -> int:
        try:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o755, dir_fd=parent)
            return os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ENOENT and not create:
                raise _Missing from exc
            if _is_link(parent, name):
                raise UnsafeOutput(
                    f"refusing to write into {self.path}: {name} is a symbolic link"
                ) from exc
            what = "not a folder" if exc.errno == errno.ENOTDIR else exc.strerror
            raise UnsafeOutput(f"cannot use output folder {self.path}: {name}: {what}") from exc
        finally:
            os.close(parent)

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def subdir(self, name: str) -> OutputDir:
        return OutputDir(self.path / check_name(name), repo=self.path)

    def open_fd(self, name: str) -> int:
        """A descriptor for writing name (created, or a verified regular file truncated)."""
        check_name(name)
        try:
            return os.open(name, _FILE_FLAGS | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=self.fd)
        except FileExistsError:
            pass
        except OSError as exc:
            raise UnsafeOutput(f"cannot write {self.path / name}: {exc.strerror}") from exc
        st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            raise UnsafeOutput(f"refusing to overwrite {self.path / name}: it is {kind}")
        if st.st_nlink > 1:
            raise UnsafeOutput(f"refusing to overwrite {self.path / name}: it is a hard link")
        try:
            return os.open(name, _FILE_FLAGS | os.O_TRUNC, dir_fd=self.fd)
        except OSError as exc:  # swapped for a link since the check: O_NOFOLLOW refuses it
            raise UnsafeOutput(f"refusing to overwrite {self.path / name}: {exc.strerror}") from exc

    def check(self, name: str) -> None:
        """Refuse now what open_fd(name) would refuse later (a link, a special file, a hard
        link); writes nothing."""
        check_name(name)
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(st.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            raise UnsafeOutput(f"refusing to overwrite {self.path / name}: it is {kind}")
        if st.st_nlink > 1:
            raise UnsafeOutput(f"refusing to overwrite {self.path / name}: it is a hard link")

    def write_bytes(self, name: str, data: bytes) -> Path:
        fd = self.open_fd(name)
        with os.fdopen(fd, "wb") as f:
            f.write(redact_bytes(data))  # every output, whoever made its text
        return self.path / name

    def write_text(self, name: str, text: str) -> Path:
        return self.write_bytes(name, text.encode("utf-8"))


class _Missing(Exception):
    """A folder on the way does not exist yet (only when not creating)."""


def check_outputs(folder: Path, names: list[str], repo: Path | None = None) -> None:
    """Refuse, before the first file is written, every output a later write would refuse:
    `names` are file names in folder or `sub/name` in a subfolder. A link where the folder, a
    subfolder or a file should be is an UnsafeOutput; nothing is created."""
    subs: dict[str, list[str]] = {}
    for name in names:
        sub, _, base = name.rpartition("/")
        subs.setdefault(sub, []).append(base)
    for sub, files in subs.items():
        path = Path(folder) / check_name(sub) if sub else Path(folder)
        try:
            opened = OutputDir(path, repo=repo, create=False)
        except _Missing:
            continue  # created fresh when written: nothing there to refuse
        with opened:
            for name in files:
                opened.check(name)


def _is_link(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


def write_file(path: Path | str, text: str, repo: Path | None = None) -> Path:
    """Write one file (e.g. `--output report.json`) the same careful way."""
    path = Path(os.path.abspath(path))
    with OutputDir(path.parent, repo=repo) as out:
        return out.write_text(check_name(path.name), text)


def open_log(path: Path, repo: Path | None = None) -> int:
    """A descriptor to write a log file at path without following links."""
    with OutputDir(path.parent, repo=repo) as out:
        return out.open_fd(path.name)


class _RedactedText(io.TextIOWrapper):
    """A text log whose every write passes forkvet.redact (a log is written a line at a time)."""

    def write(self, s: str) -> int:
        return super().write(redact(s))


def open_text_log(path: Path, repo: Path | None = None) -> TextIO:
    """open_log as a line-buffered UTF-8 text file, credentials removed from what is written."""
    return _RedactedText(
        open(open_log(path, repo=repo), "wb"), encoding="utf-8", line_buffering=True
    )


def default_out(folder: str, target: Path | None) -> Path:
    """Where a command writes when no --out is given: `./<folder>`, unless the current
    directory is inside the vetted repository (`forkvet env .`): then the per-user folder
    `${XDG_CACHE_HOME:-~/.cache}/forkvet/<repo>-<hash of its path>/<folder>`."""
    here = Path.cwd()
    if target is None or not _inside(here.resolve(), target.resolve()):
        return here / folder
    return user_out(folder, target)


def user_out(folder: str, target: Path) -> Path:
    """The per-user output folder of a repository (outside it, whatever the current folder)."""
    root = target.resolve()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:8]
    return cache / "forkvet" / f"{safe_name(root.name, 'repo')}-{digest}" / folder


def write_output(text: str, output: str | None, repo: Path | None = None) -> None:
    """A command's --output: standard output for none or "-", else the file (write_file)."""
    if output in (None, "-"):
        sys.stdout.write(redact(text))
        return
    assert output is not None
    path = Path(output)
    if path.is_dir():
        raise InputError(f"--output {output} is a directory; give a file name")
    try:
        write_file(path, text, repo=repo)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from exc


def output_format(fmt: str | None, output: str | None) -> str:
    """--format as given; else what -o FILE's extension says (r.json: JSON); else text."""
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower() if output and output != "-" else ""
    return {".json": "json", ".md": "markdown", ".markdown": "markdown", ".sarif": "sarif"}.get(
        suffix, "text"
    )
