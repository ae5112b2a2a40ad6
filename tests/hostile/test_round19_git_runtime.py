"""What the runtime steps' command can leave for git and later steps outside the sandbox
(outside attack, round 19b).

F2: a TARGET inside a larger checkout (`path: models/x`): the enclosing repository's submodule
under it kept a writable gitfile; the command pointed it at a git folder of its own with
core.fsmonitor, which ran in `git status` and `git submodule foreach --recursive` outside.
F7: a `.git` that is a link (or a gitfile into the tree) was not protected: the command swapped
in a forged repository, or configured the linked git folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forkvet.runtime import sandbox
from tests.conftest import MakeRepo, git

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


@pytest.fixture(autouse=True)
def _needs_sandbox() -> None:
    if not sandbox.probe().ok:
        pytest.skip(f"no sandbox on this machine: {sandbox.probe().reason}")


def _smoke(target: Path, tmp_path: Path, cmd: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "smoke", str(target), "--python", sys.executable,
         "--no-import-check", "--format", "json", "--out", str(tmp_path / "o"), "--cmd", cmd],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def _git_status_runs(repo: Path, marker: Path) -> bool:
    """What actions/checkout's clean-up and any later `git status` run, outside the sandbox."""
    for args in (["status", "--short"], ["submodule", "foreach", "--recursive", "true"]):
        subprocess.run(["git", *args], cwd=repo, capture_output=True, timeout=60, check=False)
    return marker.exists()


# The command, in the submodule's folder: its `.git` gitfile pointed at a git folder of its
# own whose core.fsmonitor writes the marker.
PLANT_SUBMODULE = r"""
import os, subprocess, sys
marker, folder = sys.argv[1], sys.argv[2]
os.chdir(folder)
try:
    env = dict(os.environ, GIT_AUTHOR_NAME="x", GIT_AUTHOR_EMAIL="x@e.x",
               GIT_COMMITTER_NAME="x", GIT_COMMITTER_EMAIL="x@e.x")
    for args in (["init", "-q"], ["config", "core.bare", "false"],
                 ["config", "core.worktree", ".."], ["--work-tree=.", "add", "lib.py"],
                 ["--work-tree=.", "commit", "-qm", "e"],
                 ["config", "core.fsmonitor", f"touch {marker}; false"]):
        subprocess.run(["git", "--git-dir=.evilgit", *args], env=env, check=True)
    if os.path.islink(".git"):
        os.unlink(".git")
    with open(".git", "w") as fh:
        fh.write("gitdir: .evilgit\n")
    print("planted gitfile")
except (OSError, subprocess.CalledProcessError) as exc:
    print("refused", exc)
"""


def test_a_submodule_of_the_enclosing_checkout_is_read_only(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    lib = make_repo({"lib.py": "x = 1\n"}, name="lib")
    outer = make_repo({"models/x/plant.py": PLANT_SUBMODULE, "README.md": "o\n"}, name="outer")
    git(outer, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib),
        "models/x/third_party/lib")  # fmt: skip
    git(outer, "commit", "-qm", "sub")
    marker = tmp_path / "markers" / "FSMONITOR_RAN"
    marker.parent.mkdir()
    data = _smoke(outer / "models" / "x", tmp_path, f"python plant.py {marker} third_party/lib")
    assert not [line for line in data["tail"] if "planted" in line], data["tail"]  # type: ignore[attr-defined]
    assert not _git_status_runs(outer, marker)
    assert (outer / "models/x/third_party/lib/lib.py").exists()


FORGE = r"""
import os, shutil, subprocess, sys
marker = sys.argv[1]
env = dict(os.environ, GIT_AUTHOR_NAME="x", GIT_AUTHOR_EMAIL="x@e.x", GIT_COMMITTER_NAME="x",
           GIT_COMMITTER_EMAIL="x@e.x", GIT_COMMITTER_DATE="2015-01-01T00:00:00+00:00")
def run(*a):
    subprocess.run(["git", *a], env=env, capture_output=True)
if os.path.islink(".git"):
    os.unlink(".git")
elif os.path.isfile(".git"):  # a gitfile into the tree: configure the git folder it names
    run("--git-dir=.realgit", "config", "core.fsmonitor", f"touch {marker}; false")
    print("configured" if "fsmonitor" in open(".realgit/config").read() else "refused")
    sys.exit(0)
run("init", "-q", "/tmp/forged")
run("-C", "/tmp/forged", "commit", "-q", "--allow-empty", "-m", "forged")
run("-C", "/tmp/forged", "config", "core.fsmonitor", f"touch {marker}; false")
shutil.copytree("/tmp/forged/.git", ".git")
run("config", "core.worktree", os.getcwd())
print("forged", os.path.isdir(".git/objects"))
"""


@pytest.mark.parametrize("layout", ["link", "dangling-link", "gitfile-into-tree"])
def test_a_linked_git_folder_is_neither_replaced_nor_configured(
    make_repo: MakeRepo, tmp_path: Path, layout: str
) -> None:
    real = make_repo({"train.py": "print(1)\n"}, name="real")
    head = git(real, "rev-parse", "HEAD")
    target = tmp_path / "target"
    target.mkdir()
    (target / "forge.py").write_text(FORGE)
    if layout == "link":
        (target / ".git").symlink_to(real / ".git")
    elif layout == "dangling-link":
        (target / ".git").symlink_to(target / "gitdir_made")
    else:
        os.rename(real / ".git", target / ".realgit")
        (target / ".git").write_text(f"gitdir: {target / '.realgit'}\n")
    marker = tmp_path / "markers" / "FSMON"
    marker.parent.mkdir()
    data = _smoke(target, tmp_path, f"python forge.py {marker}")
    assert data["exit_code"] == 0, data["tail"]
    assert not _git_status_runs(target, marker), data["tail"]
    if layout != "gitfile-into-tree":
        assert os.path.islink(target / ".git")
        assert not (target / "gitdir_made").exists()
    if layout == "link":
        assert os.readlink(target / ".git") == str(real / ".git")
        assert git(target, "rev-parse", "HEAD") == head
    if layout == "gitfile-into-tree":
        assert "fsmonitor" not in (target / ".realgit" / "config").read_text()


def _smoke_proc(target: Path, tmp_path: Path, cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forkvet", "smoke", str(target), "--python", sys.executable,
         "--no-import-check", "--format", "json", "--out", str(tmp_path / "o"), "--cmd", cmd],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_target_through_a_link_in_a_checkout_is_refused(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """Round 19b F9: an earlier step's command replaced `sub` by a link to another folder of
    the runner's user; the next step, `smoke checkout/sub`, mounted that folder writable."""
    repo = make_repo({"sub/m.py": "x = 1\n", "README.md": "r\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "m.py").write_text("x = 1\n")
    shutil.rmtree(repo / "sub")
    (repo / "sub").symlink_to(elsewhere)  # what the earlier command left
    proc = _smoke_proc(repo / "sub", tmp_path, "touch PWNED_VIA_TARGET_LINK")
    assert not (elsewhere / "PWNED_VIA_TARGET_LINK").exists()
    assert proc.returncode != 0 and "symbolic link inside a checkout" in proc.stderr, proc.stderr
    # a link above every checkout is the operator's own: followed
    alias = tmp_path / "alias"
    alias.symlink_to(repo)
    (repo / "sub").unlink()
    (repo / "sub").mkdir()
    (repo / "sub" / "m.py").write_text("x = 1\n")
    ok = _smoke_proc(alias / "sub", tmp_path, "true")
    assert ok.returncode == 0, ok.stderr[-2000:]


def test_a_submodule_git_link_is_put_back(make_repo: MakeRepo, tmp_path: Path) -> None:
    """A submodule's `.git` that is a link (no mount can cover a link's name): swapped for a
    gitfile naming a git folder of the command's, it is put back after the run."""
    lib = make_repo({"lib.py": "x = 1\n"}, name="lib")
    repo = make_repo({"plant.py": PLANT_SUBMODULE}, name="main")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "lib")
    git(repo, "commit", "-qm", "sub")
    (repo / "lib" / ".git").unlink()
    (repo / "lib" / ".git").symlink_to(repo / ".git" / "modules" / "lib")
    marker = tmp_path / "markers" / "FSMONITOR_RAN"
    marker.parent.mkdir()
    data = _smoke(repo, tmp_path, f"python plant.py {marker} lib")
    assert [line for line in data["tail"] if "planted" in line], data["tail"]  # type: ignore[attr-defined]
    assert os.readlink(repo / "lib" / ".git") == str(repo / ".git" / "modules" / "lib")
    assert not _git_status_runs(repo, marker)
