"""Make a Python environment for a repository's runtime checks (on runners, never in the App).

`forkvet env` writes pinned requirements; this module only creates a virtual environment and
installs them with the user's own pip/uv configuration (their index or company mirror).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from forkvet.errors import ForkvetError
from forkvet.runtime.process import scrubbed_env

INSTALL_TIMEOUT = 1800


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def prepare(repo: Path, requirements: Path | None, venv: Path, python_version: str | None) -> Path:
    """Create venv (uv when available, else venv+pip) and install requirements into it."""
    uv = _uv()
    if not venv_python(venv).exists():
        if uv:
            cmd = [uv, "venv", "-q", str(venv)] + (
                ["--python", python_version] if python_version else []
            )
        else:
            cmd = [sys.executable, "-m", "venv", str(venv)]
        _run(cmd, repo, "could not create the environment")
    python = venv_python(venv)
    if requirements and requirements.exists():
        if uv:
            cmd = [uv, "pip", "install", "-q", "--python", str(python), "-r", str(requirements)]
        else:
            cmd = [str(python), "-m", "pip", "install", "-q", "-r", str(requirements)]
        _run(cmd, repo, f"installing {requirements.name} failed")
    return python


def _uv() -> str | None:
    from forkvet.envgen.uv import uv_binary

    try:
        return uv_binary()
    except ForkvetError:
        return shutil.which("uv")


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=scrubbed_env(),
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ForkvetError(f"{what}: timed out after {INSTALL_TIMEOUT} s") from exc
    if proc.returncode != 0:
        last = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1:] or [""]
        raise ForkvetError(f"{what}: {last[0][:300]}")
