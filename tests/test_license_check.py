"""The license check on whole repositories: which license governs, what it allows, policy."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.config import Config, LicensePolicy
from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"train.py": "import torch\nprint('training')\n"}


def test_no_license_is_all_rights_reserved(vet_repo: Vet) -> None:
    lic = vet_repo(CODE).license
    assert (lic.spdx, lic.category, lic.commercial_use) == (None, "none", False)
    assert any("all rights reserved" in o for o in lic.obligations)


def test_mit_file_with_copyright(vet_repo: Vet) -> None:
    text = license_text("MIT.txt").replace("<year> <copyright holders>", "2019 A. Author")
    lic = vet_repo({**CODE, "LICENSE": text}).license
    assert (lic.spdx, lic.category, lic.commercial_use) == ("MIT", "permissive", True)
    assert lic.files == ["LICENSE"] and lic.confidence >= 0.95


def test_tf1_repo_with_noncommercial_license(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "LICENSE.md": license_text("CC-BY-NC-4.0.txt"),
            "model.py": "import tensorflow as tf\nx = tf.placeholder(tf.float32)\n"
            "sess = tf.Session()\nfrom tensorflow.contrib import slim\n",
        }
    )
    lic = report.license
    assert (lic.spdx, lic.category, lic.commercial_use) == ("CC-BY-NC-4.0", "non-commercial", False)
    assert "No commercial use" in lic.obligations
    assert report.frameworks[0].name == "tensorflow"
    assert report.frameworks[0].version_spec == "<2"


def test_readme_only_statement(vet_repo: Vet) -> None:
    lic = vet_repo(
        {**CODE, "README.md": "# Net\n\nThis code is released under the Apache 2.0 license.\n"}
    ).license
    assert lic.spdx == "Apache-2.0" and lic.commercial_use is True
    assert "README.md" in lic.governs_reason


def test_readme_license_section_with_research_only_terms(vet_repo: Vet) -> None:
    readme = (
        "# Net\n\n## License\n\nThis software is provided for academic research purposes "
        "only. Commercial use is prohibited without a license from the university.\n\n"
        "## Citation\n"
    )
    lic = vet_repo({**CODE, "README.md": readme}).license
    assert lic.spdx.startswith("LicenseRef-") and lic.category == "non-commercial"
    assert lic.commercial_use is False


def test_dual_licensed_repository_lets_you_choose(vet_repo: Vet) -> None:
    lic = vet_repo(
        {
            **CODE,
            "LICENSE-MIT": license_text("MIT.txt"),
            "LICENSE-APACHE": license_text("Apache-2.0.txt"),
            "README.md": "Dual-licensed under MIT or Apache-2.0, at your option.\n",
        }
    ).license
    assert set(lic.spdx.split(" OR ")) == {"MIT", "Apache-2.0"}
    assert lic.category == "permissive" and lic.commercial_use is True


def test_two_licenses_without_a_choice_apply_together(vet_repo: Vet) -> None:
    lic = vet_repo(
        {**CODE, "LICENSE": license_text("MIT.txt"), "COPYING": license_text("GPL-3.0-only.txt")}
    ).license
    assert " AND " in lic.spdx and lic.category == "strong-copyleft"


def test_third_party_notice_appended_to_license_does_not_govern(vet_repo: Vet) -> None:
    text = (
        license_text("MIT.txt") + "\n\nTHIRD-PARTY NOTICES\n\n" + license_text("BSD-2-Clause.txt")
    )
    lic = vet_repo({**CODE, "LICENSE": text}).license
    assert lic.spdx == "MIT"
    assert {m.spdx for m in lic.all} >= {"MIT", "BSD-2-Clause"}


def test_weights_license_is_reported_but_code_license_governs(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            **CODE,
            "LICENSE": license_text("MIT.txt"),
            "MODEL_LICENSE": license_text("CC-BY-NC-4.0.txt"),
        }
    )
    assert report.license.spdx == "MIT"
    assert any(f.title == "Other license in the repository" for f in report.findings)


def test_nvidia_source_code_license(vet_repo: Vet) -> None:
    lic = vet_repo(
        {**CODE, "LICENSE.txt": license_text("nvidia-source-code-license-nc.txt")}
    ).license
    assert lic.spdx.startswith("LicenseRef-") and lic.category == "non-commercial"
    assert "NVIDIA" in lic.name and lic.commercial_use is False


def test_creativeml_openrail_m(vet_repo: Vet) -> None:
    lic = vet_repo({**CODE, "LICENSE": license_text("creativeml-openrail-m.txt")}).license
    assert lic.name == "CreativeML Open RAIL-M" and lic.category == "custom-restricted"
    assert lic.commercial_use is True
    assert any("use restrictions" in o for o in lic.obligations)


def test_llama_2_community_license(vet_repo: Vet) -> None:
    lic = vet_repo(
        {**CODE, "LICENSE": license_text("llama-2-community-license-excerpt.txt")}
    ).license
    assert lic.name == "Llama 2 Community License"
    assert any("700 million" in o for o in lic.obligations)


def test_custom_license_is_classified_by_clauses(vet_repo: Vet) -> None:
    text = (
        "Copyright 2020 Some Lab.\n\nPermission is granted to use this software for "
        "non-commercial research purposes only. You may not distribute modified versions. "
        "Any other use requires a written agreement with the lab. " * 2
    )
    lic = vet_repo({**CODE, "LICENSE": text}).license
    assert lic.spdx.startswith("LicenseRef-") and lic.category == "non-commercial"
    assert lic.commercial_use is False and lic.confidence <= 0.5


def test_gpl_or_later_from_notice(vet_repo: Vet) -> None:
    notice = (
        "# This program is free software: you can redistribute it and/or modify it under "
        "the terms of the GNU General Public License as published by the Free Software "
        "Foundation, either version 3 of the License, or (at your option) any later "
        "version.\nimport numpy\n"
    )
    lic = vet_repo({"model.py": notice, "COPYING": license_text("GPL-3.0-only.txt")}).license
    assert lic.spdx == "GPL-3.0-or-later"


def test_gpl_without_notice_is_this_version_only(vet_repo: Vet) -> None:
    lic = vet_repo({**CODE, "LICENSE": license_text("GPL-2.0-only.txt")}).license
    assert lic.spdx == "GPL-2.0-only" and lic.category == "strong-copyleft"


def test_agpl_is_network_copyleft(vet_repo: Vet) -> None:
    lic = vet_repo({**CODE, "LICENSE": license_text("AGPL-3.0-only.txt")}).license
    assert lic.category == "network-copyleft"
    assert any("network" in o for o in lic.obligations)


def test_readme_restricting_a_permissive_license_makes_commercial_use_unclear(
    vet_repo: Vet,
) -> None:
    report = vet_repo(
        {
            **CODE,
            "LICENSE": license_text("MIT.txt"),
            "README.md": "# X\n\n## License\n\nFor non-commercial use only.\n",
        }
    )
    assert report.license.spdx == "MIT" and report.license.commercial_use is None
    assert any(f.title == "Conflicting license statements" for f in report.findings)


def test_setup_py_metadata_and_classifier(vet_repo: Vet) -> None:
    setup = (
        "from setuptools import setup\nsetup(name='x', license='BSD',\n classifiers=["
        "'License :: OSI Approved :: BSD License', 'License :: OSI Approved :: MIT "
        "License'])\n"
    )
    lic = vet_repo({**CODE, "setup.py": setup}).license
    assert lic.spdx is not None and "MIT" in {m.spdx for m in lic.all}


def test_model_card_front_matter(vet_repo: Vet) -> None:
    lic = vet_repo(
        {**CODE, "README.md": "---\nlicense: cc-by-nc-sa-4.0\ntags: [vision]\n---\n# Model\n"}
    ).license
    assert lic.spdx == "CC-BY-NC-SA-4.0" and lic.commercial_use is False


def test_policy_violation_is_an_error(vet_repo: Vet) -> None:
    config = Config(license=LicensePolicy(allow=["permissive"], require_commercial_use=True))
    report = vet_repo({**CODE, "LICENSE": license_text("CC-BY-NC-4.0.txt")}, config)
    errors = [f for f in report.findings if f.severity == "error"]
    assert {f.title for f in errors} == {
        "License not allowed by policy",
        "Commercial use not allowed",
    }
    assert report.has_errors


def test_policy_allows_by_id_and_denies_by_category(vet_repo: Vet) -> None:
    ok = vet_repo(
        {**CODE, "LICENSE": license_text("MIT.txt")},
        Config(license=LicensePolicy(allow=["MIT"])),
        name="a",
    )
    assert not ok.has_errors
    denied = vet_repo(
        {**CODE, "LICENSE": license_text("GPL-3.0-only.txt")},
        Config(license=LicensePolicy(deny=["strong-copyleft"])),
        name="b",
    )
    assert [f.title for f in denied.findings if f.severity == "error"] == [
        "License denied by policy"
    ]


def test_a_license_file_holding_only_an_address(vet_repo: Vet) -> None:
    report = vet_repo(
        {"LICENSE": "https://creativecommons.org/licenses/by-nc/4.0/\n", "a.py": "x = 1\n"}
    )
    assert report.license.spdx == "CC-BY-NC-4.0"
    assert report.license.commercial_use is False


@pytest.mark.parametrize(
    ("prefix", "said_by"),
    [("models/", "header"), ("", "header"), ("", "readme")],
)
def test_a_header_template_is_not_a_license_and_model_folders_are_and(
    vet_repo: Vet, prefix: str, said_by: str
) -> None:
    # Each folder's LICENSE covers its part (AND): in `models/*` by the layout, in any
    # top-level folder when a header template or the README says each folder has its own.
    header = (
        "Copyright (c) Example Org.\n\nThis source code is licensed under the license found in "
        "the LICENSE file in each model folder.\n"
    )
    mit = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Org")
    nc = "https://creativecommons.org/licenses/by-nc/4.0/\n"
    files = {
        f"{prefix}alpha/LICENSE": mit,
        f"{prefix}beta/LICENSE": nc,
        f"{prefix}alpha/model.py": "x = 1\n",
        f"{prefix}beta/model.py": "x = 1\n",
    }
    files["LICENSE_HEADER" if said_by == "header" else "README.md"] = header
    report = vet_repo(files)
    assert report.license.spdx == "MIT AND CC-BY-NC-4.0"
    assert report.license.commercial_use is False
    assert all(m.path != "LICENSE_HEADER" for m in report.license.all)


# Commercial use: True when granted (use restrictions are obligations), False when not, None
# when granted only under a condition (a user or revenue threshold, a registration).
@pytest.mark.parametrize(
    ("title", "spdx", "commercial"),
    [
        ("LLAMA 2 COMMUNITY LICENSE AGREEMENT", "LicenseRef-Llama-2-Community", None),
        ("META LLAMA 3 COMMUNITY LICENSE AGREEMENT", "LicenseRef-Llama-3-Community", None),
        ("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT", "LicenseRef-Llama-3.1-Community", None),
        ("LLAMA 3.2 COMMUNITY LICENSE AGREEMENT", "LicenseRef-Llama-3.2-Community", None),
        ("Llama 3.3 Community License Agreement", "LicenseRef-Llama-3.3-Community", None),
        ("LLAMA 4 COMMUNITY LICENSE AGREEMENT", "LicenseRef-Llama-4-Community", None),
        ("Gemma Terms of Use", "LicenseRef-Gemma-Terms-of-Use", True),
        ("Tongyi Qianwen LICENSE AGREEMENT", "LicenseRef-Tongyi-Qianwen-License", None),
        (
            "Tongyi Qianwen RESEARCH LICENSE AGREEMENT",
            "LicenseRef-Tongyi-Qianwen-Research-License",
            False,
        ),
        ("Qwen RESEARCH LICENSE AGREEMENT", "LicenseRef-Qwen-Research-License", False),
        ("Qwen LICENSE AGREEMENT", "LicenseRef-Qwen-License", None),
        ("DEEPSEEK LICENSE AGREEMENT", "LicenseRef-DeepSeek-License", True),
        ("Community License for Baichuan 2 Model", "LicenseRef-Baichuan-Community-License", None),
        ("Yi Series Models Community License Agreement", "LicenseRef-Yi-Community-License", None),
        ("BigCode Open RAIL-M v1 License Agreement", "LicenseRef-BigCode-OpenRAIL-M", True),
        ("CreativeML Open RAIL-M", "LicenseRef-CreativeML-OpenRAIL-M", True),
        ("Mistral AI Research License", "LicenseRef-Mistral-AI-Research-License", False),
        ("STABILITY AI COMMUNITY LICENSE AGREEMENT", "LicenseRef-Stability-AI-Community", None),
        ("Released under CC BY-NC", "LicenseRef-CC-BY-NC", False),
        ("Released under CC BY-NC 4.0", "CC-BY-NC-4.0", False),
    ],
)
def test_model_community_licenses(
    vet_repo: Vet, title: str, spdx: str, commercial: bool | None
) -> None:
    text = f"{title}\n\nVersion release date: 2025\n\nTerms and conditions for use follow.\n"
    report = vet_repo({"LICENSE": text, "a.py": "x = 1\n"})
    assert (report.license.spdx, report.license.commercial_use) == (spdx, commercial)


@pytest.mark.parametrize(
    ("pointer", "spdx", "commercial"),
    [
        (
            "Please refer to license: https://github.com/facebookresearch/llama/blob/main/LICENSE",
            "LicenseRef-Llama-2-Community",
            None,
        ),
        ("See https://llama.meta.com/llama3_1/license/", "LicenseRef-Llama-3.1-Community", None),
        ("Terms: https://ai.google.dev/gemma/terms", "LicenseRef-Gemma-Terms-of-Use", True),
        ("See the Llama 2 Community License.", "LicenseRef-Llama-2-Community", None),
        (
            "This model is under the Tongyi Qianwen LICENSE AGREEMENT.",
            "LicenseRef-Tongyi-Qianwen-License",
            None,
        ),
    ],
)
def test_a_license_that_points_to_a_model_license_is_that_license(
    vet_repo: Vet, pointer: str, spdx: str, commercial: bool | None
) -> None:
    # A root LICENSE of one line that names or links a model license (kept as data in
    # forkvet/data/model_licenses.json) is that license.
    lic = vet_repo({"LICENSE": pointer + "\n", "a.py": "x = 1\n"}).license
    assert (lic.spdx, lic.commercial_use, lic.files) == (spdx, commercial, ["LICENSE"])


def test_a_pointer_license_to_an_unknown_address_follows_the_source_headers(
    vet_repo: Vet,
) -> None:
    header = (
        "# Copyright (c) Example Corp.\n# This software may be used and distributed according "
        "to the terms of the Llama 2 Community License Agreement.\n\nx = 1\n"
    )
    files = {
        "LICENSE": "Please refer to license: https://example.org/models/LICENSE\n",
        "generate.py": header,
        "model/layers.py": header,
    }
    lic = vet_repo(files).license
    assert (lic.spdx, lic.commercial_use) == ("LicenseRef-Llama-2-Community", None)
    assert "source headers" in lic.governs_reason
    # Headers that disagree name no one license: the pointer alone is no license.
    files["model/other.py"] = "# Licensed under the MIT License.\nx = 1\n"
    files["model/more.py"] = "# Licensed under the MIT License.\nx = 1\n"
    assert vet_repo(files, name="split").license.spdx is None


APACHE_HEADER = (
    "Copyright 2023 The Authors.\n\nLicensed under the Apache License, Version 2.0 (the "
    '"License");\nyou may not use this file except in compliance with the License.\nYou may '
    "obtain a copy of the License at\n\n    http://www.apache.org/licenses/LICENSE-2.0\n"
)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "LICENSE_HEADER",
            "Copyright (c) Example Org.\n\nThis source code is licensed under the license found "
            "in the\nLICENSE file in the root directory of this source tree.\n",
        ),
        ("license-header.txt", APACHE_HEADER),
        ("LICENSE.template", APACHE_HEADER),
    ],
)
def test_a_source_header_template_is_not_a_second_license(
    vet_repo: Vet, name: str, text: str
) -> None:
    mit = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Org")
    lic = vet_repo({"LICENSE": mit, name: text, "a.py": "x = 1\n"}).license
    assert (lic.spdx, lic.commercial_use) == ("MIT", True)
    assert [m.path for m in lic.all] == ["LICENSE"]


def test_a_header_template_alone_names_the_headers_license(vet_repo: Vet) -> None:
    lic = vet_repo({"license-header.txt": APACHE_HEADER, "a.py": "x = 1\n"}).license
    assert (lic.spdx, lic.commercial_use) == ("Apache-2.0", True)
    assert lic.all[0].source == "header"


def test_model_license_patterns_stay_small() -> None:
    # RE2 builds a program per pattern: a Unicode class repeated {0,40} times is ~40,000
    # instructions and megabytes of memory per vetting; the data keeps to small programs.
    from forkvet.vet.licenseterms import BASE_MODELS, KNOWN, KNOWN_URLS

    patterns = [k.pattern for k in KNOWN] + [p for p, _ in (*KNOWN_URLS, *BASE_MODELS)]
    sizes = {p.pattern: p._rx_object()._regexp.ProgramSize() for p in patterns}
    assert max(sizes.values()) < 4000, max(sizes.items(), key=lambda kv: kv[1])


def test_with_no_license_anywhere_else_the_source_headers_name_the_license(
    vet_repo: Vet,
) -> None:
    # No LICENSE, no metadata, no README statement: the headers most files agree on are the
    # license, for the files that carry them only, so commercial use is unclear, never "yes".
    header = "# Copyright 2021 Example Inc.\n# Licensed under the Apache License, Version 2.0\n"
    files = {"train.py": header + "x = 1\n", "model/net.py": header + "y = 2\n", "u.py": "z = 3\n"}
    lic = vet_repo(files).license
    assert (lic.spdx, lic.commercial_use) == ("Apache-2.0", None)
    assert "source headers" in lic.governs_reason
    # Headers that disagree: no one license is the repository's.
    files["a.py"] = files["b.py"] = "# Licensed under the MIT License.\nx = 1\n"
    assert vet_repo(files, name="split").license.spdx is None
