"""Outside attack, round 17a: pickles and the containers around them.

F0: a zip holding two archives whose end records zipfile and torch's reader (miniz) read
differently: each loader gets its own central directory. F4: a pickle after padding.
F5: the CRLF label. F6: what an acceptance of a pickle finding covers."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from forkvet.vet import containers
from tests.hostile import payloads as P

Vet = Callable[..., Report]


def _zip64(entries: int, size: int, offset: int) -> bytes:
    return struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries, entries, size, offset)


def _locator(record_at: int) -> bytes:
    return struct.pack("<IIQI", 0x07064B50, 0, record_at, 1)


def _eocd(entries: int, size: int, offset: int) -> bytes:
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, size, offset, 0)


def _parts(payload: bytes, base: int) -> tuple[bytes, bytes]:
    """(local headers, central directory) of a torch-layout zip, its offsets moved by base."""
    data = P.torch_zip(payload)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        start = zf.start_dir
    end = data.index(b"PK\x05\x06", start)
    cd = bytearray(data[start:end])
    p = 0
    while p < len(cd):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", cd, p + 28)
        (off,) = struct.unpack_from("<I", cd, p + 42)
        struct.pack_into("<I", cd, p + 42, off + base)
        p += 46 + name_len + extra_len + comment_len
    return data[:start], bytes(cd)


def two_archives(evil: bytes, benign: bytes, variant: str) -> bytes:
    """Evil members and directory, then benign ones, then end records that send zipfile to
    the benign directory and torch's reader to the evil one."""
    local_e, cd_e = _parts(evil, 0)
    out = bytearray(local_e)
    cd_e_at = len(out)
    out += cd_e
    z_e_at = len(out)
    out += _zip64(2, len(cd_e), cd_e_at)
    local_b, cd_b = _parts(benign, len(out))
    out += local_b
    cd_b_at = len(out)
    out += cd_b
    out += _zip64(2, len(cd_b), cd_b_at)  # the record zipfile reads: just before the locator
    if variant == "locator":  # miniz reads the zip64 record at the locator's offset
        out += _locator(z_e_at) + _eocd(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    elif variant == "classic":  # no zip64 record at offset 0: miniz takes the classic record
        out += _locator(0) + _eocd(2, len(cd_e), cd_e_at)
    else:  # a classic record whose values are not the zip64 record's
        out += _locator(len(out) - 56) + _eocd(2, len(cd_e), cd_e_at)
    return bytes(out)


@pytest.mark.parametrize("variant", ["locator", "classic", "mixed"])
def test_zip_end_records_two_readers_read_differently_are_an_error(
    tmp_path: Path, vet_repo: Vet, variant: str
) -> None:
    marker = tmp_path / "PWNED"
    data = two_archives(P.os_system(f"touch {marker}", 2), P.safe_state_dict(), variant)
    assert containers.zip_readers_disagree(io.BytesIO(data))
    report = vet_repo({"checkpoints/model.pt": data})
    errors = {r.path: r for r in report.risks if r.severity == "error"}
    assert "checkpoints/model.pt" in errors, report.risks
    assert errors["checkpoints/model.pt"].kind == "pickle-unverified"


def test_the_two_archive_fixture_really_runs_under_torch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    marker = tmp_path / "PWNED"
    data = two_archives(P.os_system(f"touch {marker}", 2), P.safe_state_dict(), "locator")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # zipfile sees only the benign members
        assert b"system" not in zf.read("archive/data.pkl")
    loader = "import torch, io; torch.load(io.BytesIO(DATA), weights_only=False)"
    assert P.really_runs(loader, data, tmp_path, marker)


def test_a_second_end_record_after_the_directory_is_an_error() -> None:
    data = P.torch_zip(P.safe_state_dict())
    extra = data[-22:]
    assert containers.zip_readers_disagree(io.BytesIO(data)) is None
    # an end record in the comment: the last one is read, another reader may take the first
    with_comment = data[:-2] + struct.pack("<H", 22) + extra
    assert containers.zip_readers_disagree(io.BytesIO(with_comment))


def test_ordinary_archives_agree(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros(3))
    assert containers.zip_readers_disagree(io.BytesIO(buf.getvalue())) is None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"x")
        zf.comment = b"a comment"
    assert containers.zip_readers_disagree(io.BytesIO(buf.getvalue())) is None
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    assert containers.zip_readers_disagree(io.BytesIO(buf.getvalue())) is None
