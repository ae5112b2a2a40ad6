"""risks._pickle_risks's steps, alone: the per-file sweep and its summary lines."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

from forkvet.snapshot import FileEntry, load
from forkvet.vet import risks
from forkvet.vet.context import Context


def _sweep(root: Path) -> risks._PickleSweep:
    return risks._PickleSweep(Context(load(root)), time.monotonic() + 30, frozenset(), [])


def test_hard_links_are_scanned_once_and_reported_by_each_name(tmp_path: Path) -> None:
    (tmp_path / "a.pkl").write_bytes(pickle.dumps({"w": [1, 2]}))
    os.link(tmp_path / "a.pkl", tmp_path / "b.pkl")
    sweep = _sweep(tmp_path)
    for name in ("a.pkl", "b.pkl"):
        entry = sweep.ctx.snap.get(name)
        assert entry is not None
        sweep.file(entry)
    assert len(sweep.seen) == 1
    assert sweep.plain == ["a.pkl", "b.pkl"]


def test_a_hard_link_past_the_file_list_is_scanned_without_quoting(tmp_path: Path) -> None:
    """Past the cut its other names are unknown (any may be outside the tree): its content
    is what a loader runs, so it is scanned, and reported without a name read from it."""
    (tmp_path / "a.pkl").write_bytes(pickle.dumps(os.system))
    os.link(tmp_path / "a.pkl", tmp_path / "b.pkl")
    sweep = _sweep(tmp_path)
    sweep.file(FileEntry("b.pkl", 0, b"b.pkl"), listed=False)
    (risk,) = sweep.risks
    assert (risk.kind, risk.severity, risk.path) == ("dangerous-pickle", "error", "b.pkl")
    assert "system" not in risk.message and "posix" not in risk.message


def test_a_file_replaced_since_the_walk_is_unverified(tmp_path: Path) -> None:
    (tmp_path / "m.pt").write_bytes(pickle.dumps([1]))
    sweep = _sweep(tmp_path)
    (tmp_path / "new").write_bytes(pickle.dumps(os.system))
    os.replace(tmp_path / "new", tmp_path / "m.pt")  # a new inode under the walked name
    entry = sweep.ctx.snap.get("m.pt")
    assert entry is not None
    sweep.file(entry)
    (risk,) = sweep.risks
    assert (risk.kind, risk.severity, risk.path) == ("pickle-unverified", "error", "m.pt")
    assert "replaced" in risk.message


def test_an_lfs_pointer_is_a_risk_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "m.pt").write_bytes(risks._LFS_VERSIONS[0] + b"\noid sha256:00\nsize 1\n")
    ctx = Context(load(tmp_path))
    entry = ctx.snap.get("m.pt")
    assert entry is not None
    sweep = risks._PickleSweep(ctx, time.monotonic() + 30, frozenset(), [])
    sweep.file(entry)
    assert [r.kind for r in sweep.risks] == ["lfs-pointer"]
    assert sweep.seen == {}


def test_summary_lines_only_when_there_is_something_to_say() -> None:
    assert risks._plain_pickles_risk([]) == []
    (plain,) = risks._plain_pickles_risk(["a.pt", "b.pt"])
    assert (plain.kind, plain.severity, plain.path) == ("pickle-checkpoint", "notice", "a.pt")
