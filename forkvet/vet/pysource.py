"""Parse every Python file (and notebook) of a snapshot once, for all checks to share.

Python 3 files are parsed with `ast`. Files `ast` cannot parse (Python 2 code, broken code) are
read by a small lexer that blanks strings and comments, so imports and Python 2 signs are still
found: a single Python 2 file never aborts the analysis (pipreqs' failure mode).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from forkvet import limits, rx
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet.textrisks import text_risks

MAX_PY_FILES = 20_000


@dataclass(frozen=True)
class ImportRef:
    module: str  # full dotted name as written ("torch.nn")
    path: str
    line: int
    optional: bool = False  # inside try/except ImportError, a platform check or TYPE_CHECKING

    @property
    def top(self) -> str:
        return self.module.split(".", 1)[0]


@dataclass
class PyFile:
    path: str
    text: str
    # The AST lives only while the file analyzers run, then is dropped: 5,000 trees do not
    # fit the memory budget, and checks read the analyzers' facts instead.
    tree: ast.Module | None
    syntax_error: tuple[str, int] | None = None
    imports: list[ImportRef] = field(default_factory=list)
    is_notebook: bool = False
    # Lines of code with strings and comments blanked; only built for files ast cannot parse.
    code_lines: list[str] | None = None
    parsed: bool = False  # ast could parse it (Python 3 syntax)
    facts: dict[str, Any] = field(default_factory=dict)
    # Why part of the analysis of this file failed (deep nesting, a parser crash), or None.
    failure: str | None = None
    # The path of a file with the same content, whose analysis this one shares: checks that
    # search a file's text skip copies (50 names for one 2 MB file cost one search).
    copy_of: str | None = None


# An analyzer reads one parsed file (its tree, and every node of it in ast.walk order, walked
# once for all analyzers) and stores what its check needs in file.facts.
Analyzer = Callable[[PyFile, ast.Module, list[ast.AST]], None]


# -- lexer for code ast cannot parse ------------------------------------------------------------
_STRING_START = rx.compile(r"""(?i)([rubf]{0,2})('''|\"\"\"|'|")""")


def blank_strings_and_comments(text: str) -> list[str]:
    """Return the file's lines with string contents replaced by '' and comments removed.

    Line numbers are preserved (a triple-quoted string spanning lines leaves blank lines).
    Works for Python 2 and 3 source alike, and never raises.
    """
    out: list[str] = []
    in_triple: str | None = None
    for raw in text.splitlines():
        line = raw
        result: list[str] = []
        i = 0
        if in_triple:
            end = line.find(in_triple)
            if end < 0:
                out.append("")
                continue
            i = end + 3
            result.append('""')
            in_triple = None
        while i < len(line):
            ch = line[i]
            if ch == "#":
                break
            # A prefix or quote that does not follow a word character (a bounded slice: matching
            # at i on the whole line would re-read the line for every quote).
            starts = ch in "'\"rRuUbBfF" and not (
                i and (line[i - 1] == "_" or line[i - 1].isalnum())
            )
            m = _STRING_START.match(line[i : i + 5]) if starts else None
            if m and (ch in "'\"" or m.group(1)):
                quote = m.group(2)
                j = i + m.end()
                if len(quote) == 3:
                    end = line.find(quote, j)
                    if end < 0:
                        in_triple = quote
                        i = len(line)
                        break
                    i = end + 3
                else:
                    while j < len(line) and line[j] != quote:
                        j += 2 if line[j] == "\\" else 1
                    i = j + 1
                result.append(m.group(1) + '""')
                continue
            result.append(ch)
            i += 1
        out.append("".join(result))
    return out


_IMPORT_RE = rx.compile(r"^\s*import\s+(.+)$")
_FROM_RE = rx.compile(r"^\s*from\s+(\.*[\w.]*)\s+import\b")
_TRY_RE = rx.compile(r"^\s*try\s*:")


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def imports_from_lines(path: str, lines: list[str]) -> list[ImportRef]:
    refs: list[ImportRef] = []
    # Stack of (indent, is_try) of enclosing block openers, to mark imports inside try: optional.
    blocks: list[tuple[int, bool]] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        ind = _indent(line)
        while blocks and blocks[-1][0] >= ind:
            blocks.pop()
        optional = any(is_try for _, is_try in blocks)
        m = _FROM_RE.match(line)
        if m:
            mod = m.group(1)
            if not mod.startswith(".") and mod:
                refs.append(ImportRef(mod, path, lineno, optional))
        else:
            m = _IMPORT_RE.match(line)
            if m:
                for part in m.group(1).split(","):
                    name = part.strip().split(" ")[0].strip("()\\ ")
                    if rx.fullmatch(r"[A-Za-z_][\w.]*", name):
                        refs.append(ImportRef(name, path, lineno, optional))
        if line.rstrip().endswith(":"):
            blocks.append((ind, bool(_TRY_RE.match(line))))
    return refs


# -- AST import collection ------------------------------------------------------------------------
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names: list[ast.expr] = (
        list(handler.type.elts) if isinstance(handler.type, ast.Tuple) else [handler.type]
    )
    for n in names:
        ident = n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else ""
        if ident in _IMPORT_ERRORS:
            return True
    return False


def _is_conditional_test(test: ast.expr) -> bool:
    src = ast.unparse(test)
    return any(
        k in src
        for k in (
            "sys.platform",
            "platform.",
            "os.name",
            "TYPE_CHECKING",
            "sys.version",
            "PY2",
            "PY3",
            "six.",
        )
    )


_BLOCK_FIELDS = ("body", "orelse", "finalbody")


def _collect_imports(
    path: str, stmts: list[ast.stmt], optional: bool, out: list[ImportRef]
) -> None:
    """Imports in a statement list, recursing only into statement bodies (fast: expressions,
    where no import statement can be, are never visited)."""
    for node in stmts:
        t = type(node)
        if t is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                out.append(ImportRef(alias.name, path, node.lineno, optional))
        elif t is ast.ImportFrom:
            assert isinstance(node, ast.ImportFrom)
            if node.level == 0 and node.module:
                out.append(ImportRef(node.module, path, node.lineno, optional))
        elif t is ast.Try or t is ast.TryStar:
            assert isinstance(node, ast.Try | ast.TryStar)
            guarded = optional or any(_catches_import_error(h) for h in node.handlers)
            _collect_imports(path, node.body, guarded, out)
            for h in node.handlers:  # fallbacks are optional as well
                _collect_imports(path, h.body, True, out)
            _collect_imports(path, node.orelse + node.finalbody, optional, out)
        elif t is ast.If:
            assert isinstance(node, ast.If)
            cond = optional or _is_conditional_test(node.test)
            _collect_imports(path, node.body, cond, out)
            _collect_imports(path, node.orelse, cond, out)
        elif t is ast.Match:
            for case in node.cases:  # type: ignore[attr-defined]
                _collect_imports(path, case.body, optional, out)
        else:
            for name in _BLOCK_FIELDS:
                block = getattr(node, name, None)
                if block:
                    _collect_imports(path, block, optional, out)


def _dynamic_imports(path: str, tree: ast.Module, out: list[ImportRef]) -> None:
    """importlib.import_module("x") / __import__("x"): dynamic, so optional at best."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        fn = node.func
        name = (
            fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
        )
        arg = node.args[0]
        if (
            name in ("import_module", "__import__")
            and isinstance(arg, ast.Constant)
            and isinstance(arg.value, str)
            and arg.value
            and not arg.value.startswith(".")
        ):
            out.append(ImportRef(arg.value, path, node.lineno, True))


# Upper bound on tokens (each name, number and punctuation sign; strings and comments word by
# word): counted in C by rx.subn without building a match object per token.
_TOKEN = rx.compile(r"\w+|[^\w\s]")


def estimated_nodes(text: str) -> int:
    """A cheap over-estimate of the syntax nodes ast would build for `text`."""
    if len(text) <= limits.MAX_PARSE_TOKENS:
        return len(text)  # no more tokens than characters: no need to count
    return _TOKEN.subn("", text)[1]


def _line_scanned(path: str, text: str, is_notebook: bool, failure: str) -> PyFile:
    """A file not given to ast (built to exhaust it): imports are read line by line."""
    lines = blank_strings_and_comments(text)
    return PyFile(
        path,
        text,
        None,
        imports=imports_from_lines(path, lines),
        is_notebook=is_notebook,
        code_lines=lines,
        failure=failure,
    )


# An import statement's line, strings and comments not blanked: a skim, not a parse.
_SKIM_IMPORT = rx.compile(
    r"([ \t]*)(?:import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)|from[ \t]+([\w.]+)[ \t]+import\b)"
)


def skim_python(path: str, text: str) -> PyFile:
    """A file past the run's analysis budget: its imports (indented ones optional) and its
    risky calls by pattern; its text is not kept. Lines are found from each "import" with
    str.find (memchr speed): a regex anchored at every line start costs ten times more."""
    refs: list[ImportRef] = []
    line, counted_to = 1, 0
    at = text.find("import")
    while at >= 0 and len(refs) < 1000:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        m = _SKIM_IMPORT.match(text, start, end if end >= 0 else len(text))
        if m:
            line += text.count("\n", counted_to, start)
            counted_to = start
            names = m.group(2).split(",") if m.group(2) else [m.group(3)]
            for name in names:
                if not name.strip().startswith("."):  # relative: the repository's own
                    refs.append(ImportRef(name.strip(), path, line, bool(m.group(1))))
        at = text.find("import", end) if end >= 0 else -1
    risks: tuple[list[Any], list[Any], list[Any]] = (text_risks(text), [], [])  # as analyze_file
    facts = {
        "skimmed": True,
        "risks": risks,
        "main_guard": _has_main_guard(text),
        "unit_test": any(word in text for word in _UNIT_TEST_WORDS),
    }
    return PyFile(path, "", None, imports=refs, facts=facts)


# What a unit test file holds (str.find, as the skim reads): checked with its name, test_x.py.
_UNIT_TEST_WORDS = ("def test_", "import unittest", "from unittest", "import pytest", "absltest")


def _has_main_guard(text: str) -> bool:
    """`if __name__ == "__main__":` at the start of a line, found by str.find: a skimmed
    train_sft.py deep in a large package is still a script to run."""
    at = text.find("__main__")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if text.startswith("if", start) and "__name__" in text[start:at]:
            return True
        at = text.find("__main__", at + 8)
    return False


def parse_python(path: str, text: str, is_notebook: bool = False) -> PyFile:
    if estimated_nodes(text) > limits.MAX_PARSE_TOKENS:
        return _line_scanned(
            path,
            text,
            is_notebook,
            f"not parsed (over {limits.MAX_PARSE_TOKENS:,} tokens; imports read line by line)",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old code
            tree = ast.parse(text, filename=path)
    except (RecursionError, MemoryError) as exc:
        # Not a syntax error of the authors: a file built to exhaust the parser. Its imports
        # are still read line by line; the file is reported as not analysed.
        return _line_scanned(path, text, is_notebook, f"not parsed ({_why(exc)})")
    except (SyntaxError, ValueError) as exc:
        lineno = getattr(exc, "lineno", None) or 0
        msg = getattr(exc, "msg", None) or str(exc)
        lines = blank_strings_and_comments(text)
        return PyFile(
            path,
            text,
            None,
            (str(msg), int(lineno)),
            imports_from_lines(path, lines),
            is_notebook,
            code_lines=lines,
        )
    refs: list[ImportRef] = []
    _collect_imports(path, tree.body, False, refs)
    if "import_module" in text or "__import__" in text:
        _dynamic_imports(path, tree, refs)
    return PyFile(path, text, tree, None, refs, is_notebook, parsed=True)


def all_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree, in ast.walk's order, ~40% faster (no generators). A list field
    holds nodes or identifiers, never both; only Dict.keys and kw_defaults hold None too."""
    out = [tree]
    append, extend = out.append, out.extend
    i = 0
    while i < len(out):
        node = out[i]
        i += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                if value and (value[0] is None or isinstance(value[0], ast.AST)):
                    extend(value if None not in value else [v for v in value if v is not None])
            elif isinstance(value, ast.AST):
                append(value)
    return out


def analyze(
    path: str,
    text: str,
    is_notebook: bool,
    analyzers: Sequence[Analyzer],
    flags: dict[str, Any] | None = None,
) -> PyFile:
    """Parse one file, run every analyzer on it, and drop the tree."""
    try:
        f = parse_python(path, text, is_notebook)
    except (Exception, RecursionError, MemoryError) as exc:  # a parser crash on this file
        return PyFile(path, text, None, failure=f"not parsed ({_why(exc)})")
    if flags:
        f.facts.update(flags)
    if f.tree is not None:
        try:
            nodes = all_nodes(f.tree) if analyzers else []
            for analyzer in analyzers:
                analyzer(f, f.tree, nodes)
        except (Exception, RecursionError, MemoryError) as exc:
            # One hostile file (100,000 nested brackets) must not cost the whole report.
            f.failure = f"partly analysed ({_why(exc)})"
        f.tree = None
    return f


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"{type(exc).__name__} in a parser"


_MAGIC_RE = rx.compile(r"^(\s*)([!%].*)$")


# A cell magic that runs the whole cell as a shell script.
_SHELL_CELL = rx.compile(r"^\s*%%(?:bash|sh|script\s+(?:ba)?sh)\b")


_SHELL_COMMENT = rx.compile(r"(?:^|\s)#")


def _shell_script(lines: list[str]) -> list[str]:
    """A script's lines with each one that ends in `\\` joined to the next (the newline
    and backslash removed, as the shell removes them)."""
    out: list[str] = []
    joined = ""
    for ln in lines:
        if _continues(ln) and not _SHELL_COMMENT.search(ln):  # a comment's `\` is its own
            joined += ln.rstrip()[:-1]
            continue
        out.append(joined + ln)
        joined = ""
    return out + ([joined] if joined else [])


def _continues(line: str) -> bool:
    """Whether IPython joins this magic line to the next: it ends in a backslash."""
    return line.rstrip().endswith("\\")


def notebook_source(text: str) -> tuple[str, list[str]] | None:
    """Join a notebook's code cells into one Python source; also return its shell (!) lines.

    None when it is not a notebook (not JSON, or JSON of another shape: a number in a cell's
    source list, a worksheet that is no object); RecursionError when the JSON is nested too
    deeply to read. One hostile notebook is that file's problem, never every check's.
    """
    try:
        return _notebook_source(text)
    except RecursionError:
        raise
    except Exception:
        return None


def _notebook_source(text: str) -> tuple[str, list[str]] | None:
    try:
        nb = json.loads(text)
    except ValueError:
        return None
    if not isinstance(nb, dict):
        return None
    cells = nb.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    chunks: list[str] = []
    shell: list[str] = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        src = "".join(src) if isinstance(src, list) else str(src)
        if _SHELL_CELL.match(src):
            # `%%bash`: the whole cell is a shell script, its lines joined as the shell does
            body = src.splitlines()
            shell += _shell_script(body[1:])
            chunks.append("\n".join("pass  # " + ln.strip() for ln in body))
            continue
        lines: list[str] = []
        # the indent of a magic line IPython continues on the next one (it ends in `\`),
        # and whether that line is a shell line
        indent: str | None = None
        to_shell = False
        for ln in src.splitlines():
            if indent is not None:
                # `!pip install x \` + `--index-url URL`: IPython joins them with a space
                # before the shell sees them; the Python source keeps the line as a comment
                if to_shell:
                    shell[-1] = shell[-1].rstrip()[:-1] + " " + ln
                lines.append(indent + "pass  # " + ln.lstrip())
                indent = indent if _continues(ln) else None
                continue
            m = _MAGIC_RE.match(ln)
            if m:
                to_shell = m.group(2).startswith(("!", "%pip"))
                if to_shell:
                    shell.append(m.group(2).lstrip("!%"))
                ln = m.group(1) + "pass  # " + m.group(2)
                indent = m.group(1) if _continues(m.group(2)) else None
            lines.append(ln)
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n", shell


@dataclass
class PyIndex:
    files: list[PyFile]
    notebook_shell: dict[str, list[str]]
    # Module names the repository provides itself: (any-depth names, real packages/modules)
    local_modules: set[str] = field(default_factory=set)
    local_packages: set[str] = field(default_factory=set)
    skipped: int = 0
    # (path, reason) of files whose analysis failed or was cut short by a limit
    unread: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> list[tuple[str, str]]:
        return self.unread + [(f.path, f.failure) for f in self.files if f.failure]

    def __iter__(self) -> Iterator[PyFile]:
        return iter(self.files)

    @cached_property
    def imports(self) -> list[ImportRef]:
        return [ref for f in self.files for ref in f.imports]


def _is_python(entry: FileEntry) -> bool:
    return entry.suffix in (".py", ".pyw")


# From this much code on, parsing runs in worker processes (one per core): forked workers
# start in milliseconds, and parsing plus the analyzers cost ~1-2 s per MB on one core.
PARALLEL_MIN_BYTES = 64 * 1024
PARALLEL_MIN_FILES = 4


def _jobs() -> int:
    env = os.environ.get("FORKVET_JOBS")
    if env and env.isdigit():
        return max(1, int(env))
    return min(os.cpu_count() or 1, 8)


def _analyze_chunk(
    args: tuple[list[tuple[str, str, bool, dict[str, Any]]], Sequence[Analyzer]],
) -> list[PyFile]:
    items, analyzers = args
    return [analyze(p, t, nb, analyzers, fl) for p, t, nb, fl in items]


_LATE = "not parsed: the vetting time limit was reached"
# The reason given for files whose content is not Python (or not a notebook) at all: they are
# never entry points, unlike files only left unparsed by a size or time budget.
NOT_READ = "not read"


def _analyze_in_pool(
    work: list[tuple[str, str, bool, dict[str, Any]]],
    analyzers: Sequence[Analyzer],
    jobs: int,
    deadline: float | None,
    unread: list[tuple[str, str]],
    meanwhile: Callable[[], None] = lambda: None,
) -> list[PyFile]:
    """Analyze small files in worker processes, collecting each chunk against the deadline;
    `meanwhile` runs in this process while the workers work (the big files).

    At the deadline the workers are killed (a chunk cannot be interrupted otherwise) and the
    files of every chunk not collected are reported as not parsed.
    """
    # Fork: workers inherit the loaded modules, so start-up costs milliseconds. Chunks are
    # small so that a deadline loses little finished work; the largest files go first, so
    # no worker is left with a big one at the end.
    work = sorted(work, key=lambda w: -len(w[1]))
    size = max(1, min(100, len(work) // (jobs * 8)))
    chunks = [work[i : i + size] for i in range(0, len(work), size)]
    files: list[PyFile] = []
    import multiprocessing as mp  # only trees big enough for workers pay for it

    pool = mp.get_context("fork").Pool(jobs, initializer=_worker_init)
    try:
        pending = [pool.apply_async(_analyze_chunk, ((chunk, analyzers),)) for chunk in chunks]
        pool.close()
        meanwhile()
        for chunk, result in zip(chunks, pending, strict=True):
            left = None if deadline is None else deadline - time.monotonic()
            try:
                if left is not None and left <= 0 and not result.ready():
                    raise mp.TimeoutError
                files += result.get(left)
            except mp.TimeoutError:
                unread += [(p, _LATE) for p, _, _, _ in chunk]
                deadline = time.monotonic()  # the rest: only what is already done
            except Exception as exc:  # a worker died (killed for memory) or sent junk
                why = f"not parsed: a worker process failed ({type(exc).__name__})"
                unread += [(p, why) for p, _, _, _ in chunk]
    finally:
        pool.terminate()
        pool.join()
    return files


def _worker_init() -> None:
    # Signal handlers inherited through fork (an App's, a test runner's) must not keep a worker
    # alive when the pool stops it (terminate() would then wait forever); Ctrl-C is the
    # parent's to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _both(first: Callable[[], None], then: Callable[[], None]) -> None:
    first()
    then()


# One file to parse: (path, Python source, is a notebook, the context's flags for it).
_Work = tuple[str, str, bool, dict[str, Any]]


@dataclass
class _Gathered:
    """What build_index read before parsing: the files to parse, copies of them, files only
    skimmed, and what it left and why."""

    budget: int  # bytes of distinct text still to parse
    work: list[_Work] = field(default_factory=list)
    shell: dict[str, list[str]] = field(default_factory=dict)
    skipped: int = 0
    unread: list[tuple[str, str]] = field(default_factory=list)
    copies: list[tuple[str, str]] = field(default_factory=list)  # (path, path of its original)
    skimmed: list[PyFile] = field(default_factory=list)
    by_hash: dict[bytes, str] = field(default_factory=dict)

    def claim(self, path: str, text: str) -> bool:
        """Whether to analyse this text: a copy of one already claimed is recorded as such,
        and text past the byte budget is left (and said)."""
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if digest in self.by_hash:
            self.copies.append((path, self.by_hash[digest]))
            return False
        if len(text) > self.budget:
            self.unread.append((path, "not parsed: the run's budget of bytes to parse is spent"))
            return False
        self.budget -= len(text)
        self.by_hash[digest] = path
        return True


def build_index(
    snap: Snapshot,
    analyzers: Sequence[Analyzer] = (),
    flag: Callable[[FileEntry], dict[str, Any]] | None = None,
    deadline: float | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> PyIndex:
    """Parse every Python file and notebook once, running the checks' analyzers on each;
    `meanwhile` runs in this process while worker processes parse (or first, without them).

    Files with the same content (copies, hard links) are parsed once. Parsing stops at
    limits.MAX_PARSE_BYTES of distinct text or at the deadline; what was left is reported.
    """
    g = _gather(snap, flag, deadline)
    files = _parse_all(g.work, analyzers, deadline, g.unread, meanwhile)
    order = {w[0]: i for i, w in enumerate(g.work)}
    files.sort(key=lambda f: order[f.path])  # the walk's order, wherever a file was parsed
    files += g.skimmed
    by_path = {f.path: f for f in files}
    for path, original in g.copies:
        f = by_path.get(original)
        if f is not None:
            files.append(_copy_of(f, path))
    loose, packages = local_module_names(snap)
    return PyIndex(files, g.shell, loose, packages, g.skipped, g.unread)


def _gather(
    snap: Snapshot, flag: Callable[[FileEntry], dict[str, Any]] | None, deadline: float | None
) -> _Gathered:
    """Read the Python files and notebooks in the walk's order, within the file count, the
    deadline and the byte budget; past the full-analysis budget a file is only skimmed."""
    g = _Gathered(budget=limits.MAX_PARSE_BYTES)
    candidates = [f for f in snap.files if _is_python(f) or f.suffix == ".ipynb"]
    # A file reached by a symlink too is analysed under its own name, the link as its copy.
    candidates.sort(key=lambda f: f.alias)
    full = _full_analysis(candidates)
    for entry in candidates:
        if len(g.work) >= MAX_PY_FILES:
            g.skipped += 1
            continue
        if deadline is not None and time.monotonic() > deadline:
            g.unread.append((entry.path, _LATE))
            continue
        text = _source(snap, entry, g.unread)
        if text is None or not g.claim(entry.path, text):
            continue
        if entry.path not in full:
            g.skimmed.append(skim_python(entry.path, text))
            continue
        _gather_one(g, entry, text, flag)
    return g


def _gather_one(
    g: _Gathered, entry: FileEntry, text: str, flag: Callable[[FileEntry], dict[str, Any]] | None
) -> None:
    try:
        _add_work(g, entry, text, flag(entry) if flag else {})
    except Exception as exc:  # by construction: one file is that file's notice
        g.unread.append((entry.path, f"{NOT_READ}: {type(exc).__name__}"))


def _source(snap: Snapshot, entry: FileEntry, unread: list[tuple[str, str]]) -> str | None:
    """The file's text, or None (said in unread) when it is binary or holds a NUL byte."""
    text = snap.read_text(entry.path)
    if text is None:
        if entry.size <= snap.max_text_bytes:  # too large: the snapshot says so itself
            unread.append((entry.path, f"{NOT_READ}: binary content (a NUL byte)"))
        return None
    if "\x00" in text:
        # ast refuses NUL bytes (a ValueError, not a syntax error of the authors).
        unread.append((entry.path, f"{NOT_READ}: a NUL byte in the source"))
        return None
    return text


def _add_work(g: _Gathered, entry: FileEntry, text: str, flags: dict[str, Any]) -> None:
    """A Python file as it is; a notebook as its code cells (its shell lines apart)."""
    if entry.suffix != ".ipynb":
        g.work.append((entry.path, text, False, flags))
        return
    try:
        joined = notebook_source(text)
    except RecursionError:
        g.unread.append((entry.path, f"{NOT_READ}: notebook JSON nested too deeply"))
        return
    if joined is None:
        g.unread.append(
            (entry.path, f"{NOT_READ}: not a notebook (not JSON of a notebook's shape)")
        )
        return
    src, sh = joined
    if sh:
        g.shell[entry.path] = sh
    g.work.append((entry.path, src, True, flags))


def _parse_all(
    work: list[_Work],
    analyzers: Sequence[Analyzer],
    deadline: float | None,
    unread: list[tuple[str, str]],
    meanwhile: Callable[[], None],
) -> list[PyFile]:
    """Parse and analyse every file: the small ones in worker processes while this process
    runs `meanwhile` and then the big ones; or all here, after `meanwhile`."""
    files: list[PyFile] = []

    def one_by_one(items: list[_Work]) -> None:
        for p, t, nb, fl in items:
            if deadline is not None and time.monotonic() > deadline:
                unread.append((p, _LATE))
                continue
            files.append(analyze(p, t, nb, analyzers, fl))

    jobs = _jobs()
    small = [w for w in work if len(w[1]) <= limits.MAX_POOLED_FILE_BYTES]
    if not _workers_pay(work, small, jobs):
        meanwhile()
        one_by_one(work)
        return files
    big = [w for w in work if len(w[1]) > limits.MAX_POOLED_FILE_BYTES]
    files += _analyze_in_pool(
        small,
        analyzers,
        jobs,
        deadline,
        unread,
        meanwhile=lambda: _both(meanwhile, lambda: one_by_one(big)),
    )
    return files


def _workers_pay(work: list[_Work], small: list[_Work], jobs: int) -> bool:
    return (
        jobs > 1
        and len(work) >= PARALLEL_MIN_FILES
        and sum(len(w[1]) for w in small) >= PARALLEL_MIN_BYTES
        and sys.platform != "win32"  # fork: workers inherit the loaded modules
        # ...and every lock as it was: forking a process with other threads (the App's queue
        # worker, a test server) can copy a lock some thread holds, and the child waits on it
        # forever. Such processes parse in this thread instead.
        and threading.active_count() == 1
    )


def _full_analysis(candidates: list[FileEntry]) -> set[str]:
    """Paths analysed in full within limits.FULL_ANALYSIS_BYTES: notebooks always (they are
    demos, and read as their code cells), then the repository's own code before vendored
    copies, shallow before deep, small before large; the rest is skimmed."""
    chosen = {f.path for f in candidates if f.suffix == ".ipynb"}
    left = limits.FULL_ANALYSIS_BYTES
    seen: set[tuple[str, int]] = set()  # copies (same name and size) are parsed once
    for f in sorted(candidates, key=lambda f: (f.vendored, f.path.count("/"), f.size)):
        if f.suffix != ".ipynb" and f.size <= left:
            chosen.add(f.path)
            if (f.name, f.size) not in seen:
                seen.add((f.name, f.size))
                left -= f.size
    return chosen


def _copy_of(f: PyFile, path: str) -> PyFile:
    """The analysis of a file with the same content, under another path."""
    return dataclasses.replace(
        f,
        path=path,
        imports=[dataclasses.replace(r, path=path) for r in f.imports],
        facts=dict(f.facts),
        copy_of=f.path,
    )


def local_module_names(snap: Snapshot) -> tuple[set[str], set[str]]:
    """Names the repository itself provides.

    Returns (loose, strict): loose holds every .py stem and every folder holding Python at any
    depth (research code adds subfolders to sys.path freely); strict holds only real modules
    and packages (X.py, X/__init__.py, extensions), used for well-known third-party names so
    that a folder called `tensorflow/` does not hide the framework. A module inside a package
    (`pkg/utils/torch.py`) is `pkg.utils.torch`: it never shadows `import torch`.
    """
    loose: set[str] = set()
    strict: set[str] = set()
    packages = {f.path.rsplit("/", 1)[0] for f in snap.files if f.name == "__init__.py"}
    for f in snap.files:
        if f.suffix in (".py", ".pyx", ".so", ".pyd"):
            stem = f.name.split(".", 1)[0]
            folder = f.path.rsplit("/", 1)[0] if "/" in f.path else ""
            if stem == "__init__":
                parent = folder.rsplit("/", 1)[0] if "/" in folder else ""
                if len(f.parts) >= 2 and parent not in packages:
                    strict.add(f.parts[-2])
            else:
                loose.add(stem)
                if folder not in packages:
                    strict.add(stem)
            loose.update(f.parts[:-1])
    return loose, strict
