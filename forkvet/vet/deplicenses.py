"""Dependencies whose license does not allow commercial use (outside attack round 21d, F8).

A repository that installs NVIDIA's `nvdiffrast` (`nvdiffrast @ git+https://github.com/NVlabs/
nvdiffrast`) or vendors StyleGAN2-ADA as a submodule cannot run without code under a
non-commercial license; a commercial "yes" for it is not earned. Which dependencies are such is
a data table (`forkvet/data/dependency_licenses.json`, each entry with where its license was
read); they are found by name in the dependency files (requirements, pyproject, setup,
environment, Pipfile), `.gitmodules`, and the code's own scripts (the one model search's
texts: `pip install`, `git clone` lines).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from forkvet import rx
from forkvet.vet import modelsearch
from forkvet.vet.context import Context
from forkvet.vet.modelterms import ModelTerms, research_only_text

_DEPENDENCY_FILE = rx.compile(
    r"(?i)^(?:requirements[\w.-]*\.(?:txt|in)|pyproject\.toml|setup\.(?:py|cfg)|"
    r"environment[\w.-]*\.ya?ml|Pipfile|\.gitmodules)$"
)
MAX_FILES = 200


def _load() -> list[tuple[rx.Pattern[str], str, str]]:
    """(pattern finding the dependency, its name, its license)."""
    raw = resources.files("forkvet.data").joinpath("dependency_licenses.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    out = []
    for dep in data["dependencies"]:
        owner, name = dep["github"].split("/")
        found = rf"(?i)github\.com[/:]{rx.escape(owner)}/{rx.escape(name)}(?:\.git)?(?:[^\w.-]|$)"
        if dep["package"]:
            found += (
                rf"|(?i)(?:^|[\s\"'=,\[(])(?:{rx.escape(dep['package'])})(?:[\s\"'=<>~!;@\[,)]|$)"
            )
        out.append((rx.compile(found), dep["github"], dep["license"]))
    return out


DEPENDENCIES = _load()


def dependency_terms(ctx: Context) -> list[ModelTerms]:
    """One ModelTerms per listed dependency the repository installs or vendors."""
    texts = [
        (f.path, ctx.snap.read_text(f.path) or "")
        for f in ctx.snap.files
        if _DEPENDENCY_FILE.match(f.name) and not f.vendored and f.size <= 1 << 20
    ][:MAX_FILES]
    texts += [(fe.path, t) for fe, t in modelsearch.searched(ctx).texts if fe.suffix == ".sh"]
    out: list[ModelTerms] = []
    for pattern, name, lic in DEPENDENCIES:
        path = next((p for p, text in texts if pattern.search(text[:200_000])), None)
        if path:
            what = f"{path}: depends on {name}, under {lic}"
            out.append(ModelTerms(path, what, [lic], research_only_text(lic)))
    return out
