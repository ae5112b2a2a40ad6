"""Issue 19, round 5 (dev half): holders named two to a notice, spelled out in parentheses or
only for bundled code; ports and feature extractors are not the primary framework; weights
whose license nothing states leave commercial use unclear. Each fixture is written here,
never copied from a repository."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.report import Report
from forkvet.vet.copyright import holder_name

Vet = Callable[..., Report]

MIT_BODY = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
    'of this software and associated documentation files (the "Software"), to deal\n'
    "in the Software without restriction.\n"
)


# ---- copyright --------------------------------------------------------------------------


def test_two_people_in_one_notice_are_two_holders(vet_repo: Vet) -> None:
    lic = "MIT License\n\nCopyright (c) 2023 Ann Lee, Bo Chen\n\n" + MIT_BODY
    holders = vet_repo({"LICENSE": lic, "model.py": "import os\n"}).copyright["holders"]
    assert holders == ["Ann Lee", "Bo Chen"]


def test_an_organisation_and_its_place_stay_one_holder() -> None:
    assert holder_name("Copyright (c) 2017 Widget AI Research, Menlo Park") == (
        "Widget AI Research, Menlo Park"
    )


def test_a_parenthesis_spelling_out_the_acronym_is_part_of_the_name() -> None:
    line = "Copyright (c) 2019 Acme WRL (Acme Widget Research Lab)"
    assert holder_name(line) == "Acme WRL (Acme Widget Research Lab)"
    # Any other parenthesis (an abbreviation after the name, an address) is no part of it.
    assert holder_name("Copyright 2019 Widget Gesellschaft e.V. (WG)") == "Widget Gesellschaft e.V."
    assert holder_name("Copyright (c) 2019 Jane Doe (https://example.org/jd)") == "Jane Doe"


def test_original_and_modified_work_notices_are_holders(vet_repo: Vet) -> None:
    lic = (
        "MIT License\n\nModified & original work Copyright (c) 2019 Jane Doe (https://x.org/jd)\n"
        "Original work Copyright (c) 2018 John Roe\n\n" + MIT_BODY
    )
    holders = vet_repo({"LICENSE": lic, "model.py": "import os\n"}).copyright["holders"]
    assert holders == ["Jane Doe", "John Roe"]


def test_notices_only_below_a_license_for_bundled_code_separator_are_not_the_repos(
    vet_repo: Vet,
) -> None:
    apache = (
        "                                 Apache License\n"
        "                           Version 2.0, January 2004\n\n"
        "   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n\n"
        '      "Licensor" shall mean the copyright owner or entity authorized by\n'
        "      the copyright owner that is granting the License.\n\n"
    )
    lic = (
        apache
        + "------------- LICENSE FOR Widget code  --------------\n\n"
        + "# Copyright (c) 2020, WIDGET CORPORATION. All rights reserved.\n"
    )
    readme = "# Tool\n\n## Licensing\n\nCopyright (c) 2024, Acme Labs.\n"
    files = {"LICENSE": lic, "README.md": readme, "model.py": "import os\n"}
    assert vet_repo(files).copyright["holders"] == ["Acme Labs"]
