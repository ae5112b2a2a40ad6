"""Check 5: declared and imported dependencies, mapped to PyPI names; missing and unused."""

from __future__ import annotations

from forkvet.report import Dependencies, Finding
from forkvet.vet.context import Context
from forkvet.vet.declared import DeclaredSet, collect
from forkvet.vet.importmap import MODULE_TO_DIST, TOOLING, canonical, dist_for_module
from forkvet.vet.pyhistory import PY2_ONLY_MODULES, STDLIB3

CHECK = "dependencies"
# Python 2 stdlib names, plus modules every Python has under another spelling.
# Every environment pip made has these; never report them missing.
_ALWAYS_PRESENT = frozenset({"setuptools", "pip", "wheel"})
_STDLIB = STDLIB3 | PY2_ONLY_MODULES | {"__future__", "__main__", "builtins"}


def third_party_imports(ctx: Context) -> dict[str, list[tuple[str, int, bool, str]]]:
    """dist -> [(path, line, optional, module)] for every third-party import."""
    out: dict[str, list[tuple[str, int, bool, str]]] = {}
    loose, strict = ctx.py.local_modules, ctx.py.local_packages
    for ref in ctx.py.imports:
        top = ref.top
        if top in _STDLIB:
            continue
        # A well-known third-party name is local only if the repo has a real package of it.
        local = (top in strict) if top in MODULE_TO_DIST else (top in loose)
        if local:
            continue
        dist, _ = dist_for_module(ref.module)
        # Not installable: name the module as imported (google.colab, not google).
        shown = ".".join(ref.module.split(".")[:2]) if top in ("google", "azure") else top
        key = dist if dist is not None else f"<{shown}>"
        out.setdefault(key, []).append((ref.path, ref.line, ref.optional, ref.module))
    return out


def check(ctx: Context, declared: DeclaredSet | None = None) -> tuple[Dependencies, list[Finding]]:
    declared = declared if declared is not None else collect(ctx)
    imports = third_party_imports(ctx)
    deps = Dependencies(files=declared.files)
    specs: dict[str, str] = {}
    for d in declared.items:
        if d.name not in specs or (d.spec and not specs[d.name]):
            specs[d.name] = d.spec
    deps.declared = sorted(specs)
    deps.declared_specs = dict(sorted(specs.items()))
    declared_canonical = {canonical(n) for n in specs}
    not_installable: list[str] = []
    imported: list[str] = []
    for key, uses in sorted(imports.items()):
        if key.startswith("<"):
            not_installable.append(key.strip("<>"))
            continue
        imported.append(key)
        deps.imported_at[key] = [f"{p}:{ln}" for p, ln, _, _ in uses[:3]]
        if all(opt for _, _, opt, _ in uses):
            deps.optional.append(key)
        mods = {m.split(".")[0] for _, _, _, m in uses}
        if any(not dist_for_module(m)[1] for m in mods):
            deps.unmapped.append(key)
    deps.imported = imported
    # A guessed name is covered by a declared distribution that extends it (bert →
    # bert-tensorflow): the authors' word beats our guess.
    for guess in list(deps.unmapped):
        for name in specs:
            if name.startswith(f"{guess}-") or name.endswith(f"-{guess}"):
                imported[imported.index(guess)] = name
                deps.imported_at[name] = deps.imported_at.pop(guess)
                deps.unmapped.remove(guess)
                if guess in deps.optional:
                    deps.optional[deps.optional.index(guess)] = name
                break
    # Missing: imported for real (not only optionally), and not declared under any alias.
    deps.missing = [
        n
        for n in imported
        if n not in deps.optional
        and n not in _ALWAYS_PRESENT
        and canonical(n) not in declared_canonical
    ]
    imported_canonical = {canonical(n) for n in imported}
    deps.unused = [
        n
        for n in deps.declared
        if canonical(n) not in imported_canonical
        and n not in TOOLING
        and not _is_plugin(n, imported_canonical)
        and not any(d.dev for d in declared.items if d.name == n)
    ]
    findings: list[Finding] = []
    if not declared.files and imported:
        findings.append(
            Finding(
                CHECK,
                "warning",
                "No dependency file",
                f"The code imports {len(imported)} third-party package(s) but declares none: run "
                f"`forkvet env` to generate a pinned requirements.txt.",
            )
        )
    elif deps.missing:
        first = deps.missing[0]
        where = deps.imported_at[first][0] if deps.imported_at.get(first) else None
        findings.append(
            Finding(
                CHECK,
                "warning",
                "Undeclared dependencies",
                f"Imported but not declared: {', '.join(deps.missing[:15])}"
                + (" ..." if len(deps.missing) > 15 else ""),
                path=where.rsplit(":", 1)[0] if where else None,
                line=int(where.rsplit(":", 1)[1]) if where else None,
            )
        )
    if deps.unused:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "Declared but not imported",
                f"{', '.join(deps.unused[:15])}: declared but never imported (maybe used as a "
                f"command-line tool, or left over).",
            )
        )
    if not_installable:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "Dependencies not on the package index",
                f"{', '.join(sorted(set(not_installable)))}: not installable with pip (build from "
                f"source, conda, or a platform such as Colab).",
            )
        )
    if deps.unmapped:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "Guessed package names",
                f"{', '.join(deps.unmapped[:15])}: not in forkvet's import table; the import name "
                f"was used as the package name. Check before installing (typo-squatting exists).",
            )
        )
    for note in declared.notes:
        findings.append(Finding(CHECK, "notice", "Unreadable dependency file", note))
    return deps, findings


def _is_plugin(name: str, imported: set[str]) -> bool:
    # e.g. torch-scatter used through torch_geometric, tensorflow-gpu through tensorflow.
    return any(name.startswith(f"{i}-") for i in imported)
