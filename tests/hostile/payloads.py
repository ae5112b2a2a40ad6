"""Hostile files, built at run time from bytes: pickles that run a command when loaded, in every
wrapper a loader reads, and resource bombs. Nothing here loads them (the `really_runs` check
does, on purpose, in a throwaway child process, to prove a fixture is real).

Used by tests/hostile/* and benchmarks/bench_pickles.py.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path


def _str0(s: str) -> bytes:
    return s.encode()


def os_system(cmd: str, proto: int) -> bytes:
    """A pickle of protocol `proto` that calls os.system(cmd) when loaded.

    Written opcode by opcode: protocols 0-1 have no PROTO opcode, 4-5 import with STACK_GLOBAL
    from memoized strings, as pickle.dumps writes them.
    """
    arg = cmd.encode()
    if proto == 0:
        return b"cos\nsystem\n(V" + arg + b"\ntR."
    if proto == 1:
        return b"cos\nsystem\n(X" + struct.pack("<I", len(arg)) + arg + b"tR."
    head = b"\x80" + bytes([proto])
    if proto < 4:
        return head + b"cos\nsystem\nq\x00X" + struct.pack("<I", len(arg)) + arg + b"\x85R."
    body = (
        b"\x8c\x02os\x94\x8c\x06system\x94\x93\x94"
        + b"\x8c"
        + bytes([len(arg)])
        + arg
        + b"\x94\x85\x94R\x94."
    )
    if proto >= 4:
        body = b"\x95" + struct.pack("<Q", len(body)) + body  # FRAME, as pickle.dumps writes
    return head + body


def harmless_first(cmd: str) -> bytes:
    """Protocol 0 that builds and drops a list before importing: no PROTO, no import at byte 0."""
    return b"(I1\nI2\nl0(dS'epoch'\nI3\ns0" + os_system(cmd, 0)


def builtins_exec(code: str) -> bytes:
    return b"c__builtin__\nexec\n(V" + code.encode("raw_unicode_escape") + b"\ntR."


def stripped_proto(cmd: str) -> bytes:
    """A protocol-2 pickle without its PROTO opcode (the unpickler does not need it)."""
    return os_system(cmd, 2)[2:]


class _Reduce:
    """pickle.dumps of this writes os.system(cmd) — __reduce__ is called by dumps, never run."""

    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.cmd,))


def safe_state_dict() -> bytes:
    import collections

    return pickle.dumps(collections.OrderedDict(epoch=3, lr=[0.1, 0.01]), protocol=2)


# -- wrappers ----------------------------------------------------------------------------------
def gz(data: bytes) -> bytes:
    return gzip.compress(data)


def bz(data: bytes) -> bytes:
    return bz2.compress(data)


def xz(data: bytes) -> bytes:
    return lzma.compress(data)


def lzma_alone(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_ALONE)


def zlib_raw(data: bytes) -> bytes:
    return zlib.compress(data)


def joblib_zfile(data: bytes) -> bytes:
    """joblib < 0.10's compressed pickle: b'ZF', the hex length padded to 19, then zlib."""
    return b"ZF" + f"{len(data):#x}".ljust(19).encode() + zlib.compress(data)


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tarred(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def torch_zip(payload: bytes) -> bytes:
    """torch.save's zip layout with `payload` as its data.pkl."""
    return zipped({"archive/data.pkl": payload, "archive/version": b"3\n"}, zipfile.ZIP_STORED)


def npy_object(cmd: str) -> bytes:
    """A .npy whose dtype is object: numpy pickles the data after the header."""
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.array([_Reduce(cmd), 1], dtype=object), allow_pickle=True)
    return buf.getvalue()


def npz_object(cmd: str) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, weights=np.arange(4.0), meta=np.array([_Reduce(cmd)], dtype=object))
    return buf.getvalue()


def _pint(n: int) -> bytes:
    return b"\x80\x02K" + bytes([n]) + b"."


def legacy_torch_tar(cmd: str, where: str = "pickle") -> bytes:
    """torch's legacy tar checkpoint (sys_info, pickle, storages, tensors members).

    where="pickle": the payload is the main pickle. where="storages": the main pickle is
    harmless and the payload is the storage-views pickle that follows a raw storage's bytes.
    """
    evil = os_system(cmd, 2)
    # (key, location, storage type)
    storage_args = b"\x80\x02(X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nFloatStorage\nt."
    raw = struct.pack("<q", 2) + struct.pack("<2f", 1.0, 2.0)
    views = evil if where == "storages" else b"\x80\x02]."
    members = {
        "sys_info": pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        "pickle": evil if where == "pickle" else pickle.dumps({"epoch": 1}, protocol=2),
        "storages": _pint(1) + storage_args + raw + views,
        "tensors": _pint(0),
    }
    return tarred(members)


# -- the set ------------------------------------------------------------------------------------
def hostile_set(cmd: str) -> dict[str, bytes]:
    """{path: bytes} of malicious pickles that call os.system(cmd) when their ordinary loader
    reads them: each bypass of issue 9 and its neighbours."""
    evil = os_system(cmd, 2)
    cases = {f"proto{p}.pkl": os_system(cmd, p) for p in range(6)}
    cases |= {
        "harmless_first.pkl": harmless_first(cmd),
        "no_proto.dat": stripped_proto(cmd),
        "exec.bin": builtins_exec(f"import os; os.system({cmd!r})"),
        "dumps.pkl": pickle.dumps(_Reduce(cmd), protocol=4),
        # odd names: content decides
        "weights.bin": os_system(cmd, 0),
        "model.ckpt": os_system(cmd, 1),
        "net.model": os_system(cmd, 3),
        "yolo.weights": os_system(cmd, 4),
        "no_extension": os_system(cmd, 5),
        "notes.txt": harmless_first(cmd),
        "figure.png": os_system(cmd, 2),
        # compression wrappers (joblib reads each of them directly)
        "model.joblib": gz(evil),
        "model.pkl.gz": gz(evil),
        "model.pkl.bz2": bz(evil),
        "model.pkl.xz": xz(evil),
        "model.pkl.lzma": lzma_alone(evil),
        "model.pkl.z": zlib_raw(evil),
        "old_joblib.pkl": joblib_zfile(evil),
        # archives
        "release/model.pt": torch_zip(evil),
        "data.zip": zipped({"data/weights": evil}),  # member not named *.pkl
        "nested.zip": zipped({"inner.zip": zipped({"x/y": evil})}),
        "bundle.tar.gz": gz(tarred({"ckpt/state": evil})),
        "legacy.pth": legacy_torch_tar(cmd),
        "legacy_views.pth": legacy_torch_tar(cmd, where="storages"),
        "arrays.npz": npz_object(cmd),
        "array.npy": npy_object(cmd),
        "gz_in_zip.zip": zipped({"m.gz": gz(evil)}),
        # issue 17: a pickle that looks like a container, new compressions, skipped folders
        "looks_like_tar.pkl": ustar_at_257(cmd),
        "looks_like_bz2.pkl": bzh_prefix(cmd),
        "release/tar_looking.pt": torch_zip(ustar_at_257(cmd)),
        "frame.pkl.zst": zstd(evil),
        "model_lz4.joblib": lz4_frame(evil),
        "checkpoints/.cache/model.pkl": evil,
        "node_modules/pkg/weights.bin": evil,
    }
    return cases


# -- resource bombs ----------------------------------------------------------------------------
def declared_length_bomb() -> bytes:
    """2.5 KiB that declare a 6 GiB argument: a reader that allocates what is declared dies."""
    out = b"\x80\x04" + b"]\x94" + b"(" + b"h\x00" * 600
    out += b"\x8e" + struct.pack("<Q", 6 << 30) + b"x" * 1000  # BINBYTES8 of 6 GiB
    return out


def opcode_flood(n_ops: int) -> bytes:
    """A stream of n_ops harmless opcodes (NONE, POP): what a gzip bomb of a pickle holds."""
    return b"\x80\x02" + b"N0" * (n_ops // 2) + b"N."


def yaml_bomb(top_key: str = "dependencies") -> str:
    """A 1 KB billion-laughs document (9 levels of 9 aliases: 387,420,489 leaves)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append(f"{top_key}: [*i]")
    return "\n".join(lines) + "\n"


def citation_bomb() -> str:
    body = yaml_bomb("authors").replace("\na:", "\n_a:")
    return "cff-version: 1.2.0\ntitle: Bomb\n" + body


# -- proof that a payload is real ----------------------------------------------------------------
def really_runs(loader: str, data: bytes, workdir: Path, marker: Path) -> bool:
    """Load `data` with `loader` (Python code reading the bytes from DATA) in a child process
    and tell whether the payload created `marker`. Only for payloads of our own."""
    path = workdir / "payload.bin"
    path.write_bytes(data)
    code = f"DATA = open({str(path)!r}, 'rb').read()\n{loader}\n"
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=workdir,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return marker.exists()


# -- running forkvet under a bound ------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def vet_bounded(repo: Path, timeout: float = 30.0) -> tuple[float, float, int, dict[str, object]]:
    """Run `forkvet vet --format json` in a child process: (CPU seconds, peak RSS MiB, exit
    code, report). The child is measured by benchmarks/_measure.py, which waits for it alone.
    CPU seconds, not wall: on a shared machine at 9x load the wall clock measures the
    neighbours; the child is still killed past 4x the bound in wall time (a hang)."""
    out = repo.parent / f"{repo.name}-report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "_measure.py"),
            sys.executable,
            "-m",
            "forkvet",
            "vet",
            str(repo),
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=timeout * 4,  # a hang; the bound itself is asserted on CPU seconds
        env=env,
        check=True,
    )
    m = json.loads(proc.stdout)
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    return m["cpu_seconds"], m["peak_mib"], m["rc"], report


# -- pickles that look like something else (issue 17) -------------------------------------------
def ustar_at_257(cmd: str) -> bytes:
    """A protocol-0 os.system pickle whose byte 257 starts `ustar` (inside a string argument
    it drops first): a tar sniffer by magic takes it for an archive."""
    return b"V" + b"x" * 256 + b"ustar  " + b"y" * 300 + b"\n0" + os_system(cmd, 0)


def bzh_prefix(cmd: str) -> bytes:
    """A pickle starting `BZh1`: a BINBYTES of length int.from_bytes(b'Zh1\\x00') dropped by
    POP, then os.system. It does not decompress as bz2; pickle.load runs it."""
    n = int.from_bytes(b"Zh1\x00", "little")
    return b"BZh1\x00" + b"\x00" * n + b"0" + os_system(cmd, 2)[2:]


def magic_prefix(magic: bytes) -> bytes:
    """Opcodes that start a pickle with `magic` and leave nothing behind: a BINBYTES of it,
    then POP. Any magic fits."""
    return b"B" + struct.pack("<I", len(magic)) + magic + b"0"


def prefixed(magic: bytes, cmd: str) -> bytes:
    """An os.system pickle that starts with `magic` (see magic_prefix)."""
    return magic_prefix(magic) + os_system(cmd, 2)[2:]


def zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


def lz4_frame(data: bytes) -> bytes:
    import lz4.frame

    return bytes(lz4.frame.compress(data))


def npy_plain(data: bytes, descr: str = "'<f4'", major: int = 1) -> bytes:
    """A .npy header for a 1-d array whose dtype description is the literal `descr`, then
    `data` as its raw bytes."""
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': ({len(data) // 4},), }}"
    raw = header.encode().ljust(118 + (major > 1) * 128) + b"\n"
    size = len(raw).to_bytes(2 if major == 1 else 4, "little")
    return b"\x93NUMPY" + bytes([major, 0]) + size + raw + data
