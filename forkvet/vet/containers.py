"""Bounded readers in front of the standard library's container parsers.

zipfile, tarfile and gzip read a repository's bytes with costs that are not linear in them
(outside attack, round 16): Python 3.11's zipfile copies the rest of an extra field after
each of its records (quadratic), and builds an object for every central-directory entry
before any caller can count them (3,000,000 entries: 1.2 GB); tarfile searches a pax header
with a regular expression that backtracks on runs of digits (CVE-2024-6232, unfixed in
3.11.7) and matches each record's keyword up to the next `=`, wherever that is; gzip reads
a header's file name and comment, and the zero padding between members, one byte at a time
in Python. None of them can be interrupted by a deadline.

So nothing reaches them unchecked: the zip end record and central directory, and every pax
header, are read here first with limits that make the library's work on them linear and
small (a constant bound per call); gzip members are read here entirely (zlib does the
inflating). What does not fit a limit is refused with ContainerBound, which every caller
reports as NOT verified (an error), never as clean.
"""

from __future__ import annotations

import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

from forkvet import rx

# -- zip -------------------------------------------------------------------------------------
MAX_ZIP_ENTRIES = 10_000  # central-directory entries (pickles.MAX_MEMBERS reads as many)
MAX_ZIP_DIRECTORY = 32 << 20  # bytes of central directory zipfile reads into memory
MAX_EXTRA_RECORDS = 64  # records in one extra field (real ones have 1-4)
# zipfile._decodeExtra copies the rest of a field after each record: the sum over entries of
# records x field length bounds its work (real archives: well under 1 MiB).
MAX_EXTRA_WORK = 64 << 20

# zipfile's indexes into its end record
_ECD_SIGNATURE, _ECD_SIZE, _ECD_OFFSET, _ECD_LOCATION = 0, 5, 6, 9
_CD = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir
_CD_SIG = b"PK\x01\x02"


class ContainerBound(Exception):
    """The container's structure is past a bound: it was not handed to the library."""


def _end_record(fh: IO[bytes]) -> list[Any] | None:
    """The end record as zipfile reads it (bounded: the last 64 KiB); None when none."""
    try:
        endrec = getattr(zipfile, "_EndRecData")(fh)  # noqa: B009
    except (OSError, zipfile.BadZipFile, struct.error):
        return None
    return endrec or None


def zip_directory_problem(fh: IO[bytes]) -> str | None:
    """Why zipfile must not open this file (None: it may; also when it is no zip, which
    zipfile then refuses itself, cheaply). Reads the end record as zipfile does and walks the
    same central-directory bytes zipfile would, counting entries and extra-field records."""
    where = fh.tell()
    try:
        endrec = _end_record(fh)
        if endrec is None:
            return None
        size_cd, offset_cd = int(endrec[_ECD_SIZE]), int(endrec[_ECD_OFFSET])
        if size_cd > MAX_ZIP_DIRECTORY:
            return (
                f"zip central directory of {size_cd:,} bytes (over {MAX_ZIP_DIRECTORY >> 20} MiB), "
                "not read"
            )
        concat = int(endrec[_ECD_LOCATION]) - size_cd - offset_cd
        if endrec[_ECD_SIGNATURE] == b"PK\x06\x06":  # zip64: zipfile subtracts both zip64 records
            concat -= 56 + 20
        start = offset_cd + concat
        if start < 0:
            return None  # zipfile refuses it
        fh.seek(start)
        return _walk_directory(fh.read(size_cd))
    finally:
        fh.seek(where)


def _walk_directory(data: bytes) -> str | None:
    total = entries = work = 0
    size = len(data)
    while total < size:
        if total + _CD.size > size:
            return None  # truncated: zipfile stops here too
        fields = _CD.unpack_from(data, total)
        if fields[0] != _CD_SIG:
            return None  # zipfile raises here
        entries += 1
        if entries > MAX_ZIP_ENTRIES:
            return f"zip archive with over {MAX_ZIP_ENTRIES:,} entries, not read"
        name_len, extra_len, comment_len = fields[12], fields[13], fields[14]
        extra_at = total + _CD.size + name_len
        records = _extra_records(data[extra_at : extra_at + extra_len])
        if records > MAX_EXTRA_RECORDS:
            return f"zip entry with over {MAX_EXTRA_RECORDS} extra-field records, not read"
        work += records * extra_len
        if work > MAX_EXTRA_WORK:
            return "zip extra fields past forkvet's bound on zipfile's work, not read"
        total += _CD.size + name_len + extra_len + comment_len
    return None


def _extra_records(extra: bytes) -> int:
    """How many records zipfile._decodeExtra steps through (at most MAX_EXTRA_RECORDS + 1)."""
    count = pos = 0
    while len(extra) - pos >= 4 and count <= MAX_EXTRA_RECORDS:
        count += 1
        pos += 4 + int.from_bytes(extra[pos + 2 : pos + 4], "little")
    return count


def open_zip(fh: IO[bytes], cls: type[zipfile.ZipFile] = zipfile.ZipFile) -> zipfile.ZipFile:
    """zipfile.ZipFile (or a subclass) on a file whose directory passed the bounds above;
    ContainerBound otherwise."""
    problem = zip_directory_problem(fh)
    if problem is not None:
        raise ContainerBound(problem)
    return cls(fh)


_EOCD, _ZIP64, _LOCATOR = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"
_EOCD_SIZE, _ZIP64_SIZE, _LOCATOR_SIZE = 22, 56, 20
# How far back miniz looks for the end record: 64 KiB of comment, in 4 KiB steps.
_MINIZ_TAIL = (1 << 16) + _EOCD_SIZE + 4096


def zip_readers_disagree(fh: IO[bytes]) -> str | None:
    """Why zipfile and torch's reader (miniz: torch.load, torch.jit.load, torch.package)
    would read different central directories from this file; None when they read the same
    one (or zipfile finds no end record: it refuses the file itself).

    The two find the end records differently. zipfile takes the zip64 end record just
    before the zip64 locator, whatever offset the locator gives, uses every value of it,
    and takes the directory to end where the end records start (moving every offset by
    the difference: data prepended to the archive). miniz reads the zip64 record at the
    locator's offset (the classic end record when no zip64 record is there), takes its
    values (miniz 3; other readers only where the classic one is 0xFFFF / 0xFFFFFFFF, so
    the two records must agree), and reads the directory at the offset written. A file
    holding two archives can so show each reader its own (outside attack, round 17a).
    Rather than follow each way of disagreeing, both readers' answers are computed and
    compared, and the records between the directory and the end
    of the file must be exactly one end record (and one zip64 record and locator): any
    other end-record signature there is a record some reader may take."""
    where = fh.tell()
    try:
        endrec = _end_record(fh)
        if endrec is None:
            return None
        size = fh.seek(0, 2)
        tail_at = max(0, size - _MINIZ_TAIL)
        fh.seek(tail_at)
        tail = fh.read()
        at = int(endrec[_ECD_LOCATION])
        zip64 = endrec[_ECD_SIGNATURE] == _ZIP64
        z_size, z_offset = int(endrec[_ECD_SIZE]), int(endrec[_ECD_OFFSET])
        z_start = at - z_size - (_ZIP64_SIZE + _LOCATOR_SIZE if zip64 else 0)
        if z_start != z_offset:
            return (
                f"zip directory {z_start - z_offset:,} bytes away from where its end record "
                "puts it (zipfile and torch's reader would load different members)"
            )
        # miniz: the last end-record signature with a whole record after it
        found = tail.rfind(_EOCD, 0, len(tail) - _EOCD_SIZE + 4)
        if found < 0 or tail_at + found != at:
            return "zip end record found at different places by zipfile and torch's reader"
        rec = tail[at - tail_at : at - tail_at + _EOCD_SIZE]
        miniz = _miniz_directory(fh, rec, at, size, zip64)
        if miniz is None or isinstance(miniz, str):
            return miniz
        m_zip64, m_size, m_offset = miniz
        if m_zip64 != zip64 or (m_size, m_offset) != (z_size, z_offset):
            return (
                "zip end records read differently by zipfile and torch's reader "
                "(they would load different members)"
            )
        fh.seek(z_offset + z_size)
        after = fh.read(_MINIZ_TAIL + _ZIP64_SIZE + _LOCATOR_SIZE)
        counts = (after.count(_EOCD), after.count(_ZIP64), after.count(_LOCATOR))
        if counts != ((1, 1, 1) if zip64 else (1, 0, 0)):
            return "more than one zip end record after the central directory"
        return None
    finally:
        fh.seek(where)


def _miniz_directory(
    fh: IO[bytes], rec: bytes, at: int, size: int, zip64: bool
) -> tuple[bool, int, int] | str | None:
    """(zip64, directory size, directory offset) as miniz reads them from the classic end
    record `rec` at `at` and the zip64 record its locator points to; a reason when the
    records disagree with each other or with zipfile's; None when miniz refuses the file."""
    entries, m_size, m_offset = struct.unpack_from("<HLL", rec, 10)
    if at < _LOCATOR_SIZE + _ZIP64_SIZE:
        return False, m_size, m_offset
    fh.seek(at - _LOCATOR_SIZE)
    locator = fh.read(_LOCATOR_SIZE)
    if locator[:4] != _LOCATOR:
        return False, m_size, m_offset
    record_at = int.from_bytes(locator[8:16], "little")
    if record_at > size - _ZIP64_SIZE:
        return None  # torch's reader refuses the file
    fh.seek(record_at)
    record = fh.read(_ZIP64_SIZE)
    if record[:4] != _ZIP64:
        return False, m_size, m_offset
    if zip64 and record_at != at - _LOCATOR_SIZE - _ZIP64_SIZE:
        return (
            "zip64 locator points away from the zip64 end record zipfile "
            "reads (zipfile and torch's reader would load different members)"
        )
    r_entries, r_size, r_offset = struct.unpack_from("<QQQ", record, 32)
    for classic, full, unset in (
        (entries, r_entries, 0xFFFF),
        (m_size, r_size, 0xFFFFFFFF),
        (m_offset, r_offset, 0xFFFFFFFF),
    ):
        if classic != unset and classic != full:
            return (
                "zip end record and zip64 end record disagree (readers "
                "that prefer one or the other would load different members)"
            )
    return True, r_size, r_offset


_LOCAL = b"PK\x03\x04"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
MAX_UNLISTED_MEMBERS = 64
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def unlisted_members(
    fh: IO[bytes], infos: list[zipfile.ZipInfo], start_dir: int, tick: Callable[[], None]
) -> tuple[list[zipfile.ZipInfo], bool]:
    """Local headers (`PK\x03\x04`) in the bytes before the central directory that no listed
    member covers: members the directory does not list, which a reader that walks local
    headers (a stream reader, a recovery tool) loads. Each as a ZipInfo zipfile can open (its
    size from the header, or the rest of the gap when the header does not say); and whether
    there were more than MAX_UNLISTED_MEMBERS. Well-formed archives have no such bytes."""
    where = fh.tell()
    try:
        covered = sorted(_extent(fh, i) for i in infos)
        gaps: list[tuple[int, int]] = []
        at = 0
        for start, end in covered:
            if start > at:
                gaps.append((at, min(start, start_dir)))
            at = max(at, end)
        if at < start_dir:
            gaps.append((at, start_dir))
        found: list[zipfile.ZipInfo] = []
        for start, end in gaps:
            for offset in _signatures(fh, start, end, tick):
                info = _local_info(fh, offset, end)
                if info is None:
                    continue
                if len(found) >= MAX_UNLISTED_MEMBERS:
                    return found, True
                found.append(info)
        return found, False
    finally:
        fh.seek(where)


def _extent(fh: IO[bytes], info: zipfile.ZipInfo) -> tuple[int, int]:
    """The bytes a listed member takes: its local header, data and data descriptor."""
    start = int(info.header_offset)
    fh.seek(start)
    head = fh.read(_LOCAL_HEADER.size)
    if len(head) < _LOCAL_HEADER.size or head[:4] != _LOCAL:
        return start, start + _LOCAL_HEADER.size
    fields = _LOCAL_HEADER.unpack(head)
    end = start + _LOCAL_HEADER.size + fields[10] + fields[11] + int(info.compress_size)
    if info.flag_bits & 0x08:  # a data descriptor follows the data
        fh.seek(end)
        signed = fh.read(4) == b"PK\x07\x08"
        wide = info.compress_size > 0xFFFFFFFF or info.file_size > 0xFFFFFFFF
        end += (4 if signed else 0) + (20 if wide else 12)
    return start, end


def _signatures(fh: IO[bytes], start: int, end: int, tick: Callable[[], None]) -> Iterator[int]:
    """Offsets of local-header signatures in [start, end), read by chunks."""
    at = start
    carry = b""
    while at < end:
        tick()
        fh.seek(at)
        chunk = fh.read(min(1 << 20, end - at))
        if not chunk:
            return
        data = carry + chunk
        base = at - len(carry)
        i = data.find(_LOCAL)
        while i >= 0:
            yield base + i
            i = data.find(_LOCAL, i + 1)
        carry = data[-3:]
        at += len(chunk)


def _local_info(fh: IO[bytes], offset: int, end: int) -> zipfile.ZipInfo | None:
    """A ZipInfo for the local header at offset, or None when it is no sane header (a
    signature's bytes by chance: no method zipfile reads, a name past the gap)."""
    fh.seek(offset)
    head = fh.read(_LOCAL_HEADER.size)
    if len(head) < _LOCAL_HEADER.size:
        return None
    fields = _LOCAL_HEADER.unpack(head)
    flags, method, size, file_size = fields[3], fields[4], fields[8], fields[9]
    name_len, extra_len = fields[10], fields[11]
    data_at = offset + _LOCAL_HEADER.size + name_len + extra_len
    if method not in _METHODS or data_at > end:
        return None
    raw_name = fh.read(name_len)
    info = zipfile.ZipInfo(raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace"))
    info.flag_bits = flags
    info.compress_type = method
    info.header_offset = offset
    if size in (0, 0xFFFFFFFF) or data_at + size > end:
        size = end - data_at  # not stated (a data descriptor, zip64): the rest of the gap
    info.compress_size = size
    info.file_size = file_size if file_size not in (0, 0xFFFFFFFF) else 1 << 40
    return info


# -- tar pax headers --------------------------------------------------------------------------
MAX_DIGIT_RUN = 256  # tarfile's searches backtrack over each run of digits (quadratic in it)
_RECORD_LENGTH = rx.compile(rb"([0-9]{1,20}) ")
_DIGITS = rx.compile(rb"[0-9]{%d}" % (MAX_DIGIT_RUN + 1))


def pax_problem(buf: bytes) -> str | None:
    """Why tarfile must not parse this pax header block (None: it may). Accepted: records
    `<length> <keyword>=<value>\\n` whose `=` and newline lie inside their length, then NUL
    padding only, and no run of digits over MAX_DIGIT_RUN: every search tarfile runs on it
    is then linear in it (CVE-2024-6232 and its siblings)."""
    if _DIGITS.search(buf):
        return f"a tar pax header with a run of over {MAX_DIGIT_RUN} digits, not read"
    pos = 0
    n = len(buf)
    while pos < n and buf[pos : pos + 1].isdigit():
        m = _RECORD_LENGTH.match(buf, pos)
        if m is None:
            return "a malformed tar pax header, not read"
        length = int(m.group(1))
        end = pos + length
        if length <= len(m.group(0)) or end > n or buf[end - 1] != 0x0A:
            return "a malformed tar pax header, not read"
        if buf.find(b"=", m.end(), end) < 0:
            return "a malformed tar pax header, not read"
        pos = end
    if buf[pos:].strip(b"\0"):
        return "a tar pax header with data after its records, not read"
    return None


class CheckedTarInfo(tarfile.TarInfo):
    """tarfile's member headers, each pax header block checked (pax_problem) before tarfile
    parses it; ContainerBound when it fails the check."""

    def _proc_pax(self, tf: tarfile.TarFile) -> tarfile.TarInfo:
        real = tf.fileobj
        buf = real.read(getattr(self, "_block")(self.size))  # noqa: B009 (tarfile's own)
        problem = pax_problem(buf)
        if problem is not None:
            raise ContainerBound(problem)
        tf.fileobj = cast(Any, _Prepended(buf, real))
        try:
            proc: Any = getattr(super(), "_proc_pax")  # noqa: B009
            return cast(tarfile.TarInfo, proc(tf))
        finally:
            tf.fileobj = real


class _Prepended:
    """A tar stream with a block already read put back in front (for tarfile to read it)."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = head
        self.rest = rest

    def read(self, n: int) -> bytes:
        if not self.head:
            return cast(bytes, self.rest.read(n))
        out, self.head = self.head[:n], self.head[n:]
        if len(out) < n:
            out += self.rest.read(n - len(out))
        return out

    def tell(self) -> int:
        return cast(int, self.rest.tell()) - len(self.head)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rest, name)


# -- gzip ------------------------------------------------------------------------------------
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 2, 4, 8, 16
_CHUNK = 64 * 1024


class BadGzip(OSError):
    """Where Python's gzip module raises BadGzipFile (an OSError) too."""


class GzipMembers:
    """What gzip.GzipFile reads from a stream (Python 3.11's _GzipReader, member after member,
    zero padding between them skipped), with every header field and padding run skipped by
    chunks, between `tick` calls, instead of a byte at a time: a 500 MB file name costs a
    scan, not minutes. Raises BadGzip (OSError) and EOFError where gzip does; what was
    returned before that is what a loader got."""

    def __init__(self, read: Callable[[int], bytes], tick: Callable[[], None]) -> None:
        self._read = read
        self._tick = tick
        self._buf = b""
        self._d: zlib._Decompress | None = None
        self._crc = 0
        self._size = 0
        self._done = False
        self._trailer_due = False

    def _fill(self) -> bool:
        if not self._buf:
            self._buf = self._read(_CHUNK)
        return bool(self._buf)

    def _take(self, n: int) -> bytes:
        out = b""
        while len(out) < n and self._fill():
            need = n - len(out)
            out += self._buf[:need]
            self._buf = self._buf[need:]
        return out

    def _exact(self, n: int) -> bytes:
        data = self._take(n)
        if len(data) < n:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        return data

    def _skip_to_nul(self) -> None:
        while self._fill():
            i = self._buf.find(b"\0")
            if i >= 0:
                self._buf = self._buf[i + 1 :]
                return
            self._buf = b""
            self._tick()

    def _skip_zeros(self) -> None:
        while self._fill():
            rest = self._buf.lstrip(b"\0")
            if rest:
                self._buf = rest
                return
            self._buf = b""
            self._tick()

    def _header(self) -> bool:
        magic = self._take(2)
        if not magic:
            return False
        if magic != b"\x1f\x8b":
            raise BadGzip(f"Not a gzipped file ({magic!r})")
        method, flag = self._exact(8)[:2]
        if method != 8:
            raise BadGzip("Unknown compression method")
        if flag & _FEXTRA:
            self._exact(int.from_bytes(self._exact(2), "little"))
        if flag & _FNAME:
            self._skip_to_nul()
        if flag & _FCOMMENT:
            self._skip_to_nul()
        if flag & _FHCRC:
            self._exact(2)
        self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        self._crc = self._size = 0
        return True

    def _trailer(self) -> None:
        crc, isize = struct.unpack("<II", self._exact(8))
        if crc != self._crc:
            raise BadGzip("CRC check failed")
        if isize != self._size & 0xFFFFFFFF:
            raise BadGzip("Incorrect length of data produced")
        self._skip_zeros()

    def read(self, n: int) -> bytes:
        while not self._done:
            if self._trailer_due:  # after the data before it was returned, as gzip does
                self._trailer_due = False
                self._trailer()
            if self._d is None and not self._header():
                self._done = True
                break
            d = self._d
            assert d is not None
            data = d.unconsumed_tail or self._take(_CHUNK)
            out = d.decompress(data, max(1, n))
            if d.eof:
                self._buf = d.unused_data + self._buf
                self._d = None
                self._trailer_due = True
            if out:
                self._crc = zlib.crc32(out, self._crc)
                self._size += len(out)
                return out
            if not data and not d.eof:
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        return b""
