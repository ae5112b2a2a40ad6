"""The file walker: files are keyed by their bytes name (shown escaped, one-to-one), skipped
folders are named and still probed for pickles, what git tracks is never skipped, and a file
swapped for a symlink (or another file) during the run is never read."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from forkvet.snapshot import _index_paths, git_tracked, load, shown_name
from forkvet.vet import vet
from tests.conftest import MakeRepo, git, write_files
from tests.hostile import payloads as P

SECRET = "SECRET-OUTSIDE-THE-TREE"


def _dangerous(root: Path) -> set[str]:
    report = vet(load(root))
    return {r.path or "" for r in report.risks if r.kind == "dangerous-pickle"}


# -- names are bytes -------------------------------------------------------------------------
def test_a_raw_byte_name_and_its_escaped_spelling_are_two_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / os.fsdecode(b"\xff.pkl")).write_bytes(b"\x80\x02K\x01.")  # a harmless pickle
    (root / "\\xff.pkl").write_bytes(P.os_system("true", 2))  # the name reads `\xff.pkl`
    (root / "README.md").write_text("# r\n", encoding="utf-8")
    snap = load(root)
    assert sorted(f.path for f in snap.files) == ["README.md", "\\\\xff.pkl", "\\xff.pkl"]
    assert snap.read_bytes("\\xff.pkl") == b"\x80\x02K\x01."
    assert snap.read_bytes("\\\\xff.pkl").startswith(b"\x80\x02")
    assert _dangerous(root) == {"\\\\xff.pkl"}


def test_shown_names_are_one_to_one() -> None:
    rng = random.Random(7)
    alphabet = [b"\\", b"x", b"f", b"0", b"a", b"\xff", b"\xc3", b"\xa9", b"\xe2\x82\xac", b"."]
    names = {
        b"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 7))) for _ in range(20000)
    }
    shown = {shown_name(n) for n in names}
    assert len(shown) == len(names)
    for name in shown:
        name.encode("utf-8")  # valid text throughout
    assert shown_name(b"caf\xc3\xa9.py") == "café.py"  # plain UTF-8 names unchanged
    assert shown_name(b"d\xff/m.pkl") == "d\\xff/m.pkl"


# -- skipped folders -------------------------------------------------------------------------
SKIPPED = [
    "checkpoints/.cache/model.pkl",
    "venv/lib/python3.11/site-packages/pkg/data.pkl",
    "node_modules/a/b.pkl",
    "src/__pycache__/m.pkl",
    "notebooks/.ipynb_checkpoints/c.pkl",
    ".tox/py/x.pkl",
]


def test_pickles_in_skipped_folders_are_probed_and_the_folders_named(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    files: dict[str, str | bytes] = {p: P.os_system("true", 2) for p in SKIPPED}
    files["train.py"] = "import torch\nm = torch.load('checkpoints/.cache/model.pkl')\n"
    files["venv/lib/python3.11/site-packages/pkg/mod.py"] = "import sklearn\n"
    write_files(root, files)
    assert _dangerous(root) == set(SKIPPED)
    report = vet(load(root))
    notice = next(f for f in report.findings if f.title == "Folders not vetted as code")
    for folder in ("checkpoints/.cache/", "venv/", "node_modules/", "src/__pycache__/"):
        assert folder in notice.message
    assert "probed for pickles" in notice.message
    assert "sklearn" not in report.dependencies.imported  # not vetted as the project's code


def test_what_git_tracks_in_a_skipped_folder_is_vetted(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "train.py": "import torch\n",
            ".cache/helper.py": "import scipy\n",
            "venv/tool.py": "import sklearn\n",
            ".gitignore": "venv/\n",
        }
    )
    (root / ".cache" / "untracked.py").write_text("import pandas\n", encoding="utf-8")
    snap = load(root)
    paths = {f.path for f in snap.files}
    assert ".cache/helper.py" in paths  # tracked: the project's, whatever the folder
    assert ".cache/untracked.py" not in paths and "venv/tool.py" not in paths
    assert {f.path for f in snap.skipped} == {".cache/untracked.py", "venv/tool.py"}
    imported = vet(snap).dependencies.imported
    assert "scipy" in imported and "pandas" not in imported and "sklearn" not in imported


def test_what_a_sparse_checkout_leaves_out_is_an_unverified_error(make_repo: MakeRepo) -> None:
    # Round 12: a tracked checkpoint outside the sparse checkout was never mentioned; any
    # later `git checkout` brings it, and the clean report would have vouched for it.
    root = make_repo(
        {
            "src/train.py": "import torch\n",
            "README.md": "# m\n",
            "ckpt/model.pkl": P.os_system("true", 2),
            **{f"ckpt/part{i}.bin": b"x" for i in range(7)},
        }
    )
    git(root, "sparse-checkout", "set", "--no-cone", "/src/", "/README.md")
    assert not (root / "ckpt").exists()
    report = vet(load(root))
    absent = [r for r in report.risks if r.kind == "tracked-absent"]
    assert len(absent) == 1 and absent[0].severity == "error" and report.has_errors
    assert absent[0].message.startswith("8 file(s) git tracks are not in the working tree")
    assert "ckpt/model.pkl" in absent[0].message and "and 3 more" in absent[0].message
    git(root, "sparse-checkout", "disable")
    assert _dangerous(root) == {"ckpt/model.pkl"}
    assert not [r for r in vet(load(root)).risks if r.kind == "tracked-absent"]


def test_a_submodule_is_not_a_tracked_file_left_out(tmp_path: Path, make_repo: MakeRepo) -> None:
    sub = make_repo({"lib.py": "x = 1\n"}, name="sub")
    root = make_repo({"train.py": "import torch\n"}, name="main")
    subprocess.run(
        [
            "git",
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            str(sub),
            "third/sub",
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )
    shutil.rmtree(root / "third" / "sub")  # as a clone without --recursive leaves it: empty
    (root / "third" / "sub").mkdir()
    assert b"third/sub" not in git_tracked(root)
    assert not [r for r in vet(load(root)).risks if r.kind == "tracked-absent"]


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_the_index_is_read_in_every_version(make_repo: MakeRepo, version: str) -> None:
    files: dict[str, str | bytes] = {f"d{i}/{'x' * i}.py": "" for i in range(30)}
    files[".cache/deep/a b/é.py"] = ""
    root = make_repo(files)
    if version == "3":
        git(root, "update-index", "--skip-worktree", "d3/xxx.py")  # an extended entry
    git(root, "update-index", f"--index-version={version}")
    listed = subprocess.run(
        ["git", "-c", "core.quotePath=off", "ls-files", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")[:-1]
    assert sorted(git_tracked(root)) == sorted(listed)
    data = (root / ".git" / "index").read_bytes()
    assert int.from_bytes(data[4:8], "big") == int(version)


def test_a_forged_index_only_adds_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_files(root, {"train.py": "", ".cache/a.py": ""})
    (root / ".git").mkdir()
    for junk in (b"", b"DIRC", b"DIRC\x00\x00\x00\x02\xff\xff\xff\xff", os.urandom(500)):
        (root / ".git" / "index").write_bytes(junk)
        assert git_tracked(root) == frozenset()
        assert [f.path for f in load(root).files] == ["train.py"]
    with pytest.raises(ValueError):
        _index_paths(b"XXXX" + b"\x00" * 20)
    # .git/index as a symlink to another repository's index is not read
    other = tmp_path / "other"
    other.mkdir()
    (other / "index").write_bytes(b"")
    (root / ".git" / "index").unlink()
    (root / ".git" / "index").symlink_to(other / "index")
    assert git_tracked(root) == frozenset()


# -- files swapped during the run --------------------------------------------------------------
@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "README.md").write_text(SECRET, encoding="utf-8")
    (folder / "notes.md").write_text(SECRET, encoding="utf-8")
    return folder


def test_a_file_swapped_for_a_symlink_is_not_read(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "repo"
    write_files(root, {"README.md": "# fine\n", "docs/notes.md": "fine\n", "other.md": "x\n"})
    snap = load(root)
    (root / "README.md").unlink()
    (root / "README.md").symlink_to(outside / "README.md")
    shutil_rmtree(root / "docs")
    (root / "docs").symlink_to(outside)  # a folder swapped: the level above the file
    for path in ("README.md", "docs/notes.md"):
        assert snap.get(path) is not None
        with pytest.raises(OSError):
            snap.read_bytes(path)
        assert snap.read_text(path) is None
    assert SECRET not in snap.readme_text()


def test_a_file_replaced_by_another_file_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_files(root, {"README.md": "# fine\n", "x.md": "other\n"})
    snap = load(root)
    os.replace(root / "x.md", root / "README.md")  # same name, another inode
    with pytest.raises(OSError):
        snap.read_bytes("README.md")


def test_a_file_swapped_for_a_fifo_does_not_hang(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_files(root, {"README.md": "# fine\n"})
    snap = load(root)
    (root / "README.md").unlink()
    os.mkfifo(root / "README.md")
    with pytest.raises(OSError):
        snap.read_bytes("README.md")


def test_flipping_a_file_and_a_symlink_never_leaks(tmp_path: Path, outside: Path) -> None:
    """The race from the report (2 of 25 runs): a file flipped between itself and a symlink to
    an outside file while vet reads. No read ever returns the outside file."""
    root = tmp_path / "repo"
    write_files(root, {"README.md": "# fine\n", "train.py": "import torch\n"})
    snap = load(root)
    stop = threading.Event()

    keep = root / "keep.tmp"
    os.link(root / "README.md", keep)  # the walked file, to swap back in

    def flip() -> None:
        while not stop.is_set():
            (root / "l.tmp").symlink_to(outside / "README.md")
            os.replace(root / "l.tmp", root / "README.md")
            os.link(keep, root / "t.tmp")
            os.replace(root / "t.tmp", root / "README.md")

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        for _ in range(500):
            try:
                data = snap.read_bytes("README.md")
            except OSError:
                continue
            assert SECRET.encode() not in data
    finally:
        stop.set()
        flipper.join()


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


def test_a_checkpoint_named_link_leaving_the_tree_is_an_unverified_error(
    tmp_path: Path, outside: Path
) -> None:
    # Round 12: `model.pt -> <a file on the runner>` was a notice; torch.load reads through it.
    root = tmp_path / "repo"
    root.mkdir()
    (root / "train.py").write_text("import torch\ntorch.load('weights/model.pt')\n")
    (root / "weights").mkdir()
    (root / "weights" / "model.pt").symlink_to(outside)
    (root / "data").symlink_to("/mnt/datasets/imagenet")  # a data folder on the authors' disk
    report = vet(load(root))
    out = [r for r in report.risks if r.kind == "link-outside"]
    # Round 18a F9: any name a loader may open counts, not a list of checkpoint suffixes; the
    # data folder on the authors' disk is data a loader reads that forkvet never saw too.
    assert [r.severity for r in out] == ["error"]
    assert "weights/model.pt" in out[0].message and "data" in out[0].message
    assert "NOT verified" in out[0].message and SECRET not in out[0].message
    assert report.has_errors
