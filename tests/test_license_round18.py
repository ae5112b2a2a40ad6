"""Outside attack round 18 (18c): wrong commercial "yes" answers from terms spelt the way a
reader still understands them, or stated where forkvet did not read. Each case below once
answered MIT, commercial use yes; the controls keep the answers real repositories need."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from forkvet.report import Report
from forkvet.vet.textnorm import fold
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"model.py": "import torch\n", "README.md": "# Cool model\n\nTrain with model.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")


def _answer(vet_repo: Vet, files: dict[str, str | None]) -> tuple[str | None, bool | None]:
    tree = {"LICENSE": MIT, **CODE, **files}
    lic = vet_repo({k: v for k, v in tree.items() if v is not None}).license
    return lic.spdx, lic.commercial_use


def _readme_license(clause: str) -> dict[str, str | None]:
    return {"README.md": f"# Cool model\n\nTrain with model.py.\n\n## License\n\n{clause}\n"}


def test_control_plain_mit_is_yes(vet_repo: Vet) -> None:
    assert _answer(vet_repo, {}) == ("MIT", True)


# -- F1 / F6: the key words as a reader reads them --------------------------------------------
@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Not for commerical use.", "Not for commercial use."),  # two letters swapped
        ("non comercial", "non comercial"),  # a foreign word stays itself (foreign rule)
        ("Not for comercial use.", "Not for comercial use."),
        ("NON-COMMERICAL", "NON-commercial"),
        ("Not for commerciaI use.", "Not for commercial use."),  # capital I for l
        ("Not for c0mmerc1al use.", "Not for commercial use."),  # digits for letters
        ("not for commer-\ncial use", "not for commercial use"),  # hyphenated line wrap
        ("for reserach only", "for research only"),
        ("licensee and licensed", "licensee and licensed"),  # real words stay
        ("GPT2 resnet50 x86 h100 4.0", "GPT2 resnet50 x86 h100 4.0"),
    ],
)
def test_fold_reads_key_words_as_a_reader_does(written: str, read: str) -> None:
    assert fold(written) == read


@pytest.mark.parametrize(
    "clause",
    [
        "MIT. Not for commerical use.",
        "MIT. The weights are for non commerical purposes.",
        "MIT. No commerical use of the weights.",
        "MIT. Not for commerciaI use.",
        "MIT. Not for c0mmercial use.",
        "MIT. The weights are not for commer-\ncial use.",
        "MIT. For non-commerical reserach only.",
    ],
)
def test_misspelt_or_look_alike_restrictions_are_never_yes(vet_repo: Vet, clause: str) -> None:
    spdx, commercial = _answer(vet_repo, _readme_license(clause))
    assert spdx == "MIT" and commercial is not True


@pytest.mark.parametrize(
    "clause",
    [
        "MIT. Commerical use is permitted.",
        "MIT. The licensee may use it in commercial products.",
    ],
)
def test_misspelt_grants_stay_yes(vet_repo: Vet, clause: str) -> None:
    assert _answer(vet_repo, _readme_license(clause)) == ("MIT", True)


# -- F2 / F4: negated grants, terse answers, tables, the NC abbreviation ----------------------
@pytest.mark.parametrize(
    "files",
    [
        {"LICENSE.weights": "These model weights are not licensed for commercial use.\n"},
        {"LICENCE-weights.txt": "The checkpoints are not intended for commercial products.\n"},
        _readme_license("| | Code | Weights |\n|---|---|---|\n| Commercial use | ✅ | ❌ |"),
        _readme_license("MIT (code); weights are NC."),
        _readme_license("MIT. Commercial use: ✗"),
        _readme_license("MIT. Commercial: no"),
        _readme_license("MIT. Commercial use? Nope."),
        _readme_license("MIT. Commercial use - not allowed."),
        {"config.json": json.dumps({"model_type": "llama", "license": "cc-by-nc-4.0"})},
        {"weights/adapter_config.json": json.dumps({"license": "CC BY-NC-SA 4.0"})},
    ],
)
def test_restrictions_in_any_form_are_never_yes(
    vet_repo: Vet, files: dict[str, str | None]
) -> None:
    spdx, commercial = _answer(vet_repo, files)
    assert spdx == "MIT" and commercial is not True


@pytest.mark.parametrize(
    "files",
    [
        _readme_license("| | Code | Weights |\n|---|---|---|\n| Commercial use | ✅ | ✅ |"),
        _readme_license("MIT. Commercial use: yes."),
        {"config.json": json.dumps({"model_type": "bert", "license": "apache-2.0"})},
        {"data/config.json": json.dumps({"license": "cc-by-nc-4.0", "images": 5})},
    ],
)
def test_grants_in_the_same_forms_stay_yes(vet_repo: Vet, files: dict[str, str | None]) -> None:
    assert _answer(vet_repo, files) == ("MIT", True)


# -- F3: every document that states the weights' terms ----------------------------------------
_WEIGHTS_SENTENCE = (
    "# Pretrained weights\n\nThe pretrained weights are for non-commercial research use only.\n"
)


@pytest.mark.parametrize(
    "path",
    [
        "WEIGHTS.md",
        "DOWNLOAD.md",
        "docs/weights.md",
        "TRAINING.md",
        "assets/README.md",
        "ckpt/README.md",
        "docs/guide/inference.rst",
    ],
)
def test_a_weights_sentence_in_any_document_is_never_yes(vet_repo: Vet, path: str) -> None:
    spdx, commercial = _answer(vet_repo, {path: _WEIGHTS_SENTENCE})
    assert spdx == "MIT" and commercial is not True


@pytest.mark.parametrize(
    "text",
    [
        "Not for commercial use.\n",
        "Attribution-NonCommercial 4.0 International\n",
        "For research purposes only.\n",
    ],
)
def test_a_weights_folder_readme_is_the_weights_statement(vet_repo: Vet, text: str) -> None:
    spdx, commercial = _answer(vet_repo, {"weights/README.md": text, "weights/.keep": ""})
    assert spdx == "MIT" and commercial is not True


@pytest.mark.parametrize(
    "files",
    [
        # A data set's terms are reported apart; a sentence of another subject restricts nothing.
        {"docs/data.md": "The images are for non-commercial research use only.\n"},
        # hszhao/PSPNet's Caffe example page (labelled "yes"): the data's terms.
        {
            "examples/flickr_style/readme.md": "Training a category-recognition model for "
            "research/non-commercial use may constitute fair use of this data, but the result "
            "should not be used for commercial purposes.\n"
        },
        {"TRAINING.md": "Training is for research purposes only a few minutes on one GPU.\n"},
        {"WEIGHTS.md": "The weights may be used for any purpose, commercial or non-commercial.\n"},
        {"docs/usage.md": "You may use the pretrained models in commercial products.\n"},
    ],
)
def test_documents_without_restrictions_stay_yes(
    vet_repo: Vet, files: dict[str, str | None]
) -> None:
    assert _answer(vet_repo, files) == ("MIT", True)


# -- F9: REUSE's DEP5 form and notebooks' Markdown cells ---------------------------------------
def _notebook(markdown: str) -> str:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Demo\n", markdown]},
        {"cell_type": "code", "metadata": {}, "source": ["import torch"], "outputs": []},
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


DEP5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"


@pytest.mark.parametrize(
    "files",
    [
        {".reuse/dep5": DEP5 + "Files: weights/*\nLicense: CC-BY-NC-4.0\n"},
        {".reuse/dep5": DEP5 + "Files: *.pt\nCopyright: Acme\nLicense: LicenseRef-Acme-Eval\n"},
        {
            "REUSE.toml": 'version = 1\n[[annotations]]\npath = "weights/**"\n'
            'SPDX-License-Identifier = "CC-BY-NC-4.0"\n'
        },
        {"demo.ipynb": _notebook("The pretrained weights are not for commercial use.")},
        {"notebooks/run.ipynb": _notebook("**Note:** the model is for research purposes only.")},
    ],
)
def test_reuse_and_notebook_terms_are_never_yes(
    vet_repo: Vet, files: dict[str, str | None]
) -> None:
    spdx, commercial = _answer(vet_repo, files)
    assert spdx == "MIT" and commercial is not True


@pytest.mark.parametrize(
    "files",
    [
        {".reuse/dep5": DEP5 + "Files: weights/*\nLicense: Apache-2.0\n"},
        {"demo.ipynb": _notebook("The pretrained weights are released under the MIT license.")},
        {"broken.ipynb": "{not json"},
    ],
)
def test_permissive_reuse_and_notebooks_stay_yes(
    vet_repo: Vet, files: dict[str, str | None]
) -> None:
    assert _answer(vet_repo, files) == ("MIT", True)


@pytest.mark.parametrize(
    "files",
    [
        # A model card's intent is not terms (CompVis/stable-diffusion, vision_transformer).
        {
            "Stable_Diffusion_v1_Model_Card.md": "## Direct Use\nThe model is intended for "
            "research purposes only.\n"
        },
        {
            "model_cards/lit.md": "Any deployment of this model, both for commercial applications "
            "and non-commercial applications, is currently out of scope.\n"
        },
        # A data mixture's weight is no model's weights (stanford-crfm/levanter).
        {
            "docs/Training-On-Your-Data.md": "You can include a weight of 0.0 to exclude a source "
            "from training, in which case it will only be used for evaluation.\n"
        },
    ],
)
def test_intent_and_other_weights_stay_yes(vet_repo: Vet, files: dict[str, str | None]) -> None:
    assert _answer(vet_repo, files) == ("MIT", True)


def test_intent_with_a_license_word_restricts(vet_repo: Vet) -> None:
    text = "The model is intended and licensed for research use only.\n"
    spdx, commercial = _answer(vet_repo, {"projects/blip/README.md": text})
    assert spdx == "MIT" and commercial is not True
