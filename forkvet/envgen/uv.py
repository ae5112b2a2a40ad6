"""`uv pip compile` as of a date, with the failures it reports turned into plain findings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from forkvet.envgen.index import IndexError_
from forkvet.errors import ForkvetError

COMPILE_TIMEOUT_S = 600
# Build backends are never date-capped: old setuptools breaks building old sdists.
BUILD_TOOLS = (
    "setuptools",
    "wheel",
    "pip",
    "setuptools-scm",
    "hatchling",
    "flit-core",
    "poetry-core",
    "scikit-build",
    "scikit-build-core",
    "meson-python",
)
PLATFORM = "x86_64-unknown-linux-gnu"
_NETWORK = re.compile(
    r"error sending request|dns error|Connection refused|operation timed out|"
    r"Failed to fetch|tcp connect error|connection closed|timed out",
    re.I,
)
_NOT_FOUND = re.compile(
    r"Because (?:there is no version of |)([\w.-]+)(?:\S*)? was not found "
    r"in the package registry|([\w.-]+) was not found in the package "
    r"registry",
    re.I,
)
_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


def uv_binary() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if Path(found).exists():
        return found
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError) as exc:
        raise ForkvetError("uv is not installed: pip install uv, or use --offline") from exc


@dataclass
class Compiled:
    ok: bool
    pins: dict[str, str]  # normalised name -> version
    error: str
    not_found: list[str]
    build_failed_package: str | None = None


def _end_of(day: date) -> str:
    return (
        datetime(day.year, day.month, day.day, tzinfo=UTC)
        .__add__(timedelta(days=1))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def compile_(
    requirements: list[str],
    python: str,
    as_of: date,
    extra: list[str] | None = None,
    timeout: float = COMPILE_TIMEOUT_S,
) -> Compiled:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cmd = [
        uv_binary(),
        "pip",
        "compile",
        "-",
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--python-version",
        python,
        "--python-platform",
        PLATFORM,
        "--exclude-newer",
        _end_of(as_of),
    ]
    for tool in BUILD_TOOLS:
        cmd += ["--exclude-newer-package", f"{tool}={now}"]
    cmd += extra or []
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "UV_HTTP_TIMEOUT": os.environ.get("UV_HTTP_TIMEOUT", "30"),
    }
    try:
        proc = subprocess.run(
            cmd,
            input="\n".join(requirements) + "\n",
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise IndexError_(
            f"resolving took over {timeout:g} s: the package index is too slow or "
            f"unreachable; use --offline"
        ) from exc
    if proc.returncode == 0:
        pins = {}
        for line in proc.stdout.splitlines():
            m = _LINE.match(line.strip())
            if m:
                pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
        return Compiled(True, pins, "", [])
    err = proc.stderr.strip()
    if _NETWORK.search(err) and "No solution found" not in err:
        raise IndexError_(
            "could not reach the package index (" + _first_cause(err) + "); use "
            "--offline to generate names, Python version and declared pins only"
        )
    missing = sorted({(a or b).lower() for a, b in _NOT_FOUND.findall(err)})
    build = _BUILD.search(err)
    failed = re.split(r"[=<>!~ ]", build.group(1))[0].lower() if build else None
    return Compiled(False, {}, _explain(err), missing, failed)


def _first_cause(err: str) -> str:
    causes = [ln.split("cause:", 1)[1].strip() for ln in err.splitlines() if "cause:" in ln]
    return causes[-1] if causes else err.splitlines()[0][:200]


_BUILD = re.compile(r"Failed to build `([^`]+)`")


def _explain(err: str) -> str:
    """uv's resolver explanation, trimmed to its sentences."""
    build = _BUILD.search(err)
    if build and "interpreter" not in err:
        return (
            f"uv could not build {build.group(1)} from source to read its metadata "
            f"(old source releases need the target Python to build: allow uv to download "
            f"it with UV_PYTHON_DOWNLOADS=automatic, or install that Python)"
        )
    lines = [
        ln.strip().lstrip("╰─▶").strip()
        for ln in err.splitlines()
        if ln.strip() and not ln.strip().startswith(("warning:", "hint:"))
    ]
    text = " ".join(ln for ln in lines if not ln.startswith("×"))
    return re.sub(r"\s+", " ", text)[:600] or "resolution failed"
