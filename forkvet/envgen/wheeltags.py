"""Which wheels install on a CPython of Linux x86-64, by their file names alone: the piece
index.py and wheels.py both need (kept below both, so neither imports the other back)."""

from __future__ import annotations

from packaging.utils import InvalidWheelFilename, parse_wheel_filename


def installs_on(filename: str, python: str) -> bool:
    """Whether a wheel installs on CPython `python` (X.Y) on Linux x86-64."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    major, minor = (int(x) for x in python.split(".")[:2])
    cp = f"cp{major}{minor}"
    for tag in tags:
        plat = tag.platform
        if plat != "any" and not (
            plat.endswith("x86_64") and plat.startswith(("manylinux", "linux"))
        ):
            continue
        interp = tag.interpreter
        if interp in (f"py{major}", f"py{major}{minor}", cp) and tag.abi in (
            "none",
            cp,
            f"{cp}m",
            f"{cp}mu",
        ):
            return True
        if tag.abi == "abi3" and interp.startswith(f"cp{major}"):
            try:
                if int(interp[3:] or 0) <= minor:
                    return True
            except ValueError:
                continue
    return False
