"""Outside attack round 19c: commercial use is "yes" only when every statement forkvet finds
about the code and the weights is a known grant. Each case below once answered MIT, commercial
use yes; a statement found but not judged (a document a bound left unread, a license name
forkvet does not know, a language it cannot read) is "unclear"."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"model.py": "import torch\n", "README.md": "# Cool model\n\nTrain with model.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")
NC = "The pretrained weights are for non-commercial use only.\n"
FILL = "This paragraph describes the architecture of the model in detail. " * 12 + "\n\n"


def _answer(vet_repo: Vet, files: dict[str, str | None]) -> tuple[str | None, bool | None]:
    tree = {"LICENSE": MIT, **CODE, **files}
    lic = vet_repo({k: v for k, v in tree.items() if v is not None}).license
    return lic.spdx, lic.commercial_use


def _big(kib: int) -> str:
    return FILL * (kib * 1024 // len(FILL))


def _notebook(markdown: str, output: str = "") -> str:
    out = [{"output_type": "stream", "name": "stdout", "text": [output]}] if output else []
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": [markdown]},
        {"cell_type": "code", "metadata": {}, "source": ["x"], "outputs": out},
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


# -- L20: a bound that skips a document fails closed ------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"README.md": "# M\n\n" + _big(2100) + "## License\n\nCode: MIT. " + NC},
        {"WEIGHTS.md": _big(600) + "\n" + NC},
        {"WEIGHTS.md": NC + "\n" + _big(600)},
        {"demo.ipynb": _notebook(NC, _big(2100))},
        {
            **{f"docs/page{i:03d}.md": "# Page\n\nThe model works on images.\n" for i in range(90)},
            "docs/zzz_notes.md": NC,
        },
    ],
    ids=["readme_over_read", "weights_md_tail", "weights_md_head", "big_notebook", "docs_81"],
)
def test_documents_past_a_bound_are_never_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) == ("MIT", None)


@pytest.mark.parametrize(
    "files",
    [
        {"demo.ipynb": _notebook("# Demo", _big(2100))},
        {f"docs/page{i:03d}.md": "# Page\n\nThe model works on images.\n" for i in range(90)},
        {"WEIGHTS.md": "Download the weights below.\n\n" + _big(600)},
    ],
    ids=["big_notebook", "many_docs", "big_weights_md"],
)
def test_large_documents_without_terms_stay_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) == ("MIT", True)


# -- L1, L15, L16, L17: a license name forkvet does not know is no grant ---------------------
def _readme_license(clause: str) -> dict[str, str | None]:
    return {"README.md": f"# Cool model\n\nTrain with model.py.\n\n## License\n\n{clause}\n"}


def _zoo(cell: str, header: str = "License") -> dict[str, str | None]:
    table = f"| Model | Top-1 | {header} |\n|---|---|---|\n| ViT-B | 81.2 | {cell} |\n"
    return {"README.md": f"# Cool model\n\n## Model zoo\n\n{table}"}


@pytest.mark.parametrize(
    "files",
    [
        _readme_license("The model weights are released under the Coqui Public Model License."),
        _readme_license("Code: MIT. The model weights are released under the S-Lab License 1.0."),
        _readme_license("Code: MIT. The weights are released under the Business Source License."),
        _readme_license("The weights are distributed under the Elastic License 2.0."),
        _readme_license("Weights: available under the NSCL."),
        _readme_license("License: Functional Source License, Version 1.1, MIT Future License"),
        _zoo("NC"),
        _zoo("Llama 2"),
        _zoo("Academic"),
        _zoo("OpenRAIL-NC"),
        _zoo("research", "Terms"),
        {"config.json": json.dumps({"model_type": "llama", "license": "llama2"})},
        {"config.json": json.dumps({"model_type": "llama", "license": "other"})},
        {"models.json": json.dumps({"models": [{"name": "b", "license": "llama2"}]})},
    ],
)
def test_unknown_license_names_are_never_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) == ("MIT", None)


@pytest.mark.parametrize(
    "files",
    [
        _readme_license("This project is released under the MIT license by Example Labs."),
        _readme_license("The weights are released under the Apache License, Version 2.0."),
        _readme_license("Released under the same license as the code, see LICENSE.md."),
        _readme_license("The weights are available under an open source license."),
        _zoo("Apache-2.0"),
        _zoo("[MIT](LICENSE)"),
        _zoo("-"),
        {"config.json": json.dumps({"model_type": "llama", "license": "apache-2.0"})},
    ],
)
def test_known_grants_stay_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) == ("MIT", True)


@pytest.mark.parametrize(
    "text",
    [
        "Functional Source License, Version 1.1, MIT Future License\n",
        "Business Source License 1.1\n\nChange License: MIT\n",
    ],
)
def test_a_license_title_forkvet_does_not_know_is_never_yes(vet_repo: Vet, text: str) -> None:
    tree = {"LICENSE": text, **CODE}
    assert vet_repo(tree).license.commercial_use is not True


# -- L4, L5, L6, L7: places where terms are stated --------------------------------------------
def _nb_cells(cell: dict[str, object]) -> str:
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


SPDX = "SPDX-License-Identifier: "
_NB_OUTPUT = {
    "cell_type": "code",
    "metadata": {},
    "source": ["print(terms)"],
    "outputs": [{"output_type": "stream", "name": "stdout", "text": [NC]}],
}
_NB_HTML = {
    "cell_type": "code",
    "metadata": {},
    "source": ["show()"],
    "outputs": [{"output_type": "display_data", "data": {"text/html": [f"<p>{NC}</p>"]}}],
}


@pytest.mark.parametrize(
    "files",
    [
        {"weights/model.pth": "x", "weights/model.pth.license": SPDX + "CC-BY-NC-4.0\n"},
        {"model.py": "# " + SPDX + "MIT WITH LicenseRef-Commons-Clause\nimport torch\n"},
        {
            "COMMONS_CLAUSE.md": '"Commons Clause" License Condition v1.0\n\nThe Software is '
            "provided to you by the Licensor under the License, as defined below, "
            "subject to the following "
            "condition.\n\nWithout limiting other conditions in the License, the grant of rights "
            "under the License will not include, and the License does not grant to you, the right "
            "to Sell the Software.\n"
        },
        {"models/pretrained/v1/LICENSE": "Attribution-NonCommercial 4.0 International\n\nThe "
         "weights in this folder are licensed CC BY-NC 4.0.\n"},
        {"demo.ipynb": _nb_cells(_NB_OUTPUT)},
        {"demo.ipynb": _nb_cells(_NB_HTML)},
        {"weights_demo.ipynb": _nb_cells({"cell_type": "raw", "metadata": {}, "source": [NC]})},
        {"demo.ipynb": _nb_cells({"cell_type": "code", "metadata": {}, "outputs": [],
                                  "source": ["# NOTE: " + NC, "model = load()\n"]})},
    ],
    ids=["sidecar", "spdx_with_ref", "commons_clause_file", "license_deep3", "nb_output",
         "nb_html", "nb_raw", "nb_comment"],
)  # fmt: skip
def test_terms_in_other_places_are_never_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files)[1] is not True


@pytest.mark.parametrize(
    "files",
    [
        {"weights/model.pth": "x", "weights/model.pth.license": "SPDX-License-Identifier: MIT\n"},
        {"model.py": "# SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note\nx = 1\n"},
        {"models/pretrained/v1/LICENSE": MIT},
        {"demo.ipynb": _nb_cells({**_NB_OUTPUT, "outputs": [{"output_type": "stream",
                                  "name": "stdout", "text": ["loss 0.1\n"]}]})},
    ],
)  # fmt: skip
def test_grants_in_those_places_stay_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files)[1] is True


# -- L3, L18: "research purposes only" in other languages -------------------------------------
FOREIGN = [
    "コードは MIT ライセンスです。モデルの重みは研究目的でのみ使用できます。",
    "코드는 MIT 라이선스입니다. 모델 가중치는 연구 목적으로만 사용할 수 있습니다.",
    "代码采用 MIT 许可。模型权重仅供研究使用。",
    "Code : MIT. Les poids ne peuvent être utilisés qu'à des fins de recherche.",
    "Код: MIT. Веса модели разрешено использовать только в исследовательских целях.",
    "Código: MIT. Los pesos son solo para investigación.",
    "Code: MIT. Die Gewichte sind nur für Forschungszwecke.",
    "Codice: MIT. I pesi sono solo per la ricerca.",
    "Código: MIT. Os pesos são apenas para pesquisa.",
]


@pytest.mark.parametrize("sentence", FOREIGN)
def test_foreign_research_only_in_the_readme_is_never_yes(vet_repo: Vet, sentence: str) -> None:
    assert _answer(vet_repo, _readme_license(sentence)) == ("MIT", None)


@pytest.mark.parametrize(
    "files",
    [
        {"WEIGHTS.md": "事前学習済みの重みは研究目的でのみ使用できます。\n"},
        {"checkpoints/README.md": "# ckpt\n\n研究目的でのみ使用できます。\n"},
        {"README.md": "# モデル\n\n## ライセンス\n\n学習済みモデルは研究目的でのみ使えます。\n"},
        {"model.py": "# 本文件及模型权重仅供学术研究使用\nimport torch\n"},
    ],
)
def test_foreign_research_only_elsewhere_is_never_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files)[1] is not True


@pytest.mark.parametrize(
    "sentence",
    ["このモデルは研究のために開発されました。", "Este modelo fue entrenado con datos públicos."],
)
def test_foreign_prose_without_terms_stays_yes(vet_repo: Vet, sentence: str) -> None:
    assert _answer(vet_repo, {"README.md": f"# Model\n\n{sentence}\n"}) == ("MIT", True)


# -- L8: a badge reads as the words it shows --------------------------------------------------
def test_a_badge_that_says_non_commercial_is_never_yes(vet_repo: Vet) -> None:
    badge = "![Weights](https://img.shields.io/badge/Weights-Non--Commercial-red)"
    assert _answer(vet_repo, {"README.md": f"# Model\n\n{badge}\n\nA model.\n"}) == ("MIT", None)


def test_a_plain_badge_stays_yes(vet_repo: Vet) -> None:
    badge = "![License](https://img.shields.io/badge/License-MIT-blue) ![py](https://img.shields.io/badge/python-3.10-green)"
    assert _answer(vet_repo, {"README.md": f"# Model\n\n{badge}\n"}) == ("MIT", True)


def test_a_title_naming_one_license_is_the_texts_to_judge(vet_repo: Vet) -> None:
    tree = {"LICENSE": "Modified MIT License\n\n" + MIT.split("\n", 1)[1], **CODE}
    assert vet_repo(tree).license.commercial_use is True  # openai/gpt-2, unsplit label yes
