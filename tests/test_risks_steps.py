"""risks._pickle_risks's steps, alone: the per-file sweep and its summary lines."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

from forkvet.snapshot import load
from forkvet.vet import risks
from forkvet.vet.context import Context


def _sweep(root: Path) -> risks._PickleSweep:
    return risks._PickleSweep(Context(load(root)), time.monotonic() + 30, frozenset(), [])


def test_hard_links_are_scanned_once_and_reported_by_each_name(tmp_path: Path) -> None:
    (tmp_path / "a.pkl").write_bytes(pickle.dumps({"w": [1, 2]}))
    os.link(tmp_path / "a.pkl", tmp_path / "b.pkl")
    sweep = _sweep(tmp_path)
    entry = sweep.ctx.snap.get("a.pkl")
    sweep.file("a.pkl", tmp_path / "a.pkl", entry)
    sweep.file("b.pkl", tmp_path / "b.pkl", sweep.ctx.snap.get("b.pkl"))
    assert len(sweep.seen) == 1
    assert sweep.plain == ["a.pkl", "b.pkl"]


def test_a_hard_link_past_the_file_list_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "a.pkl").write_bytes(pickle.dumps([1]))
    os.link(tmp_path / "a.pkl", tmp_path / "b.pkl")
    sweep = _sweep(tmp_path)
    sweep.file("b.pkl", tmp_path / "b.pkl", None)
    assert sweep.linked_out == ["b.pkl"] and sweep.seen == {}


def test_an_lfs_pointer_is_a_risk_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "m.pt").write_bytes(risks._LFS + b"\noid sha256:00\nsize 1\n")
    ctx = Context(load(tmp_path))
    entry = ctx.snap.get("m.pt")
    sweep = risks._PickleSweep(ctx, time.monotonic() + 30, frozenset(), [])
    sweep.file("m.pt", tmp_path / "m.pt", entry)
    assert [r.kind for r in sweep.risks] == ["lfs-pointer"]
    assert sweep.seen == {}


def test_summary_lines_only_when_there_is_something_to_say() -> None:
    assert risks._plain_pickles_risk([]) == [] and risks._linked_out_risk([]) == []
    (plain,) = risks._plain_pickles_risk(["a.pt", "b.pt"])
    assert (plain.kind, plain.severity, plain.path) == ("pickle-checkpoint", "notice", "a.pt")
