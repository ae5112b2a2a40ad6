"""License identification against the SPDX texts, tolerant of real-world formatting."""

from __future__ import annotations

import textwrap

import pytest

from forkvet.vet.licensedb import match_text
from tests.conftest import LICENSES, license_text

SPDX_FIXTURES = sorted(
    p.stem for p in LICENSES.glob("*.txt") if p.stem[0].isupper() or p.stem[0].isdigit()
)


@pytest.mark.parametrize("spdx", SPDX_FIXTURES)
def test_every_fixture_text_is_named(spdx: str) -> None:
    found = match_text(license_text(f"{spdx}.txt"))
    assert found, spdx
    # GPL texts are identical for -only and -or-later: the family must match.
    assert found[0].spdx.rsplit("-", 1)[0] == spdx.rsplit("-", 1)[0] or found[0].spdx == spdx


@pytest.mark.parametrize("spdx", ["MIT", "Apache-2.0", "BSD-3-Clause", "CC-BY-NC-4.0"])
def test_preamble_copyright_reflow_and_markdown_do_not_matter(spdx: str) -> None:
    text = license_text(f"{spdx}.txt")
    reflowed = textwrap.fill(" ".join(text.split()), width=60)
    variant = (
        "# License\n\nThis repository is the code of our CVPR paper. Its license:\n\n"
        "Copyright (c) 2018-2020 Jane Researcher, Some University\nAll rights reserved.\n\n"
        + reflowed.replace("the ", "**the** ", 3)
    )
    assert match_text(variant)[0].spdx == spdx


def test_bsd3_is_not_also_bsd2_and_bsd2_is_not_bsd3() -> None:
    assert [m.spdx for m in match_text(license_text("BSD-3-Clause.txt"))] == ["BSD-3-Clause"]
    assert [m.spdx for m in match_text(license_text("BSD-2-Clause.txt"))] == ["BSD-2-Clause"]


def test_two_licenses_in_one_file_come_in_document_order() -> None:
    text = (
        license_text("MIT.txt")
        + "\n\n---- Third-party code ----\n\n"
        + license_text("Apache-2.0.txt")
    )
    found = [m.spdx for m in match_text(text)]
    assert found[:2] == ["MIT", "Apache-2.0"]


def test_unrelated_text_matches_nothing() -> None:
    text = (
        "This is our research code for image segmentation. Please contact the authors "
        "before using it. We thank our sponsors. " * 5
    )
    assert match_text(text) == []


def test_truncated_license_is_not_claimed() -> None:
    words = license_text("Apache-2.0.txt").split()
    assert all(m.spdx != "Apache-2.0" for m in match_text(" ".join(words[: len(words) // 3])))


def test_word_index_agrees_with_the_bundled_texts() -> None:
    """The first pass counts shared words from a prebuilt index: a stale index (texts updated,
    index not rebuilt) would silently drop licenses from the short list."""
    import gzip
    import json
    import sys
    from importlib import resources
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from build_license_data import word_index

    data = resources.files("forkvet.data")
    texts = json.loads(gzip.decompress(data.joinpath("spdx_licenses.json.gz").read_bytes()))
    index = json.loads(gzip.decompress(data.joinpath("spdx_words.json.gz").read_bytes()))
    assert index == word_index(texts)


def test_apache_without_its_appendix_is_apache_not_a_modified_apache() -> None:
    # The apache.org file as many repositories ship it: the terms, then the filled-in notice
    # instead of the "How to apply" appendix. Pixar's license is Apache-2.0 without the
    # appendix and with one clause changed; it must not win on this text.
    terms = license_text("Apache-2.0.txt").split("APPENDIX:")[0]
    text = terms + (
        "\n   Copyright 2021 Jane Researcher\n\n"
        '   Licensed under the Apache License, Version 2.0 (the "License");\n'
        "   you may not use this file except in compliance with the License.\n"
    )
    assert [m.spdx for m in match_text(text)] == ["Apache-2.0"]


def test_apache_without_its_appendix_is_apache_not_its_near_twin() -> None:
    # Pixar's license is Apache-2.0 less the appendix with clause 6 changed: an Apache text
    # cut at "END OF TERMS AND CONDITIONS" keeps Apache's clause 6, so it is Apache-2.0.
    text = license_text("Apache-2.0.txt")
    cut = text[: text.index("END OF TERMS AND CONDITIONS") + len("END OF TERMS AND CONDITIONS")]
    assert [m.spdx for m in match_text(cut)][:1] == ["Apache-2.0"]
    # Wrapped and indented as LICENSE files are, the words split into other bigrams.
    wrapped = "\n\n".join(
        textwrap.fill(p, 72, initial_indent="   ", subsequent_indent="      ")
        for p in cut.split("\n\n")
    )
    assert [m.spdx for m in match_text(wrapped)][:1] == ["Apache-2.0"]
    assert [m.spdx for m in match_text(text)][:1] == ["Apache-2.0"]
