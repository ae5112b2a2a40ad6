"""What a module of the repository binds a name to, read from its source as Python binds it
(outside attack, round 20a F8): the own-code exemption of a config target (`_target_`,
`class_path`, a dotted `type`, a HyperPyYAML tag, a string a loader evaluates) holds only for a
name that the module's source leaves bound to a class or function defined there.

Python binds a module's name to its last binding and a decorated definition to what the
decorator returns, so a spelling (`class Net` exists) proves nothing. A name is the module's
own only when its one binding at module level is a `class`/`def` (decorators: only those of
forkvet/data/eval_strings.json `decorators` or of a library outside the standard library and
the tree; bases and metaclass: own, builtin, of such a library, or of `stdlib_bases`), or one
import of a name that is own in turn. Any other or second binding (an assignment, `for`,
`with`, `del`, walrus, `global` in a function, `except ... as`), or a module that may bind
any name (a module-level `__getattr__`, `globals()`, `sys.modules`, a `*` import not from
own code) leaves the name unknown: not own. `Class.attr` is own when the class is and the
attribute is a `def` in its body (or inherited from a base whose code is not the tree's)."""

from __future__ import annotations

import ast
import fnmatch
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Protocol

from forkvet import rx

# A binding event of a name at module level: (kind, node or the dotted name imported, line).
Event = tuple[str, object, int]


class Owns(Protocol):
    """The tree's modules (configtargets.OwnModules)."""

    def owns(self, target: str, depth: int = 0) -> bool: ...

    def tree(self, top: str) -> bool: ...

    def bound(self, name: str) -> tuple[str, str]: ...


# A source encoding other than UTF-8's family: the text forkvet reads is not what Python runs.
_COOKIE = rx.compile(r"^[ \t\f]*#[^\n]*?coding[:=][ \t]*([-\w.]+)")
_PLAIN_CODECS = frozenset({"utf-8", "utf8", "utf_8", "ascii", "us-ascii", "latin-1", "iso-8859-1"})


@cache
def _table() -> dict[str, list[str]]:
    raw = json.loads(
        resources.files("forkvet.data").joinpath("eval_strings.json").read_text("utf-8")
    )
    return {k: v for k, v in raw.items() if isinstance(v, list)}


def _matches(name: str, key: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in _table()[key])


@dataclass
class Facts:
    """The module-level bindings of one module's source."""

    module: str  # its dotted name
    package: bool  # an __init__.py
    events: dict[str, list[Event]] = field(default_factory=dict)
    stars: list[tuple[str, int]] = field(default_factory=list)  # `*` imports: module, line
    dynamic: str = ""  # why any name may be bound (empty: none)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)

    def bind(self, name: str, kind: str, what: object) -> None:
        self.events.setdefault(name, []).append((kind, what, getattr(what, "lineno", 0)))

    def of(self, name: str) -> list[Event]:
        """The name's bindings; the same import twice (`import torch`, `import torch.cuda`)
        is one."""
        out: list[Event] = []
        for event in self.events.get(name, []):
            if event[0] == "import" and any(e[:2] == event[:2] for e in out):
                continue
            out.append(event)
        return out


def facts(text: str, module: str, package: bool) -> Facts | None:
    """The bindings of a module's source, or None when it does not parse (not Python)."""
    for line in text.split("\n", 2)[:2]:
        m = _COOKIE.match(line)
        if m and m.group(1).lower().replace("_", "-") not in _PLAIN_CODECS:
            return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    out = Facts(module, package)
    for stmt in _module_level(tree.body):
        _bind_statement(out, stmt)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                out.bind(name, "global", node)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            out.bind(node.target.id, "walrus", node)
        elif _namespace_written(node, ("globals",)):
            out.dynamic = out.dynamic or "it writes its namespace through globals()"
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "modules"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            out.dynamic = out.dynamic or "it touches sys.modules"
    for node in _here(tree.body):  # at module level, vars() and locals() are globals()
        if _namespace_written(node, ("vars", "locals")):
            out.dynamic = out.dynamic or "it writes its namespace through vars()/locals()"
    if "__getattr__" in out.events:
        out.dynamic = out.dynamic or "a module-level __getattr__ answers any missing name"
    return out


def _here(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes run in the module's own namespace: not inside a function, lambda or class."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _namespace_written(node: ast.AST, calls: tuple[str, ...]) -> bool:
    """A namespace (`globals()`, or what `calls` name, called without an argument) written
    through: a subscript stored or deleted, a method called on it (`update`, `setdefault`,
    `__setitem__`, `pop`), or handed to a call (`exec(code, globals())`). Reading a name from
    it (`globals()[name]`, `globals().get(name)`) binds nothing."""

    def namespace(expr: ast.AST) -> bool:
        return any(_is_call_to(expr, n) for n in calls) and not getattr(expr, "args", None)

    if isinstance(node, ast.Subscript) and namespace(node.value):
        return not isinstance(node.ctx, ast.Load)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and namespace(func.value):
            return func.attr not in ("get", "keys", "values", "items", "copy", "__contains__")
        return any(namespace(a) for a in [*node.args, *(k.value for k in node.keywords)])
    return False


def _is_call_to(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run at module level: compound statements' bodies, not functions'."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for attr in ("body", "orelse", "finalbody"):
            yield from _module_level(getattr(stmt, attr, []) or [])
        for handler in getattr(stmt, "handlers", []) or []:
            yield handler
            yield from _module_level(handler.body)
        for case in getattr(stmt, "cases", []) or []:
            yield from _module_level(case.body)


def _bind_statement(out: Facts, stmt: ast.AST) -> None:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        out.bind(stmt.name, "def", stmt)
        if isinstance(stmt, ast.ClassDef):
            out.classes[stmt.name] = stmt
    elif isinstance(stmt, ast.Import):
        for alias in stmt.names:
            name = alias.asname or alias.name.split(".")[0]
            out.events.setdefault(name, []).append(
                ("import", alias.name if alias.asname else name, stmt.lineno)
            )
    elif isinstance(stmt, ast.ImportFrom):
        source = _absolute(out, stmt.module or "", stmt.level)
        for alias in stmt.names:
            if alias.name == "*":
                out.stars.append((source, stmt.lineno))
            else:
                out.events.setdefault(alias.asname or alias.name, []).append(
                    ("import", f"{source}.{alias.name}", stmt.lineno)
                )
    elif isinstance(stmt, ast.ExceptHandler):
        if stmt.name:
            out.bind(stmt.name, "except", stmt)
    else:
        for target in _targets(stmt):
            for name in _names(target):
                out.bind(name, "assign", stmt)


def _targets(stmt: ast.AST) -> list[ast.expr]:
    if isinstance(stmt, ast.Assign):
        return list(stmt.targets)
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        return [stmt.target]
    if isinstance(stmt, ast.Delete):
        return list(stmt.targets)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    return []


def _names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _names(elt)
    elif isinstance(target, ast.Starred):
        yield from _names(target.value)


def _absolute(out: Facts, module: str, level: int) -> str:
    """A relative import's module as an absolute dotted name."""
    if not level:
        return module
    parts = out.module.split(".")
    keep = len(parts) - level + (1 if out.package else 0)
    base = parts[: max(keep, 0)]
    return ".".join([*base, module] if module else base)


def own_name(f: Facts, rest: list[str], own: Owns, depth: int) -> bool:
    """Whether module attribute chain `rest` (Name or Class.attr) is own code by the source."""
    if not rest or len(rest) > 2:
        return False
    name = rest[0]
    events = f.of(name)
    last = max((line for _, _, line in events), default=0)
    # A `*` import of code not the tree's after the name's binding may rebind it.
    foreign = [s for s, line in f.stars if line >= last and not own.tree(s.split(".")[0])]
    if f.dynamic:
        return False  # globals(), sys.modules, a module __getattr__: any name, any value
    if not events:
        if foreign:
            return False
        if f.stars:  # only own modules imported with `*`: theirs decides
            return all(own.owns(".".join([s, *rest]), depth + 1) for s, _ in f.stars)
        return True  # not bound at all: the import fails, nothing runs
    if len(events) > 1 or foreign:
        return False  # rebound (or may be)
    if any(line >= last and not own.owns(f"{s}.{name}", depth + 1) for s, line in f.stars):
        return False  # an own module's `*` that does not leave the name own
    kind, what, _ = events[0]
    if kind == "import" and isinstance(what, str):
        return own.owns(".".join([what, *rest[1:]]), depth + 1)
    if kind == "assign" and len(rest) == 1 and _literal(what):
        return True  # `CLASSES = ["cat", "dog"]`: data, calling it fails
    if kind != "def" or not isinstance(what, ast.AST) or not _plain(f, what, own, depth):
        return False
    if len(rest) == 1:
        return True
    return isinstance(what, ast.ClassDef) and _own_attr(f, what, rest[1], own, depth)


def _literal(stmt: object) -> bool:
    """An assignment of a literal (numbers, strings, lists and dicts of them) to names."""
    value = getattr(stmt, "value", None)
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or not isinstance(value, ast.expr):
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _plain(f: Facts, node: ast.AST, own: Owns, depth: int) -> bool:
    """A definition whose decorators, bases and metaclass leave it what it defines."""
    decorators = getattr(node, "decorator_list", [])
    if not all(_fine_decorator(f, d, own, depth) for d in decorators):
        return False
    if isinstance(node, ast.ClassDef):
        kinds = [*node.bases, *(k.value for k in node.keywords)]
        return all(_fine_base(f, b, own, depth) for b in kinds)
    return True


_BUILTINS = frozenset(dir(__import__("builtins")))


def _dotted(f: Facts, expr: ast.expr) -> str:
    """The dotted name an expression names through the module's imports ("" if none)."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return ""
    events = [e for e in f.of(expr.id) if not _none(e)]  # `except ImportError: torch = None`
    if len(events) == 1 and events[0][0] == "import":
        root = str(events[0][1])
    elif not events and not f.stars and expr.id in _BUILTINS:
        root = f"builtins.{expr.id}"
    elif len(events) == 1 and events[0][0] == "def":
        root = f"{f.module}.{expr.id}"
    else:
        return ""
    return ".".join([root, *reversed(parts)])


def _none(event: Event) -> bool:
    """`name = None`: a fallback that makes a later use fail, binding nothing to call."""
    value = getattr(event[1], "value", None)
    return event[0] == "assign" and isinstance(value, ast.Constant) and value.value is None


def _library(dotted: str, own: Owns) -> bool:
    """A name of an installed library's code: neither the standard library nor the tree."""
    top = dotted.split(".")[0]
    return top not in sys.stdlib_module_names and top != "builtins" and not own.tree(top)


def _fine_decorator(f: Facts, expr: ast.expr, own: Owns, depth: int) -> bool:
    """A decorator that returns what it decorates: a known one, or a library's (a registry's
    `register_module()`); the tree's own may return anything (`return subprocess.Popen`)."""
    dotted = _dotted(f, expr)
    return bool(dotted) and (_matches(dotted, "decorators") or _library(dotted, own))


def _fine_base(f: Facts, expr: ast.expr, own: Owns, depth: int) -> bool:
    """A base class (or metaclass) whose code calling the class runs is known: an own class
    (judged in turn), a library's, a builtin type, or a standard one of `stdlib_bases`."""
    dotted = _dotted(f, expr)
    if not dotted:
        return False
    if dotted.startswith("builtins."):
        return dotted[9:] not in _table()["unsafe_builtin_bases"]
    if own.tree(dotted.split(".")[0]):
        return own.owns(dotted, depth + 1)
    return _matches(dotted, "stdlib_bases") or _library(dotted, own)


_METHOD_DECORATORS = ("builtins.staticmethod", "builtins.classmethod", "builtins.property")


def _own_attr(f: Facts, cls: ast.ClassDef, attr: str, own: Owns, depth: int) -> bool:
    """Whether Class.attr is a method its source defines (or a library base class's)."""
    bound = [s for s in _module_level(cls.body) if attr in _bound_names(s)]
    if bound:
        node = bound[0]
        if len(bound) > 1 or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False  # `build = staticmethod(subprocess.Popen)`, or rebound
        return all(
            _dotted(f, d) in _METHOD_DECORATORS or _fine_decorator(f, d, own, depth)
            for d in node.decorator_list
        )
    for base in cls.bases:  # inherited: an own base's body decides
        dotted = _dotted(f, base)
        in_tree = bool(dotted) and own.tree(dotted.split(".")[0])
        if in_tree and not own.owns(f"{dotted}.{attr}", depth + 1):
            return False
    return True


def _bound_names(stmt: ast.AST) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names]
    return [n for t in _targets(stmt) for n in _names(t)]
