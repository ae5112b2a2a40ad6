"""license._decide's steps, alone: the governing role, distinct licenses, AND/OR, obligations."""

from __future__ import annotations

from forkvet.report import LicenseInfo, LicenseMatch
from forkvet.vet import license as lic
from forkvet.vet.licenseterms import Terms

MIT = Terms("permissive", True, ("keep the notice",))
NC = Terms("non-commercial", False, ("no commercial use",))


def _found(spdx: str, path: str, terms: Terms, role: str = "code", conf: float = 0.9) -> lic._Found:
    match = LicenseMatch(spdx, spdx, terms.category, terms.commercial_use, path, conf, "file")
    return lic._Found(match, terms, terms.obligations, role)


def test_license_files_govern_before_metadata_and_readme() -> None:
    grants = [_found("MIT", "README.md", MIT, "readme"), _found("MIT", "setup.py", MIT, "metadata")]
    assert lic._governing_role(grants) == "metadata"
    assert lic._governing_role([]) == ""


def test_the_same_license_twice_is_one_with_its_strongest_evidence() -> None:
    weak = _found("GPL-3.0-only", "LICENSE", MIT, conf=0.5)
    strong = _found("GPL-3.0-only", "COPYING", MIT, conf=0.99)
    assert lic._distinct([weak, strong]) == [strong]


def test_lgpl3_absorbs_the_gpl3_text_it_ships_with() -> None:
    gpl = _found("GPL-3.0-only", "COPYING", MIT)
    lgpl = _found("LGPL-3.0-only", "COPYING.LESSER", MIT)
    assert lic._distinct([gpl, lgpl]) == [lgpl]


def test_and_takes_the_strictest_terms_or_the_most_permissive() -> None:
    both = [_found("MIT", "LICENSE-MIT", MIT), _found("CC-BY-NC-4.0", "LICENSE-NC", NC)]
    info = LicenseInfo()
    assert "strictest" in lic._combine(info, both, choice=False)
    assert (info.spdx, info.commercial_use) == ("MIT AND CC-BY-NC-4.0", False)
    assert "pick one" in lic._combine(info, both, choice=True)
    assert (info.spdx, info.category) == ("MIT OR CC-BY-NC-4.0", "permissive")


def test_obligations_once_each_then_the_patent_grant() -> None:
    patents = _found("LicenseRef-PATENTS", "PATENTS", MIT, "patents")
    a, b = _found("MIT", "LICENSE", MIT), _found("X", "COPYING", MIT)
    obligations, reason = lic._obligations([a, patents], [a, b])
    assert obligations == ["keep the notice", lic.PATENTS_NOTE]
    assert reason == "; PATENTS adds a patent grant"


def test_a_weights_license_beside_the_code_is_a_notice_not_the_answer() -> None:
    code, weights = (
        _found("MIT", "LICENSE", MIT),
        _found("CC-BY-NC-4.0", "weights/LICENSE", NC, "other"),
    )
    assert [f.path for f in lic._other_licenses([code, weights], code, "code")] == [
        "weights/LICENSE"
    ]
    assert lic._other_licenses([code, weights], weights, "other") == []


def test_no_license_names_a_restrictive_statement_it_saw() -> None:
    info = lic._no_license([_found("CC-BY-NC-4.0", "README.md", NC, "readme")])
    assert info.governs_reason.endswith("; CC-BY-NC-4.0 in README.md")
