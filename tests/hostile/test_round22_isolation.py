"""Round 21b's runtime isolation findings, closed in round 22: the job token in the
checkout's git config (F3), a wheel's `pyvenv.cfg` (F4), a `.git` the command planted in a
subfolder (F5), and notebook kernels on loopback TCP (F7, F8)."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.runtime import notebook_run, sandbox, venvstart
from tests.conftest import MakeRepo


def _sandbox_ok() -> None:
    if not sandbox.probe().ok:
        pytest.skip("needs bubblewrap")


def _notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))


def _outputs(executed: str) -> str:
    cells = json.loads(Path(executed).read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


_CONNECTION = (
    "import json, ipykernel.connect\n"
    "info = json.loads(ipykernel.connect.get_connection_info())\n"
    "print('TRANSPORT', info['transport'], info['ip'])"
)


@pytest.mark.parametrize("network", ["shared", "none"])
def test_a_notebook_kernel_speaks_over_private_unix_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, network: str
) -> None:
    """F8: the kernel's channels were TCP on host loopback, where another fork's sandboxed
    command subscribed to IOPub and read the notebook's output live; F7: under --no-network
    the kernel's loopback was its own and every notebook failed. Now UNIX sockets in a
    folder under the host's /tmp, which every other sandbox covers with its private /tmp."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    _sandbox_ok()
    monkeypatch.setattr(sandbox, "_NETWORK_CUT", [True] if network == "none" else [])
    repo = tmp_path / "repo"
    repo.mkdir()
    _notebook(repo / "nb.ipynb", [_CONNECTION, "print(6 * 7)"])
    run = notebook_run.run_notebook(repo / "nb.ipynb", sys.executable, repo, tmp_path / "out")
    assert run.ok, run.error
    printed = _outputs(run.executed)
    assert "42" in printed
    words = printed.split("TRANSPORT", 1)[1].split()
    assert words[0] == "ipc" and words[1].startswith("/tmp/forkvet-kernel-")


def test_the_kernels_folder_is_under_the_hosts_tmp_whatever_tmpdir_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TMPDIR outside /tmp is visible (read-only) to other sandboxes, and a UNIX socket on
    a read-only mount still connects: the kernel's folders never go there."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with notebook_run._kernel_folders() as (spec, ipc):
        assert spec.startswith("/tmp/forkvet-kernel-") and ipc.startswith("/tmp/forkvet-kernel-")
        assert Path(spec).parent == Path(ipc).parent


# --- F3: the job token actions/checkout persists in .git/config ------------------------------

TOKEN = "ghs_" + "T0KEN" * 8
HEADER = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46" + TOKEN


def _git(*args: str, cwd: Path) -> None:
    import subprocess

    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _checkout(repo: Path) -> None:
    """A checkout as actions/checkout's default leaves it: the token in .git/config."""
    repo.mkdir(parents=True)
    _git("init", "-q", ".", cwd=repo)
    (repo / "app.py").write_text("print('hi')\n")
    _git("add", "app.py", cwd=repo)
    _git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "c", cwd=repo)
    _git("remote", "add", "origin", f"https://x-access-token:{TOKEN}@github.com/v/f", cwd=repo)
    _git("config", "--local", "http.https://github.com/.extraheader", HEADER, cwd=repo)
    _git("config", "--local", f"url.https://{TOKEN}@github.com/.insteadOf", "gh:", cwd=repo)
    _git("config", "--local", "credential.helper", f"store --file /x/{TOKEN}", cwd=repo)
    _git("config", "--local", "include.path", "/runner/temp/creds.config", cwd=repo)


def test_the_scrubbed_config_keeps_what_git_needs_and_no_secret() -> None:
    from forkvet.runtime import gitconfig

    text = (
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = /x/run\n"
        f'[remote "origin"]\n\turl = https://u:{TOKEN}@github.com/v/f?t={TOKEN}\n'
        "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
        f"[http.https://github.com/]\n\textraheader = {HEADER}\n"
        f'[http "https://github.com/"]\n\textraheader = {HEADER}\n'
        f"[remote.up]\n\turl = git@github.com:u/f.git\n\tpushurl = {TOKEN}\\\n\tmore\n"
        f'[url "https://{TOKEN}@github.com/"]\n\tinsteadOf = https://github.com/\n'
        f'[includeIf "gitdir:/w/"]\n\tpath = /runner/temp/{TOKEN}\n'
        f'[core]\n\tworktree = "/q{TOKEN}"\n'
    )
    out = gitconfig.scrubbed(text)
    assert TOKEN not in out and "fsmonitor" not in out and "extraheader" not in out
    assert "url = https://github.com/v/f\n" in out and "repositoryformatversion = 0" in out
    assert "fetch = +refs/heads/*:refs/remotes/origin/*" in out
    assert "url = git@github.com:u/f.git" in out


def test_every_config_file_of_the_repository_is_covered(tmp_path: Path) -> None:
    """The submodules' git folders (actions/checkout writes the extraheader into each with
    `submodule foreach`) and a worktree's common folder have config files of their own."""
    from forkvet.runtime import gitconfig

    main_git = tmp_path / "main" / ".git"
    for sub in ("modules/a", "modules/a/modules/b", "worktrees/w"):
        (main_git / sub).mkdir(parents=True)
    for name in ("config", "modules/a/config", "modules/a/modules/b/config", "config.worktree"):
        (main_git / name).write_text("[core]\n")
    (main_git / "worktrees" / "w" / "commondir").write_text("../..\n")
    found = gitconfig.config_files([str(main_git / "worktrees" / "w")])
    assert found == sorted(
        str(main_git / n)
        for n in ("config", "config.worktree", "modules/a/config", "modules/a/modules/b/config")
    )


def test_the_command_reads_no_token_from_the_checkouts_git_config(tmp_path: Path) -> None:
    """F3: the sandbox made .git read-only, not unreadable: the command printed the job's
    token from `.git/config` (also the enclosing checkout's, for a folder of it)."""
    import shutil
    import subprocess

    _sandbox_ok()
    if not shutil.which("git"):
        pytest.skip("needs git")
    repo = tmp_path / "ws"
    _checkout(repo)
    (repo / "sub").mkdir()
    probe = "cat .git/config ../.git/config 2>/dev/null; git rev-parse --short HEAD; git remote -v"
    for cwd in (repo, repo / "sub"):
        with sandbox.sandboxed(["/bin/sh", "-c", probe], cwd) as (argv, how):
            assert how == sandbox.ISOLATED
            out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd)
        assert TOKEN not in out.stdout + out.stderr, out.stdout
        assert "https://github.com/v/f" in out.stdout, out.stdout + out.stderr  # git still works
        assert TOKEN in (repo / ".git" / "config").read_text()  # the host's file is untouched


# --- F5: a `.git` the command planted in a subfolder -------------------------------------------

PLANT = (
    "mkdir -p sub/.git/refs sub/.git/objects deep/er && echo 'ref: refs/heads/m' > sub/.git/HEAD"
    " && echo 'gitdir: /elsewhere' > deep/er/.git"
    " && (echo '[core] fsmonitor = /x' >> vendor/lib/.git/config && echo WROTE; true)"
)


def test_a_git_repository_the_command_made_below_the_checkout_is_removed(tmp_path: Path) -> None:
    """F5: the command made `SUB/.git` (a forged commit, date and remote); a later step on
    `SUB` took them. Every `.git` below the run's folder that was not there before the run
    is removed, and the step fails saying so; one that was there stays, read-only."""
    import subprocess

    _sandbox_ok()
    repo = tmp_path / "ws"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / "vendor" / "lib" / ".git").mkdir(parents=True)  # an older clone: not the run's
    (repo / "vendor" / "lib" / ".git" / "config").write_text("[core]\n")
    with (
        pytest.raises(sandbox.RepairFailed, match="made a git repository") as caught,
        sandbox.sandboxed(["/bin/sh", "-c", PLANT], repo) as (argv, _),
    ):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=repo)
        assert out.returncode == 0 and "WROTE" not in out.stdout, out.stdout + out.stderr
    said = str(caught.value)
    assert "sub/.git" in said and "deep/er/.git" in said and "vendor" not in said
    assert not (repo / "sub" / ".git").exists() and not (repo / "deep" / "er" / ".git").exists()
    assert (repo / "vendor" / "lib" / ".git" / "config").read_text() == "[core]\n"
    assert (repo / ".git" / "HEAD").is_file()


def test_a_run_that_plants_no_git_passes_untouched(tmp_path: Path) -> None:
    from forkvet.runtime import gitplants

    repo = tmp_path / "ws"
    (repo / "a" / ".git").mkdir(parents=True)
    before = gitplants.record([repo])
    (repo / "b").mkdir()
    assert gitplants.planted(before) == [] and (repo / "a" / ".git").is_dir()


# --- F4: a wheel that replaces the environment's pyvenv.cfg -------------------------------------

# Runs as the interpreter's `encodings`, before `site`, `-I` or `-S` matter: marks the run.
_PAYLOAD = (
    "import posix\n"
    "_env = __file__.rsplit('/fh/', 1)[0]\n"
    "_fd = posix.open(_env + '/PAYLOAD_RAN', posix.O_WRONLY | posix.O_CREAT, 0o644)\n"
    "posix.write(_fd, b'ran')\n"
    "raise ImportError('payload')\n"
)


def _cfg_wheel(folder: Path, home: str | None) -> Path:
    """`evilpkg`: its data scheme puts a `pyvenv.cfg` at the environment's root whose `home`
    is the wheel's own folder there, holding a standard library landmark and `encodings`
    (`home` None: a harmless wheel of the same name)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = "evilpkg-1.0.data/data"
    files = {
        "evilpkg/__init__.py": b"",
        "evilpkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: evilpkg\nVersion: 1.0\n",
        "evilpkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    if home:
        files[f"{data}/pyvenv.cfg"] = f"home = {home}\n".encode()
        for minor in range(8, 15):
            files[f"{data}/fh/lib/python3.{minor}/os.py"] = b""
            files[f"{data}/fh/lib/python3.{minor}/encodings/__init__.py"] = _PAYLOAD.encode()
    record = [
        f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()}"
        f",{len(d)}"
        for n, d in files.items()
    ]
    path = folder / "evilpkg-1.0-py3-none-any.whl"
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
        record.append("evilpkg-1.0.dist-info/RECORD,,")
        zf.writestr("evilpkg-1.0.dist-info/RECORD", "\n".join(record))
    return path


def test_a_wheels_pyvenv_cfg_never_decides_how_the_environment_starts(
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """F4: the wheel's `pyvenv.cfg` replaced uv's; its `home` gave the environment's
    interpreter the wheel's `encodings`, which ran in forkvet's compile step ("wheels only,
    runs no package code") and at every later start. forkvet writes uv's `pyvenv.cfg` back
    after each install and compiles with the base interpreter. The environment's path is
    predictable: learnt from a first build with a harmless wheel, as the tester did."""
    import shutil

    pytest.importorskip("uv")
    _sandbox_ok()
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("FORKVET_TORCH_BACKEND", "none")
    monkeypatch.setenv("UV_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    repo = make_repo({"requirements.txt": "evilpkg==1.0\n", "m.py": "import evilpkg\n"})
    out = tmp_path / "smoke.json"
    where = ["--env-dir", str(tmp_path / "envs"), "--out", str(tmp_path / "out")]
    report = ["--format", "json", "-o", str(out)]
    env: Path | None = None
    for run, home in enumerate([None, "fh", "fh"]):  # harmless; hostile, built; reused
        if run < 2:
            shutil.rmtree(tmp_path / "envs", ignore_errors=True)
            monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / f"uv-cache-{run}"))
        _cfg_wheel(tmp_path / "wheels", home and f"{env}/fh/bin")
        code = main(["smoke", str(repo), "--cmd", "python m.py", *where, *report])
        err = capsys.readouterr().err
        assert code == 0, (run, err, out.read_text()[-3000:])
        env = Path(json.loads(out.read_text())["environment"]["path"])
        assert json.loads(out.read_text())["environment"]["reused"] is (run == 2)
    assert env is not None and sorted(str(p) for p in tmp_path.rglob("PAYLOAD_RAN")) == []
    assert "fh" not in (env / "pyvenv.cfg").read_text()


def test_an_environment_whose_start_up_files_changed_is_not_reused(tmp_path: Path) -> None:
    env = tmp_path / "env"
    site = env / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "a.pth").write_text("import a\n")
    recorded = venvstart.record(env)
    assert venvstart.matches(env, recorded["startup"])
    (site / "sitecustomize.py").write_text("print(1)\n")
    assert not venvstart.matches(env, recorded["startup"])
    (site / "sitecustomize.py").unlink()
    (env / "pyvenv.cfg").write_text("home = /elsewhere\n")
    assert not venvstart.matches(env, recorded["startup"])
    venvstart.restore_cfg(env, str(recorded["pyvenv_cfg"]).encode("latin-1"))
    assert venvstart.matches(env, recorded["startup"])
    assert not venvstart.matches(env, None)  # an older record: built again


# --- round 22b F8: the Hugging Face login in HF_HOME ------------------------------------------


def test_the_command_reads_no_hugging_face_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HF_HOME is passed for the model cache, and huggingface_hub inside read
    `$HF_HOME/token` by itself (and sent it), though HF_TOKEN was withheld. The login files
    are empty inside; the cache stays readable."""
    import subprocess

    _sandbox_ok()
    hf = tmp_path / "hf"
    (hf / "hub").mkdir(parents=True)
    (hf / "token").write_text("hf_SECRETLOGIN")
    (hf / "stored_tokens").write_text("[work]\nhf_token = hf_SECRETSTORED\n")
    (hf / "hub" / "cached.txt").write_text("weights")
    monkeypatch.setenv("HF_HOME", str(hf))
    repo = tmp_path / "ws"
    repo.mkdir()
    probe = f"cat {hf}/token {hf}/stored_tokens {hf}/hub/cached.txt"
    with sandbox.sandboxed(["/bin/sh", "-c", probe], repo, readable=[hf]) as (argv, how):
        assert how == sandbox.ISOLATED
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=repo)
    assert "SECRET" not in out.stdout + out.stderr, out.stdout
    assert "weights" in out.stdout, out.stdout + out.stderr


def test_a_nested_checkouts_token_is_not_readable(tmp_path: Path) -> None:
    """Round 22b F12: a second repository checked out inside the target (not a submodule)
    kept its persisted token readable: its config files are shown scrubbed too."""
    import shutil
    import subprocess

    _sandbox_ok()
    if not shutil.which("git"):
        pytest.skip("needs git")
    repo = tmp_path / "ws"
    repo.mkdir()
    (repo / "app.py").write_text("print('hi')\n")
    _checkout(repo / "third_party" / "dep")
    probe = "cat third_party/dep/.git/config; git -C third_party/dep rev-parse --short HEAD"
    with sandbox.sandboxed(["/bin/sh", "-c", probe], repo) as (argv, how):
        assert how == sandbox.ISOLATED
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=repo)
    assert TOKEN not in out.stdout + out.stderr, out.stdout
    assert "https://github.com/v/f" in out.stdout, out.stdout + out.stderr
