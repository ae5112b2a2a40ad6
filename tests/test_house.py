"""House rules a newcomer relies on: functions short enough to read in one screen (issue 23)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("forkvet", "bot")
LONG, TOO_LONG = 60, 100  # lines, decorators and docstring included
MAX_LONG = 10  # functions over LONG lines the house tolerates


def function_lengths(root: Path = ROOT) -> dict[str, int]:
    """'path:qualified.name' -> lines, for every function and method (nested ones too)."""
    lengths: dict[str, int] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            rel = path.relative_to(root).as_posix()
            _walk(tree, rel, "", lengths)
    return lengths


def _walk(node: ast.AST, rel: str, prefix: str, lengths: dict[str, int]) -> None:
    for child in ast.iter_child_nodes(node):
        name = prefix
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}."
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            assert child.end_lineno is not None
            lengths[f"{rel}:{name[:-1]}"] = child.end_lineno - child.lineno + 1
        _walk(child, rel, name, lengths)


def _table(lengths: dict[str, int], over: int) -> str:
    rows = sorted(((n, f) for f, n in lengths.items() if n > over), reverse=True)
    return "\n".join(f"  {n:4d}  {f}" for n, f in rows)


def test_functions_are_short() -> None:
    lengths = function_lengths()
    too_long = [f for f, n in lengths.items() if n > TOO_LONG]
    long = [f for f, n in lengths.items() if n > LONG]
    table = _table(lengths, LONG)
    assert not too_long, (
        f"{len(too_long)} functions over {TOO_LONG} lines (of all over {LONG}):\n{table}"
    )
    assert len(long) <= MAX_LONG, (
        f"{len(long)} functions over {LONG} lines (at most {MAX_LONG}):\n{table}"
    )


def test_lengths_count_methods_and_nested_functions(tmp_path: Path) -> None:
    (tmp_path / "forkvet").mkdir()
    (tmp_path / "bot").mkdir()
    (tmp_path / "forkvet" / "m.py").write_text(
        "class A:\n"
        "    @staticmethod\n"
        "    def f():\n"
        "        def g():\n"
        "            pass\n"
        "        return g\n"
        "\n"
        "async def h():\n"
        "    pass\n"
    )
    assert function_lengths(tmp_path) == {
        "forkvet/m.py:A.f": 4,  # from `def` (decorators aside) to its last line
        "forkvet/m.py:A.f.g": 2,
        "forkvet/m.py:h": 2,
    }


def test_the_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines: move reference material to docs/"
