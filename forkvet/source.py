"""Turn a CLI target (a folder or a git URL) into a Snapshot, cloning with real git if needed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from forkvet import rx
from forkvet.errors import InputError
from forkvet.gitrun import run_git
from forkvet.snapshot import Snapshot, load, redact_url

CLONE_TIMEOUT_S = 300
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
) -> None:
    """git_says=False: `what` is the whole message (git's own words would only repeat it)."""
    try:
        proc = run_git(args, cwd=cwd, token=token, timeout=CLONE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"{what}: git timed out after {CLONE_TIMEOUT_S} s") from exc
    except FileNotFoundError as exc:
        raise InputError("git is not installed; install git to vet a URL") from exc
    if proc.returncode != 0:
        if not git_says:
            raise InputError(what)
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        # git's reason is its `fatal:` line; the lines after it are advice ("Please make
        # sure you have the correct access rights / and the repository exists.").
        fatal = [ln.removeprefix("fatal:").strip() for ln in lines if ln.startswith("fatal:")]
        detail = (fatal or lines[-1:] or [f"git exited with {proc.returncode}"])[0]
        raise InputError(f"{what}: {redact_url(detail)}")


def clone(
    url: str, dest: Path, ref: str | None = None, depth: int | None = 1, token: str | None = None
) -> None:
    """Clone url into dest (shallow by default), checked out at ref (branch, tag or commit)."""
    shown = redact_url(url)
    depth_args = [f"--depth={depth}"] if depth else []
    if ref and _SHA.match(ref):
        # A commit cannot be cloned by name: fetch it alone.
        _run_git(["init", "-q", str(dest)], f"could not create {dest}")
        _run_git(["remote", "add", "origin", url], "could not add remote", cwd=dest)
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
            _run_git(["checkout", "-q", ref], f"no commit {ref} in {shown}", cwd=dest)
            return
        _run_git(["checkout", "-q", "FETCH_HEAD"], f"could not check out {ref}", cwd=dest)
        return
    args = ["clone", "-q", "--no-recurse-submodules", *depth_args]
    if ref:
        args += ["--branch", ref]
    _run_git([*args, url, str(dest)], f"could not clone {shown}", token=token)


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
            shutil.rmtree(tmp, ignore_errors=True)
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
        _run_git(["checkout", "-q", ref], f"no ref {ref!r} in {path}", cwd=dest)
        snap = load(dest, name=path.resolve().name)
        yield snap
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
