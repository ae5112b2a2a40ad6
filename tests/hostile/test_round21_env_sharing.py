"""Round 20b F1-F3: what one run of the repository's code can leave for a later run.

- F2: the environment was writable to the command, and its key had no commit: a `.pth`
  planted by one commit ran in every later commit's run, with that run's secrets. Now the
  environment is read-only inside the sandbox, and its key holds the content of the
  repository whenever forkvet's install reads it (its own build).
- F3: in the Actions, `GITHUB_REPOSITORY` (the workflow's) was the identity of every fork
  without a remote of its own: fork A's `.pth` read fork B's secret. Now it is the identity
  only of the workflow's own checkout, and the Actions' cache key is the environment's key.
- F1: `/run`, `/dev` and `/dev/shm` were writable, unbounded RAM-backed tmpfs. Now `/run`
  and `/dev` are read-only and `/dev/shm` is bounded (`FORKVET_COMMAND_SHM_MB`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from forkvet import environments as envs
from forkvet.runtime import process, sandbox
from forkvet.snapshot import load

PLANT = """\
import os, site, sys
target = os.path.join(site.getsitepackages()[0], "zz_persist.pth")
line = "import os, sys; sys.stderr.write('PTH-RAN token=%s\\\\n' % os.environ.get('MYTOKEN'))\\n"
try:
    with open(target, "w") as fh:
        fh.write(line)
    print("PLANTED")
except OSError as exc:
    print("REFUSED", exc.errno)
"""


def _sandbox_ok() -> None:
    if not sandbox.probe().ok:
        pytest.skip("needs bubblewrap")


def _venv(where: Path) -> Path:
    venv = where / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def _run(repo: Path, venv: Path, command: str, out: Path, **kw: object) -> str:
    env = {"VIRTUAL_ENV": str(venv), "PATH": f"{venv}/bin:/usr/bin:/bin"}
    process.run(command, repo, 120, log_path=out / "smoke.log", env=env, **kw)  # type: ignore[arg-type]
    return (out / "smoke.log").read_text()


def test_a_pth_written_by_run_one_never_runs_in_run_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    venv = _venv(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "plant.py").write_text(PLANT)
    first = _run(repo, venv, "python plant.py", tmp_path / "o1")
    assert "REFUSED" in first and "PLANTED" not in first, first
    site_packages = next(venv.glob("lib/python*/site-packages"))
    assert not (site_packages / "zz_persist.pth").exists()
    # the next commit's run, with a secret passed on purpose: nothing of run 1's runs in it
    (repo / "plant.py").write_text("print('benign commit')\n")
    monkeypatch.setenv("MYTOKEN", "hf_operatorsecretvalue")
    second = _run(repo, venv, "python plant.py", tmp_path / "o2", pass_env=["MYTOKEN"])
    assert "benign commit" in second
    assert "PTH-RAN" not in second and "hf_operatorsecretvalue" not in second


def test_the_repository_stays_writable_and_the_environment_is_seen(tmp_path: Path) -> None:
    _sandbox_ok()
    venv = _venv(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    code = "import sys; open('made.txt', 'w').write(sys.prefix); print('PREFIX', sys.prefix)"
    (repo / "t.py").write_text(code)
    log = _run(repo, venv, "python t.py", tmp_path / "o")
    assert f"PREFIX {venv}" in log, log
    assert (repo / "made.txt").read_text() == str(venv)


def _fork(root: Path, text: str, own_build: bool = False) -> None:
    root.mkdir(exist_ok=True)
    for old in root.iterdir():
        old.unlink()
    (root / "requirements.txt").write_text("six\n")
    (root / "t.py").write_text(text)
    if own_build:
        (root / "setup.py").write_text("from setuptools import setup\nsetup(name='x')\n")


def _plan(root: Path, env_dir: Path) -> envs.Plan:
    snap = load(root.resolve())
    return envs.plan(snap, ["six"], "requirements.txt", None, "cpu", str(env_dir))


def test_forks_a_and_b_at_one_path_in_the_actions_never_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".git").mkdir(parents=True)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/model-vetting")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    slot = workspace / "slot"  # a fork downloaded without git into the workflow's checkout
    _fork(slot, "print('fork A')\n")
    key_a = _plan(slot, tmp_path / "envs").key
    _fork(slot, "print('fork B, by another author')\n")
    key_b = _plan(slot, tmp_path / "envs").key
    assert key_a != key_b
    from forkvet import envkey

    # the workflow's own checkout keeps its identity: the same key across its commits
    assert envkey.workflow_checkout(workspace)
    assert not envkey.workflow_checkout(slot)
    assert not envkey.workflow_checkout(tmp_path / "elsewhere")


def test_the_actions_cache_key_holds_the_identity_and_the_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.envs_cli import cache_key

    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/model-vetting")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "ws"))
    slot = tmp_path / "ws" / "slot"
    slot.parent.mkdir()
    _fork(slot, "print('fork A')\n")
    a = cache_key(str(slot), None, "cpu", str(tmp_path / "envs"))
    _fork(slot, "print('fork B, by another author')\n")
    b = cache_key(str(slot), None, "cpu", str(tmp_path / "envs"))
    assert a != b


def test_the_key_holds_the_content_the_own_build_reads(tmp_path: Path) -> None:
    """Same path, same requirements, same names and sizes: a build of other code."""
    repo = tmp_path / "repo"
    _fork(repo, "print('one')\n", own_build=True)
    first = _plan(repo, tmp_path / "envs").key
    _fork(repo, "print('two')\n", own_build=True)  # the same size, other bytes
    assert _plan(repo, tmp_path / "envs").key != first
    # no own build: the install reads nothing of the repository, and the key stays
    (repo / "setup.py").unlink()
    plain = _plan(repo, tmp_path / "envs").key
    (repo / "t.py").write_text("print('six')\n")
    assert _plan(repo, tmp_path / "envs").key == plain


def test_content_past_the_bound_is_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet import envkey

    repo = tmp_path / "repo"
    _fork(repo, "print('one')\n", own_build=True)
    monkeypatch.setattr(envkey, "MAX_CONTENT_BYTES", 10)
    one, two = _plan(repo, tmp_path / "envs"), _plan(repo, tmp_path / "envs")
    assert one.key != two.key
    assert "never reused" in one.content_unread
    assert any("never reused" in line for line in one.describe())


_SHM = """\
import errno, os
found = {}
for folder in ("/run", "/dev"):
    try:
        open(os.path.join(folder, "fill.bin"), "wb").close()
        found[folder] = "written"
    except OSError as exc:
        found[folder] = errno.errorcode[exc.errno]
st = os.statvfs("/dev/shm")
found["shm_mib"] = st.f_blocks * st.f_frsize >> 20
try:
    with open("/dev/shm/fill.bin", "wb") as fh:
        for _ in range(80):
            fh.write(b"\\0" * (1 << 20))
    found["shm"] = "written"
except OSError as exc:
    found["shm"] = errno.errorcode[exc.errno]
open("/dev/null", "w").write("x")  # device nodes still work
print(found)
"""


def test_dev_shm_is_bounded_and_run_and_dev_are_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    monkeypatch.setenv("FORKVET_COMMAND_SHM_MB", "64")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "fill.py").write_text(_SHM)
    with sandbox.sandboxed([sys.executable, "-I", "fill.py"], repo) as (argv, how):
        assert how == sandbox.ISOLATED
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=repo)
    assert out.returncode == 0, out.stderr[-2000:]
    found = eval(out.stdout.strip().splitlines()[-1])  # our own dict's repr
    assert found["/run"] == "EROFS" and found["/dev"] == "EROFS", found
    assert found["shm_mib"] == 64 and found["shm"] == "ENOSPC", found


def test_multiprocessing_still_works_in_the_bounded_shm(tmp_path: Path) -> None:
    _sandbox_ok()
    code = (
        "import multiprocessing as mp\n"
        "if __name__ == '__main__':\n"
        "    lock = mp.Lock()\n"
        "    with mp.get_context('spawn').Pool(2) as pool:\n"
        "        print('SUM', sum(pool.map(abs, range(-5, 5))))\n"
    )
    (tmp_path / "mp.py").write_text(code)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    with sandbox.sandboxed([sys.executable, "-I", "mp.py"], tmp_path) as (argv, _):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert "SUM 25" in out.stdout, out.stderr[-2000:]


def test_forkvet_writes_the_bytecode_and_no_pth_runs_meanwhile(tmp_path: Path) -> None:
    """The environment is read-only to every run: forkvet compiles it once after the install,
    without `site` (a package's `.pth` would run in an interpreter started with it)."""
    _sandbox_ok()
    venv = _venv(tmp_path)
    site_packages = next(venv.glob("lib/python*/site-packages"))
    (site_packages / "pkg_x.py").write_text("X = 1\n")
    marker = venv / "pth-ran"  # writable in that sandbox: a .pth that ran would leave it
    (site_packages / "zz.pth").write_text(f"import os; open({str(marker)!r}, 'w')\n")
    envs.compile_bytecode(venv, venv / "bin" / "python")
    assert list((site_packages / "__pycache__").glob("pkg_x.*.pyc"))
    assert not marker.exists()
