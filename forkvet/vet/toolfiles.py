"""Files a developer tool reads from the working folder and executes (outside attack, round 22a
F3, F5, F19): pdb runs every line of `./.pdbrc` as a command or a Python statement when the
debugger starts; DeepSpeed exports every line of `./.deepspeed_env` to every rank of a
multi-node launch; pylint `exec`s `init-hook` and imports `load-plugins`; mypy imports
`plugins` (a file path or a module: the fork's own when it is the tree's); flake8 imports
`local-plugins`. None of these is a `.py` file forkvet vets as code that something runs.

The tools, their file names, how each file is read and the keys a tool acts on are a data table
(forkvet/data/config_sinks.json `tool_files`): an entry present is the finding, judged by its
kind — `code` (any value runs), `modules` (imported: a path or a module of the tree is the
fork's code, a library plugin of `tool_plugins` passes, any other is NOT verified), `lines`
(any line that is no comment), `env` (each variable as Hydra's `env_set` is: any not known
inert). A file of the table that its reader cannot parse but that spells a key is NOT
verified: a format or statement forkvet cannot judge fails closed."""

from __future__ import annotations

import configparser
import fnmatch
import tomllib
from collections.abc import Callable, Iterator
from functools import cache

from forkvet import rx, safeparse
from forkvet.report import Risk
from forkvet.vet import configsinks

_MAX_LEAVES = 100_000
_SPLIT = rx.compile(r"[\s,]+")


@cache
def _rows() -> tuple[dict[str, object], ...]:
    value = configsinks.data().get("tool_files")
    return tuple(r for r in value if isinstance(r, dict)) if isinstance(value, list) else ()


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
        why = configsinks.env_why(key.strip(), value.strip(), strict=True)
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
        spelled = {p.rsplit(".", 1)[-1].replace("?", "") for p in kinds}
        if any(word in text.lower().replace("_", "").replace("-", "") for word in spelled):
            return [_risk(path, tool, "the file", "does not parse (NOT verified)")]
        return []
    out: list[Risk] = []
    for where, value in leaves:
        kind = next((k for p, k in kinds.items() if fnmatch.fnmatchcase(where, p)), "")
        why = _why(kind, value, tree) if kind else ""
        if why:
            out.append(_risk(path, tool, where, why))
    return out


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


def _why(kind: str, value: object, tree: Callable[[str], bool]) -> str:
    entries = value if isinstance(value, list) else _SPLIT.split(str(value))
    names = [str(e).strip().strip("'\"") for e in entries if str(e).strip().strip("'\"")]
    if not names:
        return ""
    if kind != "modules":
        return f"{' '.join(names)[:120]!r} is run"
    for name in names:
        module = name.split(":", 1)[0]
        if "/" in module or "\\" in module or module.endswith(".py"):
            return f"{name[:120]!r} is a file it imports (the fork's code)"
        if tree(module.split(".", 1)[0]):
            return f"{name[:120]!r} is a module of the tree it imports (the fork's code)"
        if not any(
            fnmatch.fnmatchcase(module, p) for p in _strs(configsinks.data().get("tool_plugins"))
        ):
            return (
                f"{name[:120]!r} is a plugin it imports that forkvet does not know (NOT verified)"
            )
    return ""


def _risk(path: str, tool: str, where: str, why: str, line: int | None = None) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        f"Tool file runs code: {tool} reads this file from the working folder and acts on it "
        f"({where}: {why}). Running {tool} in the repository (an editor's integration does it on "
        "opening a file) runs it; delete or read the file before that.",
        path,
        line,
    )
