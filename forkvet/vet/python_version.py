"""Check 3: which Python the code was written for (2, 3 or both), the range it runs on, and
the version to build an environment with — each with file:line evidence."""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import vermin

from forkvet.report import Finding, Framework, PythonInfo
from forkvet.vet.context import Context
from forkvet.vet.pyhistory import (
    NEWEST_RECOMMENDED,
    PY2_ONLY_BUILTINS,
    PY2_ONLY_METHODS,
    PY2_ONLY_MODULES,
    REMOVED_APIS,
    REMOVED_MODULES,
    fmt,
    newest_at,
)
from forkvet.vet.pysource import PyFile

CHECK = "python"
MAX_EVIDENCE = 12
VERMIN_MAX_FILES = 400  # vermin is the slow part; the largest files decide the minimum

_PY2_SYNTAX: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("print statement", re.compile(r"^\s*print(?:\s*>>|\s+[^\s(=.,;)\]}+*/%<>&|^-]|\s*$)")),
    ("exec statement", re.compile(r"^\s*exec\s+[^\s(=]")),
    ("except E, e", re.compile(r"\bexcept\s+(?:[\w.]+|\([^)]*\))\s*,\s*\w+\s*:")),
    ("raise E, msg", re.compile(r"^\s*raise\s+[\w.]+\s*,")),
    ("backticks", re.compile(r"`")),
    ("<> operator", re.compile(r"<>")),
    ("octal literal 0777", re.compile(r"(?<![\w.])0[0-7]+(?![\w.])")),
    ("ur'' string", re.compile(r"(?<![\w])[uU][rR]\"\"")),
    ("long literal 10L", re.compile(r"(?<![\w.])\d+[lL](?!\w)")),
)
_README_PY = re.compile(
    r"python\s*(?:version\s*)?(?:==|>=|=|:)?\s*v?([23])(?:\.(\d{1,2}))?(?!\d)", re.I
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
    broken: list[str] = field(default_factory=list)
    min3: tuple[int, int] | None = None
    min_evidence: str = ""


def _py2_syntax_signs(f: PyFile, sig: _Signals) -> None:
    assert f.code_lines is not None
    found = False
    if f.syntax_error and "inconsistent use of tabs" in f.syntax_error[0]:
        sig.py2_syntax.append(f"{f.path}:{f.syntax_error[1]}: tabs and spaces mixed (Python 2)")
        found = True
    for lineno, line in enumerate(f.code_lines, 1):
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
        sig.broken.append(f"{f.path}:{f.syntax_error[1]}: {f.syntax_error[0]}")


class _Py3Visitor(ast.NodeVisitor):
    """Python-3-only syntax, Python-2-only runtime names, and removed APIs in a parsed file."""

    def __init__(self, f: PyFile, sig: _Signals) -> None:
        self.f, self.sig = f, sig
        self.assigned: set[str] = set()
        self.future_print = False
        self.py3_here = False
        self.py2_here = False
        self.aliases: dict[str, str] = {}

    def _py3(self, node: ast.AST, what: str) -> None:
        self.py3_here = True
        if len(self.sig.py3_only) < 200:
            self.sig.py3_only.append(f"{self.f.path}:{getattr(node, 'lineno', 0)}: {what}")

    def _py2(self, node: ast.AST, what: str) -> None:
        self.py2_here = True
        if len(self.sig.py2_runtime) < 200:
            self.sig.py2_runtime.append(f"{self.f.path}:{getattr(node, 'lineno', 0)}: {what}")

    def run(self) -> None:
        assert self.f.tree is not None
        for node in ast.walk(self.f.tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.assigned.add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                self.assigned.add(node.name)
            elif isinstance(node, ast.alias):
                self.assigned.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
                if any(a.name == "print_function" for a in node.names):
                    self.future_print = True
                self.sig.compat.append(f"{self.f.path}:{node.lineno}: from __future__ import")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name] = a.name
        self.visit(self.f.tree)
        # Code that checks the version (six, sys.version_info) is written for both majors.
        compat = re.search(r"\bsix\b|sys\.version_info|\bPY2\b|\bPY3\b", self.f.text)
        if self.py2_here and not self.py3_here and not compat:
            self.sig.py2_files.add(self.f.path)
        elif self.py3_here:
            self.sig.py3_files.add(self.f.path)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            removed = REMOVED_APIS.get(f"{node.module}.{alias.name}")
            if removed:
                self.sig.removed.append(
                    (
                        removed,
                        f"{self.f.path}:{node.lineno}: from "
                        f"{node.module} import {alias.name} (removed in Python "
                        f"{fmt(removed)})",
                    )
                )

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # `print >>f, x` parses in Python 3 as a shift: it is Python 2's print statement.
        if (
            isinstance(node.op, ast.RShift)
            and isinstance(node.left, ast.Name)
            and node.left.id == "print"
        ):
            self._py2(node, "print statement (Python 2)")
        if isinstance(node.op, ast.MatMult):
            self._py3(node, "@ operator (Python 3.5+)")
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._py3(node, "f-string (Python 3.6+)")

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._py3(node, "async def (Python 3.5+)")
        self.generic_visit(node)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._py3(node, "nonlocal (Python 3)")

    def visit_YieldFrom(self, node: ast.YieldFrom) -> None:
        self._py3(node, "yield from (Python 3.3+)")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._py3(node, "variable annotation (Python 3.6+)")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        args = node.args
        if node.returns is not None or any(
            a.annotation is not None for a in args.args + args.kwonlyargs + args.posonlyargs
        ):
            self._py3(node, "function annotations (Python 3)")
        elif args.kwonlyargs:
            self._py3(node, "keyword-only arguments (Python 3)")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.cause is not None:
            self._py3(node, "raise ... from (Python 3)")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        fn = node.func
        if (
            isinstance(fn, ast.Name)
            and fn.id == "print"
            and not self.future_print
            and any(k.arg in ("end", "sep", "file", "flush") for k in node.keywords)
        ):
            self._py3(node, "print(..., end=/file=) without __future__ (Python 3)")
        if isinstance(fn, ast.Name) and fn.id == "super" and not node.args:
            self._py3(node, "super() without arguments (Python 3)")
        if isinstance(fn, ast.Attribute) and fn.attr in PY2_ONLY_METHODS:
            base = fn.value
            if not (isinstance(base, ast.Name) and base.id in ("six", "future", "np", "numpy")):
                self._py2(node, f".{fn.attr}() (Python 2 dict method)")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if (
            isinstance(node.ctx, ast.Load)
            and node.id in PY2_ONLY_BUILTINS
            and node.id not in self.assigned
        ):
            self._py2(node, f"{node.id} (Python 2 builtin)")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            mod = self.aliases.get(node.value.id, node.value.id)
            removed = REMOVED_APIS.get(f"{mod}.{node.attr}")
            if removed:
                self.sig.removed.append(
                    (
                        removed,
                        f"{self.f.path}:{node.lineno}: {mod}.{node.attr}"
                        f" (removed in Python {fmt(removed)})",
                    )
                )
        self.generic_visit(node)


def _import_signals(f: PyFile, sig: _Signals) -> None:
    for ref in f.imports:
        top = ref.top
        if top in PY2_ONLY_MODULES and not ref.optional:
            sig.py2_runtime.append(f"{ref.path}:{ref.line}: import {top} (Python 2 module)")
            if f.tree is not None and f.path not in sig.py3_files:
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


def _vermin_minimum(files: list[PyFile], sig: _Signals) -> None:
    config = vermin.Config()
    best: tuple[int, int] | None = None
    where = ""
    parsed = sorted(
        (f for f in files if f.tree is not None and not f.is_notebook), key=lambda f: -len(f.text)
    )[:VERMIN_MAX_FILES]
    for f in parsed:
        try:
            visitor = vermin.SourceVisitor(config=config, path=f.path, source=f.text)
            visitor.set_no_lines(set())
            visitor.tour(f.tree)
            mins = visitor.minimum_versions()
        except (Exception, vermin.InvalidVersionException):
            # vermin gives up on code mixing 2-only and 3-only APIs; the file still counts.
            continue
        v3 = mins[1] if len(mins) > 1 else None
        if v3 and isinstance(v3, tuple) and (best is None or v3 > best):
            best, where = (v3[0], v3[1]), f.path
    sig.min3 = best
    sig.min_evidence = where


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
_VERSION_IN_FILE = re.compile(
    r"(?:python[_-]?version[\"']?\s*[:=]\s*\[?|python\s*[=:]+\s*|FROM\s+python:|"
    r"python-|\bpy|Programming Language :: Python :: |python_requires\s*=\s*[\"'][>=~^]*|"
    r"requires-python\s*=\s*[\"'][>=~^]*|conda create[^\n]*python=)"
    r"[\"']?(2\.7|3\.\d{1,2}|2|3)(?![\d])",
    re.I,
)
_TOX_ENV = re.compile(r"\bpy(2\d|3\d{1,2})\b")


def _declared(ctx: Context, sig: _Signals) -> None:
    for f in ctx.snap.files:
        if len(f.parts) > 3:
            continue
        is_ci = f.path.startswith(".github/workflows/") or f.name in _DECLARED_SOURCES
        if not is_ci:
            continue
        text = ctx.snap.read_text(f.path) or ""
        for m in _VERSION_IN_FILE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            sig.declared.append((m.group(1), f"{f.path}:{line}"))
        if f.name == "tox.ini":
            for m in _TOX_ENV.finditer(text):
                v = m.group(1)
                sig.declared.append((f"{v[0]}.{v[1:]}", f"{f.path}"))
    if ctx.snap.readme:
        for m in _README_PY.finditer(ctx.readme):
            line = ctx.readme.count("\n", 0, m.start()) + 1
            version = m.group(1) + (f".{m.group(2)}" if m.group(2) else "")
            sig.declared.append((version, f"{ctx.snap.readme.path}:{line}"))


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


def check(
    ctx: Context, frameworks: list[Framework] | None = None
) -> tuple[PythonInfo, list[Finding]]:
    sig = _Signals()
    files = ctx.py.files
    if not files:
        return PythonInfo(), []
    for f in files:
        if f.tree is None:
            _py2_syntax_signs(f, sig)
        else:
            _Py3Visitor(f, sig).run()
        _import_signals(f, sig)
    _declared(ctx, sig)
    _vermin_minimum(files, sig)

    declared_majors = Counter(v.split(".")[0] for v, _ in sig.declared)
    py2_weight = len(sig.py2_files)
    py3_weight = len(sig.py3_files)
    findings: list[Finding] = []
    if py2_weight and py3_weight:
        # Mixed repository: the majority decides; the rest is reported.
        majors = [2] if py2_weight > py3_weight else [3]
        minority = "Python 2" if majors == [3] else "Python 3"
        findings.append(
            Finding(
                CHECK,
                "warning",
                "Mixed Python 2 and 3 code",
                f"{py2_weight} file(s) are Python 2 and {py3_weight} Python 3; the {minority} "
                f"files will need porting or a separate environment.",
            )
        )
    elif py2_weight:
        majors = [2]
    elif py3_weight:
        majors = [3]
    elif sig.compat or (declared_majors["2"] and declared_majors["3"]):
        majors = [2, 3]
    elif declared_majors["2"] and not declared_majors["3"]:
        majors = [2]
    else:
        majors = [3]

    evidence: list[str] = []
    if 2 in majors:
        evidence += sig.py2_syntax[:6] + sig.py2_runtime[:4]
    if 3 in majors:
        evidence += sig.py3_only[:6]
    evidence += sig.compat[:2] if majors == [2, 3] else []

    min_version: tuple[int, int] | None
    max_version: tuple[int, int] | None = None
    if majors == [2]:
        min_version, max_version = (2, 7), (2, 7)
        recommended: tuple[int, int] | None = (2, 7)
    else:
        min_version = sig.min3 or (3, 0)
        if sig.min3 and sig.min3 > (3, 0):
            evidence.append(f"{sig.min_evidence}: needs Python {fmt(sig.min3)}+ (vermin)")
        if sig.removed:
            removed_in, where = min(sig.removed)
            max_version = (removed_in[0], removed_in[1] - 1)
            evidence.append(where)
        cap = NEWEST_RECOMMENDED
        when = _code_date(ctx)
        if when:
            cap = newest_at(when)
            evidence.append(
                f"code last changed {when.isoformat()}: Python {fmt(cap)} was current then"
            )
        for fw in frameworks or []:
            fw_cap = _parse_v(fw.python_max) if fw.python_max else None
            if fw_cap and fw_cap < cap:
                cap = fw_cap
                evidence.append(f"{fw.name} {fw.version_spec}: wheels up to Python {fw.python_max}")
        declared3 = sorted(
            {v for v, _ in sig.declared if v.startswith("3.") and _parse_v(v)},
            key=lambda v: _parse_v(v) or (0, 0),
        )
        if declared3:
            # The authors' own word beats the date heuristic, within the removal bound.
            top = _parse_v(declared3[-1])
            assert top is not None
            cap = top if top >= min_version else cap
            where = next(e for v, e in sig.declared if v == declared3[-1])
            evidence.append(f"{where}: Python {declared3[-1]} declared")
        if max_version and cap > max_version:
            cap = max_version
        recommended = max(cap, min_version) if min_version else cap
        if max_version and min_version and max_version < min_version:
            findings.append(
                Finding(
                    CHECK,
                    "warning",
                    "No Python version fits",
                    f"The code needs Python {fmt(min_version)}+ but uses APIs removed in "
                    f"{fmt((max_version[0], max_version[1] + 1))}.",
                )
            )
    for item in sig.broken[:5]:
        path, line, msg = ([*item.split(":", 2), "", ""])[:3]
        findings.append(
            Finding(
                CHECK,
                "warning",
                "Syntax error",
                f"{path} does not parse:{msg}",
                path=path,
                line=int(line) if line.isdigit() else None,
            )
        )
    if majors == [2]:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "Python 2 code",
                "This code is Python 2: it needs a Python 2.7 environment (conda) or porting "
                "(e.g. `python -m lib2to3`/`2to3` on a Python <= 3.12).",
                path=sig.py2_syntax[0].split(":")[0] if sig.py2_syntax else None,
            )
        )
    info = PythonInfo(
        majors=majors,
        recommended=fmt(recommended) if recommended else None,
        min_version=fmt(min_version) if min_version else None,
        max_version=fmt(max_version) if max_version else None,
        evidence=_dedupe(evidence)[:MAX_EVIDENCE],
    )
    return info, findings


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]
