"""Chat templates (outside attack, round 19a F5): Jinja text that a runtime renders with the
conversation. transformers and llama-cpp-python >= 0.2.72 render it in Jinja's sandbox; older
llama-cpp-python (CVE-2024-34359) and other servers render it with a plain `Environment`, where
`self.__init__.__globals__.__builtins__.__import__('os')` runs anything. A template is read
where those runtimes read it: a GGUF file's `tokenizer.chat_template` (and named
`tokenizer.chat_template.<name>`) header value, found by content, and a tokenizer's
`chat_template` (tokenizer_config.json, chat_template.json, chat_template.jinja).

Judged by construction, as the sandbox would refuse it, on Jinja's own parse of the text: an
attribute whose name the sandbox refuses (any name starting with `_`, frame, code and
generator internals, `mro`), spelled as `.name`, `['name']`, or an attribute argument of a
filter (`attr`, `map(attribute=...)`, `selectattr`...), a `format`/`format_map` call (str.format
reaches attributes), and a subscript with a computed key that is not an index: plain Jinja
falls back from `x[key]` to `getattr(x, key)`, and a template can build any string (a
function's repr holds underscores). An index is an integer constant, `loop.index0` and its
kin, `|length`, arithmetic on indices, or a name (or namespace attribute) the template only
ever sets to an index."""

from __future__ import annotations

import functools
import itertools
import json
import struct
import time
from collections.abc import Callable, Collection, Iterator
from importlib import resources
from typing import BinaryIO, cast

from forkvet.report import Risk
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet.textfiles import utf8_text

GGUF_MAGIC = b"GGUF"
MAX_TEMPLATE = 1 << 20  # characters of one template judged
_MAX_KV = 1 << 20  # header key/value pairs
_MAX_ITEMS = 1 << 26  # items of one array
_MAX_KEY = 1 << 16
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
_TEMPLATE_KEY = "tokenizer.chat_template"
# Attributes the sandbox refuses besides those starting with `_` (jinja2.sandbox's unsafe
# generator, coroutine and method attributes, type.mro), and frames' and tracebacks' own.
_UNSAFE = frozenset(
    {"mro", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await"}
    | {"ag_frame", "ag_code", "ag_await", "tb_frame", "tb_next", "f_globals", "f_builtins"}
    | {"f_locals", "f_back", "f_code", "func_globals", "func_code", "im_func", "im_self"}
)
_ATTRIBUTE_FILTERS = {"attr", "map", "selectattr", "rejectattr", "sort", "groupby", "sum"}
_ATTRIBUTE_FILTERS |= {"unique", "min", "max", "join"}
_LOOP_INDICES = {"index", "index0", "revindex", "revindex0", "length", "depth", "depth0"}
_INT_FILTERS = {"length", "count", "int", "abs"}


class Unreadable(Exception):
    """A GGUF header forkvet could not read to its end (what it holds is unknown)."""


def gguf_templates(fh: BinaryIO, deadline: float) -> list[tuple[str, str]]:
    """(key, template) of a GGUF file's chat templates, its header read as llama.cpp reads
    it (little-endian; version 1 counts in 32 bits). Unreadable when bounds or time run out."""
    read = _reader(fh)
    if read(4) != GGUF_MAGIC:
        return []
    (version,) = struct.unpack("<I", read(4))
    wide = version >= 2
    count = _count(read, wide)  # tensors
    kvs = _count(read, wide)
    if count > _MAX_ITEMS or kvs > _MAX_KV:
        raise Unreadable(f"a GGUF header of {kvs:,} keys and {count:,} tensors")
    out: list[tuple[str, str]] = []
    for i in range(kvs):
        if i & 0xFF == 0 and time.monotonic() > deadline:
            raise Unreadable("its time budget was spent")
        key = _string(read, wide, _MAX_KEY)
        (kind,) = struct.unpack("<I", read(4))
        if kind == _STRING and key.startswith(_TEMPLATE_KEY):
            out.append((key, _string(read, wide, MAX_TEMPLATE)))
        else:
            _skip(read, kind, wide, deadline)
    return out


def _reader(fh: BinaryIO) -> Callable[[int], bytes]:
    def read(n: int) -> bytes:
        data = fh.read(n)
        if len(data) < n:
            raise Unreadable("the header ends early")
        return data

    return read


def _count(read: Callable[[int], bytes], wide: bool) -> int:
    return int.from_bytes(read(8 if wide else 4), "little")


def _string(read: Callable[[int], bytes], wide: bool, limit: int) -> str:
    n = _count(read, wide)
    if n > limit:
        raise Unreadable(f"a header string of {n:,} bytes")
    return read(n).decode("utf-8", "replace")


def _skip(read: Callable[[int], bytes], kind: int, wide: bool, deadline: float) -> None:
    if kind in _FIXED:
        read(_FIXED[kind])
    elif kind == _STRING:
        read(_count(read, wide))
    elif kind == _ARRAY:
        (inner,) = struct.unpack("<I", read(4))
        n = _count(read, wide)
        if n > _MAX_ITEMS:
            raise Unreadable(f"a header array of {n:,} items")
        if inner in _FIXED:
            read(n * _FIXED[inner])
            return
        for i in range(n):
            if i & 0xFFFF == 0 and time.monotonic() > deadline:
                raise Unreadable("its time budget was spent")
            _skip(read, inner, wide, deadline)
    else:
        raise Unreadable(f"an unknown value type {kind}")


def judge(template: str, deadline: float | None = None, strict: bool = True) -> str | None:
    """Why the template could reach Python internals (the first reason), or None when it
    cannot: see the module's docstring. Text Jinja cannot parse is NOT verified (Unreadable)
    when `strict` (a template slot: another Jinja version, or another cut, may parse it); a
    file judged only by its content that Jinja cannot parse is no template Jinja renders."""
    import jinja2

    if len(template) > MAX_TEMPLATE:  # a bound hit fails closed (round 20a F6)
        raise Unreadable(f"a template of {len(template):,} characters")
    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"])
    try:
        tree = env.parse(template)
    except (jinja2.TemplateSyntaxError, RecursionError, ValueError) as exc:
        if strict:  # round 21a F12: a parse failure is no pass
            raise Unreadable(f"Jinja cannot parse it ({type(exc).__name__})") from None
        return None
    stop = deadline if deadline is not None else time.monotonic() + _SECONDS
    sets = _assignments(tree)
    indices = _fixpoint(sets, _index, stop)
    keys = indices if strict else indices | _fixpoint(sets, _data_of(sets), stop)
    roles = {} if strict else _roles(tree)
    for i, node in enumerate(_nodes(tree)):
        if not i & 0xFFF and time.monotonic() > stop:
            raise Unreadable("its time budget was spent")
        why = _node_reason(node, keys, None if strict else (sets, roles))
        if why is not None:
            return why
    return None


_Roles = dict[int, tuple[object, str]]


def _node_reason(
    node: object,
    indices: set[str],
    data: tuple[dict[str, list[object]], _Roles] | None = None,
) -> str | None:
    """Why one node could reach Python internals. With `data` (a file found by its markers,
    not a template slot: its assignments and each node's parent) a subscript keyed by the
    render data is no reason where its value is only rendered (`_rendered`) and it does not
    start from one of Jinja's globals: `choices[label]`, `['A', 'B'][label]`
    (lm-evaluation-harness task YAMLs), `rows[id]` for `id` in data. Its value is never
    stepped on, called or assigned: the data set beside a task is the fork's own, so a chain
    `lipsum[k1][k2][k3](cmd)` of data keys is the escape (round 22a F6)."""
    import jinja2.nodes as n

    if data is not None and isinstance(node, n.Getitem):
        if isinstance(node.arg, n.Slice):
            return None  # `text[:pronoun_loc]`: Jinja falls back to getattr for a str key only
        sets, roles = data
        of_data = _data_of(sets)
        if of_data(node.arg, indices) and not _global(node.node) and _rendered(node, roles):
            return None

    if isinstance(node, n.Getattr) and _unsafe(node.attr):
        return f"the attribute `{node.attr}`"
    if isinstance(node, n.Getitem):
        key = node.arg
        if isinstance(key, n.Const) and isinstance(key.value, str) and _unsafe(key.value):
            return f"the attribute `{key.value}`"
        if not isinstance(key, n.Const) and not _index(key, indices):
            return "a subscript with a computed key (plain Jinja falls back to getattr)"
    if isinstance(node, n.Filter) and node.name in _ATTRIBUTE_FILTERS:
        for arg in [*node.args, *(k.value for k in node.kwargs)]:
            if not isinstance(arg, n.Const):
                return f"`{node.name}` with a computed argument"
            if isinstance(arg.value, str) and any(map(_unsafe, arg.value.split("."))):
                return f"the attribute `{arg.value}`"
    if isinstance(node, n.Getattr) and node.attr in ("format", "format_map"):
        return "str.format (its fields reach attributes)"
    return None


def _roles(tree: object) -> _Roles:
    """Each node's parent and the field of the parent it is in."""
    import jinja2.nodes as n

    out: _Roles = {}
    for node in _nodes(tree):
        if isinstance(node, n.Node):
            for field, value in node.iter_fields():
                for child in value if isinstance(value, list) else [value]:
                    if isinstance(child, n.Node):
                        out[id(child)] = (node, field)
    return out


def _global(node: object) -> bool:
    """Whether a value is reached from one of Jinja's globals (`lipsum`, `cycler`, `self`)."""
    import jinja2.nodes as n

    names = cast(list[str], _names()["globals"])
    return any(isinstance(x, n.Name) and x.name in names for x in _nodes(node))


def _rendered_kinds() -> tuple[type, ...]:
    import jinja2.nodes as n

    return (n.Output, n.Concat, n.Compare, n.Operand, n.Test, n.CondExpr, n.BinExpr, n.UnaryExpr)


def _rendered(node: object, roles: _Roles) -> bool:
    """Whether a value is only rendered, compared, tested, iterated, used as a key, computed
    with, or passed to a filter that makes text of it (templates.json `text_filters`); an
    `x if c else y`, `and`, `or` passes its value on and is judged where it goes."""
    import jinja2.nodes as n

    text = cast(list[str], _names()["text_filters"])
    while True:
        parent, field = roles.get(id(node), (None, ""))
        if isinstance(parent, n.CondExpr | n.And | n.Or) and field != "test":
            node = parent  # the value goes on
            continue
        return (
            isinstance(parent, _rendered_kinds())
            or (isinstance(parent, n.If) and field == "test")
            or (isinstance(parent, n.For) and field == "iter")
            or (isinstance(parent, n.Getitem) and field == "arg")
            or (isinstance(parent, n.Filter) and field == "node" and parent.name in text)
        )


def _unsafe(name: str) -> bool:
    return name.startswith("_") or name in _UNSAFE


def _nodes(tree: object) -> Iterator[object]:
    import jinja2.nodes as n

    todo: list[n.Node] = [tree] if isinstance(tree, n.Node) else []
    while todo:
        node = todo.pop()
        yield node
        todo.extend(node.iter_child_nodes())


def _fixpoint(
    sets: dict[str, list[object]], kind: Callable[[object, set[str]], bool], deadline: float
) -> set[str]:
    """Names (and `ns.attr` namespace attributes) the template only ever sets to values of a
    kind (an index; data): a fixpoint over every assignment (`set`, `for ... in ...`,
    namespace()), by worklist: a name is dropped once, and only the names set from it are
    judged again (round 21a F4: a chain of 30,000 `set`s was quadratic)."""
    users: dict[str, set[str]] = {}
    for name, values in sets.items():
        for value in values:
            for ref in _refs(value):
                users.setdefault(ref, set()).add(name)
    names: set[str] = set(sets)
    todo = list(names)
    for step in itertools.count():
        if not todo:
            break
        if not step & 0x3FF and time.monotonic() > deadline:
            raise Unreadable("its time budget was spent")
        name = todo.pop()
        if name in names and not all(kind(v, names) for v in sets[name]):
            names.discard(name)
            todo.extend(users.get(name, ()))
    return names


def _data_of(sets: dict[str, list[object]]) -> Callable[[object, set[str]], bool]:
    """Whether a value is the data a template is rendered with: a name it never sets (or
    sets only to data), its attributes and constant subscripts, and a `for` target over
    such data (its `.items()`, `.keys()`, `.values()`, sorted or listed)."""
    import jinja2.nodes as n

    def data(node: object, names: set[str]) -> bool:
        if isinstance(node, _RangeItem):
            return node.iterable is not None and data(node.iterable, names)
        if isinstance(node, n.Name):  # not Jinja's own `lipsum`, `cycler`, `self`...
            if node.name in cast(list[str], _names()["globals"]):
                return False
            return node.name not in sets or node.name in names
        if isinstance(node, n.Getattr):
            return not _unsafe(node.attr) and data(node.node, names)
        if isinstance(node, n.Getitem):
            return isinstance(node.arg, n.Const) and data(node.node, names)
        if isinstance(node, n.Const | n.Slice):
            return not isinstance(node, n.Const) or isinstance(node.value, int)  # no getattr
        if isinstance(node, n.Sub | n.Div | n.FloorDiv):  # numbers only: no name is built
            return data(node.left, names) and data(node.right, names)
        if isinstance(node, n.Call) and isinstance(node.node, n.Getattr):
            if node.node.attr in _POSITIONS:  # `choices.label.index(key)`: an int
                return data(node.node.node, names)
            bare = not node.args and not node.kwargs
            return bare and node.node.attr in _VIEWS and data(node.node.node, names)
        if isinstance(node, n.Filter):
            bare = not node.args and not node.kwargs
            return bare and node.name in _DATA_FILTERS and data(node.node, names)
        return False

    return data


_VIEWS = {"items", "keys", "values"}
_POSITIONS = {"index", "count", "find", "rfind"}
_DATA_FILTERS = {"list", "sort", "dictsort", "reverse"}


def _assignments(tree: object) -> dict[str, list[object]]:
    import jinja2.nodes as n

    sets: dict[str, list[object]] = {}
    for node in _nodes(tree):
        pairs: list[tuple[object, object]] = []
        if isinstance(node, n.Assign):
            pairs = [(node.target, node.node)]
        elif isinstance(node, n.For):
            pairs = [(node.target, _RangeItem(node.iter))]
        elif isinstance(node, n.With):
            pairs = list(zip(node.targets, node.values))
        elif isinstance(node, n.Macro | n.CallBlock):
            pairs = [(a, _RangeItem(None)) for a in node.args]  # arguments: anything
        elif (
            isinstance(node, n.Call)
            and isinstance(node.node, n.Name)
            and node.node.name == "namespace"
        ):
            pairs = [(n.NSRef("*", kw.key), kw.value) for kw in node.kwargs]
        for target, value in pairs:
            for t in _nodes(target):
                if isinstance(t, n.Name):
                    sets.setdefault(t.name, []).append(value)
                elif isinstance(t, n.NSRef):
                    sets.setdefault(f"*.{t.attr}", []).append(value)
    return sets


def _refs(value: object) -> set[str]:
    """The names (and `*.attr` namespace attributes) a value's index-ness depends on."""
    import jinja2.nodes as n

    root = value.iterable if isinstance(value, _RangeItem) else value
    out: set[str] = set()
    for node in _nodes(root):
        if isinstance(node, n.Name):
            out.add(node.name)
        elif isinstance(node, n.Getattr):
            out.add(f"*.{node.attr}")
    return out


class _RangeItem:
    """A `for` target's value: an index when the loop is over `range(indices)`."""

    def __init__(self, iterable: object) -> None:
        self.iterable = iterable


def _index(node: object, names: set[str]) -> bool:
    import jinja2.nodes as n

    if isinstance(node, _RangeItem):
        it = node.iterable
        return (
            isinstance(it, n.Call)
            and isinstance(it.node, n.Name)
            and it.node.name == "range"
            and all(_index(a, names) for a in it.args)
        )
    if isinstance(node, n.Const):
        return isinstance(node.value, int)
    if isinstance(node, n.Name):
        return node.name in names
    if isinstance(node, n.Getattr) and isinstance(node.node, n.Name):
        name = node.node.name
        if name == "loop":
            return node.attr in _LOOP_INDICES
        return f"*.{node.attr}" in names  # a namespace's attribute
    if isinstance(node, n.Filter):
        return node.name in _INT_FILTERS and node.node is not None
    if isinstance(node, n.BinExpr):
        return _index(node.left, names) and _index(node.right, names)
    if isinstance(node, n.UnaryExpr):
        return _index(node.node, names)
    if isinstance(node, n.CondExpr):
        return _index(node.expr1, names) and (node.expr2 is None or _index(node.expr2, names))
    if isinstance(node, n.Slice):
        return all(p is None or _index(p, names) for p in (node.start, node.stop, node.step))
    return False


# -- where runtimes read templates ----------------------------------------------------------------
_TOKENIZER_FILES = ("tokenizer_config.json", "chat_template.json")
_MAX_TOKENIZER_FILE = 64 << 20
_MAX_FILE = MAX_TEMPLATE * 4  # bytes of one template file read
# Templates kept as files (transformers `chat_template.jinja` and `additional_chat_templates/`,
# vLLM's and TGI's `--chat-template x.jinja`, promptflow's `.jinja2`/`.prompty`, any path a
# script or config reads into a renderer): every text file holding Jinja's markers is judged
# by its content, wherever it is and whatever its name (round 21a F5); a file named as a
# template is also NOT verified when Jinja cannot parse it (forkvet/data/templates.json).


@functools.cache
def _names() -> dict[str, object]:
    text = resources.files("forkvet.data").joinpath("templates.json").read_text("utf-8")
    doc: dict[str, object] = json.loads(text)
    return doc


def named_template(path: str) -> bool:
    """Whether the file's name says it is a Jinja template (templates.json)."""
    name = path.rsplit("/", 1)[-1].lower()
    suffixes = cast(list[str], _names()["suffixes"])
    return name.endswith(tuple(suffixes)) or str(_names()["infix"]) + "." in name


def _marked(text: str) -> bool:
    return any(m in text for m in cast(list[str], _names()["markers"]))


_SECONDS = 10.0  # all template judgements of a run (GGUF headers have the scan's budget)


def template_risks(
    snap: Snapshot, deadline: float, errors: Collection[str] = frozenset()
) -> list[Risk]:
    """Every template of the tree judged (see judge), within the run's deadline and this
    pass's own budget (round 21a F4): what is not judged by then is NOT verified. A file
    that cannot be read is NOT verified, unless it is one of `errors` (paths that are an
    error already: a file replaced during the run is one for the pickle probe)."""
    deadline = min(deadline, time.monotonic() + _SECONDS)
    out: list[Risk] = []
    late: list[str] = []
    for f in snap.files:
        if len(out) >= 20:
            break  # the run is an error already
        if time.monotonic() > deadline:
            late.append(f.path)
            continue
        try:
            for where, template, strict in _templates(snap, f):
                why = verdict(template, deadline, strict)
                if why is not None:
                    out.append(_risk(f.path, where, f"it reaches {why}"))
        except Unreadable as exc:
            out.append(_risk(f.path, "", f"NOT verified: {exc}"))
        except OSError as exc:
            if f.path not in errors:
                out.append(_risk(f.path, "", f"NOT verified: {exc.strerror or exc}"))
        except (ValueError, RecursionError, ImportError) as exc:
            out.append(_risk(f.path, "", f"NOT verified: {type(exc).__name__}"))
    if late:
        why = f"NOT verified: the {_SECONDS:.0f} s for templates were spent"
        more = f" ({len(late) - 1:,} more files of the tree were not read either)"
        out.append(_risk(late[0], "", why + (more if len(late) > 1 else "")))
    return out


def verdict(template: str, deadline: float, strict: bool = True) -> str | None:
    """judge() on what each loader sees: the whole text (Python's readers), and the part
    before its first NUL, where a C-string reader stops (llama.cpp's GGUF strings, read by
    llama-cpp-python: round 21a F12)."""
    cut = template.find("\0")
    if cut >= 0:
        why = judge(template[:cut], deadline, strict)
        if why is not None:
            return f"{why}, in the part before its first NUL (what llama.cpp reads)"
    return judge(template, deadline, strict)


def _templates(snap: Snapshot, f: FileEntry) -> list[tuple[str, str, bool]]:
    """(where, template, strict) of one file: a tokenizer's `chat_template`, or the file
    itself when it holds Jinja's markers (strict when its name says it is a template)."""
    if f.name.lower() in _TOKENIZER_FILES:
        return [(w, t, True) for w, t in _tokenizer_templates(snap, f)]
    if f.suffix == ".gguf":
        return []  # GGUF files: found by content in the pickle scan's one read (gguf_findings)
    named = named_template(f.path)
    if not named and f.path.startswith(".github/"):
        return []  # GitHub's `${{ }}` expressions, read as CI (docs/vet.md: what is left)
    if f.size > _MAX_FILE:
        if named:
            raise Unreadable(f"a template file of {f.size:,} bytes")
        return []  # too large for a renderer's template (docs/vet.md: what is left)
    if named:
        raw = snap.read_bytes(f.path, _MAX_FILE + 1)
        if len(raw) > _MAX_FILE:
            raise Unreadable("a template file that grew past 4 MiB")
        if raw.startswith(GGUF_MAGIC):
            return []  # judged by the pickle scan, as for `.gguf` files
        return [("", raw.decode("utf-8", "replace"), True)]
    # a renderer reads a template as UTF-8 text (open().read(), FileSystemLoader): an image,
    # a PDF, a checkpoint (a GGUF, which the pickle scan judges) is refused from its head
    text = utf8_text(snap, f, _MAX_FILE)
    if text is None or text.startswith("GGUF"):
        return []
    if len(text) > MAX_TEMPLATE or not _marked(text):
        return []  # a vocabulary, a data file: too large for a template (docs/vet.md)
    return [("", text, False)]


def _tokenizer_templates(snap: Snapshot, f: FileEntry) -> list[tuple[str, str]]:
    if f.size > _MAX_TOKENIZER_FILE:  # every bound hit is NOT verified (round 20a F6)
        raise Unreadable(f"a tokenizer file of {f.size:,} bytes, not read")
    try:
        doc = json.loads(snap.read_bytes(f.path, _MAX_TOKENIZER_FILE))
    except ValueError:
        return []  # no JSON: no runtime reads a template from it either
    value = doc.get("chat_template") if isinstance(doc, dict) else None
    if isinstance(value, str):
        return [("chat_template", value)]
    if isinstance(value, dict):  # {name: template}, as tokenizer.chat_template holds them
        return [(f"chat_template {k!r}", v) for k, v in value.items() if isinstance(v, str)]
    if isinstance(value, list):  # [{"name": ..., "template": ...}]
        return [
            (f"chat_template {d.get('name')!r}", d["template"])
            for d in value
            if isinstance(d, dict) and isinstance(d.get("template"), str)
        ]
    return []


def gguf_findings(fh: BinaryIO, deadline: float) -> list[str]:
    """What the pickle scan reports of a stream starting with GGUF's magic, a file or an
    archive member (one read per file, round 20): each chat template that reaches Python,
    or that its header could not be read to its end, or Jinja cannot parse (NOT verified)."""
    try:
        found = gguf_templates(fh, deadline)
        return [
            message(key, f"it reaches {why}")
            for key, template in found
            if (why := verdict(template, deadline)) is not None
        ]
    except Unreadable as exc:
        return [message("", f"NOT verified: {exc}")]
    except (OSError, ValueError, RecursionError, ImportError, struct.error) as exc:
        return [message("", f"NOT verified: {type(exc).__name__}")]


def message(where: str, why: str) -> str:
    inside = f" (`{where}`)" if where else ""
    return (
        f"Chat template{inside}: {why}. Runtimes that render it outside Jinja's sandbox "
        "(llama-cpp-python before 0.2.72, CVE-2024-34359, and servers built the same way) run "
        "it as Python when a chat is formatted"
    )


def _risk(path: str, where: str, why: str) -> Risk:
    name = path.rsplit("/", 1)[-1].lower()
    if where or name.endswith(".jinja") or "chat" in name:
        text = message(where, why) + ". Read it before loading this model for chat."
    else:  # a template found by its content, or a prompt flow's (round 21a F5)
        text = (
            f"Jinja template: {why}. Renderers that render it outside Jinja's sandbox "
            "(a script's plain jinja2.Template, promptflow-tools before 1.6, "
            "lm-evaluation-harness task templates) run it as Python. Read it before using it."
        )
    return Risk("code-in-data", "error", text, path)
