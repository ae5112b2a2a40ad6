"""The code's API as evidence of the versions it ran on: `scipy.misc.imread` means SciPy < 1.3,
iterating `tf.app.flags.FLAGS` means TensorFlow >= 1.5. The facts are data
(forkvet/data/api_evidence.json, each with its source); this module finds their uses in the
code, statically (ast for Python 3 files, a skim of import lines and dotted names for the rest),
and narrows the pins. A version the authors state that the API rules out is said, with the
file:line and the API, not silently kept or dropped."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from packaging.specifiers import InvalidSpecifier
from packaging.version import InvalidVersion, Version

from forkvet import rx, safeparse
from forkvet.envgen.names import Need, NeedSet
from forkvet.envgen.resolve import FRAMEWORK_DISTS
from forkvet.escape import terminal
from forkvet.report import Framework
from forkvet.vet.frameworks import python_max
from forkvet.vet.pysource import all_nodes, blank_strings_and_comments, parse_python

USES = ("name", "call", "keyword", "iterate")


@dataclass(frozen=True)
class Fact:
    dist: str
    api: str  # full dotted name ("scipy.misc.imread")
    use: str  # one of USES
    spec: str  # where the code works ("<1.3")
    why: str
    source: str
    keyword: str = ""
    needs: str = ""  # a distribution the API works only with (scipy.misc.imread: Pillow)

    @property
    def leaf(self) -> str:
        """A plain substring every use contains: files without it are never parsed."""
        return self.keyword or self.api.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Use:
    fact: Fact
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{terminal(self.path)}:{self.line}"


@cache
def facts() -> tuple[Fact, ...]:
    raw = json.loads(resources.files("forkvet.data").joinpath("api_evidence.json").read_text())
    return tuple(Fact(**f) for f in raw["facts"])


# -- finding uses -----------------------------------------------------------------------------


def _aliases(tree: ast.Module, nodes: list[ast.AST]) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from imports and module-level assignments
    of a dotted name (`flags = tf.app.flags`; `FLAGS = flags.FLAGS`)."""
    names: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                names[a.asname or top] = a.name if a.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            dotted = _dotted(node.value, names)
            if isinstance(target, ast.Name) and dotted:
                names[target.id] = dotted
    return names


def _dotted(node: ast.expr, names: dict[str, str]) -> str | None:
    """`np.float` -> "numpy.float" when np is numpy; None for anything not a dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in names:
        return None
    return ".".join([names[node.id], *reversed(parts)])


def _covers(api: str, name: str) -> bool:
    return name == api or name.startswith(api + ".")


def _tree_uses(path: str, tree: ast.Module, wanted: list[Fact]) -> list[Use]:
    """One walk over the tree; each node's dotted name is looked up, not compared with every
    fact (a 1,500-line file has 20,000 nodes)."""
    nodes = all_nodes(tree)
    names = _aliases(tree, nodes)
    by_use: dict[tuple[str, str], list[Fact]] = {}
    for fact in wanted:
        by_use.setdefault((fact.use, fact.api), []).append(fact)
    out: list[Use] = []
    for node in nodes:
        if type(node) not in _LOOKED_AT:
            continue
        for fact in _node_facts(node, names, by_use):
            # a comprehension has no line of its own: its iterable's
            at = node.iter if isinstance(node, ast.comprehension) else node
            out.append(Use(fact, path, getattr(at, "lineno", 0)))
    return out


_LOOKED_AT = frozenset(
    {ast.Attribute, ast.Import, ast.ImportFrom, ast.Call, ast.For, ast.comprehension, ast.Subscript}
)


def _node_facts(
    node: ast.AST, names: dict[str, str], by_use: dict[tuple[str, str], list[Fact]]
) -> list[Fact]:
    if isinstance(node, ast.Attribute):
        return by_use.get(("name", _dotted(node, names) or ""), [])
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [f for full in _imported(node) for f in _at_or_above(full, by_use)]
    if isinstance(node, ast.Call):
        called = _dotted(node.func, names) or ""
        keywords = {k.arg for k in node.keywords}
        return by_use.get(("call", called), []) + [
            f for f in by_use.get(("keyword", called), []) if f.keyword in keywords
        ]
    if isinstance(node, ast.For | ast.comprehension):
        return by_use.get(("iterate", _dotted(node.iter, names) or ""), [])
    if isinstance(node, ast.Subscript):
        return by_use.get(("iterate", _dotted(node.value, names) or ""), [])
    return []


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The full names an import statement brings in (`from a.b import c`: a.b and a.b.c)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level or not node.module:
        return []
    return [node.module] + [f"{node.module}.{a.name}" for a in node.names]


def _at_or_above(full: str, by_use: dict[tuple[str, str], list[Fact]]) -> list[Fact]:
    """'name' facts about full or a module above it (tensorflow.contrib for
    tensorflow.contrib.layers)."""
    parts = full.split(".")
    return [
        f for i in range(1, len(parts) + 1) for f in by_use.get(("name", ".".join(parts[:i])), [])
    ]


_IMPORT = rx.compile(r"^[ \t]*import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?")
_FROM = rx.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+([\w., \t]+)")


def _skimmed_uses(path: str, text: str, wanted: list[Fact]) -> list[Use]:
    """Python 2 or broken files: dotted names written through an imported alias, found in the
    code with strings and comments blanked. Only 'name' facts: calls need a parse."""
    lines = blank_strings_and_comments(text)
    names = _skimmed_aliases(lines)
    out: list[Use] = []
    for fact in (f for f in wanted if f.use == "name"):
        for local, full in names.items():
            if _covers(full, fact.api):  # `import numpy as np` + np.float
                line = _first_line(lines, local + fact.api[len(full) :])
            elif _covers(fact.api, full):  # `from sklearn.cross_validation import x`
                line = _first_line(lines, local)
            else:
                continue
            if line:
                out.append(Use(fact, path, line))
                break
    return out


def _skimmed_aliases(lines: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for line in lines:
        m = _IMPORT.match(line)
        if m:
            top = m.group(1).split(".")[0]
            names[m.group(2) or top] = m.group(1) if m.group(2) else top
        m = _FROM.match(line)
        if m:
            for part in m.group(2).split(","):
                bits = part.split()
                if bits:
                    names[bits[-1]] = f"{m.group(1)}.{bits[0]}"
    return names


def _first_line(lines: list[str], dotted: str) -> int:
    pattern = rx.compile(r"(?:^|[^\w.])" + dotted.replace(".", r"\.") + r"(?:\W|$)")
    for i, line in enumerate(lines, 1):
        if dotted.split(".")[-1] in line and pattern.search(line):
            return i
    return 0


@cache
def _leaves() -> rx.Pattern[str]:
    """Where a fact's last name follows ".", a space, "(" or ",": files without any are never
    parsed (one search in C per file)."""
    leaves = sorted({f.leaf for f in facts()}, key=len, reverse=True)
    return rx.compile(r"[.\s(,](" + "|".join(rx.escape(x) for x in leaves) + r")\b")


def find_uses(files: Iterable[tuple[str, str]]) -> list[Use]:
    """Uses of the table's APIs in (path, text) pairs; the first use per fact and file."""
    table = facts()
    out: list[Use] = []
    for path, text in files:
        present = set(_leaves().findall(text))
        wanted = [f for f in table if f.leaf in present]
        if not wanted:
            continue
        parsed = parse_python(path, text)
        found = (
            _tree_uses(path, parsed.tree, wanted)
            if parsed.tree is not None
            else _skimmed_uses(path, text, wanted)
        )
        seen: set[Fact] = set()
        for use in found:
            if use.fact not in seen:
                seen.add(use.fact)
                out.append(use)
    return out


# -- narrowing the pins -----------------------------------------------------------------------


@dataclass
class Narrowed:
    """What the API evidence asks of each distribution, and what it contradicts."""

    specs: dict[str, str]  # dist -> combined specifier ("<1.3", ">=1.5,<2")
    evidence: dict[str, list[str]]  # dist -> ["utils.py:51: scipy.misc.imread (…)"]

    def notes(self) -> list[str]:
        return [
            f"{dist}{self.specs[dist]} from the code's API: {'; '.join(ev[:3])}"
            for dist, ev in sorted(self.evidence.items())
        ]


def narrow(uses: list[Use]) -> Narrowed:
    specs: dict[str, list[str]] = {}
    evidence: dict[str, list[str]] = {}
    for use in uses:
        d = use.fact.dist
        if use.fact.spec not in specs.setdefault(d, []):
            specs[d].append(use.fact.spec)
        evidence.setdefault(d, []).append(f"{use.where}: {use.fact.why}")
    return Narrowed({d: ",".join(sorted(s)) for d, s in specs.items()}, evidence)


def conflict(stated: str, api_spec: str) -> bool:
    """Whether a version the authors state (an exact pin or a range) leaves no version the
    code's API can run on: an exact pin outside it, or a range with no overlap we can see."""
    try:
        api = safeparse.specifiers(api_spec)
        mine = safeparse.specifiers(stated)
    except InvalidSpecifier:
        return False
    exact = [s.version for s in mine if s.operator in ("==", "===") and "*" not in s.version]
    try:
        if exact:
            return not api.contains(safeparse.version(exact[0]), prereleases=True)
    except InvalidVersion:
        return False
    # A range: probe the bounds either side names; disjoint when no probe satisfies both.
    probes = [s.version.rstrip(".*") for s in (*mine, *api)]
    for p in probes:
        try:
            v = safeparse.version(p)
        except InvalidVersion:
            continue
        for cand in (v, safeparse.version(f"{v.base_version}.post999"), _below(v)):
            if cand is not None and mine.contains(cand, True) and api.contains(cand, True):
                return False
    return bool(probes)


def _below(v: Version) -> Version | None:
    rel = list(v.release)
    for i in range(len(rel) - 1, -1, -1):
        if rel[i] > 0:
            rel[i] -= 1
            return safeparse.version(".".join(map(str, rel[: i + 1])) + ".999")
    return None


def merge(stated: str, api_spec: str) -> str:
    """The authors' specifier narrowed by the API's, or the API's alone where they conflict
    (the code outranks a stale README; the conflict is said by the caller)."""
    if not stated:
        return api_spec
    if conflict(stated, api_spec):
        return api_spec
    if _exact(stated):
        return stated  # a version the authors name stays theirs, unchanged, when the API agrees
    return f"{stated},{api_spec}"


def _exact(spec: str) -> bool:
    try:
        parsed = list(safeparse.specifiers(spec))
    except InvalidSpecifier:
        return False
    return len(parsed) == 1 and parsed[0].operator in ("==", "===")


def apply(
    files: Iterable[tuple[str, str]], needs: NeedSet, framework: Framework | None
) -> tuple[Framework | None, list[str]]:
    """Narrow the framework's and every imported distribution's specifier by the API the code
    uses; say each narrowing, and each stated version the API contradicts. Returns the
    framework with its narrowed specifier, and the notes (conflicts first)."""
    uses = find_uses(files)
    found = narrow(uses)
    notes: list[str] = _companions(uses, needs)
    for dist, spec in sorted(found.specs.items()):
        if framework is not None and FRAMEWORK_DISTS.get(framework.name) == dist:
            # the framework's pin follows its specifier (choose), not its need's
            framework = _narrow_framework(framework, spec, found, notes)
            continue
        need = needs.get(dist)
        if need is not None:
            if need.spec and conflict(need.spec, spec):
                notes.append(_conflict(dist, need.spec, need.why, found))
            need.spec = merge(need.spec, spec)
    return framework, notes + found.notes()


def _companions(uses: list[Use], needs: NeedSet) -> list[str]:
    """What an API works only with and the code does not import: a need of its own."""
    notes: list[str] = []
    for use in uses:
        dist = use.fact.needs
        if dist and needs.get(dist) is None:
            why = f"needed by {use.fact.api} at {use.where}"
            needs.needs.append(Need(dist, "", why, "main"))
            notes.append(f"{dist}: {why}, which works only when {dist} is installed; added")
    return notes


def _narrow_framework(fw: Framework, spec: str, found: Narrowed, notes: list[str]) -> Framework:
    dist = FRAMEWORK_DISTS[fw.name]
    stated = fw.version_spec or ""
    if stated and conflict(stated, spec):
        why = "the README, declarations or other API evidence"
        notes.append(_conflict(dist, stated, why, found))
    new = merge(stated, spec)
    return replace(fw, version_spec=new, python_max=python_max(fw.name, new))


def _conflict(dist: str, stated: str, why: str, found: Narrowed) -> str:
    return (
        f"{dist}: the stated {dist}{stated} ({terminal(why)}) conflicts with the code's API "
        f"({'; '.join(found.evidence[dist][:2])}); pinned within {dist}{found.specs[dist]}"
    )
