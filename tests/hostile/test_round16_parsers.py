"""Outside attack, round 16a (H4, H5, M5): the standard library's container parsers cost more
than linear time (zipfile's extra fields, tarfile's pax regex, CVE-2024-6232), hold memory
per entry before anyone counts them (zipfile), or read a header a byte at a time (gzip),
and none of them sees forkvet's deadline. forkvet reads those structures itself first, with
bounds (forkvet/vet/containers.py): what is past a bound is NOT verified, never clean.

Each cost test times two sizes of one hostile file (CPU, best of three, collector off): the
larger may cost about as much more as it is larger, never the square of it."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.vet import containers, pickles
from tests.cputime import cpu_time

EVIL = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R."


def _scan(data: bytes) -> pickles.FileScan | None:
    return pickles.scan_file(io.BytesIO(data), "x", time.monotonic() + 60)


def _linear(build: Callable[[int], bytes], small: int) -> tuple[float, float]:
    a, b = build(small), build(4 * small)
    return cpu_time(lambda: _scan(a)), cpu_time(lambda: _scan(b))


# -- zip ---------------------------------------------------------------------------------------
def _zip(entries: int, extra: bytes = b"", data: bytes = b"x") -> bytes:
    """One stored member `a`, its central-directory entry repeated (zipbomb_cd/extra in the
    round's report)."""
    crc, name = zlib.crc32(data), b"a"
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), 1, 0)
    local += name + data
    ent = struct.pack(
        "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, len(data), len(data), 1,
        len(extra), 0, 0, 0, 0, 0,
    ) + name + extra  # fmt: skip
    cd = ent * entries
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, len(cd), len(local), 0)
    return local + cd + end


def _extra_bomb(records: int) -> bytes:
    return _zip(10, b"\x99\x99\x00\x00" * records)


def test_zip_extra_field_records_do_not_cost_their_square() -> None:
    # Python 3.11's zipfile._decodeExtra copies the rest of the field after every record.
    small, large = _linear(_extra_bomb, 2000)
    assert large < 6 * small + 0.05, (small, large)
    scan = _scan(_extra_bomb(8000))
    assert scan is not None and any("extra-field" in u for u in scan.unverified)


def test_zip_entries_past_the_cap_are_never_handed_to_zipfile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 3,000,000 entries (1.5 MB in git) held 1.2 GB in ZipInfo objects before the cap applied.
    def refuse(self: zipfile.ZipFile) -> None:
        raise AssertionError("zipfile read the whole central directory")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", refuse)
    scan = _scan(_zip(containers.MAX_ZIP_ENTRIES + 1))
    assert scan is not None and any("entries" in u for u in scan.unverified)


def test_ordinary_zip_is_still_read() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(50):
            zf.writestr(f"archive/data/{i}", b"\0" * 100)
        zf.writestr("archive/data.pkl", EVIL)
    scan = _scan(out.getvalue())
    assert scan is not None and not scan.unverified
    assert ("os", "system") in scan.imports["archive/data.pkl"]


def test_package_archive_check_does_not_open_a_bounded_zip(tmp_path: Path) -> None:
    from forkvet.vet import risks

    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(_extra_bomb(8000))

    class Snap:
        def open(self, path: str) -> object:
            return open(path, "rb")

    class Ctx:
        snap = Snap()

    assert risks._zip_members(Ctx(), str(wheel), (".py",)) is None  # type: ignore[arg-type]
    assert risks._pth_members(Ctx(), str(wheel)) == [risks._UNLISTED]  # type: ignore[arg-type]


# -- tar pax headers ---------------------------------------------------------------------------
def _tar_header(name: bytes, size: int, kind: bytes) -> bytes:
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = kind
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 512)


def _pax_tar(pax: bytes) -> bytes:
    return (
        _tar_header(b"././@PaxHeader", len(pax), b"x")
        + _pad(pax)
        + _tar_header(b"model.pkl", len(EVIL), b"0")
        + _pad(EVIL)
        + b"\0" * 1024
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda n: _pax_tar(b"1" * n),  # CVE-2024-6232: `\d+ hdrcharset=` backtracks on digits
        lambda n: _pax_tar(b"2 " * (n // 2) + b"="),  # each record's keyword runs to the `=`
    ],
    ids=["digits", "keyword-to-equals"],
)
def test_tar_pax_header_does_not_cost_its_square(build: Callable[[int], bytes]) -> None:
    small, large = _linear(build, 4000)
    assert large < 6 * small + 0.05, (small, large)
    scan = _scan(build(16000))
    assert scan is not None and any("pax header" in u for u in scan.unverified)


def test_ordinary_pax_tar_is_still_read() -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("d/" + "long-name-" * 20 + ".pkl")
        info.size, info.mtime = len(EVIL), 1700000000.123456
        info.pax_headers = {"comment": "x" * 2000, "hdrcharset": "BINARY"}
        tf.addfile(info, io.BytesIO(EVIL))
    scan = _scan(out.getvalue())
    assert scan is not None
    assert not scan.unverified, scan.unverified
    assert any(("os", "system") in found for found in scan.imports.values())


def test_pax_problem_accepts_what_tarfile_writes() -> None:
    for headers in ({"path": "a" * 300}, {"mtime": "1700000000.5", "uid": "123456789012"}):
        buf = tarfile.TarInfo("x")
        buf.pax_headers = headers
        block = buf.tobuf(format=tarfile.PAX_FORMAT)
        size = int(block[124:136].rstrip(b"\0 "), 8)
        assert containers.pax_problem(block[512 : 512 + size] + b"\0" * 100) is None


# -- gzip --------------------------------------------------------------------------------------
def _member(data: bytes, flags: int = 0, fields: bytes = b"") -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = co.compress(data) + co.flush()
    head = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\x00\x03" + fields
    return head + body + struct.pack("<II", zlib.crc32(data), len(data))


def test_gzip_header_name_is_not_read_a_byte_at_a_time() -> None:
    # gzip.GzipFile: ~170 ns a byte of FNAME, outside every deadline (500 MB: 81 s, passed clean)
    def build(n: int) -> bytes:
        return _member(EVIL, 8, b"a" * n + b"\0") + b"\0" * n + _member(EVIL, 16, b"c" * n + b"\0")

    small, large = _linear(build, 1 << 20)
    assert large < 0.5, (small, large)
    scan = _scan(build(4 << 20))
    assert scan is not None and ("os", "system") in scan.imports["(gzip)"]


def _gzip_reads(data: bytes, reader: Callable[[io.BytesIO], io.RawIOBase | io.IOBase]) -> bytes:
    got = b""
    f = reader(io.BytesIO(data))
    try:
        while chunk := f.read(7):
            got += chunk
    except (OSError, EOFError):
        pass
    return got


@pytest.mark.parametrize(
    "data",
    [
        _member(b"one") + _member(b"two"),
        _member(b"one", 4, b"\x03\x00abc") + b"\0" * 10 + _member(b"two", 2 | 8, b"n\0\x12\x34"),
        _member(b"one")[:-3],  # truncated trailer
        _member(b"one")[:-8] + b"\0\0\0\0\3\0\0\0" + _member(b"two"),  # bad CRC
        _member(b"one") + b"junk",
        _member(b"one") + b"\x1f\x8b\x09",
        _member(b"a" * 100_000) + _member(b"b" * 3),
    ],
)
def test_gzip_members_read_what_gzipfile_reads(data: bytes) -> None:
    def ours(fh: io.BytesIO) -> io.RawIOBase:
        return pickles._Readable(containers.GzipMembers(fh.read, lambda: None).read)

    def theirs(fh: io.BytesIO) -> io.RawIOBase:  # GzipFile's raw reader, under its buffer
        return getattr(gzip, "_GzipReader")(fh)  # type: ignore[no-any-return]  # noqa: B009

    assert _gzip_reads(data, ours) == _gzip_reads(data, theirs)


# -- H3: a pickle that only a CRLF checkout makes dangerous ------------------------------------
def _crlf_pickle() -> bytes:
    """Benign as committed (no NUL, no CR: git calls it text); each LF in the bytes string
    becomes CRLF on a Windows checkout, pushing the string's last bytes out as opcodes."""
    act = b"\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R."
    content = b"\n" * len(act) + act
    body = b"\x80\x03}\x8c\x05modelC" + bytes([len(content)]) + content + b"s."
    assert b"\0" not in body and b"\r" not in body
    return body


def test_a_pickle_is_also_walked_as_a_crlf_checkout_writes_it() -> None:
    data = _crlf_pickle()
    converted = pickles._crlf(data)
    # what a CRLF checkout gives a loader imports os.system (read, never loaded, here)
    assert b"\r\n" in converted and converted.count(b"\n") == data.count(b"\n")
    scan = _scan(data)
    assert scan is not None
    assert ("os", "system") in scan.imports[pickles.CRLF_CHECKOUT]
    assert not scan.imports.get("")  # as committed: only a dict


def test_binary_pickles_and_text_are_not_walked_twice() -> None:
    binary = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s."
    scan = _scan(binary)
    assert scan is not None and list(scan.imports) == []
    assert _scan(b"hello\nworld\n" * 100) is None


def test_crlf_reader_pairs_a_cr_across_chunks() -> None:
    data = b"a" * ((1 << 16) - 1) + b"\r\nb\nc\r\n"
    reader = pickles._CrlfReader(io.BytesIO(data))
    got = b""
    while chunk := reader.read(1000):
        got += chunk
    assert got == pickles._crlf(data) == data.replace(b"b\n", b"b\r\n")


# -- H2: a submodule the README populates; M1: a README that checks out another ref -----------
def _vet(tmp_path: Path, files: dict[str, str]) -> dict[str, list[str]]:
    from forkvet.snapshot import load
    from forkvet.vet import vet

    root = tmp_path / "repo"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    out: dict[str, list[str]] = {}
    for r in vet(load(root)).risks:
        out.setdefault(r.kind, []).append(f"{r.severity}: {r.message}")
    return out


_GITMODULES = '[submodule "w"]\n\tpath = checkpoints\n\turl = https://example.org/w.git\n'


@pytest.mark.parametrize(
    "files",
    [
        {"README.md": "    git clone --recursive https://example.org/x.git\n"},
        {"README.md": "# x\n", "setup.sh": "git submodule update --init\n"},
        {"README.md": "# x\n", "demo.py": "torch.load('checkpoints/model.pt')\n"},
    ],
    ids=["readme-recursive", "script-update", "code-path"],
)
def test_an_absent_submodule_the_repository_uses_is_not_verified(
    tmp_path: Path, files: dict[str, str]
) -> None:
    kinds = _vet(tmp_path, {".gitmodules": _GITMODULES, **files})
    assert "submodule-absent" not in kinds
    (msg,) = kinds["submodule-unverified"]
    assert msg.startswith("error:") and "NOT verified" in msg


def test_an_absent_submodule_nothing_uses_is_a_warning(tmp_path: Path) -> None:
    kinds = _vet(tmp_path, {".gitmodules": _GITMODULES, "README.md": "# x\n", "a.py": "x = 1\n"})
    assert kinds["submodule-absent"][0].startswith("warning:")
    assert "submodule-unverified" not in kinds


def test_a_readme_checkout_of_another_ref_is_named(tmp_path: Path) -> None:
    readme = (
        "The checkpoint lives on the `release` branch:\n\n"
        "    git checkout release && python eval.py\n"
        "    git clone -b v2.1 https://example.org/owner/repo.git\n"
        "    git checkout -b mine\n    git checkout -- file.py\n    git checkout master\n"
    )
    kinds = _vet(tmp_path, {"README.md": readme, "eval.py": "x = 1\n"})
    refs = kinds["other-ref"]
    assert len(refs) == 2 and "`release`" in refs[0] and "`v2.1`" in refs[1]
    assert all(r.startswith("warning:") for r in refs)


def test_prose_about_git_checkout_names_no_ref(tmp_path: Path) -> None:
    readme = "First git checkout the code, then `git checkout dev` for the new model.\n"
    kinds = _vet(tmp_path, {"README.md": readme, "eval.py": "x = 1\n"})
    assert [r.split("`")[1] for r in kinds["other-ref"]] == ["dev"]


# -- the same readers for `env`'s source archives ---------------------------------------------
def test_sdist_archives_go_through_the_same_bounds() -> None:
    from forkvet.envgen import sdist

    pkg = b"Metadata-Version: 2.1\nName: evil\nRequires-Dist: numpy\n"
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as tf:
        info = tarfile.TarInfo("evil-1.0/PKG-INFO")
        info.size = len(pkg)
        tf.addfile(info, io.BytesIO(pkg))
    named = _member(tar.getvalue(), 8, b"n" * (4 << 20) + b"\0")  # a 4 MB gzip name: read fast
    assert cpu_time(lambda: sdist.members(named, "evil-1.0.tar.gz")) < 0.5
    assert "numpy" in sdist.members(named, "evil-1.0.tar.gz")["PKG-INFO"]
    with pytest.raises(sdist.ArchiveTooLarge):
        sdist.members(_pax_tar(b"1" * 16000), "evil-1.0.tar")
    with pytest.raises(sdist.ArchiveTooLarge):
        sdist.members(_extra_bomb(8000), "evil-1.0.zip")


def test_a_checkout_in_another_repositorys_clone_is_not_ours(tmp_path: Path) -> None:
    readme = (
        "Install MXNet:\n\n```\ngit clone --recursive https://github.com/apache/mxnet.git\n"
        "cd mxnet\ngit checkout v0.10.0\n```\n"
    )
    kinds = _vet(tmp_path, {"README.md": readme, "eval.py": "x = 1\n"})
    assert "other-ref" not in kinds


def test_a_path_that_only_ends_like_the_submodule_is_no_use(tmp_path: Path) -> None:
    modules = '[submodule "l"]\n\tpath = lib\n\turl = https://example.org/l.git\n'
    files = {".gitmodules": modules, "README.md": "# x\n", "a.py": "p = '/usr/lib/x'\n"}
    assert "submodule-unverified" not in _vet(tmp_path, files)


def test_a_code_submodule_the_readme_brings_in_is_a_warning(tmp_path: Path) -> None:
    # Code never vetted, like a committed package archive: named, a warning. Weights inside
    # it (a file a loader reads, or a submodule named for checkpoints) are the error above.
    modules = '[submodule "c"]\n\tpath = third_party/cutlass\n\turl = https://example.org/c.git\n'
    files = {
        ".gitmodules": modules,
        "README.md": "    git clone --recursive https://example.org/repo.git\n",
        "setup.py": "include_dirs=['third_party/cutlass/include']\n",
    }
    kinds = _vet(tmp_path, files)
    assert "submodule-unverified" not in kinds
    (msg,) = kinds["submodule-absent"]
    assert msg.startswith("warning:") and "code was not vetted" in msg
    files["demo.py"] = "w = torch.load('third_party/cutlass/w/model.pth')\n"
    assert "submodule-unverified" in _vet(tmp_path / "again", files)
