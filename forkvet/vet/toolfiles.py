"""Files a developer tool reads from the working folder and executes (outside attack, round 22a
F3, F5, F19): pdb runs every line of `./.pdbrc` as a command or a Python statement when the
debugger starts; DeepSpeed exports every line of `./.deepspeed_env` to every rank of a
multi-node launch; pylint `exec`s `init-hook` and imports `load-plugins`; mypy imports
`plugins` (a file path or a module: the fork's own when it is the tree's); flake8 imports
`local-plugins`. None of these is a `.py` file forkvet vets as code that something runs.

The tools, their file names, how each file is read and the keys a tool acts on are a data table
(forkvet/data/config_sinks.json `tool_files`): an entry present is the finding, judged by its
kind — `code` (any value runs), `python` (runs, but for a path setup: statements that only
extend `sys.path` with literals), `modules` (imported: a path or a module of the tree is the
fork's code, an error; a library plugin of `tool_plugins` passes; another library's is a
warning), `lines` (any line that is no comment), `env` (a variable that steers a loader or
routes a client, as in a committed `.env`). A file of the table that its reader cannot parse
but that spells a key is NOT verified: a format forkvet cannot judge fails closed."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import tomllib
from collections.abc import Callable, Iterator
from functools import cache

from forkvet import rx, safeparse
from forkvet.report import Risk, Severity
from forkvet.vet import configformats, configsinks

_MAX_LEAVES = 100_000
_SPLIT = rx.compile(r"[\s,]+")


@cache
def _rows() -> tuple[dict[str, object], ...]:
    value = configsinks.data().get("tool_files")
    return tuple(r for r in value if isinstance(r, dict)) if isinstance(value, list) else ()


@cache
def _plugins() -> tuple[str, ...]:
    return tuple(_strs(configsinks.data().get("tool_plugins")))


def _rows_for(path: str) -> list[dict[str, object]]:
    name = path.rsplit("/", 1)[-1]
    return [r for r in _rows() if name in _strs(r.get("files"))]


def _strs(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def named(path: str) -> bool:
    """Whether a file is one a tool of the table reads by its name."""
    return bool(_rows_for(path))


def risks(path: str, text: str | None, tree: Callable[[str], bool]) -> list[Risk]:
    """What the tools that read this file by its name do with it; tree(name): whether a
    top-level module name is the repository's own. None: not text, NOT verified."""
    out: list[Risk] = []
    for row in _rows_for(path):
        tool = str(row.get("tool", ""))
        if text is None:
            out.append(_risk(path, tool, "the file", "could not be read as text (NOT verified)"))
        elif row.get("read") == "lines":
            out += _line_risks(path, tool, text)
        elif row.get("read") == "env":
            out += _env_risks(path, tool, text)
        else:
            out += _key_risks(path, row, text, tree)
    return out[:3]


def _line_risks(path: str, tool: str, text: str) -> list[Risk]:
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            return [_risk(path, tool, f"line {n}", f"{line[:120]!r} is run", n)]
    return []


def _env_risks(path: str, tool: str, text: str) -> list[Risk]:
    out: list[Risk] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        why = configsinks.env_why(key.strip(), value.strip(), strict=False)
        if why:
            out.append(_risk(path, tool, f"line {n}", why, n))
    return out


def _key_risks(
    path: str, row: dict[str, object], text: str, tree: Callable[[str], bool]
) -> list[Risk]:
    tool = str(row.get("tool", ""))
    keys = row.get("keys")
    kinds = {str(k).lower(): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}
    leaves = _leaves(text, str(row.get("read")))
    if leaves is None:
        if any(_word(p) in text.lower().replace("_", "").replace("-", "") for p in kinds):
            return [_risk(path, tool, "the file", "does not parse (NOT verified)")]
        return []
    out: list[Risk] = []
    for where, value in leaves:
        kind = next((k for p, k in kinds.items() if fnmatch.fnmatchcase(where, p)), "")
        why, severity = _why(kind, value, tree) if kind else ("", "notice")
        if why:
            out.append(_risk(path, tool, where, why, severity=severity))
    return out


def _word(pattern: str) -> str:
    """A key pattern's last literal part, as the text spells it without `-`/`_`."""
    parts = [p for p in pattern.split(".") if p.strip("*?")]
    return (parts[-1] if parts else pattern).replace("?", "").replace("-", "").replace("_", "")


def _leaves(text: str, read: str) -> list[tuple[str, object]] | None:
    """(dotted key path, lowercased, value) of every value the reader gives; None: unparsed."""
    if read == "toml":
        try:
            doc: object = safeparse.toml_loads(text)
        except tomllib.TOMLDecodeError:
            return None
    else:
        parser = safeparse.ini_parser()
        try:
            parser.read_string(text)
        except (configparser.Error, RecursionError, ValueError):
            return None
        doc = {s: dict(parser.items(s, raw=True)) for s in parser.sections()}
    return list(_flat(doc))


def _flat(doc: object) -> Iterator[tuple[str, object]]:
    todo: list[tuple[str, object]] = [("", doc)]
    seen = 0
    while todo and seen < _MAX_LEAVES:
        where, value = todo.pop()
        seen += 1
        if isinstance(value, dict):
            todo.extend((f"{where}.{k}".lstrip(".").lower(), v) for k, v in value.items())
        else:
            yield where, value


def _why(kind: str, value: object, tree: Callable[[str], bool]) -> tuple[str, Severity]:
    """(why, severity) for one value of a key a tool acts on ("" when it runs nothing of the
    fork's): `code` runs whatever it holds; `python` too, but for a path setup (`import sys;
    sys.path.append("src")`: statements that only extend the search path with literals);
    `modules`: a path or a module of the tree is the fork's code, a library plugin of
    `tool_plugins` passes, another library's is a warning (what the user installed, unknown)."""
    entries = value if isinstance(value, list) else _SPLIT.split(str(value))
    names = [str(e).strip().strip("'\"") for e in entries if str(e).strip().strip("'\"")]
    if not names:
        return "", "notice"
    if kind == "python" and _path_setup(str(value).strip().strip("'\"")):
        return "", "notice"
    if kind != "modules":
        return f"{' '.join(names)[:120]!r} is run", "error"
    for name in names:
        module = name.split(":", 1)[0]
        if "/" in module or "\\" in module or module.endswith(".py"):
            return f"{name[:120]!r} is a file it imports (the fork's code)", "error"
        if tree(module.split(".", 1)[0]):
            return f"{name[:120]!r} is a module of the tree it imports (the fork's code)", "error"
        if not any(fnmatch.fnmatchcase(module, p) for p in _plugins()):
            return f"{name[:120]!r} is a plugin it imports, not known to forkvet", "warning"
    return "", "notice"


_PATH_CALLS = frozenset({"sys.path.append", "sys.path.insert", "sys.path.extend"})


def _path_setup(code: str) -> bool:
    """Whether Python code only imports sys/os and extends sys.path with literals, `os.path`
    functions of them and the working folder (parsed, every node judged)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            if any(a.name not in ("sys", "os", "os.path") or a.asname for a in stmt.names):
                return False
        elif not (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and configformats.dotted_name(stmt.value.func) in _PATH_CALLS
            and all(_path_value(a) for a in stmt.value.args)
            and not stmt.value.keywords
        ):
            return False
    return True


def _path_value(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, int))
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(_path_value(e) for e in node.elts)
    if isinstance(node, ast.Call) and not node.keywords:
        name = configformats.dotted_name(node.func)
        return (name.startswith("os.path.") or name == "os.getcwd") and all(
            _path_value(a) for a in node.args
        )
    return False


def _risk(
    path: str,
    tool: str,
    where: str,
    why: str,
    line: int | None = None,
    severity: Severity = "error",
) -> Risk:
    return Risk(
        "code-in-data",
        severity,
        f"Tool file runs code: {tool} reads this file from the working folder and acts on it "
        f"({where}: {why}). Running {tool} in the repository (an editor's integration does it on "
        "opening a file) runs it; delete or read the file before that.",
        path,
        line,
    )
