"""Round 18a (outside attack): formats whose loaders run code that forkvet did not read.

- F6: an AOTInductor package (`model.pt2`): aoti_load_package dlopens the archive's shared
  library, whose ELF constructors run at once. A native library in a torch archive (by name or
  by its magic) is a code-in-data error.
- F8: a `.skops` file whose schema names `os.system` (ConstructorFromReduceNode): the idiom
  `skops.io.load(f, trusted=get_untrusted_types(file=f))` calls it. Every type outside skops'
  default trusted set is an error; a loader skops does not have is NOT verified.

Every fixture is written here, small; nothing is loaded.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile


def _errors(report, path: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(r.kind, r.message) for r in report.risks if r.severity == "error" and r.path == path]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


# -- F6: native code in a torch archive ------------------------------------------------------------
ELF = b"\x7fELF\x02\x01\x01" + bytes(57)  # the start of a 64-bit ELF header
PE = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40) + b"PE\0\0" + bytes(20)


def _aoti(lib_name: str, lib: bytes, marks: bool = True) -> bytes:
    members = {f"model/data/aotinductor/model/{lib_name}": lib}
    if marks:
        members |= {"model/archive_format": b"pt2", "model/.data/version": b"1\n"}
    return _zip(members)


def test_an_aoti_package_with_a_shared_library_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo({"model.pt2": _aoti("abc.wrapper.so", ELF)})
    assert any(kind == "code-in-data" for kind, _ in _errors(report, "model.pt2")), report.risks


def test_a_native_library_is_found_by_its_magic_whatever_its_name(vet_repo) -> None:  # type: ignore[no-untyped-def]
    for lib in (ELF, PE, b"\xcf\xfa\xed\xfe" + bytes(60)):
        report = vet_repo({"model.pt2": _aoti("weights.bin", lib)})
        assert any(kind == "code-in-data" for kind, _ in _errors(report, "model.pt2")), lib[:4]


def test_the_aotinductor_folder_marks_a_package_without_other_marks(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo({"model.pt2": _aoti("abc.so", ELF, marks=False)})
    assert any(kind == "code-in-data" for kind, _ in _errors(report, "model.pt2"))


def test_a_torch_archive_of_plain_tensors_is_no_native_code(vet_repo) -> None:  # type: ignore[no-untyped-def]
    data = _zip({"m/.data/version": b"3\n", "m/data/0": b"\x00" * 64, "m/byteorder": b"little"})
    report = vet_repo({"model.pt2": data})
    assert not any(kind == "code-in-data" for kind, _ in _errors(report, "model.pt2"))


# -- F8: skops ------------------------------------------------------------------------------------
def _node(module: str, cls: str, loader: str, **more: object) -> dict[str, object]:
    return {"__class__": cls, "__module__": module, "__loader__": loader, **more}


def _json_arg(value: object) -> dict[str, object]:
    return _node("builtins", "str", "JsonNode", content=json.dumps(value), is_json=True)


def _skops(schema: dict[str, object]) -> bytes:
    return _zip({"schema.json": json.dumps({**schema, "protocol": 2}).encode()})


def _constructor(module: str, cls: str) -> dict[str, object]:
    args = _node("builtins", "tuple", "TupleNode", content=[_json_arg("true")])
    return _node(module, cls, "ConstructorFromReduceNode", content=args)


def _benign() -> dict[str, object]:
    attrs = _node(
        "builtins",
        "dict",
        "DictNode",
        content={"C": _json_arg(1.0), "classes_": _node("numpy", "ndarray", "NdArrayNode")},
        key_types=_node("builtins", "list", "ListNode", content=[]),
    )
    return _node(
        "sklearn.linear_model._logistic", "LogisticRegression", "ObjectNode", content=attrs
    )


def test_a_skops_schema_calling_os_system_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo({"model.skops": _skops(_constructor("os", "system"))})
    found = _errors(report, "model.skops")
    assert any(kind == "code-in-data" and "os.system" in msg for kind, msg in found), found


def test_a_trusted_type_through_a_constructor_is_still_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # skops trusts no type for ConstructorFromReduceNode by default: the loader, not the name
    report = vet_repo({"model.skops": _skops(_constructor("builtins", "int"))})
    assert _errors(report, "model.skops")


def test_a_function_outside_the_trusted_ufuncs_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    attrs = _node(
        "builtins", "dict", "DictNode", content={"f": _node("os", "getcwd", "FunctionNode")}
    )
    schema = _node(
        "sklearn.linear_model._logistic", "LogisticRegression", "ObjectNode", content=attrs
    )
    report = vet_repo({"m.bin": _skops(schema)})  # any name: found by the schema
    assert any(
        kind == "code-in-data" and "os.getcwd" in msg for kind, msg in _errors(report, "m.bin")
    )


def test_an_unknown_skops_loader_is_not_verified(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo({"model.skops": _skops(_node("sklearn.linear_model", "X", "FutureNode"))})
    assert _errors(report, "model.skops"), report.risks


def test_a_benign_skops_model_is_no_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo({"model.skops": _skops(_benign())})
    assert not _errors(report, "model.skops"), report.risks


def test_a_zip_with_a_schema_json_that_is_no_skops_schema_is_left_alone(vet_repo) -> None:  # type: ignore[no-untyped-def]
    data = _zip({"schema.json": json.dumps({"type": "object", "properties": {}}).encode()})
    report = vet_repo({"bundle.zip": data})
    assert not any(kind == "code-in-data" for kind, _ in _errors(report, "bundle.zip"))


# -- F2: what a Keras config may name --------------------------------------------------------------
def _fn_layer(module: str, fn: str) -> dict[str, object]:
    return {
        "module": module,
        "class_name": "function",
        "config": fn,
        "registered_name": "function",
        "name": "preprocess",
        "inbound_nodes": [{"args": ["/tmp/x", "y"], "kwargs": {}}],
    }


def _functional(*layers: dict[str, object]) -> dict[str, object]:
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "registered_name": "Functional",
        "config": {"name": "m", "layers": list(layers), "input_layers": [], "output_layers": []},
    }


def _dense() -> dict[str, object]:
    init = {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {}}
    reg = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01}}
    relu = {"module": "keras.activations", "class_name": "function", "config": "relu"}
    gelu = {"module": "builtins", "class_name": "function", "config": "gelu"}
    cfg = {"units": 2, "kernel_initializer": init, "kernel_regularizer": reg, "activation": relu}
    return {"module": "keras.layers", "class_name": "Dense", "config": {**cfg, "x": gelu}}


def _keras(cfg: dict[str, object]) -> bytes:
    return _zip({"config.json": json.dumps(cfg).encode(), "metadata.json": b"{}"})


def _keras_errors(report, path: str) -> str:  # type: ignore[no-untyped-def]
    return " ".join(msg for kind, msg in _errors(report, path) if kind == "code-in-data")


def test_functions_of_keras_and_tensorflow_that_write_files_are_errors(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo(
        {
            "a.keras": _keras(_functional(_fn_layer("tensorflow.io", "write_file"))),
            "b.keras": _keras(_functional(_fn_layer("keras.utils", "get_file"))),
            # a function module of Keras, but no function Keras keeps there
            "c.keras": _keras(_functional(_fn_layer("keras.activations", "deserialize"))),
            "d.keras": _keras(_functional(_fn_layer("tensorflow.io.gfile", "copy"))),
        }
    )
    assert "tensorflow.io.write_file" in _keras_errors(report, "a.keras")
    assert "keras.utils.get_file" in _keras_errors(report, "b.keras")
    assert "keras.activations.deserialize" in _keras_errors(report, "c.keras")
    assert "tensorflow.io.gfile.copy" in _keras_errors(report, "d.keras")


def test_a_keras_layer_that_loads_a_path_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    tfsm = {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/x"}}
    report = vet_repo({"model.keras": _keras(_functional(tfsm))})
    assert "keras.layers.TFSMLayer" in _keras_errors(report, "model.keras")


def test_the_judgement_holds_whatever_the_order_of_the_keys(vet_repo) -> None:  # type: ignore[no-untyped-def]
    layer = _fn_layer("tensorflow.io", "write_file")
    reordered = {k: layer[k] for k in ("config", "inbound_nodes", "class_name", "name", "module")}
    report = vet_repo({"model.json": json.dumps(_functional(reordered))})
    assert "tensorflow.io.write_file" in _keras_errors(report, "model.json")


def test_a_config_of_keras_own_classes_and_functions_is_no_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    opt = {
        "module": "keras.src.backend.torch.optimizers.torch_adam",
        "class_name": "Adam",
        "config": {"learning_rate": 0.001},
        "registered_name": "Adam",
    }
    add = {"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "add"}}
    cfg = _functional(_dense(), add)  # keras.ops calls in a functional model are Operations
    cfg["compile_config"] = {"optimizer": opt, "loss": "mse"}
    report = vet_repo({"model.keras": _keras(cfg)})
    assert not _errors(report, "model.keras"), report.risks


def test_keras_configs_inside_binary_files_are_judged_the_same(vet_repo) -> None:  # type: ignore[no-untyped-def]
    bad = json.dumps(_functional(_fn_layer("tensorflow.io", "write_file"))).encode()
    good = json.dumps(_functional(_dense())).encode()
    hdf5 = b"\x89HDF\r\n\x1a\n" + bytes(200)
    pb = b"\x0a\x05keras\x12" + bytes([0x80, 0x10])  # a protobuf's bytes before the string
    report = vet_repo(
        {
            "bad.h5": hdf5 + b"model_config\0" + bad + bytes(64),
            "good.h5": hdf5 + b"model_config\0" + good + bytes(64),
            "sm/keras_metadata.pb": pb + b"{not json" + bad + b"\x1a\x00",
        }
    )
    assert "tensorflow.io.write_file" in _keras_errors(report, "bad.h5")
    assert "tensorflow.io.write_file" in _keras_errors(report, "sm/keras_metadata.pb")
    assert not _errors(report, "good.h5"), report.risks


# -- F1: a SavedModel's graph runs at load ---------------------------------------------------------
def _varint(n: int) -> bytes:
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _f(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _tf_node(name: str, op: str, *inputs: str, f: str = "") -> bytes:
    out = _f(1, name) + _f(2, op) + b"".join(_f(3, i) for i in inputs)
    if f:  # attr {"f": AttrValue{func: NameAttrList{name: f}}}
        out += _f(5, _f(1, "f") + _f(2, _f(10, _f(1, f))))
    return out


def _tf_function(name: str, *nodes: bytes, args: tuple[str, ...] = ()) -> bytes:
    signature = _f(1, name) + b"".join(_f(2, _f(1, a)) for a in args)  # OpDef.input_arg
    return _f(1, signature) + b"".join(_f(3, n) for n in nodes)


def _saved_model(nodes: list[bytes], functions: list[bytes], save: str = "") -> bytes:
    library = b"".join(_f(1, fn) for fn in functions)
    graph = b"".join(_f(1, n) for n in nodes) + _f(2, library)
    meta = _f(2, graph) + (_f(3, _f(2, save)) if save else b"")
    return _varint(1 << 3) + _varint(1) + _f(2, meta)


_SAVE = _tf_function(
    "__inference__traced_save_9",
    _tf_node("StaticRegexFullMatch", "StaticRegexFullMatch", "file_prefix"),
    _tf_node("ShardedFilename", "ShardedFilename", "StringJoin:output:0"),
    _tf_node("SaveV2", "SaveV2", "ShardedFilename:filename:0"),
    _tf_node("MergeV2Checkpoints", "MergeV2Checkpoints", "^SaveV2"),
)
_RESTORE = _tf_function(
    "__inference__traced_restore_9", _tf_node("RestoreV2", "RestoreV2", "p"), args=("p",)
)
_SERVE = _tf_function(
    "__inference_serve_5",
    _tf_node("ReadVariableOp", "ReadVariableOp", "w"),
    _tf_node("MatMul", "MatMul", "x", "ReadVariableOp:value:0"),
)
_TF2_NODES = [
    _tf_node("saver_filename", "Placeholder"),
    _tf_node(
        "StatefulPartitionedCall_1",
        "StatefulPartitionedCall",
        "saver_filename",
        f="__inference__traced_save_9",
    ),
    _tf_node(
        "StatefulPartitionedCall_2",
        "StatefulPartitionedCall",
        "saver_filename",
        f="__inference__traced_restore_9",
    ),
]


def _sm_errors(report, path: str) -> str:  # type: ignore[no-untyped-def]
    return " ".join(msg for _kind, msg in _errors(report, path))


def test_a_resource_initializer_writing_a_file_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    init = _tf_function("__inference__initialize_7", _tf_node("WriteFile", "WriteFile", "p", "c"))
    data = _saved_model(_TF2_NODES, [_SAVE, _RESTORE, _SERVE, init], "StatefulPartitionedCall_1:0")
    report = vet_repo({"export/saved_model.pb": data})
    assert "WriteFile" in _sm_errors(report, "export/saved_model.pb"), report.risks


def test_a_tf1_main_op_writing_a_file_is_an_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    nodes = [_tf_node("p", "Const"), _tf_node("main_op", "WriteFile", "p", "p")]
    report = vet_repo({"saved_model.pb": _saved_model(nodes, [])})
    assert "WriteFile" in _sm_errors(report, "saved_model.pb")


def test_a_genuine_savedmodel_with_its_saver_is_no_error(vet_repo) -> None:  # type: ignore[no-untyped-def]
    data = _saved_model(_TF2_NODES, [_SAVE, _RESTORE, _SERVE], "StatefulPartitionedCall_1:0")
    report = vet_repo({"m/saved_model.pb": data})
    assert not _errors(report, "m/saved_model.pb"), report.risks


def test_the_savers_write_ops_reached_from_elsewhere_are_errors(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # an initializer that calls the saver's own save function (any path, any tensors)
    init = _tf_function(
        "__inference__initialize_7",
        _tf_node("call", "StatefulPartitionedCall", "p", f="__inference__traced_save_9"),
    )
    data = _saved_model(_TF2_NODES, [_SAVE, _RESTORE, init], "StatefulPartitionedCall_1:0")
    # a TF1 main_op that depends on the save subgraph's SaveV2 node
    tf1 = [
        _tf_node("save/SaveV2", "SaveV2", "save/Const"),
        _tf_node("save/control_dependency", "Identity", "save/Const", "^save/SaveV2"),
        _tf_node("main_op", "NoOp", "^save/SaveV2"),
    ]
    report = vet_repo(
        {
            "a/saved_model.pb": data,
            "b/saved_model.pb": _saved_model(tf1, [], "save/control_dependency:0"),
        }
    )
    assert "SaveV2" in _sm_errors(report, "a/saved_model.pb")
    assert "SaveV2" in _sm_errors(report, "b/saved_model.pb")


def test_a_savedmodel_forkvet_cannot_read_is_not_verified(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo({"saved_model.pb": b"\x12\xff\xff\xff\x0f" + b"x" * 40})
    assert _errors(report, "saved_model.pb"), report.risks


def test_a_savedmodel_in_text_format_is_not_verified(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # TensorFlow's loader reads saved_model.pbtxt where there is no saved_model.pb
    text = 'meta_graphs { graph_def { node { name: "main_op" op: "WriteFile" } } }\n'
    report = vet_repo({"sm/saved_model.pbtxt": text})
    assert _errors(report, "sm/saved_model.pbtxt"), report.risks
