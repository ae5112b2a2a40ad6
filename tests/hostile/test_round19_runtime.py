"""Round 19b's runtime findings (outside attack): the wheels-only install compiles no byte code
(F1), the sandbox has a session keyring of its own (F4), no lock forkvet waits on is reachable
from it and its waits end by the step's budget (F6), and the repair leaves no folder or file
writable by others (F8)."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo

SECRET = "S3CRET19B"

# A `.pth` runs whenever `site` starts the environment's interpreter: it records what it saw
# when the index password was in its environment (only forkvet's credentialed install has it).
_HOOK = (
    "import os, sys; 'UV_INDEX_CORP_PASSWORD' in os.environ and "
    "[open(os.path.join(d, 'PTH_RAN'), 'w').write(os.environ['UV_INDEX_CORP_PASSWORD']) "
    "for d in (sys.prefix, os.environ.get('UV_CACHE_DIR', sys.prefix))]\n"
)


def _pth_wheel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "pthpkg/__init__.py": b"",
        "pthpkg_hook.pth": _HOOK.encode(),
        "pthpkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: pthpkg\nVersion: 1.0\n",
        "pthpkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [
        f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()}"
        f",{len(d)}"
        for n, d in files.items()
    ]
    path = folder / "pthpkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        record.append("pthpkg-1.0.dist-info/RECORD,,")
        zf.writestr("pthpkg-1.0.dist-info/RECORD", "\n".join(record))
    return path


@pytest.mark.parametrize("how", ["variable", "config"])
def test_a_wheels_pth_never_runs_in_the_credentialed_install(
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    """F1: with the operator's byte-code setting, uv started the new environment's interpreter
    inside the wheels-only install, and a listed wheel's `.pth` read the index password and
    wrote uv's shared cache."""
    pytest.importorskip("uv")
    cache = tmp_path / "uv-cache"
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_CACHE_DIR", str(cache))
    monkeypatch.setenv("FORKVET_TORCH_BACKEND", "none")
    monkeypatch.setenv("UV_FIND_LINKS", str(_pth_wheel(tmp_path / "wheels").parent))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_INDEX_CORP_PASSWORD", SECRET)
    if how == "variable":
        monkeypatch.setenv("UV_COMPILE_BYTECODE", "1")
    else:
        # the operator's user configuration (the sandboxed install sees it read-only)
        (tmp_path / "xdg" / "uv").mkdir(parents=True)
        (tmp_path / "xdg" / "uv" / "uv.toml").write_text("compile-bytecode = true\n")
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    repo = make_repo({"requirements.txt": "pthpkg==1.0\n", "m.py": "import pthpkg\n"})
    out = tmp_path / "smoke.json"
    where = ["--env-dir", str(tmp_path / "envs"), "--out", str(tmp_path / "out")]
    report = ["--format", "json", "-o", str(out)]
    code = main(["smoke", str(repo), "--cmd", "true", "--no-import-check", *where, *report])
    err = capsys.readouterr().err
    assert code == 0, err
    assert json.loads(out.read_text())["environment"]["reused"] is False
    ran = sorted(str(p) for p in tmp_path.rglob("PTH_RAN"))
    assert ran == [], ran


def test_the_repair_leaves_nothing_others_may_write(tmp_path: Path) -> None:
    """F8: the repair gave the owner its bits back and stripped setuid from files only: the
    command's 0777 checkout, 1777 and 2777 folders and 0666 files stayed on the host."""
    from forkvet.runtime.sandbox import repair_modes

    top = tmp_path / "checkout"
    (top / "ww" / "sub").mkdir(parents=True)
    (top / "f").write_text("x")
    (top / "ww" / "sub").chmod(0o2777)
    (top / "ww").chmod(0o1777)
    (top / "f").chmod(0o6766)
    top.chmod(0o777)
    repair_modes([top])
    modes = {p.name: p.stat().st_mode & 0o7777 for p in (top, top / "ww", top / "ww" / "sub")}
    assert modes == {"checkout": 0o755, "ww": 0o755, "sub": 0o755}
    assert (top / "f").stat().st_mode & 0o7777 == 0o744


_KEYS = """
import ctypes, json, os, subprocess, sys
nr = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)
SESSION = ctypes.c_long(-3)

def add(name, value):
    return libc.syscall(ctypes.c_long(nr[0]), b"user", name, value, ctypes.c_size_t(len(value)),
                        SESSION)

def search(name):
    return libc.syscall(ctypes.c_long(nr[1]), ctypes.c_long(10), SESSION, b"user", name,
                        ctypes.c_long(0))

if sys.argv[1] == "inside":
    print(json.dumps({"seen": search(b"forkvet19b") > 0,
                      "planted": add(b"forkvet19b_planted", b"x") > 0}))
    sys.exit(0)
libc.syscall(ctypes.c_long(nr[1]), ctypes.c_long(1), None)  # this test's own session keyring
assert add(b"forkvet19b", b"SESSION_SECRET") > 0
from pathlib import Path
from forkvet.runtime import sandbox
work = Path(sys.argv[2])
with sandbox.sandboxed([sys.executable, "-I", "keys.py", "inside"], work) as (argv, how):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
inside = json.loads(out.stdout or "{}") if out.returncode == 0 else {"error": out.stderr}
print(json.dumps({**inside, "how": how, "after": search(b"forkvet19b_planted") > 0}))
"""


def test_the_sandbox_has_a_session_keyring_of_its_own(tmp_path: Path) -> None:
    """F4: the command read the session keyring it inherited (a Kerberos ticket lives there on
    `KEYRING:` hosts) and planted keys that later steps kept."""
    import os
    import subprocess
    import sys

    from forkvet.runtime import sandbox

    if os.uname().machine not in ("x86_64", "aarch64") or not sandbox.probe().ok:
        pytest.skip("needs bubblewrap and a known keyctl number")
    (tmp_path / "work").mkdir()
    script = tmp_path / "work" / "keys.py"  # the sandbox's /tmp is its own: in its folder
    script.write_text(_KEYS)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, str(script), "outside", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "seen": False,
        "planted": False,  # add_key is denied by the seccomp filter (round 20)
        "how": "bubblewrap",
        "after": False,
    }


def test_no_lock_forkvet_waits_on_is_in_the_sandbox(tmp_path: Path) -> None:
    """F6: the command took (flock on a read-only descriptor) every other environment's lock of
    a shared env-dir, uv's cache lock and the HF hub's locks; other jobs waited for it."""
    import os
    import shutil
    import subprocess
    import tempfile

    from forkvet.environments import env_root
    from forkvet.runtime import sandbox

    if not sandbox.probe().ok or not os.access("/var/tmp", os.W_OK):
        pytest.skip("needs bubblewrap and /var/tmp (the sandbox's /tmp is private anyway)")
    shared = Path(tempfile.mkdtemp(prefix="forkvet-t19-", dir="/var/tmp"))
    try:
        root = env_root(str(shared / "envs"))
        own = root / "mine-1"
        (own / "bin").mkdir(parents=True)
        (root / "other-2.lock").write_text("")
        (shared / "uv").mkdir()
        (shared / "uv" / ".lock").write_text("")
        probe = (
            "import fcntl, os, sys\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        fd = os.open(p, os.O_RDONLY)\n"
            "        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('held', p)\n"
            "    except OSError as e:\n"
            "        print('no', p, e.errno)\n"
            "open(os.path.join(sys.argv[1].rsplit('/', 1)[0], 'mine-1', 'w'), 'w').write('ok')\n"
        )
        (tmp_path / "p.py").write_text(probe)
        targets = [str(root / "other-2.lock"), str(shared / "uv" / ".lock")]
        env = {**os.environ, "UV_CACHE_DIR": str(shared / "uv")}
        os.environ["UV_CACHE_DIR"] = str(shared / "uv")
        try:
            cmd = ["python3", "p.py", *targets]
            with sandbox.sandboxed(cmd, tmp_path, [own]) as (argv, _):
                out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        finally:
            del os.environ["UV_CACHE_DIR"]
        assert "held" not in out.stdout, out.stdout + out.stderr
        assert out.stdout.count("no ") == 2, out.stdout + out.stderr
        assert (own / "w").read_text() == "ok"  # its own environment stays writable
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_the_wait_for_an_environment_lock_ends_by_the_budget(tmp_path: Path) -> None:
    """F6: a step waited for a lock another job held, past its own --install-timeout."""
    import fcntl
    import time

    from forkvet import environments

    folder = tmp_path / "envs" / "repo-1"
    folder.parent.mkdir()
    with open(folder.parent / "repo-1.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        start = time.monotonic()
        with (
            pytest.raises(environments.EnvironmentTimedOut, match="held by another step"),
            environments._locked(folder, 0.5),
        ):
            pass
        assert time.monotonic() - start < 5


def test_a_retry_into_an_environment_with_packages_holds_no_credential(tmp_path: Path) -> None:
    """F1, its other door: uv queries the environment's interpreter on every call, and `site`
    runs the `.pth` of a wheel an earlier, failed call installed; a retry (PyTorch's index out
    of reach, repaired metadata) then had the credentials and the shared cache."""
    from forkvet.environments import _first_install

    cmd = ["uv", "pip", "install", "-r", "req.txt"]
    assert _first_install(cmd, tmp_path, True) == (cmd, True)  # a fresh environment
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "evil-1.0.dist-info").mkdir(parents=True)
    assert _first_install(cmd, tmp_path, True) == ([*cmd, "--no-cache"], False)
