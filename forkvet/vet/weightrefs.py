"""Paths a weights file stores, judged like symlinks (outside attack, round 22a F7, F9).

A weights format that can name another file hands its loader that file: an ONNX tensor's
`external_data` `location` (onnx.load reads it, relative to the model's folder: onnx 1.15
follows `../` and absolute paths, 1.16 a symlinked one), HDF5's external raw storage, external
links and virtual datasets (the HDF5 library opens the named file, wherever it is; see
h5refs.py). The file is judged by every reference it holds, read from the format's own
reference fields by a bounded parser: a reference that is absolute or leaves the tree is a
`link-outside` error, as a symlink leaving the tree is; a file of the format the parser cannot
read to its end (a bound hit, a malformed field) is an error too ("NOT verified"). A reference
inside the tree names a file forkvet vets by content like any other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import BinaryIO

from forkvet.report import Risk
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet import h5refs

MAX_FIELDS = 1_000_000  # protobuf fields walked in one model
MAX_DEPTH = 64  # nested graphs (If/Loop bodies), functions, training graphs
MAX_VALUE = 1 << 16  # one external_data entry
_MAX_NAMED = 5
_LFS = b"version https://git-lfs"

# The ONNX messages that hold tensors (onnx.proto3): message -> {field: message it holds}.
# ModelProto: graph 7, training_info 20, functions 25; GraphProto: node 1, initializer 5,
# sparse_initializer 15; NodeProto: attribute 5; AttributeProto: t 5, g 6, tensors 10,
# graphs 11, sparse_tensor 22, sparse_tensors 23; TrainingInfoProto: initialization 1,
# algorithm 2; FunctionProto: node 7; SparseTensorProto: values 1, indices 2; TensorProto:
# external_data 13 (StringStringEntryProto).
_ONNX = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attr"},
    "attr": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "training": {1: "graph", 2: "graph"},
    "function": {7: "node"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {13: "entry"},
}


class Unreadable(Exception):
    """A weights file the bounded parser could not read to its end."""


def reference_risks(snap: Snapshot, deadline: float) -> list[Risk]:
    """One `link-outside` error for weights files naming files outside the tree, one for
    weights files whose references could not be read."""
    out_refs: list[tuple[str, str]] = []
    unread: list[tuple[str, str]] = []
    for fe in [*snap.files, *snap.skipped]:
        reader = _reader(snap, fe)
        if reader is None:
            continue
        try:
            with snap.open(fe.path) as fh:
                onnx = reader.startswith("onnx")
                refs = list(onnx_locations(fh, fe.size, deadline) if onnx else [])
                refs += h5refs.h5_references(fh, fe.size, deadline) if reader == "hdf5" else []
        except (OSError, ValueError, RecursionError, Unreadable, h5refs.Unreadable) as exc:
            if reader != "onnx?":  # another format that starts with byte 8 is no model
                unread.append((fe.path, str(exc)[:80] or "malformed"))
            continue
        # HDF5 reads external storage relative to the working folder, links relative to the
        # file's folder too: either leaving the tree counts
        bases = (fe.path, "") if reader == "hdf5" else (fe.path,)
        out_refs += [(fe.path, r) for r in refs if any(leaves_tree(b, r) for b in bases)]
    return _risks(out_refs, unread)


def _reader(snap: Snapshot, fe: FileEntry) -> str | None:
    """ "onnx" for an ONNX model by its name (protobuf has no magic), "hdf5" for an HDF5 file by
    its signature at 0, 512, 1024, … (the library looks there whatever the name), "onnx?" for
    any other file starting as ONNX writers start a model (field 1, ir_version: onnx.load
    takes any name; judged only when it parses)."""
    if fe.size < 8:
        return None
    try:
        with snap.open(fe.path) as fh:
            head = fh.read(len(_LFS))
            if fe.suffix == ".onnx":
                return None if head == _LFS else "onnx"
            if h5refs.superblock_at(fh, fe.size) is not None:
                return "hdf5"
            return "onnx?" if head[0] == 8 and head[1] < 0x80 else None  # as writers start
    except (OSError, ValueError):
        return None


def leaves_tree(base: str, ref: str) -> bool:
    """Whether `ref`, read relative to the folder of the file `base` (a tree path), is
    absolute or steps above the tree's root (either slash; a drive or UNC prefix)."""
    if not ref or ref[0] in "/\\~" or (len(ref) > 1 and ref[1] == ":"):
        return True
    depth = len(base.split("/")) - 1
    for part in ref.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def onnx_locations(fh: BinaryIO, size: int, deadline: float) -> Iterator[str]:
    """Every `location` of every tensor's `external_data` in an ONNX model (protobuf)."""
    budget = [MAX_FIELDS]
    yield from _walk(fh, size, "model", 0, budget, deadline)


def _walk(
    fh: BinaryIO, end: int, kind: str, depth: int, budget: list[int], deadline: float
) -> Iterator[str]:
    if depth > MAX_DEPTH:
        raise Unreadable(f"graphs nested more than {MAX_DEPTH} deep")
    held = _ONNX.get(kind, {})
    while fh.tell() < end:
        budget[0] -= 1
        if budget[0] < 0 or (budget[0] & 0xFFF == 0 and time.monotonic() > deadline):
            raise Unreadable("past the field bound or the run's time")
        field, wire = _tag(fh)
        if wire == 0:
            _varint(fh)
        elif wire in (1, 5):
            fh.seek(8 if wire == 1 else 4, 1)
        elif wire == 2:
            n = _varint(fh)
            start = fh.tell()
            if start + n > end:
                raise Unreadable("a field longer than its message")
            sub = held.get(field)
            if sub == "entry":
                yield from _location(_read(fh, n) if n <= MAX_VALUE else b"")
            elif sub is not None:
                yield from _walk(fh, start + n, sub, depth + 1, budget, deadline)
            fh.seek(start + n)
        else:
            raise Unreadable(f"a protobuf wire type {wire}")
    if fh.tell() != end:
        raise Unreadable("a field past its message's end")


def _location(raw: bytes) -> Iterator[str]:
    """A StringStringEntryProto's value when its key is `location` (onnx reads the last)."""
    if not raw:
        raise Unreadable("an external_data entry over 64 KiB")
    parts: dict[int, bytes] = {}
    i = 0
    while i < len(raw):
        tag, i = _short_varint(raw, i)
        if tag & 7 != 2:
            raise Unreadable("a malformed external_data entry")
        n, i = _short_varint(raw, i)
        parts[tag >> 3] = raw[i : i + n]
        i += n
    if parts.get(1) == b"location":
        yield parts.get(2, b"").decode("utf-8", "replace")


def _tag(fh: BinaryIO) -> tuple[int, int]:
    tag = _varint(fh)
    return tag >> 3, tag & 7


def _varint(fh: BinaryIO) -> int:
    out = shift = 0
    while shift < 70:
        b = fh.read(1)
        if not b:
            raise Unreadable("the file ends inside a field")
        out |= (b[0] & 0x7F) << shift
        if b[0] < 0x80:
            return out
        shift += 7
    raise Unreadable("a varint over 10 bytes")


def _short_varint(raw: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while i < len(raw) and shift < 70:
        out |= (raw[i] & 0x7F) << shift
        i += 1
        if raw[i - 1] < 0x80:
            return out, i
        shift += 7
    raise Unreadable("a malformed external_data entry")


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise Unreadable("the file ends inside a field")
    return data


def _risks(out_refs: list[tuple[str, str]], unread: list[tuple[str, str]]) -> list[Risk]:
    risks: list[Risk] = []
    if out_refs:
        shown = ", ".join(f"{p} -> {r!r}" for p, r in out_refs[:_MAX_NAMED])
        more = f" and {len(out_refs) - _MAX_NAMED:,} more" if len(out_refs) > _MAX_NAMED else ""
        risks.append(
            Risk(
                "link-outside",
                "error",
                f"{len(out_refs):,} reference(s) inside weights files name a file outside the "
                f"repository, which the loader reads into the model (NOT verified): "
                f"{shown}{more}. An ONNX external_data location, an HDF5 external file, link or "
                "virtual dataset source can be any file on the machine (a key, a token)",
                out_refs[0][0],
            )
        )
    if unread:
        shown = ", ".join(f"{p} ({why})" for p, why in unread[:_MAX_NAMED])
        risks.append(
            Risk(
                "link-outside",
                "error",
                f"{len(unread):,} weights file(s) whose references to other files forkvet "
                f"could not read to the end (NOT verified): {shown}. Their loader may read any "
                "file on the machine into the model; check them before loading",
                unread[0][0],
            )
        )
    return risks
