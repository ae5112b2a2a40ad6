"""No import circles between the files of forkvet/ and bot/.

The graph is read statically (ast), so an import inside a function counts as much as one at
the top of a file: a lazy import hides a circle from Python, not from a reader. `from . import
x` and `from .. import y` are resolved; `from pkg import name` is an edge to pkg/name.py when
that file exists, else to pkg/__init__.py. Parent packages are not edges (Python runs their
__init__ first, but a package importing its own submodules is no circle a reader follows).
"""

from __future__ import annotations

import ast
import fnmatch
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("forkvet", "bot")

# Circles allowed for now, each with its owner and the modules (fnmatch patterns) it may lie
# within; a circle that reaches any module outside its group still fails. Empty: none is.
ALLOWED: dict[str, tuple[str, ...]] = {}


def modules(root: Path = ROOT) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def _base(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def imports(tree: ast.AST, package: str, known: set[str]) -> set[str]:
    """The known modules a file imports, anywhere in it (module, function, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = _base(node, package)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
                elif base in known:
                    found.add(base)
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    mods = modules(root)
    known = set(mods)
    edges: dict[str, set[str]] = {}
    for name, (path, is_package) in mods.items():
        package = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges[name] = imports(tree, package, known) - {name}
    return edges


def components(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp: set[str] = set()
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        comp.add(top)
                        if top == node:
                            break
                    if len(comp) > 1:
                        found.append(comp)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def cycle(edges: dict[str, set[str]], comp: set[str]) -> list[str]:
    """One shortest circle through the component's first module, to print."""
    start = min(comp)
    came: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges[node] & comp):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came[path[-1]])
                return [*reversed(path), start]
            if nxt not in came:
                came[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no circle through {start}")  # a component always has one


def allowed_by(comp: set[str]) -> str | None:
    for owner, patterns in ALLOWED.items():
        if all(any(fnmatch.fnmatchcase(m, p) for p in patterns) for m in comp):
            return owner
    return None


def test_no_import_circles() -> None:
    edges = graph()
    circles = [
        " -> ".join(cycle(edges, comp)) + f"  (all of: {', '.join(sorted(comp))})"
        for comp in components(edges)
        if not allowed_by(comp)
    ]
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_graph_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "forkvet"
    (pkg / "sub").mkdir(parents=True)
    (tmp_path / "bot").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from forkvet.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from . import c\n")
    (pkg / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import f\n"
    )
    (pkg / "d.py").write_text("import forkvet.a\nfrom forkvet import rx\n")
    edges = graph(tmp_path)
    assert edges["forkvet.a"] == {"forkvet.sub.b"}
    assert edges["forkvet.sub.b"] == {"forkvet.sub.c"}
    assert edges["forkvet.sub.c"] == {"forkvet.a"}
    assert edges["forkvet.d"] == {"forkvet.a", "forkvet"}  # rx is no file here: the package
    (comp,) = components(edges)
    assert comp == {"forkvet.a", "forkvet.sub.b", "forkvet.sub.c"}
    assert cycle(edges, comp) == ["forkvet.a", "forkvet.sub.b", "forkvet.sub.c", "forkvet.a"]
    assert allowed_by(comp) is None
