"""Walks over what the repository's code could write, and its planted `.git` (outside attack,
round 18b F1-F4).

F2/F3: the command made 30 folders of 200-character names (a path of ~6,000 bytes, past
Linux's PATH_MAX, made relative to its working folder) and left there 8 TiB of sparse files in
its environment, a setuid file and a mode-000 folder: the env-size check and the after-run
repair walked full path strings, lost ENAMETOOLONG as "nothing there", and kept all of it.
F1: holes were counted only in files under a quarter occupied. F4: a TARGET without a `.git`
of its own (a folder of a larger checkout): the command made `TARGET/.git`, and the later
steps, outside the sandbox, recorded its forged commit, date and remote.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from forkvet import envsize, fstree
from forkvet.runtime import sandbox
from forkvet.snapshot import load
from forkvet.source import folder_bytes
from tests.conftest import MakeRepo, git

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

LEVELS, NAME = 30, "d" * 200  # ~6,030 bytes below the top: past PATH_MAX (4,096)
TIB = 1 << 40


def _deep(top: Path) -> int:
    """Make the chain below `top` through folder descriptors; the deepest one, open."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(LEVELS):
        os.mkdir(NAME, dir_fd=fd)
        inner = os.open(NAME, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = inner
    return fd


def _file(
    fd: int, name: str, data: bytes = b"", size: int | None = None, mode: int = 0o644
) -> None:
    out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=fd)
    try:
        os.write(out, data)
        if size is not None:
            os.ftruncate(out, size)
        os.fchmod(out, mode)
    finally:
        os.close(out)


def _mode(fd: int, name: str) -> int:
    return os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode


@pytest.fixture
def sparse_ok(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    with open(probe, "wb") as fh:
        fh.truncate(1 << 30)
    holes = probe.stat().st_blocks * 512 < 1 << 20
    probe.unlink()
    if not holes:
        pytest.skip("this file system has no sparse files")


def _remove(top: Path) -> None:
    sandbox.repair_modes([top])
    fstree.remove_tree(top)


# --- F2: the env-size check --------------------------------------------------------------


def test_the_env_size_check_sees_sparse_files_past_path_max(
    tmp_path: Path, sparse_ok: None
) -> None:
    env = tmp_path / "env"
    env.mkdir()
    fd = _deep(env)
    try:
        for i in range(8):
            _file(fd, f"hole{i}", size=TIB)
    finally:
        os.close(fd)
    found = envsize.measure(env)
    assert found.unwalkable is None and found.complete
    assert found.entries == LEVELS + 8 and found.sparse_files == 8
    assert found.holes >= 8 * TIB - (1 << 20)
    why = envsize.unfit(found)
    assert why is not None and "8 sparse file(s) claim 8192.0 GiB" in why
    assert NAME not in why and "hole" not in why.replace("holes", "")  # never a name
    _remove(env)


# --- F3: the after-run repair ------------------------------------------------------------


def test_the_repair_strips_setuid_and_unlocks_folders_past_path_max(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    fd = _deep(work)
    try:
        _file(fd, "suid_deep", b"#!/bin/sh\n", mode=0o4755)  # the test user's own file
        os.mkdir("locked_deep", dir_fd=fd)
        locked = os.open("locked_deep", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.mkdir("inner", dir_fd=locked)
        os.close(locked)
        os.chmod("locked_deep", 0, dir_fd=fd)
        assert _mode(fd, "suid_deep") & stat.S_ISUID
        assert sandbox.repair_modes([work]) == 2
        assert stat.S_IMODE(_mode(fd, "suid_deep")) == 0o755
        assert stat.S_IMODE(_mode(fd, "locked_deep")) == 0o700
    finally:
        os.close(fd)
    fstree.remove_tree(work)  # the next job's clean-up: nothing locked is left
    assert not work.exists()


def test_the_repair_reaches_any_depth_with_a_few_descriptors(tmp_path: Path) -> None:
    top = tmp_path / "chain"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(2000):  # far more folders than descriptors a process may keep open
        os.mkdir("a", dir_fd=fd)
        os.mkdir("b", dir_fd=fd)
        inner = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = inner
    _file(fd, "tool", mode=0o6755)
    os.close(fd)
    try:
        open_before = len(os.listdir("/proc/self/fd"))
        entries = sum(1 for _ in fstree.walk_fds(top))
        assert entries == 1 + 2000 * 2 + 1
        assert sandbox.repair_modes([top]) == 1
        assert len(os.listdir("/proc/self/fd")) == open_before
        assert all(not e.st.st_mode & stat.S_ISUID for e in fstree.walk_fds(top))
    finally:
        fstree.remove_tree(top)  # pytest's own clean-up recurses once per level


# --- every walk fails closed --------------------------------------------------------------


@pytest.fixture
def unopenable(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A folder named `sealed` cannot be opened (as a mode-000 folder is, for anyone but root;
    the tests may run as root)."""
    real = os.open

    def fake(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if path == "sealed":
            raise PermissionError(13, "Permission denied")
        return real(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(fstree.os, "open", fake)
    yield "sealed"


def test_a_folder_the_walks_cannot_open_is_never_an_empty_one(
    tmp_path: Path, unopenable: str
) -> None:
    top = tmp_path / "env"
    (top / unopenable).mkdir(parents=True)
    (top / unopenable / "suid").write_text("")
    found = envsize.measure(top)
    assert found.unwalkable and "could not walk" in str(envsize.unfit(found))
    with pytest.raises(sandbox.RepairFailed, match="could not repair"):
        sandbox.repair_modes([top])
    with pytest.raises(fstree.WalkError):
        folder_bytes(top)


def test_the_job_disk_walk_counts_past_path_max(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.mkdir()
    fd = _deep(job)
    try:
        _file(fd, "blob", os.urandom(1 << 20))
    finally:
        os.close(fd)
    assert folder_bytes(job) >= 1 << 20
    _remove(job)


# --- F1: holes, whatever fraction of a file they are ---------------------------------------


def test_holes_count_in_files_a_quarter_written(
    tmp_path: Path, sparse_ok: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(envsize, "MAX_HOLES", 1 << 20)
    env = tmp_path / "env"
    env.mkdir()
    fd = os.open(env, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(3):  # each 27% written: over the old rule's quarter
            _file(fd, f"f{i}", os.urandom(300 << 10), size=1100 << 10)
    finally:
        os.close(fd)
    found = envsize.measure(env)
    assert found.sparse_files == 3 and found.holes > 1 << 20
    assert "sparse file(s) claim" in str(envsize.unfit(found))
    # what the files can cost: each file's size or what it occupies, the larger
    assert found.apparent >= 3 * (1100 << 10)


# --- F4: a `.git` the command plants in a TARGET that has none -----------------------------

PLANT_GIT = r"""
import os, subprocess
env = dict(os.environ, GIT_AUTHOR_NAME="x", GIT_AUTHOR_EMAIL="x@example.com",
           GIT_COMMITTER_NAME="x", GIT_COMMITTER_EMAIL="x@example.com",
           GIT_AUTHOR_DATE="2020-09-13T12:26:40+00:00",
           GIT_COMMITTER_DATE="2020-09-13T12:26:40+00:00")
for args in (["init", "-q", "."], ["add", "-A"], ["commit", "-q", "-m", "forged"],
             ["remote", "add", "origin", "https://evil.example/x.git"]):
    r = subprocess.run(["git", *args], env=env, capture_output=True, text=True)
    print("git", args[0], r.returncode, r.stderr.strip()[-120:])
if not os.path.isdir(".git/objects"):  # git could not make it: try by hand
    try:
        os.rename(".git", "moved")
    except OSError as exc:
        print("rename", exc)
    try:
        os.makedirs(".git/refs")
    except OSError as exc:
        print("makedirs", exc)
"""

# The same without the name `.git`: the folder itself made a git folder (HEAD, objects/,
# refs/) whose config names the folder as its work tree; git's discovery takes it for one.
PLANT_BARE = r"""
import os, subprocess
env = dict(os.environ, GIT_AUTHOR_NAME="x", GIT_AUTHOR_EMAIL="x@example.com",
           GIT_COMMITTER_NAME="x", GIT_COMMITTER_EMAIL="x@example.com",
           GIT_AUTHOR_DATE="2020-09-13T12:26:40+00:00",
           GIT_COMMITTER_DATE="2020-09-13T12:26:40+00:00")
here = os.getcwd()
for args in (["init", "-q"], ["config", "core.bare", "false"],
             ["config", "core.worktree", here], ["--work-tree", here, "add", "model.py"],
             ["--work-tree", here, "commit", "-q", "-m", "forged"],
             ["config", "remote.origin.url", "https://evil.example/x.git"]):
    r = subprocess.run(["git", "--git-dir", here, *args], env=env, capture_output=True,
                       text=True)
    print("git", args[0], r.returncode, r.stderr.strip()[-120:])
"""

PLANTS = {"dot-git": PLANT_GIT, "bare-folder": PLANT_BARE}


def _smoke(target: Path, tmp_path: Path, *extra: str) -> dict[str, object]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "forkvet",
            "smoke",
            str(target),
            "--python",
            sys.executable,
            "--no-import-check",
            "--format",
            "json",
            "--out",
            str(tmp_path / "o"),
            *extra,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    data: dict[str, object] = json.loads(proc.stdout)
    return data


@pytest.mark.parametrize("plant", sorted(PLANTS))
@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "unsandboxed"])
def test_a_git_folder_planted_in_a_target_without_one_is_never_read(
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sandboxed: bool,
    plant: str,
) -> None:
    if sandboxed and not sandbox.probe().ok:
        pytest.skip(f"no sandbox on this machine: {sandbox.probe().reason}")
    repo = make_repo({"sub/plant.py": PLANTS[plant], "sub/model.py": "x = 1\n"})
    git(repo, "remote", "add", "origin", "https://github.com/owner/real.git")
    head = git(repo, "rev-parse", "HEAD").strip()
    target = repo / "sub"
    before = load(target).git
    extra = ["--cmd", "python plant.py"]
    if not sandboxed:
        monkeypatch.setenv("FORKVET_NO_SANDBOX", "1")
        extra.append("--allow-unsandboxed")
    data = _smoke(target, tmp_path, *extra)
    assert data["exit_code"] == 0, data["tail"]
    if not sandboxed or plant == "bare-folder":  # nothing stopped it making its repository
        assert any(
            "git --work-tree 0" in str(line) or "git commit 0" in str(line) for line in data["tail"]
        ), data["tail"]  # type: ignore[attr-defined]
    assert not os.path.lexists(target / ".git")
    after = load(target).git
    assert (after.commit, after.commit_date, after.code_date, after.remote) == (
        before.commit,
        before.commit_date,
        before.code_date,
        before.remote,
    )
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert "evil.example" not in git(repo, "config", "--list")


def test_a_target_with_its_own_git_keeps_it(make_repo: MakeRepo, tmp_path: Path) -> None:
    """The placeholder is only where there was no `.git`: a checkout's own is untouched."""
    if not sandbox.probe().ok:
        pytest.skip(f"no sandbox on this machine: {sandbox.probe().reason}")
    repo = make_repo({"plant.py": PLANT_GIT})
    head = git(repo, "rev-parse", "HEAD").strip()
    data = _smoke(repo, tmp_path, "--cmd", "python plant.py")
    assert data["exit_code"] == 0, data["tail"]
    assert load(repo).git.commit == head and (repo / ".git" / "objects").is_dir()
    assert not (repo / "moved").exists()


DEEP_SUID = r"""
import os
fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
for _ in range(30):
    os.mkdir("d" * 200, dir_fd=fd)
    fd = os.open("d" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
out = os.open("suid_deep", os.O_WRONLY | os.O_CREAT, 0o755, dir_fd=fd)
os.fchmod(out, 0o4755)
os.mkdir("locked_deep", 0, dir_fd=fd)
print("planted", oct(os.fstat(out).st_mode))
"""


def test_a_smoke_run_repairs_what_it_left_past_path_max(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    if not sandbox.probe().ok:
        pytest.skip(f"no sandbox on this machine: {sandbox.probe().reason}")
    repo = make_repo({"deep.py": DEEP_SUID})
    data = _smoke(repo, tmp_path, "--cmd", "python deep.py")
    assert data["exit_code"] == 0, data["tail"]
    assert any("0o104755" in str(line) for line in data["tail"]), data["tail"]  # type: ignore[attr-defined]
    modes = {e.name: e.st.st_mode for e in fstree.walk_fds(repo) if e.depth == LEVELS + 1}
    assert stat.S_IMODE(modes["suid_deep"]) == 0o755
    assert stat.S_IMODE(modes["locked_deep"]) == 0o700


def test_the_output_sweep_removes_links_and_fifos_past_path_max(tmp_path: Path) -> None:
    """Without the sandbox (the operator's opt-out) the command sees the real output folder:
    what is not a plain file or folder is removed at any depth."""
    from forkvet.runtime.process import drop_non_files

    out = tmp_path / "out"
    out.mkdir()
    fd = _deep(out)
    try:
        os.mkfifo("pipe.log", dir_fd=fd)
        os.symlink("/etc/passwd", "smoke.log", dir_fd=fd)
        _file(fd, "kept.csv", b"step,loss\n")
        assert sorted(drop_non_files(out)) == ["pipe.log", "smoke.log"]
        assert sorted(os.listdir(fd)) == ["kept.csv"]
    finally:
        os.close(fd)
    _remove(out)


def test_a_tree_past_the_repair_bound_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its bound the repair used to stop quietly: a setuid file after the first two
    million entries stayed."""
    monkeypatch.setattr(sandbox, "MAX_REPAIR_ENTRIES", 10)
    top = tmp_path / "many"
    top.mkdir()
    for i in range(20):
        (top / f"f{i:02}").write_text("")
    with pytest.raises(sandbox.RepairFailed, match="more than 10 files and folders"):
        sandbox.repair_modes([top])


def test_past_the_repair_bound_every_entry_is_still_repaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 19b F5: past the bound the walk stopped repairing, and the command chose (with 2
    million hard links first) which setuid files and mode-000 folders stayed on the host. It
    is still an error, and nothing is left."""
    monkeypatch.setattr(sandbox, "MAX_REPAIR_ENTRIES", 10)
    top = tmp_path / "many"
    (top / "zz").mkdir(parents=True)
    for i in range(20):
        os.link(_empty(top), top / f"l{i:02}")
    (top / "zz" / "suid").write_text("#!/bin/sh\n")
    os.chmod(top / "zz" / "suid", 0o4755)
    (top / "zz" / "locked" / "inner").mkdir(parents=True)
    os.chmod(top / "zz" / "locked", 0)
    with pytest.raises(sandbox.RepairFailed, match="more than 10 files and folders"):
        sandbox.repair_modes([top])
    assert stat.S_IMODE(os.lstat(top / "zz" / "suid").st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(top / "zz" / "locked").st_mode) & 0o700 == 0o700


def _empty(top: Path) -> Path:
    src = top / "src"
    if not src.exists():
        src.write_text("")
    return src
