"""Round 22 (outside attack round 21d, F1-F4, F8, F10, F12, F14 and the lows): a commercial
"yes" needs positive evidence for every model the code can load. Each case below once answered
MIT, commercial use yes; each is "unclear" (or "no") now, and the controls stay "yes"."""

from __future__ import annotations

import io
import itertools
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"train.py": "import torch\n", "README.md": "# TinyNet\n\nTrain with train.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")
NC = "facebook/nllb-200-distilled-600M"  # CC-BY-NC-4.0 in forkvet/data/hub_models.json
LLAMA = "meta-llama/Llama-2-7b-hf"


_RUNS = itertools.count()


def _answer(vet_repo: Vet, files: dict[str, str | bytes]) -> bool | None:
    """The commercial-use answer for MIT code plus the files (a fresh repository each call)."""
    lic = vet_repo({"LICENSE": MIT, **CODE, **files}, name=f"repo{next(_RUNS)}").license
    assert lic.spdx == "MIT"
    return lic.commercial_use


def _readme(body: str) -> dict[str, str | bytes]:
    return {"README.md": f"# TinyNet\n\nTrain with train.py.\n\n{body}\n"}


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "source": [c]} for c in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


# -- F10: a known id is judged whatever its key -------------------------------------------------
@pytest.mark.parametrize("key", ["backbone", "repo_id", "vae", "text_encoder", "init_from"])
def test_known_id_under_any_yaml_key(vet_repo: Vet, key: str) -> None:
    files = {"configs/default.yaml": f"train:\n  epochs: 10\n  {key}: {NC}\n"}
    assert _answer(vet_repo, files) is not True


def test_table_of_supported_models(vet_repo: Vet) -> None:
    # Round 16 read this as "named, not run"; the code can load it (round 22).
    table = f'SUPPORTED = {{"{LLAMA}": {{"model_name": "llama-2-7b"}}}}\n'
    assert _answer(vet_repo, {"setup_env.py": table}) is None


def test_models_a_test_checks_against_stay_yes(vet_repo: Vet) -> None:
    # A test's parameter list (flash-attention's tests/models/test_baichuan.py) names models
    # the library is checked against, not one it runs for its users.
    test = f'@pytest.mark.parametrize("name", ["{LLAMA}", "{NC}"])\ndef test_x(name): ...\n'
    assert _answer(vet_repo, {"tests/models/test_llama.py": test}) is True


def test_known_id_under_any_json_key(vet_repo: Vet) -> None:
    files = {"configs/run.json": json.dumps({"translator": NC, "epochs": 3})}
    assert _answer(vet_repo, files) is not True


# -- F3: ids the loader-argument reader does not follow -----------------------------------------
def test_dict_of_choices_and_env_default(vet_repo: Vet) -> None:
    choice = (
        'MODELS = {"small": "acme/tiny-mt", "large": "acme/big-mt"}\n'
        "m = AutoModel.from_pretrained(MODELS[size])\n"
    )
    assert _answer(vet_repo, {"demo.py": choice}) is None
    env = 'm = AutoModel.from_pretrained(os.environ.get("MT", "acme/tiny-mt"))\n'
    assert _answer(vet_repo, {"demo.py": env}) is None
    assigned = 'NAME = os.getenv("MT_MODEL", "acme/tiny-mt")\n'
    assert _answer(vet_repo, {"demo.py": assigned}) is None
    paths = (
        'D = os.getenv("MODEL_DIR", "models/tiny")\n'
        'C = os.environ.get("CHECKPOINT", "checkpoints/last")\n'
    )
    assert _answer(vet_repo, {"demo.py": paths}) is True


@pytest.mark.parametrize(
    "call",
    [
        'from_pretrained(f"meta-llama/Llama-2-{size}-hf")',
        'from_pretrained(f"acme/tinynet-{size}")',
        'from_pretrained("acme/tinynet-" + size)',
        'from_pretrained("acme/tinynet-{}".format(size))',
        'pipeline("text-generation", model=f"acme/gen-{size}")',
    ],
)
def test_computed_id_is_a_gap(vet_repo: Vet, call: str) -> None:
    assert _answer(vet_repo, {"demo.py": f"m = AutoModel.{call}\n"}) is None


def test_computed_local_path_stays_yes(vet_repo: Vet) -> None:
    local = (
        'm = AutoModel.from_pretrained(f"checkpoints/epoch-{n}")\n'
        'm = AutoModel.from_pretrained(f"{out_dir}/best")\n'
    )
    assert _answer(vet_repo, {"demo.py": local}) is True


# -- F4: other places a model is named -----------------------------------------------------------
def test_saved_config_name_or_path(vet_repo: Vet) -> None:
    cfg = json.dumps({"_name_or_path": LLAMA, "architectures": ["LlamaForCausalLM"]})
    assert _answer(vet_repo, {"checkpoints/chat/config.json": cfg}) is None
    unknown = json.dumps({"_name_or_path": "acme/tinynet", "model_type": "bert"})
    assert _answer(vet_repo, {"ckpt/config.json": unknown}) is None
    local = json.dumps({"_name_or_path": "/home/me/run3/checkpoint-500"})
    assert _answer(vet_repo, {"ckpt/config.json": local}) is True


def test_space_card_models(vet_repo: Vet) -> None:
    front = f"---\ntitle: TinyChat\nsdk: gradio\nmodels:\n  - {NC}\nlicense: mit\n---\n"
    assert _answer(vet_repo, {"README.md": front + "# TinyChat\n"}) is not True


@pytest.mark.parametrize(
    "line",
    [
        f"wget https://huggingface.co/{NC}/resolve/main/pytorch_model.bin",
        "wget https://huggingface.co/acme/tinynet/resolve/main/model.safetensors",
        f"```bash\ngit clone https://hf-mirror.com/{NC} weights/nllb\n```",
        "```bash\ngit clone https://hf-mirror.com/acme/tinynet weights/t\n```",
        f"```bash\ngit clone https://www.modelscope.cn/{NC}.git\n```",
    ],
)
def test_hub_addresses_that_download(vet_repo: Vet, line: str) -> None:
    assert _answer(vet_repo, _readme(line)) is not True


def test_submodule_on_the_hub(vet_repo: Vet) -> None:
    gitmodules = (
        f'[submodule "pretrained"]\n\tpath = pretrained\n\turl = https://huggingface.co/{LLAMA}\n'
    )
    assert _answer(vet_repo, {".gitmodules": gitmodules}) is None


# -- F12: notebooks, links to a known model's page, a card seven folders down --------------------
def test_notebook_code_cell_loads(vet_repo: Vet) -> None:
    nb = _notebook(
        "from transformers import AutoModel\n", f'm = AutoModel.from_pretrained("{NC}")\n'
    )
    assert _answer(vet_repo, {"demo.ipynb": nb}) is not True
    unknown = _notebook('m = AutoModel.from_pretrained("acme/tinynet")\n')
    assert _answer(vet_repo, {"demo.ipynb": unknown}) is None


def test_notebook_over_the_text_cap_is_searched(vet_repo: Vet) -> None:
    nb = json.loads(_notebook(f'm = AutoModel.from_pretrained("{NC}")\n'))
    output = {"output_type": "stream", "name": "stdout", "text": ["x" * 100 + "\n"] * 30_000}
    nb["cells"][0]["outputs"] = [output]  # 3 MB of saved output, over the 2 MiB text cap
    assert _answer(vet_repo, {"demo.ipynb": json.dumps(nb)}) is not True


def test_links_to_a_known_model_page(vet_repo: Vet) -> None:
    link = f"Download the checkpoint from [Hugging Face](https://huggingface.co/{NC})."
    assert _answer(vet_repo, _readme(link)) is not True
    zoo = f"| TinyNet-L | [download](https://huggingface.co/{NC}/tree/main) |\n"
    files = {"MODEL_ZOO.md": "# Model zoo\n\n| Model | Checkpoint |\n|---|---|\n" + zoo}
    assert _answer(vet_repo, files) is not True


def test_links_to_permissive_or_docs_pages_stay_yes(vet_repo: Vet) -> None:
    links = (
        "See [BERT](https://huggingface.co/google-bert/bert-base-uncased), the"
        " [docs](https://huggingface.co/docs/transformers/index) and our"
        " [data](https://huggingface.co/datasets/acme/tiny)."
    )
    assert _answer(vet_repo, _readme(links)) is True


def test_card_seven_folders_down(vet_repo: Vet) -> None:
    card = f"---\nbase_model: {LLAMA}\n---\n# Checkpoint\n"
    assert _answer(vet_repo, {"a/b/c/d/e/f/checkpoints/README.md": card}) is None


# -- F14: a folder named like the owner hides no download -----------------------------------------
def test_org_named_folder_hides_no_download(vet_repo: Vet) -> None:
    files = {
        "acme-lab/README.md": "# Acme lab notes\n",
        "demo.py": 'm = AutoModel.from_pretrained("acme-lab/tinynet-nc")\n',
    }
    assert _answer(vet_repo, files) is None


def test_run_output_folder_is_local(vet_repo: Vet) -> None:
    files = {
        "checkpoints/.gitkeep": "",
        "demo.py": 'm = AutoModel.from_pretrained("checkpoints/best")\n',
    }
    assert _answer(vet_repo, files) is True


# -- lows: permissive ids the table now knows; unit-test fixtures are no weights -----------------
@pytest.mark.parametrize(
    "name", ["timm/resnet50.a1_in1k", "BAAI/bge-small-en-v1.5", "intfloat/e5-base-v2"]
)
def test_permissive_ids_known(vet_repo: Vet, name: str) -> None:
    assert _answer(vet_repo, {"demo.py": f'm = AutoModel.from_pretrained("{name}")\n'}) is True


def test_test_fixture_org_is_no_weights(vet_repo: Vet) -> None:
    test = 'm = AutoModel.from_pretrained("hf-internal-testing/tiny-random-bert")\n'
    assert _answer(vet_repo, {"tests/test_model.py": test}) is True


# -- F1: the weights files' own metadata ------------------------------------------------------
def _gguf(pairs: dict[str, str]) -> bytes:
    """A GGUF v3 header of string values, then an int array to skip (as a tokenizer's)."""

    def string(s: str) -> bytes:
        raw = s.encode()
        return struct.pack("<Q", len(raw)) + raw

    body = b"".join(string(k) + struct.pack("<I", 8) + string(v) for k, v in pairs.items())
    array = string("tokenizer.ggml.token_type") + struct.pack("<IIQ", 9, 5, 3) + b"\0" * 12
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs) + 1) + array + body


def _onnx(pairs: dict[str, str]) -> bytes:
    """An ONNX ModelProto: ir_version, a graph (field 7, skipped) and metadata_props."""

    def field(n: int, raw: bytes) -> bytes:
        return bytes([n << 3 | 2, len(raw)]) + raw

    props = b"".join(
        field(14, field(1, k.encode()) + field(2, v.encode())) for k, v in pairs.items()
    )
    return b"\x08\x08" + field(7, b"\x0a\x01x") + props


def _keras(meta: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.3.3", **meta}))
        zf.writestr("config.json", "{}")
    return buf.getvalue()


def _safetensors(meta: dict[str, str]) -> bytes:
    header = json.dumps({"__metadata__": meta}).encode()
    return struct.pack("<Q", len(header)) + header


@pytest.mark.parametrize(
    "files",
    [
        {"tinynet.gguf": _gguf({"general.name": "TinyNet", "general.license": "cc-by-nc-4.0"})},
        {
            "chat-q4.gguf": _gguf(
                {
                    "general.name": "chat",
                    "general.base_model.0.repo_url": f"https://huggingface.co/{LLAMA}",
                }
            )
        },
        {"chat.gguf": _gguf({"general.base_model.0.name": "Acme Secret 7B"})},
        {"model.onnx": _onnx({"license": "CC-BY-NC-4.0"})},
        {"model.keras": _keras({"license": "cc-by-nc-4.0"})},
        {
            "style_lora.safetensors": _safetensors(
                {"ss_sd_model_name": "flux1-dev.safetensors", "ss_base_model_version": "flux1"}
            )
        },
        {"lora.safetensors": _safetensors({"modelspec.architecture": "acme-diffusion-9/lora"})},
        {"broken.gguf": b"GGUF" + struct.pack("<IQQ", 3, 0, 10**9)},
    ],
)
def test_weights_metadata_is_judged(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _answer(vet_repo, files) is not True


def test_permissive_weights_metadata_stays_yes(vet_repo: Vet) -> None:
    files: dict[str, str | bytes] = {
        "tinynet.gguf": _gguf({"general.name": "TinyNet", "general.license": "mit"}),
        "model.onnx": _onnx({"author": "Example Labs"}),
        "model.keras": _keras({"date_saved": "2024-01-01"}),
        "sd15_lora.safetensors": _safetensors(
            {
                "ss_sd_model_name": "v1-5-pruned-emaonly.safetensors",
                "ss_base_model_version": "sd_v1",
            }
        ),
    }
    assert _answer(vet_repo, files) is True


# -- F2: models a library downloads by its own name -------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        'from insightface.app import FaceAnalysis\napp = FaceAnalysis(name="buffalo_l")\n',
        "import insightface\nm = insightface.model_zoo.get_model('inswapper_128.onnx')\n",
        "from torchvision.models import vit_h_14, ViT_H_14_Weights\n"
        "m = vit_h_14(weights=ViT_H_14_Weights.IMAGENET1K_SWAG_E2E_V1)\n",
        'import keras_hub\nlm = keras_hub.models.Llama3CausalLM.from_preset("llama3_8b_en")\n',
        'import keras_hub\nlm = keras_hub.models.CausalLM.from_preset("acme_lm_en")\n',
        'import kagglehub\np = kagglehub.model_download("metaresearch/llama-2/pyTorch/7b")\n',
        'import kagglehub\np = kagglehub.model_download("acme/tinynet/pyTorch/default")\n',
        'import timm\nm = timm.create_model("resnet50.fb_swsl_ig1b_ft_in1k", pretrained=True)\n',
    ],
)
def test_library_named_models(vet_repo: Vet, code: str) -> None:
    assert _answer(vet_repo, {"demo.py": code}) is None


def test_library_models_documented_permissive_stay_yes(vet_repo: Vet) -> None:
    code = (
        "import timm\nfrom torchvision.models import resnet50, ResNet50_Weights\n"
        "m = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2)\n"
        'b = timm.create_model("resnet50", pretrained=True)\n'
        "import keras_hub\n"
        'g = keras_hub.models.GPT2CausalLM.from_preset("gpt2_base_en")\n'
    )
    assert _answer(vet_repo, {"demo.py": code}) is True


# -- F8: dependencies under a non-commercial license ------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"requirements.txt": "torch\nnvdiffrast @ git+https://github.com/NVlabs/nvdiffrast\n"},
        {"requirements.txt": "torch>=2\nnvdiffrast==0.3.1\n"},
        {
            ".gitmodules": '[submodule "third_party/stylegan2"]\n\tpath = third_party/stylegan2\n'
            "\turl = https://github.com/NVlabs/stylegan2-ada-pytorch\n"
        },
        {"scripts/setup.sh": "git clone https://github.com/NVlabs/stylegan3.git\n"},
    ],
)
def test_non_commercial_dependency(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _answer(vet_repo, files) is None


def test_permissive_nvidia_dependency_stays_yes(vet_repo: Vet) -> None:
    files = {"requirements.txt": "tinycudann @ git+https://github.com/NVlabs/tiny-cuda-nn\n"}
    assert _answer(vet_repo, files) is True


def test_model_cards_past_the_bound_are_a_gap(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import hubweights

    monkeypatch.setattr(hubweights, "MAX_CARDS", 2)
    cards = {f"m{i}/README.md": "# notes\n" for i in range(4)}
    assert _answer(vet_repo, cards) is None


# -- differential: the formats' own libraries write what forkvet reads (skip where absent) ------
class _Entry:
    def __init__(self, size: int) -> None:
        self.size = size


def test_gguf_header_as_the_gguf_package_writes_it(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    from forkvet.vet import weightsmeta

    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.license", "cc-by-nc-4.0")
    writer.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    writer.add_string("general.base_model.0.repo_url", f"https://huggingface.co/{LLAMA}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with path.open("rb") as fh:
        meta = weightsmeta._gguf(fh, _Entry(path.stat().st_size))  # type: ignore[arg-type]
    assert meta["general.license"] == "cc-by-nc-4.0"
    assert meta["general.base_model.0.repo_url"].endswith(LLAMA)


def test_onnx_metadata_as_the_onnx_package_writes_it() -> None:
    onnx = pytest.importorskip("onnx")
    from forkvet.vet import weightsmeta

    graph = onnx.helper.make_graph([], "g", [], [])
    model = onnx.helper.make_model(graph)
    onnx.helper.set_model_props(model, {"license": "CC-BY-NC-4.0", "author": "x"})
    raw = model.SerializeToString()
    meta = weightsmeta._onnx(io.BytesIO(raw), _Entry(len(raw)))  # type: ignore[arg-type]
    assert meta["license"] == "CC-BY-NC-4.0"
