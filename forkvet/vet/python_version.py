"""Check 3: which Python the code was written for (2, 3 or both), the range it runs on, and
the version to build an environment with — each with file:line evidence."""

from __future__ import annotations

import ast
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

import vermin

from forkvet import limits, rx
from forkvet.report import Finding, Framework, PythonInfo
from forkvet.vet.context import Context
from forkvet.vet.pyhistory import (
    NEWEST_RECOMMENDED,
    OLDEST_RECOMMENDED,
    PY2_ONLY_BUILTINS,
    PY2_ONLY_METHODS,
    PY2_ONLY_MODULES,
    REMOVED_APIS,
    REMOVED_MODULES,
    fmt,
    newest_at,
)
from forkvet.vet.pysource import PyFile
from forkvet.vet.textnorm import line_of

CHECK = "python"
MAX_EVIDENCE = 12

_PY2_SYNTAX: tuple[tuple[str, rx.Pattern[str]], ...] = (
    ("print statement", rx.compile(r"^\s*print(?:\s*>>|\s+[^\s(=.,;)\]}+*/%<>&|^-]|\s*$)")),
    ("exec statement", rx.compile(r"^\s*exec\s+[^\s(=]")),
    ("except E, e", rx.compile(r"\bexcept\s+(?:[\w.]+|\([^)]*\))\s*,\s*\w+\s*:")),
    ("raise E, msg", rx.compile(r"^\s*raise\s+[\w.]+\s*,")),
    ("backticks", rx.compile(r"`")),
    ("<> operator", rx.compile(r"<>")),
    # Look-arounds spelled as a neighbour or the line's end (the lines are searched, not split).
    ("octal literal 0777", rx.compile(r"(?:^|[^\w.])0[0-7]+(?:[^\w.]|$)")),
    ("ur'' string", rx.compile(r"(?:^|\W)[uU][rR]\"\"")),
    ("long literal 10L", rx.compile(r"(?:^|[^\w.])\d+[lL](?:\W|$)")),
)
_COMPAT = rx.compile(r"\bsix\b|sys\.version_info|\bPY2\b|\bPY3\b")
# One search per line first (most lines match none): the labels are looked up only on a hit.
_PY2_ANY = rx.compile("|".join(f"(?:{pat.pattern})" for _, pat in _PY2_SYNTAX))
_README_PY = rx.compile(
    r"python\s*(?:version\s*)?(?:==|>=|=|:)?\s*v?([23])(?:\.(\d{1,2}))?(?:\D|$)", rx.I
)


@dataclass
class _Signals:
    py2_syntax: list[str] = field(default_factory=list)
    py2_runtime: list[str] = field(default_factory=list)
    py3_only: list[str] = field(default_factory=list)
    compat: list[str] = field(default_factory=list)
    removed: list[tuple[tuple[int, int], str]] = field(default_factory=list)
    declared: list[tuple[str, str]] = field(default_factory=list)  # (version text, evidence)
    py2_files: set[str] = field(default_factory=set)
    py3_files: set[str] = field(default_factory=set)
    broken: list[tuple[str, int, str]] = field(default_factory=list)  # path, line, why
    min3: tuple[int, int] | None = None
    min_evidence: str = ""
    vermin_files: int = 0  # files vermin read (the rest: forkvet's own syntax pass only)
    vermin_skipped: int = 0

    def needs(self, version: tuple[int, int], evidence: str) -> None:
        if self.min3 is None or version > self.min3:
            self.min3, self.min_evidence = version, evidence

    def merge(self, other: _Signals) -> None:
        for name in ("py2_syntax", "py2_runtime", "py3_only", "compat", "removed"):
            mine = getattr(self, name)
            mine += getattr(other, name)[: max(0, 200 - len(mine))]
        self.py2_files |= other.py2_files
        self.py3_files |= other.py3_files
        if other.min3:
            self.needs(other.min3, other.min_evidence)
        self.vermin_files += other.vermin_files
        self.vermin_skipped += other.vermin_skipped


def _py2_syntax_signs(f: PyFile, sig: _Signals) -> None:
    assert f.code_lines is not None
    found = False
    if f.syntax_error and "inconsistent use of tabs" in f.syntax_error[0]:
        sig.py2_syntax.append(f"{f.path}:{f.syntax_error[1]}: tabs and spaces mixed (Python 2)")
        found = True
    for lineno, line in enumerate(f.code_lines, 1):
        if not _PY2_ANY.search(line):
            continue
        for label, pat in _PY2_SYNTAX:
            if pat.search(line):
                sig.py2_syntax.append(f"{f.path}:{lineno}: {label} (Python 2)")
                found = True
                break
        if found and len(sig.py2_syntax) > 200:
            break
    if found:
        sig.py2_files.add(f.path)
    elif f.syntax_error:
        sig.broken.append((f.path, f.syntax_error[1], f.syntax_error[0]))


_PY3_NODES: dict[type, tuple[str, tuple[int, int]]] = {
    ast.JoinedStr: ("f-string (Python 3.6+)", (3, 6)),
    ast.AsyncFunctionDef: ("async def (Python 3.5+)", (3, 5)),
    ast.Nonlocal: ("nonlocal (Python 3)", (3, 0)),
    ast.YieldFrom: ("yield from (Python 3.3+)", (3, 3)),
    ast.AnnAssign: ("variable annotation (Python 3.6+)", (3, 6)),
    ast.NamedExpr: ("assignment expression := (Python 3.8+)", (3, 8)),
    ast.Match: ("match statement (Python 3.10+)", (3, 10)),
    ast.TryStar: ("except* (Python 3.11+)", (3, 11)),
}


class _Py3Scanner:
    """Python-3-only syntax, Python-2-only runtime names and removed APIs in one parsed file.

    One flat pass over ast.walk with type dispatch: several times faster than a NodeVisitor,
    which matters on 5,000-file repositories.
    """

    def __init__(self, f: PyFile, nodes: list[ast.AST], sig: _Signals) -> None:
        self.f, self.nodes, self.sig = f, nodes, sig
        self.py3_here = False
        self.py2_here = False
        self.assigned: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.future_print = False

    def _py3(self, node: ast.AST, what: str, needs: tuple[int, int] = (3, 0)) -> None:
        self.py3_here = True
        if needs > (3, 0):
            # Syntax decides the minimum in every file, also those vermin does not read.
            self.sig.needs(needs, f"{self.f.path}:{getattr(node, 'lineno', 0)}: {what}")
        if len(self.sig.py3_only) < 50:
            self.sig.py3_only.append(f"{self.f.path}:{getattr(node, 'lineno', 0)}: {what}")

    def _py2(self, node: ast.AST, what: str) -> None:
        self.py2_here = True
        if len(self.sig.py2_runtime) < 50:
            self.sig.py2_runtime.append(f"{self.f.path}:{getattr(node, 'lineno', 0)}: {what}")

    def run(self) -> None:
        self._bindings()
        for node in self.nodes:
            known = _PY3_NODES.get(type(node))
            if known:
                self._py3(node, *known)
                continue
            visit = self._VISIT.get(type(node))
            if visit is not None:
                visit(self, node)
        self._classify_file()

    def _bindings(self) -> None:
        """First pass: the names the file binds (a builtin it shadows is not Python 2's),
        module aliases, and what it imports from __future__ or from removed APIs."""
        for node in self.nodes:
            t = type(node)
            if t is ast.Name and isinstance(node.ctx, ast.Store):  # type: ignore[attr-defined]
                self.assigned.add(node.id)  # type: ignore[attr-defined]
            elif t is ast.FunctionDef or t is ast.ClassDef:
                self.assigned.add(node.name)  # type: ignore[attr-defined]
            elif t is ast.arg:
                self.assigned.add(node.arg)  # type: ignore[attr-defined]  # def f(reduce=None)
            elif t is ast.alias:
                self.assigned.add((node.asname or node.name).split(".")[0])  # type: ignore[attr-defined]
            elif t is ast.Import:
                for a in node.names:  # type: ignore[attr-defined]
                    self.aliases[a.asname or a.name] = a.name
            elif t is ast.ImportFrom:
                assert isinstance(node, ast.ImportFrom)
                self._import_from(node)

    def _import_from(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            self.future_print |= any(a.name == "print_function" for a in node.names)
            self.sig.compat.append(f"{self.f.path}:{node.lineno}{_FUTURE_SIGN}")
        for a in node.names:
            removed = REMOVED_APIS.get(f"{node.module}.{a.name}")
            if removed:
                self.sig.removed.append(
                    (
                        removed,
                        f"{self.f.path}:{node.lineno}: from {node.module} import {a.name} "
                        f"(removed in Python {fmt(removed)})",
                    )
                )

    def _function(self, node: ast.FunctionDef) -> None:
        args = node.args
        if args.posonlyargs:
            self._py3(node, "positional-only parameters (Python 3.8+)", (3, 8))
        elif node.returns is not None or any(
            a.annotation is not None for a in args.args + args.kwonlyargs + args.posonlyargs
        ):
            self._py3(node, "function annotations (Python 3)")
        elif args.kwonlyargs:
            self._py3(node, "keyword-only arguments (Python 3)")

    def _binop(self, node: ast.BinOp) -> None:
        # `print >>f, x` parses in Python 3 as a shift: it is Python 2's print statement.
        if (
            isinstance(node.op, ast.RShift)
            and isinstance(node.left, ast.Name)
            and node.left.id == "print"
        ):
            self._py2(node, "print statement (Python 2)")
        elif isinstance(node.op, ast.MatMult):
            self._py3(node, "@ operator (Python 3.5+)", (3, 5))

    def _raise(self, node: ast.Raise) -> None:
        if node.cause is not None:
            self._py3(node, "raise ... from (Python 3)")

    def _name(self, node: ast.Name) -> None:
        if (
            isinstance(node.ctx, ast.Load)
            and node.id in PY2_ONLY_BUILTINS
            and node.id not in self.assigned
        ):
            self._py2(node, f"{node.id} (Python 2 builtin)")

    def _attribute(self, node: ast.Attribute) -> None:
        if not isinstance(node.value, ast.Name):
            return
        mod = self.aliases.get(node.value.id, node.value.id)
        removed = REMOVED_APIS.get(f"{mod}.{node.attr}")
        if removed:
            self.sig.removed.append(
                (
                    removed,
                    f"{self.f.path}:{node.lineno}: {mod}.{node.attr} (removed in Python "
                    f"{fmt(removed)})",
                )
            )

    def _classify_file(self) -> None:
        # Code that checks the version (six, sys.version_info) is written for both majors.
        if self.py2_here and not self.py3_here:
            if not _COMPAT.search(self.f.text):  # searched only here: a scan of the whole text
                self.sig.py2_files.add(self.f.path)
        elif self.py3_here:
            self.sig.py3_files.add(self.f.path)

    def _call(self, node: ast.Call) -> None:
        fn = node.func
        if isinstance(fn, ast.Name):
            if (
                fn.id == "print"
                and not self.future_print
                and (
                    any(k.arg in ("end", "sep", "file", "flush", None) for k in node.keywords)
                    or any(isinstance(a, ast.Starred) for a in node.args)
                )
            ):
                # print(x, *args) / print(**kw) is a syntax error in Python 2's print statement.
                self._py3(node, "print(..., end=/file=/*args) without __future__ (Python 3)")
            elif fn.id == "super" and not node.args:
                self._py3(node, "super() without arguments (Python 3)")
        elif isinstance(fn, ast.Attribute) and fn.attr in PY2_ONLY_METHODS:
            base = fn.value
            if not (isinstance(base, ast.Name) and base.id in ("six", "future", "np", "numpy")):
                self._py2(node, f".{fn.attr}() (Python 2 dict method)")

    # The second pass's handler for each node type (one dict lookup per node).
    _VISIT: ClassVar[dict[type, Callable[[_Py3Scanner, Any], None]]] = {
        ast.FunctionDef: _function,
        ast.BinOp: _binop,
        ast.Raise: _raise,
        ast.Call: _call,
        ast.Name: _name,
        ast.Attribute: _attribute,
    }


def too_costly(f: PyFile) -> bool:
    """vermin and pyflakes are superlinear: only code up to a size, within their time budget."""
    if len(f.text) > limits.SLOW_ANALYZER_MAX_BYTES or time.monotonic() > f.facts.get(
        "slow_deadline", float("inf")
    ):
        f.facts["limited"] = True
        return True
    return False


def analyze_file(f: PyFile, tree: ast.Module, nodes: list[ast.AST]) -> None:
    """Per-file analyzer (runs while the AST exists; see pysource.build_index)."""
    sig = _Signals()
    _Py3Scanner(f, nodes, sig).run()
    if f.facts.get("vermin") and not too_costly(f):
        sig.vermin_files = 1
        found = _vermin_file(f, tree)
        if found:
            sig.needs(found, f"{f.path}: needs Python {fmt(found)}+ (vermin)")
    else:
        sig.vermin_skipped = 1
    f.facts["python"] = sig


def _import_signals(f: PyFile, sig: _Signals) -> None:
    for ref in f.imports:
        top = ref.top
        if top in PY2_ONLY_MODULES and not ref.optional:
            sig.py2_runtime.append(f"{ref.path}:{ref.line}: import {top} (Python 2 module)")
            if f.parsed and f.path not in sig.py3_files:
                sig.py2_files.add(f.path)
        removed = REMOVED_MODULES.get(top)
        if removed and not ref.optional:
            sig.removed.append(
                (removed, f"{ref.path}:{ref.line}: import {top} (removed in Python {fmt(removed)})")
            )
        api = REMOVED_APIS.get(ref.module)
        if api:
            sig.removed.append(
                (api, f"{ref.path}:{ref.line}: {ref.module} (removed in Python {fmt(api)})")
            )
        if top in ("six", "future", "past"):
            sig.compat.append(f"{ref.path}:{ref.line}: import {top} (2/3 compatibility)")


def _vermin_file(f: PyFile, tree: ast.Module) -> tuple[int, int] | None:
    try:
        visitor = vermin.SourceVisitor(config=_VERMIN_CONFIG, path=f.path, source=f.text)
        visitor.set_no_lines(set())
        visitor.tour(tree)
        mins = visitor.minimum_versions()
    except vermin.InvalidVersionException:
        # vermin gives up on code mixing 2-only and 3-only APIs; the file still counts.
        return None
    except (Exception, RecursionError, MemoryError) as exc:
        f.failure = f"partly analysed (vermin failed: {type(exc).__name__})"
        return None
    v3 = mins[1] if len(mins) > 1 else None
    return (v3[0], v3[1]) if isinstance(v3, tuple) else None


_VERMIN_CONFIG = vermin.Config()


_DECLARED_SOURCES = (
    ".python-version",
    "runtime.txt",
    ".travis.yml",
    "tox.ini",
    "Dockerfile",
    "environment.yml",
    "environment.yaml",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
)
_VERSION_IN_FILE = rx.compile(
    r"(?:python[_-]?version[\"']?\s*[:=]\s*\[?|python\s*[=:]+\s*|FROM\s+python:|"
    r"python-|\bpy|Programming Language :: Python :: |python_requires\s*=\s*[\"'][>=~^]*|"
    r"requires-python\s*=\s*[\"'][>=~^]*|conda create[^\n]*python=)"
    r"[\"']?(2\.7|3\.\d{1,2}|2|3)(?:\D|$)",
    rx.I,
)
_TOX_ENV = rx.compile(r"\bpy(2\d|3\d{1,2})\b")


_UNIVERSAL = rx.compile(r"(?m)^\s*['\"]?universal['\"]?\s*[=:]\s*['\"]?(?:1|true)\b", rx.I)


def _declared(ctx: Context, sig: _Signals) -> None:
    for f in ctx.snap.files:
        if len(f.parts) > 3:
            continue
        is_ci = f.path.startswith(".github/workflows/") or f.name in _DECLARED_SOURCES
        if not is_ci:
            continue
        text = ctx.snap.read_text(f.path) or ""
        lines = line_of(text)
        # The character after the version is matched (no look-ahead in RE2): resume there.
        for m in _VERSION_IN_FILE.resuming(text, lambda m: m.end(1)):
            line = lines(m.start())
            sig.declared.append((m.group(1), f"{f.path}:{line}"))
        if f.name == "tox.ini":
            for m in _TOX_ENV.finditer(text):
                v = m.group(1)
                sig.declared.append((f"{v[0]}.{v[1:]}", f"{f.path}"))
    for name in ("setup.cfg", "setup.py"):
        # A universal wheel ([bdist_wheel] universal=1) is built for both majors.
        if ctx.snap.get(name) and _UNIVERSAL.search(ctx.snap.read_text(name) or ""):
            sig.compat.append(f"{name}: universal wheel (Python 2 and 3)")
    if ctx.snap.readme:
        _readme_declared(ctx.readme, ctx.snap.readme.path, sig)


# "Python 2.7 gives error messages", "Python 2 is no longer supported": a version named to
# warn against it is not one the code is written for.
_WARNS_OFF = rx.compile(
    r"(?i)\berrors?\b|\bnot\s+(?:be\s+)?(?:supported|work\w*|compatible|tested)|"
    r"n[o']t\s+(?:work|support)|\bno\s+longer\b|\bdrop(?:ped|s)?\b|\bdeprecated\b|"
    r"\bunsupported\b|\bincompatible\b|\bbroken\b|\bfails?\b"
)
# "Python 2.7.6+, 3.4.3+, 3.5.1+", "Python 3.6 / 3.7 or 2.7": the versions listed after one.
_MORE_VERSIONS = rx.compile(r"^[.\d]*\+?\s*(?:,|/|\bor\b|\band\b)\s*v?([23])\.(\d{1,2})")


def _readme_declared(readme: str, path: str, sig: _Signals) -> None:
    readme_lines = line_of(readme)
    for m in _README_PY.resuming(readme, lambda m: m.end(2) if m.group(2) else m.end(1)):
        if _WARNS_OFF.search(_sentence_around(readme, m.start(), m.end())):
            continue
        line = readme_lines(m.start())
        versions = [m.group(1) + (f".{m.group(2)}" if m.group(2) else "")]
        at = m.end(2) if m.group(2) else m.end(1)
        for _ in range(6):
            more = _MORE_VERSIONS.search(readme[at : at + 40])
            if more is None:
                break
            versions.append(f"{more.group(1)}.{more.group(2)}")
            at += more.end()
        sig.declared += [(version, f"{path}:{line}") for version in versions]


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (within its line, at most 200 characters each side) around a match."""
    left = max(
        text.rfind("\n", max(0, start - 200), start), text.rfind(". ", max(0, start - 200), start)
    )
    right_nl = text.find("\n", end, end + 200)
    right_dot = text.find(". ", end, end + 200)
    ends = [i for i in (right_nl, right_dot) if i >= 0]
    return text[left + 1 : min(ends) if ends else end + 200]


def _parse_v(text: str) -> tuple[int, int] | None:
    parts = text.split(".")
    try:
        return (int(parts[0]), int(parts[1]) if len(parts) > 1 else (7 if parts[0] == "2" else 0))
    except ValueError:
        return None


def _code_date(ctx: Context) -> date | None:
    raw = ctx.snap.git.code_date or ctx.snap.git.commit_date
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).date()
    except ValueError:
        return None


@dataclass
class _Range:
    """The Python 3 range the code runs on and the version to build an environment with."""

    min_version: tuple[int, int] | None
    max_version: tuple[int, int] | None
    recommended: tuple[int, int] | None


_PY2_RANGE = _Range((2, 7), (2, 7), (2, 7))


def check(
    ctx: Context, frameworks: list[Framework] | None = None
) -> tuple[PythonInfo, list[Finding]]:
    """Collect the files' signals → decide the majors → the version range → explain."""
    files = ctx.py.files
    if not files:
        return PythonInfo(), []
    sig = _collect(ctx, files)
    majors, findings = _majors(sig, files)
    evidence = _major_evidence(sig, majors)
    if majors == [2]:
        versions = _PY2_RANGE
    else:
        versions = _py3_range(ctx, sig, frameworks or [], evidence)
        findings += _no_fit(versions)
    if majors == [2]:
        # Python 3's parser cannot judge Python 2 code (tuple parameters `def f(x, (h, w))`,
        # `print >>f`...): a file it rejects there is no "Syntax error" to report.
        findings.append(_py2_notice(sig))
    else:
        findings += _syntax_errors(sig)
    info = PythonInfo(
        majors=majors,
        recommended=fmt(versions.recommended) if versions.recommended else None,
        min_version=fmt(versions.min_version) if versions.min_version else None,
        max_version=fmt(versions.max_version) if versions.max_version else None,
        evidence=_dedupe(evidence)[:MAX_EVIDENCE],
    )
    return info, findings


def _collect(ctx: Context, files: list[PyFile]) -> _Signals:
    """Every file's signals (from its analyzer, or a syntax pass where ast could not parse it),
    its imports, and the versions the repository declares."""
    sig = _Signals()
    for f in files:
        if f.facts.get("skimmed"):
            pass  # past the analysis budget: its imports only (below)
        elif not f.parsed:
            _py2_syntax_signs(f, sig)
        elif isinstance(f.facts.get("python"), _Signals):
            sig.merge(f.facts["python"])
        _import_signals(f, sig)
    _declared(ctx, sig)
    return sig


def _file_weights(sig: _Signals, files: list[PyFile]) -> tuple[int, int]:
    """(Python 2 files, Python 3 files)."""
    py2_weight = len(sig.py2_files)
    py3_weight = len(sig.py3_files)
    if (
        sig.compat
        and not py2_weight
        and all(p.endswith(".ipynb") for p in sig.py3_files)
        and any(not f.is_notebook for f in files)
    ):
        # 2/3-neutral code (__future__ imports, six) with a Python 3 Colab notebook beside it:
        # the code is what you install; the notebook does not narrow it to Python 3.
        py3_weight = 0
    return py2_weight, py3_weight


def _majors(sig: _Signals, files: list[PyFile]) -> tuple[list[int], list[Finding]]:
    """The majors the code is written for: its files' syntax first, then what it declares."""
    py2_weight, py3_weight = _file_weights(sig, files)
    declared_majors = Counter(v.split(".")[0] for v, _ in sig.declared)
    if py2_weight and py3_weight:
        # Mixed repository: the majority decides; the rest is reported.
        majors = [2] if py2_weight > py3_weight else [3]
        minority = "Python 2" if majors == [3] else "Python 3"
        mixed = Finding(
            CHECK,
            "warning",
            "Mixed Python 2 and 3 code",
            f"{py2_weight} file(s) are Python 2 and {py3_weight} Python 3; the {minority} "
            f"files will need porting or a separate environment.",
        )
        return majors, [mixed]
    if py2_weight and _stale_py2(py2_weight, declared_majors, files):
        # The authors state both majors and a few files (a stale utility) are Python 2 only.
        stale = Finding(
            CHECK,
            "notice",
            "Python 2 only files",
            f"{py2_weight} of {len(files)} Python file(s) use Python 2 only syntax "
            f"({', '.join(sorted(sig.py2_files)[:3])}); the README states Python 2 and 3.",
        )
        return [2, 3], [stale]
    if py2_weight:
        return [2], []
    if py3_weight:
        return [3], []
    if _future_habit(sig) and declared_majors["3"] and not declared_majors["2"]:
        # `from __future__ import print_function` alone, in code whose authors state Python 3
        # only ("Python >= 3.6"): a habit, not a promise to run on Python 2 (no six, no
        # version checks, no universal wheel).
        return [3], []
    if sig.compat or (declared_majors["2"] and declared_majors["3"]):
        return [2, 3], []
    if declared_majors["2"] and not declared_majors["3"]:
        return [2], []
    return [3], []


def _stale_py2(py2_weight: int, declared: Counter[str], files: list[PyFile]) -> bool:
    """Python 2 syntax in at most a tenth of the files of code whose README states both majors."""
    return bool(declared["2"] and declared["3"]) and py2_weight * 10 <= len(files)


def _future_habit(sig: _Signals) -> bool:
    """Whether the only 2/3 signs are `from __future__` imports."""
    return bool(sig.compat) and all(c.endswith(_FUTURE_SIGN) for c in sig.compat)


_FUTURE_SIGN = ": from __future__ import"


def _major_evidence(sig: _Signals, majors: list[int]) -> list[str]:
    evidence: list[str] = []
    if 2 in majors:
        evidence += sig.py2_syntax[:6] + sig.py2_runtime[:4]
    if 3 in majors:
        evidence += sig.py3_only[:6]
    evidence += sig.compat[:2] if majors == [2, 3] else []
    return evidence


def _py3_range(
    ctx: Context, sig: _Signals, frameworks: list[Framework], evidence: list[str]
) -> _Range:
    """Minimum from syntax and vermin, maximum from removed APIs; the recommendation is the
    newest Python of the code's time, capped by its frameworks' wheels and its own word."""
    min_version = sig.min3 or (3, 0)
    if sig.min3 and sig.min3 > (3, 0):
        evidence.append(sig.min_evidence)
    if sig.vermin_skipped:
        evidence.append(
            f"vermin read {sig.vermin_files} of {sig.vermin_files + sig.vermin_skipped} "
            f"Python files (its time budget); syntax was checked in all"
        )
    max_version = _removal_bound(sig, evidence)
    cap = _date_cap(ctx, evidence)
    cap = _framework_cap(cap, frameworks, evidence)
    cap = _declared_cap(cap, sig, min_version, evidence)
    recommended = _recommend(cap, min_version, max_version, evidence)
    return _Range(min_version, max_version, recommended)


def _removal_bound(sig: _Signals, evidence: list[str]) -> tuple[int, int] | None:
    """The newest Python that still has every removed API the code uses."""
    if not sig.removed:
        return None
    removed_in, where = min(sig.removed)
    evidence.append(where)
    return (removed_in[0], removed_in[1] - 1)


def _date_cap(ctx: Context, evidence: list[str]) -> tuple[int, int]:
    when = _code_date(ctx)
    if not when:
        return NEWEST_RECOMMENDED
    cap = newest_at(when)
    evidence.append(f"code last changed {when.isoformat()}: Python {fmt(cap)} was current then")
    return cap


def _framework_cap(
    cap: tuple[int, int], frameworks: list[Framework], evidence: list[str]
) -> tuple[int, int]:
    for fw in frameworks:
        fw_cap = _parse_v(fw.python_max) if fw.python_max else None
        if fw_cap and fw_cap < cap:
            cap = fw_cap
            evidence.append(f"{fw.name} {fw.version_spec}: wheels up to Python {fw.python_max}")
    return cap


def _declared_cap(
    cap: tuple[int, int], sig: _Signals, min_version: tuple[int, int], evidence: list[str]
) -> tuple[int, int]:
    declared3 = sorted(
        {v for v, _ in sig.declared if v.startswith("3.") and _parse_v(v)},
        key=lambda v: _parse_v(v) or (0, 0),
    )
    if not declared3:
        return cap
    # The authors' own word beats the date heuristic, within the removal bound.
    top = _parse_v(declared3[-1])
    assert top is not None
    where = next(e for v, e in sig.declared if v == declared3[-1])
    evidence.append(f"{where}: Python {declared3[-1]} declared")
    return top if top >= min_version else cap


def _recommend(
    cap: tuple[int, int],
    min_version: tuple[int, int],
    max_version: tuple[int, int] | None,
    evidence: list[str],
) -> tuple[int, int]:
    if max_version and cap > max_version:
        cap = max_version
    recommended = max(cap, min_version)
    if recommended < OLDEST_RECOMMENDED and not (max_version and max_version < OLDEST_RECOMMENDED):
        # "3.3 declared": no installer offers it any more; the oldest that one does.
        evidence.append(
            f"Python {fmt(recommended)} is no longer installable (uv, conda): "
            f"{fmt(OLDEST_RECOMMENDED)} instead"
        )
        recommended = OLDEST_RECOMMENDED
    return recommended


def _no_fit(versions: _Range) -> list[Finding]:
    low, high = versions.min_version, versions.max_version
    if not (high and low and high < low):
        return []
    return [
        Finding(
            CHECK,
            "warning",
            "No Python version fits",
            f"The code needs Python {fmt(low)}+ but uses APIs removed in "
            f"{fmt((high[0], high[1] + 1))}.",
        )
    ]


def _syntax_errors(sig: _Signals) -> list[Finding]:
    findings = []
    for path, line, msg in sig.broken[:5]:
        findings.append(
            Finding(
                CHECK,
                "warning",
                "Syntax error",
                f"{path} does not parse: {msg}",
                path=path,
                line=line or None,
            )
        )
    return findings


def _py2_notice(sig: _Signals) -> Finding:
    return Finding(
        CHECK,
        "notice",
        "Python 2 code",
        "This code is Python 2: it needs a Python 2.7 environment (conda) or porting "
        "(e.g. `python -m lib2to3`/`2to3` on a Python <= 3.12).",
        path=sig.py2_syntax[0].split(":")[0] if sig.py2_syntax else None,
    )


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
