"""Differential test of the pickle rules (issue 17): a generator builds many layouts and
mutations of one payload — magic prefixes, `ustar` at byte 257, every compression, archives
nested in archives, zip member names, folders the file list skips, file names, protocols 0-5,
module names that are no identifiers. Every real loader (pickle, torch, numpy, joblib,
pandas) then tries each file in a throwaway child process whose payload only creates a
marker file in the child's own temporary folder.

Whenever any loader runs the payload, forkvet must report an error for that file; and
whenever picklescan flags a file, forkvet must too."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from forkvet.snapshot import load
from forkvet.vet import vet
from tests.hostile import payloads as P

Wrap = Callable[[bytes], bytes]


# -- payloads: one command, many spellings ------------------------------------------------------
class _Touch:
    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.name}",))


def _bases(case: str) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(label, pickle bytes, repository files it needs) that run `touch <case>` when loaded."""
    cmd = f"touch {case}"
    for proto in range(6):
        yield f"p{proto}", P.os_system(cmd, proto), {}
    for proto in (2, 4, 5):
        yield f"dumps{proto}", pickle.dumps(_Touch(case), protocol=proto), {}
    yield "harmless_first", P.harmless_first(cmd), {}
    yield "no_proto", P.stripped_proto(cmd), {}
    yield "exec", P.builtins_exec(f"import os; os.system({cmd!r})"), {}
    # names that are no identifiers: __import__ finds the repository's file all the same
    module = f"import os\nos.system({cmd!r})\nx = 1\n"
    yield "digit_module", f"c1m_{case}\nx\n.".encode(), {f"1m_{case}.py": module}
    mod = f"my-mod-{case}"
    yield "dash_module", b"\x80\x02c" + mod.encode() + b"\nx\n.", {f"{mod}.py": module}
    name = f"sp {case}"
    short = bytes([len(name)])
    stack_global = b"\x80\x04\x8c" + short + name.encode() + b"\x94\x8c\x01x\x94\x93."
    yield "space_module", stack_global, {f"{name}.py": module}


# -- wrappers ------------------------------------------------------------------------------------
_MAGICS = {
    "zip": b"PK\x03\x04",
    "zipend": b"PK\x05\x06",
    "gzip": b"\x1f\x8b\x08\x00",
    "bz2": b"BZh9",
    "xz": b"\xfd7zXZ\x00",
    "npy": b"\x93NUMPY\x01\x00",
    "zf": b"ZF0x10",
    "zstd": b"\x28\xb5\x2f\xfd",
    "lz4": b"\x04\x22\x4d\x18",
    "skip": b"\x50\x2a\x4d\x18",
}


def _ustar(data: bytes) -> bytes:
    return b"V" + b"x" * 256 + b"ustar\x0000" + b"y" * 300 + b"\n0" + data


def _npy_object(data: bytes) -> bytes:
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".ljust(117)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header + b"\n" + data


def _prefix(magic: bytes) -> Wrap:
    return lambda d: P.magic_prefix(magic) + d


def _zip(member: str, method: int = zipfile.ZIP_STORED) -> Wrap:
    return lambda d: P.zipped({member: d}, method)


def _torch(d: bytes) -> bytes:
    return P.zipped({"archive/data.pkl": d, "archive/version": b"3\n"}, zipfile.ZIP_STORED)


def _tar(member: str) -> Wrap:
    return lambda d: P.tarred({member: d})


def _junk_zip(d: bytes) -> bytes:
    return b"#!/bin/sh\necho not a zip\n" + P.zipped({"model.pkl": d})


def _npz(d: bytes) -> bytes:
    return P.zipped({"w.npy": P.npy_plain(b"\0" * 16), "meta.npy": _npy_object(d)})


def _lzma_small(d: bytes) -> bytes:
    """LZMA "alone" with a 4 KiB dictionary: `]\x00\x10`, which joblib reads as lzma."""
    import lzma

    lzma1 = [{"id": lzma.FILTER_LZMA1, "dict_size": 4096}]
    return lzma.compress(d, format=lzma.FORMAT_ALONE, filters=lzma1)


_TAIL = b"N" * 20_000  # after STOP: read by a scanner, never by a loader


def _legacy(sys_info: bytes) -> Wrap:
    """torch's legacy stream (magic number, protocol, sys_info, the data, storage keys) whose
    sys_info pickle.load reads but pickletools refuses: torch.load goes on to the data."""
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    proto = pickle.dumps(1001, protocol=2)
    return lambda d: magic + proto + sys_info + d + pickle.dumps([], protocol=2)


def _bad_crc(gz: bytes) -> bytes:
    out = bytearray(gz)
    out[-8] ^= 0xFF  # gzip checks the CRC-32 only when it reads to the end
    return bytes(out)


WRAPPERS: dict[str, tuple[Wrap, str]] = {
    "raw": (lambda d: d, ".pkl"),
    **{f"magic_{k}": (_prefix(m), ".pkl") for k, m in _MAGICS.items()},
    "ustar257": (_ustar, ".pkl"),
    "gzip": (P.gz, ".pkl.gz"),
    "bz2": (P.bz, ".pkl.bz2"),
    "xz": (P.xz, ".pkl.xz"),
    "lzma": (P.lzma_alone, ".lzma"),
    "lzma_small_dict": (_lzma_small, ".pkl"),
    "zlib": (P.zlib_raw, ".joblib"),
    "zfile": (P.joblib_zfile, ".pkl"),
    "zstd": (P.zstd, ".pkl.zst"),
    "lz4": (P.lz4_frame, ".joblib"),
    "npy": (_npy_object, ".npy"),
    "npz": (_npz, ".npz"),
    "torch": (_torch, ".pt"),
    "zip_data": (_zip("data.pkl"), ".zip"),
    "zip_deflated": (_zip("model/weights", zipfile.ZIP_DEFLATED), ".zip"),
    "zip_odd_name": (_zip("../ odd\u00e9 name"), ".pth"),
    "junk_zip": (_junk_zip, ".zip"),
    "tar": (_tar("model.pkl"), ".tar"),
    "tar_gz": (lambda d: P.gz(P.tarred({"ckpt/state": d})), ".tar.gz"),
    "zip_in_tar_in_gzip": (lambda d: P.gz(P.tarred({"in.zip": _torch(d)})), ".tgz"),
    "gz_in_zip": (lambda d: P.zipped({"m.gz": P.gz(d)}), ".zip"),
    "magic_in_torch": (lambda d: _torch(P.magic_prefix(b"BZh1") + d), ".pt"),
    "ustar_in_zst": (lambda d: P.zstd(_ustar(d)), ".pkl.zst"),
    "gzip_bad_crc": (lambda d: _bad_crc(P.gz(d + _TAIL)), ".pkl.gz"),
    "xz_cut": (lambda d: P.xz(d + _TAIL)[:-30], ".pkl.xz"),
    "bz2_cut": (lambda d: P.bz(d + _TAIL)[:-30], ".pkl.bz2"),
    "magic_in_gzip": (lambda d: P.gz(P.magic_prefix(b"PK\x03\x04") + d), ".pkl.gz"),
    "legacy_memo_twice": (_legacy(b"\x80\x02}q\x00q\x00."), ".pt"),
    "legacy_stack_left": (_legacy(b"\x80\x02NN."), ".pt"),
}
_FOLDERS = [
    "",
    ".cache/",
    "venv/lib/",
    "node_modules/m/",
    "__pycache__/",
    "ckpt/.ipynb_checkpoints/",
]
_NAMES = ["", "weights.bin", "model.txt", "noext"]


def _cases(root: Path) -> dict[str, str]:
    """Writes every case into root: {path: case id}."""
    out: dict[str, str] = {}
    pick = itertools.count()
    labels = [b for b, _, _ in _bases("c0")]
    for wi, (wname, (wrap, ext)) in enumerate(WRAPPERS.items()):
        for bi, label in enumerate(labels):
            case = f"c{wi}x{bi}"
            _base, data, needs = next(b for b in _bases(case) if b[0] == label)
            n = next(pick)
            folder = _FOLDERS[n % len(_FOLDERS)]
            alt = _NAMES[(n // len(_FOLDERS)) % len(_NAMES)]
            name = alt if alt and wname.startswith(("raw", "magic_", "ustar")) else case + ext
            path = f"{folder}{case}-{name}" if alt else f"{folder}{name}"
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(wrap(data))
            for file, text in needs.items():
                (root / file).write_text(text)
            out[path] = case
    return out


# -- the loaders, in a child process ---------------------------------------------------------------
_CHILD = r"""
import json, os, sys, warnings
warnings.simplefilter("ignore")
repo, cases = sys.argv[1], json.loads(sys.stdin.read())
sys.path.insert(0, repo)  # a training script runs from the repository
def loaders():
    import pickle
    yield "pickle", lambda p: pickle.load(open(p, "rb"))
    try:
        import torch
        yield "torch", lambda p: torch.load(p, weights_only=False)
    except ImportError:
        pass
    import numpy
    def np_load(p):
        out = numpy.load(p, allow_pickle=True)
        if hasattr(out, "files"):
            for k in out.files:
                out[k]
    yield "numpy", np_load
    import joblib
    yield "joblib", joblib.load
    import pandas
    yield "pandas", pandas.read_pickle
ran = {}
for name, load in loaders():
    for path, case in cases.items():
        try:
            load(os.path.join(repo, path))
        except BaseException:
            pass
        if os.path.exists(case):
            os.unlink(case)
            ran.setdefault(path, []).append(name)
print(json.dumps(ran))
"""


def _picklescan_flags(path: Path) -> bool:
    from picklescan.scanner import scan_file_path

    try:
        return bool(scan_file_path(str(path)).infected_files)
    except Exception:  # picklescan fails on some layouts (a zip with junk before it)
        return False


def test_whenever_a_loader_runs_the_payload_forkvet_reports_an_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    cases = _cases(repo)
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(repo)],
        input=json.dumps(cases),
        cwd=sandbox,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    ran: dict[str, list[str]] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not list(sandbox.iterdir())

    report = vet(load(repo))
    errors = {r.path for r in report.risks if r.severity == "error"}
    missed = {p: ran[p] for p in ran if p not in errors}
    assert missed == {}
    by_picklescan = {p for p in cases if _picklescan_flags(repo / p)}
    assert sorted(by_picklescan - errors) == []
    # the generator is real: most layouts run under some loader, every loader runs some
    assert len(ran) > 0.8 * len(cases), sorted(set(cases) - set(ran))
    assert {n for names in ran.values() for n in names} >= {"pickle", "numpy", "joblib"}
    assert not list(sandbox.iterdir())
