"""Round 19a (outside attack): TensorFlow graphs outside `saved_model.pb`.

- F2: a checkpoint's `model.ckpt.meta` (a MetaGraphDef) whose saver's restore op writes a file
  (import_meta_graph + Saver.restore runs it).
- F3: a frozen GraphDef (`frozen_inference_graph.pb`) holding WriteFile.
- F7: a `.tflite` model with a Flex op: the delegate runs the TensorFlow op of its NodeDef.
- F8: a table initializer reading a file outside the model (an absolute path, `..`, a path
  computed by other ops); the model returns the file's lines.

Graphs are found by content, whatever their name; a protobuf of some other message is no
graph. Every fixture is written here, small; nothing is loaded.
"""

from __future__ import annotations

import struct

from tests.hostile.test_round18_formats import (
    _errors,
    _f,
    _saved_model,
    _tf_function,
    _tf_node,
    _varint,
)


def _const(name: str, value: str) -> bytes:
    # attr {"value": AttrValue{tensor: TensorProto{string_val: value}}}
    return _f(1, name) + _f(2, "Const") + _f(5, _f(1, "value") + _f(2, _f(8, _f(8, value))))


def _graph_def(*nodes: bytes) -> bytes:
    return b"".join(_f(1, n) for n in nodes) + _f(4, _varint(1 << 3) + _varint(1234))


_WRITE = (_tf_node("p", "Placeholder"), _tf_node("w", "WriteFile", "p", "p"))
_BENIGN = (
    _tf_node("x", "Placeholder"),
    _tf_node("two", "Const"),
    _tf_node("mul", "Mul", "x", "two"),
    _tf_node("y", "Identity", "mul"),
)


def _any_error(report, path: str) -> str:  # type: ignore[no-untyped-def]
    return " ".join(msg for _kind, msg in _errors(report, path))


# -- F2, F3: graphs by content --------------------------------------------------------------------
def test_a_checkpoint_meta_graph_whose_restore_op_writes_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    graph = _graph_def(*_WRITE, _tf_node("save/restore_all", "NoOp", "^w"))
    meta = _f(2, graph) + _f(3, _f(1, "save/Const:0") + _f(3, "save/restore_all"))
    report = vet_repo({"ckpt/model.ckpt.meta": meta, "weights.bin": meta})
    assert "WriteFile" in _any_error(report, "ckpt/model.ckpt.meta"), report.risks
    assert "WriteFile" in _any_error(report, "weights.bin")  # by content, not by name


def test_a_frozen_graph_def_holding_write_file_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo(
        {"frozen_inference_graph.pb": _graph_def(*_WRITE), "ok.pb": _graph_def(*_BENIGN)}
    )
    assert "WriteFile" in _any_error(report, "frozen_inference_graph.pb"), report.risks
    assert not _errors(report, "ok.pb"), report.risks


def test_an_unknown_group_field_does_not_hide_a_graph(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # TensorFlow's parser skips a group (an unknown field); so does forkvet's reader
    group = _varint(99 << 3 | 3) + _varint(1 << 3) + _varint(7) + _varint(99 << 3 | 4)
    data = group + _graph_def(*_WRITE)
    report = vet_repo({"model.pb": data})
    assert "WriteFile" in _any_error(report, "model.pb"), report.risks


def test_protobufs_of_other_messages_are_no_graphs(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # keras_metadata.pb's SavedMetadata: nodes {node_id, node_path, identifier, metadata}
    keras_meta = _f(1, _varint(1 << 3) + _varint(3) + _f(2, "root.layer-0") + _f(4, "{}"))
    # a SentencePiece model: pieces {piece, score (float)}
    sp = b"".join(_f(1, _f(1, p) + b"\x15" + struct.pack("<f", -1.0)) for p in ("a", "WriteFile"))
    onnx = _varint(1 << 3) + _varint(8) + _f(2, "pytorch") + _f(7, _f(1, _f(1, "x")))
    report = vet_repo({"keras_metadata.pb": keras_meta, "tok.model": sp, "m.pb": onnx})
    for path in ("keras_metadata.pb", "tok.model", "m.pb"):
        assert not _errors(report, path), report.risks


def test_a_graph_in_text_format_is_not_verified(vet_repo) -> None:  # type: ignore[no-untyped-def]
    text = '# exported\nnode {\n  name: "w"\n  op: "WriteFile"\n}\nversions { producer: 1 }\n'
    yaml = "model:\n  node: {layers: 3}\n  name: x\n"
    view = 'node {\n  name: "conv1/XavierFill"\n  op: "XavierFill"\n}\n'  # tensorboardX
    report = vet_repo(
        {"graph.txt": text, "m/model.ckpt.meta": text, "conf.yaml": yaml, "t.expect": view}
    )
    assert _errors(report, "graph.txt"), report.risks
    assert _errors(report, "m/model.ckpt.meta"), report.risks
    assert not _errors(report, "conf.yaml"), report.risks
    assert not _errors(report, "t.expect"), report.risks


# -- F7: TensorFlow Lite ------------------------------------------------------------------------
def _flatbuffer(root: dict[int, object]) -> bytes:
    """A flatbuffer (identifier TFL3) of nested tables (dict: field index -> value), vectors of
    tables (list), byte vectors and strings (bytes) and scalars ((struct format, value))."""
    buf = bytearray(b"\0\0\0\0TFL3")

    def place(obj: object) -> int:
        buf.extend(bytes(-len(buf) % 4))
        pos = len(buf)
        if isinstance(obj, bytes):
            buf.extend(struct.pack("<I", len(obj)) + obj + b"\0")
        elif isinstance(obj, list):
            buf.extend(struct.pack("<I", len(obj)) + bytes(4 * len(obj)))
            for i, item in enumerate(obj):
                slot = pos + 4 + 4 * i
                buf[slot : slot + 4] = struct.pack("<I", place(item) - slot)
        else:
            assert isinstance(obj, dict)
            n = max(obj) + 1
            vtable = struct.pack("<HH", 4 + 2 * n, 4 + 8 * n)
            vtable += b"".join(struct.pack("<H", 4 + 8 * i if i in obj else 0) for i in range(n))
            buf.extend(vtable + bytes(-len(vtable) % 4))
            pos = len(buf)
            buf.extend(struct.pack("<i", pos - (pos - len(vtable) - (-len(vtable) % 4))))
            buf.extend(bytes(8 * n))
            for i, value in obj.items():
                slot = pos + 4 + 8 * i
                if isinstance(value, tuple):
                    buf[slot : slot + struct.calcsize(value[0])] = struct.pack(
                        "<" + value[0], value[1]
                    )
                else:
                    buf[slot : slot + 4] = struct.pack("<I", place(value) - slot)
        return pos

    buf[0:4] = struct.pack("<I", place(root))
    return bytes(buf)


def _flex_options(op: str, node_def: bytes) -> bytes:
    """A flexbuffer vector [op, NodeDef] of strings, one byte wide."""
    out = bytearray()
    starts = []
    for s in (op.encode(), node_def):
        out.append(len(s))
        starts.append(len(out))
        out.extend(s + b"\0")
    out.append(2)
    vector = len(out)
    out.extend(bytes([vector - starts[0], vector + 1 - starts[1], 5 << 2, 5 << 2]))
    root = len(out)
    out.extend(bytes([root - vector, 10 << 2, 1]))
    return bytes(out)


def _tflite(code: str, node_def: bytes = b"", builtin: int = 32) -> bytes:
    op_code = {3: ("i", builtin)} | ({1: code.encode()} if builtin == 32 else {})
    operator = {0: ("I", 0)} | ({5: _flex_options(code[4:], node_def)} if node_def else {})
    return _flatbuffer({0: ("I", 3), 1: [op_code], 2: [{3: [operator]}]})


def test_a_tflite_flex_op_running_write_file_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    write = _tf_node("w", "WriteFile", "a", "b")
    report = vet_repo(
        {
            "model.tflite": _tflite("FlexWriteFile", write),
            # the delegate runs the NodeDef's op, not the spelling of the code
            "disguised.bin": _tflite("FlexIdentity", write),
            "custom.tflite": _tflite("MyKernel"),
            "plain.tflite": _tflite("", builtin=18),  # MUL
            "ssd.tflite": _tflite("TFLite_Detection_PostProcess"),
            "flex_ok.tflite": _tflite("FlexAddV2", _tf_node("a", "AddV2", "x", "y")),
        }
    )
    assert "WriteFile" in _any_error(report, "model.tflite"), report.risks
    assert "WriteFile" in _any_error(report, "disguised.bin"), report.risks
    assert "MyKernel" in _any_error(report, "custom.tflite"), report.risks
    for path in ("plain.tflite", "ssd.tflite", "flex_ok.tflite"):
        assert not _errors(report, path), report.risks


def test_a_tflite_model_forkvet_cannot_read_is_not_verified(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo({"model.tflite": b"\xff\xff\xff\x7fTFL3" + bytes(32)})
    assert _errors(report, "model.tflite"), report.risks


# -- F8: file-reading ops -------------------------------------------------------------------------
def _table(path_nodes: tuple[bytes, ...], path: str) -> tuple[bytes, ...]:
    return (
        *path_nodes,
        _tf_node("hash_table", "HashTableV2"),
        _tf_node("init", "InitializeTableFromTextFileV2", "hash_table", path),
        _tf_node("main_op", "NoOp", "^init"),
    )


def test_a_table_reading_a_file_outside_the_model_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    joined = (
        _const("a", "/home/"),
        _const("b", "user/.netrc"),
        _tf_node("path", "StringJoin", "a", "b"),
    )
    files = {
        "a/saved_model.pb": _saved_model(list(_table(joined, "path")), []),
        "b/saved_model.pb": _saved_model(list(_table((_const("c", "/etc/passwd"),), "c")), []),
        "c/saved_model.pb": _saved_model(list(_table((_const("c", "../../x"),), "c")), []),
        "d/frozen.pb": _graph_def(*_table((_const("c", "gs://b/x"),), "c")),
    }
    report = vet_repo(files)
    for path in files:
        assert "InitializeTableFromTextFileV2" in _any_error(report, path), (path, report.risks)


def _asset_meta(
    nodes: tuple[bytes, ...], tensor: str, filename: str, collection: bool = False
) -> bytes:
    graph = b"".join(_f(1, n) for n in nodes)
    asset = _f(1, _f(1, tensor)) + _f(2, filename)  # AssetFileDef{tensor_info{name}, filename}
    if collection:  # TF1's builder: collection_def["saved_model_assets"].any_list
        any_asset = _f(1, "type.googleapis.com/tensorflow.AssetFileDef") + _f(2, asset)
        entry = _f(1, "saved_model_assets") + _f(2, _f(5, _f(1, any_asset)))
        return _varint(1 << 3) + _varint(1) + _f(2, _f(2, graph) + _f(4, entry))
    return _varint(1 << 3) + _varint(1) + _f(2, _f(2, graph) + _f(6, asset))


def test_a_table_reading_an_asset_of_the_model_is_no_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    fed = (_const("asset_path", "/tmp/export-time/vocab.txt"),)  # the loader feeds the asset
    report = vet_repo(
        {
            "a/saved_model.pb": _asset_meta(_table(fed, "asset_path"), "asset_path:0", "vocab.txt"),
            "b/saved_model.pb": _asset_meta(_table(fed, "asset_path"), "asset_path:0", "/etc/x"),
            "c/frozen.pb": _graph_def(*_table((_const("c", "assets/vocab.txt"),), "c")),
            "d/saved_model.pb": _asset_meta(
                _table(fed, "asset_path"), "asset_path:0", "vocab.txt", collection=True
            ),
            "e/saved_model.pb": _asset_meta(
                _table(fed, "asset_path"), "asset_path:0", "../../x", collection=True
            ),
        }
    )
    assert not _errors(report, "d/saved_model.pb"), report.risks
    assert "InitializeTableFromTextFileV2" in _any_error(report, "e/saved_model.pb")
    assert not _errors(report, "a/saved_model.pb"), report.risks
    assert "InitializeTableFromTextFileV2" in _any_error(report, "b/saved_model.pb")
    assert not _errors(report, "c/frozen.pb"), report.risks


def _tf2_table(asset_filename: str, bound_kind: int) -> bytes:
    """TF2: an initializer function whose path argument is a capture bound to object 1."""
    init = _tf_function(
        "__inference__initializer_3",
        _tf_node("init", "InitializeTableFromTextFileV2", "table", "path"),
        args=("path", "table"),
    )
    library = _f(1, init)
    graph = _f(2, library)
    # SavedObjectGraph: nodes [root, asset (5) or constant (9)], concrete_functions
    nodes = _f(1, b"") + _f(1, _f(bound_kind, _varint(1 << 3) + _varint(0)))
    function = _f(2, _varint(1) + _varint(2))  # bound_inputs, packed: [1, 2]
    objects = nodes + _f(2, _f(1, "__inference__initializer_3") + _f(2, function))
    asset = _f(1, _f(1, "asset_path_initializer:0")) + _f(2, asset_filename)
    meta = _f(2, graph) + _f(6, asset) + _f(7, objects)
    return _varint(1 << 3) + _varint(1) + _f(2, meta)


def test_a_tf2_table_initializer_is_judged_by_what_its_path_is_bound_to(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo(
        {
            "ok/saved_model.pb": _tf2_table("vocab.txt", 5),
            "abs/saved_model.pb": _tf2_table("/root/.netrc", 5),
            "const/saved_model.pb": _tf2_table("vocab.txt", 9),  # a captured constant
        }
    )
    assert not _errors(report, "ok/saved_model.pb"), report.risks
    assert "InitializeTableFromTextFileV2" in _any_error(report, "abs/saved_model.pb")
    assert "InitializeTableFromTextFileV2" in _any_error(report, "const/saved_model.pb")


def test_a_graph_met_after_the_time_budget_is_not_verified() -> None:
    import io

    from forkvet.vet import pickles

    for name, data in (("frozen.pb", _graph_def(*_WRITE)), ("m.tflite", _tflite("MyKernel"))):
        scan = pickles.scan_file(io.BytesIO(data), name, deadline=0.0)
        assert scan is not None and scan.unverified, name


def test_a_restore_from_a_path_the_loader_does_not_give_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    restore = _tf_function(
        "__inference__traced_restore_9",
        _tf_node("RestoreV2", "RestoreV2", "file_prefix", "names", "slices"),
        args=("file_prefix",),
    )
    fn = "__inference__traced_restore_9"
    by_loader = [  # TF2: saver_filename, a placeholder the loader feeds
        _tf_node("saver_filename", "Placeholder"),
        _tf_node("call", "StatefulPartitionedCall", "saver_filename", f=fn),
    ]
    by_file = [
        _const("prefix", "/home/user/other/model.ckpt"),
        _tf_node("call", "StatefulPartitionedCall", "prefix", f=fn),
    ]
    tf1 = [_const("p", "/etc/ckpt"), _tf_node("save/RestoreV2", "RestoreV2", "p")]
    report = vet_repo(
        {
            "ok/saved_model.pb": _saved_model(by_loader, [restore]),
            "tf2/saved_model.pb": _saved_model(by_file, [restore]),
            "tf1/saved_model.pb": _saved_model(tf1, []),
        }
    )
    assert not _errors(report, "ok/saved_model.pb"), report.risks
    assert "RestoreV2" in _any_error(report, "tf2/saved_model.pb"), report.risks
    assert "RestoreV2" in _any_error(report, "tf1/saved_model.pb"), report.risks
