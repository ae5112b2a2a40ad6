"""Round 21 (outside attack round 20c, F2, F4, F6, F9, F12, F14): one reader of terms for
every document. Each case below once answered MIT, commercial use yes; each is "unclear"
(or "no") now, and the controls stay "yes"."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable

import pytest

from forkvet.report import Report
from forkvet.vet.textnorm import fold
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"model.py": "import torch\n", "README.md": "# Cool model\n\nTrain with model.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")


def _commercial(vet_repo: Vet, files: dict[str, str | bytes]) -> bool | None:
    tree = {"LICENSE": MIT, **CODE, **files}
    lic = vet_repo(tree).license
    assert lic.spdx == "MIT"
    return lic.commercial_use


def _weights_md(sentence: str) -> dict[str, str | bytes]:
    return {
        "WEIGHTS.md": "# Pretrained weights\n\nDownload `tinynet.pth` from the releases page.\n\n"
        f"{sentence}\n"
    }


# -- F2: the weights' own document gets every clause the README License section reader knows
@pytest.mark.parametrize(
    "sentence",
    [
        "The weights may only be used by students and staff of Example University.",
        "The pretrained weights may be used for personal projects only.",
        "Use of the weights is restricted to Example Corp employees.",
        "Organizations with annual revenue above $1M may not use the weights without a paid "
        "license.",
        "Using the checkpoints in a paid product requires a separate agreement with us.",
        "Enterprise use of the weights requires a subscription.",
        "The weights must not be used to serve customers.",
        "Do not monetize the weights.",
        "The weights are released for scientific purposes exclusively.",
        "The weights may be used solely to reproduce the results of the paper.",
        "You may use the weights privately; any other use is forbidden.",
        "Free for teams of up to 5 people; larger organizations need an enterprise license.",
        "The model weights are for non-\U0001f4b0 use only.",
        "The weights may not be used in production.",
        # F12: a Llama-style condition on monthly active users.
        "If your products have more than 1 million monthly active users, you must request a "
        "license from us to use the weights.",
    ],
)
def test_weights_document_reads_who_may_use_it(vet_repo: Vet, sentence: str) -> None:
    assert _commercial(vet_repo, _weights_md(sentence)) is not True


@pytest.mark.parametrize(
    "sentence",
    [
        "The model weights are proprietary and confidential property of Example Corp.",
        "The pretrained models are not licensed.",
        "Any use of the weights other than reproducing our paper requires our written permission.",
        "The weights may not be used in the United States or the European Union.",
        "The model weights are provided as a 30-day trial.",
        "To obtain the weights, fill in the request form and agree to the research-use terms.",
    ],
)
def test_terms_no_reader_knew_are_read_everywhere(vet_repo: Vet, sentence: str) -> None:
    assert _commercial(vet_repo, _weights_md(sentence)) is not True
    readme = f"# Cool model\n\nTrain with model.py.\n\n## License\n\nCode: MIT. {sentence}\n"
    assert _commercial(vet_repo, {"README.md": readme}) is not True


@pytest.mark.parametrize(
    "sentence",
    [
        "The weights were trained on 8 GPUs for 3 days; use them with model.py.",
        "Commercial use of the weights is allowed.",
        "The weights may be used for any purpose, including commercial products.",
        "Set this if and only if you intend to use the weights with CFG.",
        "## How to Apply Delta Weights (Only Needed for Weights v0)",
        "Its use should be limited to English, as the model was trained on English only.",
        "To convert the checkpoints you must map their parameter names to our internal names.",
        "For models with mixed layers only unstacked checkpoints can be used.",
    ],
)
def test_weights_document_controls_stay_yes(vet_repo: Vet, sentence: str) -> None:
    assert _commercial(vet_repo, _weights_md(sentence)) is True


# -- F12: the subject is anything that names the model's artefacts ---------------------------
@pytest.mark.parametrize(
    "subject",
    [
        "The released .pth files",
        "The LoRA adapters",
        "The trained network",
        "The trained embeddings",
        "The GGUF files",
        "The exported ONNX graphs",
    ],
)
def test_other_words_for_weights_restrict(vet_repo: Vet, subject: str) -> None:
    guide = (
        f"# Guide\n\nRun `python train.py`.\n\n{subject} are for non-commercial research use only."
    )
    assert _commercial(vet_repo, {"docs/guide.md": guide}) is not True


def test_a_data_sentence_in_another_document_stays_yes(vet_repo: Vet) -> None:
    guide = "# Guide\n\nThe images are for non-commercial research use only.\n"
    assert _commercial(vet_repo, {"docs/guide.md": guide}) is True


# -- F14: spellings are normalized once, in textnorm.fold -----------------------------------
@pytest.mark.parametrize(
    "word",
    [
        "non\u00b7commercial",
        "non/commercial",
        "non_commercial",
        "n\u13be" + "n-\u13df\u13be" + "mmercial",
        "\u202elaicremmoc-non\u202c",
        "n0n-c0mm3rc14l",
        "non-comercal",
    ],
)
def test_spellings_of_non_commercial(vet_repo: Vet, word: str) -> None:
    assert "non-commercial" in fold(f"for {word} use").lower().replace(" ", "-")
    assert (
        _commercial(vet_repo, _weights_md(f"The model weights are for {word} use only."))
        is not True
    )


@pytest.mark.parametrize(
    "text", ["commercial and/or non-commercial", "h264 v3d gpt4o", "uncommon terms", "commerce"]
)
def test_fold_leaves_other_words(text: str) -> None:
    assert fold(text) == text


# -- F9: shields.io badges in their other spellings -----------------------------------------
@pytest.mark.parametrize(
    "badge",
    [
        "![weights](https://img.shields.io/badge/weights-CC%20BY--NC%204.0-lightgrey.svg)",
        "![weights](https://img.shields.io/static/v1?label=weights&message=non--commercial"
        "&color=red)",
        "![w](https://img.shields.io/static/v1?label=weights&message=CC%20BY-NC%204.0)",
    ],
)
def test_badges_in_other_spellings(vet_repo: Vet, badge: str) -> None:
    readme = f"# Cool model\n\n{badge}\n\nTrain with model.py.\n"
    assert _commercial(vet_repo, {"README.md": readme}) is not True


# -- F4: formats GitHub renders as Markdown or documents ------------------------------------
@pytest.mark.parametrize(
    "name", ["WEIGHTS.mkd", "weights.Rmd", "docs/weights.qmd", "docs/weights.tex"]
)
def test_more_document_formats(vet_repo: Vet, name: str) -> None:
    text = "The model weights are for non-commercial research use only.\n"
    assert _commercial(vet_repo, {name: text}) is not True


# -- F6: license fields found by key shape in every metadata format -------------------------
def _safetensors(meta: dict[str, str]) -> bytes:
    header = json.dumps({"__metadata__": meta}).encode()
    return struct.pack("<Q", len(header)) + header


@pytest.mark.parametrize(
    "files",
    [
        {"configs/tinynet/metafile.yml": "Collections:\n  - Name: TinyNet\n  License: CC BY-NC\n"},
        {
            "CITATION.cff": "cff-version: 1.2.0\nlicense: MIT\nreferences:\n  - type: software\n"
            "    title: TinyNet weights\n    license: CC-BY-NC-4.0\n"
        },
        {"tinynet/__init__.py": '__license__ = "CC BY-NC 4.0"\n'},
        {"DESCRIPTION": "Package: tinynet\nVersion: 0.1\nLicense: CC BY-NC-SA 4.0\n"},
        {"Cargo.toml": '[package]\nname = "tinynet"\nlicense = "CC-BY-NC-4.0"\n'},
        {"pixi.toml": '[project]\nname = "tinynet"\nlicense = "CC-BY-NC-4.0"\n'},
        {"weights/tinynet.safetensors": _safetensors({"license": "cc-by-nc-4.0"})},
        {"weights/.zenodo.json": '{"title": "TinyNet weights", "license": "cc-by-nc-4.0"}\n'},
    ],
)
def test_license_fields_in_metadata(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _commercial(vet_repo, files) is not True


@pytest.mark.parametrize(
    "files",
    [
        {"tinynet/__init__.py": '__license__ = "MIT"\n'},
        {"Cargo.toml": '[package]\nname = "tinynet"\nlicense = "MIT"\n'},
        {"weights/tinynet.safetensors": _safetensors({"format": "pt"})},
    ],
)
def test_permissive_metadata_stays_yes(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _commercial(vet_repo, files) is True


# -- F5: a listed base model fetched by a clone, a server, a container or an env file ------
LLAMA = "meta-llama/Llama-2-7b-hf"


@pytest.mark.parametrize(
    "files",
    [
        {"download.sh": f"#!/bin/sh\ngit clone https://huggingface.co/{LLAMA} ckpt\n"},
        {"serve.sh": f"#!/bin/sh\nvllm serve {LLAMA} --port 8000\n"},
        {"Dockerfile": f"FROM python:3.11\nENV BASE_MODEL={LLAMA}\nCMD python model.py\n"},
        {".env.example": f"BASE_MODEL={LLAMA}\n"},
    ],
)
def test_base_model_fetched_in_other_ways(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _commercial(vet_repo, files) is not True


def test_a_data_set_clone_is_no_model(vet_repo: Vet) -> None:
    clone = "#!/bin/sh\ngit clone https://huggingface.co/datasets/acme/images data\n"
    assert _commercial(vet_repo, {"download.sh": clone}) is True


# -- F6: the value a license field has is the one the format's loader resolves --------------
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Cargo.toml", '[package]\nlicense = """CC-BY-NC-4.0"""\n'),
        ("pixi.toml", "[project]\nlicense='CC-BY-NC-4.0'\n"),
        ("sub/pyproject-like.toml", '[project]\nlicense = { text = "CC-BY-NC-4.0" }\n'),
        (
            "configs/m/metafile.yml",
            "a: &lic CC-BY-NC-4.0\nModels:\n  - Name: x\n    License: *lic\n",
        ),
        ("configs/m/meta.yaml.in.yml", 'Collections: [{Name: x, License: "CC-BY-NC-4.0"}]\n'),
    ],
)
def test_license_fields_read_as_the_loader_reads_them(vet_repo: Vet, name: str, text: str) -> None:
    import tomllib

    import yaml

    data = tomllib.loads(text) if name.endswith(".toml") else yaml.safe_load(text)
    assert "CC-BY-NC-4.0" in json.dumps(data)  # what the loader resolves
    assert _commercial(vet_repo, {name: text}) is not True
