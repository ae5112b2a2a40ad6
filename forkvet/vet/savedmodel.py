"""TensorFlow SavedModels (`saved_model.pb`): the graph is a program, and parts of it run
at load (outside attack, round 18a F1). `tf.saved_model.load` runs every resource's
initializer (a TrackableResource's `_initialize` function) and the restore functions; a TF1
SavedModel's `main_op`/`legacy_init_op` and restore op run in both TF1's loader and TF2's.
Those are arbitrary graphs: `WriteFile` writes any path, `PrintV2` to a file, `PyFunc`...

So every op of the graph and of its function library is judged against an allow-list
(forkvet/data/tf_ops.json, generated from TensorFlow's own op registry: ops it registers as
stateless, less those that name a file or path, plus stateful ops that only touch its own
variables, tables and random state). The saver's write ops (`SaveV2`, `MergeV2Checkpoints`)
pass only where the save tensor alone reaches them (the function or nodes `Saver.save` runs,
never what an initializer, a restore or another function can call). Any other op is an
error; a file that cannot be read as a SavedModel is NOT verified.

The protobuf is read by a small bounded wire-format reader: nothing of TensorFlow is
imported, nothing of the file runs.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import IO

from forkvet import rx

MAX_BYTES = 512 << 20  # a saved_model.pb read whole (TensorFlow refuses protobufs over 2 GiB)
_MAX_FIELDS = 8_000_000
_MAX_DEPTH = 64


class Unreadable(ValueError):
    pass


class TooBig(Unreadable):
    """A bound of the reader reached: whatever the bytes are, they were not read whole."""


@dataclass(frozen=True)
class _Ops:
    allowed: frozenset[str]
    save_only: frozenset[str]


@cache
def _ops() -> _Ops:
    raw = json.loads(resources.files("forkvet.data").joinpath("tf_ops.json").read_text("utf-8"))
    return _Ops(
        frozenset(raw["pure"]) | frozenset(raw["stateful_safe"]), frozenset(raw["save_only"])
    )


# -- protobuf wire format ------------------------------------------------------------------------
@dataclass
class _Budget:
    fields: int = 0
    tick: Callable[[], None] = lambda: None  # the file's time budget (raises when spent)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise Unreadable("a truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes, budget: _Budget) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of one message: an int for varints and fixed
    widths, the bytes of a length-delimited field."""
    pos = 0
    while pos < len(buf):
        budget.fields += 1
        if budget.fields > _MAX_FIELDS:
            raise TooBig(f"over {_MAX_FIELDS:,} protobuf fields")
        if not budget.fields & 0xFFFF:
            budget.tick()
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, wire, value
        elif wire == 1:
            pos += 8
            yield number, wire, 0
        elif wire == 5:
            pos += 4
            yield number, wire, 0
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise Unreadable("a field past the end of its message")
            yield number, wire, buf[pos : pos + size]
            pos += size
        elif wire == 3 and number:  # a group (an unknown field to TensorFlow): skipped
            pos = _skip_group(buf, pos, number, budget)
            yield number, wire, 0
        else:
            raise Unreadable(f"wire type {wire}")
        if pos > len(buf):
            raise Unreadable("a field past the end of its message")


def _skip_group(buf: bytes, pos: int, number: int, budget: _Budget) -> int:
    """The position after the end-group key of `number` (groups nest; bounded by the
    field count)."""
    open_groups = [number]
    while open_groups:
        budget.fields += 1
        if budget.fields > _MAX_FIELDS or len(open_groups) > _MAX_DEPTH:
            raise TooBig("a group too large or nested too deeply")
        key, pos = _varint(buf, pos)
        n, wire = key >> 3, key & 7
        if wire == 0:
            pos = _varint(buf, pos)[1]
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        elif wire == 2:
            size, pos = _varint(buf, pos)
            pos += size
        elif wire == 3 and n:
            open_groups.append(n)
        elif wire == 4 and n == open_groups[-1]:
            open_groups.pop()
        else:
            raise Unreadable(f"wire type {wire} in a group")
        if pos > len(buf):
            raise Unreadable("a group past the end of its message")
    return pos


def _sub(buf: bytes, number: int, budget: _Budget) -> list[bytes]:
    return [
        v for n, w, v in _fields(buf, budget) if n == number and w == 2 and isinstance(v, bytes)
    ]


def _text(buf: bytes, number: int, budget: _Budget) -> str:
    found = _sub(buf, number, budget)
    return found[-1].decode("utf-8", "replace") if found else ""  # the last one wins


# -- the graph ------------------------------------------------------------------------------------
@dataclass
class _Node:
    name: str
    op: str
    inputs: list[str]
    calls: set[str]  # functions its attributes name (f, then_branch, body, ...)
    strings: list[bytes] | None = None  # a Const's string values (its `value` attribute)


@dataclass
class Graph:
    nodes: list[_Node] = field(default_factory=list)  # the graph_def's own nodes
    functions: dict[str, list[_Node]] = field(default_factory=dict)
    save_tensor: str = ""
    filename_tensor: str = ""  # the saver's: fed with the checkpoint path
    args: dict[str, list[str]] = field(default_factory=dict)  # each function's input args
    assets: dict[str, str] = field(default_factory=dict)  # TF1: a fed tensor -> its asset file
    asset_files: list[str] = field(default_factory=list)  # the AssetFileDefs' file names
    bound: dict[str, list[int]] = field(default_factory=dict)  # TF2: captures of a function
    asset_objects: dict[int, int] = field(default_factory=dict)  # object -> asset_file_def


def _attr_calls(attr_value: bytes, budget: _Budget, depth: int, out: set[str]) -> None:
    """Function names inside an AttrValue: `func` (10), `list.func` (1 -> 9), and the
    attributes of those NameAttrLists, recursively."""
    if depth > _MAX_DEPTH:
        raise TooBig("attributes nested too deeply")
    lists = []
    for n, w, v in _fields(attr_value, budget):
        if w != 2 or not isinstance(v, bytes):
            continue
        if n == 10:
            lists.append(v)
        elif n == 1:
            lists.extend(_sub(v, 9, budget))
    for name_attr_list in lists:
        out.add(_text(name_attr_list, 1, budget))
        for entry in _sub(name_attr_list, 2, budget):
            for value in _sub(entry, 2, budget):
                _attr_calls(value, budget, depth + 1, out)


def _node(buf: bytes, budget: _Budget) -> _Node:
    node = _Node("", "", [], set())
    for n, w, v in _fields(buf, budget):
        if w != 2 or not isinstance(v, bytes):
            continue
        if n == 1:
            node.name = v.decode("utf-8", "replace")
        elif n == 2:
            node.op = v.decode("utf-8", "replace")
        elif n == 3:
            node.inputs.append(v.decode("utf-8", "replace"))
        elif n == 5:
            values = _sub(v, 2, budget)
            for value in values:
                _attr_calls(value, budget, 0, node.calls)
            if _text(v, 1, budget) == "value" and values:  # AttrValue.tensor.string_val
                # a message field met twice is merged: its repeated fields concatenate
                tensors = _sub(values[-1], 8, budget)
                node.strings = [b for t in tensors for b in _sub(t, 8, budget)]
    return node


def add_node(node_def: bytes, g: Graph, tick: Callable[[], None] = lambda: None) -> None:
    """A serialized NodeDef (a TensorFlow Lite Flex op's) as a node of `g`."""
    g.nodes.append(_node(node_def, _Budget(tick=tick)))


def allowed_ops() -> frozenset[str]:
    return _ops().allowed


def _graph_def(graph_def: bytes, g: Graph, budget: _Budget) -> None:
    g.nodes.extend(_node(b, budget) for b in _sub(graph_def, 1, budget))
    for library in _sub(graph_def, 2, budget):
        for fn in _sub(library, 1, budget):
            signature = _sub(fn, 1, budget)
            name = _text(signature[-1], 1, budget) if signature else ""
            nodes = [_node(b, budget) for b in _sub(fn, 3, budget)]
            g.functions.setdefault(name, []).extend(nodes)
            args = [_text(a, 1, budget) for s in signature[-1:] for a in _sub(s, 2, budget)]
            g.args[name] = args


def _meta_graph(meta: bytes, budget: _Budget) -> Graph:
    g = Graph()
    for graph_def in _sub(meta, 2, budget):
        _graph_def(graph_def, g, budget)
    for saver in _sub(meta, 3, budget):
        g.save_tensor = _text(saver, 2, budget)
        g.filename_tensor = _text(saver, 1, budget)
    for asset in _sub(meta, 6, budget) or _collection_assets(meta, budget):
        filename = _text(asset, 2, budget)
        g.asset_files.append(filename)
        for info in _sub(asset, 1, budget):
            g.assets[_node_name(_text(info, 1, budget))] = filename
    for objects in _sub(meta, 7, budget):
        _object_graph(objects, g, budget)
    return g


def _collection_assets(meta: bytes, budget: _Budget) -> list[bytes]:
    """TF1's builder keeps the AssetFileDefs in the `saved_model_assets` collection (an
    AnyList), which its loader reads where asset_file_def is empty."""
    out: list[bytes] = []
    for entry in _sub(meta, 4, budget):
        if _text(entry, 1, budget) == "saved_model_assets":
            for collection in _sub(entry, 2, budget)[-1:]:
                for any_list in _sub(collection, 5, budget):
                    out.extend(v for a in _sub(any_list, 1, budget) for v in _sub(a, 2, budget))
    return out


def _object_graph(objects: bytes, g: Graph, budget: _Budget) -> None:
    """TF2: which objects are assets, and what each concrete function captures."""
    for i, obj in enumerate(_sub(objects, 1, budget)):
        for asset in _sub(obj, 5, budget):
            index = [v for n, w, v in _fields(asset, budget) if n == 1 and isinstance(v, int)]
            g.asset_objects[i] = index[-1] if index else 0
    for entry in _sub(objects, 2, budget):
        bound: list[int] = []
        for function in _sub(entry, 2, budget):
            for n, w, v in _fields(function, budget):
                if n == 2 and isinstance(v, bytes):  # packed
                    bound.extend(_packed(v))
                elif n == 2 and w == 0 and isinstance(v, int):
                    bound.append(v)
        g.bound[_text(entry, 1, budget)] = bound


def _packed(buf: bytes) -> Iterator[int]:
    pos = 0
    while pos < len(buf):
        value, pos = _varint(buf, pos)
        yield value


def read(data: bytes, tick: Callable[[], None] = lambda: None) -> list[Graph]:
    """Each MetaGraphDef of a SavedModel: its nodes, its function library and its saver's
    save tensor. Raises Unreadable."""
    budget = _Budget(tick=tick)
    graphs = [_meta_graph(meta, budget) for meta in _sub(data, 2, budget)]
    if not graphs:
        raise Unreadable("no meta graph")
    return graphs


# -- the judgement --------------------------------------------------------------------------------
def _node_name(tensor: str) -> str:
    return tensor.lstrip("^").split(":", 1)[0]


def _callees(node: _Node, functions: dict[str, list[_Node]]) -> set[str]:
    out = {c for c in node.calls if c in functions}
    if node.op in functions:  # a library function called as an op
        out.add(node.op)
    return out


def _reach_functions(start: set[str], functions: dict[str, list[_Node]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in functions.get(name, []):
            todo.extend(_callees(node, functions) - seen)
    return seen


def _inputs_of(start: list[str], by_name: dict[str, _Node]) -> set[str]:
    """The nodes named in `start` and every node they take an input from, transitively."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(_node_name(i) for i in by_name[name].inputs)
    return seen


def _save_side(g: Graph) -> tuple[set[str], set[str]]:
    """(graph nodes, functions) that only the save tensor reaches: where the saver's write
    ops may be."""
    by_name = {n.name: n for n in g.nodes}
    save_nodes = _inputs_of([_node_name(g.save_tensor)] if g.save_tensor else [], by_name)
    # nodes any other node depends on (what running it runs) are not the save side's alone
    shared = _inputs_of([n.name for n in g.nodes if n.name not in save_nodes], by_name)
    only_save = save_nodes - shared
    save_fns = _reach_functions(
        {f for n in g.nodes if n.name in only_save for f in _callees(n, g.functions)}, g.functions
    )
    other_roots = {f for n in g.nodes if n.name not in only_save for f in _callees(n, g.functions)}
    other_roots |= set(g.functions) - save_fns  # any other function may be called (at load)
    others = _reach_functions(other_roots, g.functions)
    return only_save, save_fns - others


def judge(data: bytes, tick: Callable[[], None] = lambda: None) -> list[str]:
    """The ops of a SavedModel outside the allow-list, where they may run. Raises
    Unreadable when the bytes are no SavedModel forkvet can read."""
    return judge_graphs(read(data, tick))


def judge_graphs(graphs: list[Graph]) -> list[str]:
    ops = _ops()
    bad: set[str] = set()
    for g in graphs:
        save_nodes, save_fns = _save_side(g)
        by_name = {n.name: n for n in g.nodes}
        for node in g.nodes:
            if not _allowed(node, g, ops, node.name in save_nodes):
                bad.add(node.op)
            elif _reads_outside(node, by_name, g, None):
                bad.add(f"{node.op} {READS_OUTSIDE}")
        for name, nodes in g.functions.items():
            in_fn = {n.name: n for n in nodes}
            for node in nodes:
                if not _allowed(node, g, ops, name in save_fns):
                    bad.add(node.op)
                elif _reads_outside(node, in_fn, g, name):
                    bad.add(f"{node.op} {READS_OUTSIDE}")
    return sorted(bad)


def _all_nodes(g: Graph) -> Iterator[_Node]:
    yield from g.nodes
    for nodes in g.functions.values():
        yield from nodes


def _allowed(node: _Node, g: Graph, ops: _Ops, save_side: bool) -> bool:
    if not node.op or node.op in g.functions or node.op in ops.allowed:  # no op: TF refuses
        return True
    return save_side and node.op in ops.save_only


# -- ops that read a file (round 19a F8) ----------------------------------------------------------
# The input that names the file, by op. Such an op may read only what the loader gives it (an
# asset of the model, the checkpoint it restores) or a constant relative path that stays inside
# the folder; anything else (an absolute path, `..`, a URL, a path computed by other ops) is
# an error, as is a path forkvet cannot trace.
_FILE_READERS = {"InitializeTableFromTextFile": 1, "InitializeTableFromTextFileV2": 1}
_RESTORES = {"RestoreV2": 0, "Restore": 0, "RestoreSlice": 0}
_PASS_THROUGH = frozenset({"Identity", "Snapshot", "StopGradient", "PlaceholderWithDefault"})
_CALLS = frozenset({"StatefulPartitionedCall", "PartitionedCall"})  # inputs: the args, in order
READS_OUTSIDE = "(reads a file it is not given as an asset of the model)"
_MAX_TRACE = 64


@dataclass
class _Scope:
    """Where a tensor name is looked up: the graph's nodes (fn None) or a function's."""

    g: Graph
    fn: str | None
    by_name: dict[str, _Node]
    restore: bool = False  # a checkpoint prefix: what the loader feeds a saver passes too


def _reads_outside(node: _Node, by_name: dict[str, _Node], g: Graph, fn: str | None) -> bool:
    index = _FILE_READERS.get(node.op, _RESTORES.get(node.op))
    if index is None:
        return False
    data_inputs = [i for i in node.inputs if not i.startswith("^")]
    if len(data_inputs) <= index:
        return True
    scope = _Scope(g, fn, by_name, node.op in _RESTORES)
    return not _safe_source(data_inputs[index], scope, 0)


def _safe_source(tensor: str, scope: _Scope, depth: int) -> bool:
    """Whether the string a tensor holds is a path inside the model: an asset the loader
    feeds, or a constant relative path, through ops that pass it on unchanged."""
    g, name = scope.g, _node_name(tensor)
    node = scope.by_name.get(name)
    if depth > _MAX_TRACE:
        return False
    if node is None and scope.fn is not None and name in g.args.get(scope.fn, []):
        return _safe_arg(scope, name, depth + 1)
    if scope.fn is None and name in g.assets:  # TF1: fed with the asset's path by the loader
        return safe_path(g.assets[name])
    if scope.restore and scope.fn is None and name == _node_name(g.filename_tensor):
        return True  # TF1: the saver's filename tensor, fed with the checkpoint path
    if node is None:
        return False
    if scope.restore and scope.fn is None and node.op == "Placeholder":
        return True  # TF2's saver_filename: fed by whoever saves or restores
    inputs = [i for i in node.inputs if not i.startswith("^")]
    if node.op in _PASS_THROUGH and inputs:
        return _safe_source(inputs[0], scope, depth + 1)
    if node.op == "ReadVariableOp" and inputs:
        return _safe_variable(_node_name(inputs[0]), scope, depth + 1)
    if node.op == "Const" and node.strings is not None and len(node.strings) == 1:
        return safe_path(node.strings[0])
    return False


def _safe_variable(handle: str, scope: _Scope, depth: int) -> bool:
    """A variable of the scope (TF2's graph keeps an asset's path in one) that only the
    scope's AssignVariableOps write, each with a path inside the model; a variable handed to
    any other op (a function that could assign it) is not traced."""
    node = scope.by_name.get(handle)
    if node is None or node.op != "VarHandleOp":
        return False
    values = []
    for n in scope.by_name.values():
        uses = [i for i, t in enumerate(n.inputs) if _node_name(t) == handle]
        if not uses:
            continue
        if n.op == "AssignVariableOp" and uses == [0] and len(n.inputs) > 1:
            values.append(n.inputs[1])
        elif n.op not in ("ReadVariableOp", "VarIsInitializedOp"):
            return False
    return bool(values) and all(_safe_source(v, scope, depth) for v in values)


def _safe_arg(scope: _Scope, arg: str, depth: int) -> bool:
    """A function's argument: TF2's loader binds it to an asset of the model, and every node
    that calls the function (TF1's loader runs the graph's) passes a path inside it too."""
    g, fn = scope.g, scope.fn or ""
    if not scope.restore and not _asset_arg(g, fn, arg):
        return False  # a restore function's prefix: TF2's loader passes the checkpoint
    position = g.args[fn].index(arg)
    callers: list[tuple[str | None, _Node]] = [(None, n) for n in g.nodes]
    callers += [(name, n) for name, nodes in g.functions.items() for n in nodes]
    for caller_fn, node in callers:
        if fn not in _callees(node, g.functions):
            continue
        inputs = [i for i in node.inputs if not i.startswith("^")]
        if (node.op not in _CALLS and node.op != fn) or len(inputs) <= position:
            return False
        nodes = g.nodes if caller_fn is None else g.functions[caller_fn]
        caller = _Scope(g, caller_fn, {n.name: n for n in nodes}, scope.restore)
        if not _safe_source(inputs[position], caller, depth + 1):
            return False
    return True


def _asset_arg(g: Graph, fn: str, arg: str) -> bool:
    """TF2: the argument is a capture the loader binds to an asset of the model."""
    args, bound = g.args.get(fn, []), g.bound.get(fn, [])
    k = args.index(arg) - (len(args) - len(bound))
    if k < 0 or k >= len(bound) or bound[k] not in g.asset_objects:
        return False
    index = g.asset_objects[bound[k]]
    return 0 <= index < len(g.asset_files) and safe_path(g.asset_files[index])


def safe_path(raw: bytes | str) -> bool:
    """A relative path that stays inside the folder it is read from."""
    path = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    parts = path.replace("\\", "/").split("/")
    return (
        bool(path)
        and not path.startswith(("/", "~"))
        and ":" not in path  # a URL (gs://, ram://) or a drive letter
        and "\0" not in path
        and ".." not in parts
    )


# -- graphs found by content (round 19a F2, F3) ---------------------------------------------------
_OP_START = frozenset(string.ascii_uppercase)
_OP_CHARS = frozenset(string.ascii_letters + string.digits + ">_")


def _runs(g: Graph) -> bool:
    """TensorFlow imports a graph only where every node's op is a registered op (its registry
    holds names to [A-Z][A-Za-z0-9>_]*) or a function of the graph's library."""
    return bool(g.nodes) and all(
        n.op in g.functions or (n.op[:1] in _OP_START and set(n.op) <= _OP_CHARS) for n in g.nodes
    )


def graphs_in(data: bytes, tick: Callable[[], None] = lambda: None) -> list[Graph]:
    """Every graph TensorFlow could run from these bytes read as a SavedModel, a MetaGraphDef
    (a checkpoint's `.meta`) or a GraphDef (a frozen `.pb`): a loader parses the bytes it is
    given as the message it expects, whatever their name. [] where no reading is a graph
    TensorFlow would import; raises TooBig where a bound stopped the reading."""
    budget = _Budget(tick=tick)
    found: list[Graph] = []
    for reading in (_as_saved_model, _as_meta_graph, _as_graph_def):
        try:
            found.extend(g for g in reading(data, budget) if _runs(g))
        except TooBig:
            raise
        except Unreadable:
            continue  # TensorFlow's parser refuses these bytes as this message too
    return found


def _as_saved_model(data: bytes, budget: _Budget) -> list[Graph]:
    return [_meta_graph(meta, budget) for meta in _sub(data, 2, budget)]


def _as_meta_graph(data: bytes, budget: _Budget) -> list[Graph]:
    return [_meta_graph(data, budget)]


def _as_graph_def(data: bytes, budget: _Budget) -> list[Graph]:
    # A NodeDef names its op (TensorFlow refuses an empty one): when the first message at
    # field 1 names none, these bytes are another message (a SentencePiece model's pieces hold
    # a float there), and its 100,000 entries are not built as nodes (40 MiB on google/automl).
    first = next((v for n, w, v in _fields(data, budget) if n == 1 and w == 2), None)
    if isinstance(first, bytes) and not _node(first, budget).op:
        return []
    g = Graph()
    _graph_def(data, g, budget)
    return [g]


_TEXT_HEAD = rx.compile(rb"\A(?:\s|#[^\n]*\n)*(?:[A-Za-z_][A-Za-z0-9_]*\s*[:{<]|\[|\Z|#)")
_TEXT_NODE = rx.compile(rb"(?:^|[\s{<;,])(?:node|node_def)\s*:?\s*[{<]")
_TEXT_OP = rx.compile(rb"(?:^|[\s{<;,])op\s*:\s*[\"']")


# Text format is parsed only where code asks for it: these are the names TensorFlow's own
# writers and loaders give it (write_graph's `.pbtxt`, import_meta_graph's `.meta`, whose text
# form it reads as well, a `.pb` written as text). A TensorBoard graph view in text format
# (tensorboardX's caffe2 `.expect` files) is no graph TensorFlow runs.
TEXT_NAMES = (".pbtxt", ".pbtext", ".pb", ".meta", ".txt", ".graph", ".graphdef")


def text_head(head: bytes) -> bool:
    """Whether a file may be protobuf text format: after spaces and comments, a field name
    and `:`, `{` or `<` (or nothing but comments as far as the head goes)."""
    return _TEXT_HEAD.search(head) is not None


def text_graph(data: bytes) -> bool:
    """A GraphDef, MetaGraphDef or SavedModel in protobuf text format (`.pbtxt`, or a
    `.meta` that import_meta_graph reads as text when it is no binary protobuf): NodeDefs
    with ops."""
    return _TEXT_NODE.search(data) is not None and _TEXT_OP.search(data) is not None


def protobuf_candidate(fh: IO[bytes], size: int) -> bool:
    """Whether a file (read from its start) reads whole as protobuf fields with a message at
    field 1 or 2 (a GraphDef's nodes, a MetaGraphDef's graph, a SavedModel's meta graphs):
    its top level only, skipping every length-delimited value. Most files fail within a
    few bytes."""
    seen, groups = False, list[int]()  # groups: unknown fields to TensorFlow's parser, skipped
    for _ in range(1_000_000):
        if fh.tell() == size:
            return seen and not groups
        key = _read_varint(fh.read)
        if key is None or not key >> 3:
            return False
        wire = key & 7
        if wire == 3:
            groups.append(key >> 3)
        elif wire == 4:
            if not groups or groups.pop() != key >> 3:
                return False
        elif wire == 2:
            length = _read_varint(fh.read)
            if length is None or fh.tell() + length > size:
                return False
            seen = seen or (key >> 3 in (1, 2) and not groups)
            fh.seek(length, 1)
        elif wire == 0:
            if _read_varint(fh.read) is None:
                return False
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if len(fh.read(width)) != width:
                return False
        else:
            return False
    return seen


def protobuf_prefix(head: bytes, size: int | None) -> bool:
    """Whether a stream starting with `head` (of `size` bytes, when known) may read whole as
    protobuf_candidate reads it: its top-level fields parse as far as the head goes; a value
    running past the head (within `size`) leaves it undecided, so True. Cheap: what the
    scan of an archive member asks before it reads the member whole."""
    pos, groups, end = 0, 0, len(head)
    total = size if size is not None else 1 << 62
    while pos < end:
        key, pos = _varint_at(head, pos)
        if key is None:
            return True  # cut by the head's end
        if not key >> 3 or key & 7 in (6, 7) or (key & 7 == 4 and not groups):
            return False
        wire = key & 7
        groups += 1 if wire == 3 else -1 if wire == 4 else 0
        if wire == 2:
            length, pos = _varint_at(head, pos)
            if length is None:
                return True
            pos += length
        elif wire == 0:
            value, pos = _varint_at(head, pos)
            if value is None:
                return True
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        if pos > total:
            return False
    return pos >= end and (size is None or size > end or pos == size)


def _varint_at(data: bytes, pos: int) -> tuple[int | None, int]:
    value = shift = 0
    while pos < len(data) and shift <= 63:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
    return None, pos


def _read_varint(read: Callable[[int], bytes]) -> int | None:
    value = shift = 0
    while shift <= 63:
        b = read(1)
        if not b:
            return None
        value |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return value
        shift += 7
    return None


def is_saved_model(path: str) -> bool:
    """A file tf.saved_model.load reads, by its name in the folder."""
    return path.rsplit("/", 1)[-1] in ("saved_model.pb", TEXT_FORMAT)


TEXT_FORMAT = "saved_model.pbtxt"  # read by TensorFlow's loader where no saved_model.pb is


MESSAGE = (
    "TensorFlow SavedModel whose graph holds ops outside the allow-list of pure ops "
    "(TensorFlow's stateless ops and its own variable, table and random-state ops): "
    "tf.saved_model.load runs resource initializers, restore functions and a TF1 main_op "
    "while it loads, and calling the model runs the rest"
)

GRAPH_MESSAGE = (
    "TensorFlow graph (a MetaGraphDef such as a checkpoint's .meta, or a GraphDef such as a "
    "frozen .pb, found by its content) whose ops are outside the allow-list of pure ops: "
    "Saver.restore runs the restore op the file names, and running the graph runs the rest"
)
