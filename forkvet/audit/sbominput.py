"""Pins from a CycloneDX SBOM (JSON): `forkvet audit sbom.cdx.json` audits what it lists.

Only `pkg:pypi/…@version` components are packages to audit (conda's CUDA toolkit is not on
PyPI); the environment's Python comes from forkvet's `forkvet:python` property when present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from forkvet import rx
from forkvet.audit.pins import MAX_FILE_BYTES, Pins, _read
from forkvet.errors import InputError

MAX_COMPONENTS = 20_000


def is_cyclonedx(path: Path) -> bool:
    # A JSON file is read as an SBOM (and refused with a clear message when it is not one):
    # requirements and conda files are never JSON.
    return path.name.endswith(".json")


def read_sbom(path: Path) -> Pins:
    text = _read(path)  # refuses links and files over MAX_FILE_BYTES
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not valid JSON") from exc
    if not isinstance(data, dict) or data.get("bomFormat") != "CycloneDX":
        raise InputError(f"{path}: not a CycloneDX SBOM (no bomFormat: CycloneDX)")
    pins = Pins(sources=[str(path)])
    for comp in _components(data.get("components")):
        purl = comp.get("purl")
        if not isinstance(purl, str):
            continue
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            continue
        if parsed.type != "pypi":
            continue
        if parsed.version:
            pins.packages[canonicalize_name(parsed.name)] = parsed.version
        else:
            pins.unpinned.append(parsed.name)
    meta = data.get("metadata")
    for prop in (meta.get("properties") if isinstance(meta, dict) else None) or []:
        if isinstance(prop, dict) and prop.get("name") == "forkvet:python":
            value = str(prop.get("value", ""))
            if rx.fullmatch(r"\d\.\d{1,2}", value):
                pins.python = value
    return pins


def _components(items: Any, depth: int = 0) -> list[dict[str, Any]]:
    """Components, nested ones included (CycloneDX allows a tree), bounded."""
    out: list[dict[str, Any]] = []
    if not isinstance(items, list) or depth > 20:
        return out
    for item in items:
        if not isinstance(item, dict):
            continue
        out.append(item)
        out += _components(item.get("components"), depth + 1)
        if len(out) > MAX_COMPONENTS:
            raise InputError(f"more than {MAX_COMPONENTS} components in the SBOM")
    return out


__all__ = ["MAX_FILE_BYTES", "is_cyclonedx", "read_sbom"]
