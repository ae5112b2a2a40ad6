"""Round 23 (outside attack round 22d: F2, F3, F4, F6, F7, F11, F12, F14, F15, F16): "yes is
earned", inverted. Every text a human reads is read by one reader whatever section, file or key
carries it; a sentence with a word of terms that the reader cannot explain as permissive is a
gap, and a document forkvet cannot read that is named or placed like terms is a gap. Each case
below once answered MIT, commercial use yes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"train.py": "import torch\n", "README.md": "# TinyNet\n\nTrain with train.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


def _commercial(vet_repo: Vet, files: dict[str, str | bytes], spdx: str = "MIT") -> bool | None:
    lic = vet_repo({"LICENSE": MIT, **CODE, **files}).license
    assert lic.spdx == spdx
    return lic.commercial_use


def _readme(section: str, heading: str = "Pretrained models") -> str:
    return (
        f"# TinyNet\n\nTrain with train.py.\n\n## {heading}\n\n{section}\n\n"
        "## License\n\nMIT, see LICENSE.\n"
    )


def test_controls_stay_yes(vet_repo: Vet) -> None:
    """Ordinary permissive READMEs and documents keep their yes."""
    for text in (
        "Download the pretrained weights from [here](https://example.org/tiny.pth).",
        "The pretrained weights are released under the MIT license, like the code.",
        "The code and the pretrained weights may be used commercially.",
        "Commercial use is permitted under the MIT license.",
        "We thank the authors of ResNet for releasing their code under a permissive license.",
        "We compare our model with commercial systems such as Google Translate.",
        "Our model outperforms proprietary models in terms of accuracy.",
        "The pretrained weights are licensed separately; see WEIGHTS_LICENSE.",
    ):
        assert _commercial(vet_repo, {"README.md": _readme(text)}) is True, text
    faq = "## FAQ\n\n### Can I use the pretrained weights commercially?\n\nYes, under MIT.\n"
    assert _commercial(vet_repo, {"docs/FAQ.md": faq}) is True
    header = "// Copyright (c) 2024 Example Labs. Licensed under the MIT license.\n"
    assert _commercial(vet_repo, {"src/op.cuh": header + "__device__ int f();\n"}) is True
    table = "| Model | Commercial use |\n|---|---|\n| tiny | :white_check_mark: |\n"
    assert _commercial(vet_repo, {"README.md": _readme(table), "WEIGHTS_LICENSE": MIT}) is True


# -- F2: the README's other sections are read by the one reader ------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Do not sell the pretrained weights or any product built with them.",
        "If you ship the pretrained weights in a product, you owe Acme a royalty of 5% of its "
        "revenue.",
        "Offering the pretrained weights as a hosted API is forbidden.",
        "All commercial rights to the pretrained weights are reserved.",
        "The pretrained weights are provided strictly for scholarly purposes.",
        "Commercial licenses for the pretrained weights are available from Acme Inc.",
        "Startups and enterprises: please purchase a license before using the weights.",
        "The pretrained weights may only be used in non-revenue-generating projects.",
        "The pretrained weights are for internal research and development only.",
        "The pretrained weights must not be deployed in production.",
        "Using the pretrained weights in a paid app or service is not allowed.",
        "The pretrained weights may not be used to build a product that competes with Acme.",
        "The pretrained weights are licensed to Acme customers; others need a subscription.",
        "The pretrained weights may be deployed on Acme hardware and nowhere else.",
        "A modell súlyai kizárólag nem kereskedelmi célra használhatók fel.",  # Hungarian
    ],
)
def test_readme_sections_are_read_for_terms(vet_repo: Vet, sentence: str) -> None:
    assert _commercial(vet_repo, {"README.md": _readme(sentence)}) is not True


# -- F3: a question and its answer ------------------------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"README.md": _readme("### Can I use the pretrained weights commercially?\n\nNo.", "FAQ")},
        {"docs/FAQ.md": "## Can I use the pretrained weights commercially?\n\nNo.\n"},
        {"docs/FAQ.md": "**Q: Can the pretrained weights be used commercially?**\nA: No.\n"},
        {"README.md": _readme("**Can I use the weights in a product?**\n\nNo. Email us.", "FAQ")},
    ],
)
def test_question_and_answer_is_read(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _commercial(vet_repo, files) is not True


# -- F4: terms under other keys and kinds ------------------------------------------------------
SENTENCE = "The pretrained weights are for non-commercial research use only."


@pytest.mark.parametrize(
    "files",
    [
        {"CITATION.bib": f"@misc{{tiny, title={{TinyNet}}, note={{{SENTENCE}}}}}\n"},
        {"configs/model.yaml": f"model:\n  name: tiny\n  terms_of_use: {SENTENCE}\n"},
        {"models.json": f'{{"tiny": {{"url": "https://e.org/t.pth", "usage": "{SENTENCE}"}}}}'},
        {"MODEL_ZOO.csv": "model,url,license\ntiny,https://e.org/t.pth,CC-BY-NC-4.0\n"},
        {"models.tsv": "model\turl\tlicense\ntiny\thttps://e.org/t.pth\tCC-BY-NC-4.0\n"},
        {"Dockerfile": 'FROM python:3.11\nLABEL org.opencontainers.image.licenses="CC-BY-NC-4.0"'},
        {
            "CITATION.cff": "cff-version: 1.2.0\ntitle: TinyNet\n"
            "license-url: https://creativecommons.org/licenses/by-nc/4.0/\n"
        },
    ],
)
def test_terms_under_other_keys_are_read(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _commercial(vet_repo, files) is not True


# -- F6: the terms are elsewhere; a card's gate -----------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"README.md": _readme("By downloading the weights you agree to our terms.")},
        {
            "README.md": _readme(
                "Downloading the checkpoint constitutes acceptance of the TinyNet Model Agreement."
            )
        },
        {
            "README.md": _readme(
                "Download the weights from [here](https://e.org/t.pth). Please read the "
                "[terms of use](https://e.org/tos) before downloading."
            )
        },
        {
            "hf/README.md": "---\nlicense: mit\nextra_gated_heading: Access TinyNet\n"
            "extra_gated_button_content: Acknowledge license\n---\n# TinyNet\n"
        },
        {"hf/README.md": "---\nlicense: mit\ngated: true\n---\n# TinyNet model card\n"},
    ],
)
def test_terms_elsewhere_are_a_gap(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _commercial(vet_repo, files) is not True


# -- F7: a terms document stored in DVC --------------------------------------------------------
def test_dvc_terms_document_is_a_gap(vet_repo: Vet) -> None:
    dvc = "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1200\n  path: TERMS.md\n"
    assert _commercial(vet_repo, {"weights/TERMS.md.dvc": dvc}) is not True


# -- F11: a License heading spelled otherwise --------------------------------------------------
@pytest.mark.parametrize(
    "heading",
    ["## 📜 License", "## 7. License", "<h2>License</h2>", '<h3 align="center">License</h3>'],
)
def test_license_heading_spellings(vet_repo: Vet, heading: str) -> None:
    body = "Code: MIT. Weights: [our license](https://example.org/l)."
    readme = f"# TinyNet\n\nTrain with train.py.\n\n{heading}\n\n{body}\n"
    assert _commercial(vet_repo, {"README.md": readme}) is not True


# -- F12: a license or terms file forkvet cannot read ------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["LICENSE.pdf", "MODEL_LICENSE.pdf", "EULA.pdf", "LICENSE-WEIGHTS.png", "weights/LICENSE.jpg"],
)
def test_unreadable_license_file_is_a_gap(vet_repo: Vet, name: str) -> None:
    data = PDF if name.endswith(".pdf") else PNG
    assert _commercial(vet_repo, {name: data}) is not True


# -- F14: refusal marks as GitHub shows them; HTML tables --------------------------------------
@pytest.mark.parametrize("mark", [":x:", "✖️", "☒", "N", ":heavy_multiplication_x:"])
def test_refusal_marks(vet_repo: Vet, mark: str) -> None:
    column = f"| Model | Download | Commercial use |\n|---|---|---|\n| tiny | [a](u) | {mark} |"
    assert _commercial(vet_repo, {"README.md": _readme(column)}) is not True
    row = f"| Research use | ✅ |\n|---|---|\n| Commercial use | {mark} |\n"
    assert _commercial(vet_repo, {"README.md": _readme(row)}) is not True


@pytest.mark.parametrize("cell", ["❌", "No"])
def test_html_table(vet_repo: Vet, cell: str) -> None:
    table = (
        "<table><tr><th>Model</th><th>Commercial use</th></tr>"
        f"<tr><td>tiny</td><td>{cell}</td></tr></table>"
    )
    assert _commercial(vet_repo, {"README.md": _readme(table)}) is not True


# -- F15: a sentence added to the LICENSE file that takes the weights out ----------------------
@pytest.mark.parametrize(
    "license_file",
    [
        MIT + "\nNOTE: the model weights are not covered by the license above.\n",
        "NOTE: the model weights are not covered by the license below.\n\n" + MIT,
        MIT + "\nThe model weights may not be sold.\n",
    ],
)
def test_license_file_note_on_weights(vet_repo: Vet, license_file: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": license_file}).license
    assert lic.commercial_use is not True


def test_readme_weights_not_covered(vet_repo: Vet) -> None:
    text = _readme("The model weights are not covered by the MIT license.")
    assert _commercial(vet_repo, {"README.md": text}) is not True


# -- F16: source headers in every source kind --------------------------------------------------
@pytest.mark.parametrize(
    ("name", "comment"),
    [
        ("ops/upfirdn2d.cuh", "//"),
        ("ops/filtered_lrelu.hpp", "//"),
        ("eval/evaluate.m", "%"),
        ("src/op.rs", "//"),
        ("src/Op.java", "//"),
        ("src/op.pyx", "#"),
    ],
)
def test_source_headers_in_every_kind(vet_repo: Vet, name: str, comment: str) -> None:
    header = f"{comment} Copyright (c) 2022 Acme. Licensed for non-commercial research use only.\n"
    assert _commercial(vet_repo, {name: header + "x = 1\n"}) is not True
