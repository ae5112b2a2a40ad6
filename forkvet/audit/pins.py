"""The pinned packages of an environment: a requirements file, a conda environment.yml, or a
folder holding them (forkvet env's output)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from packaging.requirements import InvalidRequirement
from packaging.utils import canonicalize_name

from forkvet import rx, safeparse, safeyaml
from forkvet.errors import InputError

MAX_FILE_BYTES = 2 * 1024 * 1024
# conda names that are not the PyPI project of the same name (the rest match)
_CONDA_TO_PYPI = {"pytorch": "torch", "py-opencv": "opencv-python", "pytorch-cpu": "torch"}
_NOT_PYPI = {
    "python",
    "pip",
    "cudatoolkit",
    "cudnn",
    "cuda",
    "mkl",
    "nccl",
    "libgcc",
    "setuptools-scm-git-archive",
    "pytorch-cuda",
    "cpuonly",
}


@dataclass
class Pins:
    packages: dict[str, str] = field(default_factory=dict)  # canonical name -> version
    python: str | None = None
    unpinned: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _read(path: Path) -> str:
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; give the file itself")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{path} is larger than {MAX_FILE_BYTES // 1024} KiB")
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def _add_requirement(pins: Pins, line: str) -> None:
    line = line.split(" #", 1)[0].strip()
    if not line or line.startswith(("#", "-")):
        return
    try:
        req = safeparse.requirement(line)
    except InvalidRequirement:
        return
    exact = [s for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
    if exact:
        pins.packages[canonicalize_name(req.name)] = exact[0].version
    else:
        pins.unpinned.append(req.name)


def read_requirements(path: Path, pins: Pins | None = None) -> Pins:
    pins = pins or Pins()
    for line in _read(path).splitlines():
        _add_requirement(pins, line)
    pins.sources.append(str(path))
    return pins


def read_environment_yml(path: Path, pins: Pins | None = None) -> Pins:
    pins = pins or Pins()
    text = _read(path)
    # anchors and aliases have no place in an environment file: refuse them rather than
    # expand a YAML bomb
    if rx.search(r"(^|\s)[&*][A-Za-z0-9_-]+", text):
        raise InputError(f"{path}: YAML anchors/aliases are not supported here")
    try:
        data = safeyaml.load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a conda environment file (no mapping at the top)")
    for dep in data.get("dependencies") or []:
        if isinstance(dep, dict):
            for line in dep.get("pip") or []:
                if isinstance(line, str):
                    _add_requirement(pins, line)
            continue
        if not isinstance(dep, str):
            continue
        spec = dep.split("::", 1)[-1].strip()
        m = rx.match(r"^([A-Za-z0-9_.-]+)\s*(?:==?\s*([0-9][^=\s]*))?", spec)
        if not m:
            continue
        name, version = m.group(1).lower(), m.group(2)
        if name == "python":
            if version:
                pins.python = ".".join(version.split(".")[:2])
            continue
        if name in _NOT_PYPI:
            continue
        name = _CONDA_TO_PYPI.get(name, name)
        if version:
            pins.packages.setdefault(canonicalize_name(name), version.rstrip("*").rstrip("."))
        else:
            pins.unpinned.append(name)
    pins.sources.append(str(path))
    return pins
