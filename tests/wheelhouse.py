"""Wheels of distributions installed in the test interpreter (torch and what it needs), repacked
from their RECORD so that real uv installs them into a new environment from a local folder
(`UV_FIND_LINKS`), with no package index: the tests never reach the internet."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(names: list[str]) -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        dist = metadata.distribution(name)
        seen[name] = dist
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


def repack(dist: metadata.Distribution, folder: Path) -> Path:
    files = [
        f for f in dist.files or [] if not str(f).startswith("..") and "__pycache__" not in str(f)
    ]
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = re.findall(r"^Tag:\s*(\S+)", wheel_meta, re.M) or ["py3-none-any"]
    name = re.sub(r"[-.]+", "_", dist.metadata["Name"])
    path = folder / f"{name}-{dist.version}-{tags[0]}.whl"
    if path.exists():
        return path
    record_name = next(str(f) for f in dist.files or [] if str(f).endswith(".dist-info/RECORD"))
    records = []
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for f in files:
            rel = str(f)
            if rel == record_name or rel.endswith((".dist-info/INSTALLER", ".dist-info/REQUESTED")):
                continue
            if rel.endswith(".dist-info/direct_url.json"):
                continue
            data = Path(str(f.locate())).read_bytes()
            zf.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            records.append(f"{rel},sha256={digest.decode()},{len(data)}")
        records.append(f"{record_name},,")
        zf.writestr(record_name, "\n".join(records) + "\n")
    tmp.rename(path)
    return path


def installed_size(*names: str) -> int:
    """Bytes on disk of the named distributions and their dependencies: what one wheelhouse,
    one unpacked uv cache or one environment built from them takes."""
    total = 0
    for dist in _closure(list(names)):
        for f in dist.files or []:
            try:
                total += Path(str(f.locate())).stat().st_size
            except OSError:
                continue
    return total


def wheelhouse(folder: Path, *names: str) -> Path:
    """A folder with a wheel of each named installed distribution and its dependencies."""
    folder.mkdir(parents=True, exist_ok=True)
    for dist in _closure(list(names)):
        repack(dist, folder)
    return folder
