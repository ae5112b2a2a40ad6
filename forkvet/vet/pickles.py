"""Find pickles anywhere in a repository by their content, and list what they import.

Nothing here unpickles. Whether a file is (or holds) a pickle is decided by its bytes, never by
its name: container magic (zip, tar, gzip, bz2, xz, lzma, zlib, joblib's ZF, .npy) opens the
container and looks inside, recursively; anything else gets a cheap probe of its first opcodes.
The opcode stream is then walked without building objects — no memo of values, no stack of
objects — so a 2 KiB "billion laughs" pickle costs a counter, not gigabytes. Large arguments
(tensor bytes) are skipped, not read, so multi-GiB checkpoints scan in milliseconds.

Every walk is bounded (opcodes, bytes decompressed, nesting depth, a deadline). A bound reached
is reported as "not verified", never as a pass.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import functools
import io
import json
import lzma
import math
import os
import pickle
import pickletools
import re
import struct
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, cast

from forkvet import rx
from forkvet.vet import (
    chattemplates,
    configtargets,
    containers,
    dataformats,
    decoders,
    gitattrs,
    jsontokens,
    kerasconfig,
    loadertext,
    savedmodel,
    skopsfmt,
    tflite,
    torchexport,
)

HEAD = 4096  # bytes read from every file to decide what it is
MAX_DEPTH = 4  # containers inside containers
MAX_MEMBERS = 10_000  # per archive
MAX_OPS = 5_000_000  # per file, all pickles in it together (~3 µs each)
MAX_MEMO = 1_000_000
MAX_LINE = 64 * 1024  # protocol-0 arguments end with a newline; real ones are short
MAX_SPOOL = 512 * 1024 * 1024  # a nested archive copied out to be opened (zip needs seeking)
MAX_DECOMPRESSED = 2 * 1024 * 1024 * 1024  # per file: a zip/gzip bomb stops here
FILE_SECONDS = 10.0  # per file
RUN_SECONDS = 20.0  # all pickle scanning of one run; later big pickles are "not verified"
_READ_AHEAD = 64 * 1024
_C_SPACE = bytes(range(33))
_MIN_OPS = 64  # a stream that fails sooner without importing is not counted as a pickle
_SMALL_ARG = 1024  # string arguments up to this size are kept (module and class names)


class Unverified(Exception):
    """A bound was reached: the rest of this stream was not looked at."""


@dataclass
class Budget:
    """Bounds for scanning one file (deadline: time.monotonic() value)."""

    deadline: float
    # Read at creation (not import) time, so that tests can lower them.
    max_ops: int = field(default_factory=lambda: MAX_OPS)
    max_bytes: int = field(default_factory=lambda: MAX_DECOMPRESSED)
    ops: int = 0
    bytes: int = 0

    def charge_bytes(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise Unverified(f"over {self.max_bytes >> 20} MiB decompressed")

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise Unverified("time budget spent")


@dataclass
class FileScan:
    path: str
    # location inside the file ("" for the file itself, "archive/data.pkl", ...) -> imports
    imports: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    pickles: int = 0
    unverified: list[str] = field(default_factory=list)  # "location: reason"
    # Imports met only in streams that broke before any opcode called anything: every loader
    # raises there, so the only effect was the import itself (a text file starting
    # `imgHQ00000\n...` spells INST; joblib's pure-Python unpickler imports before it fails).
    inert: set[tuple[str, str]] = field(default_factory=set)
    _acting: set[tuple[str, str]] = field(default_factory=set)
    # "location: what" of code a loader runs that is no pickle import (a Keras Lambda layer)
    code: list[str] = field(default_factory=list)
    # location -> (bytes walked, bytes after them): data after the last pickle that is no
    # pickle (torch's legacy tensor data, a record store's other records) was not walked, and
    # a summary never calls it known-safe (outside attack, round 17a F4)
    unwalked: dict[str, tuple[int, int]] = field(default_factory=dict)
    # location -> modules a Keras config names outside Keras (the repository's own are fine:
    # risks.py decides, knowing its names)
    config_modules: dict[str, set[str]] = field(default_factory=dict)
    # Texts inside the file a loader may read as a config (archive members, decompressed
    # streams, safetensors metadata values) that hold what a config rule needs: risks.py
    # reads them with the rules it applies to the repository's own files (round 18a F3, F4)
    texts: list[loadertext.Text] = field(default_factory=list)
    _kept: int = 0

    def add_text(self, text: loadertext.Text | None) -> None:
        if text is None:
            return
        if text.text is not None:
            self._kept += len(text.text)
            if self._kept > loadertext.MAX_KEPT_PER_FILE:
                text.text = None
                text.why = f"texts of over {loadertext.MAX_KEPT_PER_FILE >> 20} MiB in one file"
        if len(self.texts) < 1000:
            self.texts.append(text)
        else:
            self.note(text.where, "over 1,000 config texts in one file, not all read")

    def add_import(self, where: str, module: str, name: str, inert: bool = False) -> None:
        self.imports.setdefault(where, set()).add((module, name))
        if inert and (module, name) not in self._acting:
            self.inert.add((module, name))
        elif not inert:
            self._acting.add((module, name))
            self.inert.discard((module, name))

    def note(self, where: str, reason: str) -> None:
        self.unverified.append(f"{where}: {reason}" if where else reason)

    def runs_code(self, where: str, what: str) -> None:
        if len(self.code) < 10:
            self.code.append(f"{where}: {what}" if where else what)


# -- sniffing ---------------------------------------------------------------------------------
def _is_tar(head: bytes) -> bool:
    if len(head) < 512:
        return False
    if head[257:262] == b"ustar":
        return True
    # v7 tar has no magic: check the header checksum (cheap, and text never matches).
    try:
        stored = int(head[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(head[:148]) + 8 * 32 + sum(head[156:512])
    return stored == computed and head[0] != 0


def _is_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0


def sniff(head: bytes, nested: bool = False) -> str | None:
    """The container kind of a stream from its first bytes, or None (`nested`: head is
    itself a decoded first block, see _decoded_kind)."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"]\x00") and len(head) >= 13:
        return "lzma"  # LZMA "alone" with the usual properties (joblib's .lzma); any other below
    if head.startswith(b"LZIP"):
        return "lzma"  # lzip, which lzma.open (liblzma 5.4+) reads too
    if head.startswith(b"ZF"):
        return "zfile"  # joblib < 0.10 compressed pickles
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"  # pandas.read_pickle("x.pkl.zst")
    if head.startswith(b"\x04\x22\x4d\x18"):
        return "lz4"  # lz4 frames: joblib.dump(..., compress="lz4")
    if head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50:
        return "skippable"  # a skippable frame, which both zstd and lz4 frames may start with
    if _is_zlib(head):
        return "zlib"
    if _is_tar(head):
        return "tar"
    return None if nested else _decoded_kind(head)


def _decoded_kind(head: bytes) -> str | None:
    """A format without magic (LZMA alone, zlib with any window): the decoder decides, and
    what its first block decodes to must be something a loader reads on (decoders). What
    only an older decoder takes (any text decodes so, to noise) must decode to a container,
    or a pickle that starts as one (PROTO) or imports within the block."""
    for kind, out, more, every in decoders.first_blocks(head, HEAD):
        if len(out) < 2:
            continue
        if sniff(out, nested=True):
            return kind
        if every and (dataformats.json_start(out) or probe(out, more=more, lenient=True)):
            return kind
        started = out[:1] == b"\x80" or bool(_walk_head(out, False).imports)
        if not every and started and probe(out, more=more, lenient=True):
            return kind
    return None


# -- the opcode walker ------------------------------------------------------------------------
# Argument kinds and stack effects come from pickletools' own opcode table, so every protocol's
# opcodes are known and each one pops and pushes what pickle.load pops and pushes.
_LINE, _LINE2, _LEN1, _LEN4S, _LEN4U, _LEN8 = -1, -10, -2, -3, -4, -5


# What the walker does with an opcode (most only pop and push objects it does not need).
(
    _A_PLAIN,
    _A_VALUE,
    _A_MARK,
    _A_POP,
    _A_DUP,
    _A_PUT,
    _A_MEMOIZE,
    _A_GET,
    _A_STACK_GLOBAL,
    _A_IMPORT,
    _A_EXT,
    _A_PROTO,
    _A_STOP,
    _A_PERSID,
    _A_SETITEMS,
    _A_BUILD,
) = range(16)
_ACTIONS = {
    "MARK": _A_MARK,
    "POP": _A_POP,
    "DUP": _A_DUP,
    "PUT": _A_PUT,
    "BINPUT": _A_PUT,
    "LONG_BINPUT": _A_PUT,
    "MEMOIZE": _A_MEMOIZE,
    "GET": _A_GET,
    "BINGET": _A_GET,
    "LONG_BINGET": _A_GET,
    "STACK_GLOBAL": _A_STACK_GLOBAL,
    "GLOBAL": _A_IMPORT,
    "INST": _A_IMPORT,
    "EXT1": _A_EXT,
    "EXT2": _A_EXT,
    "EXT4": _A_EXT,
    "PROTO": _A_PROTO,
    "PERSID": _A_PERSID,
    "BINPERSID": _A_PERSID,
    "STOP": _A_STOP,
    "SETITEM": _A_SETITEMS,
    "SETITEMS": _A_SETITEMS,
    "DICT": _A_SETITEMS,
    "BUILD": _A_BUILD,
}
_VALUES = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE"}
_VALUES |= {"SHORT_BINUNICODE", "BINUNICODE8", "INT", "BININT", "BININT1", "BININT2", "LONG"}
_VALUES |= {"LONG1", "LONG4"}


@dataclass(frozen=True)
class _Op:
    name: str
    kind: int  # argument: 0 none, n > 0 fixed bytes, or one of the kinds above
    mark: bool  # pops everything down to the topmost MARK first
    pops: int  # then pops this many items (those below the mark, or all of them)
    pushes: int
    action: int
    acts: bool  # calls something on what the stack holds (an imported callable, a method)


# Opcodes that call into what the stack holds: a stream that breaks before any of them ran
# has only imported, never called (see FileScan.inert).
_ACTING = {"REDUCE", "BUILD", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "APPEND", "APPENDS"}
_ACTING |= {"SETITEM", "SETITEMS", "ADDITEMS", "PERSID", "BINPERSID"}


def _op(o: pickletools.OpcodeInfo) -> _Op:
    if o.arg is None:
        kind = 0
    elif o.arg.name == "stringnl_noescape_pair":
        kind = _LINE2
    else:
        kind = o.arg.n
    before = [s.name for s in o.stack_before]
    mark = "mark" in before
    pops = before.index("mark") if mark else len(before)
    action = _ACTIONS.get(o.name, _A_VALUE if o.name in _VALUES else _A_PLAIN)
    return _Op(o.name, kind, mark, pops, len(o.stack_after), action, o.name in _ACTING)


_OPS: dict[int, _Op] = {ord(o.code): _op(o) for o in pickletools.opcodes}
_STRINGS = {
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
    "UNICODE",
    "BINUNICODE",
    "SHORT_BINUNICODE",
    "BINUNICODE8",
}
_GETS = {"GET", "BINGET", "LONG_BINGET"}
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_EXTS = {"EXT1", "EXT2", "EXT4"}
_IDENT = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
UNKNOWN = "?unknown"  # a module or name the walker cannot know (built while loading)
_MAX_NAME = 256  # longer strings are not kept: no importable module or name is that long
_MAX_HELD = 64 * 1024 * 1024  # characters of strings the memo holds
_DEEP = 100_000  # strings pushed deeper than this into the stack are not kept
# C strtol(s, &end, 0), which pickle's INT opcode uses: hex, octal with a leading 0, decimal.
_STRTOL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


# Over Python's int-string digit limit (4,300 unless the loading process lifts it): read by
# a loader without the limit, never by the walker, so the value is unknown.
_BIG_NUMBER = re.compile(rb"\s*[+-]?[0-9a-fA-FxXoObB_]{4000,}L?\s*")


class _Bad(Exception):
    """The bytes stop being a pickle here (pickle.load fails at this point too)."""


class _LongLine(Exception):
    """A line argument over MAX_LINE: skipped to its end, its value not kept."""


class Stream:
    """A binary stream read through the budget, with a pushed-back head."""

    def __init__(
        self,
        raw: IO[bytes],
        budget: Budget,
        head: bytes = b"",
        counted: bool = True,
        persistent: bool = False,
    ):
        self.raw = raw
        # Whether its loader may have a persistent_load (torch's, for an archive member or a
        # legacy checkpoint's later pickles). Without one, PERSID fails: pickle.load,
        # numpy, joblib and pandas stop there.
        self.persistent = persistent
        self.budget = budget
        self.buf = head
        self.pos = 0
        self.counted = counted  # bytes from a plain file are not "decompressed"
        self.offset = 0  # bytes consumed so far
        self.size: int | None = None  # the stream's length, where its archive states it

    def read(self, n: int) -> bytes:
        pos, end = self.pos, self.pos + n
        if end <= len(self.buf):  # the common case: one opcode from the read-ahead
            self.pos = end
            self.offset += n
            return self.buf[pos:end]
        out = self.buf[pos:]
        need = n - len(out)
        # Small reads (opcodes) come from a read-ahead; large ones (skipped data) directly.
        more = self.raw.read(_READ_AHEAD if need < _READ_AHEAD else need)
        if self.counted:
            self.budget.charge_bytes(len(more))
        self.buf, self.pos = more, min(need, len(more))
        out += more[:need]
        self.offset += len(out)
        return out

    def readline(self, limit: int) -> bytes:
        """One line with its newline. _Bad("unterminated") when the stream ends first;
        _LongLine (the line consumed to its end) when it is longer than limit, as pickle
        reads lines of any length."""
        i = self.buf.find(b"\n", self.pos, self.pos + limit + 1)
        if i >= 0:  # the common case: a short line in the read-ahead
            line = self.buf[self.pos : i + 1]
            self.offset += len(line)
            self.pos = i + 1
            return line
        chunks: list[bytes] = []
        total = 0
        while True:
            c = self.read(4096)
            if not c:
                raise _Bad("unterminated line")
            i = c.find(b"\n")
            if i >= 0:
                self._unread(c[i + 1 :])
                if total + i + 1 > limit:
                    raise _LongLine
                chunks.append(c[: i + 1])
                return b"".join(chunks)
            total += len(c)
            if total <= limit:
                chunks.append(c)
            else:
                chunks = []
                self.budget.tick()

    def _unread(self, data: bytes) -> None:
        if data:
            self.buf = data + self.buf[self.pos :]
            self.pos = 0
            self.offset -= len(data)

    def skip(self, n: int) -> None:
        """Skip n bytes; _Bad if the stream ends first (a truncated pickle)."""
        held = len(self.buf) - self.pos
        if n > held + _READ_AHEAD and isinstance(self.raw, io.BufferedReader):
            # A file (a bz2 archive's `BZh` reads as a BINBYTES of ~1 GB): seek, not read.
            self.buf, self.pos = b"", 0
            here = self.raw.tell()
            end = os.fstat(self.raw.fileno()).st_size
            self.raw.seek(min(end, here + n - held))
            self.offset += min(n, held + end - here)
            if here + n - held > end:
                raise _Bad("truncated")
            return
        while n > 0:
            got = len(self.read(min(n, 1 << 20)))
            if got == 0:
                raise _Bad("truncated")
            n -= got

    def peek(self, n: int) -> bytes:
        data = self.read(n)
        self._unread(data)
        return data


@dataclass
class PickleInfo:
    imports: list[tuple[str, str]] = field(default_factory=list)
    complete: bool = False  # reached STOP
    ops: int = 0
    error: str | None = None  # where it stopped being a pickle
    int_value: int | None = None  # the value, when the pickle is a single integer
    long_line: bool = False  # a line argument was longer than MAX_LINE (not kept)
    acted: bool = False  # an opcode that calls into the stack's objects was applied
    # bytes or str values that start like a pickle or a container (a pickle kept as `bytes`
    # in a checkpoint, which code unpickles after loading it): scanned as streams of their own
    nested: list[bytes] = field(default_factory=list)
    nested_bytes: int = 0
    keep_values: bool = True  # False for a probe's walk (a value's own probe walks no deeper)
    # The values of dict keys `_target_` (None: one the walk cannot read): a checkpoint's
    # `hyper_parameters`, which Lightning hands to a module that instantiates them (19a F11)
    targets: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class _Held:
    """A dict (or an object built from one) whose `_val` is this string: an OmegaConf node
    (AnyNode, StringNode) as a pickled DictConfig holds it, so a `_target_` in a Lightning
    checkpoint's DictConfig hyper-parameters is read (round 19a F11)."""

    value: str


class _Machine:
    """pickle.load's stack, marks and memo, holding only what imports need: the strings (a
    STACK_GLOBAL's module and name) and small ints; every other object is None.

    Never stricter than pickle.load: where pickle.load would fail, the model may go on (and
    report more); it never stops where pickle.load goes on."""

    def __init__(self, info: PickleInfo) -> None:
        self.info = info
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        self.memo_known = True  # False once a PUT went to a key the walker could not read
        self.memo_chars = 0  # characters of strings the memo holds
        self.ints: list[int] = []

    def pop(self, n: int) -> list[object]:
        stack = self.stack
        if len(stack) < n:
            raise _Bad("stack underflow")
        out = stack[-n:]
        del stack[-n:]
        # A mark above the new top would make pickle.load fail; keep the model going.
        marks = self.marks
        while marks and marks[-1] > len(stack):
            marks[-1] = len(stack)
        return out

    def pop_mark(self) -> None:
        if not self.marks:
            raise _Bad("no MARK to pop to")
        del self.stack[self.marks.pop() :]

    def top(self) -> object:
        if not self.stack:
            raise _Bad("stack underflow")
        return self.stack[-1]

    def push_value(self, value: object) -> None:
        # Strings deep in a huge stack are not kept (memory): unknown if ever imported.
        self.stack.append(value if len(self.stack) < _DEEP else None)

    def memo_put(self, key: object) -> None:
        value = self.top()
        if not isinstance(key, int) or not self.memo_known:
            # pickle.load stored it under a key the walker cannot read: from now on no memo
            # entry is known (a GET could fetch what that PUT stored).
            self.memo_known = False
            self.memo.clear()
            return
        if len(self.memo) >= MAX_MEMO:
            raise Unverified(f"over {MAX_MEMO:,} memo entries")
        if isinstance(value, str):
            self.memo_chars += len(value)
            if self.memo_chars > _MAX_HELD:
                value = None  # not kept (memory): unknown if ever imported
        self.memo[key] = value

    def plain(self, op: _Op) -> None:
        """Most opcodes: pop (to the mark, then op.pops items), push one unknown object."""
        stack = self.stack
        marks = self.marks
        if op.mark:
            if not marks:
                raise _Bad("no MARK to pop to")
            del stack[marks.pop() :]
        n = op.pops
        if n:
            if len(stack) < n:
                raise _Bad("stack underflow")
            del stack[-n:]
            while marks and marks[-1] > len(stack):
                marks[-1] = len(stack)
        if op.pushes:
            stack.append(None)

    def apply(self, op: _Op, value: object, persistent: bool) -> bool:
        """Apply any other opcode; True at STOP (the pickle is complete)."""
        act = op.action
        if act == _A_VALUE:  # strings and ints: kept for imports (and legacy counts)
            self.push_value(value)
            if isinstance(value, int) and len(self.ints) < 2:
                self.ints.append(value)
        elif act == _A_PROTO:
            if not isinstance(value, int) or value > pickle.HIGHEST_PROTOCOL + 1:
                raise _Bad("unknown protocol")
        elif act == _A_PERSID:
            if not persistent:
                raise _Bad("no persistent_load")
            if op.pops:
                self.pop(op.pops)
            self.stack.append(None)
        elif act == _A_STOP:
            self.pop(1)
            self.info.complete = True
            if len(self.ints) == 1 and self.info.ops <= 3:
                self.info.int_value = self.ints[0]
            return True
        else:
            self.slow(op, value)
        return False

    def setitems(self, op: _Op) -> None:
        """SETITEM(S), DICT: a `_target_` key's value kept for the config rules, and a dict
        with a string `_val` held as that string (an OmegaConf node's state)."""
        stack, marks = self.stack, self.marks
        items = stack[marks[-1] :] if op.mark and marks else stack[-2:]
        held = None
        for key, value in zip(items[0::2], items[1::2]):
            if key in configtargets.INSTANTIATE and len(self.info.targets) < _MAX_TARGETS:
                text = value.value if isinstance(value, _Held) else value
                self.info.targets.append((key, text if isinstance(text, str) else None))
            elif key == "_val" and isinstance(value, str):
                held = _Held(value)
        self.plain(op)
        if held is not None:
            stack[-1] = held

    def slow(self, op: _Op, value: object) -> None:
        """Apply an opcode that is not a plain pop-and-push."""
        act = op.action
        if act == _A_MARK:
            self.marks.append(len(self.stack))
        elif act == _A_POP:
            if self.marks and self.marks[-1] == len(self.stack):
                self.marks.pop()  # pickle.load's POP drops a MARK on top
            else:
                self.pop(1)
        elif act == _A_DUP:
            self.stack.append(self.top())
        elif act == _A_PUT:
            self.memo_put(value)
        elif act == _A_MEMOIZE:
            self.memo_put(len(self.memo) if self.memo_known else None)
        elif act == _A_GET:
            known = self.memo_known and isinstance(value, int)
            self.stack.append(self.memo.get(cast(int, value)) if known else None)
        elif act == _A_STACK_GLOBAL:
            module, attr = self.pop(2)
            # Operands the walker cannot name (built while loading, too long, not strings)
            # make an import it cannot check: reported as unknown, never as safe.
            self.info.imports.append(
                (
                    module if isinstance(module, str) else UNKNOWN,
                    attr if isinstance(attr, str) else UNKNOWN,
                )
            )
            self.stack.append(None)
        elif act == _A_SETITEMS:
            self.setitems(op)
        elif act == _A_BUILD:  # an object given a state that holds a `_val`: it holds it too
            state = self.top()
            self.plain(op)
            if isinstance(state, _Held):
                self.stack[-1] = state
        elif act == _A_EXT:
            # EXT1/2/4 name a callable by a code in copyreg's extension registry, which is
            # empty unless the loading program filled it (Python, torch, numpy, pandas and
            # joblib register none): pickle.load raises "unregistered extension code" here,
            # before it calls anything, and reads nothing after. Raw tensor bytes in a zip
            # member start with 0x82 often enough to matter.
            raise _Bad(f"unregistered extension code {value}: pickle.load stops here")
        else:  # GLOBAL, INST: an import, then the opcode's stack effect
            assert isinstance(value, tuple)
            self.info.imports.append(value)
            if op.mark:
                self.pop_mark()
            if op.pops:
                self.pop(op.pops)
            self.stack.append(None)


def walk(s: Stream, budget: Budget, info: PickleInfo | None = None) -> PickleInfo:
    """Walk one pickle's opcodes from the stream's position; never builds an object.

    Imports are added to info as they are met, so a caller keeps them when a bound stops
    the walk (Unverified) half-way.
    """
    info = info if info is not None else PickleInfo()
    machine = _Machine(info)
    start = s.offset
    read = s.read
    ops_table = _OPS
    while True:
        code = read(1)
        op = ops_table.get(code[0]) if code else None
        if op is None:
            info.error = _why_not(code, info, s.offset - start - 1)
            return info
        info.ops += 1
        budget.ops += 1
        if budget.ops > budget.max_ops:
            raise Unverified(f"over {budget.max_ops:,} opcodes")
        if budget.ops & 0x3FF == 0:
            budget.tick()
        try:
            value = _read_arg(s, op.name, op.kind, info) if op.kind else None
            if op.action == _A_PLAIN:  # most opcodes: pop (to the mark), push one unknown
                machine.plain(op)
            elif machine.apply(op, value, s.persistent):
                return info  # STOP
            if op.acts:
                info.acted = True
        except _Bad as exc:
            info.error = f"{op.name}: {exc}"
            return info


def _why_not(code: bytes, info: PickleInfo, at: int) -> str:
    """Why the walk stopped before an opcode: the stream ended, or this byte is none."""
    if not code:
        return "truncated" if info.ops else "empty"
    return f"not an opcode at byte {at}"


def _line(s: Stream, info: PickleInfo) -> bytes | None:
    """A line argument without its newline; None when it was too long to keep."""
    try:
        return s.readline(MAX_LINE)[:-1]
    except _LongLine:
        info.long_line = True
        return None


def c_int(raw: bytes, base: int = 0) -> int | None:
    """What pickle.load makes of an INT/LONG/GET/PUT line: C strtol (base 0: 0x hex, leading-0
    octal), then Python's int() of the C string (underscores, 0o, 0b, spaces); None when both
    reject it (pickle.load fails too)."""
    text = raw.split(b"\0", 1)[0]  # C string functions stop at a NUL
    if base == 0:
        m = _STRTOL.match(text)
        if m and m.end() == len(text):
            digits = m.group(2)
            radix = 16 if digits[:2].lower() == b"0x" else 8 if digits[:1] == b"0" else 10
            try:
                return int(m.group(1) + (digits[2:] if radix == 16 else digits), radix)
            except ValueError:  # past int()'s digit limit: pickle.load fails on it too
                return None
    try:
        return int(text.decode("latin-1").strip(), base)
    except ValueError:
        return None


def _read_arg(s: Stream, name: str, kind: int, info: PickleInfo) -> object:
    """The opcode's argument, as far as the walker needs it. Accepts everything pickle.load
    accepts (a value it cannot keep is None, i.e. unknown)."""
    if kind == 0:
        return None
    if kind == _LINE2:  # GLOBAL / INST: "module\nname\n"
        return _global_arg(s, info)
    if kind == _LINE:
        raw = _line(s, info)
        if raw is None:
            return None  # unknown (a PUT to an unknown key makes the whole memo unknown)
        if name in ("STRING", "UNICODE") and len(raw) >= 4 and info.keep_values:
            _nested_line(raw, name, info)
        parse = _LINE_ARGS.get(name)
        return parse(raw) if parse is not None else None
    if kind > 0:
        return _fixed_arg(s, name, kind)
    return _counted_arg(s, name, kind, info)


def _global_arg(s: Stream, info: PickleInfo) -> tuple[str, str]:
    mod, attr = _line(s, info), _line(s, info)
    try:
        module = UNKNOWN if mod is None else mod.decode("utf-8")
        qualname = UNKNOWN if attr is None else attr.decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad("module or name not UTF-8") from None
    # Kept whatever it spells: find_class hands the module to __import__, which finds a
    # repository file `1evil.py` or `my-mod.py` as well as any other (and runs it).
    # Only an identifier path can be on the safe list, so any other name is an error.
    return (module, qualname)


def _int_line(raw: bytes) -> int | None:
    value = c_int(raw)
    if value is None and not _BIG_NUMBER.fullmatch(raw.split(b"\0", 1)[0]):
        raise _Bad("not a number")
    return value


def _long_line(raw: bytes) -> int | None:
    text = raw
    if text.rstrip(b"\r").endswith(b"L"):
        text = text.rstrip(b"\r")[:-1]
    return _int_line(text)


def _memo_key_line(raw: bytes) -> int | None:
    value = c_int(raw, 10)
    if value is None and not _BIG_NUMBER.fullmatch(raw.split(b"\0", 1)[0]):
        raise _Bad("not a memo key")
    if value is not None and value < 0:
        raise _Bad("negative memo key")
    return value  # None: too long to read here (a PUT then makes the memo unknown)


def _float_line(raw: bytes) -> None:
    try:
        float(raw.split(b"\0", 1)[0].decode("latin-1").strip())
    except ValueError:
        raise _Bad("not a number") from None


def _string_line(raw: bytes) -> str | None:
    text = raw.rstrip(_C_SPACE)  # lenient: more than pickle.load accepts
    if len(text) < 2 or text[:1] != text[-1:] or text[:1] not in (b"'", b'"'):
        raise _Bad("unquoted string")
    return _short(_unescape(text[1:-1], "escape"))


def _unicode_line(raw: bytes) -> str | None:
    return _short(_unescape(raw, "raw-unicode-escape"))


# How each protocol-0 opcode's line argument reads (the others' lines are not needed).
_LINE_ARGS: dict[str, Callable[[bytes], object]] = {
    "INT": _int_line,
    "LONG": _long_line,
    "GET": _memo_key_line,
    "PUT": _memo_key_line,
    "FLOAT": _float_line,
    "STRING": _string_line,
    "UNICODE": _unicode_line,
}
# Fixed-size arguments read as unsigned little-endian integers.
_UNSIGNED_FIXED = {"BININT1", "BININT2", "PROTO", "BINGET", "BINPUT", "LONG_BINGET"}
_UNSIGNED_FIXED |= {"LONG_BINPUT"}


def _fixed_arg(s: Stream, name: str, kind: int) -> int | None:
    raw = s.read(kind)
    if len(raw) < kind:
        raise _Bad("truncated")
    if name == "BININT" or name in _EXTS:
        return int.from_bytes(raw, "little", signed=name == "BININT")
    if name in _UNSIGNED_FIXED:
        return int.from_bytes(raw, "little")
    return None


def _counted_arg(s: Stream, name: str, kind: int, info: PickleInfo | None = None) -> object:
    """A length-prefixed argument: small strings and longs are kept, the rest skipped."""
    size_len = {_LEN1: 1, _LEN4S: 4, _LEN4U: 4, _LEN8: 8}[kind]
    raw = s.read(size_len)
    if len(raw) < size_len:
        raise _Bad("truncated")
    n = int.from_bytes(raw, "little", signed=kind == _LEN4S)
    if n < 0:
        raise _Bad("negative length")
    if name == "FRAME":
        return None  # a frame's content is more opcodes
    if info is not None and info.keep_values and n >= 4 and _keep_nested(s, name, n, info):
        return None
    if not (name in ("LONG1", "LONG4") or (name in _STRINGS and n <= _MAX_NAME)):
        s.skip(n)
        return None
    if n > _SMALL_ARG:
        s.skip(n)
        return None
    data = s.read(n)
    if len(data) < n:
        raise _Bad("truncated")
    if name in ("LONG1", "LONG4"):
        return int.from_bytes(data, "little", signed=True)
    if "UNICODE" in name:
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None  # pickle.load fails here; the walker goes on
    return data.decode("latin-1")  # a protocol 0-2 str: what encoding='latin1' gives


MAX_NESTED_BYTES = 64 << 20  # of values kept per pickle to scan as streams of their own
MAX_NESTED = 4096  # values kept per pickle (random words spell a container's magic now and then)
_NESTED_VALUES = frozenset(
    {"BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"} | _STRINGS - {"STRING", "UNICODE"}
)
# First bytes of a pickle (PROTO) or of a container sniff() knows, and of their latin-1 text
# as UTF-8 (0x80-0xff are two bytes starting 0xc2/0xc3)
_NESTED_FIRST = frozenset(b"\x80\x93\x1f\xfd\x28\x04\xc2\xc3]BZxgH" + bytes(range(0x50, 0x60)))


def _keep_nested(s: Stream, name: str, n: int, info: PickleInfo) -> bool:
    """Keep (read) a bytes or str value that starts like a pickle or a container, or is base64
    or hex text of one, for the caller to scan (outside attack, round 17a F10: a checkpoint
    holding a pickle as `bytes`, which the repository's code unpickles after
    torch.load(weights_only=True)). A str is kept as `s.encode("latin-1")` gives it back.
    Whether it was kept (consumed)."""
    if name not in _NESTED_VALUES:
        return False
    buf, pos = s.buf, s.pos
    first = buf[pos] if pos < len(buf) else (s.peek(1) or b"\0")[0]
    if first not in _NESTED_FIRST and first not in _OPS and (n < 16 or first not in _ENCODED_FIRST):
        return False  # the common case (array bytes, most words): one or two set lookups
    text = "UNICODE" in name
    head = s.peek(min(n, HEAD))
    if text:
        head = head.decode("utf-8", "ignore").encode("latin-1", "ignore")
    how = _nested_kind(head, n)
    if how is None:
        return False
    if len(info.nested) >= MAX_NESTED or info.nested_bytes + n > MAX_NESTED_BYTES:
        if how == "container":
            return False  # array bytes that happen to start like a compressed stream: skipped
        s.skip(n)  # a length past the stream's end is no value (pickle.load fails there)
        raise Unverified("over 64 MiB of pickles kept as values inside a pickle")
    data = s.read(n)
    if len(data) < n:
        raise _Bad("truncated")
    if text:
        try:
            data = data.decode("utf-8", "surrogatepass").encode("latin-1")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return True  # no latin-1 text: nothing a loader gets back as those bytes
    _keep_value(info, data, how)
    return True


def _nested_line(raw: bytes, name: str, info: PickleInfo) -> None:
    """A protocol-0 STRING or UNICODE line (protocol 0 writes bytes as `_codecs.encode` of
    a UNICODE line) whose value starts like a pickle or a container, or spells one in base64
    or hex: kept for the caller to scan."""
    if name == "STRING":
        text = _unescape(raw.rstrip(_C_SPACE)[1:-1], "escape")
    else:
        text = _unescape(raw, "raw-unicode-escape")
    if text is None:
        return
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return
    how = _nested_kind(data[:HEAD], len(data))
    if how is None:
        return
    if len(info.nested) >= MAX_NESTED or info.nested_bytes + len(data) > MAX_NESTED_BYTES:
        if how != "container":
            raise Unverified("over 64 MiB of pickles kept as values inside a pickle")
        return
    _keep_value(info, data, how)


def _nested_kind(head: bytes, n: int) -> str | None:
    """How a value of n bytes starting with head is kept: "pickle" (PROTO 2-5, or opcodes
    pickle.load runs: an import it calls, or one a whole pickle imports), "container" (a
    format sniff() knows), "hex"/"base64" (text spelling a PROTO 2-5 pickle or a container:
    near-random text is not taken for opcodes), or None."""
    if len(head) < 2:
        return None
    if head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if head[0] in _NESTED_FIRST and sniff(head[:HEAD].ljust(8, b"\0")) is not None:
        return "container"
    if n >= 16 and head[0] in _ENCODED_FIRST:
        for how, start in _encoded_starts(head[:64]):
            if _spells_pickle_or_container(start):
                return how
    if head[0] in _OPS and _IMPORTS.search(head):
        info = _walk_head(head, False)
        cut = len(head) < n and (info.error or "").endswith(("truncated", "unterminated line"))
        if info.imports and (info.acted or info.complete or cut):
            return "pickle"  # protocol 0/1 (no PROTO): pickle.loads calls what it imports
    return None


def _spells_pickle_or_container(start: bytes) -> bool:
    """Do the first bytes that base64 or hex text spells start a pickle written by
    pickle.dumps (PROTO 2-5, then opcodes up to where they end) or a container? Random words
    spell PROTO now and then; the opcodes after it stop them."""
    if start[:1] == b"\x80" and start[1:2] in _PROTOS:
        info = _walk_head(start, False)
        return info.complete or (info.error or "").endswith(("truncated", "unterminated line"))
    return sniff(start.ljust(8, b"\0")) is not None


def _encoded_starts(head: bytes) -> Iterator[tuple[str, bytes]]:
    """The first bytes hex and base64 text starting with head would spell."""
    if _HEX_HEAD.fullmatch(head):
        yield "hex", bytes.fromhex(head[: len(head) & ~1].decode("ascii"))
    body = head.rstrip(b"=")
    if _B64_HEAD.fullmatch(body):
        try:
            yield "base64", base64.b64decode(body[: len(body) & ~3])
        except (binascii.Error, ValueError):
            return


def _keep_value(info: PickleInfo, data: bytes, how: str) -> None:
    if how == "base64":
        try:  # as base64.b64decode decodes it (bytes outside the alphabet dropped)
            data = base64.b64decode(data)
        except (binascii.Error, ValueError):
            return  # b64decode raises too
    elif how == "hex":
        try:
            data = bytes.fromhex(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return  # bytes.fromhex raises too
    info.nested.append(data)
    info.nested_bytes += len(data)


# The first character of base64 or hex text of a pickle (PROTO) or a container: from the
# first byte of each magic sniff() knows (_NESTED_FIRST), as base64 and hex spell it.
_ENCODED_FIRST = frozenset(
    {base64.b64encode(bytes([b, 0, 0]))[0] for b in _NESTED_FIRST}
    | {ord(c) for b in _NESTED_FIRST for c in f"{b:02x}{b:02X}"[::2]}
)
# A pickle without PROTO that calls what it imports: GLOBAL and INST read lines, STACK_GLOBAL
# and EXT1-4 are bytes of their own; a value with none of them imports nothing.
_IMPORTS = re.compile(rb"[\n\x82\x83\x84\x93]")
_HEX_HEAD = re.compile(rb"[0-9a-fA-F]{16,}")
_B64_HEAD = re.compile(rb"[A-Za-z0-9+/]{16,}")
_PROTOS = (b"\x02", b"\x03", b"\x04", b"\x05")


def _unescape(raw: bytes, codec: str) -> str | None:
    """A protocol-0 STRING ('escape', as pickle.load decodes it) or UNICODE argument."""
    try:
        if codec == "escape":
            data, _ = codecs.escape_decode(raw)
            return data.decode("latin-1")
        return raw.decode("raw-unicode-escape")
    except (ValueError, UnicodeDecodeError):
        return None


def _short(value: str | None) -> str | None:
    return value if value is not None and len(value) <= _MAX_NAME else None


def probe(
    head: bytes, more: bool | None = None, persistent: bool = False, lenient: bool = False
) -> bool:
    """Would pickle.load do anything with a stream starting with these bytes?

    more: the stream goes on past head (default: head is a full HEAD window).
    lenient: a complete pickle counts even when pickletools cannot disassemble it (pickle.load
    accepts more than pickletools: a memo key stored twice, items left under the STOP).
    True when the head decodes as pickle opcodes up to a STOP, to its end, or up to an import
    (pickle.load imports and calls before it meets the bad byte that follows). Text and other
    binary formats fail within a few bytes: a space, a newline or a NUL is not an opcode.
    """
    if len(head) < 2:
        return False
    more = len(head) >= HEAD if more is None else more
    return _verdict(head, _walk_head(head, persistent), more, lenient)


def _walk_head(head: bytes, persistent: bool) -> PickleInfo:
    budget = Budget(deadline=time.monotonic() + 1, max_ops=len(head) + 1)
    info = PickleInfo(keep_values=False)
    return walk(Stream(io.BytesIO(b""), budget, head, False, persistent), budget, info)


def _verdict(head: bytes, info: PickleInfo, more: bool, lenient: bool) -> bool:
    """probe()'s answer from the walk of its head."""
    if info.imports:
        return True
    if info.complete:
        if lenient or head[:1] == b"\x80":  # PROTO first: written as a pickle, not text
            return True
        # Without imports it runs nothing: only call it a pickle when its stack is sound
        # (a short text file can spell opcodes up to a "." by chance).
        try:
            pickletools.dis(head, out=io.StringIO())
        except Exception:
            return False
        return True
    # A window full of valid opcodes (a big pickle's head, or a line argument longer than
    # the window: unsure, so it is scanned); a short file ending mid-pickle without imports
    # cannot do anything.
    return bool(more and info.error and info.error.endswith(("truncated", "unterminated line")))


def looks_like_pickle(s: Stream, lenient: bool = False) -> bool:
    """probe() on the stream's head. When the head ends inside a line argument (protocol 0
    reads lines of any length), decided on up to MAX_LINE more bytes; a first line longer
    than that is scanned rather than skipped."""
    return pickle_verdicts(s, lenient)[lenient]


def pickle_verdicts(s: Stream, lenient: bool = True) -> tuple[bool, bool]:
    """(looks_like_pickle(s), looks_like_pickle(s, lenient=True)) from one walk of the head
    (the lenient one only when asked). A first byte that is no opcode stops the walk there,
    before any import or STOP: neither counts it (every file still gets this probe)."""
    head = s.peek(HEAD)
    if len(head) < 2 or head[0] not in _OPS:
        return False, False
    more = len(head) >= HEAD
    info = _walk_head(head, s.persistent)
    if more and not info.imports and (info.error or "").endswith("unterminated line"):
        head = s.peek(HEAD + MAX_LINE)
        more = len(head) == HEAD + MAX_LINE
        info = _walk_head(head, s.persistent)
    strict = _verdict(head, info, more, False)
    return strict, lenient and (strict or _verdict(head, info, more, True))


# -- scanning ----------------------------------------------------------------------------------
def scan_path(path: str, display: str, deadline: float) -> FileScan | None:
    """Scan one file; None when it neither is nor holds a pickle."""
    with open(path, "rb") as fh:
        return scan_file(fh, display, deadline)


def scan_file(
    fh: IO[bytes], display: str, deadline: float, eol: Callable[[], str] | None = None
) -> FileScan | None:
    """Scan an open file (seekable, at its start); None when it neither is nor holds a
    pickle. `eol` tells, when asked, how a Windows checkout writes it (gitattrs: CRLF
    whatever its bytes, AUTO when git takes it for text, NEVER); by default AUTO."""
    result = FileScan(display)
    budget = Budget(deadline=min(deadline, time.monotonic() + FILE_SECONDS))
    first = fh.read(GIT_TEXT_WINDOW)
    head = first[:HEAD]
    fh.seek(len(head))
    if time.monotonic() > budget.deadline:
        # Out of time: still tell which files are (or hold) pickles, from their head.
        if (
            sniff(head)
            or probe(head)
            or head.startswith(chattemplates.GGUF_MAGIC)
            or _zip_at_end(fh)
            or _graph_like(fh, first, display)
        ):
            result.note("", "the time budget for scanning pickles was spent before it")
            return result
        return None
    try:
        _dispatch(Stream(fh, budget, head, counted=False), "", result, budget, 0, fh)
    except Unverified as exc:
        result.note("", str(exc))
    try:
        _judge_graph(fh, first, "", display, result, budget)
    except Unverified as exc:
        result.note("", f"a TensorFlow graph that was not read whole ({exc})")
    pickled = result.pickles or result.imports
    walk = not result.unverified and bool(pickled or _crlf_pickle(first))
    if walk and _converted(eol() if eol else gitattrs.AUTO, first):
        _scan_crlf(fh, result, budget.deadline)
    if result.pickles or result.unverified or result.imports or result.code:
        return result
    if result.config_modules or result.texts:
        return result
    return None


def _judge_graph(
    fh: IO[bytes], first: bytes, where: str, name: str, out: FileScan, budget: Budget
) -> None:
    """One judgement of TensorFlow's formats for a file on disk and an archive member alike
    (`where` the member, "" for the file; `name` what its loader is given): a SavedModel by
    its name, else a graph or TensorFlow Lite model found by content (round 20)."""
    if savedmodel.is_saved_model(name):  # a program, whatever its bytes look like
        _scan_saved_model(fh, where, name, out, budget)
    else:
        _scan_graph(fh, first, where, name, out, budget)


def _scan_saved_model(fh: IO[bytes], where: str, name: str, out: FileScan, budget: Budget) -> None:
    """A SavedModel's graph (savedmodel): ops outside the allow-list are code-in-data; a
    file that cannot be read as a SavedModel is NOT verified (tf.saved_model.load may
    still read it: its protobuf parser is not forkvet's)."""
    if name.endswith(savedmodel.TEXT_FORMAT):
        out.note(where, "a SavedModel in protobuf text format, whose graph forkvet does not read")
        return
    fh.seek(0)
    data = fh.read(savedmodel.MAX_BYTES + 1)
    if len(data) > savedmodel.MAX_BYTES:
        out.note(where, f"a SavedModel over {savedmodel.MAX_BYTES >> 20} MiB, its graph not read")
        return
    try:
        bad = savedmodel.judge(data, budget.tick)
    except (savedmodel.Unreadable, RecursionError) as exc:
        out.note(where, f"a SavedModel whose graph could not be read ({exc})")
        return
    if bad:
        out.runs_code(where, f"{savedmodel.MESSAGE} ({', '.join(bad[:5])})")


def _text_candidate(first: bytes, path: str) -> bool:
    return path.lower().endswith(savedmodel.TEXT_NAMES) and savedmodel.text_head(first[:HEAD])


def _graph_like(fh: IO[bytes], first: bytes, display: str) -> bool:
    """Whether a file may be a TensorFlow graph (what _scan_graph would read), cheaply."""
    if savedmodel.is_saved_model(display) or tflite.is_tflite(first, display):
        return True
    if b"\0" not in first and _text_candidate(first, display):
        return savedmodel.text_graph(first)
    size = fh.seek(0, 2)
    fh.seek(0)
    return savedmodel.protobuf_candidate(fh, size)


def _scan_graph(
    fh: IO[bytes], first: bytes, where: str, name: str, out: FileScan, budget: Budget
) -> None:
    """A TensorFlow graph found by content, whatever its name (round 19a F2, F3, F7): a
    checkpoint's `.meta`, a frozen GraphDef, a TensorFlow Lite model, their text format.
    TensorFlow's loaders take the bytes they are given as the message they expect, so each
    reading that yields a graph TensorFlow would import is judged like a SavedModel's."""
    size = fh.seek(0, 2)
    fh.seek(0)
    if tflite.is_tflite(first, name):
        _report_tflite(fh, size, where, out, budget)
        return
    if b"\0" not in first and _text_candidate(first, name):
        if size > savedmodel.MAX_BYTES or savedmodel.text_graph(fh.read(size)):
            why = "a TensorFlow graph in protobuf text format, whose ops forkvet does not read"
            out.note(where, why)
            return
        fh.seek(0)
    if not savedmodel.protobuf_candidate(fh, size):
        return
    if size > savedmodel.MAX_BYTES:
        out.note(where, f"a protobuf over {savedmodel.MAX_BYTES >> 20} MiB, not read as a graph")
        return
    fh.seek(0)
    try:
        bad = savedmodel.judge_graphs(savedmodel.graphs_in(fh.read(size), budget.tick))
    except (savedmodel.TooBig, RecursionError) as exc:
        out.note(where, f"a protobuf that may be a TensorFlow graph, not read whole ({exc})")
        return
    if bad:
        out.runs_code(where, f"{savedmodel.GRAPH_MESSAGE} ({', '.join(bad[:5])})")


def _report_tflite(fh: IO[bytes], size: int, where: str, out: FileScan, budget: Budget) -> None:
    if size > savedmodel.MAX_BYTES:
        why = f"a TensorFlow Lite model over {savedmodel.MAX_BYTES >> 20} MiB, not read"
        out.note(where, why)
        return
    try:
        bad = tflite.judge(fh.read(size), budget.tick)
    except (tflite.Unreadable, savedmodel.Unreadable, RecursionError) as exc:
        out.note(where, f"a TensorFlow Lite model forkvet could not read ({exc})")
        return
    if bad:
        out.runs_code(where, f"{tflite.MESSAGE} ({', '.join(bad[:5])})")


GIT_TEXT_WINDOW = 8000  # git's binary heuristic: a NUL in the first 8,000 bytes
CRLF_CHECKOUT = "its CRLF checkout, as git writes it on Windows"


def _converted(eol: str, first: bytes) -> bool:
    """Whether a Windows checkout may write the file with CRLF: a `text` or `eol=crlf`
    attribute converts it whatever its bytes (outside attack, round 21a F7: a binary pickle);
    else git converts what it takes for text (no NUL: its first 8,000 bytes are looked at
    here, more than git's check, which reads the whole file, ever converts)."""
    return eol == gitattrs.CRLF or (eol == gitattrs.AUTO and b"\0" not in first)


def _scan_crlf(fh: IO[bytes], result: FileScan, deadline: float) -> None:
    """The file walked as a CRLF checkout writes it: each LF written as CRLF moves bytes out
    of a length-prefixed string into the opcodes (outside attack, round 16a, H3)."""
    fh.seek(0)
    budget = Budget(deadline=deadline)  # the same time, its own counts
    try:
        stream = Stream(cast(IO[bytes], _CrlfReader(fh)), budget, counted=False)
        _dispatch(stream, CRLF_CHECKOUT, result, budget, 0, None)
    except Unverified as exc:
        result.note(CRLF_CHECKOUT, str(exc))


def _crlf(data: bytes) -> bytes:
    """Lone LFs as CRLF (a CRLF stays one), as git's text conversion writes them."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _crlf_pickle(first: bytes) -> bool:
    converted = _crlf(first)
    if converted == first:
        return False
    head = converted[:HEAD]
    return bool(sniff(head)) or probe(head, more=len(converted) > len(head) or len(head) >= HEAD)


class _CrlfReader(io.RawIOBase):
    """A file read as a CRLF checkout writes it (see _crlf)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.pending = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        n = 1 << 20 if n is None or n < 0 else n
        if not self.pending:
            chunk = self.fh.read(1 << 16)
            while chunk.endswith(b"\r"):  # a CR ending the chunk may pair with the next LF
                more = self.fh.read(1)
                if not more:
                    break
                chunk += more
            self.pending = _crlf(chunk)
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _dispatch(
    s: Stream, where: str, out: FileScan, budget: Budget, depth: int, seekable: IO[bytes] | None
) -> None:
    """Every stream is probed as a pickle from its first byte, whatever it looks like: a
    container's magic can be spelled by a pickle's own bytes. Each container kind it may also
    be (magic at the start, a zip's end record at the end) adds a scan from the first byte."""
    head = s.peek(HEAD)
    kinds = _kinds(head, seekable)
    if where and where != CRLF_CHECKOUT and _graph_member(head, where, s.size):
        kinds.append("graph")  # TensorFlow's formats, judged as on disk (round 20)
    if kinds and dataformats.json_start(head):
        # A format found by content (an Arrow stream's length word, a zip's end record) never
        # hides the JSON a loader also reads from the same bytes.
        kinds.append("json")
    # A stream pickletools cannot disassemble is still walked (pickle.load accepts it, and
    # pickles may follow it); it is reported only when something more than that one is found.
    sound, pickled = pickle_verdicts(s)
    if not kinds:
        if pickled:
            _scan_pickles(s, where, out, budget, sound, depth)
        elif dataformats.json_start(head):  # JSON as json.loads reads bytes (UTF-8/16/32)
            _scan_json(s, where, out, budget, dataformats.json_encoding(head[:4]), depth)
        elif not where and dataformats.searched_whole(out.path):  # keras_metadata.pb
            _scan_json(s, where, out, budget, None, depth)
        return
    if pickled + len(kinds) > 1 and seekable is None:
        # Read more than once: copied out (bounded) to be read from its start again.
        with _spooled(s) as fh:
            again = Stream(fh, budget, counted=False, persistent=s.persistent)
            _dispatch(again, where, out, budget, depth, fh)
        return
    if pickled:
        _scan_pickles(s, where, out, budget, sound, depth)
    if depth >= MAX_DEPTH:
        out.note(where, f"archive nested deeper than {MAX_DEPTH} levels, not opened")
        return
    for i, kind in enumerate(kinds):
        if pickled or i:
            assert seekable is not None
            seekable.seek(0)
            s = Stream(seekable, budget, counted=False)
        if kind == "graph":
            _graph_in_member(s, head, where, out, budget, seekable)
        elif kind == "gguf":  # its chat templates (chattemplates), in the same read
            for found in chattemplates.gguf_findings(cast(BinaryIO, s), budget.deadline):
                out.runs_code(where, found)
        else:
            _scan_container(kind, s, where, out, budget, depth, seekable)


class _Forward:
    """A stream read forward only, as savedmodel.protobuf_candidate reads a file (a seek
    skips ahead)."""

    def __init__(self, s: Stream) -> None:
        self.s, self.pos = s, 0

    def read(self, n: int) -> bytes:
        data = self.s.read(n)
        self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos

    def seek(self, n: int, whence: int = 0) -> int:
        while n > 0 and (chunk := self.read(min(n, 1 << 20))):
            n -= len(chunk)
        return self.pos


def _graph_member(head: bytes, name: str, size: int | None) -> bool:
    """Whether an archive member may be what a TensorFlow loader reads (cheaply, from its
    head): by name or identifier, or a head that reads as protobuf fields."""
    return (
        savedmodel.is_saved_model(name)
        or tflite.is_tflite(head, name)
        or (b"\0" not in head and _text_candidate(head, name))
        or savedmodel.protobuf_prefix(head, size)
    )


def _graph_in_member(
    s: Stream, head: bytes, where: str, out: FileScan, budget: Budget, seekable: IO[bytes] | None
) -> None:
    """An archive member judged by _judge_graph, as a file on disk is: copied out (bounded:
    16 MiB in memory, the rest on disk) up to the graph bound; one over it that still reads
    as a graph is NOT verified."""
    if seekable is not None:
        seekable.seek(0)
        _judge_graph(seekable, head, where, where, out, budget)
        return
    if s.size is not None and s.size > savedmodel.MAX_BYTES:
        # Too large to judge: NOT verified where it is named or marked as one, or reads
        # whole as protobuf (checked forward, as the member streams by).
        named = savedmodel.is_saved_model(where) or tflite.is_tflite(head, where)
        if named or savedmodel.protobuf_candidate(cast(IO[bytes], _Forward(s)), s.size):
            out.note(where, f"a TensorFlow graph over {savedmodel.MAX_BYTES >> 20} MiB, not read")
        return
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        copied = 0
        while chunk := s.read(1 << 20):
            copied += len(chunk)
            if copied > savedmodel.MAX_BYTES:
                why = f"may be a TensorFlow graph, over {savedmodel.MAX_BYTES >> 20} MiB: not read"
                out.note(where, why)
                return
            spool.write(chunk)
        spool.seek(0)
        _judge_graph(cast(IO[bytes], spool), head, where, where, out, budget)


def _kinds(head: bytes, seekable: IO[bytes] | None) -> list[str]:
    kind = sniff(head)
    kinds = ["zstd", "lz4"] if kind == "skippable" else [kind] if kind else []
    # zipfile (pandas.read_pickle of a .zip) finds an archive by its end record, whatever
    # precedes it. Only files are looked at from their end (a member would be read twice).
    whole = len(head) < HEAD  # the head is the whole stream: no need to read its end
    at_end = b"PK\x05\x06" in head if whole else seekable is not None and _zip_at_end(seekable)
    if seekable is not None and "zip" not in kinds and at_end:
        kinds.append("zip-at-end")
    if seekable is not None and _is_hdf5(head, seekable):
        kinds.append("hdf5")
    if head.startswith(_ARROW_MAGIC) or _legacy_arrow(head):
        kinds.append("arrow")
    if _is_value_store(head):
        kinds.append("values")
    if loadertext.safetensors_header_size(head) is not None:
        kinds.append("safetensors")
    if _is_unread_shelve(head):
        kinds.append("shelve-db")
    if _dbm_format(head):
        kinds.append("dbm")
    if head.startswith(chattemplates.GGUF_MAGIC):
        kinds.append("gguf")
    if seekable is not None and head.startswith(b"SQLite format 3\x00"):
        kinds.append("sqlite")
    return kinds


# A SQLite database holds pickles as values (dbm.sqlite3 under shelve, diskcache, many
# caches' stores): every value of every table is scanned as a stream of its own.
_SQLITE_MAX_VALUES = 200_000
_SQLITE_MAX_BYTES = 512 << 20


def _scan_sqlite(fh: IO[bytes], where: str, out: FileScan, budget: Budget, depth: int) -> None:
    """Read-only and immutable (no journal, no lock, nothing written), through the file
    descriptor the walk opened, with the schema untrusted; tables only (no views, whose SQL
    could call functions)."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:/proc/self/fd/{fh.fileno()}?mode=ro&immutable=1", uri=True)
    except (sqlite3.Error, OSError, AttributeError, io.UnsupportedOperation):
        out.note(where, "a SQLite database that could not be opened")
        return
    try:
        # SQLite's own work (a query over a hostile file) stops at the deadline too.
        con.set_progress_handler(lambda: time.monotonic() > budget.deadline, 10_000)
        con.execute("PRAGMA trusted_schema = OFF")
        con.execute("PRAGMA query_only = ON")
        _scan_sqlite_values(con, where, out, budget, depth)
    except sqlite3.Error as exc:
        out.note(where, f"a SQLite database that could not be read ({type(exc).__name__})")
    finally:
        con.close()


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scan_sqlite_values(con: Any, where: str, out: FileScan, budget: Budget, depth: int) -> None:
    values = size = 0
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables[:1000]:
        quoted = _sql_name(str(table))
        # Stored columns only: a generated (computed) column is the schema's code, run on
        # every read (`zeroblob(900000000)`: gigabytes from an 8 KiB file); what is stored is
        # bounded by the file itself.
        stored = [
            _sql_name(str(c[1])) for c in con.execute(f"PRAGMA table_xinfo({quoted})") if c[6] == 0
        ]
        if not stored:
            continue
        columns = ", ".join(stored[:2000])
        for row in con.execute(f"SELECT {columns} FROM {quoted}"):  # names quoted as SQL does
            for value in row:
                if not isinstance(value, (bytes, str)) or len(value) < 2:
                    continue
                values += 1
                data = value if isinstance(value, bytes) else value.encode("utf-8", "replace")
                size += len(data)
                if values > _SQLITE_MAX_VALUES or size > _SQLITE_MAX_BYTES:
                    out.note(where, "a SQLite database past the values forkvet reads")
                    return
                if values & 0xFF == 0:
                    budget.tick()
                inner = Stream(io.BytesIO(data), budget, counted=False)
                _dispatch(inner, _join(where, f"{table}[{values}]"), out, budget, depth + 1, None)


# shelve's other dbm backends keep each value's pickle where their own index says (gdbm's
# hash buckets, dbm.sqlite3's rows — Python 3.13's default), which forkvet does not read.
_GDBM_MAGICS = tuple(
    m.to_bytes(4, order) for m in range(0x13579ACD, 0x13579AD2) for order in ("little", "big")
)


# A SQLite write-ahead log (`x.db-wal`) holds pages a normal open of `x.db` reads (shelve
# over dbm.sqlite3 included) and forkvet's read-only immutable open does not.
_SQLITE_WAL = (
    b"\x37\x7f\x06\x82",
    b"\x37\x7f\x06\x83",
    b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7",  # a rollback journal (`x.db-journal`), replayed too
)


def _is_unread_shelve(head: bytes) -> bool:
    return head.startswith(_SQLITE_WAL)


# Berkeley DB, which `dbm.ndbm` is on Debian/Ubuntu's Python (`dbm.ndbm.library`), macOS's
# ndbm (DB 1.85) and `bsddb`: the hash and btree access methods' magic, at byte 12 of the
# metadata page (DB >= 2) or at byte 0 (DB 1.85), in the byte order of the machine that
# wrote it (outside attack, round 20a F4). A value sits inside a page (or spans overflow
# pages), so a shelve's pickles are never at byte 0.
_BDB_MAGICS = tuple(m.to_bytes(4, o) for m in (0x061561, 0x053162) for o in ("little", "big"))


def _dbm_format(head: bytes) -> str | None:
    """The dbm format a shelve may have written, by content (dbm.dumb's `.dir`/`.dat` pair
    and SQLite are read elsewhere), or None."""
    if head.startswith(_GDBM_MAGICS):
        return "gdbm"
    if head[12:16] in _BDB_MAGICS or head[:4] in _BDB_MAGICS:
        return "Berkeley DB"
    return None


def _scan_dbm(
    s: Stream, where: str, out: FileScan, budget: Budget, depth: int, seekable: IO[bytes] | None
) -> None:
    """Every place a pickle may start is walked (a shelve's values), and the database is
    NOT verified all the same: forkvet does not read its pages as the library does (a value
    split over overflow pages, protocol 0/1 values)."""
    fmt = _dbm_format(s.peek(HEAD))
    why = "every place a pickle may start was walked, its pages not read as the library does"
    out.note(where, f"a {fmt} database, a shelve's store: {why}")
    _scan_values(s, where, out, budget, depth, seekable)


_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(head: bytes, fh: IO[bytes]) -> bool:
    """The HDF5 superblock at 0 or after a user block (512, 1024, 2048, ... bytes), where the
    HDF5 library looks for it."""
    if head.startswith(_HDF5_MAGIC):
        return True
    where = fh.tell()  # the caller's stream reads on from here
    try:
        size = fh.seek(0, os.SEEK_END)
        offset = 512
        while offset + 8 <= size:
            fh.seek(offset)
            if fh.read(8) == _HDF5_MAGIC:
                return True
            offset *= 2
        return False
    finally:
        fh.seek(where)


def _scan_hdf5(fh: IO[bytes], where: str, out: FileScan, budget: Budget) -> None:
    """HDF5 is not walked. h5py (Keras, most weights) never unpickles; PyTables and hickle
    do: a file bearing the marks of a loader that unpickles (loaders.json: `hdf5_marks`) is
    NOT verified (an error). A Keras model's `model_config` attribute is plain text: the
    whole file is searched for a Lambda layer (the JSON rules of loaders.json)."""
    fh.seek(0)
    search = dataformats.Search(None)
    marks: set[bytes] = set()
    while chunk := fh.read(1 << 20):
        budget.tick()
        search.feed(chunk)
        dataformats.hdf5_marks(marks, search.window)
        if dataformats.hdf5_findings(marks):
            break
    _report(search.found.values(), where, out)
    _report(dataformats.hdf5_findings(marks), where, out)
    if search.configs():  # a Keras model_config: what it names, read whole
        fh.seek(0)
        data = fh.read(kerasconfig.MAX_WHOLE + 1)
        whole = data if len(data) <= kerasconfig.MAX_WHOLE else None
        _judge_keras(whole, True, search.modules(), where, out, budget)


def _report(found: Iterable[dataformats.Finding], where: str, out: FileScan) -> None:
    for f in found:
        if f.verdict == "code":
            out.runs_code(where, f.message)
        else:
            out.note(where, f.message)


def _scan_json(
    s: Stream,
    where: str,
    out: FileScan,
    budget: Budget,
    encoding: str | None,
    depth: int = 0,
) -> None:
    """A JSON stream (or a binary one holding JSON strings, searched whole) against the
    JSON rules of loaders.json: a Keras Lambda layer, jsonpickle's tags, Zarr's pickle
    codec. A Keras model config (an HDF5 `model_config` attribute, a `.keras` archive's
    config.json, a model.json for model_from_json) whose Lambda layer holds code runs it
    when rebuilt (tf.keras and .h5 files have no safe_mode; Keras 3 names the class
    "__lambda__" for the function itself). Found as JSON key/value string pairs, each string
    decoded as JSON decodes it (`"\\u004cambda"` is "Lambda")."""
    search = dataformats.Search(encoding)
    zarr = dataformats.zarr_rule(out.path) if not where else None
    kept: list[bytes] = []
    seen = 0
    # The whole stream, in overlapping windows: a Lambda after 65 MiB of whitespace is found
    # (round 16); the file's time budget bounds it (then NOT verified).
    embedded = _Embedded(where, out, budget, depth, encoding)
    whole: list[bytes] = []
    # Kept to be read whole if it turns out to hold a Keras config or base64 pickles: text up
    # to 16 MiB, a binary file's embedded JSON up to 4 MiB (keeping every stream up to 64 MiB
    # cost 50 MiB on a repository of gzipped JSON lines). Larger: judged by what is known.
    keep = _MAX_WHOLE_JSON if encoding is not None else _MAX_WHOLE_BINARY
    while chunk := s.read(1 << 20):
        budget.tick()
        seen += len(chunk)
        search.feed(chunk)
        embedded.feed(chunk)
        if zarr and seen <= zarr["max_bytes"]:
            kept.append(chunk)
        if seen <= keep:
            whole.append(chunk)
    search.feed(b"", final=True)
    embedded.feed(b"", final=True)
    _report(search.found.values(), where, out)
    if search.configs():  # a Keras config: what it names, read whole
        data = b"".join(whole) if seen <= min(keep, kerasconfig.MAX_WHOLE) else None
        _judge_keras(data, encoding is None, search.modules(), where, out, budget)
    if zarr and zarr["loader"] not in search.found:  # Zarr array metadata, read whole
        done = seen <= zarr["max_bytes"] and not s.peek(1)
        _report(dataformats.zarr_findings(zarr, b"".join(kept), done), where, out)


def _judge_keras(
    data: bytes | None, binary: bool, modules: set[str], where: str, out: FileScan, budget: Budget
) -> None:
    """The classes and functions a Keras config names, judged against what a config may name
    (kerasconfig: an allow-list of Keras' own classes and functions, never whole packages).
    A config too large to read whole has its modules judged alone: one outside Keras' is
    named, one whose objects cannot be judged without the config is NOT verified."""
    rules = kerasconfig.rules()
    if rules is None:
        return
    found: set[str] = set()
    if data is None:
        outside = {m for m in modules if not kerasconfig.known_module(m, rules)}
        if outside:
            out.config_modules.setdefault(where, set()).update(outside)
        else:
            out.note(where, "a Keras config too large to read whole: what it names NOT verified")
        return
    try:
        docs = (
            kerasconfig.objects_in_binary(data, budget.tick)
            if binary
            else iter([kerasconfig.parse(data)])
        )
        for doc in docs:
            if not kerasconfig.walk(doc, rules, found):
                out.note(where, "a Keras config too large to walk: what it names NOT verified")
                break
    except RecursionError:
        out.note(where, "a Keras config nested too deeply to read: what it names NOT verified")
    except ValueError as exc:
        if binary:  # json.loads of text that fails fails for Keras too
            out.note(where, f"Keras configs NOT verified ({exc})")
    if found:
        out.config_modules.setdefault(where, set()).update(found)


# JSON strings that hold a pickle or an archive as base64, which a loader decodes and reads:
# Stable-Baselines3 keeps `{":type:": ..., ":serialized:": "<base64 cloudpickle>"}` in its
# model zip's `data` and unpickles each on load (outside attack, round 17a F11); other code
# stores pickles (`gA` is PROTO's byte), zips (`UEsDB`) or gzip (`H4sI`) the same way.
# Found token by token (jsontokens: no whole-document parse, JSON Lines alike, any size): a
# string whose first 16 characters, as json.loads decodes them, are base64 or hex text, and
# the value of a `:serialized:` key (both spelled with any escapes). A string token over
# jsontokens.MAX_TOKEN, or a stream past the time budget, is NOT verified.
# A character base64 or hex text may hold, spelled as JSON may spell it (any escape of a
# printable ASCII character: _encoded_value judges the decoded text).
_B64_CHAR = rb"(?:[A-Za-z0-9+/]|\\/|\\u00[2-7][0-9a-fA-F])"
_SERIALIZED = b"".join(jsontokens.spelled(c) for c in ":serialized:") + b'"'
_CANDIDATE = _B64_CHAR + b"{16}|" + _SERIALIZED
_MAX_WHOLE_JSON = 16 << 20  # bytes of a JSON text kept to be read whole
_MAX_WHOLE_BINARY = 4 << 20  # bytes of a binary file kept to read its embedded JSON whole
# The key a value follows, and the key of the object a `:serialized:` key is in (labels only).
_KEY_BEFORE = rx.compile(rb'"((?:[^"\\]|\\.){1,200})"[ \t\r\n]*:[ \t\r\n]*$', rx.S)
_OBJECT_KEY = rx.compile(rb'"((?:[^"\\]|\\.){1,200})"[ \t\r\n]*:[ \t\r\n]*\{[^{]*$', rx.S)
_COLON = rx.compile(rb"[ \t\r\n]*:[ \t\r\n]*")


def _key(m: rx.Match[bytes] | None) -> str | None:
    return jsontokens.value(b'"' + m.group(1) + b'"') if m is not None else None


class _Embedded:
    """The strings of a JSON stream a loader decodes and unpickles, each decoded (as
    base64.b64decode / bytes.fromhex decode it) and scanned as a stream of its own."""

    def __init__(
        self, where: str, out: FileScan, budget: Budget, depth: int, encoding: str | None
    ) -> None:
        self.where, self.out, self.budget, self.depth = where, out, budget, depth
        self.tokens: jsontokens.StringTokens | None = None
        self.decoder: codecs.IncrementalDecoder | None = None
        if encoding is not None:  # a binary file's JSON is no document a loader reads
            self.tokens = jsontokens.StringTokens(_CANDIDATE)
            if not encoding.startswith("utf-8"):
                self.decoder = codecs.getincrementaldecoder(encoding)("replace")
        self.serialized: str | None = None  # the label of the `:serialized:` value next

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if self.tokens is None:
            return
        if self.decoder is not None:  # UTF-16/32, as UTF-8
            chunk = self.decoder.decode(chunk, final).encode("utf-8", "surrogatepass")
        try:
            for before, token, after in self.tokens.feed(chunk, final):
                self._token(before, token, after)
        except jsontokens.TooLarge as exc:
            self.out.note(self.where, f"JSON strings a loader may unpickle NOT verified ({exc})")
            self.tokens = None

    def _token(self, before: bytes, token: bytes, after: bytes) -> None:
        label, self.serialized = self.serialized, None
        text = jsontokens.value(token)
        if text is None or self.tokens is None:
            return
        if label is None and text == ":serialized:" and _COLON.fullmatch(after):
            self.tokens.take_next = True  # its value, whatever it spells
            named = _key(_OBJECT_KEY.search(before))
            self.serialized = f"{named}/:serialized:" if named else ":serialized:"
            return
        how = "base64" if label is not None else _encoded_value(text)
        if how is not None:
            self._scan(text, how, label or _key(_KEY_BEFORE.search(before)) or "value")

    def _scan(self, text: str, how: str, label: str) -> None:
        if self.depth >= MAX_DEPTH:
            self.out.note(
                self.where, f"base64 data nested deeper than {MAX_DEPTH} levels, not read"
            )
            return
        try:  # as base64.b64decode / bytes.fromhex decode it
            raw = base64.b64decode(text.encode()) if how == "base64" else bytes.fromhex(text)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return  # the loader raises too
        self.budget.tick()
        name = _join(self.where, f"{label} ({how})")
        stream = Stream(io.BytesIO(raw), self.budget, persistent=False)
        _dispatch(stream, name, self.out, self.budget, self.depth + 1, None)


def _encoded_value(text: str) -> str | None:
    """ "hex" or "base64" when a JSON string is that text of a PROTO 2-5 pickle or a
    container (near-random text is not taken for opcodes), else None."""
    head = text[:64].encode("utf-8", "replace")
    for how, start in _encoded_starts(head):
        if _spells_pickle_or_container(start):
            return how
    return None


def _zip_at_end(fh: IO[bytes]) -> bool:
    """A zip end-of-central-directory record in the last 64 KiB (where zipfile looks)."""
    if isinstance(fh, io.BufferedReader):  # a file: one read, its position kept
        fd = fh.fileno()
        size = os.fstat(fd).st_size
        tail = os.pread(fd, (1 << 16) + 22, max(0, size - (1 << 16) - 22))
    else:  # a spooled copy
        here = fh.tell()
        size = fh.seek(0, io.SEEK_END)
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
        fh.seek(here)
    return b"PK\x05\x06" in tail


def _scan_container(
    kind: str,
    s: Stream,
    where: str,
    out: FileScan,
    budget: Budget,
    depth: int,
    seekable: IO[bytes] | None,
) -> None:
    if kind == "npy":
        _scan_npy(s, where, out, budget)
    elif kind in ("zip", "zip-at-end"):
        _scan_zip(s, where, out, budget, depth, seekable, by_magic=kind == "zip")
    elif kind == "tar":
        _scan_tar(s, where, out, budget, depth)
    elif kind == "hdf5":
        assert seekable is not None
        _scan_hdf5(seekable, where, out, budget)
    elif kind == "arrow":
        _scan_arrow(s, where, out, budget, depth, seekable)
    elif kind == "values":
        _scan_values(s, where, out, budget, depth, seekable)
    elif kind == "json":
        _scan_json(s, where, out, budget, dataformats.json_encoding(s.peek(4)), depth)
    elif kind == "safetensors":
        budget.tick()
        for text in loadertext.safetensors_texts(s.read, where):
            out.add_text(text)
    elif kind == "shelve-db":
        out.note(where, "a SQLite write-ahead log or journal whose pages forkvet does not read")
    elif kind == "dbm":
        _scan_dbm(s, where, out, budget, depth, seekable)
    elif kind == "sqlite":
        assert seekable is not None
        _scan_sqlite(seekable, where, out, budget, depth)
    else:
        try:
            with _decompressed(kind, s) as inner:
                safe = _UpToError(inner)
                tap = _tap(safe, _join(where, f"({kind})"))
                stream = Stream(cast(IO[bytes], tap), budget)
                _dispatch(stream, tap.searcher.where, out, budget, depth + 1, None)
                _tapped(tap, out, budget)
            if safe.error is not None and safe.produced:
                # Cut or corrupt after some output: a loader has unpickled what came
                # before (walked above), and what it would read after is not known.
                why = f"a {kind} stream that ends early or breaks ({type(safe.error).__name__})"
                out.note(tap.searcher.where, f"{why}: NOT verified past that point")
        except _NOT_COMPRESSED:
            # Not that compression (it fails to open): its loader fails here too.
            return


# Parquet, Feather v2 / Arrow IPC files and Arrow IPC streams: a schema may hold the extension
# type `arrow.py_extension_type`, whose ARROW:extension:metadata pyarrow 0.14-14.0.0 unpickles
# when the file is read (CVE-2023-47248; outside attack, round 17a F7). Parquet keeps the Arrow
# schema base64-encoded in its footer (ARROW:schema); Feather/IPC in flatbuffers at the start
# and in the footer.
_ARROW_MAGIC = (b"PAR1", b"ARROW1", b"\xff\xff\xff\xff")
_PY_EXTENSION = b"arrow.py_extension_type"
_ARROW_HEAD = 1 << 20
_ARROW_FOOTER = 16 << 20
_B64_RUN = re.compile(rb"[A-Za-z0-9+/]{24,}={0,2}")
_PICKLE_START = re.compile(rb"\x80[\x02-\x05]")


_MAX_LEGACY = 16 << 20
_FB_WINDOW = 64 << 10


def _flatbuffer_strings(blob: bytes, at: int) -> Iterator[bytes]:
    """The flatbuffer string shapes (a little-endian u32 length, the bytes, a NUL) within
    64 KiB of offset at, where a schema keeps a field's extension name and metadata; a
    metadata string farther away is reported as not found."""
    start = max(0, at - _FB_WINDOW)
    region = blob[start : at + _FB_WINDOW]
    n = len(region)
    for i in range(n - 5):
        if region[i + 4] not in _OPS:
            continue
        end = i + 4 + int.from_bytes(region[i : i + 4], "little")
        if end < n and end > i + 5 and region[end] == 0:
            yield region[i + 4 : end]


def _legacy_arrow(head: bytes) -> bool:
    """An Arrow IPC stream in the framing before Arrow 0.15 (which pyarrow up to 14 still
    reads): the schema message's length, then its flatbuffer, whose first word is the offset
    of its root table."""
    if len(head) < 8:
        return False
    length: int = struct.unpack_from("<i", head)[0]
    root: int = struct.unpack_from("<I", head, 4)[0]
    return 8 <= length <= _MAX_LEGACY and 4 <= root < length


def _scan_arrow(
    s: Stream, where: str, out: FileScan, budget: Budget, depth: int, seekable: IO[bytes] | None
) -> None:
    with _seekable(s, seekable) as fh:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        head = fh.read(_ARROW_HEAD)
        if head.startswith(_ARROW_MAGIC):
            fh.seek(max(0, size - _ARROW_FOOTER))
            tail = fh.read(_ARROW_FOOTER)
        else:  # before Arrow 0.15: a stream, whose schema is its first message
            head += fh.read(max(0, 4 + int.from_bytes(head[:4], "little") - len(head)))
            tail = b""
    blobs = [head, tail]
    for m in _B64_RUN.finditer(tail if head.startswith(b"PAR1") else b""):
        budget.tick()
        try:
            blobs.append(base64.b64decode(m.group(0) + b"=" * (-len(m.group(0)) % 4)))
        except (binascii.Error, ValueError):
            continue
    marked = [b for b in blobs if _PY_EXTENSION in b]
    if not marked:
        return
    label = _join(where, "ARROW:extension:metadata")
    walked = 0
    for blob in marked:
        for m in list(_PICKLE_START.finditer(blob))[:16]:
            before = out.pickles
            stream = Stream(io.BytesIO(blob[m.start() :]), budget)
            if looks_like_pickle(stream, lenient=True):
                _scan_pickles(stream, label, out, budget)
            walked += out.pickles - before
        # A pickle without PROTO (protocol 0/1): the flatbuffer strings near the name
        for value in _flatbuffer_strings(blob, blob.find(_PY_EXTENSION)):
            if value[:1] != b"\x80" and _nested_kind(value[:HEAD], len(value)) == "pickle":
                before = out.pickles
                _scan_pickles(Stream(io.BytesIO(value), budget), label, out, budget)
                walked += out.pickles - before
    if not walked:
        out.note(
            label,
            "an Arrow extension type arrow.py_extension_type, whose metadata pyarrow before "
            "14.0.1 unpickles when the file is read: its pickle was not found",
        )


# Stores of pickled values a loader reads by its own index, which no walk from the file's
# start reaches (outside attack, round 17a F8, F9): an LMDB data file (its meta page's magic;
# image and feature datasets: `pickle.loads(txn.get(key))`) and msgpack maps (msgpack-numpy's
# decode unpickles an object array's `data`). Every place a pickle of protocol 2 or later can
# start (PROTO) is probed, and what is a pickle walked.
_LMDB_MAGIC = b"\xde\xc0\xef\xbe"
_MSGPACK_KEY = frozenset(range(0xA0, 0xC0)) | {0xC4, 0xC5, 0xC6, 0xD9, 0xDA, 0xDB}
MAX_VALUE_STORE = 256 << 20
MAX_CARVED = 10_000


def _is_value_store(head: bytes) -> bool:
    return head[16:20] == _LMDB_MAGIC or _msgpack_start(head)


_MP_FIXED = {0xC0: 0, 0xC2: 0, 0xC3: 0, 0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_MP_FIXED |= {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8, 0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17}
_MP_SIZED = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC7: 1, 0xC8: 2, 0xC9: 4}


def _msgpack_start(head: bytes) -> bool:
    """Does the head read as msgpack a loader with an object hook unpacks: an array or map
    first, and, before the head ends or the first object does, a map with string or bin keys
    only (a map inside an array counts as well as one at the top), no byte msgpack never
    writes? A pickle's PROTO reads as an empty map: not taken for one."""
    if not head or not (0x80 <= head[0] <= 0x9F or head[0] in (0xDC, 0xDD, 0xDE, 0xDF)):
        return False
    pending: list[int] = []  # items left in each open array/map (maps count keys and values)
    maps: list[bool] = []
    pos = keyed = 0
    while pos < len(head):
        b = head[pos]
        if pending and maps[-1] and pending[-1] % 2 == 0:  # a key
            if b not in _MSGPACK_KEY:
                return False
            keyed += 1
        pos += 1
        count = size = 0
        if b <= 0x7F or b >= 0xE0:
            pass
        elif b in _MP_FIXED:
            pos += _MP_FIXED[b]
        elif b <= 0x9F:
            count = (b & 0x0F) * (2 if b <= 0x8F else 1)
            if count == 0 and not pending:
                return False  # an empty map or array alone: no keys
        elif b <= 0xBF:
            size = b & 0x1F
        elif b in (0xDC, 0xDD, 0xDE, 0xDF):
            width = 2 if b in (0xDC, 0xDE) else 4
            count = int.from_bytes(head[pos : pos + width], "big") * (2 if b >= 0xDE else 1)
            pos += width
        elif b in _MP_SIZED:
            width = _MP_SIZED[b]
            size = int.from_bytes(head[pos : pos + width], "big") + (b in (0xC7, 0xC8, 0xC9))
            pos += width
        else:  # 0xc1: never written; the loader raises here
            return False
        pos += size
        if count:
            if pending:
                pending[-1] -= 1
            pending.append(count)
            maps.append(0x80 <= b <= 0x8F or b >= 0xDE)
            continue
        if pending:
            pending[-1] -= 1
        while pending and pending[-1] == 0:
            pending.pop()
            maps.pop()
        if not pending:
            break  # the first object is complete
    return keyed > 0


def _scan_values(
    s: Stream, where: str, out: FileScan, budget: Budget, depth: int, seekable: IO[bytes] | None
) -> None:
    with _seekable(s, seekable) as fh:
        size = fh.seek(0, io.SEEK_END)
        if size > MAX_VALUE_STORE:
            out.note(where, f"a store of pickled values over {MAX_VALUE_STORE >> 20} MiB, not read")
            return
        fh.seek(0)
        data = fh.read()
        whole = io.BytesIO(data)  # one buffer, each probe from its own offset
        probes = 0
        done = 0  # values are not probed again inside a pickle already walked
        for m in _PICKLE_START.finditer(data):
            if m.start() < done:
                continue
            probes += 1
            if probes > MAX_CARVED:
                out.note(where, f"over {MAX_CARVED:,} places a pickle may start, not all read")
                return
            if probes & 0xFF == 0:
                budget.tick()
            whole.seek(m.start())
            stream = Stream(whole, budget, counted=False)
            if not looks_like_pickle(stream, lenient=True):
                continue
            label = _join(where, f"(value at byte {m.start():,})")
            _scan_pickles(stream, label, out, budget, True, depth)
            done = m.start() + stream.offset


def _join(where: str, part: str) -> str:
    return f"{where}/{part}" if where else part


def _scan_pickles(
    s: Stream, where: str, out: FileScan, budget: Budget, sound: bool = True, depth: int = 0
) -> None:
    """All pickles one after the other (torch's legacy format writes five in a row). Each next
    one is decided leniently: pickle.load reads what pickletools refuses (a memo key stored
    twice), so a loader reading on (torch.load) would run what follows it. sound: whether
    the first passed the strict probe; a lone unsound one without imports is not counted."""
    first = True
    inline = False
    found = counted = 0
    while True:
        # Padding (NULs, blank lines) between pickles is skipped: a loader that seeks to
        # the next record reads the pickle after it (outside attack, round 17a F4).
        if (
            not first
            and not looks_like_pickle(s, lenient=True)
            and (not _skip_padding(s) or not looks_like_pickle(s, lenient=True))
        ):
            break  # what follows is raw data (tensor storages), not a pickle
        first = False
        info = PickleInfo()
        try:
            walk(s, budget, info)
        finally:  # a bound reached half-way keeps the imports met before it
            # Broke (every loader raises) before calling anything: only imported.
            inert = info.error is not None and not info.acted and not info.complete
            for mod, name in info.imports:
                out.add_import(where, mod, name, inert)
            # A few valid opcodes then garbage is a text file that looked like one.
            if info.complete or info.imports or info.ops >= _MIN_OPS:
                found += 1
                if sound or info.imports or found > 1:
                    out.pickles += found - counted
                    counted = found
        inline = inline or any(m.startswith(_INLINE_DATA) for m, _ in info.imports)
        if info.complete:  # a pickle that fails to load hands no value to anyone
            _scan_nested(info, where, out, budget, depth)
            _targets(info, where, out)
        info.nested.clear()
        if not info.complete:
            break
        s.persistent = True  # torch's legacy format: its main pickle has a persistent_load
    if info.complete and not inline and s.peek(1):
        out.unwalked.setdefault(where, (s.offset, _rest_size(s)))
    if inline and s.peek(1):
        # joblib writes array bytes (or a nested pickle) into the middle of the pickle
        # stream and its loader goes on unpickling after them: the rest cannot be walked.
        out.note(where, "array data inside the pickle stream; what follows was not walked")
        for mod, name in _sweep(s, budget):
            out.add_import(where, mod, name)


_MAX_TARGETS = 100  # `_target_` values kept per pickle


def _targets(info: PickleInfo, where: str, out: FileScan) -> None:
    """A pickled dict's `_target_` values, each a config text for the config rules (a value
    the walk could not read, built or too long, is NOT verified)."""
    for i, (key, value) in enumerate(info.targets):
        part = _join(where, f"(a pickled dict's `{key}`, {i + 1})")
        if value is None:
            why = f"a `{key}` whose value the pickle walk cannot read"
            out.add_text(loadertext.Text(part, target=True, spelled=True, unread=True, why=why))
        else:
            out.add_text(loadertext.search_text(part, json.dumps({key: value})))
    info.targets.clear()


def _scan_nested(info: PickleInfo, where: str, out: FileScan, budget: Budget, depth: int) -> None:
    """The values of a pickle that start like a pickle or a container, each a stream."""
    for i, blob in enumerate(info.nested):
        part = _join(where, f"(value {i + 1} inside the pickle)")
        if depth + 1 >= MAX_DEPTH:
            out.note(part, f"nested deeper than {MAX_DEPTH} levels, not read")
            continue
        stream = Stream(io.BytesIO(blob), budget, counted=False)
        _dispatch(stream, part, out, budget, depth + 1, None)
    info.nested.clear()


_PADDING = b"\0 \t\r\n"  # none of them is an opcode


def _skip_padding(s: Stream) -> int:
    """Skip padding bytes at the stream's position (reads, bounded like every read): how
    many were skipped."""
    skipped = 0
    while chunk := s.peek(1 << 16):
        rest = chunk.lstrip(_PADDING)
        s.skip(len(chunk) - len(rest))
        skipped += len(chunk) - len(rest)
        if rest:
            break
        s.budget.tick()
    return skipped


def _rest_size(s: Stream) -> int:
    """How many bytes follow the stream's position, when it is a file (else 0: unknown)."""
    raw = s.raw
    if isinstance(raw, io.BufferedReader):
        return max(0, os.fstat(raw.fileno()).st_size - raw.tell() + len(s.buf) - s.pos)
    return 0


_INLINE_DATA = ("joblib.numpy_pickle", "sklearn.externals.joblib.numpy_pickle")
# Import opcodes as pickle.dumps writes them: GLOBAL, and STACK_GLOBAL of two short strings.
_GLOBAL_BYTES = re.compile(
    rb"c([A-Za-z_][\w.]{0,200})\n([A-Za-z_][\w.]{0,200})\n"
    rb"|\x8c[\x01-\xc8]([A-Za-z_][\w.]{0,200})\x94?\x8c[\x01-\xc8]([A-Za-z_][\w.]{0,200})\x94?\x93"
)


def _sweep(s: Stream, budget: Budget) -> Iterator[tuple[str, str]]:
    """Import opcodes anywhere in the rest of the stream (bounded like every read): names
    for the report when the opcodes cannot be walked. Not a proof of absence."""
    tail = b""
    while chunk := s.read(1 << 20):
        budget.tick()
        data = tail + chunk
        for m in _GLOBAL_BYTES.finditer(data):
            mod, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            yield mod.decode("latin-1"), name.decode("latin-1")
        tail = data[-512:]


def _scan_npy(s: Stream, where: str, out: FileScan, budget: Budget) -> None:
    """.npy: magic, version, header length, header. numpy.load unpickles the data only when
    the header's dtype holds Python objects; any other array's data is raw numbers, whatever
    its bytes. A header numpy would not read proves nothing: the data is probed. A file may
    hold arrays one after another (np.save to an open file, as numpy's docs show): after a
    plain array's data, the next np.load(f) reads another array, or with allow_pickle a
    pickle, so what follows is scanned the same way."""
    record = 0
    while True:
        budget.tick()
        meta = _npy_record(s, where, out)
        if meta is None:
            return
        dtype = _has_object(meta["descr"], 0) if meta else None
        if dtype is True or (dtype is None and looks_like_pickle(s)):
            # numpy unpickles the data; the next np.load(f) starts where that pickle ends
            _scan_pickles(s, where, out, budget)
            record += 1
            if s.peek(6) == b"\x93NUMPY":
                continue
            return
        size = _npy_data_bytes(meta) if dtype is False else None
        if size is None:
            return
        try:
            s.skip(size)
        except _Bad:
            return  # numpy.load fails on a truncated array
        record += 1
        if s.peek(6) == b"\x93NUMPY":
            continue
        if s.peek(1) and looks_like_pickle(s):
            _scan_pickles(s, _join(where, f"(after array {record})"), out, budget)
        return


def _npy_record(s: Stream, where: str, out: FileScan) -> dict[str, Any] | None:
    """The header of the .npy record at the stream's position (past its magic): {} when
    numpy would not read it, None when the stream ends or refuses first."""
    pre = s.read(8)
    if len(pre) < 8:
        return None
    size = {1: 2, 2: 4, 3: 4}.get(pre[6], 0)
    raw = s.read(size)
    if not size or len(raw) < size:
        return None  # numpy.load fails on an unknown version or a truncated header
    hlen = int.from_bytes(raw, "little")
    if hlen > 1 << 20:
        out.note(where, "numpy header over 1 MiB")
        return None
    header = s.read(hlen)
    if len(header) < hlen:
        return None
    return _npy_meta(header) or {}


def npy_object_dtype(header: bytes) -> bool | None:
    """Whether a .npy header's dtype holds Python objects (so numpy pickles the data); None
    when the header is not one numpy reads. Read as numpy reads it: a Python literal."""
    meta = _npy_meta(header)
    return None if meta is None else _has_object(meta["descr"], 0)


def _npy_meta(header: bytes) -> dict[str, Any] | None:
    try:
        meta = ast.literal_eval(header.decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    if not isinstance(meta, dict) or set(meta) != {"descr", "fortran_order", "shape"}:
        return None
    return meta


def _npy_data_bytes(meta: dict[str, Any]) -> int | None:
    """How many bytes a plain array's data takes (numpy reads exactly that many)."""
    shape = meta["shape"]
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        return None
    item = _itemsize(meta["descr"], 0)
    return None if item is None else item * math.prod(shape)


_SIZED = re.compile(r"[<>|=]?([biufcSUVa?]|[mM]8)(\d*)(?:\[\w+\])?")


def _itemsize(descr: object, depth: int) -> int | None:
    if depth > 32:
        return None
    if isinstance(descr, str):
        m = _SIZED.fullmatch(descr)
        if m is None:
            return None
        kind, digits = m.group(1), int(m.group(2) or 0)
        if kind in ("m8", "M8"):
            return 8
        if kind == "?":
            return 1
        return 4 * digits if kind == "U" else digits
    if isinstance(descr, tuple) and len(descr) == 2:
        sub, shape = descr
        inner = _itemsize(sub, depth + 1)
        dims = shape if isinstance(shape, tuple) else (shape,)
        if inner is None or not all(type(n) is int and n >= 0 for n in dims):
            return None
        return inner * math.prod(dims)
    if isinstance(descr, list):
        total = 0
        for field_ in descr:
            if not isinstance(field_, tuple) or len(field_) not in (2, 3):
                return None
            inner = _itemsize(field_[1] if len(field_) == 2 else (field_[1], field_[2]), depth + 1)
            if inner is None:
                return None
            total += inner
        return total
    return None


# Type strings of arrays without objects, as numpy.save writes them (dtype.str): byte order,
# kind, size, and a unit for datetimes. Any other string may name an object dtype ('O',
# 'object', 'f4,O', ...) and counts as one.
_PLAIN_TYPE = re.compile(r"[<>|=]?(?:[biufcSUVa?]\d*|[mM]8(?:\[\w+\])?)")


def _has_object(descr: object, depth: int) -> bool | None:
    """A dtype description (a type string, a (descr, shape) pair, or a list of (name, descr
    [, shape]) fields): False only when no part can hold objects; None when it is not a
    description numpy reads."""
    if depth > 32:
        return None
    if isinstance(descr, str):
        return not _PLAIN_TYPE.fullmatch(descr)
    if isinstance(descr, tuple):
        return _has_object(descr[0], depth + 1) if len(descr) == 2 else None
    if not isinstance(descr, list) or not descr:
        return None
    found = False
    for field_ in descr:
        if not isinstance(field_, tuple) or len(field_) not in (2, 3):
            return None
        inner = _has_object(field_[1], depth + 1)
        if inner is None:
            return None
        found = found or inner
    return found


def _scan_zip(
    s: Stream,
    where: str,
    out: FileScan,
    budget: Budget,
    depth: int,
    seekable: IO[bytes] | None,
    by_magic: bool = True,
) -> None:
    from picklescan.relaxed_zipfile import RelaxedZipFile  # what torch's own reader accepts

    with _seekable(s, seekable) as fh:
        try:
            zf = containers.open_zip(fh, RelaxedZipFile)
        except containers.ContainerBound as exc:
            raise Unverified(str(exc)) from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            if by_magic:  # torch's reader may still open what zipfile refuses
                out.note(where, "looks like a zip archive but could not be opened")
            return
        with zf:
            # zipfile's members are scanned below; torch's reader (miniz) finds its end
            # records its own way: where it would read another directory, what it loads
            # was not seen.
            disagree = containers.zip_readers_disagree(fh)
            if disagree:
                out.note(where, disagree)
            infos = zf.infolist()
            names = [i.filename for i in infos]
            found_by_name = dataformats.zip_findings(names)
            for found, members in found_by_name:
                out.runs_code(_join(where, members[0]), found.message)
            _scan_skops(zf, infos, where, out)
            natives: list[str] = []  # members that are native libraries by their magic
            scripted = [i for i in infos if i.filename.rsplit("/", 1)[-1] == "constants.pkl"]
            if scripted:
                # torch.load hands an archive with a constants.pkl record to torch.jit.load,
                # which compiles the archive's own code/ and runs its __setstate__s, whatever
                # names its pickles use (`torch.nn.modules.linear.Linear` included).
                out.add_import(_join(where, scripted[0].filename), "torch.jit", "load")
            if len(infos) > MAX_MEMBERS:
                out.note(where, f"archive has {len(infos):,} members; the first {MAX_MEMBERS:,}")
            graphs = torchexport.graph_members(names)
            for info in infos[:MAX_MEMBERS]:
                if info.is_dir():
                    continue
                member = _join(where, info.filename)
                budget.tick()
                if info.filename in graphs:  # a torch.export graph: judged as its loader reads it
                    _export_graph(zf, info, member, out, budget)
                    continue
                try:
                    with zf.open(info) as inner:
                        safe = _UpToError(inner)
                        tap = _tap(safe, member)
                        stream = Stream(cast(IO[bytes], tap), budget, persistent=True)
                        stream.size = info.file_size
                        if native_library(stream.peek(HEAD)):
                            natives.append(info.filename)
                        _dispatch(stream, member, out, budget, depth + 1, None)
                        _tapped(tap, out, budget)
                    if safe.error is not None:  # torch's own reader may read further
                        raise safe.error
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                    out.note(member, f"could not be read ({type(exc).__name__})")
            if natives:
                before = {f.loader for f, _ in found_by_name}
                for found, members in dataformats.zip_findings(names, natives):
                    if found.loader not in before:
                        out.runs_code(_join(where, members[0]), found.message)
            _scan_unlisted(fh, zf, where, out, budget, depth)


def _export_graph(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: str, out: FileScan, budget: Budget
) -> None:
    """A torch.export program's graph JSON (torchexport), not read as a config: its `target`
    keys are operators, not Hydra targets."""
    try:
        with zf.open(info) as inner:
            data = inner.read(torchexport.MAX_GRAPH + 1)
        budget.charge_bytes(len(data))
        found = torchexport.judge(data, budget.tick)
    except torchexport.Unreadable as exc:
        out.note(member, f"a torch.export graph not read ({exc})")
        return
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
        out.note(member, f"could not be read ({type(exc).__name__})")
        return
    if found:
        out.runs_code(member, f"{torchexport.MESSAGE}: {'; '.join(found)}")


# Native shared libraries by their magic (a loader dlopens them whatever their name): ELF,
# Mach-O (32/64-bit, either byte order, and fat/universal), and PE (an MZ header whose
# e_lfanew leads to "PE\0\0").
_NATIVE_MAGICS = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


def native_library(head: bytes) -> bool:
    if head.startswith(_NATIVE_MAGICS):
        return True
    if head.startswith(b"MZ") and len(head) >= 0x40:
        pe = int.from_bytes(head[0x3C:0x40], "little")
        return head[pe : pe + 4] == b"PE\0\0"
    return False


def _scan_skops(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], where: str, out: FileScan
) -> None:
    """A skops archive: its schema.json (what skops.io.load reads) against skops' own
    default trusted types (see skopsfmt)."""
    info = next((i for i in infos if i.filename == skopsfmt.SCHEMA), None)
    if info is None:
        return
    member = _join(where, info.filename)
    try:
        with zf.open(info) as fh:
            data = fh.read(skopsfmt.MAX_SCHEMA + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
        out.note(member, f"a skops schema that could not be read ({type(exc).__name__})")
        return
    verdict = skopsfmt.check(data, complete=len(data) <= skopsfmt.MAX_SCHEMA)
    if verdict is None:
        return
    if verdict.untrusted:
        shown = ", ".join(verdict.untrusted[:3])
        out.runs_code(member, f"{skopsfmt.MESSAGE} ({shown})")
    if verdict.unverified:
        out.note(member, f"skops schema NOT verified: {verdict.unverified}")


def _scan_unlisted(
    fh: IO[bytes], zf: zipfile.ZipFile, where: str, out: FileScan, budget: Budget, depth: int
) -> None:
    """Members whose local headers lie where no listed member is: no directory lists them,
    but a reader walking local headers loads them (outside attack, round 17a: every reader's
    directory is compared, and what none lists is scanned too)."""
    start_dir = int(getattr(zf, "start_dir", 0))
    infos = zf.infolist()[:MAX_MEMBERS]
    found, more = containers.unlisted_members(fh, infos, start_dir, budget.tick)
    if more:
        out.note(where, f"over {containers.MAX_UNLISTED_MEMBERS} members no directory lists")
    for info in found:
        member = _join(where, f"{info.filename} (at byte {info.header_offset:,}, unlisted)")
        try:
            with zf.open(info) as inner:
                tap = _tap(_UpToError(inner), member)
                stream = Stream(cast(IO[bytes], tap), budget, persistent=True)
                _dispatch(stream, member, out, budget, depth + 1, None)
                _tapped(tap, out, budget)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
            # a stored member whose size the header did not state reads to the gap's end;
            # what could not be read at all is named
            if not out.imports.get(member):
                out.note(member, "a member no directory lists, which could not be read")


def _tap(inner: IO[bytes] | io.RawIOBase, where: str) -> loadertext.TextTap:
    """A member's stream, its text searched as the scan reads it (see loadertext)."""
    return loadertext.TextTap(inner, loadertext.Searcher(where, loadertext.types_for(where)))


def _tapped(tap: loadertext.TextTap, out: FileScan, budget: Budget, counted: bool = True) -> None:
    """The rest of a member's text read (within the file's budget) and what it holds kept."""
    out.add_text(tap.finish(budget.tick, budget.charge_bytes if counted else lambda n: None))


@contextmanager
def _seekable(s: Stream, fh: IO[bytes] | None) -> Iterator[IO[bytes]]:
    if fh is not None:
        fh.seek(0)
        yield fh
        return
    with _spooled(s) as spool:  # a nested archive: zipfile seeks
        yield spool


@contextmanager
def _spooled(s: Stream) -> Iterator[IO[bytes]]:
    """The rest of the stream copied out (bounded), to seek in or read again."""
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        total = 0
        while chunk := s.read(1 << 20):
            total += len(chunk)
            if total > MAX_SPOOL:
                raise Unverified(f"nested stream over {MAX_SPOOL >> 20} MiB")
            spool.write(chunk)
        spool.seek(0)
        yield cast(IO[bytes], spool)


_LEGACY_TORCH = {"storages", "tensors", "pickle", "sys_info"}
_ELEMENT_SIZE = {
    "DoubleStorage": 8,
    "FloatStorage": 4,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
}


MAX_TAR_HEADER = 1 << 20  # a long name or a pax header; real ones are a few hundred bytes


class BoundedTarInfo(containers.CheckedTarInfo):
    """tarfile reads a GNU long name or a pax header whole, into memory, before any member:
    one that declares gigabytes is refused before it is read; a pax header is checked before
    tarfile parses it (containers.CheckedTarInfo)."""

    def _proc_gnulong(self, tf: tarfile.TarFile) -> tarfile.TarInfo:
        self._refuse_huge()
        proc: Any = getattr(super(), "_proc_gnulong")  # noqa: B009 (a private hook)
        return cast(tarfile.TarInfo, proc(tf))

    def _proc_pax(self, tf: tarfile.TarFile) -> tarfile.TarInfo:
        self._refuse_huge()
        try:
            return super()._proc_pax(tf)
        except containers.ContainerBound as exc:
            raise Unverified(str(exc)) from None

    def _refuse_huge(self) -> None:
        if self.size > MAX_TAR_HEADER:
            raise Unverified(f"a tar header of {self.size:,} bytes (long name or pax), not read")


def _scan_tar(s: Stream, where: str, out: FileScan, budget: Budget, depth: int) -> None:
    try:
        tar = tarfile.open(fileobj=cast(Any, s), mode="r|", tarinfo=BoundedTarInfo)  # noqa: SIM115
    except (tarfile.TarError, OSError, EOFError):
        return
    with tar:
        count = 0
        try:
            for member in tar:
                count += 1
                if count > MAX_MEMBERS:
                    out.note(where, f"archive has over {MAX_MEMBERS:,} members")
                    return
                if not member.isfile():
                    continue
                budget.tick()
                inner = tar.extractfile(member)
                if inner is None:
                    continue
                name = _join(where, member.name)
                tap = _tap(inner, name)
                stream = Stream(cast(IO[bytes], tap), budget, counted=s.counted, persistent=True)
                stream.size = member.size
                if member.name in ("storages", "tensors"):
                    _scan_legacy_torch(stream, member.name, name, out, budget)
                else:
                    _dispatch(stream, name, out, budget, depth + 1, None)
                _tapped(tap, out, budget, s.counted)
        except (tarfile.TarError, OSError, EOFError) as exc:
            out.note(where, f"archive could not be read to its end ({type(exc).__name__})")


def _scan_legacy_torch(s: Stream, kind: str, where: str, out: FileScan, budget: Budget) -> None:
    """torch's legacy tar format: pickles with raw tensor data between them."""

    def one() -> PickleInfo:
        info = PickleInfo()
        try:
            walk(s, budget, info)
        finally:
            out.pickles += 1
            for mod, name in info.imports:
                out.add_import(where, mod, name)
        if not info.complete:
            raise _Bad(info.error or "incomplete pickle")
        return info

    try:
        n = one().int_value
        if n is None:
            raise _Bad("no count")
        for _ in range(n):
            info = one()
            if kind == "storages":
                types = [name for _, name in info.imports if name in _ELEMENT_SIZE]
                if len(types) != 1:
                    raise _Bad("unknown storage type")
                numel = int.from_bytes(s.read(8), "little")
                s.skip(numel * _ELEMENT_SIZE[types[0]])
            else:
                ndim = int.from_bytes(s.read(4), "little", signed=True)
                if not 0 <= ndim <= 64:
                    raise _Bad("bad tensor header")
                s.skip(4 + 16 * ndim + 8)
        if kind == "storages":
            one()  # the storage views
    except _Bad as exc:
        out.note(where, f"legacy torch data could not be followed ({exc}); rest not scanned")


_NOT_COMPRESSED: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    lzma.LZMAError,
    zlib.error,
    ValueError,
    RuntimeError,  # lz4
)


@contextmanager
def _decompressed(kind: str, s: Stream) -> Iterator[IO[bytes]]:
    if kind == "gzip":
        # gzip.GzipFile's own header reading goes a byte at a time (a 500 MB file name: 81 s)
        yield cast(IO[bytes], _Readable(containers.GzipMembers(s.read, s.budget.tick).read))
    elif kind == "bz2":
        yield cast(IO[bytes], _Streams(s, bz2.BZ2Decompressor))
    elif kind in ("xz", "lzma"):  # as lzma.open's FORMAT_AUTO: .xz, .lzma, .lz streams
        yield cast(IO[bytes], _Streams(s, decoders.Lzma))
    elif kind == "zstd":
        # stream_reader ends a cut frame as if it were whole: frame by frame, as _Streams.
        yield cast(IO[bytes], _Streams(s, _ZstdFrame, 4096))
    elif kind == "lz4":
        import lz4.frame

        yield cast(IO[bytes], _Streams(s, lz4.frame.LZ4FrameDecompressor))
    else:  # zlib, or joblib's "ZF" + hex length + zlib
        if kind == "zfile":
            s.read(2 + 19)  # joblib: b"ZF", the length in hex padded to len(hex(2**64))
        yield cast(IO[bytes], _ZlibReader(s))


_BROKEN: tuple[type[Exception], ...] = (*_NOT_COMPRESSED, zipfile.BadZipFile)


class _Streams(io.RawIOBase):
    """bz2, xz, lzma and lz4 frames as their file objects read them (stream after stream;
    what follows the last one and is no stream is ignored, as they do), but keeping every
    byte decompressed before an error: BZ2File & co. drop the output of the read that meets
    a cut, while a loader reading a byte at a time (pickle.load) has unpickled it by then
    (outside attack, round 20a F9). The error comes on the read after that output."""

    def __init__(self, s: Stream, make: Callable[[], Any], feed: int = 64 * 1024) -> None:
        self.s, self.make, self.d, self.feed = s, make, make(), feed
        self.pending = bytearray()  # what was decompressed; handed out from self.at on
        self.at = 0
        self.done = False
        self.broken: Exception | None = None

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        d = self.d
        if d.eof:
            rest = d.unused_data or self.s.read(self.feed)
            if not rest:
                self.done = True
                return
            self.d = self.make()
            try:
                self.pending += self.d.decompress(rest, 1 << 20)
            except _NOT_COMPRESSED:
                self.done = True  # trailing bytes that are no stream: the file objects stop
            return
        raw = b""
        if d.needs_input:
            raw = self.s.read(self.feed)
            if not raw:
                raise EOFError("the compressed stream ends before its end-of-stream marker")
        self.pending += d.decompress(raw, 1 << 20)

    def read(self, n: int | None = -1) -> bytes:
        n = 1 << 20 if n is None or n < 0 else n
        while len(self.pending) - self.at < n and not self.done and self.broken is None:
            try:
                self._fill()
            except _NOT_COMPRESSED as exc:
                self.broken = exc
        if self.at >= len(self.pending) and self.broken is not None:
            raise self.broken
        out = bytes(self.pending[self.at : self.at + n])
        self.at += len(out)
        if self.at > 1 << 20 and 2 * self.at > len(self.pending):  # amortised: no copy per read
            del self.pending[: self.at]
            self.at = 0
        return out

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _UpToError(io.RawIOBase):
    """A decompressing stream that ends where it breaks (a bad CRC, corrupt data), keeping
    what came before: a loader has unpickled that much by then. Read in the chunks a
    loader's buffered reader asks for, so the scan sees at least what the loader saw."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.error: Exception | None = None
        self.produced = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        n = 1 << 20 if n is None or n < 0 else n
        chunks: list[bytes] = []
        got = 0
        while got < n and self.error is None:
            try:
                chunk = self.inner.read(min(n - got, io.DEFAULT_BUFFER_SIZE))
            except _BROKEN as exc:
                self.error = exc
                break
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        self.produced += got
        return b"".join(chunks)

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _Readable(io.RawIOBase):
    """A read(n) function as a readable stream."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read_fn = read

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        return self._read_fn(1 << 20 if n is None or n < 0 else n)

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _ZstdFrame:
    """zstandard's decompressobj in the shape of bz2's decompressor (all output at once:
    fed a few KiB at a time, a frame's blocks of at most 128 KiB bound what one feed gives;
    a frame may declare any window: memory stays at zstd's default cap, 128 MiB)."""

    needs_input = True

    def __init__(self) -> None:
        import zstandard

        self.d = zstandard.ZstdDecompressor(max_window_size=1 << 27).decompressobj()

    @property
    def eof(self) -> bool:
        return bool(self.d.eof)

    @property
    def unused_data(self) -> bytes:
        return bytes(self.d.unused_data)

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        import zstandard

        try:
            return bytes(self.d.decompress(data))
        except zstandard.ZstdError as exc:
            raise OSError(str(exc)) from None


class _ZlibReader(io.RawIOBase):
    def __init__(self, s: Stream) -> None:
        self.s = s
        self.d = zlib.decompressobj()
        self.pending = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        n = 1 << 20 if n is None or n < 0 else n
        while len(self.pending) < n and not self.d.eof:
            data = self.d.unconsumed_tail or self.s.read(64 * 1024)
            if not data and self.pending:
                break
            if not data:  # cut before its end: an error after what came before
                raise EOFError("the zlib stream ends before its end")
            self.pending += self.d.decompress(data, 1 << 20)
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


# -- what the imports mean ---------------------------------------------------------------------
# Imports a checkpoint or array needs and that only rebuild data (torch's and numpy's own
# rebuild functions, plain containers). Like torch.load(weights_only=True)'s allow-list: anything
# else — a model class, an estimator, os.system — is code that loading runs.
_BUILTIN_TYPES = frozenset(
    {"set", "frozenset", "slice", "range", "complex", "bytearray", "bytes", "dict", "list"}
    | {"tuple", "int", "float", "str", "bool", "object"}
)
_TORCH_DTYPES = frozenset(
    {"float16", "float32", "float64", "bfloat16", "half", "float", "double", "complex64"}
    | {"complex128", "int8", "int16", "int32", "int64", "uint8", "bool", "long", "int", "short"}
    | {"Size", "device", "dtype", "memory_format", "contiguous_format", "channels_last"}
    | {"per_tensor_affine", "strided", "sparse_coo", "qint8", "quint8", "qint32"}
)
SAFE_GLOBALS: dict[str, frozenset[str]] = {
    "builtins": _BUILTIN_TYPES,
    "__builtin__": _BUILTIN_TYPES,
    "collections": frozenset({"OrderedDict", "defaultdict", "deque", "Counter"}),
    "copyreg": frozenset({"_reconstructor"}),
    "copy_reg": frozenset({"_reconstructor"}),
    "_codecs": frozenset({"encode"}),  # how protocol 2 stores bytes
    "argparse": frozenset({"Namespace"}),  # training arguments saved with a checkpoint
    "pathlib": frozenset({"Path", "PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath"}),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "numpy": frozenset({"dtype", "ndarray"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy.dtypes": frozenset({"Float16DType", "Float32DType", "Float64DType", "Int8DType"})
    | frozenset({"Int16DType", "Int32DType", "Int64DType", "UInt8DType", "BoolDType"})
    | frozenset({"UInt16DType", "UInt32DType", "UInt64DType", "ObjectDType", "StrDType"}),
    "torch": _TORCH_DTYPES | frozenset(_ELEMENT_SIZE) | frozenset({"UntypedStorage"}),
    "torch._utils": frozenset(
        {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter"}
        | {"_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor"}
        | {"_rebuild_meta_tensor_no_storage", "_rebuild_device_tensor_from_numpy"}
    ),
    "torch.nn.parameter": frozenset({"Parameter"}),
    "torch.serialization": frozenset({"_get_layout"}),
}
# torch.nn layers (a whole model saved with torch.save(model)): constructing them runs no
# user code. The model's own class still has to be imported, and is reported.
_SAFE_MODULE_PREFIXES = ("torch.nn.modules.",)
# The top-level modules those live in: `argparse`, `collections`, `numpy`, `torch`, ...
SAFE_TOPS = frozenset(m.split(".", 1)[0] for m in (*SAFE_GLOBALS, *_SAFE_MODULE_PREFIXES))


def importable(module: str, name: str, repo_names: frozenset[str]) -> bool:
    """Whether loading may import (and run) something for this import. A module or name
    that is no identifier path is kept by the walk (__import__ finds `my-mod.py` as well as
    any file), but only a repository file or folder can carry such a name: installed
    modules have identifier names. __import__ imports the first part of a dotted path
    before the rest: when it names no repository file or folder, every loader fails on the
    import and nothing runs (a Python file starting `import a.b` spells INST `mport a.b`)."""
    if module.startswith("?"):
        return True  # not known: anything (`os` and `path.os.` * 10,000 + `system`)
    if not _IDENT.fullmatch(module):
        # Imported first, whatever the name: only the repository can hold such a module
        # (`import yaml` at a file's start spells INST of `mport yaml`: nothing is imported).
        return module.split(".", 1)[0] in repo_names
    if name == UNKNOWN or _IDENT.fullmatch(name):
        return True
    return module.split(".", 1)[0] in repo_names


# Where __import__ finds a top-level name: a folder (package or namespace package), or a
# file of that stem with a suffix importlib loads (source, bytecode, extension module).
MODULE_SUFFIXES = (".py", ".pyw", ".pyc", ".so", ".pyd")


def live_imports(scan: FileScan, repo_names: frozenset[str]) -> set[tuple[str, str]]:
    """The imports loading this file may act on: importable ones (see importable), less those
    only imported and never called (FileScan.inert) whose module is not the repository's own
    and that picklescan does not call dangerous. Such an import runs no code of the
    repository's, and text files spell them by chance (a file list starting `imgHQ00000`);
    a deliberate `os.system` stays an error, so forkvet is never weaker than picklescan."""
    every = {g for found in scan.imports.values() for g in found}
    live = {g for g in every if importable(*g, repo_names)}
    inert = {
        g
        for g in live & scan.inert
        if not g[0].startswith("?") and g[0].split(".", 1)[0] not in repo_names
    }
    if inert:
        live -= inert - known_dangerous(inert)
    return live


def repo_names(paths: Iterable[str]) -> frozenset[str]:
    """Every name a module in these files could be imported by: folder names, and the stems
    of files __import__ loads (`my-mod.py` -> `my-mod`, `x.cpython-311-x86_64-linux-gnu.so`
    -> `x`)."""
    out: set[str] = set()
    for path in paths:
        *folders, name = path.split("/")
        out.update(folders)
        if name.endswith(MODULE_SUFFIXES):
            out.add(name.split(".", 1)[0])
    return frozenset(out)


# Capitalised names in torch.nn.modules.* that are modules, not layer classes: every one of
# them imports `torch.nn.functional as F`, and a pickle's BUILD on a module object rewrites
# it for the whole process (outside attack, round 14a).
_MODULE_ALIASES = frozenset({"F"})


def is_safe(module: str, name: str) -> bool:
    if name in SAFE_GLOBALS.get(module, ()):
        return True
    return (
        module.startswith(_SAFE_MODULE_PREFIXES)
        and name[:1].isupper()
        and "." not in name
        and name not in _MODULE_ALIASES
    )


@functools.cache
def _model_classes() -> tuple[tuple[str, ...], dict[str, frozenset[str]]]:
    from importlib import resources

    raw = json.loads(
        resources.files("forkvet.data").joinpath("pickle_classes.json").read_text("utf-8")
    )
    functions = {m: frozenset(names) for m, names in raw["functions"].items()}
    return tuple(raw["class_modules"]), functions


def model_class(module: str, name: str, repo_names: frozenset[str]) -> bool:
    """Whether an import off the safe list is code a reviewer can read (an `unsafe-pickle`):
    the repository's own module, or a model library's class or rebuild helper named in
    forkvet/data/pickle_classes.json. Anything else that loading calls (a loader, an
    importer, a file or network opener, a code builder) is dangerous, whether or not
    picklescan's tables list it (outside attack, round 17a: `imp.load_source`,
    `marshal.loads`, `torch.load` were called unsafe, like a model class)."""
    if not module.startswith("?") and module.split(".", 1)[0] in repo_names:
        return True
    prefixes, functions = _model_classes()
    if name in functions.get(module, ()):
        return True
    if not (_IDENT.fullmatch(name) and "." not in name and name[:1].isupper()):
        return False
    if name in _MODULE_ALIASES:
        return False
    # "torch.nn." is torch.nn and every module under it; "sklearn.pipeline" that module alone
    return any(
        module == p.rstrip(".") or (p.endswith(".") and module.startswith(p)) for p in prefixes
    )


def dangerous(imports: set[tuple[str, str]], repo_names: frozenset[str]) -> set[tuple[str, str]]:
    """The imports off the safe list that make a pickle `dangerous-pickle`: picklescan's
    dangerous ones, and every one that is no model class (see model_class)."""
    own = {g for g in imports if not model_class(*g, repo_names)}
    return own | known_dangerous(imports)


def known_dangerous(imports: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The imports picklescan's own tables call dangerous (os.system, builtins.eval, ...).

    Asked through its public API with a pickle of just those imports, so its list of
    dangerous callables stays the one its maintainers keep up to date.
    """
    import logging

    from picklescan.scanner import SafetyLevel, scan_pickle_bytes

    logging.getLogger("picklescan").setLevel(logging.CRITICAL)
    named = [(m, n) for m, n in imports if _IDENT.fullmatch(m) and _IDENT.fullmatch(n)]
    out = {(m, n) for m, n in imports if (m, n) not in named}  # names nobody can check
    if named:
        data = b"".join(f"c{m}\n{n}\n0".encode() for m, n in named) + b"N."
        result = scan_pickle_bytes(io.BytesIO(data), "imports")
        out |= {(g.module, g.name) for g in result.globals if g.safety == SafetyLevel.Dangerous}
    return out
