"""Which license governs when a repository says several things: appended third-party notices,
prohibitions, README statements, several files, public-domain grants, partial texts, titles,
BSD variants, PATENTS files and licenses that are not on the SPDX list.

Texts are built at test time from the SPDX texts in tests/data/licenses plus our own words.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.config import Config, LicensePolicy
from forkvet.report import LicenseInfo, Report
from forkvet.vet import licensedb
from forkvet.vet.licensesections import split_notices, valid_expression
from forkvet.vet.licenseterms import KNOWN
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"train.py": "import torch\nprint('training')\n"}

RESEARCH_AGREEMENT = """\
Copyright (c) 2021, Example Vision Lab, Some University. All rights reserved.

EXAMPLENET RESEARCH LICENSE AGREEMENT

The Licensor grants you a non-exclusive, non-transferable license to use, reproduce and
modify the Software for non-commercial research purposes only, as defined below. Any other
use, in particular any use for commercial purposes, is prohibited. You may not sell, rent or
sublicense the Software. Redistribution of modified versions must keep this notice.
"""


def _bsd_notice(name: str) -> str:
    body = license_text("BSD-3-Clause.txt").replace(
        "Copyright (c) <year> <owner>", "Copyright (c) 2017, The Upstream Authors"
    )
    return f"\n\n--------------------------- LICENSE FOR {name} ----------------\n\n{body}"


def _lic(vet_repo: Vet, files: dict[str, str], **kw: object) -> LicenseInfo:
    return vet_repo({**CODE, **files}, **kw).license


# -- 1. the file's own grant governs; appended notices never make it "yes" -----------------
def test_research_agreement_with_an_appended_bsd_notice_is_non_commercial(vet_repo: Vet) -> None:
    lic = _lic(vet_repo, {"LICENSE": RESEARCH_AGREEMENT + _bsd_notice("pytorch-CycleGAN")})
    assert lic.category == "non-commercial" and lic.commercial_use is False
    assert lic.spdx is not None and lic.spdx.startswith("LicenseRef-")
    notices = [m for m in lic.all if m.role == "third-party"]
    assert [m.spdx for m in notices] == ["BSD-3-Clause"]


def test_cc_by_nc_sa_statement_with_appended_bsd_notice(vet_repo: Vet) -> None:
    head = (
        "Copyright (C) 2017 Example Corporation. All rights reserved.\n"
        "Licensed under the CC BY-NC-SA 4.0 license "
        "(https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode).\n\n"
        "Permission to use, copy, modify, and distribute this software and its documentation\n"
        "for any non-commercial purpose is hereby granted without fee, provided that the above\n"
        "copyright notice appear in all copies.\n"
    )
    lic = _lic(vet_repo, {"LICENSE.txt": head + _bsd_notice("pix2pix")})
    assert (lic.spdx, lic.commercial_use) == ("CC-BY-NC-SA-4.0", False)


def test_permissive_project_with_a_non_commercial_notice_is_never_yes(vet_repo: Vet) -> None:
    mit = license_text("MIT.txt").replace("<year> <copyright holders>", "2020 A. Author")
    notice = (
        "\n\nTHIRD-PARTY SOFTWARE NOTICES\n\nThe folder models/flow contains code from FlowLab,"
        " which is licensed for non-commercial research purposes only.\n"
    )
    lic = _lic(vet_repo, {"LICENSE": mit + notice})
    assert lic.spdx == "MIT" and lic.commercial_use is None
    assert "commercial use unclear" in lic.governs_reason


def test_restriction_added_to_a_license_text_is_never_yes(vet_repo: Vet) -> None:
    text = license_text("Apache-2.0.txt") + (
        "\n\nAdditional terms: this software may be used for academic research purposes only.\n"
    )
    lic = _lic(vet_repo, {"LICENSE": text})
    assert lic.spdx == "Apache-2.0" and lic.commercial_use is not True


def test_the_gpl_own_words_are_not_a_restriction(vet_repo: Vet) -> None:
    # GPL-3.0 §6 says "occasionally and noncommercially": it restricts nothing.
    lic = _lic(vet_repo, {"COPYING": license_text("GPL-3.0-only.txt")})
    assert lic.category == "strong-copyleft" and lic.commercial_use is True


def test_split_notices_keeps_the_grant_first() -> None:
    own, notices = split_notices(RESEARCH_AGREEMENT + _bsd_notice("x") + _bsd_notice("y"))
    assert "EXAMPLENET RESEARCH" in own and "Redistribution and use" not in own
    assert len(notices) == 2 and all("LICENSE FOR" in n for n in notices)
    # A license text is not cut at its own "the following conditions".
    assert split_notices(license_text("BSD-3-Clause.txt"))[1] == []
    assert split_notices(license_text("Apache-2.0.txt"))[1] == []


# -- 2. prohibitions are not grants ------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Copyright (c) 2019 Jane Doe. All rights reserved.\n\nNo permission is granted to use, "
        "copy, modify or distribute this code for any commercial or non-commercial purpose "
        "without the written consent of the author.\n",
        "Copyright 2020 Example Lab. All rights reserved. This code may not be used, copied, "
        "modified or distributed in any form without prior written permission.\n",
    ],
)
def test_no_permission_is_its_own_category(vet_repo: Vet, text: str) -> None:
    lic = _lic(vet_repo, {"LICENSE": text})
    assert (lic.category, lic.commercial_use) == ("no-permission", False)
    assert any("No permission is granted" in o for o in lic.obligations)


def test_any_purpose_commercial_or_not_is_a_grant(vet_repo: Vet) -> None:
    text = (
        "This code is released into the public domain. Anyone may use it for any purpose, "
        "commercial or non-commercial, without asking.\n"
    )
    lic = _lic(vet_repo, {"LICENSE": text})
    assert (lic.category, lic.commercial_use) == ("permissive", True)


def test_policy_can_deny_the_no_permission_category(vet_repo: Vet) -> None:
    config = Config(license=LicensePolicy(deny=["no-permission"]))
    text = "All rights reserved. No permission is granted to use this software.\n"
    report = vet_repo({**CODE, "LICENSE": text}, config)
    assert any(f.title == "License denied by policy" for f in report.findings)


# -- 3. README and model-card statements -------------------------------------------------------
@pytest.mark.parametrize(
    ("readme", "spdx", "commercial"),
    [
        ("# Net\n\nSome words.\n\n## License\nBSD license.\n", "LicenseRef-BSD", True),
        ("# Net\n\n## License\n\nMIT\n", "MIT", True),
        ("# Net\n\nLicense: Apache 2.0\n", "Apache-2.0", True),
        ("# Net\n\nThis project is licensed under the MIT License - see below.\n", "MIT", True),
        ("# Net\n\nCode and models are released under CC BY-NC 4.0.\n", "CC-BY-NC-4.0", False),
        ("---\nlicense: cc-by-nc-sa-4.0\n---\n# Model card\n", "CC-BY-NC-SA-4.0", False),
        (
            "# Net\n\nThe code here is available under the same license as Torch (BSD-3) and "
            "the bundled models (unrestricted use).\n",
            "BSD-3-Clause",
            True,
        ),
    ],
)
def test_readme_statement_without_a_license_file(
    vet_repo: Vet, readme: str, spdx: str, commercial: bool
) -> None:
    lic = _lic(vet_repo, {"README.md": readme})
    assert (lic.spdx, lic.commercial_use) == (spdx, commercial)
    assert "README.md" in lic.governs_reason and lic.confidence < 0.9
    assert all(m.source == "readme" for m in lic.all)


def test_readme_research_only_terms_without_a_license_file(vet_repo: Vet) -> None:
    readme = (
        "# Net\n\n## License\nFree for personal or research use; for commercial use contact me.\n"
    )
    lic = _lic(vet_repo, {"README.md": readme})
    assert (lic.category, lic.commercial_use) == ("non-commercial", False)


def test_readme_research_only_sentence_next_to_a_license_file(vet_repo: Vet) -> None:
    readme = (
        "# Net\n\n**Usage and License Notices**: the model is intended and licensed for "
        "research use only.\n"
    )
    lic = _lic(vet_repo, {"README.md": readme, "LICENSE": license_text("Apache-2.0.txt")})
    assert lic.spdx == "Apache-2.0" and lic.commercial_use is None


# -- 4. several license files --------------------------------------------------------------
def test_rust_style_pair_is_a_choice(vet_repo: Vet) -> None:
    lic = _lic(
        vet_repo,
        {"LICENSE-MIT": license_text("MIT.txt"), "LICENSE-APACHE": license_text("Apache-2.0.txt")},
    )
    assert set(lic.spdx.split(" OR ")) == {"MIT", "Apache-2.0"} and lic.commercial_use is True


@pytest.mark.parametrize(
    "readme",
    [
        "# X\n\nYou may choose either license.\n",
        "# X\n\nThis project is dual-licensed.\n",
        "# X\n\nUse it under the MIT license or, at your option, the GPL.\n",
    ],
)
def test_readme_saying_choose_makes_or(vet_repo: Vet, readme: str) -> None:
    files = {
        "LICENSE": license_text("MIT.txt"),
        "COPYING": license_text("GPL-2.0-only.txt"),
        "README.md": readme,
    }
    lic = _lic(vet_repo, files)
    assert " OR " in lic.spdx and lic.category == "permissive"
    assert valid_expression(lic.spdx)


def test_separate_licenses_without_a_choice_are_and(vet_repo: Vet) -> None:
    files = {"LICENSE": license_text("MIT.txt"), "COPYING": license_text("GPL-2.0-only.txt")}
    lic = _lic(vet_repo, files)
    assert " AND " in lic.spdx and lic.category == "strong-copyleft"
    assert valid_expression(lic.spdx)


def test_a_choice_phrase_about_something_else_offers_no_choice(vet_repo: Vet) -> None:
    # "At your option" about configs is no dual license (round 11a M-5).
    files = {"LICENSE": license_text("MIT.txt"), "COPYING": license_text("GPL-2.0-only.txt")}
    files["README.md"] = "# x\n\nAt your option, use the small or the large config.\n"
    assert " AND " in _lic(vet_repo, files).spdx
    files["README.md"] = "# x\n\nUse it under either license, at your option.\n"
    assert " OR " in _lic(vet_repo, files, name="either").spdx


def test_custom_parts_of_an_expression_are_license_refs(vet_repo: Vet) -> None:
    files = {"LICENSE": license_text("MIT.txt"), "LICENSE.research": RESEARCH_AGREEMENT}
    lic = _lic(vet_repo, files)
    assert valid_expression(lic.spdx), lic.spdx
    assert "MIT" in lic.spdx and "LicenseRef-" in lic.spdx and lic.commercial_use is False


def test_pointer_file_and_license_text_are_one_license(vet_repo: Vet) -> None:
    files = {
        "LICENSE.txt": "NetSLAM is released under a GPLv3 license (see License-gpl.txt).\n"
        "For a closed-source version for commercial purposes, please contact the authors.\n",
        "License-gpl.txt": license_text("GPL-3.0-only.txt"),
    }
    lic = _lic(vet_repo, files)
    assert lic.spdx == "GPL-3.0-only" and lic.commercial_use is True


def test_weights_license_is_listed_and_makes_commercial_use_unclear(vet_repo: Vet) -> None:
    files = {
        "LICENSE": license_text("MIT.txt"),
        "LICENSE_weights": license_text("CC-BY-NC-4.0.txt"),
    }
    lic = _lic(vet_repo, files)
    assert lic.spdx == "MIT" and lic.commercial_use is None
    assert [m.role for m in lic.all if m.spdx == "CC-BY-NC-4.0"] == ["weights-or-data"]


def test_invalid_expressions_are_rejected() -> None:
    assert valid_expression("MIT OR (Apache-2.0 AND LicenseRef-Foo.1)")
    assert valid_expression("GPL-2.0-only WITH Classpath-exception-2.0")
    for bad in ("MIT AND Custom license", "MIT OR", "Llama-2", "(MIT", "NVIDIA Source Code"):
        assert not valid_expression(bad), bad


# -- 5. public-domain grants ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "spdx"),
    [
        (
            "THE REAL LICENSE:\n0. NetX is public domain.\n1. Do whatever you want with it.\n"
            "2. Stop emailing me about it!\n",
            "LicenseRef-Public-Domain",
        ),
        (
            "I dedicate this code to the public domain. No rights reserved.\n",
            "LicenseRef-Public-Domain",
        ),
        (license_text("Unlicense.txt"), "Unlicense"),
    ],
)
def test_public_domain_grants_are_permissive(vet_repo: Vet, text: str, spdx: str) -> None:
    lic = _lic(vet_repo, {"LICENSE": text})
    assert (lic.spdx, lic.category, lic.commercial_use) == (spdx, "permissive", True)


# -- 6. partial Creative Commons texts and titles --------------------------------------------
def test_cc_text_without_its_optional_preamble_and_trailer(vet_repo: Vet) -> None:
    lines = license_text("CC-BY-NC-4.0.txt").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Section 1"))
    end = next(i for i, line in enumerate(lines) if "is not a party to its public" in line)
    body = "\n".join(lines[start:end])
    full = len(license_text("CC-BY-NC-4.0.txt").split())
    assert 0.6 < len(body.split()) / full < 0.9  # the case in point: most, not all, of it
    lic = _lic(vet_repo, {"LICENSE.md": body})
    assert (lic.spdx, lic.commercial_use) == ("CC-BY-NC-4.0", False)


@pytest.mark.parametrize(
    ("text", "spdx"),
    [
        (
            "Attribution-NonCommercial 4.0 International\n\n"
            "See https://creativecommons.org/licenses/by-nc/4.0/legalcode\n",
            "CC-BY-NC-4.0",
        ),
        ("MIT License\n\nCopyright (c) 2021 Some Author\n", "MIT"),
        ("Apache License\nVersion 2.0, January 2004\n", "Apache-2.0"),
        ("GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n\n(text omitted)\n", "GPL-3.0-only"),
    ],
)
def test_title_names_the_license_when_the_body_is_absent(
    vet_repo: Vet, text: str, spdx: str
) -> None:
    lic = _lic(vet_repo, {"LICENSE": text})
    assert lic.spdx == spdx and lic.confidence < 0.9


# -- 7. the most specific template, PATENTS, ids off the SPDX list ----------------------------
@pytest.mark.parametrize("spdx", ["BSD-2-Clause", "BSD-3-Clause"])
def test_bsd_texts_with_notices_are_not_bsd_1_clause(vet_repo: Vet, spdx: str) -> None:
    text = license_text(f"{spdx}.txt") + _bsd_notice("DCGAN")
    lic = _lic(vet_repo, {"LICENSE": text})
    assert lic.spdx == spdx


def test_bsd_conditions_with_another_disclaimer_count_their_clauses(vet_repo: Vet) -> None:
    text = (
        "Copyright (C) 2019 Example Corp.\nBSD License. All rights reserved.\n\n"
        "Redistribution and use in source and binary forms, with or without modification, are "
        "permitted provided that the following conditions are met:\n\n"
        "* Redistributions of source code must retain the above copyright notice, this list of "
        "conditions and the following disclaimer.\n\n* Redistributions in binary form must "
        "reproduce the above copyright notice, this list of conditions and the following "
        "disclaimer in the documentation and/or other materials provided with the distribution."
        "\n\nTHE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE. IN NO EVENT SHALL"
        " THE AUTHOR BE LIABLE FOR ANY DAMAGES WHATSOEVER.\n"
    )
    assert _lic(vet_repo, {"LICENSE.txt": text}).spdx == "BSD-2-Clause"


def test_patents_file_is_part_of_the_answer(vet_repo: Vet) -> None:
    patents = (
        "Additional Grant of Patent Rights Version 2\n\nExample, Inc. hereby grants to each "
        "recipient of the Software a perpetual, worldwide, royalty-free patent license. The "
        "license granted hereunder will terminate if you initiate a patent assertion.\n"
    )
    files = {"LICENSE": license_text("BSD-3-Clause.txt"), "PATENTS": patents}
    lic = _lic(vet_repo, files)
    assert lic.spdx == "BSD-3-Clause" and "PATENTS" in lic.files
    assert any("patent grant" in o for o in lic.obligations)
    assert [m.role for m in lic.all if m.path == "PATENTS"] == ["patents"]


@pytest.mark.parametrize(
    ("fixture", "spdx", "commercial"),
    [
        ("nvidia-source-code-license-nc.txt", "LicenseRef-NVIDIA-Source-Code-License-NC", False),
        ("creativeml-openrail-m.txt", "LicenseRef-CreativeML-OpenRAIL-M", True),
        ("llama-2-community-license-excerpt.txt", "LicenseRef-Llama-2-Community", None),
    ],
)
def test_licenses_off_the_spdx_list_get_license_refs(
    vet_repo: Vet, fixture: str, spdx: str, commercial: bool | None
) -> None:
    lic = _lic(vet_repo, {"LICENSE": license_text(fixture)})
    assert (lic.spdx, lic.commercial_use) == (spdx, commercial)


def test_known_license_ids_are_license_refs_unless_spdx_lists_them() -> None:
    listed = licensedb.known_ids()
    for known in KNOWN:
        assert valid_expression(known.spdx)
        assert known.spdx in listed or known.spdx.startswith("LicenseRef-"), known.spdx


def test_a_huge_license_file_is_read_in_part(vet_repo: Vet) -> None:
    # Hostile input: the grant is read from the first 200 kB, the rest is not parsed.
    text = (
        license_text("MIT.txt") + "\n\n" + "junk words here\n" * 90_000
    )  # 1.4 MB: under the snapshot's 2 MiB text limit
    assert _lic(vet_repo, {"LICENSE": text}).spdx == "MIT"


def test_a_choice_wrapped_over_two_lines_is_read(vet_repo: Vet) -> None:
    files = {
        "LICENSE": license_text("MIT.txt"),
        "COPYING": license_text("GPL-2.0-only.txt"),
        "README.md": "# X\n\nThe code is covered under a dual MIT/GPL v2\nlicense.\n",
    }
    assert " OR " in _lic(vet_repo, files).spdx


@pytest.mark.parametrize(
    "entry", ["nvidia-nc", "LicenseRef-NVIDIA-Source-Code-License-NC", "non-commercial"]
)
def test_policy_names_a_license_off_the_spdx_list(vet_repo: Vet, entry: str) -> None:
    config = Config(license=LicensePolicy(deny=[entry]))
    files = {**CODE, "LICENSE.txt": license_text("nvidia-source-code-license-nc.txt")}
    report = vet_repo(files, config)
    assert any(f.title == "License denied by policy" for f in report.findings)


@pytest.mark.parametrize(
    ("entry", "denied"),
    [("llama-3", True), ("LicenseRef-Llama-3-Community", True), ("llama-2", False)],
)
def test_a_policy_naming_a_license_family_covers_its_point_releases(
    vet_repo: Vet, entry: str, denied: bool
) -> None:
    """Llama 3.1-3.3 have ids of their own; a policy that denies Llama 3 denies them too, and
    a policy that denies Llama 2 does not."""
    card = "---\nlicense: llama3.1\n---\n# Model card\n"
    report = vet_repo({**CODE, "README.md": card}, Config(license=LicensePolicy(deny=[entry])))
    assert report.license.spdx == "LicenseRef-Llama-3.1-Community"
    assert any(f.title == "License denied by policy" for f in report.findings) is denied


@pytest.mark.parametrize(
    ("readme", "spdx"),
    [
        (
            "[![License: MIT](https://img.shields.io/badge/License-MIT-yellow.svg)](LICENSE)\n",
            "MIT",
        ),
        (
            "![license](https://img.shields.io/badge/license-CC%20BY--NC%204.0-lightgrey)\n",
            "CC-BY-NC-4.0",
        ),
        ("---\nlicense: llama2\n---\n# Model card\n", "LicenseRef-Llama-2-Community"),
        (
            "---\nlicense: other\nlicense_name: llama3\n---\n# Card\n",
            "LicenseRef-Llama-3-Community",
        ),
        ("---\nlicense: creativeml-openrail-m\n---\n# Card\n", "LicenseRef-CreativeML-OpenRAIL-M"),
    ],
)
def test_badges_and_model_card_tags_name_the_license(vet_repo: Vet, readme: str, spdx: str) -> None:
    lic = _lic(vet_repo, {"README.md": readme})
    assert lic.spdx == spdx and lic.all[0].source == "readme"


def test_contact_for_commercial_use_beside_gpl_is_an_offer(vet_repo: Vet) -> None:
    files = {
        "COPYING": license_text("GPL-3.0-only.txt"),
        "README.md": "# SLAM\n\nFor a closed-source version for commercial purposes, please "
        "contact the authors.\n",
    }
    lic = _lic(vet_repo, files)
    assert lic.category == "strong-copyleft" and lic.commercial_use is True


def test_a_license_text_mentioning_a_model_license_further_down(vet_repo: Vet) -> None:
    text = license_text("MIT.txt") + (
        "\n\nThe model weights are not covered by this license; they are released under the "
        "Llama 2 Community License.\n"
    )
    assert _lic(vet_repo, {"LICENSE": text}).spdx == "MIT"


def test_readme_section_naming_code_and_weights_licenses(vet_repo: Vet) -> None:
    readme = "# X\n\n## License\n\nCode: MIT License. Weights: Llama 2 Community License.\n"
    lic = _lic(vet_repo, {"README.md": readme})
    found = {m.spdx for m in lic.all}
    assert {"MIT", "LicenseRef-Llama-2-Community"} <= found
    # round 23's prose-bases reader adds the sentence as the weights' own terms: no other kind
    assert all(
        s.startswith("LicenseRef-Model-Terms-")
        for s in found - {"MIT", "LicenseRef-Llama-2-Community"}
        if s
    )
    assert valid_expression(lic.spdx)


def test_lgpl3_shipped_with_the_gpl3_text_is_lgpl(vet_repo: Vet) -> None:
    # LGPL-3.0 asks for the GPL-3.0 text next to it; the pair is one license. The LGPL-3.0
    # text is not among the fixtures: its normalised words from the bundled list stand in.
    files = {
        "COPYING": license_text("GPL-3.0-only.txt"),
        "COPYING.LESSER": licensedb.template_tokens("LGPL-3.0-only"),
    }
    lic = _lic(vet_repo, files)
    assert lic.spdx is not None and lic.spdx.startswith("LGPL-3.0")
    assert lic.category == "weak-copyleft"


@pytest.mark.parametrize(
    ("title", "spdx", "commercial"),
    [
        (
            "DEEPSEEK LICENSE AGREEMENT\nVersion 1.0, 23 October 2023\n",
            "LicenseRef-DeepSeek-License",
            True,
        ),
        (
            "Tongyi Qianwen RESEARCH LICENSE AGREEMENT\n",
            "LicenseRef-Tongyi-Qianwen-Research-License",
            False,
        ),
        ("Tongyi Qianwen LICENSE AGREEMENT\n", "LicenseRef-Tongyi-Qianwen-License", None),
    ],
)
def test_model_licenses_by_their_title(
    vet_repo: Vet, title: str, spdx: str, commercial: bool | None
) -> None:
    body = "\n1. Definitions\n\nThe Model means the weights and code made available here.\n" * 3
    lic = _lic(vet_repo, {"LICENSE-MODEL": title + body})
    assert (lic.spdx, lic.commercial_use) == (spdx, commercial)
