"""Environment markers of declared requirements (`enum34; python_version < "3.4"`,
`pywin32; sys_platform == "win32"`), evaluated for the environment env builds: Linux on
x86_64 (uv's --python-platform), CPython, the Pythons env may choose.

A requirement whose marker is false for every such Python is left out and named (the
authors did not ask for it here: a Windows-only private helper must not become a name
resolved on the user's index); one true for all of them is a plain line; any other keeps its
marker on the line, for uv and pip to evaluate (a marker on a value env cannot know, such as
platform_release, or true for only some of the Pythons)."""

from __future__ import annotations

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName

from forkvet import rx, safeparse
from forkvet.envgen.uv import PLATFORM
from forkvet.escape import terminal

# Values of the target platform (PLATFORM is x86_64-unknown-linux-gnu) that never depend on
# the Python version.
_FIXED = {
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": PLATFORM.split("-", 1)[0],
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
}
# Known only as major.minor: a marker on them holds for the Python when it holds for its
# first and a late patch release alike.
_PATCHED = ("python_full_version", "implementation_version")
_QUOTED = rx.compile(r"\"[^\"]*\"|'[^']*'")
_NAME = rx.compile(r"[a-z_]+")


def evaluate(marker: str, python: str) -> bool | None:
    """Whether marker holds on Linux x86_64 CPython `python` (major.minor); None when that
    cannot be known (a variable env does not know: platform_release, platform_version,
    extra; an unreadable marker)."""
    try:
        parsed = safeparse.marker(marker)
    except InvalidMarker:
        return None
    names = set(_NAME.findall(_QUOTED.sub("", str(parsed))))
    if names - {*_FIXED, *_PATCHED, "python_version", "and", "or", "in", "not"}:
        return None
    results = set()
    for patch in ("0", "99"):
        env = {**_FIXED, "python_version": python}
        env |= {name: f"{python}.{patch}" for name in _PATCHED}
        try:
            results.add(parsed.evaluate(env))
        except (UndefinedComparison, UndefinedEnvironmentName):
            return None
    return results.pop() if len(results) == 1 else None


def judged(marker: str, pythons: list[str]) -> bool | None:
    """True when the marker holds for every one of pythons, False when for none, else None."""
    results = {evaluate(marker, python) for python in pythons}
    return results.pop() if len(results) == 1 else None


def left_out_notice(name: str, why: str, marker: str, pythons: list[str]) -> str:
    """The notice for a requirement its marker excludes from this environment."""
    return (
        f"{terminal(name)} ({terminal(why)}): left out: its marker `{terminal(marker[:200])}` "
        f"is false on Linux {_FIXED['platform_machine']} with Python {', '.join(pythons)}"
    )
