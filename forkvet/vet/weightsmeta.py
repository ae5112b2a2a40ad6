"""Weights files' own metadata (outside attack round 21d, F1).

A weights file states its license and its base model in its own header, which the Hub's file
viewer, llama.cpp's load log and civitai show: GGUF's `general.license` and
`general.base_model.N.{name,organization,repo_url}`, an ONNX model's `metadata_props`, a Keras
v3 `.keras` archive's `metadata.json`, a safetensors header's `__metadata__` (ModelSpec's
`modelspec.license` / `modelspec.architecture`, kohya's `ss_sd_model_name` /
`ss_base_model_version`). A key shaped like a license key is the weights' license; a key naming
the base model is a model the weights derive from, judged like a download (the Hub table, the
base-model names, `library_models.json`'s `base_names`); a base model none of them can judge,
a header forkvet cannot read to its end, or more weights files than the bound is a gap.
"""

from __future__ import annotations

import json
import struct
import tarfile
import time
import zipfile
from collections.abc import Callable
from typing import BinaryIO

import yaml

from forkvet import rx, safeyaml
from forkvet.snapshot import FileEntry
from forkvet.vet import libraryzoos, modelrefs
from forkvet.vet.context import Context
from forkvet.vet.modelterms import LICENSE_KEY, ModelTerms, research_only_text

Judge = Callable[[str, str, str], ModelTerms | str | None]
MAX_FILES = 200
MAX_HEADER = 64 * 1024 * 1024
MAX_ITEMS = 10_000_000
MAX_VALUE = 1 << 20
SECONDS = 5.0
_SUFFIXES = frozenset(
    [".gguf", ".onnx", ".keras", ".safetensors", ".nemo", ".mar", ".zip", ".mlmodel"]
)
# Round 22d F9: terms under a key that is no license key (`terms`, `usage`), or in a sentence
# of any value (`description`), and a terms file inside an archive, are the weights' terms.
_TERMS_KEY = rx.compile(
    r"(?i)^(?:terms(?:[_-]?of[_-]?(?:use|service))?|usage[_-]?terms|rights|copyright|"
    r"restrictions?|eula|permissions?)$"
)
_TERMS_WORDS = rx.compile(
    r"(?i)\blicen[cs]|\bnon[- ]?commercial|\bcommercial(?:ly)?\b|\bterms\s+of\s+(?:use|service)|"
    r"\brights\s+reserved|\bcc[- ]by\b|\bprohibit|\bresearch\s+(?:use|purposes?)\s+only"
)
_TERMS_MEMBER = rx.compile(r"(?i)(?:^|/)(?:licen[cs]e|copying|terms|eula|notice)[^/]*$")
MAX_MEMBERS = 10_000
# Keys naming the model the weights derive from (not the model itself).
_BASE_KEY = rx.compile(
    r"(?i)^general\.base_model\.\d+\.(?:name|organization|repo_url)$|^ss_sd_model_name$|"
    r"^ss_base_model_version$|^modelspec\.(?:architecture|base_model)$|^base_model(?:_name)?$"
)
_OWN_NAME = rx.compile(r"(?i)^general\.(?:name|basename)$")
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


class Unreadable(Exception):
    """A header forkvet could not read to its end."""


def metadata_terms(ctx: Context, judge: Judge) -> list[ModelTerms]:
    """Terms the weights files' own metadata states or implies (see the module's docstring)."""
    files = [f for f in ctx.snap.files if f.suffix.lower() in _SUFFIXES and not f.vendored]
    out: list[ModelTerms] = []
    for fe in files[:MAX_FILES]:
        try:
            with ctx.snap.open(fe.path) as fh:
                meta = _READERS[fe.suffix.lower()](fh, fe)
        except (
            OSError,
            ValueError,
            RecursionError,
            Unreadable,
            zipfile.BadZipFile,
            tarfile.TarError,
            yaml.YAMLError,
        ) as exc:
            what = f"{fe.path}: its metadata could not be read ({str(exc)[:80] or 'malformed'})"
            out.append(ModelTerms(fe.path, what, [], False, unverified=True))
            continue
        out += _judged(fe, meta, judge)
    if len(files) > MAX_FILES:
        what = f"{len(files) - MAX_FILES} weights files past {MAX_FILES} whose metadata is unread"
        out.append(ModelTerms(files[MAX_FILES].path, what, [], False, unverified=True))
    return out[:50]


def _judged(fe: FileEntry, meta: dict[str, str], judge: Judge) -> list[ModelTerms]:
    out: list[ModelTerms] = []
    bases: list[str] = []
    judged_base = False
    for key, value in list(meta.items())[:500]:
        value = value.strip()[:300]
        last = key.rsplit(".", 1)[-1]
        if LICENSE_KEY.match(last) and value and not _read_elsewhere(fe, key):
            what = f"{fe.path}: its metadata's {key} says {value[:80]!r}"
            out.append(ModelTerms(fe.path, what, [value], research_only_text(value)))
        elif _BASE_KEY.match(key) and value:
            bases.append(value)
            found = _base(fe.path, key, value, judge)
            judged_base = judged_base or found is not None
            out += [found] if isinstance(found, ModelTerms) else []
        elif _OWN_NAME.match(key) and value:  # the model itself: a base-model name restricts it
            own = judge(value, fe.path, f"its metadata's {key} names")
            out += [own] if isinstance(own, ModelTerms) else []
        elif value and (_TERMS_KEY.match(last) or _TERMS_WORDS.search(value)):
            what = f"{fe.path}: its metadata's {key} says {value[:80]!r}"
            out.append(ModelTerms(fe.path, what, [value], research_only_text(value)))
    if bases and not judged_base:
        what = f"{fe.path}: its metadata names the base model {bases[0][:80]!r}, terms not verified"
        out.append(ModelTerms(fe.path, what, [], False, unverified=True))
    return out


def _read_elsewhere(fe: FileEntry, key: str) -> bool:
    """A safetensors header's own `license` is read by licensefields."""
    return fe.suffix.lower() == ".safetensors" and key.lower() in ("license", "licence")


def _base(path: str, key: str, value: str, judge: Judge) -> ModelTerms | bool | None:
    """A base-model value judged: terms (a restriction), True (a known grant), None (unknown)."""
    how = f"its metadata's {key} names"
    url = modelrefs.hub_ids(value)
    found = judge(url[0] if url else value, path, how)
    if isinstance(found, ModelTerms):
        return found
    if found is None:  # a known id whose license grants commercial use
        return True
    lic = libraryzoos.base_name_license(value)
    if lic is None:
        return None
    what = f"{path}: {how} {value[:80]}, weights under {lic}"
    return ModelTerms(path, what, [lic], research_only_text(lic), base_model=True)


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) < n:
        raise Unreadable("the header ends early")
    return data


def _gguf(fh: BinaryIO, fe: FileEntry) -> dict[str, str]:
    """A GGUF header's string values (llama.cpp's layout: little-endian; v1 counts in 32 bits)."""
    if fh.read(4) != b"GGUF":
        return {}
    wide = struct.unpack("<I", _read(fh, 4))[0] >= 2
    size = 8 if wide else 4
    _read(fh, size)  # tensors
    kvs = int.from_bytes(_read(fh, size), "little")
    if kvs > 100_000:
        raise Unreadable(f"a GGUF header of {kvs:,} keys")
    deadline = time.monotonic() + SECONDS
    out: dict[str, str] = {}
    for _ in range(kvs):
        key = _read(fh, _gguf_len(fh, size, MAX_VALUE)).decode("utf-8", "replace")
        (kind,) = struct.unpack("<I", _read(fh, 4))
        if kind == 8:
            value = _read(fh, _gguf_len(fh, size, MAX_HEADER))
            out[key] = value[:MAX_VALUE].decode("utf-8", "replace")
        else:
            _gguf_skip(fh, kind, size, deadline)
        if fh.tell() > MAX_HEADER or time.monotonic() > deadline:
            raise Unreadable("past the header bound")
    return out


def _gguf_len(fh: BinaryIO, size: int, most: int) -> int:
    n = int.from_bytes(_read(fh, size), "little")
    if n > most:
        raise Unreadable(f"a header value of {n:,} bytes")
    return n


def _gguf_skip(fh: BinaryIO, kind: int, size: int, deadline: float) -> None:
    if kind in _FIXED:
        _read(fh, _FIXED[kind])
    elif kind == 8:
        fh.seek(_gguf_len(fh, size, MAX_HEADER), 1)
    elif kind == 9:
        (inner,) = struct.unpack("<I", _read(fh, 4))
        n = _gguf_len(fh, size, MAX_ITEMS)
        if inner in _FIXED:
            fh.seek(n * _FIXED[inner], 1)
            return
        for i in range(n):
            if i & 0xFFFF == 0 and (time.monotonic() > deadline or fh.tell() > MAX_HEADER):
                raise Unreadable("past the header bound")
            _gguf_skip(fh, inner, size, deadline)
    else:
        raise Unreadable(f"an unknown value type {kind}")


def _varint(fh: BinaryIO) -> int:
    out = shift = 0
    while True:
        (byte,) = _read(fh, 1)
        out |= (byte & 0x7F) << shift
        if byte < 0x80 or shift > 63:
            return out
        shift += 7


def _onnx(fh: BinaryIO, fe: FileEntry) -> dict[str, str]:
    """An ONNX ModelProto's `metadata_props` (field 14: StringStringEntryProto key 1, value 2),
    its other fields skipped by their wire lengths."""
    if fh.read(1) != b"\x08":  # field 1, ir_version: every ONNX model starts so
        return {}
    _varint(fh)
    out: dict[str, str] = {}
    for _ in range(100_000):
        if fh.tell() >= fe.size:
            return out
        tag = _varint(fh)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _varint(fh)
        elif wire in (1, 5):
            _read(fh, 8 if wire == 1 else 4)
        elif wire == 2:
            n = _varint(fh)
            if field == 14 and n <= MAX_VALUE:
                out.update(_entry(_read(fh, n)))
            else:
                fh.seek(n, 1)
        else:
            raise Unreadable(f"a protobuf wire type {wire}")
    raise Unreadable("more than 100,000 fields")


def _entry(raw: bytes) -> dict[str, str]:
    """A StringStringEntryProto: {key: value}."""
    parts: dict[int, str] = {}
    i = 0
    while i < len(raw):
        tag = raw[i]
        n, i = _short_varint(raw, i + 1)
        parts[tag >> 3] = raw[i : i + n].decode("utf-8", "replace")
        i += n
    return {parts.get(1, ""): parts.get(2, "")}


def _short_varint(raw: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while i < len(raw):
        out |= (raw[i] & 0x7F) << shift
        i += 1
        if raw[i - 1] < 0x80:
            break
        shift += 7
    return out, i


def _keras(fh: BinaryIO, fe: FileEntry) -> dict[str, str]:
    """A Keras v3 archive's `metadata.json`: its top-level string values."""
    with zipfile.ZipFile(fh) as zf:
        info = next((i for i in zf.infolist() if i.filename == "metadata.json"), None)
        if info is None or info.file_size > MAX_VALUE:
            return {}
        data = json.loads(zf.read(info).decode("utf-8", "replace"))
    return (
        {str(k): v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
    )


def _safetensors(fh: BinaryIO, fe: FileEntry) -> dict[str, str]:
    """A safetensors header's `__metadata__` (string to string, as the format defines)."""
    head = fh.read(8)
    if len(head) < 8:
        return {}
    (size,) = struct.unpack("<Q", head)
    if size > MAX_HEADER or size > fe.size:
        return {}  # not a safetensors header (an LFS pointer, another format)
    header = json.loads(_read(fh, size).decode("utf-8"))
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}


def _flat(data: object, prefix: str = "", depth: int = 0) -> dict[str, str]:
    """A parsed config's string and number values by their dotted key (`model.license`)."""
    out: dict[str, str] = {}
    if depth > 20:
        return out
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for key, value in list(items)[:2000]:
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, (dict, list)):
            out.update(_flat(value, name, depth + 1))
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            out[name] = str(value)
        if len(out) > 5000:
            break
    return out


def _member_meta(name: str, raw: bytes) -> dict[str, str]:
    """What an archive member says: a config's values (`model_config.yaml`, TorchServe's
    `MAR-INF/MANIFEST.json`), a terms file's text (as the value of a `license` key)."""
    text = raw[:MAX_VALUE].decode("utf-8", "replace")
    if _TERMS_MEMBER.search(name):
        return {name.replace(".", "_") + ".license": " ".join(text.split())[:2000]}
    if name.lower().endswith((".yaml", ".yml")):
        return _flat(safeyaml.load(text))
    if name.lower().endswith(".json"):
        return _flat(json.loads(text))
    return {}


_CONFIG_MEMBER = rx.compile(r"(?i)(?:^|/)(?:model_config\.ya?ml|MAR-INF/MANIFEST\.json)$")


def _archive(fh: BinaryIO, fe: FileEntry) -> dict[str, str]:
    """A NeMo `.nemo` (tar), a TorchServe `.mar` or a `.zip` of weights: the members that state
    terms (see _member_meta), read within the time bound."""
    deadline = time.monotonic() + SECONDS
    out: dict[str, str] = {}
    head = fh.read(4)
    fh.seek(0)
    if head[:2] != b"PK" and fe.suffix.lower() != ".nemo":
        return {}  # not a zip archive (an LFS pointer, another format): nothing stated here
    if head[:2] == b"PK":
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()[:MAX_MEMBERS]
            for info in infos:
                wanted = _TERMS_MEMBER.search(info.filename) or _CONFIG_MEMBER.search(info.filename)
                if wanted and info.file_size <= MAX_VALUE:
                    out.update(_member_meta(info.filename, zf.read(info)))
        return out
    with tarfile.open(fileobj=fh, mode="r:*") as tf:
        for n, member in enumerate(tf):
            if n > MAX_MEMBERS or time.monotonic() > deadline:
                raise Unreadable("past the archive bound")
            wanted = _TERMS_MEMBER.search(member.name) or _CONFIG_MEMBER.search(member.name)
            if wanted and member.isfile() and member.size <= MAX_VALUE:
                data = tf.extractfile(member)
                out.update(_member_meta(member.name, data.read(MAX_VALUE) if data else b""))
    return out


def _coreml(fh: BinaryIO, fe: FileEntry) -> dict[str, str]:
    """A Core ML `.mlmodel`'s `description.metadata` (Model field 2, ModelDescription field 100:
    shortDescription 1, versionString 2, author 3, license 4, userDefined 100 entries)."""
    description = _field(fh.read(MAX_VALUE), 2)
    metadata = _field(description or b"", 100) or b""
    names = {1: "shortDescription", 2: "versionString", 3: "author", 4: "license"}
    out: dict[str, str] = {}
    for number, raw in _fields(metadata):
        if number in names:
            out[names[number]] = raw.decode("utf-8", "replace")
        elif number == 100:
            out.update(_entry(raw))
    return out


def _fields(raw: bytes) -> list[tuple[int, bytes]]:
    """A protobuf message's length-delimited fields (number, bytes), up to the first other."""
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(raw) and len(out) < 10_000:
        tag, i = _short_varint(raw, i)
        if tag & 7 == 0:
            _, i = _short_varint(raw, i)
        elif tag & 7 in (1, 5):
            i += 8 if tag & 7 == 1 else 4
        elif tag & 7 == 2:
            n, i = _short_varint(raw, i)
            out.append((tag >> 3, raw[i : i + n]))
            i += n
        else:
            break
    return out


def _field(raw: bytes, number: int) -> bytes | None:
    return next((v for n, v in _fields(raw) if n == number), None)


_READERS: dict[str, Callable[[BinaryIO, FileEntry], dict[str, str]]] = {
    ".gguf": _gguf,
    ".onnx": _onnx,
    ".keras": _keras,
    ".safetensors": _safetensors,
    ".nemo": _archive,
    ".mar": _archive,
    ".zip": _archive,
    ".mlmodel": _coreml,
}
