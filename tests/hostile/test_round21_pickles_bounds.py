"""Round 21 (outside attack, round 20a F4, F6, F9, F10, F12, F13): shelve stores in every dbm
format, compressed streams cut or broken after their output, native modules shadowing the
standard library, acceptances bound to the content they accepted, and bounds that fail
closed (a large JSON file, a large or file-borne chat template)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import zlib
from collections.abc import Callable

import pytest

from forkvet.report import Report, Risk

README = {"README.md": "# Model\n"}
# A protocol 4 pickle that imports and calls os.system (never loaded here: only scanned).
_EVIL = (
    b"\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
    b"\x8c\x04true\x94\x85\x94R\x94."
)


def _errors(report: Report, path: str) -> list[Risk]:
    return [r for r in report.risks if r.path == path and r.severity == "error"]


# -- F9: a compressed stream cut after its output ------------------------------------------------
def _cut(kind: str, data: bytes) -> bytes:
    if kind == "bz2":
        return bz2.compress(data)[:-10]
    if kind == "xz":
        return lzma.compress(data)[:-10]
    if kind == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE)[:-5]
    if kind == "gz":
        return gzip.compress(data)[:-4]
    if kind == "zlib":
        return zlib.compress(data)[:-2]
    if kind == "lz4":
        lz4_frame = pytest.importorskip("lz4.frame")
        return bytes(lz4_frame.compress(data))[:-4]
    zstandard = pytest.importorskip("zstandard")
    return bytes(zstandard.ZstdCompressor(write_checksum=True).compress(data))[:-2]


_KINDS = ["bz2", "xz", "lzma", "gz", "zlib", "lz4", "zst"]


@pytest.mark.parametrize("kind", _KINDS)
def test_a_cut_compressed_pickle_is_walked_and_not_verified(
    vet_repo: Callable[..., Report], kind: str
) -> None:
    path = f"m.pkl.{kind}"
    found = _errors(vet_repo({**README, path: _cut(kind, _EVIL)}), path)
    assert {r.kind for r in found} == {"dangerous-pickle", "pickle-unverified"}, found
    assert any("posix.system" in r.message for r in found), found


@pytest.mark.parametrize("kind", ["bz2", "xz", "lzma"])
def test_the_loaders_do_read_a_cut_stream_up_to_its_cut(kind: str) -> None:
    """The differential the rule rests on: the file objects hand out what came before the cut
    to a reader that asks a little at a time, and pickle.load stops at STOP."""
    value = {"a": list(range(10))}
    data = _cut(kind, pickle.dumps(value, protocol=4))
    raw = io.BytesIO(data)
    if kind == "bz2":
        with bz2.BZ2File(raw) as f:
            assert pickle.load(f) == value
    else:
        fmt = lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE
        with lzma.LZMAFile(raw, format=fmt) as g:
            assert pickle.load(g) == value


@pytest.mark.parametrize("kind", ["bz2", "xz", "gz", "zlib"])
def test_a_cut_compressed_pickle_of_data_is_not_verified(
    vet_repo: Callable[..., Report], kind: str
) -> None:
    path = f"m.pkl.{kind}"
    data = _cut(kind, pickle.dumps({"a": [1, 2]}, protocol=4))
    found = _errors(vet_repo({**README, path: data}), path)
    assert [r.kind for r in found] == ["pickle-unverified"], found


def test_a_whole_compressed_pickle_of_data_passes(vet_repo: Callable[..., Report]) -> None:
    data = pickle.dumps({"a": [1, 2]}, protocol=4)
    report = vet_repo({**README, "m.pkl.bz2": bz2.compress(data), "n.pkl.xz": lzma.compress(data)})
    assert not [r for r in report.risks if r.severity == "error"], report.risks
