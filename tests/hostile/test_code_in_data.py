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
    return {r.path or "": r.message for r in report.risks if r.kind == kind}


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
