"""risks._pickle_risks's steps, alone: the per-file sweep and its summary lines."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

from forkvet.snapshot import FileEntry, FolderChain, load
from forkvet.vet import risks
from forkvet.vet.context import Context


def _sweep(root: Path) -> risks._PickleSweep:
    ctx = Context(load(root))
    chain = FolderChain(ctx.snap.root)  # a few descriptors, for the test's life
    return risks._PickleSweep(ctx, chain, time.monotonic() + 30, frozenset(), [])


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
    sweep = _sweep(tmp_path)
    entry = sweep.ctx.snap.get("m.pt")
    assert entry is not None
    sweep.file(entry)
    assert [r.kind for r in sweep.risks] == ["lfs-pointer"]
    assert sweep.seen == {}


def test_summary_lines_only_when_there_is_something_to_say() -> None:
    assert risks._plain_pickles_risk([]) == []
    (plain,) = risks._plain_pickles_risk(["a.pt", "b.pt"])
    assert (plain.kind, plain.severity, plain.path) == ("pickle-checkpoint", "notice", "a.pt")


def _fds() -> set[str]:
    """This process's open descriptors (another thread or a collected file object may close
    one of its own meanwhile: compare what was opened, not the count)."""
    return set(os.listdir("/proc/self/fd"))


def test_the_folder_chain_reads_the_walked_files_never_a_swapped_in_link(tmp_path: Path) -> None:
    """The sweep keeps the current folder open between files: a folder swapped for a link
    since is never followed, whether the chain holds the folder already or not."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.pkl").write_bytes(pickle.dumps([1]))
    (tmp_path / "d" / "y.pkl").write_bytes(pickle.dumps([2]))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "y.pkl").write_bytes(pickle.dumps(os.system))
    snap = load(tmp_path)
    x, y = snap.get("d/x.pkl"), snap.get("d/y.pkl")
    assert x is not None and y is not None
    with FolderChain(snap.root) as held, FolderChain(snap.root) as fresh:
        held.open(x).close()  # holds d/
        os.rename(tmp_path / "d", tmp_path / "d_old")
        os.symlink("elsewhere", tmp_path / "d")
        with held.open(y) as fh:  # the folder it opened: the walked file, not the link's
            assert pickle.loads(fh.read()) == [2]
        try:
            fresh.open(y).close()
            raise AssertionError("followed a folder swapped for a link")
        except OSError:
            pass


def test_the_folder_chain_opens_deep_trees_and_closes_what_it_holds(tmp_path: Path) -> None:
    depth = FolderChain.MAX_HELD + 8
    folder = tmp_path
    for i in range(depth):
        folder = folder / f"l{i}"
        folder.mkdir()
        (folder / "f.bin").write_bytes(str(i).encode())
    snap = load(tmp_path)
    before = _fds()
    with FolderChain(snap.root) as chain:
        for entry in snap.files:
            with chain.open(entry) as fh:
                assert fh.read() == str(entry.path.count("/") - 1).encode()
        assert len(_fds() - before) <= FolderChain.MAX_HELD + 1
    assert _fds() - before == set()
