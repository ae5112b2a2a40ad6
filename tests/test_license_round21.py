"""Round 21 (outside attack round 20c, F1, F3, F7, F8, F15, F16): commercial "yes" is earned
only when every document that may state terms was decoded, is in a language forkvet reads,
was read within every bound and was classified. Each case below once answered MIT,
commercial use yes; every one is "unclear" (or "no") now, and the controls stay "yes"."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"train.py": "import torch\n", "README.md": "# TinyNet\n\nTrain with train.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")


def _license(vet_repo: Vet, files: dict[str, str | bytes]) -> tuple[bool | None, list[str]]:
    lic = vet_repo({"LICENSE": MIT, **CODE, **files}).license
    assert lic.spdx == "MIT"
    return lic.commercial_use, [m.name for m in lic.all]


def _readme(section: str, heading: str = "License") -> str:
    return f"# TinyNet\n\nTrain with train.py.\n\n## {heading}\n\n{section}\n"


def test_control_stays_yes(vet_repo: Vet) -> None:
    assert _license(vet_repo, {})[0] is True
    readme = (
        _readme("本项目采用 MIT 许可证。") + "\n## Citation\n\nSee [the paper](https://x.org).\n"
    )
    assert _license(vet_repo, {"README.md": readme})[0] is True
    link = _readme("Released under the [MIT License](https://opensource.org/licenses/MIT).")
    assert _license(vet_repo, {"README.md": link})[0] is True


# -- F1: a document in a legacy encoding is read as GitHub shows it, or is a gap -----------
@pytest.mark.parametrize(
    ("codec", "sentence"),
    [
        ("gbk", "本项目代码及模型权重仅供学术研究使用，禁止用于商业用途。"),
        ("shift_jis", "モデルの重みは研究目的のみに使用できます。商用利用は禁止です。"),
        ("cp1251", "Веса модели только для исследований. Коммерческое использование запрещено."),
    ],
)
def test_legacy_encoded_readme_is_read(vet_repo: Vet, codec: str, sentence: str) -> None:
    readme = _readme(sentence).encode(codec)
    assert _license(vet_repo, {"README.md": readme})[0] is not True


def test_utf32_terms_file_is_read(vet_repo: Vet) -> None:
    terms = "The model weights are for non-commercial research use only.\n".encode("utf-32")
    assert _license(vet_repo, {"TERMS.md": terms})[0] is not True


def test_undecodable_terms_document_is_a_gap(vet_repo: Vet) -> None:
    commercial, names = _license(vet_repo, {"TERMS.md": bytes(range(128, 256)) * 50})
    assert commercial is None and any("not decoded" in n for n in names)


def test_detection_is_of_documents_only() -> None:
    from forkvet.snapshot import detect_decode, is_document

    assert is_document("docs/TERMS") and not is_document("run.sh")
    found = detect_decode(_readme("Коммерческое использование запрещено.").encode("cp1251"))
    assert found is not None and "Коммерческое" in found[0]


# -- F3: a License section in a language forkvet has no terms words for is a gap ------------
@pytest.mark.parametrize(
    ("heading", "section"),
    [
        ("Άδεια", "Τα βάρη του μοντέλου προορίζονται μόνο για μη εμπορική έρευνα."),
        ("רישיון", "משקלי המודל מיועדים למחקר בלבד ואסור בשימוש מסחרי."),
        ("สัญญาอนุญาต", "น้ำหนักของโมเดลใช้เพื่อการวิจัยเท่านั้น ห้ามใช้เชิงพาณิชย์"),
        ("License", "A modell súlyai kizárólag nem kereskedelmi kutatási célra használhatók."),
        ("License", "Теглата на модела са само за некомерсиални изследвания."),
        ("License", "ماڈل کے وزن صرف تحقیق کے لیے ہیں، تجارتی استعمال ممنوع ہے۔"),
    ],
)
def test_license_section_in_unread_language(vet_repo: Vet, heading: str, section: str) -> None:
    commercial, names = _license(vet_repo, {"README.md": _readme(section, heading)})
    assert commercial is None
    assert any("cannot judge" in n for n in names)


# -- F7: a bound hit on the license path is a gap ------------------------------------------
def test_base_model_past_the_search_bound(vet_repo: Vet) -> None:
    files: dict[str, str | bytes] = {f"m{i:03}.py": "x = 1\n" for i in range(450)}
    files["zz/a/b/c/model.py"] = "m = AutoModel.from_pretrained('meta-llama/Llama-2-7b-hf')\n"
    assert _license(vet_repo, files)[0] is not True


def test_header_past_the_first_files(vet_repo: Vet, monkeypatch: pytest.MonkeyPatch) -> None:
    from forkvet.vet import license

    monkeypatch.setattr(license, "_HEADER_SCAN", 20)
    files: dict[str, str | bytes] = {f"m{i:03}.py": "# Copyright 2024 Example\n" for i in range(30)}
    assert _license(vet_repo, files)[0] is None


def test_license_file_past_the_count(vet_repo: Vet) -> None:
    files: dict[str, str | bytes] = {f"pkg{i:02}/LICENSE": MIT for i in range(30)}
    files["zz/a/weights/LICENSE"] = (
        "Creative Commons Attribution-NonCommercial 4.0 International\n\n"
        "The model weights are for non-commercial research use only.\n"
    )
    assert _license(vet_repo, files)[0] is not True


def test_license_files_past_the_count_read_cheaply(vet_repo: Vet) -> None:
    files: dict[str, str | bytes] = {f"pkg{i:02}/LICENSE": MIT for i in range(30)}
    assert _license(vet_repo, files)[0] is True  # the files past the count are plain MIT


def test_terms_files_past_the_count(vet_repo: Vet) -> None:
    files: dict[str, str | bytes] = {f"docs/TERMS-{i:02}.md": "Be kind.\n" for i in range(30)}
    files["docs/zz/TERMS.md"] = "Be kind.\n"
    commercial, names = _license(vet_repo, files)
    assert commercial is None and any("terms files unread" in n for n in names)


# -- F8: the weights' license given only as a link ------------------------------------------
@pytest.mark.parametrize(
    "section",
    [
        "The code is released under the MIT license. The pretrained weights are released under "
        "[this license](https://example.com/weights-license).",
        "Code: MIT. Weights: [our license](https://example.com/weights-license).",
    ],
)
def test_weights_license_as_a_link(vet_repo: Vet, section: str) -> None:
    assert _license(vet_repo, {"README.md": _readme(section)})[0] is None


# -- F15: an id or a title forkvet does not know ---------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"train.py": "# SPDX-License-Identifier: MIT-NC\nimport torch\n"},
        {"README.md": _readme("MIT-NC")},
        {"LICENSE": MIT.replace("MIT License", "MIT License (modified for academic use)", 1)},
    ],
)
def test_unknown_id_or_modified_title(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _license(vet_repo, files)[0] is None


# -- F16: a second license or terms file forkvet cannot classify -----------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"LICENSE-WEIGHTS": "TinyNet Weights License\n\nYou may use the weights to evaluate them."},
        {"weights/LICENSE": "Copyright 2024 Example Corp. The weights in this folder are ours."},
        {"TERMS.md": "The weights may only be used by students and staff of Example University."},
    ],
)
def test_unclassified_license_file_is_a_gap(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    commercial, names = _license(vet_repo, files)
    assert commercial is None
    assert any("cannot classify" in n for n in names)
