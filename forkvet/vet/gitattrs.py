"""How a Windows checkout writes each tracked file, by git's own attribute rules.

Git converts LF to CRLF on checkout where the user's core.autocrlf (true: Git for Windows'
default) or core.eol says so, and the repository's `.gitattributes` decide for which files:
`text` (or `eol=crlf`, or the older `crlf`) converts a file whatever its bytes, NUL or not;
`text=auto`, or no attribute, converts only what git's content check takes for text; `-text`,
`binary`, `eol=lf`, `text=input` never convert. A converted pickle is another pickle (each LF
moved into a length-prefixed string pushes bytes out as opcodes: outside attack, round 16a
H3, round 21a F7), so pickles.scan_file walks that form too, as this module says.

Read as git reads them (convert.c, attr.c): the deeper file and the later line win, the
macros of the top-level file (`[attr]name ...`, and the built-in `binary`) expand where they
are set, a pattern with no slash matches the name in any folder below its file, one with a
slash the path from its file's folder (`*` stops at `/`, `**` does not). Patterns match
case-blind on Windows (core.ignorecase), so both readings are taken and the one that converts
wins. Files git does not track (and everything in a `.git` folder) are never written by a
checkout. Over MAX_LINES lines of attributes (or MAX_MATCHES pattern matches in a run),
every tracked file counts as converted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from forkvet import rx
from forkvet.snapshot import FileEntry, Snapshot

CRLF = "crlf"  # converted whatever its content
AUTO = "auto"  # converted when git's content check takes it for text
NEVER = "never"  # never converted (or never written by a checkout)

MAX_LINES = 5000  # all `.gitattributes` files together
MAX_FILE = 1 << 20
# Patterns matched per run (a file is matched only when it or its CRLF form is a pickle):
# past it, every further file counts as converted.
MAX_MATCHES = 2_000_000
_MACRO_DEPTH = 8
_EOL_ATTRS = frozenset({"text", "eol", "crlf"})
_BINARY = (("-diff", "-merge", "-text"),)
_ATTR_NAME = rx.compile(r"[A-Za-z0-9_.-]+\Z")


@dataclass
class _Rule:
    base: str  # the folder of its `.gitattributes` ("" at the root)
    pattern: str
    tokens: tuple[str, ...]
    pathname: bool = False  # matched against the path from `base`, not the name alone
    exact: rx.Pattern[str] | None = None
    blind: rx.Pattern[str] | None = None


@dataclass
class Attributes:
    """The eol rules of one tree (see the module's text)."""

    rules: list[_Rule] = field(default_factory=list)
    macros: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"binary": _BINARY[0]})
    capped: bool = False
    matches: int = 0  # pattern matches spent (MAX_MATCHES per run)

    def mode(self, snap: Snapshot, entry: FileEntry, in_store: bool = False) -> str:
        """CRLF, AUTO or NEVER for this file of the tree."""
        if in_store or ".git" in entry.path.lower().split("/") or not snap.committed(entry):
            return NEVER
        self.matches += 2 * len(self.rules)
        if self.capped or self.matches > MAX_MATCHES:
            return CRLF  # past the bound: every file counts as converted
        modes = {_action(self._values(entry.path, blind)) for blind in (False, True)}
        return CRLF if CRLF in modes else AUTO if AUTO in modes else NEVER

    def mentions(self, name: str) -> bool:
        """Whether any line or macro names attribute `name` (past the bound: True)."""
        tokens = [t for r in self.rules for t in r.tokens]
        tokens += [t for m in self.macros.values() for t in m]
        return self.capped or any(_token(t)[0] == name for t in tokens)

    def is_set(self, snap: Snapshot, entry: FileEntry, name: str) -> bool:
        """Whether attribute `name` is set (true, as git's ATTR_TRUE) for this tracked file
        by either reading (exact or case-blind); past the bound, every tracked file's is."""
        if ".git" in entry.path.lower().split("/") or not snap.committed(entry):
            return False
        self.matches += 2 * len(self.rules)
        if self.capped or self.matches > MAX_MATCHES:
            return True
        names = frozenset({name})
        return any(self._values(entry.path, b, names).get(name) is True for b in (False, True))

    def _values(
        self, path: str, blind: bool, names: frozenset[str] = _EOL_ATTRS
    ) -> dict[str, bool | str | None]:
        out: dict[str, bool | str | None] = {}
        for rule in reversed(self.rules):
            if not _matches(rule, path, blind):
                continue
            for name, value in self._expand(rule.tokens, 0):
                if name in names and name not in out:
                    out[name] = value
            if len(out) == len(names):
                break
        return out

    def _expand(
        self, tokens: tuple[str, ...], depth: int
    ) -> Iterator[tuple[str, bool | str | None]]:
        """(attribute, value) in git's order within a line: the last token first, a macro
        set there expanding right after it."""
        for token in reversed(tokens):
            name, value = _token(token)
            yield name, value
            if value is True and name in self.macros and depth < _MACRO_DEPTH:
                yield from self._expand(self.macros[name], depth + 1)


def _token(token: str) -> tuple[str, bool | str | None]:
    if token.startswith("-"):
        return token[1:], False
    if token.startswith("!"):
        return token[1:], None
    name, eq, value = token.partition("=")
    return name, (value if eq else True)


def _action(values: dict[str, bool | str | None]) -> str:
    """git's convert_attrs() for a Windows checkout (core.autocrlf=true)."""
    action = _crlf_action(values.get("text")) or _crlf_action(values.get("crlf"))
    eol = values.get("eol")
    if action == "binary":
        return NEVER
    if action == "auto":
        return NEVER if eol == "lf" else AUTO
    if eol in ("lf", "crlf"):  # `eol` makes a file text, whatever `text` said
        return NEVER if eol == "lf" else CRLF
    if action == "text":
        return CRLF
    return NEVER if action == "input" else AUTO  # none: core.autocrlf=true, content decides


def _crlf_action(value: bool | str | None) -> str | None:
    if value is True:
        return "text"
    if value is False:
        return "binary"
    if value in ("input", "auto"):
        return str(value)
    return None


# -- patterns ---------------------------------------------------------------------------------
def _matches(rule: _Rule, path: str, blind: bool) -> bool:
    if rule.base and not path.startswith(rule.base + "/"):
        return False
    rel = path[len(rule.base) + 1 :] if rule.base else path
    if rule.exact is None:
        rule.exact, rule.blind = _compile(rule.pattern)
    target = rel if rule.pathname else rel.rsplit("/", 1)[-1]
    pattern = rule.blind if blind else rule.exact
    return pattern is not None and pattern.fullmatch(target) is not None


def _compile(pattern: str) -> tuple[rx.Pattern[str] | None, rx.Pattern[str] | None]:
    try:
        translated = _translate(pattern)
        return rx.compile(translated, rx.S), rx.compile(translated, rx.S | rx.I)
    except rx.error:
        return None, None


def _translate(pat: str) -> str:
    """git's wildmatch (WM_PATHNAME) as a regular expression: `*` and `?` stop at `/`,
    `**/` and `/**` cross folders, `[...]` is a class, `\\` escapes."""
    out: list[str] = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            j = i
            while j < n and pat[j] == "*":
                j += 1
            whole = (i == 0 or pat[i - 1] == "/") and (j == n or pat[j] == "/")
            if j - i >= 2 and whole:
                if j == n:
                    out.append(".*")
                else:
                    out.append("(?:.*/)?")
                    j += 1
            else:
                out.append("[^/]*")
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            i = _bracket(pat, i, out)
        elif c == "\\" and i + 1 < n:
            out.append(rx.escape(pat[i + 1]))
            i += 2
        else:
            out.append(rx.escape(c))
            i += 1
    return "".join(out)


def _bracket(pat: str, i: int, out: list[str]) -> int:
    """A `[...]` class from pat[i]; an unclosed `[` is itself."""
    j = i + 1
    negate = j < len(pat) and pat[j] in "!^"
    j += negate
    items: list[str] = []
    first = True
    while j < len(pat) and (pat[j] != "]" or first):
        first = False
        if pat.startswith("[:", j) and (end := pat.find(":]", j + 2)) > 0:
            items.append(pat[j : end + 2])
            j = end + 2
            continue
        c = pat[j + 1] if pat[j] == "\\" and j + 1 < len(pat) else pat[j]
        j += 2 if pat[j] == "\\" and j + 1 < len(pat) else 1
        items.append("-" if c == "-" and items and j < len(pat) and pat[j] != "]" else _cls(c))
    if j >= len(pat):
        out.append(rx.escape("["))
        return i + 1
    out.append("[" + ("^/" if negate else "") + "".join(items) + "]")
    return j + 1


def _cls(c: str) -> str:
    return "\\" + c if c in "\\]^-[" else c


# -- reading the files -------------------------------------------------------------------------
def read(snap: Snapshot) -> Attributes:
    """The eol rules of the tree's tracked `.gitattributes` files (the root's first, deeper
    ones after: later rules win)."""
    attrs = Attributes()
    files = [f for f in snap.files if f.path.rsplit("/", 1)[-1] == ".gitattributes"]
    files = [f for f in files if not f.via and snap.committed(f)]
    lines = 0
    for f in sorted(files, key=lambda f: (f.path.count("/"), f.path)):
        base = f.path.rsplit("/", 1)[0] if "/" in f.path else ""
        try:
            raw = snap.read_bytes(f.path, MAX_FILE + 1)
        except OSError:
            attrs.capped = True  # what it says is not known: every file may be converted
            continue
        text = raw.decode("utf-8", "replace").splitlines()
        lines += len(text)
        if len(raw) > MAX_FILE or lines > MAX_LINES:
            attrs.capped = True
            return attrs
        for line in text:
            _parse(line, base, attrs)
    return attrs


def _parse(line: str, base: str, attrs: Attributes) -> None:
    line = line.strip(" \t\r")
    if not line or line.startswith("#"):
        return
    pattern, words = _split(line)
    if pattern is None:
        return
    tokens = tuple(t for t in words if _ATTR_NAME.match(t.lstrip("-!").split("=", 1)[0]))
    if pattern.startswith("[attr]"):
        if not base:  # macros are read from the top-level file only
            attrs.macros[pattern[6:]] = tokens
        return
    if pattern.startswith("!") or pattern.endswith("/"):
        return  # git ignores negative patterns; a folder pattern matches no file
    # With a slash, matched against the path from the file's folder; else the name alone.
    rule = _Rule(base, pattern[1:] if pattern.startswith("/") else pattern, tokens)
    rule.pathname = "/" in pattern
    attrs.rules.append(rule)


def _split(line: str) -> tuple[str | None, list[str]]:
    """The pattern (C-quoted or not) and the attribute tokens of one line."""
    if line.startswith('"'):
        pattern, end = _unquote(line)
        if pattern is None:
            return None, []
        return pattern, line[end:].split()
    parts = line.split()
    return parts[0], parts[1:]


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquote(line: str) -> tuple[str | None, int]:
    """git's C-style quoted path from line[0] (a `"`): the text and where it ends."""
    out = bytearray()
    i = 1
    while i < len(line):
        c = line[i]
        if c == '"':
            return out.decode("utf-8", "replace"), i + 1
        if c == "\\" and i + 1 < len(line):
            nxt = line[i + 1]
            if i + 3 < len(line) and all(d in "01234567" for d in line[i + 1 : i + 4]):
                out.append(int(line[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            i += 2
            continue
        out += c.encode()
        i += 1
    return None, i
