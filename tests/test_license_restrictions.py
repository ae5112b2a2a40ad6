"""Restrictive terms beside a permissive license: never a commercial "yes" (outside attack
round 9, F7). Each spelling below once gave MIT, commercial use yes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report
from forkvet.vet.license import classify_text
from forkvet.vet.licenseterms import RESTRICTIVE_CLAUSES, clauses
from forkvet.vet.textnorm import fold
from tests.conftest import LICENSES, license_text

Vet = Callable[..., Report]
CODE = {"m.py": "import torch\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2023 Evil Corp")


def _restrictive(text: str) -> list[str]:
    return [c for c in clauses(text) if c in RESTRICTIVE_CLAUSES]


@pytest.mark.parametrize(
    "sentence",
    [
        "Not for commercial use.",
        "You may not use the Software for any commercial purpose.",
        "You may not sell the Software or use it in a commercial product.",
        "Restriction: the Software is licensed for academic research only.",
        "Commercial use of the Software is strictly prohibited.",
        # Invisible and look-alike spellings: a soft hyphen, Cyrillic o (U+043E).
        "The Software may be used for non-\u00adcommercial research.",
        "The Software is licensed for n\u043en-c\u043emmercial use.",
        "Commercial use of the Software is pr\u043ehibited.",
        "Not for c\u200bommercial use.",
        "Commercial use not permitted.",
        "The Software shall not be used commercially.",
        "You are not allowed to use it for commercial purposes.",
        "Do not use the Software in commercial products.",
        "Released exclusively for academic research.",
    ],
)
def test_a_restriction_appended_to_mit_makes_commercial_use_unclear(
    vet_repo: Vet, sentence: str
) -> None:
    lic = vet_repo({**CODE, "LICENSE": f"{MIT}\n\n{sentence}\n"}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


@pytest.mark.parametrize(
    "edit",
    [
        ("THE SOFTWARE.", "THE SOFTWARE. Not for commercial use."),
        ("THE SOFTWARE.", "THE SOFTWARE.\nNot for commercial use."),
        (
            "Permission is hereby granted",
            "For non-commercial use only. Permission is hereby granted",
        ),
        ("to use, copy,", "to use (for research only), copy,"),
    ],
)
def test_a_restriction_written_into_the_mit_paragraphs_makes_commercial_use_unclear(
    vet_repo: Vet, edit: tuple[str, str]
) -> None:
    head, found, tail = MIT.rpartition(edit[0])
    assert found
    text = head + edit[1] + tail
    lic = vet_repo({**CODE, "LICENSE": text}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


def test_the_real_license_texts_add_no_terms_to_themselves() -> None:
    for path in sorted(LICENSES.glob("*.txt")):
        kinds = [kind for _, _, kind in classify_text(path.read_text("utf-8"), "LICENSE", "file")]
        assert kinds == ["grant"], path.name


@pytest.mark.parametrize(
    "sentence",
    [
        "Commercial use is permitted.",
        "You may use the Software for commercial purposes.",
        "The Software may be used in commercial products.",
        "You can sell products built with the Software.",
    ],
)
def test_a_grant_or_remark_appended_to_mit_stays_yes(vet_repo: Vet, sentence: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": f"{MIT}\n\n{sentence}\n"}).license
    assert lic.spdx == "MIT" and lic.commercial_use is True


@pytest.mark.parametrize(
    "sentence",
    [
        "You are not restricted from using it in commercial products.",
        "Use it for any purpose, whether or not for commercial gain.",
        "We cannot guarantee support in commercial settings.",
        "Commercial use is not restricted.",
        "Commercial use is permitted and modification is not allowed.",
        "Do not hesitate to use it in commercial products.",
        "Commercial use does not require a separate license.",
    ],
)
def test_a_sentence_on_commercial_use_with_a_negation_is_unclear_never_no(
    vet_repo: Vet, sentence: str
) -> None:
    # Beside a short permissive text, a sentence about who may use it or for what is read
    # by construction: only a plain permission keeps "yes"; one with a negation may limit
    # the grant (round 11a H-3), so it is unclear, never "no".
    lic = vet_repo({**CODE, "LICENSE": f"{MIT}\n\n{sentence}\n"}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


@pytest.mark.parametrize(
    "name",
    [
        "MIT.txt",
        "Apache-2.0.txt",
        "BSD-2-Clause.txt",
        "BSD-3-Clause.txt",
        "ISC.txt",
        "Zlib.txt",
        "BSL-1.0.txt",
        "0BSD.txt",
        "Unlicense.txt",
        "CC-BY-4.0.txt",
        "CC-BY-SA-4.0.txt",
        "MPL-2.0.txt",
        "EPL-2.0.txt",
    ],
)
def test_licenses_that_allow_commercial_use_have_no_restrictive_clause(name: str) -> None:
    assert _restrictive(license_text(name)) == []


def test_every_license_text_reads_as_before_folding() -> None:
    # The real texts are ASCII or plain Unicode punctuation: folding changes no clause.
    for path in sorted(LICENSES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert clauses(text) == clauses(text.encode("ascii", "ignore").decode()), path.name


def test_fold_reads_text_as_a_person_sees_it() -> None:
    assert fold("non-\u00adcommercial") == "non-commercial"  # soft hyphen
    assert fold("n\u043en-c\u043emmercial") == "non-commercial"  # Cyrillic o
    assert fold("\uff4e\uff4f\uff4e\u2011commercial") == "non-commercial"  # fullwidth, U+2011
    assert fold("\u0391\u0392\u0421 zero\u200bwidth caf\u00e9") == "ABC zerowidth cafe"
    assert fold("\u4e2d\u6587 license") == "\u4e2d\u6587 license"  # other scripts stay


def test_a_notice_file_restricting_the_weights(vet_repo: Vet) -> None:
    notice = "This product includes model weights licensed for non-commercial research use only.\n"
    report = vet_repo({**CODE, "LICENSE": MIT, "NOTICE": notice})
    assert report.license.spdx == "MIT" and report.license.commercial_use is None
    assert any(f.title == "Conflicting license statements" for f in report.findings)


def test_a_notice_file_of_attributions_restricts_nothing(vet_repo: Vet) -> None:
    notice = (
        "This product includes software developed at Example Labs (MIT License).\n\n"
        + license_text("GPL-2.0-only.txt")  # the GPL's own "noncommercially"
    )
    lic = vet_repo({**CODE, "LICENSE": MIT, "NOTICE": notice}).license
    assert lic.spdx == "MIT" and lic.commercial_use is True


@pytest.mark.parametrize(
    "readme",
    [
        "# X\n\n## Model weights\n\nThe weights may only be used for academic research.\n",
        "# X\n\n## Terms of use\n\nThe dataset and models are released for research "
        "purposes, not for commercial exploitation.\n",
        "# X\n\nThis model is for non-profit use.\n",
    ],
)
def test_readme_terms_beside_mit_make_commercial_use_unclear(vet_repo: Vet, readme: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": readme}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


@pytest.mark.parametrize(
    "readme",
    [
        "# X\n\n## License\n\nMIT. Commercial use is permitted.\n",
        "# X\n\nWe are a non-profit research lab. Our research only covers English.\n",
        "# X\n\nThe code can be used for commercial and non-commercial purposes.\n",
    ],
)
def test_readme_grants_and_remarks_beside_mit_stay_yes(vet_repo: Vet, readme: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": readme}).license
    assert lic.spdx == "MIT" and lic.commercial_use is True


@pytest.mark.parametrize(
    "front",
    ["license:\n- mit\n- cc-by-nc-4.0\n", "license: [mit, 'cc-by-nc-4.0']\n"],
)
def test_a_model_card_license_list_applies_every_entry(vet_repo: Vet, front: str) -> None:
    lic = vet_repo({**CODE, "README.md": f"---\n{front}---\n# Model\n"}).license
    assert lic.commercial_use is False and "CC-BY-NC-4.0" in (lic.spdx or "")


def test_a_model_card_license_other_is_a_custom_license(vet_repo: Vet) -> None:
    readme = (
        "---\nlicense: other\nlicense_name: evil-research-only\nlicense_link: LICENSE\n---\n"
        "# Model\n\n## License\n\nMIT\n"
    )
    lic = vet_repo({**CODE, "README.md": readme}).license
    assert lic.commercial_use is None
    assert any("license: other" in m.name for m in lic.all)


def test_a_model_card_license_other_naming_a_known_license(vet_repo: Vet) -> None:
    readme = "---\nlicense: other\nlicense_name: llama3\n---\n# Model\n"
    lic = vet_repo({**CODE, "README.md": readme}).license
    assert lic.spdx == "LicenseRef-Llama-3-Community"


def test_a_model_card_with_look_alike_letters_restricts_the_weights(vet_repo: Vet) -> None:
    card = "# Card\n\n## Intended use\n\nFor research purposes \u043enly.\n"  # Cyrillic o
    lic = vet_repo({**CODE, "LICENSE": MIT, "MODEL_CARD.md": card}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


def test_a_model_table_cell_with_look_alike_letters_restricts_the_weights(vet_repo: Vet) -> None:
    readme = "# X\n\n| Model | License |\n|---|---|\n| big | CC BY-N\u0421 4.0 |\n"  # Cyrillic C
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": readme}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


def test_a_citation_cff_license_list_applies_every_entry(vet_repo: Vet) -> None:
    cff = "cff-version: 1.2.0\ntitle: X\nlicense:\n  - MIT\n  - CC-BY-NC-4.0\n"
    lic = vet_repo({**CODE, "LICENSE": MIT, "CITATION.cff": cff}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None
    assert "CC-BY-NC-4.0" in {m.spdx for m in lic.all}


def test_a_citation_cff_single_license_still_reads(vet_repo: Vet) -> None:
    cff = 'cff-version: 1.2.0\ntitle: X\nlicense: "Apache-2.0"\n'
    lic = vet_repo({**CODE, "CITATION.cff": cff}).license
    assert lic.spdx == "Apache-2.0" and lic.commercial_use is True


# -- outside attack round 10 (F7): text read as GitHub renders it --------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Not for comm&#101;rcial use.",
        "Non<!-- x -->-commercial use only.",
        "**Non**-**commercial** use only.",
        "Non-*commercial* use only.",
        "Non\\-commercial use only.",
        "Non-com<span>mercial</span> use only.",
        "Non-comm&shy;ercial use only.",
        "Non&#45;commercial use only.",
    ],
)
def test_markup_in_a_license_md_reads_as_rendered(vet_repo: Vet, line: str) -> None:
    lic = vet_repo({**CODE, "LICENSE.md": f"{MIT}\n\n{line}\n"}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


@pytest.mark.parametrize(
    "readme",
    [
        "# x\n\nLicense: MIT, non-comm&shy;ercial use only.\n",
        "# x\n\nLicense: MIT, non&#45;commercial use only.\n",
        "# x\n\n<p>License: MIT, <b>non-</b><b>commercial</b> use only.</p>\n",
        "# x\n\n## License\n\nMIT. Commercial use without our written permission is prohibited.\n",
        "# x\n\n## License\n\nThis project is MIT licensed. The model may not be used in "
        "products sold to customers.\n",
        "# x\n\n## Usage\n\nYou may not use this work to make money.\n",
    ],
)
def test_readme_markup_and_prohibitions_beside_mit(vet_repo: Vet, readme: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": readme}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


def test_fold_reads_markup_as_rendered() -> None:
    assert fold("non-comm&shy;ercial") == "non-commercial"
    assert fold("<p><b>non-</b><b>commercial</b></p>") == "non-commercial"
    assert fold("**Non**-*commercial* Non\\-commercial") == "Non-commercial Non-commercial"
    assert fold("Non<!-- x -->-commercial") == "Non-commercial"
    assert fold("\u1d04ommercial \u0274\u1d0f\u0274") == "commercial non"  # small capitals
    assert fold("a < b and c > d, x & y") == "a < b and c > d, x & y"  # not markup


# -- outside attack round 10 (F5): prohibitions as a class ----------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Commercial use without our written permission is prohibited.",
        "Licensed under CC BY-NC 4.0.",
        "This license does not grant any rights for commercial use.",
        "You may not use this software for any for-profit purpose.",
        "You are not permitted to use the Software in any business.",
        "Any use by a company or in a product is prohibited.",
        "Use for monetary gain is prohibited.",
        "Commercial usage requires a separate written license from the authors.",
        "\u1d04ommercial use is prohibited.",
        "You may not use this work to make money.",
        "The model may not be used in products sold to customers.",
    ],
)
def test_more_prohibitions_appended_to_mit_make_commercial_use_unclear(
    vet_repo: Vet, sentence: str
) -> None:
    lic = vet_repo({**CODE, "LICENSE": f"{MIT}\n\n{sentence}\n"}).license
    assert lic.spdx == "MIT" and lic.commercial_use is None


@pytest.mark.parametrize(
    "sentence",
    [
        "Commercial use without attribution is permitted.",
        "You may use the Software in any business.",
        "Use by a company is permitted.",
        "Use for monetary gain is allowed.",
        "You may use it to make money.",
        "You may sell products built with it to customers.",
        "**Commercial use** is *permitted*.",
        "This license grants rights for commercial use.",
    ],
)
def test_more_grants_appended_to_mit_stay_yes(vet_repo: Vet, sentence: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": f"{MIT}\n\n{sentence}\n"}).license
    assert lic.spdx == "MIT" and lic.commercial_use is True


# ---- round 11: terms forkvet cannot read are never a plain "yes" (by construction) --------


@pytest.mark.parametrize(
    "added",
    [
        # Another language: no English template holds these words.
        "附加条款：本软件仅供学术研究使用，禁止用于任何商业用途。",
        "本ソフトウェアの商用利用は禁止されています。",
        "Die Software darf nur für nicht-kommerzielle Zwecke verwendet werden.",
        "Toute utilisation commerciale est interdite.",
        # Look-alike letters outside the confusables table are another script.
        "for n\u2c9fn-c\u2c9fmmercial purposes only",
        "for non-\u03f2ommercial purposes only",
        "for N O N - C O M M E R C I A L purposes only",
        # The Commons Clause, and plain English restrictions.
        '"Commons Clause" License Condition v1.0. The License does not grant to you, the '
        "right to Sell the Software.",
        "This license does not grant the right to use the Software for any purpose other "
        "than scientific research.",
        "The Software is free for non-profit organizations only; companies must obtain a license.",
        "Use of the Software in any product or service that generates revenue requires a "
        "separate paid license from the authors.",
        # Whatever the phrasing: a sentence beside the template about who may use it or for
        # what is terms of the authors' own.
        "Commercial use: not allowed.",
        "Use is restricted to non-profit academic research.",
        "Companies may not use this Software.",
        "Only students and university staff may use the Software.",
        "You may not use the Software in connection with any business.",
        "Selling the Software or services based on it is not permitted.",
        "Commercial use is permitted only with a royalty of 5% of revenue payable to Acme.",
        "Licensed for research use.",
        # Round 12: any sentence in another language, whatever its words; more topics.
        "Kizárólag nem kereskedelmi célra használható.",
        "Prohibido su uso con fines de lucro.",
        "Usage strictement réservé à la recherche académique.",
        "Uso permitido somente para fins acadêmicos.",
        "Use is limited to internal, non-production purposes.",
        "You may not provide the Software to third parties as a hosted or managed service.",
        "Licensed to ACME Corp employees only.",
    ],
)
def test_terms_appended_to_mit_in_any_language_or_spelling_are_unclear(
    vet_repo: Vet, added: str
) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT + "\n" + added + "\n"}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


def test_a_holder_named_in_another_script_adds_no_terms(vet_repo: Vet) -> None:
    text = MIT.replace("Evil Corp", "张三 (Zhang San)")
    assert vet_repo({**CODE, "LICENSE": text}).license.commercial_use is True


@pytest.mark.parametrize(
    "files",
    [
        {"weights/README.md": "---\nlicense: cc-by-nc-4.0\n---\n# weights\n"},
        {"setup.py": "setup(name='x', classifiers=['License :: Free for non-commercial use'])\n"},
        {"TERMS_OF_USE.md": "The models may be used for non-commercial research only.\n"},
        {"USE_POLICY.md": "You may not use the model or its outputs for any commercial purpose.\n"},
        {"README.md": "# x\n\n## License\n\nMIT. 本项目仅供学术研究使用，禁止商用。\n"},
        {"README.md": "# x\n\n## Lizenz\n\nMIT. Gewichte nur für nicht-kommerzielle Forschung.\n"},
    ],
)
def test_terms_in_cards_metadata_terms_files_and_readmes_beside_mit_are_unclear(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, **files}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


def test_a_nested_model_card_under_a_permissive_license_keeps_yes(vet_repo: Vet) -> None:
    card = {"weights/README.md": "---\nlicense: mit\n---\n# weights\n"}
    assert vet_repo({**CODE, "LICENSE": MIT, **card}).license.commercial_use is True


@pytest.mark.parametrize(
    ("grant", "edited"),
    [
        ("to any person obtaining", "to any non-profit academic institution obtaining"),
        ("to deal in the Software without restriction", "to deal in the Software for research"),
        (", sublicense, and/or sell copies", ", and sublicense copies, but not to sell copies"),
        ("merge, publish, distribute, sublicense, and/or sell copies", "merge, publish copies"),
    ],
)
def test_a_grant_edited_inside_is_never_yes_whatever_the_words(
    vet_repo: Vet, grant: str, edited: str
) -> None:
    # A diff against the template's grant sentence, not a list of phrasings (round 11a H-6).
    flat = " ".join(MIT.split())
    assert grant in flat
    lic = vet_repo({**CODE, "LICENSE": flat.replace(grant, edited)}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


def test_conditions_relaxed_after_the_grant_and_a_preamble_keep_yes(vet_repo: Vet) -> None:
    # "need not be included with content created by the Software", and a note before the
    # grant, narrow nothing the grant gives.
    flat = " ".join(MIT.split())
    text = flat.replace(
        "Permission is hereby", "We only ask that you credit the authors. Permission is hereby"
    ).replace(
        "portions of the Software.",
        "portions of the Software. This notice need not be included with generated content.",
    )
    assert vet_repo({**CODE, "LICENSE": text}).license.commercial_use is True


@pytest.mark.parametrize(
    "files",
    [
        {"MODEL_CARD.md": "---\nlicense: cc-by-nc-4.0\n---\n# Model\n"},
        {"setup.py": "setup(name='x', classifiers=['License :: Other/Proprietary License'])\n"},
        {"README.md": "---\nlicense: mit\nextra_gated_prompt: Agree to no commercial use.\n---\n"},
    ],
)
def test_round_12_cards_classifiers_and_gates_beside_mit_are_unclear(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, **files}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


def test_a_license_file_forkvet_cannot_read_is_never_a_plain_yes(vet_repo: Vet) -> None:
    # Metadata says MIT; the LICENSE itself is binary: terms forkvet cannot read.
    meta = {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\nlicense = {text = "MIT"}\n'}
    lic = vet_repo({**CODE, **meta, "LICENSE": b"\x00\x01binary terms\x00"}).license
    assert lic.commercial_use is None


def test_a_utf16_license_is_read_as_text(vet_repo: Vet) -> None:
    text = "Model weights: non-commercial research use only.\n".encode("utf-16")
    lic = vet_repo({**CODE, "LICENSE": MIT, "LICENSE-MODEL": text}).license
    assert lic.commercial_use is not True


def test_a_zlib_grant_edited_after_its_disclaimer_is_unclear(vet_repo: Vet) -> None:
    # zlib grants after its disclaimer: the grant sentence is found by its own words.
    text = license_text("Zlib.txt")
    flat = " ".join(text.split())
    grant = "for any purpose, including commercial applications,"
    assert grant in flat
    edited = flat.replace(grant, "for academic purposes, excluding commercial applications,")
    assert vet_repo({**CODE, "LICENSE": edited}).license.commercial_use is None
    assert vet_repo({**CODE, "LICENSE": flat}, name="plain").license.commercial_use is True


@pytest.mark.parametrize(
    "files",
    [
        {
            "README.md": "# P\n\nMade available to universities. Industry users should contact us "
            "before using it.\n"
        },
        {"README.md": "# P\n\nFor commercial licensing, please contact licensing@example.com.\n"},
        {"docs/TERMS_OF_USE.md": "The models may not be used for commercial purposes.\n"},
        {"LICENSE_WEIGHTS.pdf": b"%PDF-1.4\n\x00\x01 binary terms"},
        # The abbreviation, and a release for a purpose, without "only" (round 12, left).
        {"README.md": "# P\n\nLicensed for NC use.\n"},
        {"README.md": "# P\n\nThe pretrained weights are released for research purposes.\n"},
        {"README.md": "# P\n\nThis code is made available for academic use.\n"},
    ],
)
def test_round_12_readme_terms_and_unreadable_files_beside_mit_are_unclear(
    vet_repo: Vet, files: dict[str, str | bytes]
) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, **files}).license
    assert lic.commercial_use is None


def test_terms_written_on_the_copyright_line_in_another_script_are_unclear(vet_repo: Vet) -> None:
    text = MIT.replace("Evil Corp", "Evil Corp 仅限学术研究使用")
    assert vet_repo({**CODE, "LICENSE": text}).license.commercial_use is None
    named = MIT.replace("Evil Corp", "商汤科技 (SenseTime)")  # a holder's name stays a name
    assert vet_repo({**CODE, "LICENSE": named}, name="named").license.commercial_use is True


@pytest.mark.parametrize(
    "files",
    [
        {"weights/README.md": "---\nlicense: acme-model-license-v2\n---\n# w\n"},
        {"setup.py": "setup(name='x', classifiers=['License :: Freeware'])\n"},
        {"setup.py": "setup(name='x', classifiers=['License :: Free To Use But Restricted'])\n"},
        {"AGREEMENT.md": "You may not use the model for any commercial purpose.\n"},
        {"DISCLAIMER.md": "The weights may not be used for commercial purposes.\n"},
    ],
)
def test_round_12_unknown_card_ids_classifiers_and_agreement_files_are_unclear(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    assert vet_repo({**CODE, "LICENSE": MIT, **files}).license.commercial_use is None


def test_words_the_template_never_uses_written_into_the_grant_are_unclear(vet_repo: Vet) -> None:
    flat = " ".join(MIT.split())
    text = flat.replace(
        "to any person obtaining", "to any person listed in AUTHORIZED_USERS.txt obtaining"
    )
    assert vet_repo({**CODE, "LICENSE": text}).license.commercial_use is None


def test_a_license_text_edited_to_forbid_commercial_use_is_not_categorised_permissive(
    vet_repo: Vet,
) -> None:
    # Round 12: a BSD grant edited to "non-commercial research purposes only" kept the
    # category "permissive", which a policy allowing permissive licenses let through.
    bsd = license_text("BSD-3-Clause.txt").replace("<year> <owner>", "2019 Some Lab")
    grant = "are permitted provided that"
    assert grant in bsd
    edited = bsd.replace(
        grant, "are permitted for non-commercial research purposes only, provided that"
    )
    lic = vet_repo({**CODE, "LICENSE": edited}).license
    assert (lic.spdx, lic.commercial_use, lic.category) == ("BSD-3-Clause", None, "non-commercial")
    # A restriction in another file (a README) leaves the license file's own category alone.
    readme = vet_repo({**CODE, "LICENSE": MIT, "README.md": "Not for commercial use.\n"}).license
    assert (readme.commercial_use, readme.category) == (None, "permissive")


@pytest.mark.parametrize(
    "readme",
    [
        "We provide the code for reproducing the research results.",
        "Code for our research paper, released under the MIT license.",
        "Our NCCL backend is used for multi-GPU training.",
        "The nc use of the flag is described below.",
    ],
)
def test_research_words_that_name_no_purpose_keep_yes(vet_repo: Vet, readme: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": f"# P\n\n{readme}\n"}).license
    assert lic.commercial_use is True


# ---- round 13: text that differs from a matched template is read like appended text -------

JSON_LIKE = MIT.replace(
    "The above copyright notice", "The Software shall be used for {}.\n\nThe above copyright notice"
)


@pytest.mark.parametrize(
    "use",
    [
        "academic research, not in products",
        "Good, not Evil, and not for profit",
        "internal evaluation only",
        "Good, not Evil, and only by universities",
        "Good, not Evil, and never in a commercial product",
    ],
)
def test_a_json_license_look_alike_with_another_use_line_is_unclear(
    vet_repo: Vet, use: str
) -> None:
    # The JSON License is MIT plus "shall be used for Good, not Evil": its line is no wildcard.
    lic = vet_repo({**CODE, "LICENSE": JSON_LIKE.format(use)}).license
    assert lic.commercial_use is None


def test_the_json_license_itself_keeps_its_answer(vet_repo: Vet) -> None:
    lic = vet_repo({**CODE, "LICENSE": JSON_LIKE.format("Good, not Evil")}).license
    assert (lic.spdx, lic.commercial_use) == ("JSON", True)


@pytest.mark.parametrize(
    "added",
    [
        "Companies are excluded from this grant.",
        "Additional term: use by or for any for-profit entity is excluded from this grant.",
        "This grant excludes commercial purposes.",
        "You may not charge money for the Software or anything built with it.",
        "Use in a product requires written consent from Acme.",
        "Only for use in the classroom.",
        # Neighbours: who or what the grant covers, consent for a kind of use, charging.
        "Government agencies are excluded from this license.",
        "The rights granted here apply solely to teaching.",
        "Use in a product needs prior approval from Acme.",
        "No fee may be charged for copies of the Software.",
        "Use is limited to the classroom.",
        "Selling copies requires a license from Acme.",
    ],
)
def test_a_sentence_limiting_who_or_what_the_grant_covers_is_unclear(
    vet_repo: Vet, added: str
) -> None:
    lic = vet_repo({**CODE, "LICENSE": f"{MIT}\n{added}\n"}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


@pytest.mark.parametrize(
    "holder",
    [
        "Acme Research, all commercial rights reserved",
        "Acme Research. Commercial rights reserved",
        "Acme Research; all rights reserved except for academic use",
    ],
)
def test_rights_reserved_for_a_kind_of_use_on_the_copyright_line_is_unclear(
    vet_repo: Vet, holder: str
) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT.replace("Evil Corp", holder)}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


@pytest.mark.parametrize(
    "holder",
    [
        "Acme Research. All rights reserved.",
        "International Business Machines Corp.",
        "Academic Industrial Research Lab, University of Somewhere",
    ],
)
def test_a_holder_and_all_rights_reserved_keep_yes(vet_repo: Vet, holder: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT.replace("Evil Corp", holder)}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", True)


@pytest.mark.parametrize(
    "added",
    [
        "Commercial use is permitted.",
        "You may use it in any product.",
        "This license applies to all files in this repository.",
        "Contributions are accepted under the same terms.",
    ],
)
def test_plain_permissions_and_remarks_beside_mit_keep_yes(vet_repo: Vet, added: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": f"{MIT}\n{added}\n"}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", True)


def _pyproject(text: str) -> dict[str, str]:
    toml = f'[project]\nname = "x"\nversion = "1"\nlicense = {{text = "{text}"}}\n'
    return {"pyproject.toml": toml}


@pytest.mark.parametrize(
    "files",
    [
        _pyproject("MIT; no use in commercial products"),
        {**_pyproject("MIT; no use in commercial products"), "LICENSE": MIT},
        {
            "setup.py": "setup(name='x', license='Academic Free for non-profit; commercial "
            "licensing available from Acme only')\n"
        },
        _pyproject("MIT, research only"),
        _pyproject("Apache-2.0 (companies excluded)"),
        {"setup.py": "setup(name='x', license='BSD, but not for military use')\n"},
    ],
)
def test_a_metadata_license_string_with_more_than_a_name_is_read_for_terms(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    assert vet_repo({**CODE, **files}).license.commercial_use is None


@pytest.mark.parametrize(
    ("files", "spdx"),
    [
        (_pyproject("MIT"), "MIT"),
        (_pyproject("MIT License"), "MIT"),
        (_pyproject("Apache License 2.0"), "Apache-2.0"),
        ({"setup.py": "setup(name='x', license='BSD 3-Clause License')\n"}, "BSD-3-Clause"),
        (_pyproject("MIT; see LICENSE"), "MIT"),
    ],
)
def test_a_metadata_license_name_alone_keeps_yes(
    vet_repo: Vet, files: dict[str, str], spdx: str
) -> None:
    lic = vet_repo({**CODE, **files}).license
    assert (lic.spdx, lic.commercial_use) == (spdx, True)


@pytest.mark.parametrize(
    "section",
    [
        "MIT. Note: deployment of this model in any production system or "
        "revenue-generating service is not allowed.",
        "MIT. Companies are excluded from this grant.",
        "MIT, except that use in a product requires written consent from Acme.",
    ],
)
def test_a_readme_license_section_limiting_use_is_unclear(vet_repo: Vet, section: str) -> None:
    readme = f"# P\n\n## License\n\n{section}\n"
    lic = vet_repo({**CODE, "README.md": readme}, name="alone").license
    assert lic.commercial_use is not True
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": readme}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


@pytest.mark.parametrize(
    "section",
    [
        "MIT. Commercial use is permitted.",
        "This project is released under the MIT license.",
        "MIT. See [LICENSE](LICENSE) for details.",
        # README prose describes: a limiting word is needed, link definitions are no text.
        "Released under the BSD 2-clause license allowing both academic and commercial use. "
        "I would appreciate a citation in academic works and a link in commercial works.",
        "Released under the MIT license.\n\n[hybrid_paper]: https://arxiv.org/abs/2111.03600\n"
        "[waveunet]: https://github.com/f90/Wave-U-Net\n[musdb]: https://sigsep.github.io/x\n",
        "Released under the MIT license. The previous license, MODEL_LICENSE, no longer applies.",
    ],
)
def test_a_readme_license_section_granting_use_keeps_yes(vet_repo: Vet, section: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": f"# P\n\n## License\n\n{section}\n"})
    assert lic.license.commercial_use is True


APACHE = license_text("Apache-2.0.txt")


@pytest.mark.parametrize(
    ("grant", "edited"),
    [
        (
            "irrevocable copyright license to reproduce",
            "irrevocable copyright license, solely for academic teaching and study, to reproduce",
        ),
        (
            '"License" shall mean the terms and conditions for use,',
            '"License" shall mean the terms and conditions for use by universities,',
        ),
        (
            "irrevocable copyright license to reproduce",
            "irrevocable copyright license for non-commercial purposes to reproduce",
        ),
        (
            "royalty-free, irrevocable (except as stated in this section) patent license",
            "royalty-free, irrevocable (except as stated in this section) patent license for "
            "hobbyists",
        ),
    ],
)
def test_words_inserted_into_the_apache_grant_or_definitions_are_unclear(
    vet_repo: Vet, grant: str, edited: str
) -> None:
    flat = " ".join(APACHE.split())
    assert grant in flat
    lic = vet_repo({**CODE, "LICENSE": flat.replace(grant, edited)}).license
    assert (lic.spdx, lic.commercial_use) == ("Apache-2.0", None)


@pytest.mark.parametrize(
    "added",
    [
        "Companies are excluded from this grant.",
        "Only for use in the classroom.",
    ],
)
def test_a_sentence_limiting_the_grant_beside_apache_is_unclear(vet_repo: Vet, added: str) -> None:
    lic = vet_repo({**CODE, "LICENSE": f"{APACHE}\n{added}\n"}).license
    assert (lic.spdx, lic.commercial_use) == ("Apache-2.0", None)


@pytest.mark.parametrize("name", ["Apache-2.0.txt", "BSD-3-Clause.txt", "BSL-1.0.txt", "ISC.txt"])
def test_a_plain_permissive_text_keeps_yes(vet_repo: Vet, name: str) -> None:
    text = license_text(name)
    assert vet_repo({**CODE, "LICENSE": text}).license.commercial_use is True
    # Reflowed: each paragraph one line, the same words.
    flat = "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))
    assert vet_repo({**CODE, "LICENSE": flat}, name="flat").license.commercial_use is True


def test_remarks_and_holders_in_template_slots_keep_yes(vet_repo: Vet) -> None:
    # A request is no bound; a relaxed condition is no narrowed grant; a holder named in the
    # BSD clause's slot ("NVIDIA CORPORATION") is no company term.
    asked = MIT.replace(
        "Permission is hereby", "We only ask that you use it responsibly.\n\nPermission is hereby"
    ).replace(
        "portions of the Software.",
        "portions of the Software. This permission notice need not be included with content "
        "created by the Software.",
    )
    assert vet_repo({**CODE, "LICENSE": asked}).license.commercial_use is True
    bsd = license_text("BSD-3-Clause.txt").replace("<year> <owner>", "2019 NVIDIA Corporation")
    bsd = bsd.replace("the copyright holder nor", "NVIDIA CORPORATION nor")
    assert "NVIDIA CORPORATION nor" in bsd
    assert vet_repo({**CODE, "LICENSE": bsd}, name="bsd").license.commercial_use is True


def test_a_notice_appended_after_apache_is_not_written_into_its_grant(vet_repo: Vet) -> None:
    # Text between the Apache text and an appended BSD or MIT text is no edit of Apache's
    # grant: the runs before and after it are not neighbours in the template.
    bsd = license_text("BSD-3-Clause.txt").replace("<year> <owner>", "2015 Microsoft")
    text = f"{APACHE}\n\nThe following license applies to metrics/coco_caption:\n\n{bsd}"
    assert vet_repo({**CODE, "LICENSE": text}).license.commercial_use is True
    text = f"{MIT}\n\nParts of this code are from TensorFlow:\n\n{APACHE}"
    assert vet_repo({**CODE, "LICENSE": text}, name="mit").license.commercial_use is True


TRAIN = "import torch\n\n\ndef main():\n    print('ok')\n"
NV_HEADER = (
    "# Copyright (c) 2021, NVIDIA CORPORATION. All rights reserved.\n#\n"
    "# This work is made available under the Nvidia Source Code License-NC.\n"
    "# To view a copy of this license, visit https://nvlabs.github.io/stylegan2/license.html\n"
)
APACHE_HEADER = (
    "# Copyright 2023 Tiny Authors\n#\n"
    '# Licensed under the Apache License, Version 2.0 (the "License");\n'
    "# you may not use this file except in compliance with the License.\n"
    "# You may obtain a copy of the License at http://www.apache.org/licenses/LICENSE-2.0\n"
)


def _headed(header: str, every: bool = True) -> dict[str, str]:
    files = {"model.py": header + TRAIN, "train.py": (header if every else "") + TRAIN}
    return {**files, "pkg/__init__.py": "", "pkg/data.py": (header if every else "") + TRAIN}


@pytest.mark.parametrize(
    ("header", "every"),
    [
        ("# SPDX-License-Identifier: CC-BY-NC-4.0\n", True),
        ("// SPDX-License-Identifier: LicenseRef-Acme-Proprietary\n", True),
        (NV_HEADER, True),
        ("# Licensed under CC BY-NC 4.0\n", True),
        (
            "\ufeff# This work is licensed under the Creative Commons Attribution-NonCommercial\n",
            True,
        ),
        ('"""Tiny model.\n\nFor non-commercial use only.  Copyright (c) 2023 Tiny.\n"""\n', True),
        (
            "# This file is licensed for non-commercial use only. Commercial use is prohibited.\n",
            False,
        ),
        ("# Copyright (c) 2023 Meta.\n# Licensed under the Llama 2 Community License.\n", False),
        ("/*\n * Copyright 2023 Tiny.\n * Free for academic and research use only.\n */\n", True),
        # NVIDIA's proprietary header (left open in round 14)
        (
            "# NVIDIA CORPORATION and its licensors retain all intellectual property and\n"
            "# proprietary rights in and to this software. Any use, reproduction, disclosure or\n"
            "# distribution of this software without an express license agreement from NVIDIA\n"
            "# CORPORATION is strictly prohibited.\n",
            True,
        ),
    ],
)
def test_source_headers_restricting_the_code_make_commercial_use_unclear(
    vet_repo: Vet, header: str, every: bool
) -> None:
    # Round 14, F5: the headers beside a permissive LICENSE, or a README naming one.
    lic = vet_repo({**_headed(header, every), "LICENSE": MIT}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)
    assert "source headers" in lic.governs_reason
    assert any(m.role == "source-header" for m in lic.all)
    readme = "# Tiny\n\n## License\n\nMIT\n"
    lic = vet_repo({**_headed(header, every), "README.md": readme}, name="readme").license
    assert lic.commercial_use is not True


@pytest.mark.parametrize(
    "files",
    [
        _headed(APACHE_HEADER),
        _headed("# SPDX-License-Identifier: Apache-2.0\n"),
        _headed("# SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note\n"),
        _headed("# SPDX-License-Identifier: CC-BY-NC-4.0 OR MIT\n"),
        _headed("# Copyright (c) Facebook, Inc. and its affiliates. All Rights Reserved.\n"),
        # A comment that is no terms, and a restriction below the code's first line.
        _headed("# Script only for evaluation.\n"),
        _headed("# Downloads COCO. The images are licensed for non-commercial research only.\n"),
        {"train.py": "import torch\n# Licensed under CC BY-NC 4.0\n"},
        # A vendored library's own header.
        {"train.py": TRAIN, "third_party/stylegan/op.py": NV_HEADER + TRAIN},
    ],
)
def test_source_headers_that_restrict_nothing_keep_yes(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    lic = vet_repo({**files, "LICENSE": APACHE}).license
    assert (lic.spdx, lic.commercial_use) == ("Apache-2.0", True)


@pytest.mark.parametrize(
    "files",
    [
        {"README_zh.md": "# 模型\n\n预训练模型仅供非商业研究使用，禁止商业用途。\n"},
        {"README_ja.md": "# モデル\n\n商用利用は禁止します。\n"},
        {
            "README_ko.md": "# 모델\n\n연구 목적으로만 사용할 수 있으며 "
            "영리 목적의 사용은 금지됩니다.\n"
        },
        {"README_ru.md": "# Модель\n\nИспользование с целью извлечения прибыли запрещено.\n"},
        {"README_es.md": "# Modelo\n\nUso no comercial solamente.\n"},
        {
            "README.md": "# TinyNet\n\n见 README_en.md\n",
            "README_en.md": "# TinyNet\n\nNot for commercial use.\n",
        },
        {
            "GETTING_STARTED.md": "The pretrained models below may be used for non-commercial "
            "research purposes only.\n"
        },
        {"docs/index.md": "# Docs\n\nCommercial use of the models is prohibited.\n"},
    ],
)
def test_terms_in_the_readmes_translations_and_run_docs_are_unclear(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    # Round 14a F15: the README's own words in another file gave a plain yes.
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": "# TinyNet\n", **files}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


def test_a_readme_translation_without_terms_keeps_yes(vet_repo: Vet) -> None:
    files = {
        "README_zh.md": "# 模型\n\n使用 python train.py 训练。"
        "可免费用于个人使用、学术研究和商业用途。\n",
        "INSTALL.md": "pip install -r r.txt\n",
    }
    lic = vet_repo({**CODE, "LICENSE": MIT, "README.md": "# TinyNet\n", **files}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", True)


def test_a_license_pointer_with_an_exception_for_the_weights_is_unclear(vet_repo: Vet) -> None:
    # Round 14a F12: the Meta-style pointer "licensed under LICENSE-MIT ..., except for the
    # model weights, which may only be used internally for evaluation" gave a plain yes.
    pointer = (
        "Copyright (c) Tiny Labs. All rights reserved.\n\nThis source code is licensed under the "
        "license found in the LICENSE-MIT file in the root directory of this source tree, except "
        "for the model weights, which may only be used internally for evaluation.\n"
    )
    lic = vet_repo({**CODE, "LICENSE": pointer, "LICENSE-MIT": MIT}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", None)


def test_a_functional_source_license_is_never_a_plain_yes(vet_repo: Vet) -> None:
    # Round 14a F11: FSL-1.1 read as its future license (Apache-2.0), commercial use yes.
    fsl = (
        "# Functional Source License, Version 1.1, Apache 2.0 Future License\n\n"
        "## Terms and Conditions\n\n### License Grant\n\nWe hereby grant you the right to use, "
        "copy, modify and redistribute the Software for any Permitted Purpose.\n\n"
        "### Permitted Purpose\n\nA Permitted Purpose is any purpose other than a Competing Use. "
        "A Competing Use means making the Software available to others in a commercial product "
        "or service that substitutes for the Software.\n\n### Competing Use\n\nUse of the "
        "Software for a Competing Use is not permitted, and you may not make the Software "
        "available to others in a commercial product or service that substitutes for it.\n"
    )
    assert vet_repo({**CODE, "LICENSE.md": fsl}).license.commercial_use is not True
