"""Configs that name code to call (outside attack, round 17a F3): Hydra/OmegaConf's `_target_`
(`hydra.utils.instantiate` imports the dotted name and calls it with the config's arguments)
and an mmengine-style dotted `type`, in any YAML or JSON config. Hydra's own blocklist misses
`imp.load_source`, `torch.load`, `numpy.load`, `pandas.read_pickle`, `builtins.open`,
`_posixsubprocess.fork_exec`...; so forkvet keeps an allow list instead: a target is the
repository's own code (a module of its tree, vetted as Python), or a known model, optimizer,
data or training class (forkvet/data/config_targets.json); anything else is `code-in-data`
(an error), like jsonpickle's `py/reduce`. A target computed at load time (`${...}`) cannot be
checked: also an error.

Configs are read as the loaders read them (PyYAML's composer, json.loads), never by pattern:
a key spelled with escapes (`"\\x5ftarget_"`) is the same key. Files are found by content (the
YAML search of risks.py hands over those that may hold a target)."""

from __future__ import annotations

import ast
import builtins
import fnmatch
import json
import sys
from functools import cache
from importlib import resources

import yaml

from forkvet import rx
from forkvet.report import Risk
from forkvet.snapshot import Snapshot
from forkvet.vet import configformats, owncode
from forkvet.vet.importmap import MODULE_TO_DIST

# What a target key needs in a text, or an escape that could spell one (ASCII classes: RE2's
# Unicode \W made this search 100 times slower on a notebook with a few non-ASCII letters);
# `types`: a file mmengine's Config.fromfile reads (.py .json .yaml .yml only: the name decides).
# The keys whose value a loader imports and calls whatever the file's name: Hydra's `_target_`
# and jsonargparse's `class_path` (LightningCLI: `class_path` + `init_args`, round 20).
INSTANTIATE = ("_target_", "class_path")
# Any case: configparser lowers an INI file's keys (`_TARGET_` is `_target_` there; round 20).
SPELLED_KEY = r"(?:^|[^A-Za-z0-9_])(?i:_target_|class_path)(?:[^A-Za-z0-9_]|$)"
NEED = rx.compile(SPELLED_KEY + r"|\\[xuU][0-9A-Fa-f]{2}", rx.M)
# Hydra 1.0's instantiate also takes `target`, `cls` and `class` (in that order, after
# `_target_`; 0.11 read `class`), and so do `instantiate_from_config` helpers (latent diffusion:
# `target:`): counted like `type`, in config files, when the value is a dotted name (round 19a F6).
TYPED_KEYS = ("type", "target", "cls", "class")
KEYS = (*INSTANTIATE, *TYPED_KEYS)
NEED_TYPES = rx.compile(
    SPELLED_KEY + r"|\\[xuU][0-9A-Fa-f]{2}|"
    r"\b(?:type|target|cls|class)[\"']?[ \t]*:[ \t]*[\"']?[A-Za-z_]\w*\.[A-Za-z_]",
    rx.M,
)


_ANY_CASE = rx.compile(r"(?i)_target_|class_path")


SPELLED_NEED = rx.compile(SPELLED_KEY, rx.M)


def may_instantiate(window: str) -> bool:
    """A cheap test before NEED: whether an instantiate key's name is in the text at all, in
    any case (an INI file's keys are lowered by configparser)."""
    return "_target_" in window or "class_path" in window or bool(_ANY_CASE.search(window))


def may_type(window: str) -> bool:
    """A cheap test before NEED_TYPES: whether a typed key's name is in the text at all."""
    return "type" in window or "target" in window or "cls" in window or "class" in window


TYPE_SUFFIXES = (".json", ".yaml", ".yml")
MAX_CONFIG_BYTES = 2 << 20
MAX_BOUND_FILES = 20_000  # Python files searched for what binds a name a config string calls
_MAX_NODES = 200_000  # per file: a config of aliases cannot make the walk explode
DOTTED = rx.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NAME = rx.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@cache
def _safe() -> tuple[tuple[str, ...], ...]:
    raw = json.loads(
        resources.files("forkvet.data").joinpath("config_targets.json").read_text("utf-8")
    )
    return tuple(tuple(p.split(".")) for p in raw["safe"])


def known_safe(target: str) -> bool:
    """A target the table allows: each dot-separated name matched by the pattern's own."""
    parts = target.split(".")
    return any(
        len(p) == len(parts) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, p))
        for p in _safe()
    )


@cache
def _unread_suffixes() -> frozenset[str]:
    raw = json.loads(
        resources.files("forkvet.data").joinpath("config_targets.json").read_text("utf-8")
    )
    return frozenset(raw["unread_formats"])


# Formats forkvet reads, whose parsers may refuse what a more lenient loader reads: JSON with
# `//` comments (json5, commentjson), a `%YAML 1.3` directive (libyaml refuses, PyYAML's
# Python loader under OmegaConf reads on), TOML 1.1 (tomli, not 3.11's tomllib): round 23a
# F13, F18, F20. Over the 367 labelled repositories no config spells the key unread.
_READ_SUFFIXES = frozenset((".yaml", ".yml", ".json", ".toml", ".cfg", ".ini"))


def unread_format(suffix: str, text: str) -> bool:
    """A config in a format forkvet has no reader for (HOCON `.conf`, `.json5`, `.jsonnet`...),
    or one its readers refuse, that spells a `_target_`/`class_path` key none of its readers
    found: NOT verified (a format forkvet cannot judge fails closed; round 20a F5, 23a F13)."""
    known = suffix in _unread_suffixes() or suffix in _READ_SUFFIXES
    if not known or not SPELLED_NEED.search(text):
        return False
    return not any(key in INSTANTIATE for key, *_ in _targets(text))


class OwnModules:
    """The dotted module names the repository's tree defines, from where Python finds them:
    the root, `src/`, a folder holding a setup.py/pyproject.toml (an installed package), and
    the folder of a script that instantiates configs (script_dirs: `training/run.py` puts
    training/ on sys.path, where `src.tasks.seq` is). A file deep in the tree is no module
    `torch` because its name is torch.py.

    A target is the repository's own only when the module's source leaves the name after it
    bound to a `class`/`def` defined there, or to an import of the repository's own code
    (owncode: by Python's binding, not by spelling): `src.utils.torch.load`, an attribute
    chain through a module that imports torch, reaches torch.load; `class Net` rebound by
    `Net = subprocess.Popen` is no own name."""

    def __init__(self, snap: Snapshot, script_dirs: set[str]) -> None:
        self.snap = snap
        self._facts: dict[str, owncode.Facts | None] = {}  # a source's bindings, once read
        self._bound: dict[str, tuple[str, str]] = {}
        files = [f.path for f in snap.files]
        self.python = [p for p in files if p.endswith(".py")]
        roots = (
            {""}
            | script_dirs
            | {
                p.rsplit("/", 1)[0] + "/"
                for p in files
                if "/" in p and p.rsplit("/", 1)[1] in ("setup.py", "pyproject.toml", "setup.cfg")
            }
        )
        roots |= {r + "src/" for r in list(roots)}
        self.modules: dict[str, list[str]] = {}  # dotted name -> its source files
        for p in files:
            if not p.endswith(".py"):
                continue
            for root in roots:
                if not p.startswith(root):
                    continue
                rest = p[len(root) :].removesuffix(".py")
                package = rest.endswith("/__init__")
                parts = rest.removesuffix("/__init__").split("/")
                self.modules.setdefault(".".join(parts), []).append(p)
                # the packages above it (namespace packages have no __init__)
                for i in range(1, len(parts) - (0 if package else 1) + 1):
                    self.modules.setdefault(".".join(parts[:i]), [])

    def owns(self, target: str, depth: int = 0) -> bool:
        parts = target.split(".")
        if parts[0] in sys.stdlib_module_names or parts[0] == "builtins" or depth > 4:
            return False
        # Only the three longest prefixes can make it own (a module, Class or Class.method
        # after it): a shorter module leaves an attribute chain. Three joins, so a name of a
        # million dotted parts costs its length, not its square (round 19a F13).
        for i in range(len(parts), max(len(parts) - 3, 0), -1):
            module = ".".join(parts[:i])
            if module not in self.modules:
                continue
            rest = parts[i:]
            if not rest:
                return True  # a module: calling it fails
            if not self._found_here(module, rest[0]):
                return False
            # What each source of the module binds the name to (round 20a F8): every one
            # Python may find must leave it own code (owncode's docstring).
            return all(self._binds_own(src, module, rest, depth) for src in self.modules[module])
        return False

    def _found_here(self, module: str, name: str) -> bool:
        """Whether `module.name` is what the tree makes it. Under a known distribution's
        import name the installed one may be what Python imports: a namespace portion (no
        source) loses to its regular package (`tensorflow/x.py` does not hide
        `tensorflow.io.write_file`), and a name the tree's source leaves unbound may be the
        installed one's (an empty `torch/__init__.py` does not make `torch.load` a failing
        name). Under any other name (flash-attention's `src/optim/` namespace) the tree's
        module is what a script of the tree imports: an unbound name fails there."""
        if module.split(".", 1)[0] not in MODULE_TO_DIST:
            return True
        sources = self.modules[module]
        if not sources:
            return False
        for src in sources:
            found = self.source_facts(src, module)
            if found is None or not (found.of(name) or found.stars or found.dynamic):
                return False
        return True

    def disowns(self, target: str) -> bool:
        """Whether a dotted name under one of the tree's modules is, by what that module's
        source binds it to, no own code (a pickle's `GLOBAL nets.b Net` where `Net =
        subprocess.Popen`); False for a name under no module of the tree."""
        parts = target.split(".")
        for i in range(len(parts) - 1, max(len(parts) - 4, 0), -1):
            if ".".join(parts[:i]) in self.modules:
                return not self.owns(target)
        return False

    def tree(self, top: str) -> bool:
        """Whether a top-level module name is one of the tree's."""
        return top in self.modules

    def bound(self, name: str) -> tuple[str, str]:
        """How the tree's code binds a name at module level to something a call of it runs:
        ("def" | "assign", where); ("import", where) for an import or alias from the standard
        library (`import subprocess as sp`); ("tree", where) for one from the tree's own
        modules; ("library", where) for one from a library (`from jax.sharding import
        PartitionSpec as P`, `P = jax.P`); ("", "") for a class or nothing. What a
        config string calling it reaches when the loader's module is the tree's (YOLOv5's
        `check_requirements`, imported into models/yolo.py with `*`)."""
        if name not in self._bound:
            self._bound[name] = self._find_bound(name)
        return self._bound[name]

    def _find_bound(self, name: str) -> tuple[str, str]:
        found = "", ""
        word = rx.escape(name)
        pattern = rx.compile(
            rf"(?m)^(?P<def>(?:async[ \t]+)?def)[ \t]+{word}\b"
            rf"|^{word}[ \t]*(?::[^=\n]*)?=(?P<assign>[^=][^\n]*)"
            rf"|^[ \t]*from[ \t]+(?P<src>[\w.]+)[ \t]+import[ \t]*(?:\([^)]*|[^\n]*)\b{word}\b"
            rf"|^[ \t]*import[ \t](?P<imp>[^\n]*)\bas[ \t]+{word}\b"
        )
        for path in self.python[:MAX_BOUND_FILES]:
            text = self.snap.read_text(path) or ""
            if name not in text:
                continue
            for m in pattern.finditer(text):
                where = f"{path} (line {text.count(chr(10), 0, m.start()) + 1})"
                if m.group("def"):
                    return "def", where
                assign = (m.group("assign") or "").strip()
                if assign and not DOTTED.fullmatch(assign):
                    return "assign", where
                source = (m.group("src") or assign or m.group("imp") or "").strip()
                top = source.split(".")[0]
                if top in sys.stdlib_module_names:
                    return "import", where  # `import subprocess as sp`, `from os import system`
                if self.tree(top) or source.startswith("."):
                    found = "tree", where  # the tree's own code: vetted, but a call runs it
                elif not found[0]:
                    found = "library", where  # `from jax.sharding import PartitionSpec as P`
        return found

    def _binds_own(self, path: str, module: str, rest: list[str], depth: int) -> bool:
        found = self.source_facts(path, module)
        return found is not None and owncode.own_name(found, rest, self, depth)

    def source_facts(self, path: str, module: str) -> owncode.Facts | None:
        """The bindings of one source of a tree module (read once; None: not Python)."""
        if path not in self._facts:
            text = self.snap.read_text(path)
            package = path.endswith("/__init__.py") or path == "__init__.py"
            self._facts[path] = None if text is None else owncode.facts(text, module, package)
        return self._facts[path]


def config_risks(snap: Snapshot, path: str, text: str, own: OwnModules) -> list[Risk]:
    """The targets of one config text (YAML, JSON is YAML too) that are neither own nor known;
    a dotted `type` only in a file mmengine reads (TYPE_SUFFIXES)."""
    found: list[tuple[str, str, int | None, list[str]]] = []
    types = path.lower().endswith(TYPE_SUFFIXES)
    seen: set[tuple[str, str, int | None]] = set()
    bounds = [configformats.read_other(text)[1]]
    for key, value, line, args in _targets(text, bounds=bounds):
        if not isinstance(value, str) or (key in TYPED_KEYS and not types):
            continue
        if (key, value, line) in seen:
            continue  # a text both TOML and INI read
        seen.add((key, value, line))
        target = value.strip()
        if "${" in target:
            found.append((key, target, line, args))
        elif key != "_target_" and not DOTTED.fullmatch(target):
            continue  # `type: adam`, `class_path: Linear`: a registry or subclass name
        elif not allowed(target, own):
            found.append((key, target, line, args))
    out = [target_risk(snap, path, key, t, line, args) for key, t, line, args in found[:3]]
    unread = next((b for b in bounds if b), "")
    if unread and SPELLED_NEED.search(text):
        out.append(bound_risk(path, unread))
    return out


def nesting_bound(exc: Exception) -> bool:
    """libyaml's own depth bound (not the syntax: PyYAML's Python loader, under a raised
    recursion limit, reads on)."""
    return isinstance(exc, yaml.YAMLError) and "maximum nesting depth" in str(exc)


def bound_risk(path: str, why: str) -> Risk:
    """A reader of a config that spells what a loader acts on stopped at one of forkvet's
    bounds, not at the syntax (round 22a F18): the loader may read on, so NOT verified."""
    return Risk(
        "code-in-data",
        "error",
        f"Config NOT verified for callables it names ({why}: forkvet's reader stopped at its "
        "bound where the loader may read on): it spells a key whose loader imports and calls "
        "what it names (`_target_`, `class_path`, a logging `class`); read it before running "
        "anything that loads it.",
        path,
    )


# HyperPyYAML's tags (SpeechBrain's `hyperparams.yaml`, load_hyperpyyaml): each imports the
# dotted name it spells; `!new:` and `!apply:` call it while the file is loaded (17a F13).
HYPER_TAGS = ("!new:", "!name:", "!apply:", "!applyref:", "!module:")
_HOW = {
    "_target_": "Hydra/OmegaConf `_target_` (hydra.utils.instantiate imports and calls it)",
    "class_path": "jsonargparse/LightningCLI `class_path` (imported, called with `init_args`)",
    "type": "mmengine-style `type` (the registry imports a dotted name and calls it)",
    "target": "Hydra 1.0 / `instantiate_from_config` `target` (imports and calls it)",
    "cls": "Hydra 1.0 `cls` (hydra.utils.instantiate imports and calls it)",
    "class": "Hydra 1.0/0.11 `class` (hydra.utils.instantiate imports and calls it)",
    "gin": "gin-config `@reference` through the file's `import` (dynamic_registration: gin "
    "imports it, and calls it for `@name()`)",
    "resolver": "OmegaConf resolver that imports the name it is given (hydra.utils.get_method, "
    "get_class...)",
    "tag": "HyperPyYAML tag (load_hyperpyyaml imports it, and `!new:`/`!apply:` call it)",
}


def tag_target(tag: str) -> str | None:
    """The dotted name a HyperPyYAML tag imports, or None for another tag."""
    for prefix in HYPER_TAGS:
        if tag.startswith(prefix):
            return tag[len(prefix) :].strip()
    return None


def allowed(target: str, own: OwnModules) -> bool:
    return bool(_NAME.fullmatch(target)) and (own.owns(target) or known_safe(target))


def target_risk(
    snap: Snapshot, path: str, key: str, target: str, line: int | None, args: list[str]
) -> Risk:
    named = [a for a in args if snap.get(a.lstrip("./")) is not None][:3]
    given = f"; its arguments name {', '.join(named)}: code it runs" if named else ""
    how = _HOW.get(key, _HOW["type"])
    what = (
        "computed when the config is loaded, so forkvet cannot know it"
        if "${" in target
        else "neither the repository's own code nor a known model, optimizer or data class"
    )
    return Risk(
        "code-in-data",
        "error",
        f"Config names a callable to run: {target[:120]!r} as a {how}; it is {what}"
        f"{given}. Loading the config runs it; read it before running anything that "
        "instantiates this config.",
        path,
        line,
    )


# A config kept as a string value of another config (JSON or YAML text in a JSON string, what
# safetensors metadata forces: every value is a string) is parsed by the loader that reads it
# (json.loads, yaml.safe_load, OmegaConf.create) and instantiated: read as a config too, a
# few levels deep (outside attack, round 18a F4).
_MAX_NESTED_DEPTH = 3
_MAX_NESTED = 100  # string values re-read per text


def _targets(
    text: str, depth: int = 0, bounds: list[str] | None = None
) -> list[tuple[str, object, int | None, list[str]]]:
    """(key, value, line, string arguments) of every `_target_` and `type` key, in every
    document of the text and in the configs its string values spell; [] when no loader
    would read it. bounds: gets why a reader stopped at forkvet's bound (not the syntax)."""
    nested: list[tuple[str, int | None]] = []
    out = _parsed(text, nested, bounds if bounds is not None else [])
    if depth < _MAX_NESTED_DEPTH:
        for value, line in nested[:_MAX_NESTED]:
            out += [(k, v, line, a) for k, v, _, a in _targets(value, depth + 1, bounds)]
    return out


def _parsed(
    text: str, nested: list[tuple[str, int | None]], bounds: list[str]
) -> list[tuple[str, object, int | None, list[str]]]:
    stripped = text.lstrip(" \t\r\n\ufeff")
    deep_json = False
    if stripped[:1] in ("{", "["):
        try:
            return _walk_json(json.loads(stripped), nested)
        except RecursionError:
            deep_json = True  # nested past forkvet's stack: a loader's may be shallower
        except ValueError:
            pass  # YAML flow style, or not JSON at all: the composer decides
    out: list[tuple[str, object, int | None, list[str]]] = []
    try:
        for doc in configformats.compose_all(text):
            if doc is not None:
                out += _walk_yaml(doc, nested)
    except (RecursionError, MemoryError):
        bounds.append("YAML nested deeper than forkvet reads")  # round 22a F18: fail closed
    except (yaml.YAMLError, ValueError) as exc:  # what was composed before the error stays
        if nesting_bound(exc):
            bounds.append("YAML nested deeper than libyaml reads (1,000 levels)")
        elif deep_json:
            bounds.append("JSON nested deeper than forkvet reads")
    # TOML and INI (round 20a F5): `tomllib.load` or configparser, then instantiate.
    for other in configformats.other_documents(text):
        out += [t for t in _walk_json(other, nested) if t not in out]
    return out


def _walk_json(
    data: object, nested: list[tuple[str, int | None]]
) -> list[tuple[str, object, int | None, list[str]]]:
    out: list[tuple[str, object, int | None, list[str]]] = []
    todo, seen = [data], 0
    while todo and seen < _MAX_NODES:
        node = todo.pop()
        seen += 1
        if isinstance(node, dict):
            for key in KEYS:
                if key in node:
                    out.append((key, node[key], None, _strings(node)))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, str) and len(nested) < _MAX_NESTED and NEED.search(node):
            nested.append((node, None))
    return out


def _strings(node: dict[object, object]) -> list[str]:
    args, init = node.get("_args_"), node.get("init_args")
    values = [
        *(args if isinstance(args, list) else []),
        *node.values(),
        *(init.values() if isinstance(init, dict) else []),
    ]
    return [v for v in values if isinstance(v, str) and len(v) < 300][:20]


def _walk_yaml(
    root: yaml.Node, nested: list[tuple[str, int | None]]
) -> list[tuple[str, object, int | None, list[str]]]:
    out: list[tuple[str, object, int | None, list[str]]] = []
    todo: list[yaml.Node] = [root]
    visited: set[int] = set()
    while todo and len(visited) < _MAX_NODES:
        node = todo.pop()
        if id(node) in visited:
            continue  # an alias: the node is walked once
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
            args = [
                s.value
                for _, v in pairs
                for s in (v.value if isinstance(v, yaml.SequenceNode) else [v])
                if isinstance(s, yaml.ScalarNode) and len(s.value) < 300
            ][:20]
            for k, v in pairs:
                if k.value in KEYS and isinstance(v, yaml.ScalarNode):
                    out.append((k.value, v.value, v.start_mark.line + 1, args))
            todo.extend(v for _, v in node.value)
            todo.extend(k for k, _ in node.value if not isinstance(k, yaml.ScalarNode))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif (
            isinstance(node, yaml.ScalarNode)
            and len(nested) < _MAX_NESTED
            and NEED.search(node.value)
        ):
            nested.append((node.value, node.start_mark.line + 1))
    return out


# -- OmegaConf resolvers that run config text (17a F14) ------------------------------------------
# `OmegaConf.register_new_resolver("eval", eval)`: every `${eval:...}` in a config is then
# Python the config supplies. The usual use is arithmetic (`${eval:'${a} * 2'}`): that stays
# quiet; anything else (a call, an attribute, a subscript, a lambda) is code in data.
_REGISTERS = rx.compile(
    r"register_(?:new_)?resolver\(\s*(?:name\s*=\s*)?[\"']([^\"'\n]{1,100})[\"']\s*,\s*"
    r"(?:resolver\s*=\s*)?([^\n]{0,300})"
)
_EVALS = rx.compile(r"^(?:builtins\.)?(?:eval|exec)\b|^lambda\b[^\n]*\b(?:eval|exec)\s*\(")
_ARITHMETIC = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Constant,
    ast.Tuple, ast.List, ast.Name, ast.Load, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)  # fmt: skip


def eval_resolvers(code: str) -> list[str]:
    """Names of the resolvers a Python text registers as eval/exec."""
    return [m.group(1) for m in _REGISTERS.finditer(code) if _EVALS.search(m.group(2).strip())]


def eval_risks(path: str, text: str, resolvers: dict[str, str]) -> list[Risk]:
    out: list[Risk] = []
    for name, where in resolvers.items():
        at = 0
        while len(out) < 3 and (i := text.find("${" + name + ":", at)) >= 0:
            start = i + len(name) + 3
            expr, at = _interpolation(text, start)
            if not _arithmetic(expr):
                shown = expr[:100] + ("…" if len(expr) > 100 else "")
                out.append(
                    Risk(
                        "code-in-data",
                        "error",
                        f"Config text run as Python: `${{{name}:{shown}}}` — {where} "
                        f"registers the OmegaConf resolver {name!r} as eval, so resolving this "
                        "value runs it, and it is more than arithmetic (a call, an attribute, a "
                        "subscript). Read it before running anything that loads this config.",
                        path,
                        text.count("\n", 0, i) + 1,
                    )
                )
    return out


def _interpolation(text: str, start: int) -> tuple[str, int]:
    """The resolver argument from start to its closing `}` (nested `${...}` and quotes
    skipped), and where it ends."""
    depth, quote, i = 0, "", start
    while i < len(text) and i - start < 10_000:
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif text.startswith("${", i):
            depth += 1
            i += 1
        elif c == "}":
            if depth == 0:
                return text[start:i], i + 1
            depth -= 1
        i += 1
    return text[start:i], i


def _arithmetic(expr: str) -> bool:
    """Whether an eval resolver's argument is plain arithmetic on literals and interpolations."""
    body = expr.strip()
    if len(body) >= 2 and body[0] == body[-1] and body[0] in "'\"":
        body = body[1:-1]
    body = rx.sub(r"\$\{[^{}]*\}", "1", body)  # nested interpolations: values, not code
    try:
        tree = ast.parse(body.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return all(isinstance(n, _ARITHMETIC) for n in ast.walk(tree))


# A resolver registered with a function forkvet cannot prove safe (round 19a F15: a named
# function reaching eval through `getattr(builtins, "ev" + "al")`; round 20a F11: `os.system`,
# `subprocess.getoutput`, a partial or a def that calls one): its use in a config is an error
# naming it, like an eval resolver's: config text is handed to code nobody showed safe.
# Proven safe: a builtin that only converts or measures, and a lambda made of its arguments,
# constants, arithmetic, subscripts, those builtins and plain string methods.
_SAFE_FUNCTIONS = frozenset(
    {"len", "int", "float", "str", "bool", "abs", "min", "max", "sum", "round", "list"}
    | {"tuple", "range", "sorted", "dict", "set"}
)
_SAFE_METHODS = frozenset(
    {"join", "split", "rsplit", "replace", "upper", "lower", "strip", "lstrip", "rstrip"}
    | {"startswith", "endswith", "get", "index", "count", "title", "capitalize"}
)
_LAMBDA_NODES = (
    *_ARITHMETIC, ast.Lambda, ast.arguments, ast.arg, ast.Subscript, ast.Slice, ast.Call,
    ast.Attribute, ast.keyword, ast.Dict, ast.JoinedStr, ast.FormattedValue,
)  # fmt: skip
_RESOLVER_CALLS = ("register_new_resolver", "register_resolver")


def unproven_resolvers(code: str) -> list[tuple[str, bool]]:
    """(name, runs code) of the resolvers a Python text registers with a function not proven
    safe (and not eval/exec: eval_resolvers names those; nor a name locator:
    locator_resolvers). A function from elsewhere (`os.system`, a `partial`) runs code on the
    config's text, and so does the repository's own function or lambda that calls a runner of
    code or commands by name; the repository's own that calls neither (OLMo's `path.glob`) is
    its code, vetted as code, and named as a warning."""
    regs, defs, aliases = _registrations(code)
    return [
        (n, _runs_code(r, defs, aliases))
        for n, r in regs
        if not _locator(r, aliases) and not _proven(r, defs)
    ]


# What a resolver's own body may call that runs code or commands on the text it is handed.
_RUNNERS = frozenset(
    {"eval", "exec", "compile", "__import__", "import_module", "system", "popen", "Popen"}
    | {"run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}
    | {"spawnl", "spawnv", "execv", "execve", "execvp", "startfile", "load", "loads"}
)


def _runs_code(
    resolver: ast.expr, defs: dict[str, ast.FunctionDef], aliases: dict[str, str]
) -> bool:
    body: ast.AST
    if isinstance(resolver, ast.Name) and resolver.id in defs:
        body = defs[resolver.id]
    elif isinstance(resolver, ast.Lambda):
        body = resolver
    else:
        return True  # not the repository's own function: a callable from elsewhere
    return any(
        isinstance(node, ast.Call) and _calls_a_runner(node.func, defs, aliases)
        for node in ast.walk(body)
    )


def _calls_a_runner(
    func: ast.expr, defs: dict[str, ast.FunctionDef], aliases: dict[str, str]
) -> bool:
    """A call by a runner's name, or of something whose origin the file does not show (a
    module-level `_ev = getattr(builtins, "ev" + "al")`, a computed callee)."""
    if isinstance(func, ast.Attribute):
        return func.attr in _RUNNERS or func.attr.startswith("__")
    if not isinstance(func, ast.Name):
        return True
    name = func.id
    if name in _RUNNERS or name in ("getattr", "globals", "vars", "locals", "breakpoint"):
        return True
    return not (name in defs or name in aliases or name in _BUILTIN_NAMES)


_BUILTIN_NAMES = frozenset(dir(builtins))


def locator_resolvers(code: str) -> list[str]:
    """Names of the resolvers registered as a function that imports the dotted name it is
    given (`hydra.utils.get_method`: config_targets.json `locators`): what a config hands one
    is judged as a `_target_` is."""
    regs, _, aliases = _registrations(code)
    return [n for n, r in regs if _locator(r, aliases)]


def _registrations(
    code: str,
) -> tuple[list[tuple[str, ast.expr]], dict[str, ast.FunctionDef], dict[str, str]]:
    """(name, function) of each resolver registration, the file's functions, its imports."""
    if "resolver" not in code:
        return [], {}, {}
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [], {}, {}
    regs: list[tuple[str, ast.expr]] = []
    defs: dict[str, ast.FunctionDef] = {}
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            defs[node.name] = node
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname})
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called not in _RESOLVER_CALLS:
            continue
        kw = {k.arg: k.value for k in node.keywords}
        name = node.args[0] if node.args else kw.get("name")
        resolver = node.args[1] if len(node.args) > 1 else kw.get("resolver")
        if isinstance(name, ast.Constant) and isinstance(name.value, str) and resolver is not None:
            regs.append((name.value, resolver))
    return regs, defs, aliases


def _locator(resolver: ast.expr, aliases: dict[str, str]) -> bool:
    spelled = configformats.dotted_name(resolver)
    head, dot, rest = spelled.partition(".")
    return f"{aliases.get(head, head)}{dot}{rest}" in _locators()


@cache
def _locators() -> frozenset[str]:
    raw = json.loads(
        resources.files("forkvet.data").joinpath("config_targets.json").read_text("utf-8")
    )
    return frozenset(raw["locators"])


def _proven(resolver: ast.expr, defs: dict[str, ast.FunctionDef] | None = None) -> bool:
    """Proven safe, or an eval/exec resolver (eval_resolvers judges those by the argument): a
    safe builtin, or a lambda or a function of the same file made only of its arguments,
    constants, arithmetic, subscripts, attribute reads (no dunder), `getattr(x, name)`, the
    safe builtins, `math` functions and plain string methods."""
    body: ast.AST
    if isinstance(resolver, ast.Name) and defs and resolver.id in defs:
        body = defs[resolver.id]
    elif isinstance(resolver, ast.Name):
        return resolver.id in _SAFE_FUNCTIONS or resolver.id in ("eval", "exec")
    elif isinstance(resolver, ast.Lambda):
        if _EVALS.search(ast.unparse(resolver)):
            return True
        body = resolver
    else:
        return False
    return all(_proven_node(node) for node in ast.walk(body))


_DEF_NODES = (
    ast.FunctionDef, ast.Return, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Store,
    ast.Starred, ast.Pass,
)  # fmt: skip


def _proven_node(node: ast.AST) -> bool:
    if not isinstance(node, (*_LAMBDA_NODES, *_DEF_NODES)):
        return False
    if isinstance(node, ast.FunctionDef) and node.decorator_list:
        return False
    if isinstance(node, ast.Attribute) and node.attr.startswith("__"):
        return False
    if not isinstance(node, ast.Call):
        return True
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in _SAFE_FUNCTIONS or (func.id == "getattr" and len(node.args) == 2)
    return isinstance(func, ast.Attribute) and (
        func.attr in _SAFE_METHODS or configformats.dotted_name(func.value) == "math"
    )


def locator_risks(
    snap: Snapshot, path: str, text: str, locators: dict[str, str], own: OwnModules
) -> list[Risk]:
    """`${get_method:os.system}` for a resolver that imports the name it is given: the name
    judged as a `_target_` (computed at load time: not known, an error too)."""
    out: list[Risk] = []
    for name in locators:
        at = 0
        while len(out) < 3 and (i := text.find("${" + name + ":", at)) >= 0:
            expr, at = _interpolation(text, i + len(name) + 3)
            target = expr.strip().strip("'\"").strip()
            if "${" in target or not allowed(target, own):
                line = text.count("\n", 0, i) + 1
                out.append(target_risk(snap, path, "resolver", target, line, []))
    return out


def unproven_risks(path: str, text: str, resolvers: dict[str, tuple[str, bool]]) -> list[Risk]:
    """For each resolver not proven safe that the config text uses: an error where it runs
    code (unproven_resolvers), else a warning."""
    out: list[Risk] = []
    for name, (where, runs_code) in resolvers.items():
        i = text.find("${" + name + ":")
        if i < 0:
            continue
        out.append(
            Risk(
                "code-in-data",
                "error" if runs_code else "warning",
                f"Config text handed to code: `${{{name}:...}}` — {where} registers the "
                f"OmegaConf resolver {name!r} with a function forkvet cannot prove safe (a "
                "command or code runner is one), and resolving this value calls it with the "
                "config's text. Read the resolver before running anything that loads this "
                "config.",
                path,
                text.count("\n", 0, i) + 1,
            )
        )
    return out[:3]
