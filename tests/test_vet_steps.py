"""The steps of forkvet.vet.vet, alone: the analyser registry, the runner, the index notices."""

from __future__ import annotations

import ast
import time
from pathlib import Path

from forkvet import vet as vet_pkg
from forkvet.report import Finding
from forkvet.snapshot import load
from forkvet.vet import analyzers, entry_points, health, python_version, risks
from forkvet.vet.context import Context
from forkvet.vet.pysource import PyFile, PyIndex


def test_the_checks_analysers_are_registered_in_their_order() -> None:
    assert analyzers.registered() == (
        python_version.analyze_file,
        risks.analyze_file,
        health.analyze_file,
        entry_points.analyze_file,
    )


def test_registering_twice_keeps_one_in_its_place() -> None:
    before = analyzers.registered()
    analyzers.register(risks.analyze_file)
    assert analyzers.registered() == before


def test_the_context_imports_no_check() -> None:
    source = Path(vet_pkg.__file__).with_name("context.py").read_text()
    imported = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module == "forkvet.vet"
        for alias in node.names
    }
    assert imported == {"analyzers"}


def test_runner_turns_a_failing_check_into_a_notice(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    found: list[Finding] = []
    run = vet_pkg._Runner(Context(load(tmp_path)), found)

    def broken() -> tuple[int, list[Finding]]:
        raise RecursionError

    assert run("demo", broken, 7) == 7
    assert [(f.check, f.title) for f in found] == [("demo", "Check incomplete")]
    assert "input nested too deeply" in found[0].message


def test_runner_skips_a_check_past_the_deadline_unless_always(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    found: list[Finding] = []
    ctx = Context(load(tmp_path), deadline=time.monotonic() - 1)
    run = vet_pkg._Runner(ctx, found)
    assert run("late", lambda: (1, []), 0) == 0
    assert run("risks", lambda: (1, [Finding("risks", "error", "t", "m")]), 0, always=True) == 1
    assert [f.title for f in found] == ["Check not run: time limit", "t"]


def test_index_notices_name_ten_failures_then_count_the_rest() -> None:
    files = [PyFile(f"big{i}.py", "", None, facts={"skimmed": True}) for i in range(4)]
    py = PyIndex(files, {}, skipped=2, unread=[(f"f{i}.py", "too deep") for i in range(12)])
    titles = [f.title for f in vet_pkg._index_notices(py)]
    assert titles == ["File not analysed"] * 10 + [
        "Files not analysed",
        "Python files skimmed",
        "Python files skipped",
    ]
    more = vet_pkg._index_notices(py)[10]
    assert more.message.startswith("2 more file(s) not analysed, e.g. f10.py (too deep)")


def _vet_imports() -> dict[str, set[str]]:
    """forkvet.vet's modules and the sibling modules each imports (anywhere in the file)."""
    folder = Path(vet_pkg.__file__).parent
    names = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in names:
        deps: set[str] = set()
        for node in ast.walk(ast.parse((folder / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "forkvet.vet":
                deps |= {a.name for a in node.names if a.name in names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "forkvet.vet."
            ):
                deps.add((node.module or "").split(".")[2])
        graph[name] = deps & names
    return graph


def test_no_import_circle_between_the_checks_modules() -> None:
    graph = _vet_imports()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, " -> ".join([*path, name])
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
