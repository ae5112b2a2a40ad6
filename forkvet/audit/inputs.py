"""What `forkvet audit` reads: a CycloneDX SBOM, a requirements file, a conda
environment.yml, or a folder of forkvet env output. Above pins.py and sbominput.py."""

from __future__ import annotations

from pathlib import Path

from forkvet import rx
from forkvet.audit.pins import Pins, _read, read_environment_yml, read_requirements
from forkvet.audit.sbominput import is_cyclonedx, read_sbom


def read_target(path: Path) -> Pins | None:
    """Pins from a file or a folder of forkvet env output; None when the folder has neither
    (a repository, to be pinned first)."""
    if path.is_file():
        if is_cyclonedx(path):
            return read_sbom(path)
        if path.name.endswith((".yml", ".yaml")):
            return read_environment_yml(path)
        return read_requirements(path)
    reqs, env = path / "requirements.txt", path / "environment.yml"
    if not reqs.is_file() and not env.is_file():
        return None
    pins = Pins()
    if reqs.is_file():
        read_requirements(reqs, pins)
    if env.is_file():
        read_environment_yml(env, pins)
    pyver = path / ".python-version"
    if pyver.is_file() and not pyver.is_symlink():
        text = _read(pyver).strip()
        if rx.fullmatch(r"\d+\.\d+(\.\d+)?", text):
            pins.python = ".".join(text.split(".")[:2])
    return pins
