"""forkvet never runs a program, imports a module or loads a library through a search-path
entry that is empty, relative or inside a folder the repository supplies or its command may
write (outside attack, round 20b F4-F7; forkvet.hostpaths)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forkvet import hostpaths
from tests.conftest import MakeRepo

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ("git", "bwrap", "nvidia-smi", "uv")
LIMIT = [shutil.which("prlimit") or "prlimit", "--as=4294967296"]
LIMIT += [shutil.which("timeout") or "timeout", "-s", "KILL", "300"]


def _planter(markers: Path) -> str:
    """A program of each name that leaves a marker when the host runs it."""
    return "".join(
        f"open({name!r}, 'w').write('#!/bin/sh\\ntouch {markers}/{name}\\nexit 1\\n')\n"
        f"os.chmod({name!r}, 0o755)\n"
        for name in PROGRAMS
    )


def _forkvet(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [*LIMIT, sys.executable, "-m", "forkvet", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=320,
    )


def _committed_programs(make_repo: MakeRepo, markers: Path) -> Path:
    """The repository commits each program this machine has (one it lacks would be an error
    naming PATH, test below) at its root and in .venv/bin."""
    files: dict[str, str | bytes] = {"README.md": "# x\n", "main.py": "import six\n"}
    files["requirements.txt"] = "six==1.16.0\n"
    for name in [p for p in PROGRAMS if shutil.which(p)]:
        files[name] = f"#!/bin/sh\ntouch {markers}/{name}\nexit 1\n"
        files[f".venv/bin/{name}"] = files[name]
    repo = make_repo(files)
    for path in repo.rglob("*"):
        if path.name in PROGRAMS:
            path.chmod(0o755)
    return repo


@pytest.mark.parametrize("entry", ["", ".", ".venv/bin", "REPO/.venv/bin"])
def test_static_vet_and_env_never_run_a_program_of_the_repository(
    make_repo: MakeRepo, tmp_path: Path, entry: str
) -> None:
    """F5: `PATH=":$PATH" forkvet vet .` ran the repository's committed `git`."""
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = _committed_programs(make_repo, markers)
    path = entry.replace("REPO", str(repo)) + os.pathsep + os.environ["PATH"]
    for args in (["vet", ".", "--format", "json"], ["env", ".", "--offline"]):
        proc = _forkvet(args, repo, PATH=path)
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert sorted(os.listdir(markers)) == []


def test_a_program_only_in_a_refused_entry_is_an_error_naming_path(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = _committed_programs(make_repo, markers)
    proc = _forkvet(["vet", ".", "--format", "json"], repo, PATH=f":{Path(sys.executable).parent}")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "PATH" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(os.listdir(markers)) == []


def test_find_skips_empty_relative_and_guarded_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = tmp_path / "repo" / "bin"
    inside.mkdir(parents=True)
    for folder in (tmp_path / "repo", inside):
        (folder / "git").write_text("#!/bin/sh\n")
        (folder / "git").chmod(0o755)
    monkeypatch.chdir(tmp_path / "repo")
    real = shutil.which("git", path="/usr/bin:/bin")
    assert real
    monkeypatch.setenv("PATH", f":.:bin:{inside}:/usr/bin:/bin")
    hostpaths.guard(tmp_path / "repo")
    assert os.environ["PATH"] == "/usr/bin:/bin"  # children inherit the cleaned PATH
    assert hostpaths.program("git") == real
    assert hostpaths.refused(str(inside))


def test_console_script_with_an_empty_pythonpath_entry_imports_nothing_of_the_fork(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """F6: the `forkvet` console script (as pip writes it) with PYTHONPATH=":..." imported the
    fork's yaml.py before main() ran."""
    marker = tmp_path / "imported"
    payload = f"open({str(marker)!r}, 'w').write('ran')\nraise ImportError('shadow')\n"
    repo = make_repo({"README.md": "# x\n", "yaml.py": payload, "numpy.py": payload})
    script = tmp_path / "bin" / "forkvet"
    script.parent.mkdir()
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom forkvet.cli import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    for pythonpath in (f":{ROOT}", f".:{ROOT}", f"{ROOT}:"):
        proc = subprocess.run(
            [*LIMIT, str(script), "vet", ".", "--format", "json"],
            cwd=repo,
            env={**os.environ, "PYTHONPATH": pythonpath},
            capture_output=True,
            text=True,
            timeout=320,
        )
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        assert not marker.exists(), pythonpath


_SHIM = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void) {
    close(open(MARKER, O_CREAT | O_WRONLY, 0644));
}
"""


def _system_sqlite() -> Path | None:
    dynload = Path(sys.base_prefix) / "lib" / f"python3.{sys.version_info[1]}" / "lib-dynload"
    ext = next(dynload.glob("_sqlite3*.so"), None)
    if ext is None or not shutil.which("gcc") or not shutil.which("ldd"):
        return None
    out = subprocess.run(["ldd", str(ext)], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.strip().startswith("libsqlite3.so.0 =>"):
            return Path(line.split("=>")[1].split()[0])
    return None


def _planted_sqlite(repo: Path, marker: Path) -> None:
    """libsqlite3.so.0 in the repository: a constructor that leaves `marker`, needing the
    system's library under another soname, so every symbol still resolves (as round 20b
    F7)."""
    system = _system_sqlite()
    if system is None:
        pytest.skip("no gcc, or Python's sqlite3 does not load a shared libsqlite3.so.0")
    data = system.read_bytes()
    (repo / "libsqlite3.so.9").write_bytes(data.replace(b"libsqlite3.so.0", b"libsqlite3.so.9"))
    src = repo.parent / "shim.c"
    src.write_text(f'#define MARKER "{marker}"\n{_SHIM}')
    link = ["-Wl,-soname,libsqlite3.so.0", "-Wl,--no-as-needed", f"-L{repo}"]
    link += ["-l:libsqlite3.so.9", "-Wl,-rpath,$ORIGIN"]
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(repo / "libsqlite3.so.0"), str(src), *link],
        check=True,
        capture_output=True,
    )


def test_empty_ld_library_path_entry_loads_no_library_of_the_repository(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """F7: `LD_LIBRARY_PATH=":/usr/local/cuda/lib64"` (the usual CUDA line with the variable
    unset) loaded a committed libsqlite3.so.0 while vet scanned a SQLite file."""
    import sqlite3

    marker = tmp_path / "constructor_ran"
    repo = make_repo({"README.md": "# x\n"}, use_git=False)
    con = sqlite3.connect(repo / "models.db")
    con.execute("create table t (x)")
    con.execute("insert into t values (1)")
    con.commit()
    con.close()
    _planted_sqlite(repo, marker)
    probe = subprocess.run(
        [sys.executable, "-c", "import sqlite3"],
        cwd=repo,
        env={**os.environ, "LD_LIBRARY_PATH": ":/nonexistent"},
        capture_output=True,
    )
    assert probe.returncode == 0 and marker.exists(), "the planted library is not loadable"
    marker.unlink()
    proc = _forkvet(["vet", ".", "--format", "json"], repo, LD_LIBRARY_PATH=":/nonexistent")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert not marker.exists()


def _sandbox_works() -> bool:
    from forkvet.runtime.sandbox import probe

    return probe().ok


@pytest.mark.skipif(not _sandbox_works(), reason="no working bubblewrap sandbox here")
@pytest.mark.parametrize("layout", ["activated-venv", "empty-entry"])
def test_runtime_chain_smoke_then_train_check_runs_nothing_the_command_planted(
    make_repo: MakeRepo, tmp_path: Path, layout: str
) -> None:
    """F4: the smoke command wrote git, bwrap, nvidia-smi, uv into a PATH folder inside the
    checkout (an activated in-checkout .venv; an empty PATH entry with the checkout as the
    working folder); train-check then ran them on the host."""
    markers = tmp_path / "markers"
    markers.mkdir()
    folder = ".venv/bin" if layout == "activated-venv" else "."
    plant = f"import os\nos.makedirs({folder!r}, exist_ok=True)\nos.chdir({folder!r})\n"
    repo = make_repo(
        {
            ".gitignore": ".venv/\n",
            "plant.py": plant + _planter(markers),
            "train.py": "for i in range(3):\n    print(f'step {i} loss {1.0 / (i + 1)}')\n",
        }
    )
    (repo / ".venv" / "bin").mkdir(parents=True)
    first = str(repo / ".venv" / "bin") if layout == "activated-venv" else ""
    path = first + os.pathsep + os.environ["PATH"]
    common = ["--python", sys.executable]
    smoke = ["smoke", str(repo), "--cmd", "python plant.py", "--no-import-check", *common]
    proc = _forkvet([*smoke, "--out", str(tmp_path / "o1")], repo, PATH=path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    planted = repo / folder / "git"
    assert planted.exists()  # the command did plant its programs
    train = ["train-check", str(repo), "--cmd", "python train.py", *common]
    proc = _forkvet([*train, "--out", str(tmp_path / "o2")], repo, PATH=path)
    assert "refusing to run" not in proc.stderr, proc.stderr[-2000:]
    assert sorted(os.listdir(markers)) == []


def test_every_program_forkvet_starts_is_resolved_through_hostpaths() -> None:
    """By construction: no `shutil.which` outside forkvet.hostpaths, and no process started
    with a bare program name (which the child's PATH would resolve)."""
    import ast

    starters = {"run", "Popen", "call", "check_call", "check_output"}
    bad = []
    for path in sorted((ROOT / "forkvet").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else ""
            if (name, node.func.attr) == ("shutil", "which") and rel != "forkvet/hostpaths.py":
                bad.append(f"{rel}:{node.lineno} shutil.which")
            if name != "subprocess" or node.func.attr not in starters or not node.args:
                continue
            argv = node.args[0]
            first = argv.elts[0] if isinstance(argv, ast.List) and argv.elts else None
            if isinstance(first, ast.Constant) and not str(first.value).startswith("/"):
                bad.append(f"{rel}:{node.lineno} bare program {first.value!r}")
    assert bad == []


def test_actions_start_forkvet_by_its_absolute_path_never_by_a_path_lookup() -> None:
    """F4 through the Actions: a `forkvet` the smoke command planted in an in-checkout
    `.venv/bin` on PATH (setup-uv's activate-environment) would be the next step's forkvet."""
    import yaml

    bare = []
    for action in [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]:
        for step in yaml.safe_load(action.read_text())["runs"]["steps"]:
            for line in str(step.get("run", "")).splitlines():
                words = line.replace("$(", " ").split()
                if "forkvet" in words and not line.lstrip().startswith("#"):
                    bare.append(f"{action.relative_to(ROOT)}: {line.strip()}")
    assert bare == []


def test_install_sh_runs_no_program_of_the_checkout(tmp_path: Path) -> None:
    """install.sh runs uv (and find, sha256sum) from absolute PATH entries outside the
    workspace only, and hands later steps forkvet's absolute path."""
    from tests.test_actions import FAKE_UV

    markers = tmp_path / "markers"
    markers.mkdir()
    work = tmp_path / "ws"
    (work / ".venv" / "bin").mkdir(parents=True)
    for folder in (work, work / ".venv" / "bin"):
        for name in ("uv", "find", "sha256sum"):
            (folder / name).write_text(f"#!/bin/sh\ntouch {markers}/{name}\nexit 1\n")
            (folder / name).chmod(0o755)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "uv").write_text(FAKE_UV)
    (bindir / "uv").chmod(0o755)
    temp = tmp_path / "runner"
    temp.mkdir()
    env = {
        "PATH": f":{work}/.venv/bin:.venv/bin:{bindir}:/usr/bin:/bin",
        "GITHUB_WORKSPACE": str(work),
        "RUNNER_TEMP": str(temp),
        "RUNNER_TOOL_CACHE": str(tmp_path / "tools"),
        "GITHUB_PATH": str(temp / "add_path"),
        "GITHUB_ENV": str(temp / "set_env"),
        "FAKE_UV_LOG": str(tmp_path / "uv.log"),
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "actions" / "install.sh")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(markers)) == []
    program = f"FORKVET_PROGRAM={temp}/forkvet-venv/bin/forkvet\n"
    assert (temp / "set_env").read_text() == program


def test_a_refused_uv_falls_back_to_forkvets_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An activated in-checkout venv often holds a uv of its own: forkvet uses the uv
    installed beside its interpreter instead of failing, and never the checkout's."""
    from forkvet.uvbin import uv_binary

    own = Path(sys.executable).parent / "uv"
    if not own.exists():
        pytest.skip("no uv beside this interpreter")
    repo = tmp_path / "repo"
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "uv").write_text("#!/bin/sh\nexit 1\n")
    (repo / ".venv" / "bin" / "uv").chmod(0o755)
    hostpaths.guard(repo)
    monkeypatch.setenv("PATH", f"{repo}/.venv/bin:/nonexistent")
    monkeypatch.setattr(hostpaths, "_READ_AT_START", {"PATH": f"{repo}/.venv/bin"})
    assert uv_binary() == str(own)
