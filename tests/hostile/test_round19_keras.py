"""Round 19a (outside attack): the Keras config allow-list judged a spelling, not the name
Keras resolves.

- F1: Keras 3 resolves `module + "." + class_name` (`{"module": "keras", "class_name":
  "utils.get_file"}` is keras.utils.get_file, which Keras 3.8 calls as a layer: a file
  write), looks `registered_name` up in the registry first and falls back to
  vars(module)[registered_name] (a Lambda, keras.models.load_model under another class name).
- F9: tf.keras's legacy configs (an .h5 `model_config`) name no module: TFOpLambda and
  SlicingOpLambda call whatever TensorFlow symbol their config's `function` names
  (`io.read_file` returned a file from outside the tree).

The loaders themselves run in tests/hostile/test_loader_differential.py (rows
keras-config-dotted-class-name, keras-config-registered-name, tf-keras-h5-tfoplambda).
Every fixture is written here, small; nothing is loaded.
"""

from __future__ import annotations

import io
import json
import zipfile


def _errors(report, path: str) -> str:  # type: ignore[no-untyped-def]
    return " ".join(
        r.message
        for r in report.risks
        if r.severity == "error" and r.path == path and r.kind == "code-in-data"
    )


def _keras(*layers: dict[str, object], module: bool = True) -> bytes:
    cfg: dict[str, object] = {
        "class_name": "Functional",
        "config": {"name": "m", "layers": list(layers), "input_layers": [], "output_layers": []},
    }
    if module:
        cfg |= {"module": "keras.src.models.functional", "registered_name": "Functional"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("metadata.json", "{}")
    return buf.getvalue()


def _h5(*layers: dict[str, object]) -> bytes:
    """An HDF5 file's bytes around a tf.keras legacy `model_config` (no `module` keys)."""
    cfg = {"class_name": "Functional", "config": {"name": "m", "layers": list(layers)}}
    return b"\x89HDF\r\n\x1a\n" + bytes(200) + b"model_config\0" + json.dumps(cfg).encode()


def _layer(module: str | None, cls: str, **extra: object) -> dict[str, object]:
    out: dict[str, object] = {"class_name": cls, "config": {}, "name": "g", **extra}
    if module is not None:
        out["module"] = module
    return out


def _op(cls: str, function: str) -> dict[str, object]:
    return {"class_name": cls, "config": {"name": "op", "function": function}, "name": "op"}


def test_a_dotted_class_name_is_judged_as_the_name_keras_resolves(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo(
        {
            "a.keras": _keras(_layer("keras", "utils.get_file")),
            "b.keras": _keras(_layer("keras", "layers.TFSMLayer")),  # excluded by its name
            "c.keras": _keras(_layer("keras.layers", "core.lambda_layer.Lambda")),
        }
    )
    assert "keras.utils.get_file" in _errors(report, "a.keras")
    assert "keras.layers.TFSMLayer" in _errors(report, "b.keras")
    assert "keras.layers.core.lambda_layer.Lambda" in _errors(report, "c.keras")


def test_a_function_under_a_class_module_is_no_class(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # keras.models.load_model (an hf:// path, safe_mode=False) called as a layer
    report = vet_repo({"m.keras": _keras(_layer("keras.models", "load_model"))})
    assert "keras.models.load_model" in _errors(report, "m.keras")


def test_a_registered_name_keras_looks_up_is_judged(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo(
        {
            "a.keras": _keras(_layer("keras.src.layers", "Nope", registered_name="Lambda")),
            "e.keras": _keras(_layer("keras.models", "Nope", registered_name="load_model")),
            "b.keras": _keras(_layer("keras.layers", "Dense", registered_name="keras_hub>X")),
            "c.keras": _keras(_layer(None, "Custom>Evil")),
            "d.keras": _keras(_layer("__main__", "function", config="get_file")),
        }
    )
    assert "keras.src.layers.Lambda" in _errors(report, "a.keras")
    assert "registered_name keras_hub>X" in _errors(report, "b.keras")
    assert "registered_name Custom>Evil" in _errors(report, "c.keras")
    assert "__main__.get_file" in _errors(report, "d.keras")
    assert "keras.models.load_model" in _errors(report, "e.keras")


def test_tf_keras_op_layers_may_name_only_tensor_operations(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo(
        {
            "read.h5": _h5(_op("TFOpLambda", "io.read_file")),
            "slice.h5": _h5(_op("SlicingOpLambda", "compat.v1.write_file")),
            "cls.h5": _h5(
                {"class_name": "ClassMethod", "config": {"cls_symbol": "saved_model.Asset"}}
            ),
            "model.json": json.dumps(_op("TFOpLambda", "py_function")),
        }
    )
    assert "TFOpLambda tensorflow.io.read_file" in _errors(report, "read.h5")
    assert "tensorflow.compat.v1.write_file" in _errors(report, "slice.h5")
    assert "ClassMethod tensorflow.saved_model.Asset" in _errors(report, "cls.h5")
    assert "tensorflow.py_function" in _errors(report, "model.json")


def test_a_typespec_is_judged_by_the_class_keras_looks_up(vet_repo) -> None:  # type: ignore[no-untyped-def]
    spec = {"class_name": "__typespec__", "spec_name": "get_file", "module": "keras.utils"}
    good = {"class_name": "__typespec__", "spec_name": "TensorSpec", "registered_name": None}
    good |= {"module": "tensorflow.python.framework.tensor", "config": [[None, 2], "float32"]}
    report = vet_repo(
        {"a.keras": _keras({**spec, "config": []}), "b.keras": _keras(_layer(None, "X", y=good))}
    )
    assert "keras.utils.get_file" in _errors(report, "a.keras")
    assert not _errors(report, "b.keras"), report.risks


def test_benign_keras_2_and_3_configs_pass(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # as Keras 3.8 and tf.keras 2.15 write them (tests/.. built with the real Keras)
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
    dense = _layer("keras.layers", "Dense", registered_name=None)
    dense["config"] = {"units": 2, "dtype": policy, "activation": "relu"}
    adam = {"class_name": "Custom>Adam", "config": {"name": "Adam"}}  # tf.keras 2.11+
    main = _layer("__main__", "MyBlock", registered_name="MyBlock")
    report = vet_repo(
        {
            "k3.keras": _keras(dense, main),
            "k2.h5": _h5(
                _layer(None, "Dense"),
                _op("TFOpLambda", "math.reduce_mean"),
                _op("TFOpLambda", "compat.v1.transpose"),
                _op("TFOpLambda", "reshape"),
                _op("SlicingOpLambda", "__operators__.getitem"),
                {"class_name": "X", "config": {"optimizer_config": adam}},
            ),
            "legacy.keras": _keras(_layer(None, "Dense"), module=False),
        }
    )
    for path in ("k3.keras", "k2.h5", "legacy.keras"):
        assert not _errors(report, path), (path, report.risks)
