"""skops files (`.skops`): a zip whose `schema.json` names, node by node, the Python types
and functions `skops.io.load` builds the model from (outside attack, round 18a F8).

skops refuses a type outside its default trusted set unless the caller trusts it, but the
idiom model cards teach, `skops.io.load(f, trusted=skops.io.get_untrusted_types(file=f))`
(and `trusted=True` in older skops), trusts whatever the file names: a
`ConstructorFromReduceNode` then calls any importable function with the file's arguments
(`os.system`). So every type outside skops' own default trusted set is an error here, and
so is a node forkvet cannot decide (a loader it does not know, a schema too large or too
deep to read whole). The trusted set is skops' own (forkvet/data/skops_trusted.json),
generated from skops, never a list of attackers' names. Nothing is imported or called: the
schema is read with json.loads and walked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

SCHEMA = "schema.json"  # the member skops.io.load reads (zipfile's view of the archive)
MAX_SCHEMA = 16 << 20  # bytes of schema.json read whole
_MAX_NODES = 500_000


@dataclass(frozen=True)
class _Trusted:
    types: frozenset[str]
    loaders: frozenset[str]
    never: frozenset[str]
    always_safe: frozenset[str]


@cache
def _trusted() -> _Trusted:
    raw = json.loads(
        resources.files("forkvet.data").joinpath("skops_trusted.json").read_text("utf-8")
    )
    return _Trusted(
        frozenset(raw["types"]),
        frozenset(raw["loaders"]),
        frozenset(raw["never_trusted"]),
        frozenset(raw["always_safe"]),
    )


@dataclass
class Verdict:
    untrusted: list[str]  # type names skops would not trust by default (what a load calls)
    unverified: str | None = None  # why the schema could not be decided


def is_schema(doc: object) -> bool:
    """A schema.json skops would read: a node (a `__loader__` key) at the top."""
    return isinstance(doc, dict) and "__loader__" in doc


def check(data: bytes, complete: bool = True) -> Verdict | None:
    """The verdict on a schema.json's bytes; None when it is no skops schema (json.loads
    fails on it, as skops' own load does, or no node is at its top)."""
    if not complete:
        return Verdict([], f"{SCHEMA} over {MAX_SCHEMA >> 20} MiB, not read")
    try:
        doc = json.loads(data)
    except RecursionError:
        return Verdict([], f"{SCHEMA} nested too deeply to read")
    except ValueError:
        return None
    if not is_schema(doc):
        return None
    return _walk(doc)


def _walk(doc: object) -> Verdict:
    t = _trusted()
    untrusted: list[str] = []
    seen: set[str] = set()
    todo = [doc]
    count = 0
    while todo:
        node = todo.pop()
        count += 1
        if count > _MAX_NODES:
            return Verdict(untrusted, f"{SCHEMA} with over {_MAX_NODES:,} values, not read")
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        todo.extend(node.values())
        if not ({"__loader__", "__module__", "__class__"} & node.keys()):
            continue
        loader, module, cls = node.get("__loader__"), node.get("__module__"), node.get("__class__")
        if not all(isinstance(v, str) for v in (loader, module, cls)):
            return Verdict(untrusted, "a node whose loader, module or class is no string")
        assert isinstance(loader, str) and isinstance(module, str) and isinstance(cls, str)
        if loader not in t.loaders:
            return Verdict(untrusted, f"a node loader skops {_version()} does not have")
        if loader in t.always_safe:
            continue
        names = [f"{module}.{cls}"]
        content = node.get("content")
        if loader == "MethodNode" and isinstance(content, dict):
            names.append(f"{module}.{cls}.{content.get('func')}")
        for name in names:
            if (loader in t.never or name not in t.types) and name not in seen:
                seen.add(name)
                untrusted.append(name)
    return Verdict(untrusted)


def _version() -> str:
    return "0.16"


MESSAGE = (
    "skops file naming types outside skops' default trusted set, which skops.io.load refuses "
    "unless told to trust them: the usual `trusted=get_untrusted_types(...)` idiom trusts "
    "whatever the file names, and a ConstructorFromReduceNode then calls any function with the "
    "file's arguments"
)
