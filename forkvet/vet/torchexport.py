"""torch.export programs (`torch.export.save`'s `.pt2` archive, and the older archive with a
`serialized_exported_program.json`), found by their layout and judged as torch.export.load
reads them (outside attack, round 21a L1: their graph nodes' `target` keys were read as
Hydra 1.0 configs, an error for every exported model, for the wrong reason).

What the loader acts on (torch/_export/serde/serialize.py, forkvet/data/torch_export.json):
a node's `target` is resolved by getattr from `torch`, `operator` or `math`, chosen by its
first letters, and called when the program runs: it passes when it is an operator of
torch's own operator libraries (`torch.ops.aten.linear.default`), a symbolic-shape function
or a listed `operator`/`math` function; anything else it resolves to (`torch.os.system`) is
code in data. An `expr_str` goes through sympy.sympify, an eval: it passes when it holds
only numbers, symbols, operators and the listed functions. `guards_code` is Python that
ExportedProgram.module() execs: any is code in data. A graph that cannot be read is NOT
verified. Its pickles (sample inputs, constants) are walked as every zip member is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from forkvet import rx

MAX_GRAPH = 64 << 20  # bytes of one graph JSON read whole
MAX_NODES = 2_000_000  # JSON values walked in one graph
LEGACY = "serialized_exported_program.json"
MESSAGE = (
    "torch.export program whose graph names code that is no operator "
    "(torch.export.load resolves it, and running the program calls it)"
)
_TOKEN = rx.compile(
    r"[A-Za-z_][A-Za-z0-9_]*|'[A-Za-z0-9_]{1,64}'|"
    r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|\*\*|[-+*/%(),<>=!&|~^ \t]"
)


class Unreadable(Exception):
    """The graph could not be read whole: NOT verified."""


@dataclass(frozen=True)
class _Known:
    namespaces: frozenset[str]
    torch: frozenset[str]
    operator: frozenset[str]
    math: frozenset[str]
    sympy: frozenset[str]
    symbol: rx.Pattern[str]
    dynamic: rx.Pattern[str]


@cache
def _known() -> _Known:
    raw = json.loads(
        resources.files("forkvet.data").joinpath("torch_export.json").read_text("utf-8")
    )
    return _Known(
        frozenset(raw["op_namespaces"]),
        frozenset(raw["torch_functions"]),
        frozenset(raw["operator"]),
        frozenset(raw["math"]),
        frozenset(raw["sympy_names"]),
        rx.compile(raw["symbol"]),
        rx.compile(raw["dynamic_functions"]),
    )


def graph_members(names: list[str]) -> set[str]:
    """The members of a zip that torch.export.load reads as graphs: `<archive>/models/*.json`
    beside an `<archive>/archive_format`, or the older `serialized_exported_program.json`."""
    roots = {n[: -len("archive_format")] for n in names if n.rsplit("/", 1)[-1] == "archive_format"}
    out = {n for n in names if n.rsplit("/", 1)[-1] == LEGACY}
    for n in names:
        root, sep, rest = n.rpartition("models/")
        if sep and root in roots and rest.endswith(".json") and "/" not in rest:
            out.add(n)
    return out


def judge(data: bytes, tick: Callable[[], None]) -> list[str]:
    """What in a graph JSON is code (empty: none); Unreadable when it cannot be read."""
    if len(data) > MAX_GRAPH:
        raise Unreadable(f"a graph over {MAX_GRAPH >> 20} MiB")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"a graph that does not parse ({type(exc).__name__})") from None
    found: list[str] = []
    for key, value in _items(doc, tick):
        why = None
        if key == "target" and isinstance(value, str):
            why = _target(value)
        elif key == "expr_str" and isinstance(value, str):
            why = None if _sympy_safe(value) else f"a shape expression sympy evaluates: {value!r}"
        elif key == "guards_code" and isinstance(value, list) and value:
            why = "guards_code, Python that ExportedProgram.module() executes"
        if why and why not in found:
            found.append(why)
    return found[:5]


def _items(doc: Any, tick: Callable[[], None]) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of every object in the document, without recursion."""
    stack = [doc]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise Unreadable(f"a graph of over {MAX_NODES:,} values")
        if seen % 4096 == 0:
            tick()
        if isinstance(node, dict):
            for key, value in node.items():
                yield key, value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def _target(target: str) -> str | None:
    """Why a node target is code, as deserialize_operator resolves it; None when it is an
    operator, or a string the loader leaves unresolved."""
    if target.startswith("#"):
        return f"{target!r}, an extension operator the loading code's handlers resolve"
    module = next((m for p, m in _MODULES if target.startswith(p)), None)
    if module is None:
        return None  # kept as a string: nothing is called
    names = target.split(".")[1:]
    if _allowed(module, names):
        return None
    return f"{target!r}, which it resolves to {'.'.join([module, *names])}"


_MODULES = (("_operator", "operator"), ("torch", "torch"), ("math", "math"))


def _allowed(module: str, names: list[str]) -> bool:
    known = _known()
    if module == "torch" and len(names) in (3, 4) and names[0] == "ops":
        return names[1] in known.namespaces and not any(n.startswith("__") for n in names)
    listed = {"torch": known.torch, "operator": known.operator, "math": known.math}[module]
    return ".".join(names) in listed


def _sympy_safe(expr: str) -> bool:
    """Numbers, symbols, operators, known functions and quoted words only (sympy's srepr:
    `Symbol('s77', integer=True)`): no other string, no attribute or subscript reaches
    sympify's eval."""
    known = _known()
    at = 0
    for m in _TOKEN.finditer(expr):
        if m.start() != at:
            return False
        at = m.end()
        word = m.group(0)
        if word[0].isalpha() or word[0] == "_":
            named = word in known.sympy or known.dynamic.fullmatch(word)
            if not named and not known.symbol.fullmatch(word):
                return False
    return at == len(expr)
