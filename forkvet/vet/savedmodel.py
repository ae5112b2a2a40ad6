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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

MAX_BYTES = 512 << 20  # a saved_model.pb read whole (TensorFlow refuses protobufs over 2 GiB)
_MAX_FIELDS = 8_000_000
_MAX_DEPTH = 64


class Unreadable(ValueError):
    pass


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
            raise Unreadable(f"over {_MAX_FIELDS:,} protobuf fields")
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
        else:
            raise Unreadable(f"wire type {wire}")
        if pos > len(buf):
            raise Unreadable("a field past the end of its message")


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


@dataclass
class Graph:
    nodes: list[_Node] = field(default_factory=list)  # the graph_def's own nodes
    functions: dict[str, list[_Node]] = field(default_factory=dict)
    save_tensor: str = ""


def _attr_calls(attr_value: bytes, budget: _Budget, depth: int, out: set[str]) -> None:
    """Function names inside an AttrValue: `func` (10), `list.func` (1 -> 9), and the
    attributes of those NameAttrLists, recursively."""
    if depth > _MAX_DEPTH:
        raise Unreadable("attributes nested too deeply")
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
    name = op = ""
    inputs: list[str] = []
    calls: set[str] = set()
    for n, w, v in _fields(buf, budget):
        if w != 2 or not isinstance(v, bytes):
            continue
        if n == 1:
            name = v.decode("utf-8", "replace")
        elif n == 2:
            op = v.decode("utf-8", "replace")
        elif n == 3:
            inputs.append(v.decode("utf-8", "replace"))
        elif n == 5:
            for value in _sub(v, 2, budget):
                _attr_calls(value, budget, 0, calls)
    return _Node(name, op, inputs, calls)


def read(data: bytes, tick: Callable[[], None] = lambda: None) -> list[Graph]:
    """Each MetaGraphDef of a SavedModel: its nodes, its function library and its saver's
    save tensor. Raises Unreadable."""
    budget = _Budget(tick=tick)
    graphs = []
    for meta in _sub(data, 2, budget):
        g = Graph()
        for graph_def in _sub(meta, 2, budget):
            g.nodes.extend(_node(b, budget) for b in _sub(graph_def, 1, budget))
            for library in _sub(graph_def, 2, budget):
                for fn in _sub(library, 1, budget):
                    signature = _sub(fn, 1, budget)
                    name = _text(signature[-1], 1, budget) if signature else ""
                    nodes = [_node(b, budget) for b in _sub(fn, 3, budget)]
                    g.functions.setdefault(name, []).extend(nodes)
        for saver in _sub(meta, 3, budget):
            g.save_tensor = _text(saver, 2, budget)
        graphs.append(g)
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


def _save_side(g: Graph) -> tuple[set[str], set[str]]:
    """(graph nodes, functions) that only the save tensor reaches: where the saver's write
    ops may be."""
    by_name = {n.name: n for n in g.nodes}
    save_nodes: set[str] = set()
    todo = [_node_name(g.save_tensor)] if g.save_tensor else []
    while todo:
        name = todo.pop()
        if name in save_nodes or name not in by_name:
            continue
        save_nodes.add(name)
        todo.extend(_node_name(i) for i in by_name[name].inputs)
    # nodes any other node depends on (what running it runs) are not the save side's alone
    shared: set[str] = set()
    todo = [n.name for n in g.nodes if n.name not in save_nodes]
    while todo:
        name = todo.pop()
        if name in shared or name not in by_name:
            continue
        shared.add(name)
        todo.extend(_node_name(i) for i in by_name[name].inputs)
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
    ops = _ops()
    bad: set[str] = set()
    for g in read(data, tick):
        save_nodes, save_fns = _save_side(g)
        for node in g.nodes:
            if not _allowed(node, g, ops, node.name in save_nodes):
                bad.add(node.op)
        for name, nodes in g.functions.items():
            for node in nodes:
                if not _allowed(node, g, ops, name in save_fns):
                    bad.add(node.op)
    return sorted(bad)


def _allowed(node: _Node, g: Graph, ops: _Ops, save_side: bool) -> bool:
    if not node.op or node.op in g.functions or node.op in ops.allowed:  # no op: TF refuses
        return True
    return save_side and node.op in ops.save_only


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
