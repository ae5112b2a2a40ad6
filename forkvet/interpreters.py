"""Installed Python interpreters of a given X.Y, and the command that installs a missing one.

uv only downloads the Pythons it has builds for (3.8 and newer) and only when the user's
UV_PYTHON_DOWNLOADS setting allows it. Research code from 2016-2020 needs 2.7, 3.6 or 3.7,
which users usually have from pyenv, conda or GitHub's setup-python: look in those places too.
Every candidate is asked for its version (a pyenv shim on PATH answers "command not found").
"""

from __future__ import annotations

import functools
import glob
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from forkvet import hostpaths, rx

_VERSION = rx.compile(r"^(\d)\.(\d{1,2})$")
# The oldest X.Y uv has its own builds for; older ones come from pyenv or conda.
UV_INSTALLABLE_FROM = (3, 8)
# uv refuses to resolve or create environments for anything older than this.
UV_OLDEST = (3, 6)
_PROBE = "import sys; sys.stdout.write('%d.%d' % sys.version_info[:2])"
_PROBE_TIMEOUT_S = 10
_UV_TIMEOUT_S = 30


def _parse(version: str) -> tuple[int, int]:
    m = _VERSION.match(version.strip())
    if not m:
        raise ValueError(f"not a Python X.Y version: {version!r}")
    return int(m.group(1)), int(m.group(2))


def _answers(path: str, version: str) -> bool:
    """Whether the executable at path runs and is Python version X.Y."""
    if not os.access(path, os.X_OK) or not Path(path).is_file():
        return False
    try:
        # A fresh empty folder: `-c` puts the working directory on sys.path, and a shared
        # temp dir may hold modules someone else put there.
        with tempfile.TemporaryDirectory(prefix="forkvet-probe-") as work:
            proc = subprocess.run(
                [path, "-c", _PROBE],
                capture_output=True,
                text=True,
                timeout=_PROBE_TIMEOUT_S,
                check=False,
                cwd=work,
                env={**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "")},
            )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == version


def _uv_find(version: str) -> str | None:
    """uv's own discovery (its managed Pythons, virtualenvs, PATH), never downloading."""
    if _parse(version) < UV_OLDEST:
        return None
    from forkvet.errors import ForkvetError
    from forkvet.uvbin import private_workdir, uv_binary

    try:
        uv = uv_binary()
    except ForkvetError:
        return None
    try:
        # Outside any repository (a private folder with forkvet's own uv.toml, not a shared
        # temp dir): a project's .python-version or uv.toml must not choose for us.
        with private_workdir() as work:
            proc = subprocess.run(
                [uv, "python", "find", "--no-python-downloads", "--no-project", version],
                capture_output=True,
                text=True,
                timeout=_UV_TIMEOUT_S,
                check=False,
                cwd=work,
            )
    except (OSError, subprocess.SubprocessError):
        return None
    found = proc.stdout.strip().splitlines()
    return found[-1] if proc.returncode == 0 and found else None


def _conda_roots() -> list[Path]:
    roots = []
    for var in ("CONDA_PREFIX", "CONDA_ROOT", "MAMBA_ROOT_PREFIX"):
        if os.environ.get(var):
            roots.append(Path(os.environ[var]))
    if os.environ.get("CONDA_EXE"):
        roots.append(Path(os.environ["CONDA_EXE"]).parent.parent)
    home = Path.home()
    for name in ("miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba", ".conda"):
        roots.append(home / name)
    roots += [Path("/opt/conda"), Path("/opt/miniconda3"), Path("/opt/anaconda3")]
    return roots


def candidates(version: str) -> Iterator[str]:
    """Places an X.Y interpreter is commonly installed, most specific first."""
    exe = f"python{version}"
    on_path = hostpaths.find(exe)
    if on_path:
        yield on_path
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    for d in sorted(glob.glob(str(pyenv_root / "versions" / f"{version}*")), reverse=True):
        if rx.fullmatch(rf"{rx.escape(version)}(\.\d+)?", Path(d).name):
            yield str(Path(d) / "bin" / exe)
    for root in _conda_roots():
        yield str(root / "bin" / exe)
        for d in sorted(glob.glob(str(root / "envs" / "*"))):
            yield str(Path(d) / "bin" / exe)
    toolcache = os.environ.get("RUNNER_TOOL_CACHE") or "/opt/hostedtoolcache"
    for d in sorted(glob.glob(f"{toolcache}/Python/{version}*"), reverse=True):
        if rx.fullmatch(rf"{rx.escape(version)}(\.\d+)?", Path(d).name):
            yield str(Path(d) / "x64" / "bin" / exe)
    yield f"/usr/local/bin/{exe}"
    yield f"/usr/bin/{exe}"


_ENV_KEYS = (
    "PATH",
    "HOME",
    "PYENV_ROOT",
    "RUNNER_TOOL_CACHE",
    "CONDA_PREFIX",
    "CONDA_ROOT",
    "CONDA_EXE",
    "MAMBA_ROOT_PREFIX",
)


def find_python(version: str) -> str | None:
    """The path of an installed interpreter of Python X.Y, or None. Never downloads.
    Remembered for the process (asking every interpreter takes seconds)."""
    _parse(version)
    return _find(version, tuple(os.environ.get(k, "") for k in _ENV_KEYS))


def forget() -> None:
    """Look again next time (after installing an interpreter)."""
    _find.cache_clear()


@functools.lru_cache(maxsize=64)
def _find(version: str, _env: tuple[str, ...]) -> str | None:
    found = _uv_find(version)
    if found and _answers(found, version):
        return found
    seen: set[str] = set()
    for path in candidates(version):
        if path in seen:
            continue
        seen.add(path)
        if _answers(path, version):
            return path
    return None


def python_hint(version: str) -> str:
    """The exact command that installs Python X.Y where forkvet (and uv) will find it."""
    major, minor = _parse(version)
    if (major, minor) >= UV_INSTALLABLE_FROM:
        return f"uv python install {version}"
    conda = f"conda create -n py{major}{minor} python={version}"
    if hostpaths.find("conda") and not hostpaths.find("pyenv"):
        return conda
    return f"pyenv install {version} (or: {conda})"
