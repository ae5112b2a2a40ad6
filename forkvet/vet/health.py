"""Check 10: code health — syntax errors, undefined names, tests, README — and Papers with
Code's ML Code Completeness Checklist as a score out of 5."""

from __future__ import annotations

import ast
from typing import Any

from forkvet import rx
from forkvet.report import (
    Checklist,
    ChecklistItem,
    Dependencies,
    EntryPoints,
    Finding,
    PythonInfo,
    Weight,
)
from forkvet.vet.context import Context
from forkvet.vet.pysource import PyFile

CHECK = "health"
_RESULTS_HEADING = rx.compile(
    r"^#+[ \t]*(?:results?|performance|benchmarks?|evaluation|model zoo|main results)\b",
    rx.I | rx.M,
)
_METRIC = rx.compile(r"acc|map|bleu|f1|psnr|ssim|top-?1|fid|iou|auc|wer|ppl|score", rx.I)
_CELL = rx.compile(r"[\w .@%-]*")


def has_results(readme: str) -> bool:
    """A results heading, or a table cell naming a metric. Cells are checked one at a time
    (one regex over a whole row was cubic on a row of spaces)."""
    if _RESULTS_HEADING.search(readme):
        return True
    for line in readme.splitlines():
        if line.count("|") < 2:
            continue
        for cell in line.split("|")[1:-1]:
            if len(cell) <= 200 and _METRIC.search(cell) and _CELL.fullmatch(cell.strip()):
                return True
    return False


def analyze_file(f: PyFile, tree: ast.Module, nodes: list[ast.AST]) -> None:
    """Per-file analyzer: names pyflakes finds undefined (they fail when the line runs)."""
    if f.is_notebook or not f.facts.get("pyflakes", True):
        return
    from forkvet.vet.python_version import too_costly

    if too_costly(f):  # reported once for all such files
        return
    from pyflakes.checker import Checker
    from pyflakes.messages import UndefinedName

    try:
        checker = Checker(tree, filename=f.path)
    except (Exception, RecursionError, MemoryError) as exc:
        # A third-party parser failing on one hostile file is a notice naming it.
        f.failure = f"partly analysed (pyflakes failed: {type(exc).__name__})"
        return
    f.facts["undefined"] = [
        (m.lineno, f"undefined name {m.message_args[0]!r}")
        for m in checker.messages
        if isinstance(m, UndefinedName)
    ]


# (path, line, what): kept apart, since a file name may hold `:7:` itself.
_Located = tuple[str, int, str]


def _undefined_names(ctx: Context) -> list[_Located]:
    return [
        (f.path, line, what) for f in ctx.py.files for line, what in f.facts.get("undefined", [])
    ]


def _shown(found: _Located) -> str:
    return f"{found[0]}:{found[1]}: {found[2]}"


_TEST_FILE = r"(?:^|/)(?:test_[^/]*\.py|[^/]*_test\.py|tests?/[^/]+\.py)$"


def check(
    ctx: Context, python: PythonInfo, deps: Dependencies, ep: EntryPoints, weights: list[Weight]
) -> tuple[dict[str, Any], Checklist, list[Finding]]:
    """Code health (syntax errors and undefined names in Python 3 code, tests, README) and the
    ML Code Completeness Checklist."""
    py3 = python.majors != [2]
    syntax = _syntax_errors(ctx) if py3 else []
    undefined = _undefined_names(ctx) if py3 else []
    test_files = [f.path for f in ctx.snap.files if rx.search(_TEST_FILE, f.path)]
    health: dict[str, Any] = {
        "readme": ctx.snap.readme.path if ctx.snap.readme else None,
        "tests": len(test_files),
        "syntax_errors": len(syntax),
        "undefined_names": len(undefined),
        "python_files": len(ctx.py.files),
        "undefined_names_checked": sum("undefined" in f.facts for f in ctx.py.files),
        "examples": [_shown(x) for x in (syntax + undefined)[:10]],
    }
    findings: list[Finding] = []
    if not ctx.snap.readme:
        findings.append(Finding(CHECK, "warning", "No README", "The repository has no README."))
    findings += _undefined_finding(undefined)
    items = _checklist(ctx.readme, deps, ep, weights)
    return health, Checklist(sum(i.present for i in items), items), findings


def _syntax_errors(ctx: Context) -> list[_Located]:
    return [(f.path, f.syntax_error[1], f.syntax_error[0]) for f in ctx.py.files if f.syntax_error]


def _undefined_finding(undefined: list[_Located]) -> list[Finding]:
    if not undefined:
        return []
    path, line, _ = undefined[0]
    return [
        Finding(
            CHECK,
            "warning",
            "Undefined names",
            f"{len(undefined)} undefined name(s) (pyflakes): these lines fail when they run. "
            f"First: {_shown(undefined[0])}",
            path=path,
            line=line,
        )
    ]


def _checklist(
    readme: str, deps: Dependencies, ep: EntryPoints, weights: list[Weight]
) -> list[ChecklistItem]:
    """Papers with Code's ML Code Completeness Checklist, one item each."""
    results = has_results(readme) and bool(ep.commands)
    return [
        ChecklistItem(
            "dependencies",
            bool(deps.files or deps.declared),
            ", ".join(deps.files[:3])
            or ("install commands in the README" if deps.declared else "")
            or "no requirements/environment file",
        ),
        ChecklistItem(
            "training code", bool(ep.train), ep.train[0].path if ep.train else "no training script"
        ),
        ChecklistItem(
            "evaluation code", bool(ep.test), ep.test[0].path if ep.test else "no evaluation script"
        ),
        ChecklistItem(
            "pretrained models",
            bool(weights),
            (weights[0].url or weights[0].path or "") if weights else "no weights",
        ),
        ChecklistItem(
            "results",
            results,
            "README has results and commands"
            if results
            else "no results table with reproduction commands",
        ),
    ]
