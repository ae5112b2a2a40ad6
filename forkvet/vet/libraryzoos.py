"""Models a library downloads by its own name (outside attack round 21d, F2).

InsightFace's `FaceAnalysis(name="buffalo_l")`, torchvision's `ViT_H_14_Weights.
IMAGENET1K_SWAG_E2E_V1`, keras_hub's `from_preset("llama3_8b_en")`, `kagglehub.
model_download("metaresearch/llama-2/…")`, timm's `create_model(name, pretrained=True)` fetch
weights no Hub id names. Which libraries, how their calls name a model and what each name's
license is live in a data table (`forkvet/data/library_models.json`), not in code: a name the
table's entries match is judged by its license; a library whose names the table cannot judge
(`other: "unverified"`) makes commercial use unclear, naming the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from forkvet import rx
from forkvet.vet import modelsearch, prosebases
from forkvet.vet.context import Context
from forkvet.vet.modelterms import ModelTerms, research_only_text

MAX_CALLS = 20


@dataclass(frozen=True)
class Library:
    name: str
    imports: rx.Pattern[str]
    call: rx.Pattern[str]
    models: list[tuple[rx.Pattern[str], str | None]]  # (name pattern, license; None: permissive)
    other: str | None  # "unverified", a license, or None (the code's license answers)
    unless: rx.Pattern[str] | None  # in the call's arguments: the model is named elsewhere
    shell: rx.Pattern[str] | None  # the library's command line in scripts


def _load() -> list[Library]:
    raw = resources.files("forkvet.data").joinpath("library_models.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    libraries = []
    for lib in data["libraries"]:
        other = lib["other"]
        libraries.append(
            Library(
                lib["library"],
                rx.compile(lib["imports"]),
                rx.compile(lib["call"]),
                [(rx.compile(m["pattern"]), m["license"]) for m in lib["models"]],
                other["license"] if isinstance(other, dict) else other,
                rx.compile(lib["unless"]) if lib.get("unless") else None,
                rx.compile(lib["shell"]) if lib.get("shell") else None,
            )
        )
    return libraries


LIBRARIES = _load()
BASE_NAMES = prosebases.BASE_NAMES


def base_name_license(name: str) -> str | None:
    """The license of a base model named as weights metadata writes it (`flux1-dev`)."""
    return next((lic for p, lic in BASE_NAMES if p.search(name)), None)


def zoo_loads(ctx: Context) -> tuple[list[ModelTerms], list[tuple[str, str]]]:
    """(terms of the library models the code loads, (model, path) for those no entry judges).
    A call that names no model loads the library's own pick (its default, a task's default):
    judged like a name, so a library whose default no entry knows is a gap (round 22d F1)."""
    judged: list[ModelTerms] = []
    unknown: list[tuple[str, str]] = []
    for fe, text in modelsearch.searched(ctx).texts:
        for lib, name in _calls(fe.path, text, modelsearch.is_python(fe)):
            lic = next((lic for p, lic in lib.models if p.search(name)), lib.other)
            if lic == "unverified":
                unknown.append((f"{lib.name} {name}", fe.path))
            elif lic:
                what = f"{fe.path}: loads {lib.name}'s {name}, weights under {lic}"
                judged.append(
                    ModelTerms(fe.path, what, [lic], research_only_text(lic), base_model=True)
                )
    return judged[:20], unknown[:20]


def _calls(path: str, text: str, python: bool) -> list[tuple[Library, str]]:
    """(library, the model's name) for each call of a table library in a code text: in Python
    the calls of the libraries it imports, in a script the libraries' command lines."""
    out: list[tuple[Library, str]] = []
    for lib in LIBRARIES:
        if python and lib.imports.search(text):
            for m in list(lib.call.finditer(text))[:MAX_CALLS]:
                if lib.unless and lib.unless.search(_arguments(text, m.start(), m.end())):
                    continue
                out.append((lib, " ".join(g for g in m.groups() if g) or "(its default model)"))
        elif not python and lib.shell:
            out += [(lib, m.group(1)) for m in list(lib.shell.finditer(text))[:MAX_CALLS]]
    return out


def _arguments(text: str, start: int, end: int) -> str:
    """A call's arguments: from the match's first `(` to the parenthesis closing it (at most
    2,000 characters on)."""
    opened = text.find("(", start, end + 1)
    if opened < 0:
        return ""
    depth = 0
    for i, ch in enumerate(text[opened : opened + 2000]):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return text[opened + 1 : opened + i]
    return text[opened + 1 : opened + 2000]
