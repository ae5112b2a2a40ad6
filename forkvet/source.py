"""Turn a CLI target (a folder or a git URL) into a Snapshot, cloning with real git if needed."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from forkvet import fstree, hostpaths, rx
from forkvet.errors import ForkvetError, InputError
from forkvet.gitrun import git_env, run_git
from forkvet.snapshot import MAX_FILES, Snapshot, load, redact_url

CLONE_TIMEOUT_S = 300
# A checkout is written only once its tree is known to be under both bounds (a 36-byte
# repository whose folders all point at one subtree checks out to 10^k files): the walker's
# own file cap, and this many bytes of file contents.
MAX_CHECKOUT_BYTES = 4 * 1024**3
_SCP_LIKE = rx.compile(r"^[\w.-]+@[\w.-]+:[^/].*")
_SHA = rx.compile(r"^[0-9a-f]{7,40}$")


def is_git_url(target: str) -> bool:
    return "://" in target or bool(_SCP_LIKE.match(target))


def local_target(target: str) -> Path | None:
    """The folder a CLI target names, or None for a git URL."""
    return None if is_git_url(target) else Path(target).expanduser()


def repo_name_from_url(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail[:-4] if tail.endswith(".git") else tail


def _run_git(
    args: list[str],
    what: str,
    cwd: Path | None = None,
    token: str | None = None,
    git_says: bool = True,
    error: type[InputError] = InputError,
) -> None:
    """git_says=False: `what` is the whole message (git's own words would only repeat it).
    `error`: the InputError class raised when git fails (not for a timeout)."""
    try:
        proc = run_git(args, cwd=cwd, token=token, timeout=CLONE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"{what}: git timed out after {CLONE_TIMEOUT_S} s") from exc
    except FileNotFoundError as exc:
        raise InputError("git is not installed; install git to vet a URL") from exc
    if proc.returncode != 0:
        if not git_says:
            raise error(what)
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        # git's reason is its `fatal:` line; the lines after it are advice ("Please make
        # sure you have the correct access rights / and the repository exists.").
        fatal = [ln.removeprefix("fatal:").strip() for ln in lines if ln.startswith("fatal:")]
        detail = (fatal or lines[-1:] or [f"git exited with {proc.returncode}"])[0]
        raise error(f"{what}: {redact_url(detail)}")


class TreeTooLarge(InputError):
    """The commit's tree is over MAX_FILES files or its byte bound (MAX_CHECKOUT_BYTES, or
    the caller's smaller disk budget): not checked out."""


class CheckoutRefused(InputError):
    """git fetched the commit but refused to check its tree out (a path git will not write,
    such as `.git/config`, or an object it cannot read): the same tree fails the same way
    every time, so this is the repository's content, never worth a retry."""


# What one file costs on disk at least: a file system block (a tree of 200,000 one-byte
# files writes 800 MiB, not 200 KB).
BLOCK = 4096


def disk_bytes(size: int) -> int:
    """The bytes a file of `size` bytes takes on disk: whole blocks, at least one."""
    return max(BLOCK, -(-size // BLOCK) * BLOCK)


def folder_bytes(path: Path) -> int:
    """The bytes the files under path take on disk (allocated blocks; links not followed),
    walked by folder descriptors as the runtime's checks walk (`fstree.walk_fds`: no path
    length limit). The tree may be written meanwhile (a job's clone): what vanishes is
    skipped; anything else the walk cannot look at raises fstree.WalkError (fail closed)."""
    return sum(e.st.st_blocks * 512 for e in fstree.walk_fds(path, live=True) if e.depth)


def dirent_bytes(name: bytes) -> int:
    """What one name adds to its folder's own blocks (ext4: 8 bytes and the name, rounded
    to 4), so a folder of many long names is counted past its first block."""
    return 8 + (len(name) + 3) // 4 * 4


def _tree_size(dest: Path, rev: str, max_bytes: int = MAX_CHECKOUT_BYTES) -> tuple[int, int, bool]:
    """(files, bytes, over) of rev's tree, read from `git ls-tree -r -t -l` as a stream and
    stopped as soon as a bound is passed, so a tree of 10^9 entries costs what 200,000 do.
    Bytes are what the checkout writes on disk: each file in whole blocks (disk_bytes), each
    folder (and submodule folder) a block of its own, each name its entry in its folder
    (round 18c F10: 1,500 one-byte files under chains of 40 folders were counted 6 MiB and
    wrote 248 MiB). Folders are bounded by MAX_FILES as files are (each is an inode)."""
    proc = subprocess.Popen(
        [
            hostpaths.program("git"),
            *("-C", str(dest), "ls-tree", "-r", "-t", "-l", "-z", "--full-tree", rev, "--"),
        ],
        env=git_env(dest),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    timer = threading.Timer(CLONE_TIMEOUT_S, proc.kill)
    timer.start()
    files = folders = size = 0
    try:
        assert proc.stdout is not None
        pending = b""
        while chunk := proc.stdout.read(1 << 16):
            *entries, pending = (pending + chunk).split(b"\0")
            for entry in entries:
                meta, _, path = entry.partition(b"\t")
                fields = meta.split()
                size += dirent_bytes(path.rpartition(b"/")[2])
                if len(fields) > 1 and fields[1] in (b"tree", b"commit"):
                    folders += 1
                    size += BLOCK
                    continue
                files += 1
                size += disk_bytes(int(fields[-1])) if fields and fields[-1].isdigit() else 0
            if files > MAX_FILES or folders > MAX_FILES or size > max_bytes:
                return files, size, True
        proc.wait()  # an unknown rev: the checkout then fails with git's own reason
        return files, size, False
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()


def _checkout(dest: Path, rev: str, what: str, max_bytes: int | None = None) -> None:
    """Check rev out into dest (cloned with --no-checkout), refusing a tree over the bounds
    (and a rev that git would read as an option). max_bytes: a disk budget for the whole
    clone (what git fetched into .git and the checkout together), under MAX_CHECKOUT_BYTES."""
    if rev.startswith("-"):
        raise InputError(f"{what}: {rev!r} is not a ref")
    try:
        fetched = folder_bytes(dest) if max_bytes is not None else 0
    except fstree.WalkError as exc:
        raise ForkvetError(f"{what}: could not measure what git fetched ({exc})") from exc
    bound = MAX_CHECKOUT_BYTES if max_bytes is None else min(MAX_CHECKOUT_BYTES, max_bytes)
    files, size, over = _tree_size(dest, rev, max(0, bound - fetched))
    if over:
        budget = (
            f"{bound >> 20} MiB on disk with the {fetched >> 20} MiB git fetched"
            if max_bytes is not None
            else f"{bound >> 30} GiB"
        )
        raise TreeTooLarge(
            f"{what}: its tree holds over {MAX_FILES} files (or folders) or {budget} "
            f"(at least {files} files, {size >> 20} MiB read so far), forkvet's bounds for a "
            f"checkout; vet a checkout you made yourself (forkvet vet FOLDER)"
        )
    _run_git(["checkout", "-q", rev], what, cwd=dest, error=CheckoutRefused)


def clone(
    url: str,
    dest: Path,
    ref: str | None = None,
    depth: int | None = 1,
    token: str | None = None,
    max_bytes: int | None = None,
) -> None:
    """Clone url into dest (shallow by default), checked out at ref (branch, tag or commit).
    Neither is ever a git option: a value starting with `-` is refused, and git gets the URL
    after `--`. max_bytes: the disk budget of fetch and checkout together (TreeTooLarge past
    it, before anything is checked out); a checkout git refuses raises CheckoutRefused."""
    shown = redact_url(url)
    if url.startswith("-") or (ref or "").startswith("-"):
        raise InputError(f"not a repository or ref: {shown if url.startswith('-') else ref!r}")
    depth_args = [f"--depth={depth}"] if depth else []
    if ref and _SHA.match(ref):
        # A commit cannot be cloned by name: fetch it alone.
        _run_git(["init", "-q", str(dest)], f"could not create {dest}")
        _run_git(["remote", "add", "--", "origin", url], "could not add remote", cwd=dest)
        try:
            _run_git(
                ["fetch", "-q", *depth_args, "origin", ref],
                f"could not fetch {ref} from {shown}",
                cwd=dest,
                token=token,
            )
        except InputError:
            # Servers that refuse fetching by sha: fetch everything, then check out.
            _run_git(["fetch", "-q", "origin"], f"could not clone {shown}", cwd=dest, token=token)
            _checkout(dest, ref, f"no commit {ref} in {shown}", max_bytes)
            return
        _checkout(dest, "FETCH_HEAD", f"could not check out {ref} of {shown}", max_bytes)
        return
    # Never a checkout by clone itself: its tree is measured first (_checkout).
    args = ["clone", "-q", "--no-checkout", "--no-recurse-submodules", *depth_args]
    if ref:
        args += ["--branch", ref]
    _run_git([*args, "--", url, str(dest)], f"could not clone {shown}", token=token)
    _checkout(dest, "HEAD", f"could not check out {shown}", max_bytes)


@contextmanager
def open_target(target: str, ref: str | None = None) -> Iterator[Snapshot]:
    """Yield a Snapshot of target; a clone lives in a temp dir removed afterwards."""
    if is_git_url(target):
        tmp = Path(tempfile.mkdtemp(prefix="forkvet-"))
        try:
            dest = tmp / repo_name_from_url(target)
            clone(target, dest, ref)
            yield load(dest, name=repo_name_from_url(target), remote=target)
        finally:
            fstree.remove_tree(tmp)
        return
    path = Path(target).expanduser()
    if ref is None:
        yield load(path)
        return
    # A ref of a local repository: check it out in a temp clone, leaving the user's tree alone.
    if not path.is_dir():
        yield load(path)  # raises the right InputError
        return
    tmp = Path(tempfile.mkdtemp(prefix="forkvet-"))
    try:
        dest = tmp / path.resolve().name
        _run_git(
            [
                "clone",
                "-q",
                "--no-checkout",
                "--no-recurse-submodules",
                str(path.resolve()),
                str(dest),
            ],
            f"{path} is not a git repository, so --ref cannot be used",
            git_says=False,
        )
        _checkout(dest, ref, f"no ref {ref!r} in {path}")
        snap = load(dest, name=path.resolve().name)
        yield snap
    finally:
        fstree.remove_tree(tmp)
