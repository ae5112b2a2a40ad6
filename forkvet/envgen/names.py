"""Which distributions the environment needs, and why: the authors' declarations first, then
imports they did not declare; optional, dev-only, build-only and non-installable kept apart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from forkvet.report import Report
from forkvet.vet.declared import DeclaredSet
from forkvet.vet.importmap import BUILD_ONLY, DEV_ONLY, canonical, normalize

# Conda-world names that are not Python packages: never pip-installed.
SYSTEM = frozenset({"cudatoolkit", "cudnn", "nccl", "cuda-toolkit", "mkl", "python", "pip"})
_PIN = re.compile(r"^==\s*([\w.*+!]+)$")


@dataclass
class Need:
    name: str  # PEP 503 normalised
    spec: str = ""  # as the authors wrote it ("" = unpinned)
    why: str = ""
    kind: str = "main"  # main | optional | dev | build
    declared: bool = False


@dataclass
class NeedSet:
    needs: list[Need] = field(default_factory=list)
    not_installable: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Need]:
        return [n for n in self.needs if n.kind in kinds]

    def get(self, name: str) -> Need | None:
        return next((n for n in self.needs if n.name == normalize(name)), None)


def _kind(name: str) -> str:
    return "dev" if name in DEV_ONLY else "build" if name in BUILD_ONLY else "main"


def from_report(report: Report, declared: DeclaredSet) -> NeedSet:
    out = NeedSet()
    seen: dict[str, Need] = {}
    for item in declared.items:
        if item.name in SYSTEM or "://" in item.spec:
            continue
        where = f"{item.path}:{item.line}" if item.line else item.path
        key = canonical(item.name)
        if key in seen:
            prior = seen[key]
            a, b = _PIN.match(prior.spec), _PIN.match(item.spec)
            if a and b and a.group(1) != b.group(1):
                # Conflicting pins: the first file (requirements before setup.py) wins.
                out.conflicts.append(
                    f"{item.name}: {prior.spec} ({prior.why}) vs {item.spec} "
                    f"({where}); kept {prior.spec}"
                )
            elif not prior.spec and item.spec:
                prior.spec = item.spec
            if item.dev:
                continue
            if prior.kind == "dev":
                prior.kind = _kind(item.name)
            continue
        kind = "dev" if item.dev else _kind(item.name)
        need = Need(item.name, item.spec, f"declared in {where}", kind, declared=True)
        seen[key] = need
        out.needs.append(need)
    deps = report.dependencies
    for name in deps.imported:
        key = canonical(name)
        where = ", ".join(deps.imported_at.get(name, [])[:2])
        if key in seen:
            if where and "imported" not in seen[key].why:
                seen[key].why += f"; imported at {where}"
            if seen[key].kind == "dev" and name not in DEV_ONLY:
                seen[key].kind = "main"
            continue
        kind = "optional" if name in deps.optional else _kind(name)
        need = Need(name, "", f"imported at {where}" if where else "imported", kind)
        seen[key] = need
        out.needs.append(need)
    for finding in report.findings:
        if finding.title == "Dependencies not on the package index":
            out.not_installable = [x.strip() for x in finding.message.split(":")[0].split(",")]
    return out
