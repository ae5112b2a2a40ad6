"""Text a loader reads from inside another file (outside attack, round 18a F3, F4): a member
of a zip or tar (NeMo's `.nemo` tar: `model_config.yaml`, which `restore_from` hands to
`hydra.utils.instantiate`), a decompressed stream, a value of a safetensors header's
`__metadata__` (FlexTok parsed each and instantiated its `config`). The config rules (Hydra
`_target_`, mmengine `type`, HyperPyYAML tags, YAML Python tags, OmegaConf eval resolvers)
see these texts as they see the repository's files: one search, whatever holds the text.

The pickle scan opens every archive and stream; each member it reads goes through a TextTap,
which decodes the bytes as PyYAML's Reader does (UTF-16 by its BOM, else UTF-8) up to the
first character the Reader refuses (a binary member costs a few bytes), searches it for what
a config rule needs, and keeps the text (bounded) for the config reader in risks.py. A text
with what a rule needs that could not be kept whole is NOT verified (an error there)."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from forkvet import rx
from forkvet.vet import configtargets

# What a YAML code tag needs (see risks.py): a `!` that starts a tag, then `python/` or a
# %-escape within its first characters; a %TAG directive; a HyperPyYAML tag, also written as
# a verbatim tag, whose full tag is what the loader resolves (`!<!new:subprocess.Popen>` is the
# tag `!new:subprocess.Popen` to ruamel and PyYAML alike; round 21a F6; a %-escape in it is the
# first alternative's). Not any `!<`: a BPE vocabulary is full of them.
_TAG_START = r"(?:^|[\s\x{85}\x{2028}\x{2029}\[\]{},:?-])!"
TAG_NEED = rx.compile(
    _TAG_START
    + r"<?!?[^\s%]{0,32}?(?:python/|%[0-9A-Fa-f]{2})|^%TAG[ \t]|"
    + _TAG_START
    + r"(?:<!)?(?:new|name|apply|applyref|module|include):",
    rx.M,
)
# PyYAML's Reader refuses any other character (reader.py NON_PRINTABLE).
REFUSED = rx.compile(r"[^\t\n\r\x20-\x7e\x85\xa0-\x{d7ff}\x{e000}-\x{fffd}\x{10000}-\x{10ffff}]")
# A target key spelled out, not only an escape that could spell one: a text too large to read
# whole is NOT verified when it has one (escapes alone are every tokenizer's JSON; the same
# rule as for the repository's own files).
SPELLED = rx.compile(configtargets.SPELLED_KEY, rx.M)
SPELLED_TYPES = rx.compile(
    configtargets.SPELLED_KEY + "|"
    r"\b(?:type|target|cls|class)[\"']?[ \t]*:[ \t]*[\"']?[A-Za-z_]\w*\.[A-Za-z_]",
    rx.M,
)
MAX_KEPT = configtargets.MAX_CONFIG_BYTES  # characters of one text kept for the reader
MAX_KEPT_PER_FILE = 8 << 20  # all texts kept from one file
MAX_TEXT = 256 << 20  # characters of one text searched at all
_OVERLAP = 64
_PROBE = 512
# Bytes PyYAML's Reader refuses that are one character in UTF-8, and the shortest text that
# can hold what a rule needs (`!new:a`, `${e:f()}`, `_target_`): fewer characters hold none.
_CONTROL = rx.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHORTEST = 6


@dataclass
class Text:
    """One text a loader may read: where it is inside its file, what it needs, and the text
    itself (None: not kept, so not verified; `why` says so)."""

    where: str
    target: bool = False  # what a `_target_`/`type` needs (an escape included)
    spelled: bool = False  # a `_target_`/`type` key spelled out (no escape)
    tag: bool = False  # what a YAML code tag or HyperPyYAML tag needs
    interpolation: bool = False  # an OmegaConf `${`
    unread: bool = False  # not searched to its end: what it holds is unknown
    text: str | None = None
    why: str = ""


class Searcher:
    """One text, fed in pieces: decoded, ended at the first refused character, searched."""

    def __init__(self, where: str, types: bool) -> None:
        self.where = where
        self.types = types
        self.need = configtargets.NEED_TYPES if types else configtargets.NEED
        self.spelled = SPELLED_TYPES if types else SPELLED
        self.found = Text(where)
        self._decoder: codecs.IncrementalDecoder | None = None
        self._head = b""
        self._kept: list[str] = []
        self._size = 0
        self._tail = ""
        self.ended = False  # the text ended (refused character) or was given up
        self.over = False  # longer than MAX_KEPT: not kept whole

    def feed(self, data: bytes, final: bool = False) -> None:
        if self.ended:
            return
        if self._decoder is None:
            self._head += data
            if len(self._head) < 2 and not final:
                return
            utf16 = self._head[:2] in (b"\xff\xfe", b"\xfe\xff")
            control = _CONTROL.search(self._head, 0, _SHORTEST)
            if not utf16 and control is not None:
                # A control byte (refused, and one byte in UTF-8) before any text long enough
                # to hold what a rule needs: tensor data, most members. Nothing to decode.
                self.ended = True
                return
            self._decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")(
                "replace"
            )
            data, self._head = self._head, b""
        if self._size == 0 and len(data) > _PROBE:
            # Most members are binary (tensor data): the first bytes end their text, without
            # decoding the whole read-ahead.
            self._decode(data[:_PROBE], False)
            data = data[_PROBE:]
        self._decode(data, final)
        if final:
            self.ended = True

    def _decode(self, data: bytes, final: bool) -> None:
        if self.ended or self._decoder is None:
            return
        text = self._decoder.decode(data, final=final)
        bad = REFUSED.search(text)
        if bad is not None:
            text = text[: bad.start()]
            self.ended = True
        self._search(text)

    def _search(self, text: str) -> None:
        if not text:
            return
        self._size += len(text)
        if self._size > MAX_TEXT:
            self.ended = self.over = self.found.unread = True
            self.found.why = f"a text of over {MAX_TEXT >> 20} MiB, not searched to its end"
            return
        if not self.over:
            if self._size <= MAX_KEPT:
                self._kept.append(text)
            else:
                self.over, self._kept = True, []
        window = self._tail + text
        f = self.found
        f.tag = f.tag or bool(TAG_NEED.search(window))
        if not f.spelled and (
            configtargets.may_instantiate(window)
            or "\\" in window
            or (self.types and configtargets.may_type(window))
        ):
            f.target = f.target or bool(self.need.search(window))
            f.spelled = bool(self.spelled.search(window))
        f.interpolation = f.interpolation or "${" in window
        self._tail = window[-_OVERLAP:]

    def result(self) -> Text | None:
        """The text when it holds what a rule needs, else None."""
        f = self.found
        if not (f.target or f.tag or f.interpolation or f.unread):
            return None
        if self.over:
            f.why = f.why or f"over {MAX_KEPT >> 20} MiB, not read whole"
        elif not self.ended:
            f.why = "not read to its end"
        else:
            f.text = "".join(self._kept)
        return f


class TextTap(io.RawIOBase):
    """A member's stream read through a Searcher: every byte the scan reads is searched
    too, and finish() reads the rest of a text the scan left unread (a YAML member the pickle
    scan looks at no further than its head)."""

    def __init__(self, inner: IO[bytes] | io.RawIOBase, searcher: Searcher) -> None:
        self.inner = inner
        self.searcher = searcher
        self.eof = False

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        data = self.inner.read(-1 if n is None else n) or b""
        if not data and (n is None or n != 0):
            self.eof = True
            self.searcher.feed(b"", final=True)
        else:
            self.searcher.feed(data)
        return data

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def finish(self, tick: Callable[[], None], charge: Callable[[int], None]) -> Text | None:
        """Read what is left of a text (until it ends), then what it needs, or None."""
        while not self.searcher.ended and not self.eof:
            tick()
            data = self.read(1 << 20)
            charge(len(data))
        return self.searcher.result()


def search_text(where: str, text: str) -> Text | None:
    """A text already decoded (a safetensors metadata value): what it needs, or None."""
    s = Searcher(where, types=True)
    bad = REFUSED.search(text)
    if bad is not None:
        text = text[: bad.start()]
    s._search(text)
    s.ended = True
    return s.result()


def types_for(where: str) -> bool:
    """Whether a dotted `type` counts in this member (mmengine reads .json/.yaml/.yml)."""
    return where.lower().endswith(configtargets.TYPE_SUFFIXES)


# -- safetensors: an 8-byte little-endian header length, then the header's JSON -----------------
MAX_SAFETENSORS_HEADER = 100_000_000  # the safetensors library's own limit
MAX_READ_HEADER = 16 << 20  # read and parsed (real headers: a few MiB at most)


def safetensors_header_size(head: bytes) -> int | None:
    """The header length of a safetensors file from its first bytes, or None when it is none."""
    if len(head) < 10:
        return None
    size = int.from_bytes(head[:8], "little")
    if not 2 <= size <= MAX_SAFETENSORS_HEADER:
        return None
    return size if head[8:].lstrip(b" \t\r\n")[:1] == b"{" else None


def safetensors_texts(read: Callable[[int], bytes], where: str) -> list[Text]:
    """Each `__metadata__` value of a safetensors header as a text of its own (what
    `safe_open(...).metadata()` returns, and libraries parse as JSON or YAML and instantiate),
    and the texts that need a config rule. A header that does not parse is refused by every
    loader too."""
    raw = read(8)
    size = int.from_bytes(raw, "little") if len(raw) == 8 else 0
    if size > MAX_READ_HEADER:
        return [
            Text(
                where or "__metadata__",
                unread=True,
                why=f"a safetensors header of {size:,} bytes (over {MAX_READ_HEADER >> 20} MiB)",
            )
        ]
    header = read(size)
    try:
        doc = json.loads(header)
    except (ValueError, RecursionError):
        return []
    meta = doc.get("__metadata__") if isinstance(doc, dict) else None
    if not isinstance(meta, dict):
        return []
    out: list[Text] = []
    for key, value in list(meta.items())[:10_000]:
        text = value if isinstance(value, str) else json.dumps(value)
        name = f"{where}/__metadata__/{key}" if where else f"__metadata__/{key}"
        found = search_text(name, text)
        if found is not None:
            out.append(found)
    return out
