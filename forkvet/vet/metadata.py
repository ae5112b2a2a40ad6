"""Package metadata read statically: setup.py (AST, never executed), setup.cfg, pyproject.toml."""

from __future__ import annotations

import ast
import configparser
import time
import tomllib
import warnings
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import InvalidMarker

from forkvet import limits, rx, safeparse
from forkvet.snapshot import Snapshot
from forkvet.vet.pysource import estimated_nodes


@dataclass
class Elsewhere:
    """A dependency the authors install from a path, a URL or another index."""

    name: str
    source: str  # what it is installed from, as said to the reader ("a local path libs/x")
    other_index: bool = False  # another index (not a path, URL or git)
    extra: str = ""


@dataclass
class PackageMeta:
    path: str
    name: str | None = None
    license: str | None = None
    license_file: str | None = None
    # The files the metadata names as the package's license (PEP 621 `license = {file}`, PEP
    # 639 `license-files`, setup.cfg `license_file(s)`, setup(license=open(...).read())),
    # relative to the metadata file's folder; globs as written.
    license_files: list[str] = field(default_factory=list)
    classifiers: list[str] = field(default_factory=list)
    python_requires: str | None = None
    requires: list[str] = field(default_factory=list)
    extras: dict[str, list[str]] = field(default_factory=dict)
    setup_requires: list[str] = field(default_factory=list)
    # requirements files the setup script reads (install_requires=open("requirements.txt")...)
    requirement_files: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    # requirements files setup.cfg's `file:` directive names, per extra ("" = install_requires)
    extra_files: dict[str, list[str]] = field(default_factory=dict)
    # Dependencies installed from somewhere other than the package index (Poetry's path, url,
    # non-https git or named source): Elsewhere entries, never index names.
    elsewhere: list[Elsewhere] = field(default_factory=list)
    # An index set for the whole file (a uv default index, a Poetry primary source, PDM's
    # `pypi` source) that is not the user's: every package of it is from elsewhere.
    index_source: str = ""
    # Modules the project builds or installs besides those found in the tree: extension
    # modules (pyproject's `[[tool.setuptools.ext-modules]]`), `packages`, `py_modules` and
    # `package_dir` names (a package kept in a folder of another name).
    extensions: list[str] = field(default_factory=list)
    # limits reached while reading (shown as notices by the declared-dependencies check)
    notes: list[str] = field(default_factory=list)


# Items one setup.py may produce in all (real projects declare tens): a name used many times
# (`a+a+a+...` in thousands of setup() calls) would otherwise re-evaluate and copy its whole
# list each time, gigabytes from a small file.
MAX_SETUP_ITEMS = 10_000
SETUP_SECONDS = 5.0  # one setup.py's static reading, when the caller gives no deadline


class _OverBudget(Exception):
    pass


@dataclass
class _Budget:
    """What one parse may still produce, and until when."""

    items: int
    deadline: float

    def charge(self, count: int) -> None:
        self.items -= count
        if self.items < 0 or time.monotonic() > self.deadline:
            raise _OverBudget


def _size(node: ast.AST) -> int:
    """Elements a literal holds at its top level: charged before literal_eval builds it."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return len(node.elts)
    if isinstance(node, ast.Dict):
        return len(node.keys)
    return 1


def _unique(items: list[Any]) -> list[Any]:
    try:
        return list(dict.fromkeys(items))
    except TypeError:  # unhashable items (nested lists): kept as they are
        return items


def _literal(node: ast.AST, names: dict[str, ast.AST], budget: _Budget, depth: int = 0) -> Any:
    if depth > 5:
        return None
    if isinstance(node, ast.Name) and node.id in names:
        return _literal(names[node.id], names, budget, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _literal(node.left, names, budget, depth + 1)
        right = _literal(node.right, names, budget, depth + 1)
        if isinstance(left, list) and isinstance(right, list):
            joined = _unique(left + right)
            budget.charge(len(joined))
            return joined
        return left if isinstance(left, list) else right if isinstance(right, list) else None
    budget.charge(_size(node))
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.List):
        return _strings_of(node) + _table_lookups(node, names)
    return None


def _strings_of(node: ast.List) -> list[str]:
    """A list that is not all literals, read as its plain strings: an item chosen by a
    condition (`"triton" if sys.platform != "win32" else "triton-windows"`) is left out."""
    return [
        elt.value
        for elt in node.elts
        if isinstance(elt, ast.Constant) and isinstance(elt.value, str)
    ]


_REQ_NAME = rx.compile(r"^[ \t]*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _table_lookups(node: ast.List, names: dict[str, ast.AST]) -> list[str]:
    """Items looked up by name in a table of requirements (Hugging Face's setup.py:
    `_deps = ["trl==0.19", …]`, `deps = {…}` built from it, `install_requires = [deps["trl"],
    …]`): the table's string for that name, or the bare name when no table has it."""
    keys = [
        elt.slice.value
        for elt in node.elts[:500]
        if isinstance(elt, ast.Subscript)
        and isinstance(elt.slice, ast.Constant)
        and isinstance(elt.slice.value, str)
    ]
    if not keys:
        return []
    table: dict[str, str] = {}
    for value in list(names.values())[:200]:
        if isinstance(value, ast.List) and len(value.elts) <= 2000:
            for item in _strings_of(value):
                m = _REQ_NAME.match(item)
                if m:
                    table.setdefault(m.group(1).lower().replace("_", "-"), item)
    found = []
    for key in keys:
        m = _REQ_NAME.match(key)
        if m and m.end() == len(key):
            found.append(table.get(key.lower().replace("_", "-"), key))
    return found


def _opened_files(node: ast.AST) -> list[str]:
    """String constants ending in .txt inside an expression: `open('requirements.txt')`."""
    return [
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.endswith(".txt")
    ]


def _setup_tree(text: str) -> ast.Module | None:
    """A setup script's syntax tree, or None: unparsable, or built to exhaust ast (a million
    names: over 1 GB), which is not read."""
    if estimated_nodes(text) > limits.MAX_PARSE_TOKENS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _called_name(node: ast.Call) -> str:
    """`f` of `f(...)` or `m.f(...)`; "" for anything else."""
    fn = node.func
    return fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""


# Possible values one string expression may have (`NAME + "_v2"` with NAME assigned twice):
# beyond this, the rest are not tried.
_MAX_STRINGS = 16


def _assigned_strings(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Every `x = <expr>` in the script (module level or in a helper function), by name: a
    name assigned several values may have any of them."""
    out: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for tgt in targets:
                if isinstance(tgt, ast.Name) and len(out.get(tgt.id, ())) < _MAX_STRINGS:
                    out.setdefault(tgt.id, []).append(node.value)
    return out


class _Strings:
    """The values a string expression may have, read without running it: literals, names
    assigned in the script, f-strings, `+`, `%` and `.format` of those; empty when unknown.
    Each name is worked out once and the whole script has a budget of steps (a hostile
    script of names built from names built from names would otherwise be exponential)."""

    STEPS = 20_000
    # Nesting worked out, names through names and `a + b + …` alike (the stack is no limit).
    DEPTH = 24

    def __init__(self, tree: ast.Module) -> None:
        self.names = _assigned_strings(tree)
        self.known: dict[str, set[str]] = {}
        self.steps = self.STEPS
        self.depth = 0

    def __call__(self, node: ast.AST) -> set[str]:
        self.steps -= 1
        if self.steps < 0 or self.depth >= self.DEPTH:
            return set()
        self.depth += 1
        try:
            return self._value(node)
        finally:
            self.depth -= 1

    def _value(self, node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant):
            return {node.value} if isinstance(node.value, str) else set()
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.JoinedStr):
            values = [v.value if isinstance(v, ast.FormattedValue) else v for v in node.values]
            return _joined([self(v) for v in values])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _joined([self(node.left), self(node.right)])
        return self._formatted(node)

    def _name(self, name: str) -> set[str]:
        if name not in self.known:
            self.known[name] = set()  # while it is worked out: a cycle gives nothing
            found: set[str] = set()
            for value in self.names.get(name, []):
                found |= self(value)
            self.known[name] = set(sorted(found)[:_MAX_STRINGS])
        return self.known[name]

    def _formatted(self, node: ast.AST) -> set[str]:
        """`"%s_v2" % NAME` and `"{}_v2".format(NAME)` with one string argument."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            fmt, arg, marker = node.left, node.right, "%s"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and len(node.args) == 1
            and not node.keywords
        ):
            fmt, arg, marker = node.func.value, node.args[0], "{}"
        else:
            return set()
        if isinstance(arg, ast.Tuple) and len(arg.elts) == 1:
            arg = arg.elts[0]
        values = self(arg)
        out = {f.replace(marker, a) for f in self(fmt) if f.count(marker) == 1 for a in values}
        return set(sorted(out)[:_MAX_STRINGS])


def _joined(parts: list[set[str]]) -> set[str]:
    """Every concatenation of one value of each part, if each part is known and few."""
    out = {""}
    for part in parts:
        if not part:
            return set()
        out = {a + b for a in out for b in part}
        if len(out) > _MAX_STRINGS:
            return set()
    return out


def _module_name(value: str) -> str | None:
    value = value.strip()
    return value if value and all(p.isidentifier() for p in value.split(".")) else None


def _cythonized(node: ast.Call, strings: _Strings) -> set[str]:
    """Modules `cythonize("ops/cyops.pyx")` / `cythonize(["a.pyx", "b/c.py"])` builds: each
    source's file name without its suffix (a glob is left to the files in the tree)."""
    arg = (
        node.args[0]
        if node.args
        else next((kw.value for kw in node.keywords if kw.arg == "module_list"), None)
    )
    items = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg] if arg else []
    out: set[str] = set()
    for item in items[: _MAX_STRINGS * 4]:
        for path in strings(item):
            stem = path.replace("\\", "/").rsplit("/", 1)[-1].split(".", 1)[0]
            if path.endswith((".pyx", ".py")) and "*" not in path and stem.isidentifier():
                out.add(stem)
    return out


def extension_modules(text: str) -> set[str]:
    """Modules a setup script builds: the name of every `*Extension(name, …)` call
    (setuptools' Extension, torch's CUDAExtension and CppExtension, Pybind11Extension) and
    of every source `cythonize(…)` compiles, read from the syntax tree wherever the call is
    (get_extensions() helpers included). A name may be a literal, a name assigned in the
    script, an f-string, `+`, `%` or `.format` of those (`CUDAExtension(NAME, …)`,
    `name=f"{NAME}_v2"`); an expression beyond that is not guessed."""
    tree = _setup_tree(text)
    if tree is None:
        return set()
    strings = _Strings(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _called_name(node)
        if called == "cythonize":
            out |= _cythonized(node, strings)
        elif called.endswith("Extension"):
            args = [kw.value for kw in node.keywords if kw.arg == "name"] + node.args[:1]
            for arg in args[:1]:
                out |= {n for n in map(_module_name, strings(arg)) if n}
    return out


def _module_names_assigned(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level `NAME = value`, inside top-level if/else and try blocks too: a list
    assigned in several branches (`install_requires` per platform) is read as the strings
    every branch has, which are needed whichever branch runs."""
    names: dict[str, ast.AST] = {}
    stack: list[ast.stmt] = list(reversed(tree.body))
    seen = 0
    while stack and seen < 10_000:
        stmt = stack.pop()
        seen += 1
        if isinstance(stmt, (ast.If, ast.Try)):
            blocks = [stmt.body, stmt.orelse]
            if isinstance(stmt, ast.Try):
                blocks += [h.body for h in stmt.handlers] + [stmt.finalbody]
            stack += [s for block in reversed(blocks) for s in reversed(block)]
            continue
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        tgt = stmt.targets[0]
        if not isinstance(tgt, ast.Name):
            continue
        before = names.get(tgt.id)
        if isinstance(before, ast.List) and isinstance(stmt.value, ast.List):
            again = set(_strings_of(stmt.value))
            kept = [v for v in _strings_of(before) if v in again]
            names[tgt.id] = ast.List(elts=[ast.Constant(v) for v in kept], ctx=ast.Load())
        else:
            names[tgt.id] = stmt.value
    return names


def parse_setup_py(path: str, text: str, deadline: float | None = None) -> PackageMeta | None:
    """setup() calls' arguments read as literals, within MAX_SETUP_ITEMS and the deadline
    (SETUP_SECONDS from now when none is given)."""
    tree = _setup_tree(text)
    if tree is None:
        return None
    names = _module_names_assigned(tree)
    meta = PackageMeta(path)
    end = time.monotonic() + SETUP_SECONDS if deadline is None else deadline
    budget = _Budget(MAX_SETUP_ITEMS, end)
    try:
        found = _setup_calls(tree, names, meta, budget)
    except _OverBudget:
        found = True
        over = (
            "its time limit" if time.monotonic() > end else f"{MAX_SETUP_ITEMS} requirement items"
        )
        meta.notes.append(f"{path}: over {over}; the rest not read")
    return meta if found else None


def _setup_calls(
    tree: ast.Module, names: dict[str, ast.AST], meta: PackageMeta, budget: _Budget
) -> bool:
    """Read every setup() call's keywords into meta; whether there was one."""
    found = False
    strings: _Strings | None = None  # made once, when a name is not a literal
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _called_name(node) != "setup":
            continue
        found = True
        for kw in node.keywords:
            if kw.arg is None:
                continue
            value = _literal(kw.value, names, budget)
            if kw.arg == "install_requires":
                if isinstance(value, list):
                    new = [str(v) for v in value if isinstance(v, str)]
                    meta.requires = list(dict.fromkeys(meta.requires + new))
                else:
                    target = (
                        names.get(kw.value.id, kw.value)
                        if isinstance(kw.value, ast.Name)
                        else kw.value
                    )
                    meta.requirement_files += _opened_files(target)
            elif kw.arg == "extras_require" and isinstance(value, dict):
                meta.extras = {
                    str(k): [str(x) for x in v] for k, v in value.items() if isinstance(v, list)
                }
            elif kw.arg == "dependency_links" and isinstance(value, list):
                meta.elsewhere += _dependency_links([str(v) for v in value])
            elif kw.arg == "setup_requires" and isinstance(value, list):
                meta.setup_requires = [str(v) for v in value]
            elif kw.arg in ("license", "name", "python_requires") and isinstance(value, str):
                setattr(meta, kw.arg, value)
            elif kw.arg in ("license", "license_file", "license_files"):
                # `license=open("docs/USE.txt").read()`, `license_files=["LICENSE", ...]`: the
                # files named in it are the package's license (round 16).
                target = (
                    names.get(kw.value.id, kw.value) if isinstance(kw.value, ast.Name) else kw.value
                )
                meta.license_files += [
                    n.value
                    for n in ast.walk(target)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.strip()
                ][:32]
            elif kw.arg in ("packages", "py_modules", "package_dir"):
                meta.extensions += _module_names(value)
            elif kw.arg == "name":  # `name=f"{NAME}-tools"`: read like an extension's name
                strings = strings or _Strings(tree)
                named = strings(kw.value)
                meta.name = named.pop() if len(named) == 1 else meta.name
            elif kw.arg == "classifiers" and isinstance(value, list):
                meta.classifiers = [str(v) for v in value]
            elif kw.arg == "author" and isinstance(value, str):
                meta.authors = [value]
    return found


# pip's egg fragment (`#egg=name`, also after `&` among other fragment keys), and the start
# of a version in setuptools' `name-1.0`: a `-` followed by a digit.
_EGG = rx.compile(r"[#&]egg=([^&#]*)")
_VERSION_START = rx.compile(r"-\d")
_ARCHIVE_SUFFIX = rx.compile(r"\.(?:whl|zip|tar(?:\.\w+)?|t[gbxl]z)$")
_PROJECT = rx.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def link_names(link: str) -> list[str]:
    """The project names a dependency link installs: its `#egg=` fragment (also after `&`),
    or else the archive's file name (`corp_pydl-1.0.tar.gz`), read as setuptools reads
    `name-version`: the name ends at the last `-` that starts a version (`corp-pydl-1.0` is
    corp-pydl 1.0; a hyphenated name stays whole). Where the version part is a bare number
    (`corp-2`) both readings are returned: each is installed from the link, never from the
    index."""
    egg = _EGG.search(link)
    if egg:
        text = egg.group(1).strip()
    else:
        last = link.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        text = _ARCHIVE_SUFFIX.sub("", last)
        # a wheel's or source archive's file name: name-version[-tags], cut at the first
        text = text[: m.start()] if (m := _VERSION_START.search(text)) else text
        return [text] if _PROJECT.fullmatch(text) else []
    starts = list(_VERSION_START.finditer(text))
    names = [text]
    if starts:
        cut = starts[-1].start()
        version = text[cut + 1 :]
        names = [text[:cut]] + ([text] if version.isdigit() else [])
    return [n for n in names if _PROJECT.fullmatch(n)]


def _dependency_links(links: list[str]) -> list[Elsewhere]:
    """The packages dependency_links fetch from a link (`…#egg=name-1.0`, or an archive's
    file name `name-1.0.tar.gz`): installed from there, not from the index."""
    found: list[Elsewhere] = []
    for link in links[:MAX_SETUP_ITEMS]:
        for name in link_names(link):
            found.append(
                Elsewhere(name, f"a link in dependency_links ({link[:200]})", other_index=True)
            )
    return found


def parse_setup_cfg(path: str, text: str) -> PackageMeta | None:
    cp = safeparse.ini_parser(strict=True)
    try:
        cp.read_string(text)
    except configparser.Error:
        return None
    meta = PackageMeta(path)
    if cp.has_section("metadata"):
        md = cp["metadata"]
        meta.name = md.get("name")
        meta.license = md.get("license")
        for key in ("license_file", "license_files", "license-file", "license-files"):
            value = md.get(key) or ""
            meta.license_files += [x.strip() for x in rx.split(r"[,\n]", value) if x.strip()][:32]
        meta.classifiers = [c.strip() for c in md.get("classifiers", "").splitlines() if c.strip()]
        if md.get("author"):
            meta.authors = [md["author"]]
    if cp.has_section("options"):
        opts = cp["options"]
        meta.python_requires = opts.get("python_requires")
        meta.requires = _cfg_requirements(meta, "", opts.get("install_requires", ""))
        # setuptools' list-comma: one link a line, or several on a line split by commas
        links = rx.split(r"[,\n]", opts.get("dependency_links", ""))
        meta.elsewhere += _dependency_links([x.strip() for x in links if x.strip()])
    if cp.has_section("options.extras_require"):
        for k, v in cp["options.extras_require"].items():
            meta.extras[k] = _cfg_requirements(meta, k, v)
    return meta


def _cfg_requirements(meta: PackageMeta, extra: str, value: str) -> list[str]:
    """A setup.cfg requirement list; setuptools' `file: a.txt, b.txt` directive names
    requirements files instead (read by the caller, inside the tree only), never a package
    named `file`."""
    if value.strip().startswith("file:"):
        files = [f.strip() for f in value.strip()[5:].split(",") if f.strip()]
        meta.extra_files.setdefault(extra, []).extend(files[:16])
        return []
    return [r.strip() for r in value.splitlines() if r.strip() and not r.strip().startswith("#")]


def parse_pyproject(path: str, text: str) -> PackageMeta | None:
    try:
        data = safeparse.toml_loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return None
    meta = PackageMeta(path)
    project = data.get("project")
    if isinstance(project, dict):
        meta.name = project.get("name")
        lic = project.get("license")
        if isinstance(lic, str):
            meta.license = lic
        elif isinstance(lic, dict):
            meta.license = lic.get("text")
            meta.license_file = lic.get("file")
            if isinstance(meta.license_file, str):
                meta.license_files.append(meta.license_file)
        files = project.get("license-files")
        if isinstance(files, list):
            meta.license_files += [str(x) for x in files[:32] if isinstance(x, str)]
        elif isinstance(files, dict):  # the PEP 639 draft's {paths = [...], globs = [...]}
            for key in ("paths", "globs"):
                value = files.get(key)
                if isinstance(value, list):
                    meta.license_files += [str(x) for x in value[:32] if isinstance(x, str)]
        meta.classifiers = [str(c) for c in project.get("classifiers", [])]
        meta.python_requires = project.get("requires-python")
        meta.requires = [str(r) for r in project.get("dependencies", []) if isinstance(r, str)]
        opt = project.get("optional-dependencies", {})
        if isinstance(opt, dict):
            meta.extras = {k: [str(x) for x in v] for k, v in opt.items() if isinstance(v, list)}
        meta.authors = [
            a.get("name", "")
            for a in project.get("authors", [])
            if isinstance(a, dict) and a.get("name")
        ]
    poetry = data.get("tool", {}).get("poetry")
    if isinstance(poetry, dict):
        meta.name = meta.name or poetry.get("name")
        meta.license = meta.license or poetry.get("license")
        _poetry_dependencies(meta, poetry)
    if not isinstance(project, dict) and not isinstance(poetry, dict):
        return None
    tool = data.get("tool")
    if isinstance(tool, dict):
        meta.extensions = _pyproject_extensions(tool)
        _uv_sources(meta, tool.get("uv"))
        meta.index_source = _file_index(tool)
    return meta


def _pyproject_extensions(tool: dict[str, Any]) -> list[str]:
    """Modules the project builds or installs: `[[tool.setuptools.ext-modules]] name =
    "pkg.fast"`, setuptools' `packages`, `py-modules` and `package-dir`, Poetry's
    `packages = [{include = "x"}]`."""
    setuptools = _table(tool.get("setuptools"))
    modules = _tables(setuptools.get("ext-modules"))
    found = [str(m.get("name", "")) for m in modules[:MAX_SETUP_ITEMS]]
    for key in ("packages", "py-modules", "package-dir"):
        found += _module_names(setuptools.get(key))
    poetry = _tables(_table(tool.get("poetry")).get("packages"))
    found += [str(p.get("include", "")) for p in poetry[:MAX_SETUP_ITEMS]]
    return [n for n in map(_module_name, found) if n]


def _module_names(value: Any) -> list[str]:
    """Module names of a `packages`/`py_modules` list or a `package_dir` table's keys."""
    items = list(value)[:MAX_SETUP_ITEMS] if isinstance(value, (list, dict)) else []
    return [n for n in (_module_name(str(v)) for v in items if isinstance(v, str)) if n]


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _tables(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _file_index(tool: dict[str, Any]) -> str:
    """The index a pyproject sets for all its packages, when it is not the user's: uv's
    `index-url`, `extra-index-url` or an `[[tool.uv.index]]` that is the default or not
    explicit (uv searches those first), pixi's pypi-options, a PDM source (`pypi` replaces the
    default, others are searched beside it) without include_packages, a Poetry primary or
    default source. "" when none."""
    uv, pixi = _table(tool.get("uv")), _table(_table(tool.get("pixi")).get("pypi-options"))
    urls: list[str] = []
    for table in (uv, pixi):
        for key in ("index-url", "extra-index-url", "extra-index-urls", "find-links"):
            value = table.get(key)
            urls += [str(v) for v in (value if isinstance(value, list) else [value]) if v]
    urls += [
        str(i.get("url"))
        for i in _tables(uv.get("index"))
        if i.get("default") or not i.get("explicit")
    ]
    pdm = _tables(_table(tool.get("pdm")).get("source"))
    urls += [str(s.get("url")) for s in pdm if not s.get("include_packages")]
    poetry = _tables(_table(tool.get("poetry")).get("source"))
    urls += [str(s.get("url")) for s in poetry if _poetry_primary(s)]
    from forkvet.envgen.index import is_public_index

    other = [u for u in urls[:16] if u and u != "None" and not is_public_index(u)]
    return f"the index {other[0][:200]} set for the whole file" if other else ""


def _poetry_primary(source: dict[str, Any]) -> bool:
    """A Poetry source searched for every package: priority primary or default, the old
    `default = true`, or no priority (primary since Poetry 1.5) and not the old secondary."""
    priority = source.get("priority")
    if priority is not None:
        return priority in ("primary", "default")
    return bool(source.get("default")) or not source.get("secondary")


def _uv_sources(meta: PackageMeta, uv: Any) -> None:
    """[tool.uv.sources]: a workspace member, a path, a URL or a named index is from
    elsewhere (never an index name); an https git source becomes a `name @ git+…`
    requirement, like Poetry's."""
    sources = _table(_table(uv).get("sources"))
    for name, spec in list(sources.items())[:MAX_SETUP_ITEMS]:
        entries = _tables(spec) if isinstance(spec, list) else _tables([spec])
        found = [_uv_origin(str(name), entry) for entry in entries]
        origin: Elsewhere | str | None = next((f for f in found if isinstance(f, Elsewhere)), None)
        origin = origin or next((f for f in found if f), None)
        if origin is not None:
            _replace(meta, str(name), origin)


def _uv_origin(name: str, entry: dict[str, Any]) -> Elsewhere | str | None:
    if entry.get("workspace"):
        return Elsewhere(name, "a member of the uv workspace")
    if "index" in entry:
        return Elsewhere(name, f"the package source {str(entry['index'])[:80]!r}", other_index=True)
    return _poetry_origin(name, {k: v for k, v in entry.items() if k != "source"}, "")


def _key(requirement: str) -> str:
    m = rx.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return rx.sub(r"[-_.]+", "-", m.group(1)).lower() if m else ""


def _replace(meta: PackageMeta, name: str, origin: Elsewhere | str) -> None:
    """Take `name` out of the requirement lists; a git requirement takes its place, an
    Elsewhere is recorded once per list it was in."""
    key = _key(name)
    lists = [("", meta.requires), *meta.extras.items()]
    for extra, reqs in lists:
        kept = [r for r in reqs if _key(r) != key]
        if len(kept) == len(reqs):
            continue
        if isinstance(origin, str):
            kept.append(origin)
        else:
            meta.elsewhere.append(Elsewhere(name, origin.source, origin.other_index, extra))
        reqs[:] = kept


def _poetry_dependencies(meta: PackageMeta, poetry: dict[str, Any]) -> None:
    """[tool.poetry.dependencies], the old dev-dependencies and every group's dependencies
    (groups as extras named after them)."""
    tables: list[tuple[str, Any]] = [("", poetry.get("dependencies"))]
    tables.append(("dev", poetry.get("dev-dependencies")))
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [
            (str(g), v.get("dependencies")) for g, v in groups.items() if isinstance(v, dict)
        ]
    for extra, deps in tables:
        if not isinstance(deps, dict):
            continue
        for name, spec in list(deps.items())[:MAX_SETUP_ITEMS]:
            if name.lower() == "python":
                if not extra:
                    meta.python_requires = meta.python_requires or _poetry_spec(spec)
                continue
            _poetry_dependency(meta, str(name), spec, extra)


def _poetry_dependency(meta: PackageMeta, name: str, spec: Any, extra: str) -> None:
    """One Poetry dependency: from the index, from git (a `name @ git+https://…`
    requirement), or from elsewhere (a path, a URL, another source)."""
    entries = spec if isinstance(spec, list) else [spec]
    requirement = f"{name}{_poetry_spec(spec)}{poetry_marker(spec)}"
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        found = _poetry_origin(name, entry, extra)
        if isinstance(found, Elsewhere):
            meta.elsewhere.append(found)
            return
        if found:
            requirement = found
    if extra:
        meta.extras.setdefault(extra, []).append(requirement)
    else:
        meta.requires.append(requirement)


def poetry_marker(spec: Any) -> str:
    """` ; marker` of a single Poetry or Pipfile constraint table (`markers = "…"`, Poetry's
    `platform = "win32"`), "" for none or one packaging cannot read."""
    if not isinstance(spec, dict):
        return ""
    parts = [f"({spec['markers']})"] if isinstance(spec.get("markers"), str) else []
    if isinstance(spec.get("platform"), str):
        parts.append(f"sys_platform == {spec['platform']!r}")
    if not parts:
        return ""
    try:
        return f" ; {safeparse.marker(' and '.join(parts))}"
    except InvalidMarker:
        return ""


def _poetry_origin(name: str, entry: dict[str, Any], extra: str) -> Elsewhere | str | None:
    """Where one Poetry constraint installs from: an Elsewhere, a git requirement, or None
    (the index)."""
    for key, what in (("path", "a local path"), ("url", "a URL"), ("file", "a file")):
        if key in entry:
            return Elsewhere(name, f"{what} ({str(entry[key])[:200]})", extra=extra)
    if "git" in entry:
        url = str(entry["git"]).removeprefix("git+")
        ref = next((str(entry[k]) for k in ("rev", "tag", "branch") if k in entry), "")
        if url.startswith("https://") and "subdirectory" not in entry:
            return f"{name} @ git+{url}" + (f"@{ref}" if ref else "")
        return Elsewhere(name, f"git ({url[:200]})", extra=extra)
    source = entry.get("source")
    if source is not None:
        return Elsewhere(
            name, f"the package source {str(source)[:80]!r}", other_index=True, extra=extra
        )
    return None


def _poetry_spec(raw: Any) -> str:
    if isinstance(raw, list):
        return ""  # one constraint per Python or platform: no single specifier
    if isinstance(raw, dict):
        raw = raw.get("version", "")
    spec = str(raw).strip()
    if spec in ("", "*"):
        return ""
    if spec.startswith("^"):
        return f">={spec[1:]}"
    if spec.startswith("~") and not spec.startswith("~="):
        return f"~={spec[1:]}" if spec.count(".") >= 1 else f">={spec[1:]}"
    if spec[0].isdigit():
        return f"=={spec}"
    return spec


_PARSERS = {
    "setup.py": parse_setup_py,
    "setup.cfg": parse_setup_cfg,
    "pyproject.toml": parse_pyproject,
}


def package_metadata(snap: Snapshot, deadline: float | None = None) -> list[PackageMeta]:
    """Metadata of the top-level package files (and one level down, for monorepo layouts),
    read until the deadline."""
    out: list[PackageMeta] = []
    for f in snap.files:
        if f.name in ("setup.py", "setup.cfg", "pyproject.toml") and len(f.parts) <= 2:
            if deadline is not None and time.monotonic() > deadline:
                break
            text = snap.read_text(f.path)
            if text:
                meta = (
                    parse_setup_py(f.path, text, deadline)
                    if f.name == "setup.py"
                    else _PARSERS[f.name](f.path, text)
                )
                if meta:
                    out.append(meta)
    out.sort(key=lambda m: (m.path.count("/"), m.path))
    return out
