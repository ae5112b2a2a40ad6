"""licensedb.match_text's steps, alone: shortlist, compare, explain, order."""

from __future__ import annotations

from forkvet.vet import licensedb
from forkvet.vet.licensedb import TextMatch
from forkvet.vet.textnorm import bigrams, normalize_tokens


def _template(spdx: str) -> str:
    return licensedb.template_tokens(spdx)


def test_the_shortlist_holds_the_template_whose_words_the_text_has() -> None:
    words = set(normalize_tokens(_template("MIT")))
    assert "MIT" in [e.spdx for e in licensedb._shortlist(words)][:5]


def test_a_whole_template_is_a_full_match() -> None:
    tokens = normalize_tokens(_template("Apache-2.0"))
    shortlist = [e for e in licensedb._shortlist(set(tokens)) if e.spdx == "Apache-2.0"]
    full, partial = licensedb._compare(shortlist, bigrams(tokens))
    assert [m.spdx for _, m, _ in full] == ["Apache-2.0"] and partial == []
    assert full[0][1].containment >= licensedb.ACCEPT


def test_a_second_license_must_explain_mostly_new_text() -> None:
    a, b, c = (TextMatch(x, x, 1.0, 1.0, True) for x in ("A", "B", "C"))
    ranked = [(a, {1, 2, 3, 4}), (b, {1, 2, 3, 5}), (c, {6, 7, 8})]
    assert [m.spdx for m in licensedb._explaining(ranked)] == ["A", "C"]


def test_two_licenses_come_in_the_order_of_the_text() -> None:
    text = _template("MIT") + " " + _template("Apache-2.0")
    found = licensedb.match_text(text)
    assert [m.spdx for m in found] == ["MIT", "Apache-2.0"]
    assert found[0].position < found[1].position
