"""Data formats whose loaders run code, from one table: forkvet/data/loaders.json.

Each loader there says how its files are recognised (JSON key/value pairs, JSON keys, HDF5
marks, zip members, files searched whole) and how a repository's Python calls it. The pickle
sweep (pickles.py) hands this module byte windows and member names; the code scan (risks.py,
textrisks.py) asks it about calls. Nothing here parses a whole file into memory: JSON is
searched window by window, as UTF-8 after decoding it as json.loads decodes bytes (UTF-8,
UTF-16 or UTF-32, with or without a BOM; RFC 8259, json.detect_encoding); binary files (HDF5,
protobuf) as bytes.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from forkvet import rx

# -- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loader:
    id: str
    calls: tuple[str, ...]
    tails: tuple[str, ...]
    unless: dict[str, object]
    only_if: dict[str, object]
    kind: str
    severity: str
    message: str
    files: dict[str, Any] | str
    text_pattern: tuple[str, str] | None  # (pattern, needle) for unparsed code
    # A loader of another repository's code (torch.hub): the arguments naming it (a keyword,
    # else the first positional), keyword values that make the call an error (trust_repo=True),
    # and the keyword value that makes the repository a local folder (source="local").
    repo_args: tuple[str, ...] = ()
    error_if: dict[str, tuple[object, ...]] = field(default_factory=dict)
    local_if: dict[str, object] = field(default_factory=dict)
    # Said of a repository named without a ref (`no_ref`: [separator, text]; round 22a F24:
    # torch.hub then loads branch `main`, else `master`, not the default branch vetted).
    no_ref: tuple[str, str] | None = None


@cache
def loaders() -> tuple[Loader, ...]:
    raw = json.loads(resources.files("forkvet.data").joinpath("loaders.json").read_text("utf-8"))
    out = []
    for e in raw["loaders"]:
        when = e.get("when", {})
        out.append(
            Loader(
                e["id"],
                tuple(e.get("calls", ())),
                tuple(e.get("tails", ())),
                dict(when.get("unless", {})),
                dict(when.get("if", {})),
                e.get("kind", ""),
                e.get("severity", "warning"),
                e.get("message", ""),
                e.get("files", ""),
                (e["text_pattern"], e["text_needle"]) if "text_pattern" in e else None,
                tuple(e.get("repo_args", ())),
                {k: tuple(v) for k, v in e.get("error_if", {}).items()},
                dict(e.get("local_if", {})),
                tuple(e["no_ref"]) if "no_ref" in e else None,
            )
        )
    return tuple(out)


def _rules(name: str) -> list[dict[str, Any]]:
    return [
        {**lo.files[name], "loader": lo.id}
        for lo in loaders()
        if isinstance(lo.files, dict) and name in lo.files
    ]


# -- the code scan -------------------------------------------------------------------------------
def call_risk(
    name: str, keywords: Mapping[str, object], first: object = ...
) -> tuple[str, str, str] | None:
    """(kind, severity, message) for a call by its dotted name (`torch.load`, `.load_pickle`
    when its base is no name), keywords mapped to their constant values (a non-constant to
    the `Ellipsis` object), `first` the first positional argument's (`...` when none or not
    a constant); None when no loader in the table matches."""
    for lo in loaders():
        if not lo.kind or not (
            name in lo.calls or any(name == t or name.endswith("." + t) for t in lo.tails)
        ):
            continue
        if any(
            k in keywords and (keywords[k] is ... or keywords[k] == v) for k, v in lo.unless.items()
        ):
            continue  # weights_only=True (or a value forkvet cannot know: left to the reader)
        if lo.only_if and not all(
            k in keywords and keywords[k] is not ... and keywords[k] == v
            for k, v in lo.only_if.items()
        ):
            continue
        if lo.repo_args:
            return _repo_call_risk(lo, name, keywords, first)
        return lo.kind, lo.severity, lo.message.format(name.lstrip("."))
    return None


def _repo_call_risk(
    lo: Loader, name: str, keywords: Mapping[str, object], first: object
) -> tuple[str, str, str] | None:
    """A call that runs another repository's code, named with that repository (escaped:
    repr); None for a local folder inside this tree (its code is vetted as this tree's)."""
    repo = next((keywords[k] for k in lo.repo_args if k in keywords), first)
    local = bool(lo.local_if) and all(keywords.get(k) == v for k, v in lo.local_if.items())
    if local and isinstance(repo, str) and _inside(repo):
        return None
    error = any(k in keywords and keywords[k] in vs for k, vs in lo.error_if.items())
    shown = repr(repo[:120]) if isinstance(repo, str) else "a repository named at run time"
    no_ref = ""
    if lo.no_ref and not local and isinstance(repo, str) and lo.no_ref[0] not in repo:
        no_ref = lo.no_ref[1]
    return (
        lo.kind,
        "error" if error and not local else lo.severity,
        lo.message.format(name.lstrip(".")).replace("<repo>", shown)
        + no_ref
        + (
            f" ({', '.join(f'{k}={keywords[k]!r}' for k in lo.error_if if k in keywords)}: "
            "run without asking)"
            if error and not local
            else ""
        ),
    )


def _inside(path: str) -> bool:
    """A relative folder that stays in the tree (no `..`, not absolute, no `~`)."""
    parts = path.replace("\\", "/").split("/")
    return not path.startswith(("/", "~")) and ":" not in path and ".." not in parts


@dataclass(frozen=True)
class TextRule:
    """A loader call found by pattern in code ast did not read: its names as alternatives."""

    pattern: str
    place: str  # "name": not after a word or dot; "tail": after a dot too (`x.read_pickle(`);
    # "any": a text pattern, anywhere
    needles: tuple[str, ...]
    unless_word: str | None  # the call is fine when this keyword is in its argument list
    only_word: str | None  # ... or only risky when this `keyword=value` is
    kind: str
    severity: str
    message: str


def text_rules() -> list[TextRule]:
    out = []
    for lo in loaders():
        if not lo.kind or not (lo.calls or lo.tails):
            continue
        if lo.text_pattern:
            pattern, needle = lo.text_pattern
            out.append(
                TextRule(pattern, "any", (needle,), None, None, lo.kind, lo.severity, lo.message)
            )
            continue
        unless = next(iter(lo.unless), None)
        only = next((f"{k}={v!r}" for k, v in lo.only_if.items()), None)
        # a name a tail covers is found by the tail's pattern (once, with what precedes it)
        calls = [n for n in lo.calls if not any(n == t or n.endswith("." + t) for t in lo.tails)]
        for place, names in (("name", calls), ("tail", list(lo.tails))):
            if not names:
                continue
            ordered = "|".join(rx.escape(n) for n in sorted(names, key=len, reverse=True))
            dotted = r"(?:[A-Za-z_]\w*\.){0,8}" if place == "tail" else ""
            pattern = f"({dotted}(?:{ordered}))\\s*\\("
            needles = tuple(sorted(names))
            # the repository a call names is shown only where ast read the call
            msg = lo.message.replace("<repo>", "named in code forkvet could not parse")
            out.append(TextRule(pattern, place, needles, unless, only, lo.kind, lo.severity, msg))
    return out


# -- JSON in any encoding json.loads detects -------------------------------------------------------
_JSON_WS = " \t\r\n"


def json_encoding(head: bytes) -> str:
    return json.detect_encoding(head)


def json_start(head: bytes) -> bool:
    """Would json.loads read these bytes as a JSON object or array (any encoding it detects)?"""
    enc = json_encoding(head[:4])
    text = codecs.getincrementaldecoder(enc)("ignore").decode(head[:1024])
    return text.lstrip(_JSON_WS)[:1] in ("{", "[")


_JSON_STR = rb'"((?:[^"\\\r\n]|\\.){1,200})"'
_JSON_KEY = rx.compile(_JSON_STR + rb"[ \t\r\n]{0,256}:")
_JSON_PAIR = rx.compile(_JSON_STR + rb"[ \t\r\n]{0,256}:[ \t\r\n]{0,256}" + _JSON_STR)
_PAIR_MAX = 2 * (2 + 2 * 200) + 2 * 256 + 1
TAIL = _PAIR_MAX  # bytes kept between windows


def json_str(raw: bytes) -> str | None:
    if b"\\" not in raw:
        return raw.decode("utf-8", "replace")
    try:
        value = json.loads(b'"' + raw + b'"')
    except ValueError:
        return None
    return value if isinstance(value, str) else None


@dataclass
class Finding:
    loader: str
    verdict: str  # "code" (code-in-data) | "unverified" (pickle-unverified)
    message: str


@dataclass
class _Matchers:
    pairs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    keys: list[dict[str, Any]] = field(default_factory=list)
    # The first test of a window, at the speed of `in`: each rule's string as it starts a JSON
    # string (`"pickle"`, `"py/`), and any \u escape of one of their letters (`"\u004cambda"`).
    # Plain words in data text ("a pickle jar", an escaped URL) pass it: the pair search after
    # it costs 16 times more.
    needles: tuple[bytes, ...] = ()
    escapes: rx.Pattern[bytes] | None = None


@cache
def _matchers() -> _Matchers:
    m = _Matchers()
    starts: set[str] = set()
    for rule in _rules("json_pairs"):
        for k, v in rule["pairs"]:
            m.pairs[(k, v)] = rule
            starts.add(f'"{v}"')
    for rule in _rules("json_keys"):
        m.keys.append(rule)
        starts |= {'"' + rule["prefix"], '"' + rule.get("encoded_prefix", rule["prefix"])}
    # "py\/reduce": JSON may escape a slash without \u.
    needles = {n.encode() for n in starts} | {n.replace("/", "\\/").encode() for n in starts}
    letters = sorted({c for n in starts for c in n if c != '"'})
    codes = "|".join(f"{ord(c):04x}|{ord(c):04X}" for c in letters)
    m.needles = tuple(sorted(needles))
    m.escapes = rx.compile(rb"\\u(?:" + codes.encode() + rb")")
    return m


def _utf8_window(window: bytes) -> list[Finding]:
    """What the table's JSON rules find in one window of UTF-8 (or ASCII-compatible) bytes."""
    m = _matchers()
    if not any(n in window for n in m.needles) and not (m.escapes and m.escapes.search(window)):
        return []
    out: list[Finding] = []
    seen: set[str] = set()
    for found in _JSON_PAIR.finditer(window):
        rule = m.pairs.get((json_str(found.group(1)) or "", json_str(found.group(2)) or ""))
        if rule is not None and rule["loader"] not in seen:
            seen.add(rule["loader"])
            out.append(Finding(rule["loader"], rule["verdict"], rule["message"]))
    for rule in m.keys:
        if rule["loader"] in seen:
            continue
        for found in _JSON_KEY.finditer(window):
            if _code_key(json_str(found.group(1)) or "", rule, 0):
                seen.add(rule["loader"])
                out.append(Finding(rule["loader"], rule["verdict"], rule["message"]))
                break
    return out


def _code_key(key: str, rule: dict[str, Any], depth: int) -> bool:
    if key.startswith(rule["prefix"]) and key not in rule["data_only"]:
        return True
    encoded = rule.get("encoded_prefix")
    if encoded and key.startswith(encoded) and depth < 4:
        # jsonpickle's keys=True: a key "json://<JSON>" is decoded as JSON itself
        inner = key[len(encoded) :].encode("utf-8", "replace")
        return any(
            _code_key(json_str(k.group(1)) or "", rule, depth + 1)
            for k in _JSON_KEY.finditer(inner)
        )
    return False


_MAX_MODULES = 1000
_MODULE_NAME = rx.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def pair_values(key: str) -> frozenset[str]:
    """The values the json_pairs rules name under key (`class_name`: "Lambda", ...)."""
    return frozenset(v for rule in _rules("json_pairs") for k, v in rule["pairs"] if k == key)


def module_rule() -> dict[str, Any] | None:
    return next(iter(_rules("json_modules")), None)


@cache
def _escape_net(letters: str) -> rx.Pattern[bytes]:
    codes = "|".join(f"{ord(c):04x}|{ord(c):04X}" for c in sorted(set(letters)))
    return rx.compile(rb"\\u(?:" + codes.encode() + rb")")


def _module_escapes(rule: dict[str, Any]) -> rx.Pattern[bytes]:
    """Any \\u escape of a letter of the json_modules rule's keys."""
    return _escape_net(rule["key"] + "".join(rule["requires"]))


class Search:
    """The table's JSON rules over a stream fed in chunks. encoding: the stream's JSON
    encoding (json.detect_encoding of its start), or None for a binary file, searched as
    bytes (its JSON strings are UTF-8: an HDF5 attribute Keras decodes as UTF-8, a protobuf
    string)."""

    def __init__(self, encoding: str | None) -> None:
        self._decoder = (
            codecs.getincrementaldecoder(encoding)("replace")
            if encoding not in (None, "utf-8")
            else None
        )
        self._tail = b""
        self.window = b""  # the last window searched (its start overlaps the one before)
        self.found: dict[str, Finding] = {}
        # json_modules: the modules a config names, and which of the keys it needs were seen
        self._modules: set[str] = set()
        self._keys: set[str] = set()

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if self._decoder is not None:
            chunk = self._decoder.decode(chunk, final).encode("utf-8", "replace")
        window = self.window = self._tail + chunk
        for f in _utf8_window(window):
            self.found.setdefault(f.loader, f)
        rule = module_rule()
        if rule is not None:
            # Keys compared as json.loads decodes them: an escaped letter (`"\u006dodule"`)
            # spells the same key; the escape search is only the net before the pair search.
            escaped = bool(_module_escapes(rule).search(window))
            self._keys |= {k for k in rule["requires"] if f'"{k}"'.encode() in window}
            needle = f'"{rule["key"]}"'.encode()
            if (needle in window or escaped) and len(self._modules) < _MAX_MODULES:
                for found in _JSON_PAIR.finditer(window):
                    key = json_str(found.group(1))
                    if escaped and key is not None and key in rule["requires"]:
                        self._keys.add(key)
                    if key == rule["key"]:
                        value = json_str(found.group(2)) or ""
                        if _MODULE_NAME.fullmatch(value):
                            self._modules.add(value)
            if escaped and not set(rule["requires"]) <= self._keys:
                for found in _JSON_KEY.finditer(window):
                    key = json_str(found.group(1))
                    if key is not None and key in rule["requires"]:
                        self._keys.add(key)
        self._tail = window[-TAIL:]

    def configs(self) -> bool:
        """Whether the stream holds every key a Keras config object needs (`class_name`,
        `config`): a config with no `module` (Keras 2's legacy format) is judged too."""
        rule = module_rule()
        return rule is not None and set(rule["requires"]) <= self._keys

    def modules(self) -> set[str]:
        """The modules a config (with every key the rule requires) names under the rule's
        key: what it names there is judged on the config read whole (kerasconfig)."""
        rule = module_rule()
        if rule is None or not set(rule["requires"]) <= self._keys:
            return set()
        return set(self._modules)


def hdf5_marks(seen: set[bytes], window: bytes) -> None:
    """Adds the table's HDF5 marks present in window to seen."""
    for rule in _rules("hdf5_marks"):
        for group in rule["any_of"]:
            for mark in group:
                if mark.encode() in window:
                    seen.add(mark.encode())


def hdf5_findings(seen: set[bytes]) -> list[Finding]:
    out = []
    for rule in _rules("hdf5_marks"):
        if any(all(m.encode() in seen for m in group) for group in rule["any_of"]):
            out.append(Finding(rule["loader"], rule["verdict"], rule["message"]))
    return out


def zip_findings(names: list[str], native: Iterable[str] = ()) -> list[tuple[Finding, list[str]]]:
    """(finding, members that make it) for a zip archive with these member names; native:
    the members that are native libraries by their magic (whatever their names)."""
    out = []
    by_magic = set(native)
    for rule in _rules("zip_marker"):
        marks = tuple(rule["members"])
        dirs = tuple(rule.get("dirs", ()))
        if not any(
            n.endswith(tuple("/" + m for m in marks))
            or n in marks
            or any(("/" + n).find("/" + d) >= 0 for d in dirs)
            for n in names
        ):
            continue
        code = [
            n
            for n in names
            if n.endswith(tuple(rule["code"])) or (rule.get("native") and n in by_magic)
        ]
        if code:
            out.append((Finding(rule["loader"], rule["verdict"], rule["message"]), code))
    return out


def searched_whole(name: str) -> bool:
    """A file (by its own name) whose bytes are searched whole for the JSON rules."""
    return any(name.endswith(tuple(r["suffixes"])) for r in _rules("searched_whole"))


def unquoted(found: str) -> str:
    """A finding `where: message` told without where (a member name quotes the file)."""
    for lo in loaders():
        for rule in lo.files.values() if isinstance(lo.files, dict) else ():
            if found.endswith(rule["message"]):
                return str(rule["message"])
    return "Code a loader runs is stored in this file"


def zarr_rule(name: str) -> dict[str, Any] | None:
    """The Zarr metadata rule for a file by its own name (`.zarray`, `.zmetadata`)."""
    base = name.rsplit("/", 1)[-1]
    return next((r for r in _rules("zarr_arrays") if base in r["names"]), None)


def zarr_findings(rule: dict[str, Any], data: bytes, complete: bool) -> list[Finding]:
    """Zarr v2 array metadata (one array, or consolidated): an array of Python objects whose
    filters name no codec known to rebuild only data. Read as zarr reads it (json.loads of
    the bytes); metadata forkvet could not read whole is not verified."""
    bad = Finding(rule["loader"], rule["verdict"], rule["message"])
    if not complete:
        return [bad]
    try:
        meta = json.loads(data)
    except (ValueError, RecursionError):
        return []  # zarr fails on it too
    todo, seen = [meta], 0
    while todo and seen < 100_000:
        node = todo.pop()
        seen += 1
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            if "dtype" in node and _object_dtype(node["dtype"], rule, 0):
                ids = [f.get("id") for f in node.get("filters") or [] if isinstance(f, dict)]
                if not any(i in rule["data_codecs"] for i in ids):
                    return [bad]
            todo.extend(node.values())
    return []


def _object_dtype(dtype: object, rule: dict[str, Any], depth: int) -> bool:
    if isinstance(dtype, str):
        return dtype in rule["object_dtypes"]
    if isinstance(dtype, list) and depth < 20:  # a structured dtype: [[name, dtype, shape]...]
        return any(_object_dtype(d, rule, depth + 1) for d in dtype)
    return False
