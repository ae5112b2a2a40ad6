"""diffusers' `model_index.json` (round 20): `DiffusionPipeline.from_pretrained` builds each
component `"name": ["library", "Class"]` from a diffusers pipelines submodule, else from
`<name>/<library>.py` beside the file (a custom component: get_class_from_dynamic_module runs
that module), else from `importlib.import_module(library)`; a `_class_name` of
`["module", "Class"]` is a custom pipeline module. Judged like transformers' `auto_map`: a
component whose library is not diffusers' own (forkvet/data/diffusers.json) is `remote-code`,
an error when the repository loads with trust_remote_code=True. A file too large to read
whole is NOT verified (an error)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from forkvet import safeparse
from forkvet.report import Risk
from forkvet.snapshot import Snapshot

NAME = "model_index.json"
MAX_BYTES = 4 << 20
MAX_FILES = 20


@cache
def _known() -> frozenset[str]:
    raw = json.loads(resources.files("forkvet.data").joinpath("diffusers.json").read_text("utf-8"))
    return frozenset(raw["libraries"]) | frozenset(raw["pipeline_modules"])


def custom_components(doc: object, folder: str, snap: Snapshot) -> list[tuple[str, str]]:
    """(key, "library.Class") of every component diffusers would take from code that is not
    its own: a library outside the table, or one with a `<key>/<library>.py` beside it."""
    if not isinstance(doc, dict):
        return []
    out: list[tuple[str, str]] = []
    for key, value in doc.items():
        if not isinstance(key, str) or not isinstance(value, list) or len(value) != 2:
            continue
        library, name = value
        if not isinstance(library, str) or (key.startswith("_") and key != "_class_name"):
            continue
        beside = f"{folder}{key}/{library}.py"
        if key == "_class_name" or library not in _known() or snap.get(beside) is not None:
            out.append((key, f"{library}.{name}"))
    return out


def model_index_risks(snap: Snapshot, trusted: bool) -> list[Risk]:
    out: list[Risk] = []
    for f in snap.files:
        if f.path.rsplit("/", 1)[-1] != NAME or len(out) >= MAX_FILES:
            continue
        folder = f.path[: -len(NAME)]
        if f.size > MAX_BYTES:
            why = f"larger than {MAX_BYTES >> 20} MiB, its components were NOT verified"
            out.append(Risk("remote-code", "error", f"diffusers {NAME} {why}", f.path))
            continue
        try:
            doc = safeparse.json_loads(snap.read_text(f.path) or "")
        except ValueError:
            continue  # diffusers fails on it too
        found = custom_components(doc, folder, snap)
        if not found:
            continue
        shown = ", ".join(f"{k!r}: {c[:120]!r}" for k, c in found[:3])
        out.append(
            Risk(
                "remote-code",
                "error" if trusted else "warning",
                f"diffusers {NAME} names components that are not diffusers' or transformers' "
                f"own ({shown}): DiffusionPipeline.from_pretrained imports that module (a "
                "custom component from this repository or the Hub) and runs it, code forkvet "
                "does not judge as a model class (NOT verified)"
                + (", and this repository loads with trust_remote_code=True" if trusted else "")
                + ". Read that module, or pin `revision=` to a commit you read.",
                f.path,
            )
        )
    return out
