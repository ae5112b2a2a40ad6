"""`uv pip compile` as of a date, with the failures it reports turned into plain findings.

uv never sees the repository's configuration: it runs in a private temporary folder holding
forkvet's own `uv.toml` (empty, or the metadata repairs). uv stops its project-config search at
the nearest `uv.toml`, so it merges only that file with the user's own configuration
(`$XDG_CONFIG_HOME/uv/uv.toml`, `/etc/uv/uv.toml`) and `UV_*` environment variables: a user's
mirror keeps working, a repository's `uv.toml`, `pyproject.toml [tool.uv]` and
`.python-version` are never read. Source releases are never built unless the user allowed it
(`allow_builds`); the requirements given are checked to be plain named requirements.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from packaging.requirements import InvalidRequirement

from forkvet import rx, safeparse
from forkvet.envgen.index import IndexError_
from forkvet.errors import ForkvetError

# Re-exported: callers import them from here (they live below, in forkvet.uvbin).
from forkvet.uvbin import private_workdir as private_workdir
from forkvet.uvbin import uv_binary as uv_binary

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
_NETWORK = rx.compile(
    r"error sending request|dns error|Connection refused|operation timed out|"
    r"Failed to fetch|tcp connect error|connection closed|timed out|"
    r"failed to lookup address information",
    rx.I,
)
NETWORK_ERROR = _NETWORK  # uv's words for an index it could not reach
_NOT_FOUND = rx.compile(
    r"Because (?:there is no version of |)([\w.-]+)(?:\S*)? was not found "
    r"in the package registry|(?:^|[^\w.-])([\w.-]+) was not found in the package "
    r"registry",
    rx.I,
)
_NEEDS_BUILD = rx.compile(
    r"Wheels are required for `([^`]+)` because building from source is disabled for all"
)
# The user's choice (`--allow-build`), for every uv call of this command.
_ALLOW_BUILD: ContextVar[bool] = ContextVar("forkvet_allow_build", default=False)
_LINE = rx.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


@contextlib.contextmanager
def allow_builds(allowed: bool = True) -> Iterator[None]:
    """Let uv build source releases (run their build code) inside this block."""
    token = _ALLOW_BUILD.set(allowed)
    try:
        yield
    finally:
        _ALLOW_BUILD.reset(token)


def builds_allowed() -> bool:
    return _ALLOW_BUILD.get()


def build_flags() -> list[str]:
    # `--only-binary :all:` (not --no-build, which uv refuses beside per-package --only-binary)
    return [] if builds_allowed() else ["--only-binary", ":all:"]


def uv_env() -> dict[str, str]:
    """The environment of `env`'s uv calls: the user's own; with builds allowed (a package's
    build code then runs) only the names a command is handed by construction (the allow-list,
    the index settings, the compilers' settings) and none of their credentials: a secret under a
    name no word list knows (CORP_PASSCODE) never reaches build code (round 22b F2's neighbour)."""
    from forkvet.runtime.process import scrubbed_env, without_credentials

    if builds_allowed():
        base = without_credentials(scrubbed_env(keep_index_config=True))
    else:
        base = dict(os.environ)
    # UV_PYTHON_DOWNLOADS stays the user's choice (uv's default: download when needed).
    return {
        **base,
        "UV_NO_PROGRESS": "1",
        "UV_HTTP_TIMEOUT": os.environ.get("UV_HTTP_TIMEOUT", "30"),
    }


def plain_requirement(text: str) -> str:
    """text as a named requirement (name, extras, specifier, marker) with nothing a requirements
    file could read as an option, URL or path; ForkvetError otherwise."""
    if "\n" in text or "\r" in text or text.lstrip().startswith("-"):
        raise ForkvetError(f"not a plain requirement: {text!r}")
    try:
        req = safeparse.requirement(text)
    except InvalidRequirement as exc:
        raise ForkvetError(f"not a plain requirement: {text!r}") from exc
    if req.url:
        raise ForkvetError(f"not a plain requirement (a URL): {text!r}")
    return str(req)


@dataclass
class Compiled:
    ok: bool
    pins: dict[str, str]  # normalised name -> version
    error: str
    not_found: list[str]
    build_failed_package: str | None = None
    # Packages uv could only use by building a source release, which was not allowed.
    needs_build: list[str] = field(default_factory=list)


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
    uv_toml: str = "",
    uncap_build_tools: bool = True,
    may_build: bool = True,
) -> Compiled:
    """uv_toml: forkvet's own uv settings for this run (e.g. metadata repairs).
    uncap_build_tools: when builds are allowed, build backends are not date-capped (a build
    runs today's interpreter); the environment's own pins are capped in a second pass.
    may_build: False for a look-up that cannot build (one package, wheels only, no
    dependencies): it needs no interpreter of the target version, whose search takes a
    second per version; forkvet's own interpreter serves."""
    lines = [plain_requirement(r) for r in requirements]
    cmd = _compile_command(python, as_of, uncap_build_tools, may_build) + (extra or [])
    proc = _run_compile(cmd, lines, uv_toml, timeout)
    if proc.returncode == 0:
        return Compiled(True, _pins(proc.stdout), "", [])
    return _failed(proc.stderr.strip(), python)


def _compile_command(
    python: str, as_of: date, uncap_build_tools: bool, may_build: bool
) -> list[str]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cmd = [
        uv_binary(),
        *("pip", "compile", "-", "--no-header", "--no-annotate", "--quiet"),
        *("--python-version", python, "--python-platform", PLATFORM),
        *("--exclude-newer", _end_of(as_of)),
    ]
    found = None
    if builds_allowed():
        if uncap_build_tools:
            for tool in BUILD_TOOLS:
                cmd += ["--exclude-newer-package", f"{tool}={now}"]
        # Build old source releases with an installed interpreter of the target version.
        from forkvet.interpreters import find_python

        found = find_python(python) if may_build else None
    # Resolving for --python-version needs no interpreter of that version; left to choose,
    # uv asks every interpreter on the machine (seconds per call behind pyenv shims).
    cmd += ["--python", found or sys.executable]
    return cmd + build_flags()


def _run_compile(
    cmd: list[str], lines: list[str], uv_toml: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    try:
        with private_workdir(uv_toml) as cwd:
            return subprocess.run(
                cmd,
                input="\n".join(lines) + "\n",
                capture_output=True,
                text=True,
                timeout=timeout,
                env=uv_env(),
                cwd=cwd,
                check=False,
            )
    except subprocess.TimeoutExpired as exc:
        raise IndexError_(
            f"resolving took over {timeout:g} s: the package index is too slow or "
            f"unreachable; use --offline"
        ) from exc


def _pins(stdout: str) -> dict[str, str]:
    pins = {}
    for line in stdout.splitlines():
        m = _LINE.match(line.strip())
        if m:
            pins[rx.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return pins


def _failed(err: str, python: str) -> Compiled:
    """uv's error read: unreachable index (raised), missing names, a failed build, builds
    that were needed but not allowed."""
    if _NETWORK.search(err) and "No solution found" not in err:
        raise IndexError_(
            "could not reach the package index (" + _first_cause(err) + "); use "
            "--offline to generate names, Python version and declared pins only"
        )
    missing = sorted({(a or b).lower() for a, b in _NOT_FOUND.findall(err)})
    build = _BUILD.search(err)
    failed = rx.split(r"[=<>!~ ]", build.group(1))[0].lower() if build else None
    needs_build = sorted({rx.sub(r"[-_.]+", "-", m).lower() for m in _NEEDS_BUILD.findall(err)})
    return Compiled(False, {}, _explain(err, python), missing, failed, needs_build)


def _first_cause(err: str) -> str:
    causes = [ln.split("cause:", 1)[1].strip() for ln in err.splitlines() if "cause:" in ln]
    return causes[-1] if causes else err.splitlines()[0][:200]


_BUILD = rx.compile(r"Failed to build `([^`]+)`")


def _explain(err: str, python: str = "") -> str:
    """uv's resolver explanation, trimmed to its sentences."""
    from forkvet.interpreters import find_python, python_hint

    build = _BUILD.search(err)
    if build and "interpreter" not in err:
        fix = (
            ""
            if not python or find_python(python)
            else f"; old source releases build with the target Python: {python_hint(python)}"
        )
        return f"uv could not build {build.group(1)} from source to read its metadata{fix}"
    lines = [
        ln.strip().lstrip("╰─▶").strip()
        for ln in err.splitlines()
        if ln.strip() and not ln.strip().startswith(("warning:", "hint:"))
    ]
    text = " ".join(ln for ln in lines if not ln.startswith("×"))
    return rx.sub(r"\s+", " ", text)[:600] or "resolution failed"
