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

The name judged is the one Keras resolves (outside attack, round 19a): `module + "." +
class_name` whole (a dotted class_name under `module: "keras"` is keras.utils.get_file),
the `registered_name` Keras looks up first and falls back to, a `__typespec__`'s
`spec_name`, and for a config with no `module` (tf.keras's legacy format) the class_name in
Keras' own namespaces, with the TensorFlow symbol tf.keras's op layers call.

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
    registered: frozenset[str]  # what Keras 2 itself registers (`Custom>Adam`)
    lambda_classes: frozenset[str]  # class names the keras-lambda rule's json_pairs name
    class_names: rx.Pattern[str]
    op_classes: dict[str, str]  # a layer class: its config key naming a TensorFlow symbol
    tf_symbols: rx.Pattern[str]
    typespec_modules: rx.Pattern[str]
    typespec_names: rx.Pattern[str]


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
        frozenset(rule["registered_classes"]),
        dataformats.pair_values("class_name"),
        rx.compile(rule["class_names"]),
        dict(rule["op_classes"]),
        rx.compile(rule["tf_symbols"]),
        rx.compile(rule["typespec_modules"]),
        rx.compile(rule["typespec_names"]),
    )


_IDENTIFIER = rx.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def judge(obj: dict[str, Any], r: Rules) -> str | None:
    """The name Keras resolves this config object to when it is outside the allow-list
    (never a repository module's name unless it is one); None when it is allowed or Keras
    rebuilds nothing from it. Keras reads an object only with both `class_name` and
    `config` (Keras 3: a plain dict otherwise; Keras 2: an error)."""
    if "class_name" not in obj or "config" not in obj:
        return None
    cls, module = obj["class_name"], obj.get("module")
    if not isinstance(cls, str):
        return f"class_name {type(cls).__name__}"
    if cls in r.internal:  # tensors, bytes, slices: rebuilt by Keras itself, no import
        return _typespec(obj, r) if cls == "__typespec__" else None
    name = obj["config"] if cls == "function" else cls
    if not isinstance(name, str):
        return f"function {type(name).__name__}"
    if module is None:  # Keras 2's legacy format: Keras' own namespaces and the registry
        return _legacy(obj, name, cls, r)
    if not isinstance(module, str):
        return f"module {type(module).__name__}"
    # Keras 3 looks registered_name up in the registry first (a `package>name` is what the
    # loading program registered, never provably allowed) and, before 3.9, falls back to
    # vars(module)[registered_name]: that name is judged as a second one.
    registered = obj.get("registered_name", cls)
    if registered is not None and not isinstance(registered, str):
        return f"registered_name {type(registered).__name__}"
    if registered is not None and ">" in registered and registered not in r.registered:
        return f"registered_name {registered[:200]}"
    second = registered not in (None, name, cls, *r.registered)
    for candidate in (name, str(registered)) if second else (name,):
        if (found := _resolved(obj, module, cls, candidate, r)) is not None:
            return found
    return None


def _resolved(obj: dict[str, Any], module: str, cls: str, name: str, r: Rules) -> str | None:
    """Keras 3 resolves `module + "." + name` (its API table, then vars(import(module))):
    the whole dotted name is judged, a dot in class_name included."""
    full = f"{module}.{name}"
    parent, _, last = full.rpartition(".")
    if cls == "function":
        if r.function_modules.fullmatch(parent) and last in r.functions:
            return None
        return full
    if module == "__main__":  # the loading script's own classes (its functions: anything)
        ok = r.class_names.fullmatch(name) and name not in r.code_classes
        return None if ok else full
    if not r.class_modules.fullmatch(parent) or not r.class_names.fullmatch(last):
        return full  # a module outside Keras' own, or no class (a function Keras calls)
    if last in r.code_classes:
        return full
    return _op_symbol(obj, last, r)


def _legacy(obj: dict[str, Any], name: str, cls: str, r: Rules) -> str | None:
    """A config object without `module` (tf.keras's legacy deserialize, Keras 3's
    registry-only lookup): its name is looked up in Keras' own namespaces and the loading
    program's registry; a `package>name` is a registered object (the program's, but for
    the optimizers Keras 2 registers itself)."""
    if ">" in name and name not in r.registered:
        return f"registered_name {name[:200]}"
    if cls == "function" or not _IDENTIFIER.fullmatch(name):
        return None  # no Keras namespace holds it (or Keras 2's own optimizer)
    if name in r.code_classes and name not in r.lambda_classes:
        return name  # (a Lambda is the keras-lambda rule's own error, with its message)
    return _op_symbol(obj, name, r)


def _op_symbol(obj: dict[str, Any], cls: str, r: Rules) -> str | None:
    """tf.keras's TFOpLambda, SlicingOpLambda and ClassMethod layers call the TensorFlow
    symbol their config names (tf_export's get_symbol_from_name: any of TensorFlow's API,
    `io.read_file` as well as `math.add`): only pure tensor operations may be named."""
    key = r.op_classes.get(cls)
    if key is None:
        return None
    config = obj["config"]
    symbol = config.get(key) if isinstance(config, dict) else None
    if isinstance(symbol, str) and r.tf_symbols.fullmatch(symbol):
        return None
    return f"{cls} tensorflow.{str(symbol)[:200]}"


def _typespec(obj: dict[str, Any], r: Rules) -> str | None:
    """A TypeSpec Keras rebuilds as `module.spec_name` (the registry first, by
    registered_name), calling its `_deserialize`: only TensorFlow's own *Spec classes."""
    module, spec, registered = obj.get("module"), obj.get("spec_name"), obj.get("registered_name")
    if (
        isinstance(module, str)
        and isinstance(spec, str)
        and registered in (None, spec)
        and r.typespec_modules.fullmatch(module)
        and r.typespec_names.fullmatch(spec)
    ):
        return None
    return f"__typespec__ {str(module)[:200]}.{str(spec)[:200]}"


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
