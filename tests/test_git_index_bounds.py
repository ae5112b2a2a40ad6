"""A forged `.git/index` (version 4 prefix compression) cannot make the walker decode more
than git's own bounds allow: 70 bytes on disk per 20,000-byte path used to take 4 GiB."""

from __future__ import annotations

import struct
import tracemalloc

from forkvet.snapshot import _index_paths


def _v4_index(paths: list[tuple[int, bytes]]) -> bytes:
    """(bytes stripped from the previous path, suffix) entries in git's v4 format."""
    out = [struct.pack(">4sLL", b"DIRC", 4, len(paths))]
    for strip, suffix in paths:
        assert strip < 0x80  # one-byte varint is enough here
        out.append(b"\0" * 60 + struct.pack(">H", 0) + bytes([strip]) + suffix + b"\0")
    return b"".join(out)


def test_a_v4_index_reads_its_paths() -> None:
    data = _v4_index([(0, b"src/a.py"), (4, b"b.py"), (8, b"train.py")])
    assert _index_paths(data) == [b"src/a.py", b"src/b.py", b"train.py"]


def test_a_prefix_compression_bomb_is_refused_within_bounded_memory() -> None:
    entries = [(0, b"d/" + b"a" * 20_000 + b"0000000")]
    entries += [(7, b"%07d" % i) for i in range(1, 5_000)]
    data = _v4_index(entries)
    assert len(data) < 400_000
    tracemalloc.start()
    try:
        try:
            _index_paths(data)
            refused = False
        except ValueError:
            refused = True
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused
    assert peak < 80 << 20  # uncapped it would hold 100 MB of paths


def test_a_path_longer_than_git_writes_is_refused() -> None:
    try:
        _index_paths(_v4_index([(0, b"x" * 5000)]))
    except ValueError:
        return
    raise AssertionError("a 5,000-byte path was accepted")
