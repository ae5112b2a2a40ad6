"""Finding an installed Python X.Y where uv, pyenv, conda and setup-python put them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from forkvet.interpreters import find_python, forget, python_hint

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def bare_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No conda, pyenv or tool cache of the machine's own: only what the test puts there."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("RUNNER_TOOL_CACHE", str(tmp_path / "toolcache"))
    for var in ("CONDA_PREFIX", "CONDA_ROOT", "CONDA_EXE", "MAMBA_ROOT_PREFIX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + "/usr/bin:/bin")
    return tmp_path


def test_finds_the_running_interpreters_version_and_it_runs() -> None:
    found = find_python(HERE)
    assert found is not None
    out = subprocess.run(
        [found, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == str(sys.version_info[:2])


def test_a_pyenv_shim_that_cannot_run_is_skipped_for_the_real_pyenv_build(
    bare_env: Path,
) -> None:
    # pyenv puts shims for every version on PATH; those not selected answer
    # "command not found" with exit status 127.
    shim = "echo 'pyenv: python3.98: command not found'; exit 127"
    _script(bare_env / "bin" / "python3.98", shim)
    assert find_python("3.98") is None
    forget()  # answers are remembered for the process
    real = _script(bare_env / "pyenv" / "versions" / "3.98.2" / "bin" / "python3.98", "printf 3.98")
    assert find_python("3.98") == str(real)


def test_wrong_version_answers_are_not_taken(bare_env: Path) -> None:
    _script(bare_env / "bin" / "python3.97", "printf 3.9")
    assert find_python("3.97") is None


def test_setup_python_tool_cache_and_conda_envs_are_searched(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = _script(
        bare_env / "toolcache" / "Python" / "3.96.1" / "x64" / "bin" / "python3.96", "printf 3.96"
    )
    assert find_python("3.96") == str(cached)
    conda = bare_env / "conda"
    _script(conda / "bin" / "conda", "exit 0")
    env = _script(conda / "envs" / "py295" / "bin" / "python2.95", "printf 2.95")
    monkeypatch.setenv("CONDA_EXE", str(conda / "bin" / "conda"))
    assert find_python("2.95") == str(env)


def test_hint_names_the_command_that_installs_it(bare_env: Path) -> None:
    assert python_hint("3.12") == "uv python install 3.12"
    # uv has no builds of 3.6/3.7 or 2.7: pyenv or conda do.
    assert python_hint("3.6").startswith("pyenv install 3.6")
    assert "conda create -n py27 python=2.7" in python_hint("2.7")
    _script(bare_env / "bin" / "conda", "exit 0")
    assert python_hint("3.7") == "conda create -n py37 python=3.7"


def test_not_a_version_is_refused() -> None:
    with pytest.raises(ValueError):
        find_python("3")
