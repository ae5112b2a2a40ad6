"""TensorFlow Lite models (round 19a F7): a `.tflite` flatbuffer runs the ops its operator
codes name. TensorFlow Lite's builtin ops touch no file, but a custom op is whatever the
resolver maps its name to, and the Flex delegate (linked into TensorFlow's pip package) runs
a `Flex...` op as the TensorFlow op of the NodeDef serialized in its custom options: any op,
`WriteFile` included, on `invoke()`.

So every custom op is an error unless it is one of the custom ops TensorFlow Lite's own
builtin resolver registers, or a Flex op whose NodeDef (the op the delegate runs, not the
spelling of its code) is on the SavedModel allow-list (forkvet/data/tf_ops.json) and names no
function and no file. A model forkvet cannot read is NOT verified.

The flatbuffer is read with bounds checked at every offset; nothing of it runs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from forkvet.vet import savedmodel


class Unreadable(ValueError):
    pass


_CUSTOM = 32  # BuiltinOperator_CUSTOM
# Custom ops TensorFlow Lite's BuiltinOpResolver registers itself (tensorflow/lite/core/
# kernels/register.cc): compiled kernels, named by the model.
_RESOLVER_CUSTOM = frozenset({"TFLite_Detection_PostProcess", "Mfcc", "AudioSpectrogram"})
_MAX_OPERATORS = 1_000_000

MESSAGE = (
    "TensorFlow Lite model with custom ops outside TensorFlow Lite's own kernels, or Flex "
    "(TensorFlow) ops outside the allow-list of pure ops: the Flex delegate runs any "
    "TensorFlow op on invoke()"
)


def is_tflite(head: bytes, path: str) -> bool:
    """By the flatbuffer's file identifier, or by the name a user passes to the Interpreter
    (which does not insist on the identifier)."""
    return head[4:8] == b"TFL3" or path.lower().endswith(".tflite")


class _Buf:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def u(self, pos: int, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.data):
            raise Unreadable("an offset outside the file")
        return int(struct.unpack_from("<" + fmt, self.data, pos)[0])

    def field(self, table: int, index: int) -> int:
        """The position of a table's field, 0 where it is absent."""
        vtable = table - self.u(table, "i")
        vsize = self.u(vtable, "H")
        if 4 + 2 * index + 2 > vsize:
            return 0
        offset = self.u(vtable + 4 + 2 * index, "H")
        return table + offset if offset else 0

    def ref(self, pos: int) -> int:
        return pos + self.u(pos, "I")

    def vector(self, table: int, index: int) -> tuple[int, int]:
        """(start, length) of a vector field; (0, 0) where it is absent."""
        pos = self.field(table, index)
        if not pos:
            return 0, 0
        start = self.ref(pos)
        return start + 4, self.u(start, "I")

    def bytes_(self, table: int, index: int) -> bytes:
        start, length = self.vector(table, index)
        if start + length > len(self.data):
            raise Unreadable("a vector past the end of the file")
        return self.data[start : start + length]

    def scalar(self, table: int, index: int, fmt: str, default: int = 0) -> int:
        pos = self.field(table, index)
        return self.u(pos, fmt) if pos else default


def judge(data: bytes, tick: Callable[[], None] = lambda: None) -> list[str]:
    """The ops of the model outside what is allowed. Raises Unreadable."""
    buf = _Buf(data)
    model = buf.ref(0)
    codes = _codes(buf, model)
    bad: set[str] = set()
    start, count = buf.vector(model, 2)
    for i in range(count):
        subgraph = buf.ref(start + 4 * i)
        ops, n_ops = buf.vector(subgraph, 3)
        if n_ops > _MAX_OPERATORS:
            raise Unreadable(f"over {_MAX_OPERATORS:,} operators")
        for j in range(n_ops):
            if not j & 0xFFF:
                tick()
            operator = buf.ref(ops + 4 * j)
            index = buf.scalar(operator, 0, "I")
            if index >= len(codes):
                raise Unreadable("an operator code index past the table")
            name = codes[index]
            if name is None or name in _RESOLVER_CUSTOM:
                continue
            if not name.startswith("Flex"):
                bad.add(f"custom op {name!r}")
                continue
            bad.update(_flex(name, _custom_options(buf, operator)))
    return sorted(bad)


def _codes(buf: _Buf, model: int) -> list[str | None]:
    """Each operator code: None for a builtin, its custom name for a custom op."""
    out: list[str | None] = []
    start, count = buf.vector(model, 1)
    for i in range(count):
        code = buf.ref(start + 4 * i)
        builtin = max(buf.scalar(code, 0, "b"), buf.scalar(code, 3, "i"))
        if builtin != _CUSTOM:
            out.append(None)
            continue
        if not buf.field(code, 1):
            raise Unreadable("a custom op without a name")
        out.append(buf.bytes_(code, 1).decode("utf-8", "replace"))
    return out


def _custom_options(buf: _Buf, operator: int) -> bytes:
    offset = buf.scalar(operator, 9, "Q")
    if offset:  # large_custom_options: bytes after the flatbuffer, in the same file
        size = buf.scalar(operator, 10, "Q")
        if offset + size > len(buf.data):
            raise Unreadable("custom options past the end of the file")
        return buf.data[offset : offset + size]
    return buf.bytes_(operator, 5)


def _flex(name: str, options: bytes) -> set[str]:
    """What a Flex op runs: the op of the NodeDef in its custom options (a flexbuffer vector
    [op name, serialized NodeDef])."""
    strings = _flexbuffer_strings(options)
    if len(strings) < 2:
        raise Unreadable(f"a Flex op {name!r} without its NodeDef")
    graph = savedmodel.Graph()
    savedmodel.add_node(strings[1], graph)
    node = graph.nodes[0]
    bad = savedmodel.judge_graphs([graph])
    if node.calls:
        bad.append(f"{node.op} (calls a function)")
    if name[4:] != node.op and name[4:] not in savedmodel.allowed_ops():
        bad.append(name[4:])
    return set(bad)


def _flexbuffer_strings(data: bytes) -> list[bytes]:
    """The string elements of a flexbuffer whose root is an untyped vector."""
    buf = _Buf(data)
    if len(data) < 3:
        raise Unreadable("a flexbuffer too short")
    root_width = data[-1]
    packed = data[-2]
    root = len(data) - 2 - root_width
    if packed >> 2 != 10 or root_width not in (1, 2, 4, 8):  # FBT_VECTOR
        raise Unreadable("a Flex op's options are no flexbuffer vector")
    vector = root - buf.u(root, _UINT[root_width])
    width = 1 << (packed & 3)
    length = buf.u(vector - width, _UINT[width])
    out = []
    for i in range(min(length, 16)):
        elem_type = buf.u(vector + length * width + i, "B")
        if elem_type >> 2 != 5:  # FBT_STRING
            raise Unreadable("a Flex op's options hold no strings")
        pos = vector + i * width
        start = pos - buf.u(pos, _UINT[width])
        str_width = 1 << (elem_type & 3)
        size = buf.u(start - str_width, _UINT[str_width])
        if start + size > len(data):
            raise Unreadable("a flexbuffer string past its end")
        out.append(data[start : start + size])
    return out


_UINT = {1: "B", 2: "H", 4: "I", 8: "Q"}
