"""The steps of accept.apply, each on its own (issue 23)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forkvet.accept import Acceptance, _accepted, _match, _unused
from forkvet.report import Finding, RepoInfo, Report


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


def test_the_pin_binds_the_snapshots_files_without_walking_the_tree_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pin of a data finding reads the files the vet's snapshot listed (snapshot_files)
    instead of walking the tree a second time, and gives the pin the walk gives."""
    from forkvet import accept, fstree
    from forkvet.snapshot import load

    (tmp_path / "nets").mkdir()
    (tmp_path / "nets/model.py").write_text("class Net: pass\n")
    (tmp_path / "ckpt.pkl").write_bytes(b"\x80\x02cnets.model\nNet\nq\x00.")
    (tmp_path / "README.md").write_text("hi\n")
    finding = Finding("risks", "error", "Unsafe pickle", "imports nets.model.Net", "ckpt.pkl")
    walked = accept._pin_of(tmp_path, finding, accept._tree(tmp_path))
    files = accept.snapshot_files(load(tmp_path))
    assert files is not None and "nets/model.py" in files

    def no_walk(*_: object) -> None:
        raise AssertionError("the tree was walked again")

    monkeypatch.setattr(fstree, "walk", no_walk)
    report = Report(repo=RepoInfo(name="r"), findings=[finding])
    accept.pin(report, tmp_path, files)
    assert finding.pin == walked
