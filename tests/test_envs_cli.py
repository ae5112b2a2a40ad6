"""`forkvet envs list|prune` on real environment folders."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.environments import record_path
from tests.conftest import MakeRepo


def _env(root: Path, name: str, size: int, idle_days: float) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr\n")
    (folder / "blob").write_bytes(b"x" * size)
    marker = record_path(folder)
    marker.write_text("{}")
    when = time.time() - idle_days * 86400
    os.utime(marker, (when, when))
    return folder


def test_list_and_prune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "envs"
    _env(root, "old-aaaa", 2 * 2**20, idle_days=40)
    _env(root, "big-bbbb", 3 * 2**20, idle_days=5)
    _env(root, "new-cccc", 1 * 2**20, idle_days=0)
    (root / "half-built").mkdir()  # no marker: not an environment, never listed or removed
    assert main(["envs", "list", "--env-dir", str(root), "--format", "json"]) == 0
    listed = {e["name"]: e for e in json.loads(capsys.readouterr().out)["list"]}
    assert set(listed) == {"old-aaaa", "big-bbbb", "new-cccc"}
    assert listed["old-aaaa"]["size_mib"] == pytest.approx(2.0, abs=0.01)
    assert listed["old-aaaa"]["idle_days"] >= 39.9
    # unused for 30 days, then the least recently used until 1.5 MiB is left
    args = ["envs", "prune", "--env-dir", str(root), "--older-than", "30"]
    assert main([*args, "--max-size", str(1.5 / 1024), "--format", "json"]) == 0
    removed = [e["name"] for e in json.loads(capsys.readouterr().out)["prune"]]
    assert removed == ["old-aaaa", "big-bbbb"]
    assert sorted(p.name for p in root.iterdir()) == ["half-built", "new-cccc", "new-cccc.json"]
    assert main(["envs", "prune", "--env-dir", str(root)]) == 2  # nothing to prune by: bad input


def test_cache_key_follows_the_pins(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def key(repo: Path) -> str:
        args = ["envs", "key", str(repo), "--device", "cpu", "--env-dir", str(tmp_path / "e")]
        assert main(args) == 0
        return capsys.readouterr().out.strip()

    first = make_repo({"m.py": "import numpy\n", "requirements.txt": "numpy==1.16.0\n"})
    a = key(first)
    b = key(make_repo({"requirements.txt": "numpy==1.17.4\n"}, name="other"))
    # the environment's own key (round 20b F3): another repository with the same pins has
    # an entry of its own; the same repository finds its own again
    third = key(make_repo({"requirements.txt": "numpy==1.16.0\n"}, name="third"))
    assert a != b and a != third and a == key(first) and len(a) == 24


def test_a_huge_requirements_file_is_one_line_error_not_a_read(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 20 GiB (sparse) requirements.txt was read whole for the key: MemoryError, exit 3
    (outside attack, round 9). At most 2 MiB and a byte are read; more is bad input."""
    repo = make_repo({"m.py": "import numpy\n", "requirements.txt": "numpy\n"})
    os.truncate(repo / "requirements.txt", 20 << 30)
    (repo / "setup.py").write_text("")
    os.truncate(repo / "setup.py", 20 << 30)
    started = time.monotonic()
    args = ["envs", "key", str(repo), "--device", "cpu", "--env-dir", str(tmp_path / "e")]
    assert main(args) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "requirements.txt is over 2 MiB" in err
    os.truncate(repo / "requirements.txt", 0)  # the build file alone: hashed from its head
    assert main(args) == 0
