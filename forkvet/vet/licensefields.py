"""License fields in every metadata format, found by the shape of the key, not the file's name
(outside attack round 20c, F6).

A repository states a license for a part of itself in many formats: an OpenMMLab `metafile.yml`
(`License: CC BY-NC 4.0` under a collection), a package's `__license__`, an R `DESCRIPTION`,
a `Cargo.toml` or `pixi.toml`, a nested `.zenodo.json`, a CITATION.cff's `references`, the
`__metadata__` of a safetensors header. Each is read by its key wherever it is:

- TOML: a `license = "…"` line (or `license = { text = "…" }`);
- YAML (and CFF): a `license:` / `License:` key at any depth, with a scalar value;
- JSON: a record's `license` / `licenses` at the top (a data set's annotation file, which
  licenses its images, is the data's terms, not read here);
- a Debian-style control file (R's DESCRIPTION): its `License:` field;
- Python: a module-level `__license__ = "…"`;
- safetensors: `license` in the header's `__metadata__`.

The files the package and citation readers read already (pyproject.toml, setup.cfg, the root
`CITATION.cff` license, the root Zenodo/CodeMeta/npm records, conda recipes) are not read
again. Bounded: at most MAX_FILES files of each kind, each up to MAX_BYTES; a bound that is
hit is a gap (`unread`), never a silent pass.
"""

from __future__ import annotations

import json
import struct

import yaml

from forkvet import rx, safeparse, safeyaml
from forkvet.snapshot import FileEntry
from forkvet.vet.context import Context
from forkvet.vet.modelterms import LICENSE_KEY

MAX_FILES = 2000
MAX_BYTES = 512 * 1024
MAX_HEADER = 4 * 1024 * 1024
MAX_VALUES = 20

_TOML = rx.compile(
    r"(?m)^[ \t]*licen[cs]e[ \t]*=[ \t]*(?:\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'|"
    r"\{[^}\n]{0,200}?\b(?:text|id)[ \t]*=[ \t]*\"([^\"\n]{1,200})\")"
)
_YAML = rx.compile(
    r"(?m)^([ \t]*)(?:-[ \t]+)?(?i:licen[cs]e)[ \t]*:[ \t]*['\"]?"
    r"([^'\"\n#{}\[\]|>][^'\"\n#]{0,199})"
)
_DCF = rx.compile(r"(?m)^License:[ \t]*([^\n]{1,200})")
_DCF_START = rx.compile(r"^(?:Package|Type|Title|Source|Name):[ \t]*\S")
_DUNDER = rx.compile(
    r"(?m)^__license__[ \t]*(?::[^=\n]{0,40})?=[ \t]*[rRuU]?['\"]([^'\"\n]{1,200})"
)
# Already read by the package and citation readers (license.py).
_READ_ELSEWHERE = frozenset(["pyproject.toml", "setup.cfg", "meta.yaml", "meta.yml"])
_ROOT_RECORDS = frozenset([".zenodo.json", "codemeta.json", "package.json", "model-index.yml"])
# A JSON record that is a data set (COCO's `licenses` are its images'), not a metadata record.
_DATA_KEYS = frozenset(["images", "annotations", "categories", "resources", "recordSet"])
_KINDS = (".toml", ".yml", ".yaml", ".cff", ".json", ".py", ".safetensors", "")


def fields(ctx: Context) -> list[tuple[str, str]]:
    """(path, license value) of every license field found by its key's shape."""
    return _read(ctx)[0]


def unread(ctx: Context) -> list[tuple[str, str]]:
    """(path, why) of the metadata files a bound kept unread."""
    return _read(ctx)[1]


def _read(ctx: Context) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    if "licensefields" not in ctx.memo:
        ctx.memo["licensefields"] = _walk(ctx)
    return ctx.memo["licensefields"]  # type: ignore[no-any-return]


def _walk(ctx: Context) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    found: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    counts = dict.fromkeys(_KINDS, 0)
    for f in sorted(_candidates(ctx), key=lambda f: (f.path.count("/"), f.path)):
        counts[f.suffix] += 1
        if counts[f.suffix] > MAX_FILES:
            skipped.append((f.path, f"past the {MAX_FILES} {f.suffix or 'plain'} files read"))
            continue
        if f.suffix != ".safetensors" and f.size > MAX_BYTES:
            continue  # a large file of this kind is data (a config's key is near its top)
        found += [(f.path, v.strip()) for v in _values(ctx, f)[:MAX_VALUES] if v.strip()]
    return found[:200], skipped[:3]


def _candidates(ctx: Context) -> list[FileEntry]:
    out = []
    for f in ctx.snap.files:
        if f.vendored or f.suffix not in _KINDS or f.size <= 0:
            continue
        name = f.name.lower()
        if name in _READ_ELSEWHERE or (len(f.parts) == 1 and name in _ROOT_RECORDS):
            continue
        if f.suffix == "" and f.name != "DESCRIPTION" and f.size > 64 * 1024:
            continue
        out.append(f)
    return out


def _values(ctx: Context, f: FileEntry) -> list[str]:
    if f.suffix == ".safetensors":
        return _safetensors(ctx, f)
    try:
        raw = ctx.snap.read_bytes(f.path, MAX_BYTES)
    except OSError:
        return []
    if b"icen" not in raw:  # license / licence / License
        return []
    text = raw.decode("utf-8", "replace")
    if f.suffix in (".toml", ".yml", ".yaml"):
        return _parsed(text, f.suffix)
    if f.suffix == ".cff":
        return _cff_references(text)
    if f.suffix == ".json":
        return _json(text)
    if f.suffix == ".py":
        return [m.group(1) for m in _DUNDER.finditer(text)]
    if _DCF_START.match(text):
        return [m.group(1) for m in _DCF.finditer(text)][:1]
    return []


def _parsed(text: str, suffix: str) -> list[str]:
    """The values the loader resolves (tomllib, YAML's safe loader: a multi-line string,
    anchors, flow maps) of every license-shaped key at any depth; by the key's line when the
    file does not parse (a reader still sees it)."""
    try:
        data = safeparse.toml_loads(text) if suffix == ".toml" else safeyaml.load(text)
    except (ValueError, RecursionError, yaml.YAMLError):
        pattern = _TOML if suffix == ".toml" else _YAML
        return [next(g for g in m.groups()[::-1] if g) for m in pattern.finditer(text)]
    out: list[str] = []
    _license_values(data, out, 0)
    return out


def _license_values(node: object, out: list[str], depth: int) -> None:
    """Append the string values of license-shaped keys (`license`, `License`,
    `model_license`, …) under node: a string, a list of them, or a table's `text`/`id`/`name`."""
    if depth > 12 or len(out) >= MAX_VALUES:
        return
    if isinstance(node, dict):
        items = list(node.items())[:2000]
    elif isinstance(node, list):
        items = list(enumerate(node))[:2000]
    else:
        return
    for key, value in items:
        if isinstance(key, str) and LICENSE_KEY.match(key):
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, dict):
                    v = v.get("text") or v.get("id") or v.get("name") or v.get("identifier")
                if isinstance(v, str) and v.strip():
                    out.append(v[:200])
        elif isinstance(value, (dict, list)):
            _license_values(value, out, depth + 1)


def _cff_references(text: str) -> list[str]:
    """A CITATION.cff's `references` of software or models (the weights it cites by name);
    its own license is the citation reader's, a cited data set's or paper's is theirs."""
    try:
        data = safeyaml.load(text)
    except (ValueError, RecursionError, yaml.YAMLError):
        return []
    refs = data.get("references") if isinstance(data, dict) else None
    out: list[str] = []
    for ref in refs[:50] if isinstance(refs, list) else []:
        if not isinstance(ref, dict) or str(ref.get("type", "")).lower() not in _CFF_TYPES:
            continue
        value = ref.get("license")
        out += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    return out


_CFF_TYPES = frozenset(["software", "software-code", "software-container", "model", "generic"])


def _json(text: str) -> list[str]:
    try:
        data = safeparse.json_loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict) or _DATA_KEYS & set(data):
        return []
    value = data.get("license") or data.get("licenses")
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values[:8]:
        if isinstance(v, dict):
            v = v.get("id") or v.get("identifier") or v.get("name") or v.get("url")
        if isinstance(v, str):
            out.append(v[:200])
    return out


def _safetensors(ctx: Context, f: FileEntry) -> list[str]:
    """`license` of a safetensors header's `__metadata__` (the Hub's file viewer shows it)."""
    try:
        head = ctx.snap.read_bytes(f.path, 8)
        if len(head) < 8:
            return []
        size = struct.unpack("<Q", head)[0]
        if size > MAX_HEADER:
            return []
        raw = ctx.snap.read_bytes(f.path, 8 + size)[8:]
        header = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError, UnicodeDecodeError):
        return []
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict):
        return []
    return [str(v)[:200] for k, v in meta.items() if str(k).lower() in ("license", "licence")]
