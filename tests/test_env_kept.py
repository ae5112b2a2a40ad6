"""An environment is kept (cached, reused, counted) only within forkvet's limits (round 17b F6).

The repository's code may write its environment's folder: an 8 TiB sparse file there cost it
nothing, made the Actions template's end-of-job `actions/cache` save read 8 TiB, and counted
8 TiB in `forkvet envs list`, so `prune --max-size` evicted the other environments first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forkvet import environments as envs
from forkvet import envsize
from forkvet.cli import main
from forkvet.errors import ForkvetError
from forkvet.runtime.sandbox import probe
from forkvet.snapshot import load
from tests.conftest import MakeRepo

PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
OFFLINE = {
    "UV_NO_INDEX": "1",
    "UV_PYTHON": PY_VERSION,
    "UV_PYTHON_DOWNLOADS": "never",
    "FORKVET_TORCH_BACKEND": "none",
}
TIB = 1 << 40
# The command: a file of 8 TiB of holes in its environment, then a loss curve for train-check.
SPARSE = r"""
import os, sys
if sys.argv[1] != "none":
    with open(os.path.join(os.environ["VIRTUAL_ENV"], sys.argv[1]), "wb") as fh:
        fh.truncate(8 << 40)
for step in range(12):
    print(f"step {step} loss: {2.0 - step * 0.1:.3f}", flush=True)
"""


def _sparse_files_here(tmp_path: Path) -> bool:
    probe_file = tmp_path / "sparse-probe"
    with open(probe_file, "wb") as fh:
        try:
            fh.truncate(TIB)
        except OSError:
            return False
    ok = os.stat(probe_file).st_blocks * 512 < 1 << 20
    probe_file.unlink()
    return ok


@pytest.fixture
def sparse_ok(tmp_path: Path) -> None:
    if not _sparse_files_here(tmp_path):
        pytest.skip("this file system has no sparse files")


def _env(root: Path, name: str, size: int, sparse: int = 0) -> Path:
    folder = root / name
    (folder / "lib").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr\n")
    (folder / "lib" / "blob").write_bytes(os.urandom(size))
    if sparse:
        with open(folder / "lib" / "holes", "wb") as fh:
            fh.truncate(sparse)
    envs.record_path(folder).write_text("{}")
    return folder


def test_the_measure_counts_blocks_and_names_no_file(tmp_path: Path, sparse_ok: None) -> None:
    folder = _env(tmp_path, "e", 1 << 20, sparse=8 * TIB)
    found = envsize.measure(folder)
    assert found.apparent >= 8 * TIB and found.allocated < 4 << 20
    assert found.sparse_files == 1 and found.holes >= 8 * TIB - (1 << 20)
    why = envsize.unfit(found)
    assert why is not None and "1 sparse file(s) claim 8192.0 GiB" in why and "holes" not in why
    # within the limits: kept
    assert envsize.unfit(envsize.measure(_env(tmp_path, "ok", 1 << 20))) is None
    # the walk is bounded: past its entries it stops and the folder is not kept
    for i in range(20):
        (folder / "lib" / f"f{i}").write_text("")
    assert envsize.measure(folder, max_entries=10).complete is False
    assert "more than" in str(envsize.unfit(envsize.Measure(complete=False)))
    assert "its files hold" in str(
        envsize.unfit(envsize.Measure(apparent=envsize.MAX_APPARENT + 1))
    )


def test_envs_list_and_prune_count_what_is_on_disk(
    tmp_path: Path, sparse_ok: None, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "envs"
    _env(root, "holes-cccc", 1 << 20, sparse=8 * TIB)
    for name, idle_days in (("old-aaaa", 10), ("used-bbbb", 5)):
        _env(root, name, 3 << 20)
        when = time.time() - idle_days * 86400
        os.utime(envs.record_path(root / name), (when, when))
    assert main(["envs", "list", "--env-dir", str(root), "--format", "json"]) == 0
    listed = {e["name"]: e["size_mib"] for e in json.loads(capsys.readouterr().out)["list"]}
    assert listed["holes-cccc"] < 2 and listed["old-aaaa"] >= 3, listed
    # the least recently used until 5 MiB are left: 8 TiB of holes weigh nothing, so the
    # environment used 5 days ago stays
    args = ["envs", "prune", "--env-dir", str(root), "--max-size", str(5 / 1024)]
    assert main([*args, "--format", "json"]) == 0
    assert [e["name"] for e in json.loads(capsys.readouterr().out)["prune"]] == ["old-aaaa"]


def test_settle_removes_an_environment_over_the_limits(tmp_path: Path, sparse_ok: None) -> None:
    folder = _env(tmp_path / "envs", "fork-aaaa", 1 << 20, sparse=8 * TIB)
    env = envs.Environment(str(folder / "bin" / "python"), str(folder), "aaaa", "cpu", None, "")
    why = envs.settle(env)
    assert why is not None and env.removed == why and "sparse" in why
    assert not folder.exists() and not envs.record_path(folder).exists()
    kept = _env(tmp_path / "envs", "fork-bbbb", 1 << 20)
    env = envs.Environment(str(kept / "bin" / "python"), str(kept), "bbbb", "cpu", None, "")
    assert envs.settle(env) is None and env.removed is None and kept.is_dir()
    given = envs.Environment(sys.executable, None, None, "cpu", None, "")  # --python
    assert envs.settle(given) is None


def test_a_build_that_leaves_holes_is_not_kept(
    make_repo: MakeRepo, tmp_path: Path, sparse_ok: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository's own build (`pip install -e .`) writes the folder too."""
    repo = make_repo({"requirements.txt": ""})
    plan = envs.plan(load(repo), [], "requirements.txt", None, "cpu", str(tmp_path / "envs"))

    def build(p: envs.Plan, allow_build: bool) -> envs.Environment:
        (p.folder / "bin").mkdir(parents=True)
        with open(p.folder / "bin" / "x", "wb") as fh:
            fh.truncate(8 * TIB)
        return envs.Environment(
            str(p.folder / "bin" / "python"), str(p.folder), p.key, "cpu", None, ""
        )

    monkeypatch.setattr(envs, "_build", build)
    with pytest.raises(ForkvetError, match="the environment's build left 1 sparse file"):
        envs.prepare(plan)
    assert not plan.folder.exists() and not envs.record_path(plan.folder).exists()


def _forkvet(args: list[str], cwd: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", *args, "--format", "json"],
        cwd=cwd,
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stdout.startswith("{"), proc.stderr[-2000:]
    return dict(json.loads(proc.stdout))


@pytest.mark.parametrize("step", ["smoke", "train-check"])
def test_a_run_cannot_leave_holes_in_its_environment(
    make_repo: MakeRepo, tmp_path: Path, sparse_ok: None, step: str
) -> None:
    """Since round 20b F2 the environment is read-only to the command: the sparse file is
    refused (EROFS), the environment stays as forkvet's install left it and is reused."""
    pytest.importorskip("uv")
    if not probe().ok:
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    if step == "train-check":
        pytest.importorskip("matplotlib")
    repo = make_repo({"requirements.txt": "", "run.py": SPARSE})
    env_dir = tmp_path / "envs"
    common = [step, str(repo), "--env-dir", str(env_dir), "--device", "cpu"]
    common += ["--no-import-check"] if step == "smoke" else []

    def run(name: str, out: str) -> dict[str, object]:
        return _forkvet(
            [*common, "--cmd", f"python run.py {name}", "--out", str(tmp_path / out)], tmp_path
        )

    clean = run("none", "o1")
    environment = clean["environment"]
    assert isinstance(environment, dict) and environment["removed"] is None, clean
    folder = Path(str(environment["path"]))
    assert folder.is_dir() and envs.record_path(folder).is_file()  # kept
    holes = run(".cache.bin", "o2")
    environment = holes["environment"]
    assert isinstance(environment, dict) and environment["reused"] is True, holes
    assert environment["removed"] is None, holes
    assert "Read-only file system" in json.dumps(holes), holes
    assert not (folder / ".cache.bin").exists() and envs.record_path(folder).is_file()
    assert sum(os.lstat(p).st_size for p in env_dir.rglob("*") if p.is_file()) < 1 << 30
    again = run("none", "o3")
    assert isinstance(again["environment"], dict) and again["environment"]["reused"] is True
