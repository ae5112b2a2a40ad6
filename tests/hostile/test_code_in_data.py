"""Code that runs when a data file is loaded or put on sys.path (outside attack, round 15a):
a Keras model config with a Lambda layer (F13), YAML with Python tags (F14), Python modules
in a committed zip (F5)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

import pytest

from forkvet.report import Report

Vet = Callable[..., Report]

_LAMBDA: dict[str, object] = {
    "class_name": "Lambda",
    "config": {
        "name": "norm",
        "function": ["4wEAAAAAAAAAAAAAAAEAAAAEAAAAQwAAAHMEAAAAfABTAKkBTqkAKQ==", None, None],
        "function_type": "lambda",
        "module": "__main__",
    },
}
_DENSE: dict[str, object] = {
    "class_name": "Dense",
    "config": {"name": "d", "units": 2, "activation": "linear"},
}


def _config(*layers: dict[str, object], indent: int | None = None) -> str:
    model = {"class_name": "Sequential", "config": {"name": "seq", "layers": list(layers)}}
    return json.dumps(model, indent=indent)


def _h5(config: str) -> bytes:
    """What h5py writes for a Keras 2 model, reduced to what matters here: the HDF5
    signature, and the model_config attribute's JSON text stored as it is."""
    return b"\x89HDF\r\n\x1a\n" + b"\0" * 1000 + b"model_config\0" + config.encode() + b"\0" * 512


def _zip(members: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _errors(report: Report, kind: str = "code-in-data") -> dict[str, str]:
    """path -> its findings' messages (a file may have several: round 21 judges a config's
    strings too, `print(1)` in a jsonpickle tuple is one)."""
    out: dict[str, str] = {}
    for r in report.risks:
        if r.kind == kind:
            path = r.path or ""
            out[path] = f"{out[path]}\n{r.message}" if path in out else r.message
    return out


def test_a_keras_lambda_layer_is_an_error_in_h5_keras_and_json(vet_repo: Vet) -> None:
    spaced = _config(_DENSE, _LAMBDA, indent=4).replace('": "', '"  :\n  "')
    escaped = _config(_DENSE, _DENSE).replace('"Dense"', '"\\u004cambda"', 1)
    report = vet_repo(
        {
            "model.h5": _h5(_config(_DENSE, _LAMBDA)),
            "spaced.h5": _h5(spaced),
            "escaped.h5": _h5(escaped),
            "model.keras": _zip({"config.json": _config(_LAMBDA), "metadata.json": "{}"}),
            "model.json": _config(_LAMBDA),
            "dense.h5": _h5(_config(_DENSE)),
            "dense.keras": _zip({"config.json": _config(_DENSE)}),
            "dense.json": _config(_DENSE),
            "predict.py": "from tensorflow import keras\nkeras.models.load_model('model.h5')\n",
        }
    )
    found = _errors(report)
    for path in ("model.h5", "spaced.h5", "escaped.h5", "model.keras", "model.json"):
        assert "Lambda layer" in found[path], path
    assert "config.json" in found["model.keras"]
    for path in ("dense.h5", "dense.keras", "dense.json"):
        assert path not in found
    assert {r.severity for r in report.risks if r.kind == "code-in-data"} == {"error"}
    assert not [r for r in report.risks if r.kind == "pickle-checkpoint"]  # no pickle in them


@pytest.mark.parametrize(
    "text",
    [
        'lr: 0.1\nschedule: !!python/object/apply:os.system ["touch x"]\n',
        "fn: !python/name:os.system\n",
        "cls: !!python/object/new:subprocess.Popen [[ls]]\n",
        "m: !<tag:yaml.org,2002:python/module:os> ''\n",
        "%TAG !e! tag:yaml.org,2002:pyt\n---\ns: !e!hon/object/apply:os.system [x]\n",
        "f: !!%70ython/name:os.system\n",
    ],
)
def test_yaml_with_python_tags_is_an_error(vet_repo: Vet, text: str) -> None:
    report = vet_repo({"configs/train.yaml": text})
    risk = next(r for r in report.risks if r.kind == "code-in-data")
    assert risk.severity == "error"
    assert risk.path == "configs/train.yaml"
    assert risk.line == text.count("\n")  # the tag's own line, the last
    assert "Python tag" in risk.message


def test_yaml_without_code_tags_passes(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "a.yaml": "lr: 0.1\nshape: !!python/tuple [1, 2]\nname: !!str python\n",
            "b.yml": "text: '!!python/object/apply:os.system in a string'\n# !!python/name:os\n",
        }
    )
    assert not _errors(report)


def test_python_code_in_a_committed_zip_is_named(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "tools/prep.pyz": _zip({"__main__.py": "print('hi')\n"}),
            "third_party/fastops.zip": _zip({"fastops.py": "x = 1\n"}),
            "third_party/ops.bin": _zip({"pkg/__init__.pyc": b"\0" * 16}),
            "data/images.zip": _zip({"a.png": b"\x89PNG", "labels.txt": "cat\n"}),
        }
    )
    found = _errors(report, "package-archive")
    assert "__main__.py" in found["tools/prep.pyz"]
    assert "not vet" in found["third_party/fastops.zip"]
    assert "fastops.py" in found["third_party/fastops.zip"]
    assert "pkg/__init__.pyc" in found["third_party/ops.bin"]
    assert "data/images.zip" not in found


def test_yaml_loaded_with_an_unsafe_loader_is_a_warning(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "train.py": (
                "import yaml\n"
                "a = yaml.load(open('c.yaml'), Loader=yaml.Loader)\n"
                "b = yaml.unsafe_load(open('c.yaml'))\n"
                "c = yaml.load(open('c.yaml'), yaml.UnsafeLoader)\n"
                "d = yaml.load(open('c.yaml'), Loader=yaml.SafeLoader)\n"
                "e = yaml.safe_load(open('c.yaml'))\n"
            )
        }
    )
    lines = sorted(r.line or 0 for r in report.risks if r.kind == "yaml-load")
    assert lines == [2, 3, 4]


# -- round 16a: formats whose loaders run code, from forkvet/data/loaders.json --------------------
def _pb_field(field: int, data: bytes) -> bytes:
    def varint(n: int) -> bytes:
        out = b""
        while True:
            b, n = n & 0x7F, n >> 7
            if not n:
                return out + bytes([b])
            out += bytes([b | 0x80])

    return varint(field << 3 | 2) + varint(len(data)) + data


def _torch_package(extra: dict[str, bytes]) -> bytes:
    members = {
        "archive/.data/extern_modules": b"",
        "archive/.data/version": b"6\n",
        "archive/model/config.pkl": b"\x80\x02cargparse\nNamespace\n)\x81}b.",
        **extra,
    }
    return _zip(members)


def test_keras_configs_in_every_encoding_json_loads_reads(vet_repo: Vet) -> None:
    """json.loads of bytes detects UTF-8 (BOM or not), UTF-16 and UTF-32 (BOM or not); Keras
    reads config.json and model_from_json's argument as bytes (C4)."""
    text = _config(_DENSE, _LAMBDA)
    files: dict[str, str | bytes] = {
        "utf16.keras": _zip({"config.json": text.encode("utf-16")}),
        "utf16le.json": text.encode("utf-16-le"),
        "utf16be.json": text.encode("utf-16-be"),
        "utf32.json": text.encode("utf-32"),
        "utf32le.json": text.encode("utf-32-le"),
        "bom8.json": b"\xef\xbb\xbf" + text.encode(),
        "spaced16.json": ("\n  \t" + text).encode("utf-16-le"),
        "dense16.json": _config(_DENSE).encode("utf-16"),
    }
    found = _errors(vet_repo(files))
    for path in files:
        if path.startswith("dense"):
            assert path not in found
        else:
            assert "Lambda layer" in found.get(path, ""), path


def test_jsonpickle_tags_that_import_or_call_are_code_in_data(vet_repo: Vet) -> None:
    reduce = {"py/reduce": [{"py/function": "builtins.exec"}, {"py/tuple": ["print(1)"]}]}
    escaped = json.dumps([reduce]).replace("py/", "p\\u0079\\/")
    report = vet_repo(
        {
            "model.json": json.dumps({"name": "x", "steps": [reduce]}),
            "obj.json": json.dumps({"py/object": "sklearn.pipeline.Pipeline", "steps": []}),
            "escaped16.json": escaped.encode("utf-16"),
            "keyed.json": json.dumps({'json://{"py/type": "os.system"}': 1}),
            "data.json": json.dumps({"py/tuple": [1, 2], "py/set": [3], "x": "py/reduce"}),
        }
    )
    found = _errors(report)
    for path in ("model.json", "obj.json", "escaped16.json", "keyed.json"):
        assert "jsonpickle" in found.get(path, ""), path
    assert "data.json" not in found  # tuples and sets rebuild data; a value is no tag


def test_hickle_hdf5_is_not_verified(vet_repo: Vet) -> None:
    """hickle unpickles every object it stored as a pickle dataset, in a gzip-filtered
    dataset too (C2): an HDF5 file bearing hickle's marks is pickle-unverified."""
    hdf5 = b"\x89HDF\r\n\x1a\n" + b"\0" * 600
    report = vet_repo(
        {
            "model.hkl": hdf5 + b"HICKLE_VERSION\x005.0.3\0HICKLE_PYTHON_VERSION\x003.11\0",
            "old.hkl": hdf5 + b"CLASS\0hickle\0VERSION\x003.4\0PYTHON_VERSION\x003.6\0",
            "weights.h5": hdf5 + b"layer_names\0dense\0",
        }
    )
    found = _errors(report, "pickle-unverified")
    assert "hickle" in found["model.hkl"] and "hickle" in found["old.hkl"]
    assert "weights.h5" not in found


def test_a_torch_package_that_ships_python_is_code(vet_repo: Vet) -> None:
    """PackageImporter imports every module the archive ships and does not list as extern,
    before an installed one of that name (C3): a safe-listed argparse.Namespace included."""
    report = vet_repo(
        {
            "checkpoints/model.pt": _torch_package({"archive/argparse.py": b"import os\n"}),
            "plain.pt": _torch_package({}),
        }
    )
    found = _errors(report)
    assert "torch.package" in found["checkpoints/model.pt"]
    assert "argparse.py" in found["checkpoints/model.pt"]
    assert "plain.pt" not in found
    assert "plain.pt" not in {r.path for r in report.risks if r.severity == "error"}


def test_a_zarr_array_of_pickles_is_not_verified(vet_repo: Vet) -> None:
    """numcodecs' Pickle codec: zarr unpickles every chunk, which Blosc compresses (H1)."""
    zarray = {
        "chunks": [4],
        "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
        "dtype": "|O",
        "filters": [{"id": "pickle", "protocol": 5}],
        "shape": [4],
        "zarr_format": 2,
    }
    utf8 = dict(zarray, filters=[{"id": "vlen-utf8"}])
    # a codec forkvet does not know (a plugin's, which may unpickle): not verified either
    custom = dict(zarray, filters=[{"id": "my-objects"}], dtype=[["a", "<f4"], ["b", "|O"]])
    v3 = {"zarr_format": 3, "codecs": [{"name": "numcodecs.pickle", "configuration": {}}]}
    report = vet_repo(
        {
            "data/labels.zarr/.zarray": json.dumps(zarray),
            "data/labels.zarr/0": b"\x02\x01\x21\x01" + b"\x07" * 60,
            "data/v3.zarr/zarr.json": json.dumps(v3),
            "data/.zmetadata": json.dumps({"metadata": {"labels/.zarray": zarray}}),
            "data/words.zarr/.zarray": json.dumps(utf8),
            "data/plugin.zarr/.zarray": json.dumps(custom).encode("utf-16"),
            "data/floats.zarr/.zarray": json.dumps(dict(zarray, dtype="<f4", filters=None)),
        }
    )
    found = _errors(report, "pickle-unverified")
    for path in ("data/labels.zarr/.zarray", "data/v3.zarr/zarr.json", "data/.zmetadata"):
        assert "pickle codec" in found.get(path, ""), path
    assert "Python objects" in found["data/plugin.zarr/.zarray"]
    assert "data/floats.zarr/.zarray" not in found
    assert "data/words.zarr/.zarray" not in found


def test_a_lambda_in_a_savedmodel_keras_metadata_is_code(vet_repo: Vet) -> None:
    """tf.keras revives layers from the JSON inside keras_metadata.pb (M3)."""
    meta = json.dumps({"class_name": "Lambda", "config": _LAMBDA["config"]}).encode()
    node = b"\x10\x01" + _pb_field(3, b"root.layer-0") + _pb_field(5, meta)
    dense = json.dumps(_DENSE).encode()
    report = vet_repo(
        {
            "saved_model/keras_metadata.pb": _pb_field(1, node),
            "saved_model/saved_model.pb": b"\x08\x01",
            "other/keras_metadata.pb": _pb_field(1, b"\x10\x01" + _pb_field(5, dense)),
        }
    )
    found = _errors(report)
    assert "Lambda layer" in found["saved_model/keras_metadata.pb"]
    assert "other/keras_metadata.pb" not in found


def test_text_datasets_pass_the_json_search_first_test() -> None:
    """A JSONL text dataset (OLMo's eval requests: "pickle" in a question, escaped accents and
    URLs) is ruled out by the first, `in`-speed test: a pair search of every window spent the
    pickle time budget and left 52 real data files `pickle-unverified` (a false error)."""
    from forkvet.vet import dataformats

    m = dataformats._matchers()
    line = (
        b'{"request": "How do you open a pickle jar?", "choices": ["caf\\u00e9", '
        b'"https:\\/\\/example.org\\/a"], "lambda_weight": 0.5}\n'
    )
    window = line * 2000
    assert not any(n in window for n in m.needles)
    assert m.escapes is not None and not m.escapes.search(window)
    assert dataformats._utf8_window(window) == []
    # The same first test still lets every spelling of a rule's string through.
    for spelled in (b'{"class_name": "\\u004cambda"}', b'{"py\\/reduce": []}', b'{"py/type": 1}'):
        assert dataformats._utf8_window(line * 10 + spelled), spelled
