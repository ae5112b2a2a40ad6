"""Compressed streams found by what their decoders accept, not by a magic spelling.

Two formats loaders read have no magic of their own: LZMA "alone" (`.lzma`: `lzma.open`,
`LZMAFile` and pandas' `.xz` read it through liblzma's FORMAT_AUTO, joblib through
FORMAT_ALONE) starts with a properties byte any of 225 values may be, and a zlib stream
(`zlib.decompress`, joblib's `.z`) starts with two header bytes whose window may be anything
from 256 bytes to 32 KiB. Both are tried on every stream's head: the decoder decides whether
it is that format, and its first block decides whether a loader would read anything from it
(outside attack, round 21a F1, F2).

An `.lzma` header names a dictionary of up to 4 GiB, which liblzma allocates when it opens
the stream: here the dictionary is capped (MAX_DICT). Up to that many bytes the output is the
same; past it a match reaching further back breaks the stream, which is then NOT verified.
"""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Iterator

ALONE_HEADER = 13  # properties byte, dictionary size (4), uncompressed size (8)
_PROPS_MAX = (4 * 5 + 4) * 9 + 8  # liblzma's lzma_lzma_lclppb_decode: pb <= 4, lc, lp <= 4
_LCLP_MAX = 4
MAX_DICT = 1 << 28  # 256 MiB: a dictionary larger than this is capped (see above)
_PROBE_DICT = 1 << 20  # the probe decodes a few KiB: any dictionary above that is the same
_XZ_MAGIC = b"\xfd7zXZ\x00"
_LZIP_MAGIC = b"LZIP"  # liblzma 5.4+'s FORMAT_AUTO reads lzip too


def alone_header(head: bytes, dict_cap: int = MAX_DICT) -> bytes | None:
    """An `.lzma` header as liblzma's alone decoder (not picky: FORMAT_ALONE) accepts it,
    its dictionary capped at dict_cap; None when the decoder rejects it."""
    if len(head) < ALONE_HEADER or head[0] > _PROPS_MAX:
        return None
    lp, lc = divmod(head[0] % 45, 9)
    if lc + lp > _LCLP_MAX:
        return None
    size = min(int.from_bytes(head[1:5], "little"), dict_cap)
    return head[:1] + size.to_bytes(4, "little") + head[5:ALONE_HEADER]


class Lzma:
    """One stream of what `lzma.open` (FORMAT_AUTO: .xz, .lzma, .lz) or joblib's
    FORMAT_ALONE reader accepts, in the shape of bz2's decompressor (eof, needs_input,
    unused_data, decompress(data, max_length)). An `.lzma` header's dictionary is capped, and
    its range coder's first byte read as older liblzma reads it (ignored)."""

    def __init__(self, dict_cap: int = MAX_DICT) -> None:
        self.cap = dict_cap
        self.d: lzma.LZMADecompressor | None = None
        self.buf = b""

    @property
    def eof(self) -> bool:
        return self.d is not None and self.d.eof

    @property
    def needs_input(self) -> bool:
        return self.d is None or self.d.needs_input

    @property
    def unused_data(self) -> bytes:
        return self.d.unused_data if self.d is not None else b""

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self.d is None:
            self.buf += data
            if len(self.buf) <= ALONE_HEADER:
                return b""
            data, self.buf = self.buf, b""
            if data.startswith(_XZ_MAGIC):
                self.d = lzma.LZMADecompressor(lzma.FORMAT_XZ)
            elif data.startswith(_LZIP_MAGIC):
                self.d = lzma.LZMADecompressor(lzma.FORMAT_AUTO)
            else:
                header = alone_header(data, self.cap)
                if header is None:
                    raise lzma.LZMAError("no LZMA header")
                self.d = lzma.LZMADecompressor(lzma.FORMAT_ALONE)
                # The range coder's first byte: current liblzma refuses any but 0, older
                # LZMA decoders shift it out unread; read as 0, the stream is what either
                # decodes.
                data = header + b"\0" + data[ALONE_HEADER + 1 :]
        return self.d.decompress(data, max_length)


def first_blocks(head: bytes, size: int) -> Iterator[tuple[str, bytes, bool, bool]]:
    """(kind, up to `size` bytes its decoder makes of head, whether the stream goes on,
    whether every decoder takes it) for each magic-less format whose decoder accepts head:
    "lzma" (alone) and "zlib" (any window, as zlib.decompress's default wbits accepts). An
    `.lzma` stream whose range coder starts with a byte other than 0 only older decoders
    take (they ignore that byte): any text file decodes so, to noise."""
    if alone_header(head) is not None and not head.startswith((_XZ_MAGIC, _LZIP_MAGIC)):
        d = Lzma(_PROBE_DICT)
        try:
            out = d.decompress(head, size)
        except lzma.LZMAError:
            pass
        else:
            yield "lzma", out, not d.eof, head[ALONE_HEADER : ALONE_HEADER + 1] == b"\0"
    if len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:
        z = zlib.decompressobj()
        try:
            out = z.decompress(head, size)
        except zlib.error:
            return
        yield "zlib", out, not z.eof, True
