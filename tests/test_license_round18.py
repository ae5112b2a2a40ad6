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
