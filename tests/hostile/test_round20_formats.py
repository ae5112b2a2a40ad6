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
