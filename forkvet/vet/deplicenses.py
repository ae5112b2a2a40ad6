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
from forkvet.vet import modelrefs, modelsearch
from forkvet.vet.context import Context
from forkvet.vet.modelterms import ModelTerms, research_only_text

_DEPENDENCY_FILE = rx.compile(
    r"(?i)^(?:requirements[\w.-]*\.(?:txt|in)|pyproject\.toml|setup\.(?:py|cfg)|"
    r"environment[\w.-]*\.ya?ml|Pipfile|\.gitmodules)$"
)
MAX_FILES = 200


def _load() -> tuple[list[tuple[rx.Pattern[str], str, str]], frozenset[str]]:
    """((pattern finding the dependency, its name, its license), the permissive repositories
    as `host/owner/name`, lower-case)."""
    raw = resources.files("forkvet.data").joinpath("dependency_licenses.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    out = []
    for dep in data["dependencies"]:
        owner, name = dep["github"].split("/")
        host = rx.escape(dep.get("host", "github.com"))
        found = rf"(?i){host}[/:]{rx.escape(owner)}/{rx.escape(name)}(?:\.git)?(?:[^\w.-]|$)"
        if dep["package"]:
            found += (
                rf"|(?i)(?:^|[\s\"'=,\[(])(?:{rx.escape(dep['package'])})(?:[\s\"'=<>~!;@\[,)]|$)"
            )
        out.append((rx.compile(found), dep["github"], dep["license"]))
    known = [d.get("host", "github.com") + "/" + d["github"] for d in data["dependencies"]]
    known += ["github.com/" + d["github"] for d in data["permissive"]]
    return out, frozenset(k.lower() for k in known)


DEPENDENCIES, KNOWN = _load()
# A version-control address pip or git fetches: `git+https://host/owner/name(.git)(@ref)`,
# a `.gitmodules` submodule's `url = ...` (https, ssh `git@host:owner/name`).
_VCS_URL = rx.compile(
    r"(?i)\bgit\+(?:https?|ssh|git)://(?:[^@/\s\"']+@)?([\w.-]+)(?::\d+)?/([\w.-]+)/([\w.-]+)"
)
_SUBMODULE_URL = rx.compile(
    r"(?im)^[ \t]*url[ \t]*=[ \t]*(?:[a-z+]+://)?(?:[^@/\s]+@)?([\w.-]+)[:/]([\w.-]+)/([\w.-]+)"
)


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
    unknown = _unknown_vcs(texts)
    if unknown:
        names = ", ".join(f"{n} ({p})" for n, p in unknown[:6])
        more = f" and {len(unknown) - 6} more" if len(unknown) > 6 else ""
        what = f"code it fetches from a version-control address: {names}{more} — license not seen"
        out.append(ModelTerms(unknown[0][1], what, [], False, unverified=True))
    return out


def _unknown_vcs(texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(host/owner/name, path) for each dependency fetched from a version-control address that
    neither list of the table names (a Hub address is a model: modelrefs reads it)."""
    out: dict[str, str] = {}
    for path, text in texts:
        if path.split("/")[0].lower() in ("docs", "doc"):  # builds the documentation only
            continue
        pattern = _SUBMODULE_URL if path.endswith(".gitmodules") else _VCS_URL
        for m in list(pattern.finditer(text[:200_000]))[:100]:
            host, owner, name = m.group(1).lower(), m.group(2), m.group(3).removesuffix(".git")
            repo = f"{host}/{owner}/{name}"
            if repo.lower() not in KNOWN and not rx.search(modelrefs.HUB_HOSTS + "$", host):
                out.setdefault(repo, path)
    return list(out.items())
