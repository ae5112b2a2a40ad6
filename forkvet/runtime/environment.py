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


def prepare(
    repo: Path,
    requirements: Path | None,
    venv: Path,
    python_version: str | None,
    allow_build: bool = False,
) -> Path:
    """Create venv (uv when available, else venv+pip) and install requirements into it.

    Only plain named requirements are installed (lines that are options, URLs or paths are left
    out: a repository's file must not choose the index), from a private folder so that no
    repository configuration applies; source releases are built only if allow_build."""
    del repo  # never the working directory: its uv.toml / .python-version must not apply
    from forkvet.envgen.uv import private_workdir

    uv = _uv()
    with private_workdir() as work:
        if not venv_python(venv).exists():
            if uv:
                cmd = [uv, "venv", "-q", str(venv)] + (
                    ["--python", python_version] if python_version else []
                )
            else:
                cmd = [sys.executable, "-m", "venv", str(venv)]
            _run(cmd, work, "could not create the environment")
        python = venv_python(venv)
        if requirements and requirements.exists():
            plain = work / "requirements.txt"
            plain.write_text(_plain_requirements(requirements), encoding="utf-8")
            if uv:
                cmd = [uv, "pip", "install", "-q", "--python", str(python), "-r", str(plain)]
                cmd += [] if allow_build else ["--no-build"]
            else:
                cmd = [str(python), "-m", "pip", "install", "-q", "-r", str(plain)]
                cmd += [] if allow_build else ["--only-binary", ":all:"]
            _run(cmd, work, f"installing {requirements.name} failed")
    return python


def _plain_requirements(path: Path) -> str:
    from forkvet.envgen.uv import plain_requirement

    kept = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            kept.append(plain_requirement(line))
        except ForkvetError:
            continue  # an option, URL or path: never installed from a repository's file
    return "\n".join(kept) + "\n"


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
