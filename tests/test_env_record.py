"""The shared environment's record decides nothing the repository's code can write.

Finding 2 of the third attack round: the record (`forkvet-env.json`) lived inside the
environment's folder, which the sandbox mounts writable; the next step trusted its `path` (bound
writable into the sandbox) and its `python`. Now the record is kept beside the folder, and the
path, interpreter, key and device always come from forkvet's own plan.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forkvet import environments as envs
from forkvet.errors import InputError
from forkvet.runtime.sandbox import probe
from forkvet.snapshot import load
from tests.conftest import MakeRepo

pytest.importorskip("uv")

PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# No requirement and no build file: the environment is one `uv venv`, no index reached.
OFFLINE = {
    "UV_NO_INDEX": "1",
    "UV_PYTHON": PY_VERSION,
    "UV_PYTHON_DOWNLOADS": "never",
    "FORKVET_TORCH_BACKEND": "none",
}
# Step 1 (smoke): rewrite every record it can reach to point at a host folder.
POISON = r"""
import json, os, sys
venv = os.environ["VIRTUAL_ENV"]
lie = {"path": sys.argv[1], "python": os.path.realpath(sys.executable),
       "key": os.path.basename(venv).rsplit("-", 1)[-1], "pythonpath": sys.argv[1],
       "own_package": "x", "device": "cpu", "requirements": "requirements.txt"}
for record in (os.path.join(venv, "forkvet-env.json"), venv + ".json"):
    try:
        with open(record, "w") as fh:
            fh.write(json.dumps(lie))
        print("wrote", record)
    except OSError as exc:
        print("cannot write", record, exc.strerror)
"""
# Step 2 (the next step): write into the host folder, if it were mounted writable.
WRITE = r"""
import os, sys
try:
    open(os.path.join(sys.argv[1], "planted"), "w").write("x")
    print("PLANTED")
except OSError as exc:
    print("cannot write", exc.strerror)
"""


def _forkvet(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forkvet", *args],
        cwd=cwd,
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _plan(repo: Path, env_dir: Path) -> envs.Plan:
    snap = load(repo)
    return envs.plan(snap, [], "requirements.txt", None, "cpu", str(env_dir))


def test_a_second_step_cannot_be_steered_by_the_first(make_repo: MakeRepo, tmp_path: Path) -> None:
    if not probe().ok:
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    repo = make_repo({"requirements.txt": "", "poison.py": POISON, "write.py": WRITE})
    victim, env_dir = tmp_path / "victim", tmp_path / "envs"
    victim.mkdir()
    results = []
    for script in ("poison.py", "write.py"):
        out = tmp_path / f"out-{script}"
        proc = _forkvet(
            [
                *("smoke", str(repo), "--env-dir", str(env_dir), "--device", "cpu"),
                *("--no-import-check", "--cmd", f"python {script} {victim}"),
                *("--out", str(out), "--format", "json"),
            ],
            tmp_path,
        )
        assert proc.stdout.startswith("{"), proc.stderr[-2000:]
        results.append(json.loads(proc.stdout))
    first, second = results
    folder = first["environment"]["path"]
    assert not (victim / "planted").exists() and "PLANTED" not in second["tail"], (first, second)
    # the record beside the folder was out of reach (under /tmp, the sandbox's own private
    # copy of it was written); the one inside the folder is ignored
    assert json.loads(Path(folder + ".json").read_text())["path"] == folder
    assert second["environment"]["reused"] is True
    assert second["environment"]["path"] == folder
    assert second["environment"]["python"] == str(Path(folder) / "bin" / "python")


def test_a_lying_record_decides_no_path_and_no_interpreter(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even a record forkvet did not write (planted by anyone) only says how it was built."""
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    repo = make_repo({"requirements.txt": ""})
    p = _plan(repo, tmp_path / "envs")
    built = envs.prepare(p)
    assert built.path == str(p.folder) and not built.reused
    victim = tmp_path / "victim"
    victim.mkdir()
    # the start-up files' digests as forkvet recorded them (without: rebuilt, round 21b F4)
    startup = json.loads(envs.record_path(p.folder).read_text())["startup"]
    lie = {"key": p.key, "path": str(victim), "python": "/bin/sh", "pythonpath": "/"}
    envs.record_path(p.folder).write_text(json.dumps({**lie, "startup": startup}))
    again = envs.prepare(p)
    assert again.reused and again.path == str(p.folder)
    assert again.python == str(envs.venv_python(p.folder))
    assert again.pythonpath in (None, str(p.root))
    assert not (p.folder / "forkvet-env.json").exists()  # nothing read or written in the folder


def test_a_bin_folder_linked_elsewhere_is_rebuilt(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    repo = make_repo({"requirements.txt": ""})
    p = _plan(repo, tmp_path / "envs")
    envs.prepare(p)
    elsewhere = tmp_path / "elsewhere"
    (p.folder / "bin").rename(elsewhere)
    (p.folder / "bin").symlink_to(elsewhere)
    again = envs.prepare(p)
    assert not again.reused and not (p.folder / "bin").is_symlink()


def test_environments_inside_the_repository_are_refused(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    repo = make_repo({"requirements.txt": ""})
    with pytest.raises(InputError, match="inside the repository"):
        envs.prepare(_plan(repo, repo / ".envs"))


def test_two_forks_at_one_path_never_share_an_environment(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forks of one upstream land at the same runner path with the same requirements; the
    code of the first can change its environment (a .pth in site-packages), so the second
    must not reuse it: the key covers which repository it is."""
    repo = make_repo({"m.py": "x = 1\n"})
    snap = load(repo)
    plans = []
    for remote, workflow_repo in (
        ("https://github.com/alice/model", "alice/model"),
        ("https://github.com/mallory/model", "mallory/model"),
    ):
        snap.git.remote = remote
        monkeypatch.setenv("GITHUB_REPOSITORY", workflow_repo)
        plans.append(envs.plan(snap, [], "none", PY_VERSION, env_dir=str(tmp_path / "envs")))
    assert plans[0].folder != plans[1].folder
    snap.git.remote = "https://github.com/alice/model"
    monkeypatch.setenv("GITHUB_REPOSITORY", "alice/model")
    same = envs.plan(snap, [], "none", PY_VERSION, env_dir=str(tmp_path / "envs"))
    assert same.folder == plans[0].folder  # the same repository still reuses its own


def _clone_at(src: Path, dest: Path) -> None:
    """A fresh clone of `src` at `dest` (what replaced the one before it), no remote left."""
    import shutil

    if dest.exists():
        shutil.rmtree(dest)
    subprocess.run(["git", "clone", "-q", str(src), str(dest)], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(dest), "remote", "remove", "origin"], check=True)


@pytest.mark.parametrize("remotes", [True, False], ids=["remotes", "no-remote"])
def test_two_forks_at_one_path_differ_for_a_folder_of_the_checkout(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remotes: bool
) -> None:
    """Round 19b F3: a TARGET inside a larger checkout (`work/models/x`) has no `.git` of its
    own, so no remote: outside Actions the key was the path alone, and fork B, cloned where
    fork A had been, reused the environment A's code had changed."""
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    a = make_repo({"models/x/m.py": "x = 1\n"}, name="alice")
    b = make_repo({"models/x/m.py": "x = 2\n"}, name="mallory")
    work = tmp_path / "work"
    folders = []
    for fork, url in ((a, "https://github.com/alice/model"), (b, "https://github.com/mallory/m")):
        _clone_at(fork, work)
        if remotes:
            subprocess.run(["git", "-C", str(work), "remote", "add", "origin", url], check=True)
        snap = load(work / "models" / "x")
        assert snap.git.remote is None and snap.git.commit is None  # no `.git` of its own
        plan = envs.plan(snap, [], "none", PY_VERSION, env_dir=str(tmp_path / "envs"))
        folders.append(plan.folder)
        again = envs.plan(load(work / "models" / "x"), [], "none", PY_VERSION,
                          env_dir=str(tmp_path / "envs"))  # fmt: skip
        assert again.folder == plan.folder  # the same repository still reuses its own
    assert folders[0] != folders[1]
