"""Outside attack, round 6: a folder chain past Python's recursion limit stopped the pickle
check (and crashed the clone's clean-up); pickles in committed `.hg`/`.svn` folders were never
probed; a checkpoint kept in Git LFS was only a warning."""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet import fstree
from forkvet.report import Report
from forkvet.snapshot import load
from forkvet.vet import vet

ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("true",))


def _chain(root: Path, depth: int) -> None:
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
        with open(os.open("x.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as fh:
            fh.write("x\n")
    finally:
        os.close(fd)


def test_walk_matches_os_walk_and_goes_any_depth(tmp_path: Path) -> None:
    rng = random.Random(7)
    for i in range(60):
        parts = [f"p{rng.randrange(4)}" for _ in range(rng.randrange(1, 5))]
        (tmp_path.joinpath(*parts)).mkdir(parents=True, exist_ok=True)
        (tmp_path.joinpath(*parts) / f"f{i}").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "p0", target_is_directory=True)

    def norm(rows: object) -> list[tuple[str, list[str], list[str]]]:
        return sorted((t, sorted(d), sorted(f)) for t, d, f in rows)  # type: ignore[attr-defined]

    assert norm(fstree.walk(tmp_path)) == norm(os.walk(tmp_path))
    deep = tmp_path / "deep"
    deep.mkdir()
    _chain(deep, 1500)
    assert sum(1 for _ in fstree.walk(deep)) == 1501
    fstree.remove_tree(deep)
    assert not deep.exists()


def _repo(tmp_path: Path, files: dict[str, bytes]) -> Path:
    repo = tmp_path / "fork"
    repo.mkdir()
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    return repo


def _commit(repo: Path) -> None:
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_a_folder_chain_past_the_recursion_limit_hides_no_pickle(tmp_path: Path) -> None:
    depth = sys.getrecursionlimit() + 100
    repo = _repo(tmp_path, {"model.pt": pickle.dumps({"state": _Payload()}), "README.md": b"# m\n"})
    _chain(repo, depth)
    try:
        _vet_deep(repo)
    finally:
        fstree.remove_tree(repo)  # pytest's own clean-up recurses per level too


def _vet_deep(repo: Path) -> None:
    report = vet(load(repo))
    assert any(r.path == "model.pt" and r.severity == "error" for r in report.risks), report.risks
    # the App's path: a git URL, cloned, vetted and removed again
    _commit(repo)
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "vet", f"file://{repo}", "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_a_risks_check_that_stops_is_an_error_not_an_empty_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import risks

    def stops(ctx: object) -> object:
        raise RecursionError("deep")

    monkeypatch.setattr(risks, "check", stops)
    report = vet(load(_repo(tmp_path, {"m.py": b"x = 1\n"})))
    assert [r.kind for r in report.risks] == ["pickle-unverified"] and report.has_errors


@pytest.mark.parametrize("folder", [".hg", "checkpoints/.svn", ".hg/store"])
def test_pickles_in_committed_vcs_named_folders_are_probed(tmp_path: Path, folder: str) -> None:
    repo = _repo(tmp_path, {f"{folder}/model.pt": pickle.dumps(_Payload()), "m.py": b"x = 1\n"})
    report = vet(load(repo))
    assert any(r.path == f"{folder}/model.pt" and r.severity == "error" for r in report.risks)


def test_a_checkpoint_in_git_lfs_is_not_verified(tmp_path: Path) -> None:
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 9\n"
    report = vet(load(_repo(tmp_path, {"weights/model.pt": pointer, "m.py": b"x = 1\n"})))
    (risk,) = [r for r in report.risks if r.kind == "lfs-pointer"]
    assert risk.severity == "error" and "NOT verified" in risk.message


def test_no_walk_or_removal_recurses_per_level() -> None:
    """By construction: os.walk and shutil.rmtree recurse once per folder level in Python
    3.11; forkvet and the App walk and remove trees only through forkvet.fstree."""
    import ast

    found = []
    for path in [*ROOT.joinpath("forkvet").rglob("*.py"), *ROOT.joinpath("bot").rglob("*.py")]:
        if path.name == "fstree.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in {("os", "walk"), ("shutil", "rmtree")}
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not found, found


def test_a_file_name_holding_a_line_number_keeps_its_findings_in_place(
    vet_repo: Callable[..., Report],
) -> None:
    # Round 12: `x.py:7: y.py` put its syntax error on x.py, line 7; `a:b.py` stopped the
    # health check (its "line" was `b.py`).
    report = vet_repo(
        {"x.py:7: y.py": "def f(:\n", "a:b.py": "print(undefined_thing)\n", "ok.py": "import os\n"}
    )
    placed = {(f.title, f.path, f.line) for f in report.findings}
    assert ("Syntax error", "x.py:7: y.py", 1) in placed
    assert ("Undefined names", "a:b.py", 1) in placed
    assert not [f for f in report.findings if "failed" in f.message.lower()]
