"""Files an HDF5 file names (outside attack, round 22a F9): a bounded reader of HDF5 object
headers (format spec 3.0; no h5py, no libhdf5).

From the superblock the reader walks every object the file's groups reach (old-style groups:
symbol-table B-trees and their SNOD nodes; new-style: link messages in the object header, or
in a fractal heap through the name index's heap IDs; continuation blocks of both header
versions) and returns every file name the HDF5 library would open for them: an External File
List's names (H5Pset_external: the raw data of a dataset is that file, read relative to the
working folder) and an external link's file name. Addresses count from where the superblock
is found, as the library counts them. What it cannot follow fails closed (Unreadable, an
error): a dense group past one heap block or one index node, a virtual dataset (its sources
are kept in the global heap), a bound hit, a malformed field.
"""

from __future__ import annotations

import time
from typing import BinaryIO

SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_OBJECTS = 100_000
MAX_BLOCKS = 100_000  # header continuation blocks and B-tree nodes together
MAX_NAME = 1 << 16
_UNDEF = -1
_MSG_LINK_INFO, _MSG_LINK, _MSG_EFL, _MSG_LAYOUT, _MSG_CONT, _MSG_STAB = 2, 6, 7, 8, 0x10, 0x11


class Unreadable(Exception):
    """An HDF5 file the bounded reader could not read to its end."""


def superblock_at(fh: BinaryIO, size: int) -> int | None:
    """Where the HDF5 library finds the superblock: offset 0, 512, 1024, 2048, …"""
    at = 0
    while at + 8 <= size and at <= 1 << 40:
        fh.seek(at)
        if fh.read(8) == SIGNATURE:
            return at
        at = 512 if at == 0 else at * 2
    return None


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, deadline: float) -> None:
        self.fh, self.size, self.deadline = fh, size, deadline
        self.o = self.l = 8
        self.base = 0
        self.blocks = 0
        self.refs: list[str] = []

    def read(self, at: int, n: int) -> bytes:
        if at < 0 or n < 0 or at + n > self.size:
            raise Unreadable("an address past the file's end")
        self.fh.seek(at)
        return self.fh.read(n)

    def num(self, raw: bytes, i: int, n: int) -> int:
        if i + n > len(raw):
            raise Unreadable("a field past its message's end")
        value = int.from_bytes(raw[i : i + n], "little")
        return _UNDEF if value == (1 << (8 * n)) - 1 else value

    def addr(self, raw: bytes, i: int) -> int:
        value = self.num(raw, i, self.o)
        return value if value == _UNDEF else value + self.base

    def tick(self) -> None:
        self.blocks += 1
        if self.blocks > MAX_BLOCKS or time.monotonic() > self.deadline:
            raise Unreadable("past the block bound or the run's time")

    def cstr(self, at: int) -> str:
        raw = self.read(at, min(MAX_NAME, self.size - at))
        end = raw.find(b"\0")
        if end < 0:
            raise Unreadable("an unterminated name")
        return raw[:end].decode("utf-8", "replace")


def h5_references(fh: BinaryIO, size: int, deadline: float) -> list[str]:
    """Every external file name the objects of an HDF5 file hold (see the module's doc)."""
    at = superblock_at(fh, size)
    if at is None:
        return []
    r = _Reader(fh, size, deadline)
    # Addresses count from the superblock, wherever it is: the library moves the stored base
    # address there (H5F__super_read), so the stored one is never read.
    r.base = at
    sb = r.read(at, 96 if at + 96 <= size else size - at)
    version = sb[8] if len(sb) > 8 else 99
    if version in (0, 1):
        r.o, r.l = sb[13], sb[14]
        rest = 24 + (4 if version == 1 else 0)
        root = r.addr(sb, rest + 4 * r.o + r.o)  # the root entry's object header address
    elif version in (2, 3):
        r.o, r.l = sb[9], sb[10]
        root = r.addr(sb, 12 + 3 * r.o)
    else:
        raise Unreadable(f"a superblock version {version}")
    if r.o not in (2, 4, 8) or r.l not in (2, 4, 8):
        raise Unreadable("offset or length sizes the format does not allow")
    _objects(r, root)
    return r.refs


def _objects(r: _Reader, root: int) -> None:
    todo, seen = [root], set()
    while todo:
        addr = todo.pop()
        if addr in seen or addr == _UNDEF:
            continue
        seen.add(addr)
        if len(seen) > MAX_OBJECTS:
            raise Unreadable(f"more than {MAX_OBJECTS:,} objects")
        for kind, body in _messages(r, addr):
            todo += _message(r, kind, body)


def _messages(r: _Reader, addr: int) -> list[tuple[int, bytes]]:
    """(type, body) of every message of the object header at addr, continuations included."""
    head = r.read(addr, 16)
    out: list[tuple[int, bytes]] = []
    if head[:4] == b"OHDR":
        flags = head[5]
        i = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
        n = 1 << (flags & 3)
        chunk = r.num(r.read(addr + i, n), 0, n)
        blocks = [(addr + i + n, chunk, True, flags & 4)]
    elif head[0] == 1:
        blocks = [(addr + 16, r.num(head, 8, 4), False, 0)]
    else:
        raise Unreadable("an object header of an unknown version")
    while blocks:
        r.tick()
        start, length, v2, order = blocks.pop()
        for kind, body in _block(r, start, length, v2, bool(order)):
            if kind == _MSG_CONT:
                at, n = r.addr(body, 0), r.num(body, r.o, r.l)
                if v2 and r.read(at, 4) != b"OCHK":
                    raise Unreadable("a continuation block without its signature")
                blocks.append((at + 4, n - 8, True, order) if v2 else (at, n, False, 0))
            out.append((kind, body))
    return out


def _block(r: _Reader, start: int, length: int, v2: bool, order: bool) -> list[tuple[int, bytes]]:
    raw = r.read(start, length)
    out: list[tuple[int, bytes]] = []
    i = 0
    prefix = (4 + (2 if order else 0)) if v2 else 8
    while i + prefix <= len(raw):
        if v2:
            kind, n = raw[i], int.from_bytes(raw[i + 1 : i + 3], "little")
        else:
            kind, n = (int.from_bytes(raw[i + j : i + j + 2], "little") for j in (0, 2))
        body = raw[i + prefix : i + prefix + n]
        if len(body) != n:
            raise Unreadable("a message past its header's end")
        out.append((kind, body))
        i += prefix + n
    return out


def _message(r: _Reader, kind: int, body: bytes) -> list[int]:
    """Object addresses the message leads to; file names go to r.refs."""
    if kind == _MSG_STAB:
        return _btree(r, r.addr(body, 0), _heap(r, r.addr(body, r.o)))
    if kind == _MSG_LINK:
        return _link(r, body)
    if kind == _MSG_LINK_INFO:
        i = 2 + (8 if body[1] & 1 else 0)
        if r.addr(body, i) != _UNDEF:
            return _dense(r, r.addr(body, i), r.addr(body, i + r.o))
    elif kind == _MSG_EFL:
        heap = _heap(r, r.addr(body, 8))
        for slot in range(r.num(body, 6, 2)):
            r.refs.append(r.cstr(heap + r.num(body, 8 + r.o + slot * 3 * r.l, r.l)))
    elif kind == _MSG_LAYOUT and body[:1] == b"\x04" and body[1:2] == b"\x03":
        raise Unreadable("a virtual dataset (its source files are not read)")
    return []


def _heap(r: _Reader, addr: int) -> int:
    """A local heap's data segment address."""
    raw = r.read(addr, 8 + 2 * r.l + r.o)
    if raw[:4] != b"HEAP":
        raise Unreadable("a local heap without its signature")
    return r.addr(raw, 8 + 2 * r.l)


def _btree(r: _Reader, addr: int, heap: int) -> list[int]:
    """Object header addresses of every entry of an old-style group's B-tree."""
    out: list[int] = []
    todo = [addr]
    while todo:
        r.tick()
        at = todo.pop()
        head = r.read(at, 8 + 2 * r.o)
        if head[:4] == b"SNOD":
            count = r.num(head, 6, 2)
            size = 2 * r.o + 24
            raw = r.read(at + 8, count * size)
            out += [r.addr(raw, k * size + r.o) for k in range(count)]
            continue
        if head[:4] != b"TREE" or head[4] != 0:
            raise Unreadable("a group B-tree node without its signature")
        used = r.num(head, 6, 2)
        raw = r.read(at + 8 + 2 * r.o, used * (r.l + r.o) + r.l)
        todo += [r.addr(raw, r.l + k * (r.l + r.o)) for k in range(used)]
    return out


def _link(r: _Reader, body: bytes) -> list[int]:
    flags = body[1]
    i = 2
    kind = 0
    if flags & 0x8:
        kind, i = body[i], i + 1
    i += (8 if flags & 0x4 else 0) + (1 if flags & 0x10 else 0)
    n = 1 << (flags & 3)
    i += n + r.num(body, i, n)
    if kind == 0:
        return [r.addr(body, i)]
    if kind == 64:  # external: flags byte, then the file name and the object's path
        data = body[i + 2 : i + 2 + r.num(body, i, 2)]
        r.refs.append(data[1:].split(b"\0", 1)[0].decode("utf-8", "replace"))
    elif kind != 1:
        raise Unreadable(f"a user-defined link type {kind}")
    return []


def _dense(r: _Reader, heap: int, index: int) -> list[int]:
    """The links of a group in dense storage, found as the library finds them: each record of
    the name index (a v2 B-tree) holds a heap ID, the offset and length of one link message in
    the fractal heap. Followed: a root direct block, unfiltered, and a one-node index; any
    other shape fails closed."""
    o, n = r.o, r.l
    hdr = r.read(heap, 22 + 12 * n + 3 * o)
    if hdr[:4] != b"FRHP" or r.num(hdr, 7, 2):
        raise Unreadable("a dense group's heap without its signature or with filters")
    if r.num(hdr, 14 + 7 * n + 2 * o, n) or r.num(hdr, 14 + 9 * n + 2 * o, n):
        raise Unreadable("a dense group's heap with huge or tiny objects")
    if r.num(hdr, 20 + 12 * n + 3 * o, 2):
        raise Unreadable("a dense group's heap of more than one block")
    block_size = r.num(hdr, 16 + 10 * n + 2 * o, n)
    max_direct, max_heap = r.num(hdr, 16 + 11 * n + 2 * o, n), r.num(hdr, 16 + 12 * n + 2 * o, 2)
    off_n = (max_heap + 7) // 8
    len_n = min(
        (max_direct.bit_length() - 1 + 7) // 8, (r.num(hdr, 10, 4).bit_length() - 1) // 8 + 1
    )
    root = r.addr(hdr, 20 + 12 * n + 2 * o)
    if r.read(root, 4) != b"FHDB":
        raise Unreadable("a dense group's heap block without its signature")
    bt = r.read(index, 18 + o)
    if bt[:4] != b"BTHD" or bt[5] != 5 or r.num(bt, 12, 2) != 0:
        raise Unreadable("a dense group's name index of more than one node")
    rec, count = r.num(bt, 10, 2), r.num(bt, 16 + o, 2)
    leaf = r.read(r.addr(bt, 16), 6 + count * rec)
    if leaf[:4] != b"BTLF" or rec < 5 + off_n + len_n:
        raise Unreadable("a dense group's name index leaf without its signature")
    out: list[int] = []
    for k in range(count):
        hid = leaf[6 + k * rec + 4 : 6 + (k + 1) * rec]
        at, size = r.num(hid, 1, off_n), r.num(hid, 1 + off_n, len_n)
        if hid[0] & 0x30 or at < 0 or size < 0 or at + size > block_size:
            raise Unreadable("a dense group's heap ID outside its block")
        out += _link(r, r.read(root + at, size))
    return out
