"""Outside attack round 16 (16c): wrong commercial "yes" answers from terms kept where
forkvet did not read them. Each case below once answered MIT, commercial use yes; the
controls keep the answers real repositories need."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"model.py": "import torch\n", "README.md": "# Cool model\n\nTrain with model.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")
NC = (
    "The software and the pretrained weights may be used for non-commercial research "
    "purposes only. Commercial use is prohibited.\n"
)
LLAMA2 = "meta-llama/Llama-2-7b-hf"


def _answer(vet_repo: Vet, files: dict[str, str | None]) -> tuple[str | None, bool | None]:
    tree = {"LICENSE": MIT, **CODE, **files}
    lic = vet_repo({k: v for k, v in tree.items() if v is not None}).license
    return lic.spdx, lic.commercial_use


def test_control_plain_mit_is_yes(vet_repo: Vet) -> None:
    assert _answer(vet_repo, {}) == ("MIT", True)


# -- L1: a license file naming a model license beside its template ---------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The model weights are governed by the Llama 2 Community License Agreement.",
        "The released checkpoints are licensed under the Meta Llama 3 Community License.",
        "Model weights: Tongyi Qianwen LICENSE AGREEMENT.",
        "The pretrained models are licensed CC BY-NC 4.0.",
    ],
)
def test_a_model_license_named_beside_the_mit_text_is_never_yes(
    vet_repo: Vet, sentence: str
) -> None:
    spdx, commercial = _answer(vet_repo, {"LICENSE": f"{MIT}\n{sentence}\n"})
    assert spdx == "MIT" and commercial is not True


@pytest.mark.parametrize(
    "sentence",
    [
        "The pretrained weights are released under the same license.",
        "Portions of this code are from PyTorch, under the BSD 3-Clause license.",
        "For more details see https://opensource.org/licenses/MIT.",
    ],
)
def test_a_permissive_remark_beside_the_mit_text_stays_yes(vet_repo: Vet, sentence: str) -> None:
    assert _answer(vet_repo, {"LICENSE": f"{MIT}\n{sentence}\n"}) == ("MIT", True)


# -- L2: the weights' terms kept where the repository does not hold them ----------------------
@pytest.mark.parametrize(
    "files",
    [
        {
            "LICENSE": MIT + "\nThe pretrained weights are released under a separate license: "
            "https://cool.example/weights-license\n"
        },
        {
            "LICENSE": MIT
            + "\nThe pretrained weights are licensed separately; see WEIGHTS_LICENSE.\n"
        },
        {
            "LICENSE": MIT + "\nUse of the pretrained models is subject to the Acceptable Use "
            "Policy at https://cool.example/aup.\n"
        },
        {
            "LICENSE": MIT + "\nAlternatively, the pretrained models are available under the "
            "Cool Model License (https://cool.example/model-license).\n"
        },
        {
            "README.md": "# Cool model\n\n## License\n\nThe code is MIT. The pretrained weights "
            "are released under a separate license: https://cool.example/weights-license\n"
        },
    ],
)
def test_weights_under_terms_the_repository_does_not_hold_are_unclear(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    assert _answer(vet_repo, files)[1] is None


def test_weights_under_a_separate_license_file_it_holds_read_that_file(vet_repo: Vet) -> None:
    files = {
        "LICENSE": MIT + "\nThe pretrained weights are licensed separately; see WEIGHTS_LICENSE.\n",
        "WEIGHTS_LICENSE": MIT,
    }
    assert _answer(vet_repo, files) == ("MIT", True)


# -- L6: the README GitHub shows ------------------------------------------------------------
README_NC = (
    "# Cool model\n\n## License\n\nThe code is released for non-commercial research use "
    "only. Commercial use requires a separate license.\n"
)


@pytest.mark.parametrize(
    "files",
    [
        {".github/README.md": README_NC},
        {"docs/README.md": README_NC, "README.md": None},
        {"README.md": README_NC, ".github/README.md": "# Cool model\n\nSee the docs.\n"},
    ],
)
def test_every_readme_github_may_show_is_read(vet_repo: Vet, files: dict[str, str | None]) -> None:
    assert _answer(vet_repo, files)[1] is None


# -- L7 / L8: files named for terms, and the license file the metadata declares ---------------
@pytest.mark.parametrize(
    "name",
    [
        "COPYRIGHT",
        "COPYRIGHT.md",
        "LICENSING.md",
        "LEGAL",
        "LEGAL.md",
        "RESTRICTIONS.md",
        "CONDITIONS.md",
        "COMMERCIAL.md",
        "docs/LEGAL.md",
        ".github/TERMS.md",
        "Acceptable-Use-Policy.html",
    ],
)
def test_a_file_named_for_terms_is_read(vet_repo: Vet, name: str) -> None:
    assert _answer(vet_repo, {name: "Terms\n\n" + NC}) == ("MIT", None)


def test_a_file_named_for_terms_but_holding_none_stays_yes(vet_repo: Vet) -> None:
    files = {"COPYRIGHT": "Copyright (c) 2024 Example Labs and contributors.\n"}
    assert _answer(vet_repo, files) == ("MIT", True)


def test_code_named_like_terms_is_no_terms_file(vet_repo: Vet) -> None:
    # A data file named like terms (a translation table of UI strings) is not the terms.
    files = {"terms.json": '{"banner": "' + NC.strip() + '"}\n'}
    assert _answer(vet_repo, files) == ("MIT", True)


@pytest.mark.parametrize(
    "meta",
    [
        {
            "pyproject.toml": '[project]\nname = "cool"\nversion = "1.0"\n'
            'license = {file = "docs/USE.txt"}\n'
        },
        {
            "pyproject.toml": '[project]\nname = "cool"\nversion = "1.0"\nlicense = "MIT"\n'
            'license-files = ["LICENSE", "docs/USE.txt"]\n'
        },
        {"setup.cfg": "[metadata]\nname = cool\nlicense_files = LICENSE, docs/USE.txt\n"},
        {"setup.cfg": "[metadata]\nname = cool\nlicense_files = LICEN[CS]E, docs/*.txt\n"},
        {
            "setup.py": "from setuptools import setup\n"
            "setup(name='cool', license=open('docs/USE.txt').read())\n"
        },
    ],
)
def test_the_license_file_the_metadata_declares_is_read(
    vet_repo: Vet, meta: dict[str, str]
) -> None:
    assert _answer(vet_repo, {**meta, "docs/USE.txt": NC})[1] is None


# -- L3: license fields of other metadata files ----------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {".zenodo.json": '{"title": "Cool", "license": "cc-by-nc-4.0"}\n'},
        {".zenodo.json": '{"title": "Cool", "license": {"id": "CC-BY-NC-4.0"}}\n'},
        {
            "codemeta.json": '{"name": "Cool", "license": "https://spdx.org/licenses/CC-BY-NC-4.0"}\n'
        },
        {"recipe/meta.yaml": "package:\n  name: cool\nabout:\n  license: CC-BY-NC-4.0\n"},
        {"package.json": '{"name": "cool", "version": "1.0.0", "license": "CC-BY-NC-4.0"}\n'},
    ],
)
def test_metadata_license_fields_are_read(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) == ("MIT", None)


def test_a_permissive_metadata_license_field_stays_yes(vet_repo: Vet) -> None:
    files = {
        "package.json": '{"name": "cool", "license": "MIT"}\n',
        ".zenodo.json": '{"license": "mit"}',
    }
    assert _answer(vet_repo, files) == ("MIT", True)


# -- L9: a license file too large to read whole ----------------------------------------------
def test_a_license_file_read_in_part_is_never_yes(vet_repo: Vet) -> None:
    pad = "".join(f"Result row {i}: accuracy {i % 100}.\n" for i in range(9000))
    text = f"{MIT}\n{pad}\nThe weights may be used for non-commercial research only.\n"
    assert len(text) > 200_000
    report = vet_repo({"LICENSE": text, **CODE})
    assert report.license.commercial_use is None
    assert any(f.title == "License files not read" for f in report.findings)


# -- L5: a restricted base model the repository's own code runs --------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {
            "model.py": "from transformers import AutoModel\n"
            f'm = AutoModel.from_pretrained("{LLAMA2}")\n'
        },
        {"model.py": f'BASE = "{LLAMA2}"\n'},
        {
            "model.py": "import argparse\np = argparse.ArgumentParser()\n"
            f'p.add_argument("--model", default="{LLAMA2}")\n'
        },
        {"configs/train.yaml": f"model_name_or_path: {LLAMA2}\nlr: 2e-5\n"},
        {"scripts/finetune.sh": f"python model.py --model_name_or_path {LLAMA2} --output_dir o\n"},
        {"README.md": f"# Cool\n\n```\npython train.py --base {LLAMA2}\n```\n"},
        {"model.py": 'path = snapshot_download(repo_id="Qwen/Qwen-7B")\n'},
        {"model.py": 'm = AutoModel.from_pretrained("huggyllama/llama-7b")\n'},
    ],
)
def test_a_restricted_base_the_code_runs_is_never_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files)[1] is not True


@pytest.mark.parametrize(
    "files",
    [
        # A tokenizer file, a local folder called llama. (A table of supported models naming a
        # known id is a model the code can load since round 22: test_license_models_round22.)
        {"configs/a.yml": '"vocab-file": "codellama/tokenizer.model"\n'},
        {"configs/a.yml": "model_path: checkpoints/llama\n"},
        {"model.py": 'm = AutoModel.from_pretrained("Qwen/Qwen2-7B")\n'},
    ],
)
def test_a_model_named_but_not_run_stays_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files)[1] is True


# -- L4: a weights card deep in a folder of weights --------------------------------------------
def test_a_weights_card_three_folders_down_is_read(vet_repo: Vet) -> None:
    card = "# Weights\n\nThese weights are licensed CC BY-NC 4.0: no commercial use.\n"
    assert _answer(vet_repo, {"checkpoints/base/large/README.md": card})[1] is None


# -- a model license granting commercial use, with a restriction appended ----------------------
def test_a_restriction_appended_to_an_openrail_text_is_never_yes(vet_repo: Vet) -> None:
    text = license_text("creativeml-openrail-m.txt")
    assert _answer(vet_repo, {"LICENSE": text})[1] is True
    extra = "\nThe weights may be used for non-commercial research only.\n"
    assert _answer(vet_repo, {"LICENSE": text + extra})[1] is not True
