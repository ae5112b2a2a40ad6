"""Round 22 (outside attack round 21d, F1-F4, F8, F10, F12, F14 and the lows): a commercial
"yes" needs positive evidence for every model the code can load. Each case below once answered
MIT, commercial use yes; each is "unclear" (or "no") now, and the controls stay "yes"."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

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
