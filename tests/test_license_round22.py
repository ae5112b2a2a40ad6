"""Round 22 (outside attack round 21d: F5, F6, F7, F9, F11, F12b, F13, Y1, Y2, R_ownorg):
"yes is earned" by construction for documents: every document kind that can carry terms is
read by the same reader, and any document that reader cannot read (an LFS pointer, an image,
a PDF or Word file, a language or script it has no terms words for, a file over a bound) is a
gap — "unclear", never silence. Each case below once answered MIT, commercial use yes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"train.py": "import torch\n", "README.md": "# TinyNet\n\nTrain with train.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")
LFS = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 18234\n"
)


def _commercial(vet_repo: Vet, files: dict[str, str | bytes], spdx: str = "MIT") -> bool | None:
    lic = vet_repo({"LICENSE": MIT, **CODE, **files}).license
    assert lic.spdx == spdx
    return lic.commercial_use


def _readme(section: str, heading: str = "License") -> str:
    return f"# TinyNet\n\nTrain with train.py.\n\n## {heading}\n\n{section}\n"


def test_control_stays_yes(vet_repo: Vet) -> None:
    assert _commercial(vet_repo, {}) is True
    weights = "# TinyNet weights\n\nThe pretrained weights are released under the MIT license.\n"
    assert _commercial(vet_repo, {"WEIGHTS.md": weights}) is True
    consts = 'WEIGHTS_URL = "https://example.org/tinynet.pth"\nLICENSE = "MIT"\n'
    assert _commercial(vet_repo, {"pretrained.py": consts}) is True
    image = _readme("Released under the MIT license.\n\n![badge](https://img.shields.io/x.svg)")
    assert _commercial(vet_repo, {"README.md": image}) is True


# -- F5: npm's UNLICENSED grants nothing; the Unlicense is public domain ----------------------
@pytest.mark.parametrize(
    "files",
    [
        {"package.json": '{"name": "tinynet", "license": "UNLICENSED", "private": true}'},
        {"package.json": '{"name": "tinynet", "license": "unlicensed"}'},
        {"setup.py": 'from setuptools import setup\nsetup(name="t", license="UNLICENSED")\n'},
    ],
)
def test_unlicensed_grants_nothing(vet_repo: Vet, files: dict[str, str]) -> None:
    lic = vet_repo({**CODE, **files}).license
    assert lic.spdx != "LicenseRef-Public-Domain"
    assert lic.commercial_use is False


def test_unlicensed_beside_a_license_is_not_a_plain_yes(vet_repo: Vet) -> None:
    files = {"package.json": '{"name": "tinynet", "license": "UNLICENSED"}'}
    assert _commercial(vet_repo, files) is not True


def test_the_unlicense_stays_public_domain(vet_repo: Vet) -> None:
    lic = vet_repo({**CODE, "package.json": '{"name": "t", "license": "Unlicense"}'}).license
    assert lic.spdx == "Unlicense"
    assert lic.commercial_use is True


# -- F6: terms a human sees that are not text ---------------------------------------------------
@pytest.mark.parametrize(
    "section",
    [
        "![](assets/license.png)",
        'Code: MIT. Weights:\n\n<img src="assets/weights-terms.png" width="400">',
    ],
)
def test_license_section_that_is_an_image_is_a_gap(vet_repo: Vet, section: str) -> None:
    assert _commercial(vet_repo, {"README.md": _readme(section)}) is None


@pytest.mark.parametrize(
    "source",
    [
        'WEIGHTS_LICENSE = "CC-BY-NC-4.0"\nWEIGHTS_URL = "https://example.org/tinynet.pth"\n',
        'PRETRAINED_URL = "https://example.org/t.pth"\n'
        'WEIGHTS_TERMS = "The TinyNet pretrained weights are licensed CC BY-NC 4.0."\n',
        "def load_pretrained():\n"
        '    """Load the released TinyNet weights.\n\n'
        "    The released weights may be used for non-commercial research purposes only.\n"
        '    """\n',
    ],
)
def test_terms_in_code_strings_are_read(vet_repo: Vet, source: str) -> None:
    assert _commercial(vet_repo, {"pretrained.py": source}) is not True


def test_citation_message_is_read(vet_repo: Vet) -> None:
    cff = (
        'cff-version: 1.2.0\nmessage: "If you use this software, please cite it. The pretrained '
        'weights are for non-commercial research use only."\ntitle: TinyNet\nlicense: MIT\n'
    )
    assert _commercial(vet_repo, {"CITATION.cff": cff}) is None
    plain = 'cff-version: 1.2.0\nmessage: "If you use this software, please cite it."\n'
    assert _commercial(vet_repo, {"CITATION.cff": plain + "license: MIT\n"}) is True


# -- F7: a document stored as a Git LFS pointer was never read ----------------------------------
@pytest.mark.parametrize("name", ["README.md", "WEIGHTS.md", "docs/MODEL_CARD.md"])
def test_lfs_pointer_document_is_a_gap(vet_repo: Vet, name: str) -> None:
    files = {name: LFS, ".gitattributes": f"{name} filter=lfs diff=lfs merge=lfs -text\n"}
    assert _commercial(vet_repo, files) is None


# -- F9: the weights' own documents in a language forkvet has no terms words for -----------------
@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "WEIGHTS.md",
            "# TinyNet weights\n\nDe voorgetrainde gewichten zijn alleen voor "
            "niet-commercieel gebruik.\n",
        ),
        (
            "WEIGHTS.md",
            "# TinyNet weights\n\nWstępnie wytrenowane wagi są przeznaczone "
            "wyłącznie do użytku niekomercyjnego.\n",
        ),
        (
            "checkpoints/README.md",
            "# Checkpoints\n\nΤα προεκπαιδευμένα βάρη προορίζονται μόνο για μη εμπορική χρήση.\n",
        ),
        (
            "MODEL_CARD.md",
            "# Model card\n\n## License\n\nמשקולות המודל מיועדות לשימוש לא מסחרי בלבד.\n",
        ),
    ],
)
def test_weights_document_in_another_language_is_a_gap(vet_repo: Vet, name: str, text: str) -> None:
    assert _commercial(vet_repo, {name: text}) is None


# -- F11: one reader of terms for every document ---------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "The pretrained weights are licensed under the same terms as the original LLaMA weights.",
        "We release LoRA weights fine-tuned from LLaMA-7B.",
        "The pretrained weights may not be offered as a hosted service.",
        "The pretrained weights are gated: accept the agreement on the download page first.",
    ],
)
def test_weights_document_reads_what_the_readme_reads(vet_repo: Vet, sentence: str) -> None:
    readme = _readme(f"The code is released under the MIT license. {sentence}")
    assert _commercial(vet_repo, {"README.md": readme}) is not True
    weights = f"# TinyNet weights\n\nDownload `tinynet.pth` from the release page.\n\n{sentence}\n"
    assert _commercial(vet_repo, {"WEIGHTS.md": weights}) is not True


# -- F12b: a bound that is hit is a gap ----------------------------------------------------------
def test_python_file_over_the_bound_is_a_gap(vet_repo: Vet) -> None:
    big = "T = [\n" + "    (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),\n" * 70_000 + "]\n"
    tail = 'def load():\n    return AutoModel.from_pretrained("meta-llama/Llama-2-7b-hf")\n'
    assert _commercial(vet_repo, {"tables.py": big + tail}) is None


@pytest.mark.parametrize("name", ["configs/sweep.yaml", "config.json"])
def test_config_over_the_bound_is_a_gap(vet_repo: Vet, name: str) -> None:
    if name.endswith(".json"):
        text = '{"table": [' + ",".join(["123456.5"] * 300_000) + "],\n"
        text += '"model_name_or_path": "meta-llama/Llama-2-7b-hf", "license": "cc-by-nc-4.0"}\n'
    else:
        text = "sweep:\n" + "  - {lr: 0.001, wd: 0.01}\n" * 100_000
        text += "model_name_or_path: meta-llama/Llama-2-7b-hf\nlicense: cc-by-nc-4.0\n"
    assert _commercial(vet_repo, {name: text}) is None


# -- F13: the weights' own document in a format forkvet cannot read ------------------------------
@pytest.mark.parametrize(
    "name",
    ["WEIGHTS.pdf", "docs/MODEL_CARD.pdf", "checkpoints/README.pdf", "Model_Usage.docx"],
)
def test_unreadable_weights_document_is_a_gap(vet_repo: Vet, name: str) -> None:
    body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" if name.endswith(".pdf") else b"PK\x03\x04\x14\x00"
    assert _commercial(vet_repo, {name: body + bytes(range(256)) * 4}) is None


def test_unrelated_pdf_stays_yes(vet_repo: Vet) -> None:
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 4
    assert _commercial(vet_repo, {"docs/paper.pdf": pdf}) is True


# -- Y1: a card that lists commercial use as out of scope --------------------------------------
def test_card_with_commercial_use_out_of_scope_is_not_yes(vet_repo: Vet) -> None:
    card = (
        "---\nlicense: mit\n---\n# TinyNet model card\n\n## Uses\n\n### Direct Use\n\n"
        "Image classification research.\n\n### Out-of-Scope Use\n\n- Commercial use\n"
        "- Use in production systems\n"
    )
    assert _commercial(vet_repo, {"MODEL_CARD.md": card}) is not True


def test_card_with_other_out_of_scope_uses_stays_yes(vet_repo: Vet) -> None:
    card = (
        "---\nlicense: mit\n---\n# TinyNet model card\n\n### Out-of-Scope Use\n\n"
        "- Medical diagnosis\n- Surveillance\n"
    )
    assert _commercial(vet_repo, {"MODEL_CARD.md": card}) is True


# -- Y2: a model table whose header column is "Commercial use" -----------------------------------
def test_table_with_commercial_use_column_is_not_yes(vet_repo: Vet) -> None:
    readme = (
        _readme("This code is released under the MIT license.")
        + "\n## Pretrained models\n\n| Model | Top-1 | Commercial use |\n|---|---|---|\n"
        "| TinyNet-S | 71.2 | ✅ |\n| TinyNet-L | 80.3 | ❌ |\n"
    )
    assert _commercial(vet_repo, {"README.md": readme}) is not True


def test_table_with_commercial_use_all_yes_stays_yes(vet_repo: Vet) -> None:
    readme = (
        _readme("This code is released under the MIT license.")
        + "\n## Pretrained models\n\n| Model | Top-1 | Commercial use |\n|---|---|---|\n"
        "| TinyNet-S | 71.2 | ✅ |\n| TinyNet-L | 80.3 | ✅ |\n"
    )
    assert _commercial(vet_repo, {"README.md": readme}) is True


# -- R_ownorg: the repository's own explicit statement about its own Hub id -----------------------
def test_own_statement_about_own_hub_id_is_read(vet_repo: Vet) -> None:
    readme = _readme(
        "This code is released under the MIT license.\n\nThe pretrained TinyNet weights on "
        "the Hub (`example-lab/tinynet`) are released under the MIT license too."
    )
    demo = (
        "from huggingface_hub import hf_hub_download\n\n"
        'print(hf_hub_download("example-lab/tinynet", "tinynet.pth"))\n'
    )
    assert _commercial(vet_repo, {"README.md": readme, "demo.py": demo}) is True
    other = readme.replace("`example-lab/tinynet`", "`example-lab/othernet`")
    assert _commercial(vet_repo, {"README.md": other, "demo.py": demo}) is None
