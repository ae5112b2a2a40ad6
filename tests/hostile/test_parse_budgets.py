"""Issue 17: a setup.py that names one list in thousands of setup() calls, and source archives
that ask for more memory than forkvet reads, finish quickly and within bounded memory."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from forkvet.envgen import sdist
from forkvet.vet import metadata
from tests.hostile import payloads as P

ROOT = Path(__file__).resolve().parents[2]


def _copies_bomb(items: int, calls: int) -> str:
    """The attacker's shape: one list, then setup() calls that add it to itself 16 times."""
    expr = "a"
    for _ in range(4):
        expr = f"({expr}+{expr})"
    listing = "a = [" + ",".join(f"'x{i}'" for i in range(items)) + "]\n"
    return "from setuptools import setup\n" + listing + f"setup(install_requires={expr})\n" * calls


def test_setup_py_copies_bomb_is_bounded(tmp_path: Path) -> None:
    # 5,000 items x 16 copies x 400 calls: 32 million requirements before the budget.
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "setup.py").write_text(_copies_bomb(5_000, 400), encoding="utf-8")
    seconds, peak_mib, rc, report = P.vet_bounded(repo, 30.0)
    assert rc in (0, 1) and report
    assert seconds < 10.0, f"{seconds:.1f} s of CPU"
    assert peak_mib < 400, f"{peak_mib:.0f} MiB"
    said = [f["message"] for f in report["findings"]]  # type: ignore[attr-defined]
    assert "setup.py: over 10000 requirement items; the rest not read" in said


def test_setup_py_budget_counts_concatenations() -> None:
    # 1,000 items read 16 times in one call: over the budget, whatever the duplicates.
    meta = metadata.parse_setup_py("setup.py", _copies_bomb(1_000, 3))
    assert meta is not None
    assert len(meta.requires) <= metadata.MAX_SETUP_ITEMS
    assert meta.notes == ["setup.py: over 10000 requirement items; the rest not read"]
    # Under the budget, the same shape reads every item once.
    meta = metadata.parse_setup_py("setup.py", _copies_bomb(50, 2))
    assert meta is not None and meta.notes == []
    assert meta.requires == [f"x{i}" for i in range(50)]


def test_setup_py_ordinary_lists_and_duplicates() -> None:
    text = (
        "from setuptools import setup\nbase = ['numpy', 'scipy']\nextra = ['torch']\n"
        "setup(name='p', install_requires=base + extra + base)\n"
    )
    meta = metadata.parse_setup_py("setup.py", text)
    assert meta is not None and meta.name == "p"
    assert meta.requires == ["numpy", "scipy", "torch"]
    assert meta.notes == []


def test_setup_py_deadline_stops_reading() -> None:
    meta = metadata.parse_setup_py("setup.py", _copies_bomb(10, 5), deadline=0.0)
    assert meta is not None and meta.requires == []
    assert meta.notes == ["setup.py: over its time limit; the rest not read"]


def test_zip_members_total_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdist, "MAX_UNPACKED", 256 * 1024)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("evil-1.0/PKG-INFO", "Name: evil\nRequires-Dist: numpy\n")
        for i in range(20):
            zf.writestr(f"evil-1.0/r{i}.txt", "a" * (64 * 1024))
    files = sdist.members(buf.getvalue(), "evil-1.0.zip")
    assert "PKG-INFO" in files
    assert sum(len(t) for t in files.values()) <= 256 * 1024
    assert len(files) < 21


def _longname_tar(declared: int, present: int) -> bytes:
    """A GNU long-name header declaring `declared` bytes, followed by `present` of them."""
    hdr = tarfile.TarInfo("././@LongLink")
    hdr.type = tarfile.GNUTYPE_LONGNAME
    hdr.size = declared
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1) as g:
        g.write(hdr.tobuf(format=tarfile.GNU_FORMAT))
        chunk = b"a" * (1 << 20)
        for _ in range(present >> 20):
            g.write(chunk)
    return out.getvalue()


def test_tar_longname_header_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdist, "MAX_UNPACKED", 1024 * 1024)
    monkeypatch.setattr(sdist, "MAX_READ", 1024 * 1024)
    with pytest.raises(sdist.ArchiveTooLarge):
        sdist.members(_longname_tar(4 * 1024**3, 8 * 1024 * 1024), "evil-1.0.tar.gz")
    assert issubclass(sdist.ArchiveTooLarge, ValueError)  # static_metadata: "not read"


def test_tar_longname_header_memory_in_child(tmp_path: Path) -> None:
    # A 4 GiB declared long name with 256 MiB present: tarfile alone holds it all.
    archive = tmp_path / "evil-1.0.tar.gz"
    archive.write_bytes(_longname_tar(4 * 1024**3, 256 * 1024 * 1024))
    code = (
        "import sys\nfrom forkvet.envgen.sdist import members, ArchiveTooLarge\n"
        "try:\n    members(open(sys.argv[1], 'rb').read(), sys.argv[1])\n"
        "except ArchiveTooLarge:\n    sys.exit(3)\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "_measure.py"),
            sys.executable,
            "-c",
            code,
            *[str(archive)],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    m = json.loads(proc.stdout)
    assert m["rc"] == 3, m["stderr"]
    assert m["peak_mib"] < 250, f"{m['peak_mib']:.0f} MiB"


def test_ordinary_tar_sdist_still_read() -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for name, text in {
            "p-1.0/PKG-INFO": "Name: p\nVersion: 1.0\nRequires-Dist: numpy\n",
            "p-1.0/setup.py": "from setuptools import setup\nsetup(install_requires=['six'])\n",
            "p-1.0/src/big.py": "x = 1\n" * 1000,
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    files = sdist.members(out.getvalue(), "p-1.0.tar.gz")
    assert set(files) == {"PKG-INFO", "setup.py"}
    assert sdist.read_static("p", "1.0", files).requires == ["numpy"]


@pytest.mark.parametrize("head", [b"\x1f\x8b\x08\x00", b"BZh9", b"\xfd7zXZ\x00"])
def test_corrupt_compressed_tar_is_a_read_error(head: bytes) -> None:
    with pytest.raises(tarfile.ReadError):
        sdist.members(head + b"\x00garbage" * 100, "p-1.0.tar.gz")
