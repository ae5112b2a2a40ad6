"""Every file a loader can reach through a path in the tree is probed for pickles, or is a
`pickle-unverified` error (outside attack, round 9): a file with a hard link outside the tree,
one reached through a symlink into `.git`, one in a nested `.git` folder, one replaced during
the run. Files that grow after the walk are read only up to the cap."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from forkvet.errors import InputError
from forkvet.snapshot import MAX_TEXT_BYTES, load
from forkvet.vet import vet
from tests.conftest import git
from tests.hostile import payloads as P

EVIL = P.os_system("echo pwned", 2)


def _pickle_errors(root: Path) -> dict[str, str]:
    report = vet(load(root))
    return {
        r.path or "": r.kind for r in report.risks if r.severity == "error" and "pickle" in r.kind
    }


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    (root / "m.py").write_text("import torch\n")
    return root


# -- F1: hard links outside the tree ----------------------------------------------------------
def test_a_pickle_with_a_hard_link_outside_the_tree_is_an_error(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "models" / "model.pt").write_bytes(EVIL)
    os.link(root / "models" / "model.pt", tmp_path / "elsewhere")
    (root / ".cache").mkdir()
    (root / ".cache" / "w.pkl").write_bytes(P.os_system("echo two", 0))
    os.link(root / ".cache" / "w.pkl", tmp_path / "elsewhere2")
    report = vet(load(root))
    found = {r.path: r for r in report.risks if r.severity == "error"}
    assert found["models/model.pt"].kind == "dangerous-pickle"
    assert found[".cache/w.pkl"].kind == "dangerous-pickle"
    # nothing read from a file that may be someone's own is quoted: not even its imports
    assert "system" not in found["models/model.pt"].message
    assert report.has_errors


def test_a_hard_link_outside_the_tree_is_never_quoted(tmp_path: Path) -> None:
    """The private file's import names (here a token spelled as a GLOBAL) stay unsaid."""
    root = _repo(tmp_path)
    private = tmp_path / "private.pkl"
    private.write_bytes(b"cTOKEN_4711_SECRET\nsystem\n(S'x'\ntR.")
    os.link(private, root / "models" / "model.pt")
    report = vet(load(root))
    (risk,) = [r for r in report.risks if r.path == "models/model.pt"]
    assert risk.severity == "error"
    assert "TOKEN_4711" not in report.to_json()


def test_a_second_link_inside_git_is_no_hiding_place(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    git(root, "init", "-q")
    (root / "models" / "model.pt").write_bytes(EVIL)
    os.link(root / "models" / "model.pt", root / ".git" / "objects" / "copy")
    errors = _pickle_errors(root)
    assert errors["models/model.pt"] == "dangerous-pickle"


# -- F10: `.git` folders, and symlinks into them ----------------------------------------------
def test_a_symlink_into_git_reaches_a_probed_file(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    git(root, "init", "-q")
    (root / ".git" / "weights.bin").write_bytes(EVIL)
    (root / "models" / "model.pt").symlink_to("../.git/weights.bin")
    (root / "top.pkl").symlink_to(".git/weights.bin")
    (root / "ckpt").symlink_to(".git")  # a folder link: its files are reached through it
    report = vet(load(root))
    (risk,) = [r for r in report.risks if r.severity == "error"]
    assert (risk.kind, risk.path) == ("dangerous-pickle", ".git/weights.bin")
    # the report names the paths a loader opens too
    assert "ckpt/weights.bin, models/model.pt, top.pkl" in risk.message


def test_nested_git_folders_are_probed_at_any_depth(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    nested = root / "third_party" / "x" / ".git" / "objects"
    nested.mkdir(parents=True)
    (nested / "model.pt").write_bytes(EVIL)
    (root / "sub" / ".git").mkdir(parents=True)
    (root / "sub" / ".git" / "w.pkl").write_bytes(P.os_system("echo x", 0))
    (root / ".cache" / ".git").mkdir(parents=True)
    (root / ".cache" / ".git" / "c.pkl").write_bytes(EVIL)
    assert _pickle_errors(root) == {
        "third_party/x/.git/objects/model.pt": "dangerous-pickle",
        "sub/.git/w.pkl": "dangerous-pickle",
        ".cache/.git/c.pkl": "dangerous-pickle",
    }


def test_a_git_folder_is_probed_but_never_vetted_as_code(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    git(root, "init", "-q")
    (root / ".git" / "hook.py").write_text("import tensorflow\n")
    snap = load(root)
    assert ".git/hook.py" in {f.path for f in snap.store}
    assert snap.get(".git/hook.py") is None
    assert not any(".git" in f.message for f in snap.notices)


def test_a_fresh_clone_has_no_pickle_finding_from_git(tmp_path: Path) -> None:
    src = _repo(tmp_path)
    (src / "README.md").write_text("# r\n")
    git(src, "init", "-q")
    git(src, "add", "-A")
    git(src, "commit", "-qm", "cleanup\nsystem\n")  # a message that spells a GLOBAL
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(src), str(clone))  # hard-links src's objects
    assert _pickle_errors(src) == {}
    assert _pickle_errors(clone) == {}


# -- F3: replaced during the run; special files -----------------------------------------------
def test_a_checkpoint_renamed_over_during_vet_is_never_silent(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    target = root / "models" / "model.pt"
    target.write_bytes(EVIL)
    snap = load(root)
    spare = tmp_path / "swap"
    spare.write_bytes(EVIL)
    os.replace(spare, target)  # the same bytes under a new inode
    report = vet(snap)
    # Its one error says it was NOT verified (the YAML tag search also names it as unread).
    (risk,) = [r for r in report.risks if r.path == "models/model.pt" and r.severity == "error"]
    assert risk.kind == "pickle-unverified"


def test_special_files_are_named_in_a_notice(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    os.mkfifo(root / "models" / "model.pt")
    snap = load(root)
    (notice,) = [f for f in snap.notices if f.title == "Special files not read"]
    assert notice.severity == "notice" and "models/model.pt" in notice.message


# -- F8: a file that grows after the walk -----------------------------------------------------
def test_a_file_grown_after_the_walk_is_read_only_to_the_cap(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "requirements.txt").write_text("numpy\n")
    snap = load(root)
    with open(root / "requirements.txt", "r+b") as fh:  # the same inode, now over the cap
        fh.truncate(64 * MAX_TEXT_BYTES)
    assert len(snap.read_bytes("requirements.txt")) == MAX_TEXT_BYTES + 1
    assert snap.read_text("requirements.txt") is None
    (notice,) = [f for f in snap.access_notices() if f.title == "Large files skipped"]
    assert "requirements.txt" in notice.message


def test_growing_files_keep_vet_bounded(tmp_path: Path) -> None:
    """Every small text file grows to 1 GiB (sparse) after the walk: vet reads each only to
    the cap (it once read such a file whole: 3 GiB)."""
    root = _repo(tmp_path)
    names = ["requirements.txt", "README.md", "CITATION.cff", "nb.ipynb", "tf/README.md"]
    (root / "tf").mkdir()
    for name in names:
        (root / name).write_text("x\n")
    snap = load(root)
    for name in names:
        os.truncate(root / name, 1 << 30)
    tracemalloc.start()
    try:
        vet(snap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 << 20, f"{peak >> 20} MiB"


def test_a_config_grown_after_its_size_was_asked_is_over_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet import config

    root = _repo(tmp_path)
    (root / ".github").mkdir()
    (root / ".github" / "forkvet.yml").write_text("smoke:\n  timeout: 5\n" * 100_000)
    real = os.fstat

    def small(fd: int) -> os.stat_result:  # the size as it was before the writer grew it
        st = real(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))

    monkeypatch.setattr(os, "fstat", small)
    with pytest.raises(InputError, match="is over"):
        config.read_repo_config(root)
