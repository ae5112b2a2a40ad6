"""Config strings a library evaluates as Python (outside attack, round 20a F2, F7).

YOLOv5/v7/v9's `parse_model` runs `eval` on every module and argument string of a model YAML;
rl_zoo3 on a hyperparameter file's `policy_kwargs`, `normalize`, `*_kwargs` strings, inside the
installed library; HRNet, PaddleOCR and many more do the same. Which loader reads a config is
not knowable from the config, so the rule is the string's own: a string value (or key) of a
YAML/JSON config that parses as a Python expression reaching beyond plain data is code in data,
an error naming the string. Beyond plain data, by the expression's parse:

- a call of anything but the builtins that build plain data (`dict(...)`, `list`, `min` ...:
  eval_strings.json `safe_calls`) and the names below;
- a dotted name whose first part is a module (standard library, a project forkvet's import
  table knows, a module of the tree, a loader's alias such as `nn`, `th`: `aliases`) and that
  is neither the repository's own code (owncode: by what the source binds) nor a known class
  (config_targets.json `safe`, eval_strings.json `references`): `os.system`, `torch.load`;
- a builtin other than those that build data or are inert, even uncalled (`eval`, `open`,
  `getattr`: a loader such as parse_model calls what the module string names);
- a dunder or private name or attribute, `lambda`, a comprehension, `:=`, anything else
  not in the plain-data grammar.

A word, a file name (`yolov5s.pt`: its first part is no module), a number, a list of them,
`nn.ReLU`, `dict(net_arch=[64, 64], activation_fn=nn.ReLU)` and the layer names of the
repository's own modules (`Conv`, `C3`) stay plain data."""

from __future__ import annotations

import ast
import builtins
import fnmatch
import json
import sys
import weakref
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources

import yaml

from forkvet import rx
from forkvet.report import Risk
from forkvet.vet import configformats, owncode
from forkvet.vet.configtargets import MAX_BOUND_FILES, OwnModules, known_safe
from forkvet.vet.importmap import MODULE_TO_DIST

SUFFIXES = (".yaml", ".yml", ".json")
MAX_NODES = 10_000  # nodes of one expression walked; more is NOT verified


@cache
def _data() -> dict[str, object]:
    text = resources.files("forkvet.data").joinpath("eval_strings.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


@cache
def _safe_calls() -> frozenset[str]:
    return frozenset(_list("safe_calls"))


def _list(key: str) -> list[str]:
    value = _data().get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


# A text that may hold such a string: a call, a dotted name, a dunder, a lambda, a
# comprehension's `for` (the whole text is searched window by window before any parse).
_NEED = rx.compile(
    r"[A-Za-z_][A-Za-z0-9_]*[ \t]*\(|__|\blambda\b|[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_]|\bfor\b|:="
)  # ASCII classes: RE2's Unicode \w is many times slower on text with non-ASCII letters


def need() -> rx.Pattern[str]:
    return _NEED


_UNREAD = rx.compile(
    r"(?:^|[^A-Za-z0-9_])[rRbB]?[fF][rRbB]?['\"][^\n]*\{[^}\n]*\("
)  # an f-string calling something: Python 3.12's f-strings nest the same quotes


def _may_be_code(value: str) -> bool:
    """The cheap test first (most strings are words, numbers, paths): NEED's characters."""
    return (
        "(" in value
        or "." in value
        or "_" in value
        or "for" in value
        or ":=" in value
        or "lambda" in value
    ) and bool(_NEED.search(value))


def risks(
    path: str,
    text: str,
    own: owncode.Owns,
    tick: Callable[[], None] = lambda: None,
    said: list[str] | None = None,
    claimed: set[tuple[int, str]] | frozenset[tuple[int, str]] = frozenset(),
) -> list[Risk]:
    """The first three strings of a config text that are code when a loader evaluates them;
    tick is called every thousand strings (it raises when the file's time is spent); a
    string another finding of the file quotes (said: their messages) is not told again, nor
    a value another rule judged there (claimed: (line, value) of a logging dictConfig's
    `class`/`filename`, see configsinks)."""
    out: list[Risk] = []
    judged: dict[str, str] = {}  # a data file repeats its strings
    for n, (value, line) in enumerate(_strings(text)):
        if n % 1000 == 999:
            tick()
        if not _may_be_code(value) or any(repr(value.strip()[:120]) in m for m in said or ()):
            continue
        if line is not None and (line, value) in claimed:
            continue
        if value not in judged:
            judged[value] = judge(value, own)
        why = judged[value]
        if why:
            out.append(_risk(path, value, line, why))
            if len(out) >= 3:
                break
    return out


def _risk(path: str, value: str, line: int | None, why: str) -> Risk:
    shown = value.strip()[:120] + ("…" if len(value.strip()) > 120 else "")
    return Risk(
        "code-in-data",
        "error",
        f"Config string that is Python code: {shown!r} {why}. Libraries evaluate config strings "
        "with eval (YOLOv5/v7/v9's parse_model every module and argument of a model YAML, "
        "rl_zoo3 a hyperparameter file's policy_kwargs), so loading this config with one runs "
        "it; read it before running anything that loads this config.",
        path,
        line,
    )


def judge(value: str, own: owncode.Owns, depth: int = 0) -> str:
    """Why a string is code when evaluated ("" when it is plain data or no expression)."""
    body = value.strip()
    if not body or depth > MAX_DEPTH:
        return ""
    if body.isidentifier():
        return _name_why(body, whole=True)
    try:
        tree = ast.parse(body, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # No expression: eval fails on it too, unless a newer Python reads it (3.12's
        # f-strings nest the same quotes): one with an f-string that calls is not judged.
        if "\n" not in body and _UNREAD.search(body):  # many lines: a script, no expression
            return "does not parse as forkvet's Python reads it, and a newer one may run it"
        return ""
    alias = _alias(tree.body, own)
    if alias:
        return alias
    if _built(tree.body):
        return "builds a string from pieces (what it yields may be code a loader evaluates)"
    try:
        return _Judge(own, depth).why(tree.body)
    except RecursionError:
        return "is nested too deep to judge (NOT verified)"


MAX_DEPTH = 3  # strings inside strings judged (`eval` of a string that holds code)
_BUILTINS = frozenset(dir(builtins))


def _alias(node: ast.expr, own: owncode.Owns) -> str:
    """A whole string naming an attribute of a standard module under a name the tree imports
    it as (`sp.run` where `import subprocess as sp`): a loader that calls what the string
    names (YOLOv5's module) calls it."""
    dotted = _chain(node) if isinstance(node, ast.Attribute) else ""
    top = dotted.split(".")[0]
    if not dotted or _module_like(top, own):
        return ""  # a module's own name is judged as a reference
    kind, where = own.bound(top)
    if kind != "import" or not _reached(own, top):
        return ""
    return f"names {dotted!r}, a standard module {where} imports"


def _name_why(name: str, whole: bool = False) -> str:
    """A builtin a string may not name: a dunder one, or (inside an expression, where a safe
    call such as map() may call it) any but those that build data or are inert. A string
    that is one builtin's name alone is a word (`split: eval`): a loader calling it gets
    only literal strings, judged in turn, since building a string is code (below)."""
    if name == "__builtins__" or (name.startswith("_") and name in _BUILTINS):
        return f"names the builtin {name!r}"
    if not whole and name in _BUILTINS and name not in _fine_builtins():
        return f"names the builtin {name!r}, which a call in it may call"
    return ""


@cache
def _fine_builtins() -> frozenset[str]:
    return frozenset(_list("safe_calls") + _list("inert_builtins"))


def _built(node: ast.AST) -> bool:
    """A value (the whole expression, or a branch of it) that is a string built from literal
    ones (`'__imp' + 'ort__'`, an f-string, `'...'[::-1]`, `''.join(...)`): a loader that
    evaluates the string it yields (`eval` named as YOLOv5's module) runs what no literal
    here spells. Built inside (`{{' ' + text}}`, a template), it yields no string."""
    if isinstance(node, ast.IfExp):
        return _built(node.body) or _built(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(_built(v) for v in node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _text(node.func.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp):
        return any(_text(o) for o in (node.left, node.right))
    return isinstance(node, ast.Subscript) and _text(node.value)


def _text(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))) or isinstance(
        node, ast.JoinedStr
    )


_PLAIN = (
    ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.BinOp, ast.UnaryOp, ast.BoolOp,
    ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Starred, ast.JoinedStr,
    ast.FormattedValue, ast.keyword, ast.expr_context, ast.operator, ast.unaryop, ast.boolop,
    ast.cmpop,
)  # fmt: skip
_DATA = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr)


class _Judge:
    """One string's expression walked (MAX_NODES at most)."""

    def __init__(self, own: owncode.Owns, depth: int) -> None:
        self.own, self.depth, self.left = own, depth, MAX_NODES

    def why(self, node: ast.AST, operand: bool = False) -> str:
        """Why an expression is code; operand: an operand of arithmetic or a comparison,
        where a name is a value, never called (`open-pull-requests-limit`, `a/b.txt`)."""
        self.left -= 1
        if self.left < 0:
            return f"has over {MAX_NODES:,} parts (NOT verified)"
        if isinstance(node, ast.Name):
            return "" if operand else _name_why(node.id)
        if isinstance(node, ast.Attribute):
            return self.reference(node, operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            inner = judge(node.value, self.own, self.depth + 1) if _may_be_code(node.value) else ""
            return f"holds the string {node.value[:80]!r}, which {inner}" if inner else ""
        if isinstance(node, ast.Call):
            why = self.call(node)
            if why:
                return why
        elif not isinstance(node, _PLAIN):
            return f"is a {type(node).__name__} expression, not plain data"
        inert = isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare))
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.Call) and child is node.func:
                continue
            why = self.why(child, inert)
            if why:
                return why
        return ""

    def reference(self, node: ast.Attribute, operand: bool) -> str:
        dotted = _chain(node)
        if not dotted:  # an attribute of a computed value: the value decides, and the name
            if node.attr.startswith("_"):
                return f"reaches the private attribute {node.attr!r}"
            return self.why(node.value)
        top = dotted.split(".")[0]
        if _module_like(top, self.own) and _allowed(dotted, self.own):
            return ""
        if any(p.startswith("_") for p in dotted.split(".")):
            return f"reaches the private name {dotted!r}"
        if operand:
            return ""  # a value in arithmetic, never called
        if not _module_like(top, self.own):
            return ""  # a word: a whole string is judged in judge() (`sp.run`)
        if _file_name(dotted) and not self.own.tree(top):
            return ""  # a file name such as wandb.yaml
        return f"names {dotted!r}, neither the repository's own code nor a known class"

    def call(self, node: ast.Call) -> str:
        """Why a call is code ("" for one that builds data or a known class)."""
        func = node.func
        dotted = _chain(func)
        top = dotted.split(".")[0]
        if isinstance(func, ast.Name) and func.id in _safe_calls():
            return ""
        if dotted and _module_like(top, self.own):
            if _allowed(dotted, self.own) and not any(p.startswith("_") for p in dotted.split(".")):
                return ""
            return f"calls {dotted!r}"
        if isinstance(func, ast.Attribute) and isinstance(func.value, _DATA):
            if func.attr.startswith("_"):
                return f"calls {ast.unparse(func)[:80]!r}"
            return ""  # a literal's method: `[1, 0].index(label)` (a string's: see _built)
        if isinstance(func, ast.Call):
            return self.call(func) or self.why(func.func)  # `NAG(NAG)(BMA)`
        if isinstance(func, ast.Attribute) and not dotted:  # `answer.split('#')[-1].strip()`
            return f"calls {func.attr!r}" if func.attr.startswith("_") else self.why(func.value)
        if not dotted or top in _BUILTINS or top.startswith("_"):
            return f"calls {ast.unparse(func)[:80]!r}"
        kind, where = self.own.bound(top)
        if (
            kind == "import" or (kind in ("def", "assign", "tree") and isinstance(func, ast.Name))
        ) and _reached(self.own, top):
            return f"calls {dotted!r}, which {where} binds"
        if kind != "library" and isinstance(func, ast.Name) and not node.args and not node.keywords:
            return f"calls {dotted!r}"  # `main()`: whatever the loader binds, run
        return ""  # a name nothing here binds, with data (`crane (bird)`): the args decide


def _chain(node: ast.expr) -> str:
    """`a.b.c` of an attribute chain on a name ("" when it is on anything else)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def _file_name(dotted: str) -> bool:
    """A name ending in a data file's suffix (`wandb.yaml`, `decimal.js`) or a host's top-level
    domain (`pd.csi.storage.gke.io`, a Kubernetes driver): a path or a host, which no module's
    callable is named after (an uncalled `tf.io` is a module: calling it fails)."""
    last = dotted.rsplit(".", 1)[-1].lower()
    return last in _list("file_suffixes") or last in _list("host_suffixes")


def _module_like(top: str, own: owncode.Owns) -> bool:
    aliases = _data().get("aliases")
    return (
        top in sys.stdlib_module_names
        or top == "builtins"
        or top in MODULE_TO_DIST
        or (isinstance(aliases, dict) and top in aliases)
        or own.tree(top)
    )


def _allowed(dotted: str, own: owncode.Owns) -> bool:
    aliases = _data().get("aliases")
    top, _, rest = dotted.partition(".")
    full = dotted
    if isinstance(aliases, dict) and top in aliases and not own.tree(top):
        full = f"{aliases[top]}.{rest}" if rest else str(aliases[top])
    if known_safe(full) or any(fnmatch.fnmatchcase(full, p) for p in _list("references")):
        return True
    return own.tree(top) and (own.owns(dotted) or _unbound(dotted, own))


def _unbound(dotted: str, own: owncode.Owns) -> bool:
    """A dotted name under one of the tree's packages that reaches an attribute no source of
    the package binds (no submodule, no name, no `*` import, no dynamic namespace): the
    loader's lookup fails there (AttributeError, ModuleNotFoundError) and nothing is called
    (dopamine's API docs name `dopamine.agents.dqn.dqn_agent`, an old layout). Never for a
    name Python may find elsewhere first: a standard or known installed module's (`os/`,
    `torch/` in the tree do not hide `os.system`), or a namespace package's (no source: an
    installed regular package of that name wins)."""
    top = dotted.split(".", 1)[0]
    if not isinstance(own, OwnModules) or top in sys.stdlib_module_names or top in MODULE_TO_DIST:
        return False
    parts = dotted.split(".")
    i = next((i for i in range(len(parts) - 1, 0, -1) if ".".join(parts[:i]) in own.modules), 0)
    if not i or ".".join(parts[: i + 1]) in own.modules:
        return False
    module, name = ".".join(parts[:i]), parts[i]
    if not own.modules[module] or top == "builtins":
        return False
    for src in own.modules[module]:
        found = own.source_facts(src, module)
        if found is None or found.dynamic or found.stars or found.of(name):
            return False
    return True


# A Python file of the tree that evaluates strings: `eval(`/`exec(` called as a name (not a
# method: `model.eval()`).
_EVALUATES = rx.compile(r"(?:^|[^.A-Za-z0-9_])(?:eval|exec)[ \t]*\(")
_EVALUATORS: weakref.WeakKeyDictionary[object, list[tuple[str, bool]]] = weakref.WeakKeyDictionary()


def _reached(own: owncode.Owns, name: str) -> bool:
    """Whether a name the tree binds can be in the namespace a string is evaluated in: some
    Python file of the tree that calls eval/exec names it (imports, defines or passes it) or
    imports a module with `*` (YOLOv5's models/yolo.py: `from models.common import *`). A
    name only a file that evaluates nothing binds (FastChat's `url`, a CSS `url(...)` in a
    theme) is no name an evaluating loader of the tree sees; an evaluating library's own
    namespace holds none of the tree's names. Not the tree's OwnModules: reached."""
    if not isinstance(own, OwnModules):
        return True
    if own not in _EVALUATORS:
        found: list[tuple[str, bool]] = []
        for path in own.python[:MAX_BOUND_FILES]:
            text = own.snap.read_text(path) or ""
            if ("eval" in text or "exec" in text) and _EVALUATES.search(text):
                found.append((text, "import *" in text))
        _EVALUATORS[own] = found
    word = rx.compile(rf"(?:^|[^A-Za-z0-9_]){rx.escape(name)}(?:[^A-Za-z0-9_]|$)")
    return any(star or word.search(text) for text, star in _EVALUATORS[own])


def _strings(text: str) -> Iterator[tuple[str, int | None]]:
    """Every string scalar (values and keys) of a YAML or JSON text, with its line."""
    stripped = text.lstrip(" \t\r\n\ufeff")
    if stripped[:1] in ("{", "["):
        try:
            yield from _json_strings(json.loads(stripped))
            return
        except (ValueError, RecursionError):
            pass  # YAML flow style, or not JSON: the composer decides
    try:
        for doc in configformats.compose_all(text):
            if doc is not None:
                yield from _yaml_strings(doc)
    except (yaml.YAMLError, RecursionError, ValueError):
        return  # what was composed before the error was judged


def _json_strings(data: object) -> Iterator[tuple[str, int | None]]:
    """Each distinct string of a JSON value once (a data file repeats its keys)."""
    todo: list[object] = [data]
    strings: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            todo.extend(node.values())
            strings.update(node.keys())
        elif isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, str):
            strings.add(node)
    for value in strings:
        yield value, None


_STR = "tag:yaml.org,2002:str"


def _yaml_strings(root: yaml.Node) -> Iterator[tuple[str, int | None]]:
    todo: list[yaml.Node] = [root]
    visited: set[int] = set()
    while todo:
        node = todo.pop()
        if id(node) in visited:
            continue  # an alias: walked once
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            todo.extend(v for pair in node.value for v in pair)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            yield node.value, node.start_mark.line + 1
