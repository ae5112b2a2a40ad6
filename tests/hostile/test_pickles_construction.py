"""The pickle rules of issue 17, by construction: every stream gets the pickle probe whatever
its name, folder or magic bytes; sniffing a container only adds scans."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from forkvet.report import Report
from tests.hostile import payloads as P

Vet = Callable[..., Report]


def _disguised(cmd: str) -> dict[str, bytes]:
    return {
        "ustar.pkl": P.ustar_at_257(cmd),
        "bzh.pkl": P.bzh_prefix(cmd),
        "gzip_magic.pkl": P.prefixed(b"\x1f\x8b\x08\x00", cmd),
        "zip_magic.pkl": P.prefixed(b"PK\x03\x04", cmd),
        "npy_magic.pkl": P.prefixed(b"\x93NUMPY\x01\x00", cmd),
        "xz_magic.pkl": P.prefixed(b"\xfd7zXZ\x00", cmd),
        "zstd_magic.pkl": P.prefixed(b"\x28\xb5\x2f\xfd", cmd),
        "release/ustar.pt": P.torch_zip(P.ustar_at_257(cmd)),
        "release/bzh.pt": P.torch_zip(P.bzh_prefix(cmd)),
    }


def test_a_pickle_that_looks_like_a_container_is_still_walked(
    tmp_path: Path, vet_repo: Vet
) -> None:
    marker = tmp_path / "PWNED"
    cases = _disguised(f"touch {marker}")
    report = vet_repo(cases)
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert sorted(set(cases) - errors) == []
    assert not marker.exists()


@pytest.mark.parametrize("name", ["ustar.pkl", "bzh.pkl", "zip_magic.pkl", "npy_magic.pkl"])
def test_the_disguised_fixtures_really_run_code(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "PWNED"
    data = _disguised(f"touch {marker}")[name]
    assert P.really_runs("import pickle; pickle.loads(DATA)", data, tmp_path, marker)


def test_a_module_name_that_is_no_identifier_is_still_an_import(tmp_path: Path) -> None:
    """pickle.load hands any module name to __import__, which finds `1evil.py` or
    `my-mod.py` in the repository: such an import is an error, not the end of the walk."""
    from forkvet.snapshot import load
    from forkvet.vet import vet

    marker = tmp_path / "PWNED"
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    (repo / "1evil.py").write_text(f"open({str(marker)!r}, 'w')\nx = 1\n")
    (repo / "lib" / "my-mod.py").write_text(f"open({str(marker)!r}, 'w')\nx = 1\n")
    cases = {
        "a.pkl": b"c1evil\nx\n.",
        "b.pkl": b"\x80\x02cmy-mod\nx\nq\x00)\x81.",
        "c.pkl": b"(i1evil\nx\n.",
        "d.pkl": b"\x80\x04\x8c\x061evil \x94\x8c\x01x\x94\x93.",  # not a repository name
        "e.pkl": b"\x80\x04\x8c\x051evil\x94\x8c\x03x-y\x94\x93.",
        # after a name no loader can import, the walk goes on to the next import
        "f.pkl": b"cnot a module\nx\n0" + P.os_system("true", 2)[2:],
        # a name too long to keep is unknown, whatever module it is in
        "g.pkl": b"cos\n" + b"path.os." * 10_000 + b"system\n(Vtrue\ntR.",
        # text that spells a GLOBAL of names nothing can import is not a pickle
        "CHANGES": b"changes\n=======\n\n- 1.0: first release\n",
        # INST `mport lib.x`: __import__ needs `mport lib` first, which nothing provides
        "lib/use.py": b"import lib.x\nfrom lib import y\n",
    }
    for name, data in cases.items():
        (repo / name).write_bytes(data)
    report = vet(load(repo))
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert errors == {"a.pkl", "b.pkl", "c.pkl", "e.pkl", "f.pkl", "g.pkl"}
    assert not any(r.path in ("CHANGES", "lib/use.py") for r in report.risks)
    assert not marker.exists()
    # and the loaders really do import the repository's module
    lib = repo / "lib"
    assert P.really_runs("import pickle; pickle.loads(DATA)", cases["a.pkl"], repo, marker)
    marker.unlink()
    assert P.really_runs("import pickle; pickle.loads(DATA)", cases["b.pkl"], lib, marker)


def test_zstd_and_lz4_pickles_are_opened(tmp_path: Path, vet_repo: Vet) -> None:
    marker = tmp_path / "PWNED"
    evil = P.os_system(f"touch {marker}", 4)
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"junk"
    cases = {
        "model.pkl.zst": P.zstd(evil),
        "model.joblib": P.lz4_frame(evil),
        "skip.zst": skippable + P.zstd(evil),
        "skip.lz4": skippable + P.lz4_frame(evil),
        "tar.zst": P.zstd(P.tarred({"a/b": P.gz(evil)})),
    }
    report = vet_repo({**cases, "plain.zst": P.zstd(b"just text\n" * 100)})
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert errors == set(cases)
    assert P.really_runs(
        "import io, pandas; pandas.read_pickle(io.BytesIO(DATA), compression='zstd')",
        cases["model.pkl.zst"],
        tmp_path,
        marker,
    )
    marker.unlink()
    assert P.really_runs(
        "import joblib; joblib.load('payload.bin')", cases["model.joblib"], tmp_path, marker
    )


def test_a_zstd_bomb_stops_at_the_bound(vet_repo: Vet, monkeypatch: pytest.MonkeyPatch) -> None:
    from forkvet.vet import pickles

    monkeypatch.setattr(pickles, "MAX_DECOMPRESSED", 1 << 20)
    flood = P.opcode_flood(4_000_000)
    report = vet_repo({"bomb.zst": P.zstd(flood), "bomb.lz4": P.lz4_frame(flood)})
    unverified = {r.path for r in report.risks if r.kind == "pickle-unverified"}
    assert unverified == {"bomb.zst", "bomb.lz4"}


def test_plain_numpy_arrays_are_never_pickles_object_arrays_always(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """Issue 19: a float32 .npy whose data starts with pickle opcodes is data (numpy.load
    never unpickles it); only an object dtype's data is a pickle. A header numpy cannot read
    proves nothing, so the data is probed."""
    np = pytest.importorskip("numpy")
    import io

    evil = P.os_system(f"touch {tmp_path / 'PWNED'}", 2)
    pad = evil + b"\x00" * (-len(evil) % 4)
    floats = P.npy_plain(pad)  # the bytes of a pickle, as float32 numbers
    assert np.load(io.BytesIO(floats)).dtype == np.float32
    buf = io.BytesIO()
    np.savez(buf, a=np.frombuffer(pad, dtype=np.float32), b=np.arange(3.0))
    report = vet_repo(
        {
            "floats.npy": floats,
            "arrays.npz": buf.getvalue(),
            "fields.npy": P.npy_plain(pad, "[('x', '<f4'), ('y', [('z', '>i2')], (2,))]", 2),
            "objects.npy": P.npy_object("true"),
            "object_field.npy": P.npy_plain(pad, "[('x', '<f4'), ('y', [('z', '|O')])]"),
            "object_comma.npy": P.npy_plain(pad, "'f4,O'"),
            "broken_header.npy": P.npy_plain(pad).replace(b"'descr'", b"'descX'"),
        }
    )
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert errors == {"objects.npy", "object_field.npy", "object_comma.npy", "broken_header.npy"}
    assert not any(r.path in ("floats.npy", "arrays.npz", "fields.npy") for r in report.risks)


def test_pickles_in_skipped_folders_and_past_the_file_cut_are_found(
    tmp_path: Path, vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file list skips `.cache`, `venv`, `node_modules`, ... and stops at a count; a
    loader reads `checkpoints/.cache/model.pkl` all the same."""
    from forkvet import snapshot

    evil = P.os_system("true", 2)
    folders = [".cache", "venv", "node_modules", "site-packages", "__pycache__"]
    folders += [".ipynb_checkpoints", ".venv/lib/python3.11/site-packages/pkg", ".tox/x"]
    cases = {f"checkpoints/{d}/model.pkl": evil for d in folders}
    report = vet_repo({**cases, "train.py": "import pickle\n"})
    assert {r.path for r in report.risks if r.severity == "error"} == set(cases)

    monkeypatch.setattr(snapshot, "MAX_FILES", 5)
    many: dict[str, str | bytes] = {f"a{i:02}.txt": "x\n" for i in range(20)}
    many |= {"z/late.pkl": evil, "z/.cache/later.pkl": P.gz(evil)}
    report = vet_repo(many, name="cut")
    assert any(n.title == "Repository truncated" for n in report.findings)
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert errors == {"z/late.pkl", "z/.cache/later.pkl"}


def test_long_paths_cut_the_file_list_by_their_bytes_and_are_still_probed(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150,000 files of 4 KB paths once took 2.6 GB: the list is cut by the bytes of its
    paths too; the files past the cut are probed all the same, or reported unverified."""
    from forkvet import snapshot
    from forkvet.vet import risks

    evil = P.os_system("true", 2)
    deep = "/".join(["d" * 60] * 3)
    many: dict[str, str | bytes] = {f"{deep}/a{i:02}.txt": "x\n" for i in range(20)}
    many |= {f"{deep}/z/late.pkl": evil, "train.py": "import pickle\n"}
    monkeypatch.setattr(snapshot, "MAX_PATH_BYTES", 1_000)
    report = vet_repo(many, name="long")
    assert any(n.title == "Repository truncated" for n in report.findings)
    assert f"{deep}/z/late.pkl" in {r.path for r in report.risks if r.severity == "error"}
    # Past a byte budget for the unlisted files too: an error, never silence.
    monkeypatch.setattr(risks, "_MAX_UNLISTED_BYTES", 100)
    report = vet_repo(many, name="longer")
    assert any(r.kind == "pickle-unverified" and "MiB of paths" in r.message for r in report.risks)


def _bad_crc(data: bytes) -> bytes:
    gz = bytearray(P.gz(data))
    gz[-8] ^= 0xFF  # the CRC-32 in the trailer: gzip raises only when it reads to the end
    return bytes(gz)


def test_a_stream_that_fails_after_its_pickle_is_judged_on_what_came_first(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """A compressed stream that breaks after the pickle's STOP: the loader has run it by then,
    so the scan walks what came before the break (also when the stream is read twice)."""
    marker = tmp_path / "PWNED"
    cmd = f"touch {marker}"
    tail = b"N" * 20_000  # read after STOP only by a scanner, never by pickle.load
    cases = {
        "plain.pkl.gz": _bad_crc(P.os_system(cmd, 2) + tail),
        "ustar.pkl.gz": _bad_crc(P.ustar_at_257(cmd) + tail),
        "bzh.pkl.gz": _bad_crc(P.prefixed(b"BZh9", cmd) + tail),
        "member.zip": P.zipped({"x.gz": _bad_crc(P.ustar_at_257(cmd) + tail)}),
    }
    report = vet_repo(cases)
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert errors == set(cases)
    for name in ("plain.pkl.gz", "ustar.pkl.gz"):
        loader = "import gzip, io, pickle; pickle.load(gzip.open(io.BytesIO(DATA)))"
        assert P.really_runs(loader, cases[name], tmp_path, marker), name
        marker.unlink()


def test_text_that_only_spells_an_import_is_data_unless_the_import_is_the_repositorys(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """A file list starting `imgHQ00000.npy` spells INST: joblib's pure-Python unpickler
    imports `mgHQ00000` and fails before calling anything (the C unpickler fails even
    earlier). Only importing the repository's own module runs code, and a deliberate
    dangerous import stays an error (never weaker than picklescan)."""
    listing = "".join(f"imgHQ{i:05d}.npy\n" for i in range(40)).encode()
    report = vet_repo(
        {
            "data/celebahqtrain.txt": listing,
            "data/ignore.txt": b"cbuiltins\neval\n\xff",  # eval imported, never called
            "data/own.txt": b"ievilmod\nrun\n\xff",  # imports the repository's evilmod.py
            "evilmod.py": b"x = 1\n",
            "data/called.txt": b"cos\nsystem\n(S'true'\ntR.",
        }
    )
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert "data/celebahqtrain.txt" not in errors
    assert {"data/ignore.txt", "data/own.txt", "data/called.txt"} <= errors


def test_an_import_only_file_really_imports_under_joblib(tmp_path: Path) -> None:
    """The premise of the rule above, on the real loader: joblib imports the module named by
    a MARK-less INST, then fails before calling it."""
    marker = tmp_path / "IMPORTED"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w')\n")
    data = b"ievilmod\nrun\n\xff"
    code = (
        "import sys, joblib, pathlib; sys.path.insert(0, '.'); "
        "pathlib.Path('f.pkl').write_bytes(DATA)\n"
        "try:\n    joblib.load('f.pkl')\nexcept Exception:\n    pass"
    )
    assert P.really_runs(code, data, tmp_path, marker)


def test_pickles_after_one_that_pickletools_refuses_are_still_walked(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """pickle.load accepts a memo key stored twice and items left under STOP; pickletools
    does not. A loader that reads on (torch's legacy format: magic, protocol, sys_info, data)
    runs what follows, so the scan reads on too, whatever the first pickle looks like."""
    import pickle

    marker = tmp_path / "PWNED"
    payload = P.os_system(f"touch {marker}", 2)
    head = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    cases = {
        "memo_twice.pt": head + b"\x80\x02}q\x00q\x00." + payload,
        "stack_left.pt": head + b"\x80\x02NN." + payload,
        "unsound_first.pkl": b"}q\x00q\x00." + payload,
    }
    report = vet_repo(cases)
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert sorted(set(cases) - errors) == []
    data = cases["memo_twice.pt"]
    loader = "import torch, io; torch.load(io.BytesIO(DATA), weights_only=False)"
    assert P.really_runs(loader, data, tmp_path, marker)


def test_a_zip_whose_directory_two_readers_place_differently_is_an_error(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """zipfile takes a gap before the central directory as a prefix and shifts every offset;
    torch's reader takes the offsets as written. When the two disagree, which members load
    depends on the loader: not verified, an error."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    shifted = b"\0" * 512 + buf.getvalue()  # offsets as written, 512 bytes off
    report = vet_repo({"model.pt": shifted, "plain.pt": buf.getvalue()})
    errors = {r.path: r.message for r in report.risks if r.severity == "error"}
    assert "model.pt" in errors and "zip directory" in errors["model.pt"]
    assert "plain.pt" not in errors


def test_a_tar_header_declaring_gigabytes_is_not_read_into_memory(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """tarfile reads a GNU long name whole before the member it names: one declaring 4 GiB
    is refused unread (not verified, an error), and vet stays small."""
    import gzip
    import tarfile

    long_name = tarfile.TarInfo("././@LongLink")
    long_name.type = tarfile.GNUTYPE_LONGNAME
    long_name.size = 4 << 30
    data = gzip.compress(long_name.tobuf(tarfile.USTAR_FORMAT) + b"\0" * (1 << 20))
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "data.tar.gz").write_bytes(data)
    cpu, peak_mib, code, report = P.vet_bounded(repo)
    assert code == 1 and peak_mib < 300, (cpu, peak_mib)
    risks = report["risks"]
    assert isinstance(risks, list)
    assert any(r["kind"] == "pickle-unverified" and "tar header" in r["message"] for r in risks)


def test_python_source_that_spells_inst_is_not_a_pickle(tmp_path: Path, vet_repo: Vet) -> None:
    """`import yaml` at a file's start spells INST of module `mport yaml`: no loader can import
    that name (a space), whatever the name line holds, even one too long to keep."""
    long_line = "x = [" + "a," * 50_000 + "]\n"
    report = vet_repo({"setup.py": "import yaml\n" + long_line, "train.py": "import os\n"})
    assert not [r for r in report.risks if "pickle" in r.kind and r.severity == "error"]


def test_modules_the_loader_finds_by_their_real_names_keep_their_imports_errors(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """__import__ finds `ev\\il.py` by its name on disk (shown escaped in reports) and
    `helpers.py -> notes.txt` through the link the file list skips: an import of either is
    the repository's code, an error even when the stream breaks right after it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "ev\\il.py").write_text("x = 1\n")
    (repo / "notes.txt").write_text("x = 1\n")
    (repo / "helpers.py").symlink_to("notes.txt")
    (repo / "a.pkl").write_bytes(b"\x80\x02cev\\il\nx\n)R.")
    (repo / "b.pkl").write_bytes(b"\x80\x02chelpers\nx\n\xff")
    from forkvet.snapshot import load
    from forkvet.vet import vet

    errors = {r.path for r in vet(load(repo)).risks if r.severity == "error"}
    assert {"a.pkl", "b.pkl"} <= errors


def test_a_file_the_scanner_trips_on_is_an_error_and_the_rest_are_still_scanned(
    tmp_path: Path, vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5,000-digit INT line once raised out of the walker and stopped the risks check for
    the whole repository, hiding an os.system pickle beside it. Whatever the scanner trips on,
    that file is pickle-unverified (an error) and every other file is still scanned."""
    from forkvet.vet import pickles

    cmd = f"touch {tmp_path / 'PWNED'}"
    cases = {"huge_int.pkl": b"I" + b"9" * 5000 + b"\n.", "model.pkl": P.os_system(cmd, 2)}
    report = vet_repo(cases)
    assert "Check incomplete" not in {f.title for f in report.findings}
    assert any(r.path == "model.pkl" and r.severity == "error" for r in report.risks)

    real = pickles.scan_file

    def trips(fh: IO[bytes], shown: str, deadline: float) -> object:
        if shown == "a_first.pkl":
            raise RuntimeError("scanner bug")
        return real(fh, shown, deadline)

    monkeypatch.setattr(pickles, "scan_file", trips)
    report = vet_repo({"a_first.pkl": P.safe_state_dict(), "model.pkl": P.os_system(cmd, 2)})
    by_path = {r.path: r for r in report.risks if r.severity == "error"}
    assert by_path["a_first.pkl"].kind == "pickle-unverified"
    assert "model.pkl" in by_path


def _overstated_zip() -> bytes:
    """A harmless torch zip whose central directory claims 1,000,000 bytes for its first
    member: reading that member runs past the end (EOFError)."""
    data = bytearray(P.torch_zip(P.safe_state_dict()))
    at = data.find(b"PK\x01\x02")
    data[at + 20 : at + 28] = struct.pack("<II", 10**6, 10**6)
    return bytes(data)


def test_a_zip_overstating_a_member_beside_a_malicious_checkpoint(
    tmp_path: Path, vet_repo: Vet
) -> None:
    """Round 5's F1: the broken zip once stopped the whole risks check (a notice, exit 0),
    hiding the malicious checkpoint. Now the broken one is pickle-unverified, the malicious
    one still an error, exit 1."""
    cmd = f"touch {tmp_path / 'PWNED'}"
    report = vet_repo(
        {"model.pt": P.torch_zip(P.os_system(cmd, 2)), "zz_extra.pt": _overstated_zip()}
    )
    by_path = {r.path: r for r in report.risks if r.severity == "error"}
    assert by_path["zz_extra.pt"].kind == "pickle-unverified"
    assert by_path["model.pt"].kind != "pickle-unverified"
    assert "Check incomplete" not in {f.title for f in report.findings}
    assert report.has_errors  # exit 1
