"""What a Keras model config may name (outside attack, round 18a F2).

A Keras config names the objects `load_model` rebuilds as `{"module": M, "class_name": C,
"config": ...}`: Keras imports M and calls `C.from_config(...)` for a class, or, for
`"class_name": "function"`, fetches the function the config string names from M and (Keras
3.0-3.8, Functional layers) calls it with the config's arguments. Trusting whole packages is
not enough: `tensorflow.io.write_file` and `keras.utils.get_file` write files. So each such
object is judged against an allow-list (forkvet/data/loaders.json, the `json_modules` rule):

- a class from Keras' own modules of layers, models, initializers, regularizers, constraints,
  losses, metrics, optimizers and dtype policies (`class_modules`), a class by its name, but
  none of the classes there that run stored code or load a path (`code_classes`: Lambda,
  TFSMLayer, TorchModuleWrapper, ...);
- a function only from Keras' activation, loss and metric modules (or `builtins`, which Keras
  resolves in those modules), and only by a name in `functions` (Keras' own);
- anything else is named for the caller, which lets the repository's own modules pass.

The config is read whole, as Keras reads it (json.loads), so the module, the class and the
function are judged together whatever the order of their keys. Binary files (an HDF5
`model_config` attribute, a protobuf) have their JSON objects found and read the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from forkvet import rx

MAX_WHOLE = 16 << 20  # bytes of a file read whole to judge its configs
_MAX_NODES = 1_000_000
_MAX_STARTS = 200_000  # places a JSON object may start in a binary file


@dataclass(frozen=True)
class Rules:
    class_modules: rx.Pattern[str]
    function_modules: rx.Pattern[str]
    functions: frozenset[str]
    code_classes: frozenset[str]
    internal: frozenset[str]


@cache
def rules() -> Rules | None:
    from forkvet.vet import dataformats

    rule = dataformats.module_rule()
    if rule is None:
        return None
    return Rules(
        rx.compile(rule["class_modules"]),
        rx.compile(rule["function_modules"]),
        frozenset(rule["functions"]),
        frozenset(rule["code_classes"]),
        frozenset(rule["internal_classes"]),
    )


def judge(obj: dict[str, Any], r: Rules) -> str | None:
    """The dotted name of what this config object makes Keras import and call when it is
    outside the allow-list; None when it is allowed (or names no module)."""
    module, cls = obj.get("module"), obj.get("class_name")
    if not isinstance(module, str) or not isinstance(cls, str) or module == "__main__":
        return None  # __main__: the script that loads it (its own classes)
    if cls in r.internal:  # tensors, bytes, slices: rebuilt by Keras itself, no import
        return None
    if cls == "function":
        fn = obj.get("config")
        name = fn if isinstance(fn, str) else str(obj.get("registered_name"))
        if r.function_modules.fullmatch(module) and name in r.functions:
            return None
        return f"{module}.{name}"
    if r.class_modules.fullmatch(module) and cls not in r.code_classes:
        return None
    return f"{module}.{cls}"


def known_module(module: str, r: Rules) -> bool:
    """A module some allowed class or function may come from (a config too large to read
    whole is judged by its modules alone)."""
    return (
        module == "__main__"
        or bool(r.class_modules.fullmatch(module))
        or bool(r.function_modules.fullmatch(module))
    )


def walk(doc: object, r: Rules, found: set[str]) -> bool:
    """Adds to found what every config object inside doc names outside the allow-list;
    False when doc was too large to walk."""
    todo, seen = [doc], 0
    while todo:
        node = todo.pop()
        seen += 1
        if seen > _MAX_NODES:
            return False
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            name = judge(node, r)
            if name is not None:
                found.add(name)
            todo.extend(node.values())
    return True


def parse(data: bytes) -> object:
    """The JSON document as json.loads reads these bytes; raises ValueError, RecursionError."""
    return json.loads(data)


def objects_in_binary(data: bytes, tick: Callable[[], None]) -> Iterator[object]:
    """Every JSON object inside binary bytes (an HDF5 attribute, a protobuf string), read
    as json.loads reads it, from each place one may start (a `{` before a string); bytes
    read as Latin-1 (one character each: offsets stay, JSON's structure and \\u escapes
    decode the same)."""
    text = data.decode("latin-1")
    decoder = json.JSONDecoder()
    pos, starts = 0, 0
    while (begin := text.find("{", pos)) >= 0:
        pos = begin + 1
        if text[begin + 1 : begin + 300].lstrip(" \t\r\n")[:1] != '"':
            continue
        starts += 1
        if starts > _MAX_STARTS:
            raise ValueError("too many places a JSON object may start")
        if starts & 0xFF == 0:
            tick()
        try:
            obj, end = decoder.raw_decode(text, begin)
        except (ValueError, RecursionError):
            continue
        yield obj
        pos = end
