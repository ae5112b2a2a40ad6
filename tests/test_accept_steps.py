"""The steps of accept.apply, each on its own (issue 23)."""

from __future__ import annotations

from forkvet.accept import Acceptance, _accepted, _match, _unused
from forkvet.report import Finding


def test_an_acceptance_matches_by_fingerprint_or_by_rule_and_exact_path() -> None:
    f = Finding("risks", "error", "torch.load", "unsafe", "src/train.py")
    by_fp = Acceptance("ok", fingerprint="fp1")
    by_path = Acceptance("ok", rule="risks/torch-load", path="src/train.py")
    other = Acceptance("ok", rule="risks/torch-load", path="train.py")
    assert _match([other, by_path], f, "risks/torch-load", "fp0") == (1, by_path)
    assert _match([by_fp], f, "risks/other", "fp1") == (0, by_fp)
    assert _match([other], f, "risks/torch-load", "fp0") is None


def test_an_accepted_finding_keeps_what_it_was_and_unused_ones_are_noted() -> None:
    f = Finding("risks", "error", "torch.load", "unsafe", "train.py")
    a = Acceptance("reviewed", rule="r", path="train.py", by="ada")
    note = _accepted(f, a, "r", "fp")
    assert (note.severity, note.title) == ("notice", "Accepted: torch.load")
    assert note.accepted and note.accepted["severity"] == "error"
    assert note.message == "unsafe [accepted by ada: reviewed; was error]"
    (unused,) = _unused([a, Acceptance("old", fingerprint="abc")], {0})
    assert unused.message == "abc (old) matches no finding any more: remove it from the policy"
