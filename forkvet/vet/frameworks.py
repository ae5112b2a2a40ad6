"""Check 4: ML frameworks, from imports, Lua `require`, Caffe files and declared dependencies,
with the version range implied by declared pins and by the APIs the code calls."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from packaging.specifiers import InvalidSpecifier
from packaging.version import Version

from forkvet import rx, safeparse
from forkvet.report import Finding, Framework
from forkvet.snapshot import README_ORDER, FileEntry
from forkvet.vet.context import Context
from forkvet.vet.declared import DeclaredSet
from forkvet.vet.importmap import canonical
from forkvet.vet.textnorm import line_of

CHECK = "frameworks"


@dataclass(frozen=True)
class FrameworkDef:
    name: str
    modules: tuple[str, ...]
    dists: tuple[str, ...]


def _tables() -> dict[str, Any]:
    raw = resources.files("forkvet.data").joinpath("frameworks.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


# The evidence tables live in forkvet/data/frameworks.json: which import and distribution
# names mean a framework (in the order ties are broken), and the newest Python each framework
# release has wheels for.
_TABLES = _tables()
FRAMEWORKS: tuple[FrameworkDef, ...] = tuple(
    FrameworkDef(fw["name"], tuple(fw["modules"]), tuple(fw["dists"]))
    for fw in _TABLES["frameworks"]
)
_LUA_REQUIRE = rx.compile(
    r"""require\s*\(?\s*['"](torch|nn|cutorch|cunn|cudnn|nngraph|optim|"""
    r"""image|rnn|dpnn)['"]"""
)
_MATCONVNET = rx.compile(r"\bvl_(?:simplenn|nnconv|setupnn|compilenn|nn\w+)\b|\bdagnn\.DagNN\b")
# Caffe driven from MATLAB: the matcaffe interface (caffe.Net, caffe.set_mode_gpu, the old
# caffe('init', ...) calls) or a matcaffe path.
_MATCAFFE = rx.compile(
    r"\bcaffe\.(?:Net|Solver|set_mode_gpu|set_mode_cpu|set_device|reset_all|io\.)|"
    r"\bcaffe\s*\(\s*'|matcaffe"
)
# Base frameworks: one next to another in the same files is a port or converter; a wrapper
# (Lightning on PyTorch, Keras on TensorFlow, Flax on JAX) is not.
_BASES = frozenset(
    {
        "pytorch",
        "tensorflow",
        "jax",
        "mxnet",
        "paddle",
        "caffe",
        "caffe2",
        "theano",
        "chainer",
        "mindspore",
        "lua-torch",
        "cntk",
        "dynet",
        "mlx",
        "jittor",
        "oneflow",
        "megengine",
    }
)
# Helper libraries: primary only when an entry-point script imports them itself.
LIBRARIES = frozenset({"transformers", "scikit-learn", "onnx", "xgboost"})
# Where export targets, ports, demos and tests live: not what training needs.
_AUX_PATH = rx.compile(
    r"(?i)(?:^|/)(?:tests?|testing|docs?|examples?|notebooks?|demos?|tools|scripts|utils?|"
    r"tmp|temp|scratch|playground|sandbox|old|legacy|deprecated|attic|unused|contrib(?:uted)?|"
    r"deploy\w*|export\w*|convert\w*|onnx\w*|tflite\w*|coreml\w*|tensorrt\w*|trt\w*|"
    r"quantiz\w*|benchmarks?|evaluations?|evaluators?|mobile|android|ios)(?:/|\.py$|\.ipynb$)|\.ipynb$|(?:^|/)\w*(?:export|convert|_to_|2onnx|"
    r"2tf|2caffe|2torch)\w*\.py$"
)

# (framework, regex, specifier, what it means)
API_HINTS: tuple[tuple[str, rx.Pattern[str], str, str], ...] = tuple(
    (fw, rx.compile(pattern), spec, why)
    for fw, pattern, spec, why in (
        ("tensorflow", r"\btf\.contrib\.", "<2", "tf.contrib (removed in TensorFlow 2.0)"),
        (
            "tensorflow",
            r"\btf\.(?:Session|InteractiveSession|placeholder|app\.run|app\.flags|"
            r"global_variables_initializer|variable_scope|get_variable)\b",
            "<2",
            "TensorFlow 1.x graph API",
        ),
        (
            "tensorflow",
            r"\btf\.(?:mul|sub|neg|pack|unpack)\(",
            "<1.0",
            "pre-1.0 TensorFlow op names",
        ),
        (
            "tensorflow",
            r"tensorflow\.compat\.v1|\btf\.compat\.v1\b",
            ">=1.13",
            "tf.compat.v1 (TensorFlow 1.13+)",
        ),
        ("tensorflow", r"\btf\.function\b", ">=1.14", "tf.function (TensorFlow 1.14+)"),
        ("pytorch", r"volatile\s*=\s*True", "<0.4", "Variable(volatile=True) (PyTorch < 0.4)"),
        ("pytorch", r"\.data\[0\]", "<0.5", "loss.data[0] on a scalar (PyTorch < 0.5)"),
        ("pytorch", r"torch\.utils\.ffi", "<1.0", "torch.utils.ffi (removed in PyTorch 1.0)"),
        ("pytorch", r"torch\.(?:rfft|irfft)\(", "<1.8", "torch.rfft (removed in PyTorch 1.8)"),
        ("pytorch", r"torch\._six\b", "<2.0", "torch._six (removed in PyTorch 2.0)"),
        (
            "pytorch",
            r"torch\.(?:symeig|solve|lstsq|eig|matrix_rank)\(",
            "<2.0",
            "linear-algebra functions removed in PyTorch 2.0",
        ),
        ("pytorch", r"torch\.no_grad\(", ">=0.4", "torch.no_grad (PyTorch 0.4+)"),
        (
            "pytorch",
            r"torch\.cuda\.amp|torch\.amp\.",
            ">=1.6",
            "automatic mixed precision (PyTorch 1.6+)",
        ),
        ("pytorch", r"torch\.fft\.\w+\(", ">=1.7", "torch.fft module (PyTorch 1.7+)"),
        ("pytorch", r"torch\.inference_mode", ">=1.9", "torch.inference_mode (PyTorch 1.9+)"),
        ("pytorch", r"weights_only\s*=", ">=1.13", "torch.load(weights_only=) (PyTorch 1.13+)"),
        ("pytorch", r"torch\.compile\(", ">=2.0", "torch.compile (PyTorch 2.0+)"),
        (
            "keras",
            r"\bnb_epoch\s*=|\bborder_mode\s*=|\bsubsample\s*=\s*\(|keras\.layers\.Merge\b|"
            r"from\s+keras\.layers\s+import[^\n]*\bMerge\b",
            "<2",
            "Keras 1 API",
        ),
        ("keras", r"\bkeras\.ops\b|from\s+keras\s+import\s+ops\b", ">=3", "keras.ops (Keras 3)"),
    )
)

# A plain substring every match of a hint contains: `in` skips most files at memchr speed,
# where a pattern that starts with \b is tried at every position (~30 ms per MB each).
_NEEDLES: dict[str, tuple[str, ...]] = {
    "tensorflow": ("tf.", "tensorflow."),
    "pytorch": ("volatile", ".data[0]", "torch", "weights_only"),
    "keras": ("nb_epoch", "border_mode", "subsample", "Merge", "ops"),
}


def _may_hint(framework: str, text: str) -> bool:
    return any(n in text for n in _NEEDLES[framework])


# Newest Python with wheels for each framework minor release.
PYTHON_MAX: dict[str, dict[str, str]] = _TABLES["python_max"]


def python_max(framework: str, spec: str | None) -> str | None:
    """Newest Python that some framework version allowed by spec has wheels for."""
    table = PYTHON_MAX.get(framework)
    if not table or not spec:
        return None
    try:
        specifier = safeparse.specifiers(spec)
    except InvalidSpecifier:
        return None
    allowed = [
        minor
        for minor in table
        if any(
            specifier.contains(safeparse.version(f"{minor}.{p}"), prereleases=True)
            for p in range(0, 10)
        )
    ]
    if not allowed:
        return None
    newest = max(allowed, key=lambda m: tuple(int(x) for x in m.split(".")))
    if newest == max(table, key=lambda m: tuple(int(x) for x in m.split("."))):
        return None  # the spec allows current releases: no cap
    return table[newest]


def _merge_specs(specs: list[str]) -> str | None:
    """One specifier from several: pins win; else the highest floor and the lowest ceiling."""
    pins: list[str] = []
    floors: list[tuple[Version, str]] = []
    ceilings: list[tuple[Version, str]] = []
    others: list[str] = []
    for s in specs:
        for part in s.split(","):
            part = part.strip()
            m = rx.match(r"^(==|>=|>|<=|<|~=|!=)\s*(.+)$", part)
            if not m:
                continue
            op, ver = m.groups()
            if op == "==":
                pins.append(part)
                continue
            try:
                v = safeparse.version(ver.rstrip(".*"))
            except ValueError:
                continue
            if op in (">=", ">"):
                floors.append((v, part))
            elif op in ("<", "<="):
                ceilings.append((v, part))
            else:
                others.append(part)
    if pins:
        return ",".join(dict.fromkeys(pins))
    parts = []
    if floors:
        parts.append(max(floors)[1])
    if ceilings:
        parts.append(min(ceilings)[1])
    parts += list(dict.fromkeys(others))
    return ",".join(parts) or None


_README_NAMES = {
    "pytorch": "pytorch",
    "torch": "pytorch",
    "tensorflow": "tensorflow",
    "tensorflow-gpu": "tensorflow",
    "tf": "tensorflow",
    "keras": "keras",
    "mxnet": "mxnet",
    "chainer": "chainer",
    "theano": "theano",
    "jax": "jax",
}
_V = r"(\d+\.\d+(?:\.\d+)?)"
_README_VERSION = rx.compile(
    # Adjacent optional \s* runs were quadratic on "torch" + 100,000 newlines under `re`; RE2 is
    # linear. A second version followed by "or newer" is not taken (`_readme_versions`).
    r"\b(pytorch|torch|tensorflow-gpu|tensorflow|keras|mxnet|chainer|theano|jax)\s*"
    r"(?:version\s*)?[(:\[]?\s*(?:tested\s+(?:with|on)\s+)?(==|>=|>|=|~=|v\.?|r)?\s*"
    + _V
    + r"(\+)?"
    r"(?:\s*(?:or|and|/|,)\s*(?:r|v)?" + _V + r")?"
    r"(\s*\)?\s*(?:or|and)\s+(?:newer|later|above|higher|greater|up)\b)?",
    rx.I,
)
_OR_NEWER = rx.compile(r"(?i)\s*(?:or|and)\s+(?:newer|later|above|higher)")
_FIRST_VERSION = rx.compile(
    r"(?i)(\s*\)?\s*(?:or|and)\s+(?:newer|later|above|higher|greater|up)\b)?"
)


def _readme_versions(text: str) -> Iterator[tuple[int, int, list[str | None]]]:
    """(start, end, groups 0-6) of each version statement. A second version that "or newer"
    follows is dropped, and the statement ends after the first (look-ahead done by hand)."""
    for m in _README_VERSION.finditer(text):
        groups: list[str | None] = [m.group(i) for i in range(7)]
        end = m.end()
        if groups[5] is not None and _OR_NEWER.match(text[m.end(5) : m.end(5) + 200]):
            first_end = m.end(4) if groups[4] is not None else m.end(3)
            tail = _FIRST_VERSION.match(text[first_end : first_end + 200])
            groups[5] = None
            groups[6] = tail.group(1) if tail else None
            end = first_end + (tail.end() if tail else 0)
        yield m.start(), end, groups


_FLOOR_BEFORE = rx.compile(r"(?i)(?:at least|minimum(?: version)?(?: of)?|or newer of)\s*$")
_NEGATIVE_AFTER = rx.compile(
    r"(?i)^[^.\n]{0,30}\b(?:will break|breaks|does not work|doesn't work|not supported|"
    r"is not compatible|incompatible|won't work)"
)


def _next_line(v: Version) -> str:
    """The first version after v's release line: 1.10 -> 2; 0.12 -> 1."""
    return f"{v.major + 1}"


def readme_versions(text: str) -> dict[str, tuple[str, int]]:
    """Framework versions a README names, read as a person reads them: "X or newer", "X+",
    ">= X", "at least X" are floors, which allow the newest release of X's major line on the
    date. One version the authors name — "tested with X", "we used X", a bare "TensorFlow X"
    (and "rX.Y", "vX.Y"), "==X" — is the version they ran: it pins (X.Y: that release line).
    "X or Y" names a range. "PyTorch 0.3 will break it" is not a version."""
    found: dict[str, list[tuple[str, Version, int]]] = {}
    lines = line_of(text)
    for start, end, g in _readme_versions(text):
        if _NEGATIVE_AFTER.search(text[end : end + 60]):
            continue
        name = _README_NAMES[(g[1] or "").lower()]
        line = lines(start)
        op = (g[2] or "").strip().lower()
        floor = (
            op in (">=", ">", "~=")
            or bool(g[4])
            or bool(g[6])
            or bool(_FLOOR_BEFORE.search(text[max(0, start - 30) : start]))
        )
        kind = "==" if op == "==" else ">=" if floor else "~"
        for ver in (g[3], g[5]):
            if ver:
                try:  # before the list is made: an empty one would be read as a version
                    parsed = safeparse.version(ver)
                except ValueError:
                    continue
                found.setdefault(name, []).append((kind, parsed, line))
    out: dict[str, tuple[str, int]] = {}
    for name, items in found.items():
        line = items[0][2]
        pins = [v for kind, v, _ in items if kind == "=="]
        if pins:
            out[name] = (f"=={pins[0]}", line)
            continue
        low = min(v for _, v, _ in items)
        high = max(v for _, v, _ in items)
        floors = [v for kind, v, _ in items if kind == ">="]
        if floors:
            low = max(floors)
        elif low == high:
            exact = str(low) if len(low.release) >= 3 else f"{low}.*"
            out[name] = (f"=={exact}", line)
            continue
        cap = _next_line(high)
        if high.major == 0 and floors:
            cap = "2"  # "TensorFlow > 0.12": 0.x grew into 1.x, no 0.x line to stay within
        out[name] = (f">={low},<{cap}", line)
    return out


@dataclass
class _Evidence:
    """What points to each framework (evidence lines, in the order found) and the files that
    need it at load time (strong: module-level imports, Lua requires, MATLAB calls) or only
    optionally or lazily (weak)."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    strong: dict[str, set[str]] = field(default_factory=dict)
    weak: dict[str, set[str]] = field(default_factory=dict)

    def add(self, name: str, line: str, path: str | None = None, strong: bool = True) -> None:
        self.lines.setdefault(name, []).append(line)
        if path is not None:
            (self.strong if strong else self.weak).setdefault(name, set()).add(path)


def check(ctx: Context, declared: DeclaredSet) -> tuple[list[Framework], list[Finding]]:
    """Collect evidence (imports, files, declarations, README, API calls) → a version spec
    per framework → roles → order → notices."""
    ev = _Evidence()
    _import_evidence(ctx, ev)
    _file_evidence(ctx, ev)
    declared_by_fw = _declared_specs(declared, ev)
    _readme_specs(ctx, ev, declared_by_fw)
    hints = _api_hints(ctx, ev)
    frameworks: list[Framework] = []
    findings: list[Finding] = []
    for name, lines in ev.lines.items():
        spec, conflict = _spec(name, lines, declared_by_fw.get(name, []), hints.get(name, []))
        findings += conflict
        frameworks.append(Framework(name, spec, _dedupe(lines)[:8], python_max(name, spec)))
    _assign_roles(frameworks, ev.strong, ev.weak)
    _helper_roles(ctx, frameworks, ev.strong)
    _sort(frameworks)
    if any(fw.name == "lua-torch" for fw in frameworks):
        findings.append(_lua_torch_notice())
    return frameworks, findings


def _import_evidence(ctx: Context, ev: _Evidence) -> None:
    """Python imports of a framework's modules (not the repository's own package of that name);
    an optional, indented or vendored one is weak."""
    tops_to_fw = {m: fw.name for fw in FRAMEWORKS for m in fw.modules}
    lines_of: dict[str, list[str]] = {}
    bundled = _bundled_packages(ctx)
    for ref in ctx.py.imports:
        fw_name = tops_to_fw.get(ref.top)
        if not fw_name or ref.top in ctx.py.local_packages:
            continue
        entry = ctx.snap.get(ref.path)
        weak = (
            ref.optional
            or _nested(ctx, ref.path, ref.line, lines_of)
            or (entry is not None and entry.vendored)
            or ref.path.startswith(bundled)
        )
        ev.add(fw_name, f"{ref.path}:{ref.line}: import {ref.module}", ref.path, strong=not weak)


_LICENSE_FILE = rx.compile(r"(?i)^(?:licen[cs]e|copying)(?:\.\w+)?$")


def _bundled_packages(ctx: Context) -> tuple[str, ...]:
    """Folders holding a whole other package next to the repository's own (its own setup.py
    or pyproject.toml and its own LICENSE, as a copied tensorboardX/ or apex/ has): their
    imports are that package's needs, not the model's."""
    if not any("/" not in meta.path for meta in ctx.packages):
        return ()
    licensed = {f.path.rsplit("/", 1)[0] for f in ctx.snap.files if _LICENSE_FILE.match(f.name)}
    folders = {m.path.rsplit("/", 1)[0] for m in ctx.packages if "/" in m.path}
    return tuple(sorted(f + "/" for f in folders & licensed))


def _file_evidence(ctx: Context, ev: _Evidence) -> None:
    """Files that are not Python: Lua requires, Caffe definitions, MATLAB calls, Torch7 models,
    a Caffe submodule."""
    for f in ctx.snap.files:
        sign = _FILE_SIGNS.get(f.suffix)
        if sign is not None:
            sign(ctx, f, ev)
        elif f.name == ".gitmodules" and f.path.count("/") == 0:
            _gitmodules(ctx, f, ev)
    definitions = {
        p for p in ev.weak.get("caffe", set()) if p.endswith((".prototxt", ".caffemodel"))
    }
    if definitions and not any(ev.strong.values()):
        ev.strong.setdefault("caffe", set()).update(definitions)  # nothing else runs the model


def _lua(ctx: Context, f: FileEntry, ev: _Evidence) -> None:
    text = ctx.snap.read_text(f.path) or ""
    m = _LUA_REQUIRE.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        ev.add("lua-torch", f"{f.path}:{line}: require '{m.group(1)}'", f.path)


def _caffe_definition(ctx: Context, f: FileEntry, ev: _Evidence) -> None:
    # A network definition is data: Caffe is primary through code that runs it, or when
    # nothing else runs the model (a repository of prototxt files), never because a Lua or
    # PyTorch repository ships one to compare with or convert.
    ev.add("caffe", f"{f.path}: Caffe model definition", f.path, strong=False)


def _matlab(ctx: Context, f: FileEntry, ev: _Evidence) -> None:
    if f.vendored:
        return
    text = ctx.snap.read_text(f.path) or ""
    if _MATCONVNET.search(text):
        ev.add("matconvnet", f"{f.path}: MatConvNet calls", f.path)
    m = _MATCAFFE.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        ev.add("caffe", f"{f.path}:{line}: Caffe from MATLAB", f.path)


def _torch7(ctx: Context, f: FileEntry, ev: _Evidence) -> None:
    ev.add("lua-torch", f"{f.path}: Torch7 model file", f.path, strong=False)


def _gitmodules(ctx: Context, f: FileEntry, ev: _Evidence) -> None:
    text = ctx.snap.read_text(f.path) or ""
    if rx.search(r"(?im)^[ \t]*(?:path|url)[ \t]*=[ \t]*\S*caffe\b", text):
        ev.add("caffe", f"{f.path}: Caffe submodule", f.path)


# What a file of each suffix says about frameworks.
_FILE_SIGNS: dict[str, Callable[[Context, FileEntry, _Evidence], None]] = {
    ".lua": _lua,
    ".prototxt": _caffe_definition,
    ".caffemodel": _caffe_definition,
    ".m": _matlab,
    ".t7": _torch7,
}


def _declared_specs(declared: DeclaredSet, ev: _Evidence) -> dict[str, list[str]]:
    """Each framework's declared version specs (requirements, setup.py, environment.yml)."""
    declared_by_fw: dict[str, list[str]] = {}
    for d in declared.items:
        for fw in FRAMEWORKS:
            if canonical(d.name) in fw.dists or d.name in fw.dists:
                declared_by_fw.setdefault(fw.name, []).append(d.spec)
                where = f"{d.path}{':' + str(d.line) if d.line else ''}"
                ev.add(fw.name, f"{where}: declared {d.raw or d.name}")
    return declared_by_fw


def _readme_specs(ctx: Context, ev: _Evidence, declared_by_fw: dict[str, list[str]]) -> None:
    """A version the README names, for a framework the code uses and nothing declares. Then
    the README of a top-level folder (`tf/README.md` beside `pytorch/README.md`), for a
    framework that folder's own code imports: a repository with one codebase per framework
    states each one's versions there."""
    if ctx.snap.readme:
        _take_readme(ctx.readme, ctx.snap.readme.path, None, ev, declared_by_fw)
    for entry in _folder_readmes(ctx):
        text = ctx.snap.read_text(entry.path) or ""
        _take_readme(text, entry.path, entry.path.split("/")[0] + "/", ev, declared_by_fw)


def _take_readme(
    text: str,
    path: str,
    folder: str | None,
    ev: _Evidence,
    declared_by_fw: dict[str, list[str]],
) -> None:
    for name, (rspec, line) in readme_versions(text).items():
        if name not in ev.lines or name in declared_by_fw:
            continue
        if folder and not any(p.startswith(folder) for p in ev.strong.get(name, ())):
            continue
        declared_by_fw[name] = [rspec]
        ev.add(name, f"{path}:{line}: README names {rspec}")


_FOLDER_READMES = 8  # bounded: a monorepo of many models is read through its root README


def _folder_readmes(ctx: Context) -> list[FileEntry]:
    found: dict[str, FileEntry] = {}
    for f in sorted(ctx.snap.files, key=lambda f: (README_ORDER.get(f.suffix, 4), f.path)):
        parts = f.path.split("/")
        if len(parts) == 2 and parts[1].lower().startswith("readme") and f.suffix in README_ORDER:
            found.setdefault(parts[0], f)
    return [found[k] for k in sorted(found)][:_FOLDER_READMES]


def _api_hints(ctx: Context, ev: _Evidence) -> dict[str, list[str]]:
    """Version specs implied by the APIs the code calls (API_HINTS), once each."""
    hints: dict[str, list[str]] = {}
    for pf in ctx.py.files:
        if pf.copy_of:
            continue
        for hint_fw, hint, hint_spec, why in API_HINTS:
            if hint_fw not in ev.lines or not _may_hint(hint_fw, pf.text):
                continue
            m = hint.search(pf.text)
            if m and hint_spec not in hints.get(hint_fw, []):
                line = pf.text.count("\n", 0, m.start()) + 1
                hints.setdefault(hint_fw, []).append(hint_spec)
                ev.add(hint_fw, f"{pf.path}:{line}: {why}")
    return hints


def _spec(
    name: str, lines: list[str], declared: list[str], hint_specs: list[str]
) -> tuple[str | None, list[Finding]]:
    """The declared pins merged with the API hints; the declared pin alone where they
    disagree (a warning) or the merge is not a valid specifier."""
    declared_specs = [s for s in declared if s and "://" not in s]
    # tf.compat.v1 code runs on 2.x: it overrides the "<2" implied by 1.x calls.
    if (
        name == "tensorflow"
        and ">=1.13" in hint_specs
        and "<2" in hint_specs
        and not any("contrib" in e for e in lines)
    ):
        hint_specs = [s for s in hint_specs if s != "<2"]
    spec: str | None = _merge_specs(declared_specs + hint_specs)
    if spec:
        try:
            safeparse.specifiers(spec)
        except InvalidSpecifier:
            spec = _merge_specs(declared_specs) or None
    if not (spec and _unsatisfiable(name, spec)):
        return spec, []
    stated, apis = _conflict_sources(name, lines)
    conflict = Finding(
        CHECK,
        "warning",
        f"Conflicting {name} versions",
        f"The declared versions ({stated}) and the APIs the code uses ({apis}) disagree "
        f"({spec}); the declared pin is kept.",
    )
    return _merge_specs(declared_specs), [conflict]


def _conflict_sources(name: str, lines: list[str]) -> tuple[str, str]:
    """Where the two sides of a version conflict come from: file:line of the declaration or
    README, and of the API calls (the evidence lines _declared_specs and _api_hints wrote)."""
    whys = {why for fw, _, _, why in API_HINTS if fw == name}
    stated = [ln for ln in lines if ": declared " in ln or ": README names " in ln]
    apis = [ln for ln in lines if ln.split(": ", 1)[-1] in whys]
    return "; ".join(stated[:2]) or "declared", "; ".join(apis[:2]) or "API calls"


def _sort(frameworks: list[Framework]) -> None:
    """Primary first, then by weight of evidence, then in FRAMEWORKS' order."""
    order = {fw.name: i for i, fw in enumerate(FRAMEWORKS)}
    rank = {"primary": 0, "optional": 1, "library": 2}
    frameworks.sort(
        key=lambda fw: (rank.get(fw.role, 3), -len(fw.evidence), order.get(fw.name, 99), fw.name)
    )


def _lua_torch_notice() -> Finding:
    return Finding(
        CHECK,
        "notice",
        "Lua Torch (Torch7)",
        "Torch7 is unmaintained since 2017 and needs LuaJIT and CUDA <= 10; consider a "
        "PyTorch port of this model.",
    )


# The TensorFlow a JAX codebase imports for tf.data, TFDS and TFRecords: the input pipeline
# (a library), unless the same files build or run networks with it.
_TF_MODEL_USE = rx.compile(
    r"\btf\.(?:keras|nn|layers|Variable|GradientTape|Session|train\.\w*Optimizer|estimator|"
    r"compat\.v1\.(?:Session|layers|nn|train))\b|from\s+tensorflow(?:\.compat\.v1)?\s+"
    r"import\s+[^\n]*\b(?:keras|layers|nn)\b"
)
_JAX_FAMILY = ("jax", "flax", "haiku")
# `from transformers import GPT2TokenizerFast`: a tokenizer, not the model you install.
_TRANSFORMERS_NAMES = rx.compile(
    r"^[ \t]*from[ \t]+transformers(?:\.[\w.]+)?[ \t]+import[ \t]+\(?([^\n)]*)", rx.M
)


def _helper_roles(ctx: Context, frameworks: list[Framework], strong: dict[str, set[str]]) -> None:
    """Primary means what you install to run the model: TensorFlow as a JAX codebase's input
    pipeline and transformers used only for its tokenizers are libraries."""
    by_name = {fw.name: fw for fw in frameworks}
    texts = {f.path: f.text for f in ctx.py.files}
    tf = by_name.get("tensorflow")
    if (
        tf is not None
        and tf.role == "primary"
        and any(by_name.get(n) and by_name[n].role == "primary" for n in _JAX_FAMILY)
        and not any(
            _TF_MODEL_USE.search(texts.get(p, ""))
            for p in strong.get("tensorflow", ())
            if not _AUX_PATH.search(p)  # a notebook's or a test's tf.keras is not the model
        )
    ):
        tf.role = "library"
    for fw in frameworks:
        if fw.role == "primary" and _feature_extraction_only(ctx, strong.get(fw.name, set())):
            fw.role = "optional"
    hf = by_name.get("transformers")
    if hf is not None and hf.role == "primary" and strong.get("transformers"):
        names = {p: _transformers_names(texts.get(p, "")) for p in strong["transformers"]}
        if _tokenizers_only([n for found in names.values() for n in found]):
            hf.role = "library"
        # A data script that loads only a tokenizer is no entry that needs the model's library.
        entries = [
            p
            for p in names
            if _is_entry_script(p) and not _AUX_PATH.search(p) and not _tokenizers_only(names[p])
        ]
        others = any(fw.name not in LIBRARIES and strong.get(fw.name) for fw in frameworks)
        if others and len(entries) < 2:
            hf.role = "library"


_EXTRACTS = rx.compile(
    r"(?i)(?:^|_)(?:extract|feat|features?|preprocess\w*|prepare\w*|prep)(?:_|$)"
)


def _feature_extraction_only(ctx: Context, paths: set[str]) -> bool:
    """Caffe imported only by scripts that extract CNN features (`extract_features.py`,
    `py_caffe_feat_extract.py`) while the training and demo scripts import none of it: a
    preparation step's tool, not what runs the model."""
    stems = [p.rsplit("/", 1)[-1].rsplit(".", 1)[0] for p in paths]
    if not stems or not all(_EXTRACTS.search(s) for s in stems):
        return False
    return any(
        _is_entry_script(f.path) and f.path not in paths and not _AUX_PATH.search(f.path)
        for f in ctx.py.files
        if not _EXTRACTS.search(f.path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    )


def _transformers_names(text: str) -> list[str]:
    """What a file takes from transformers (`AutoTokenizer`, `AutoModelForCausalLM`, …)."""
    names: list[str] = []
    if rx.search(r"^[ \t]*import[ \t]+transformers\b", text, rx.M):
        names += rx.findall(r"\btransformers\.(\w+)", text)[:200] or ["transformers"]
    for m in _TRANSFORMERS_NAMES.finditer(text):
        names += [n.split(" as ")[0].strip() for n in m.group(1).split(",")]
    return [n for n in names if n]


def _tokenizers_only(names: list[str]) -> bool:
    return bool(names) and all("Tokenizer" in n for n in names)


def _unsatisfiable(name: str, spec: str) -> bool:
    table = PYTHON_MAX.get(name)
    if not table:
        return False
    try:
        specifier = safeparse.specifiers(spec)
    except InvalidSpecifier:
        return False  # an unreadable declaration: no conflict to show
    return not any(
        specifier.contains(safeparse.version(f"{m}.{p}"), prereleases=True)
        for m in table
        for p in range(10)
    )


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _nested(ctx: Context, path: str, line: int, cache: dict[str, list[str]]) -> bool:
    """An import inside a function, class or `if` (indented): loaded only when used."""
    if not cache:
        cache.update({f.path: f.code_lines or f.text.splitlines() for f in ctx.py.files})
        cache.setdefault("", [])
    lines = cache.get(path, [])
    return 0 < line <= len(lines) and lines[line - 1][:1] in (" ", "\t")


def _is_entry_script(path: str) -> bool:
    from forkvet.vet.entry_points import kind_of

    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    kind = kind_of(stem)
    return (kind is not None and kind != "prepare") or (
        path.count("/") == 0 and stem.lower() in ("main", "run", "app", "cli", "api")
    )


# Folders named for a framework: `tf/` beside the main PyTorch code holds a port of it.
_PORT_FOLDERS = {
    "tensorflow": ("tf", "tf1", "tf2", "tensorflow", "tflite"),
    "keras": ("keras",),
    "pytorch": ("pytorch", "torch", "pt"),
    "jax": ("jax", "flax"),
    "mxnet": ("mxnet", "mx", "gluon"),
    "caffe": ("caffe", "pycaffe"),
    "chainer": ("chainer",),
    "paddle": ("paddle", "paddlepaddle"),
    "theano": ("theano",),
}


def _in_port_folder(name: str, paths: set[str]) -> bool:
    """Every file under a folder named for the framework (`tf/run_pb.py`)."""
    folders = _PORT_FOLDERS.get(name, ())
    return bool(paths) and all(
        any(part.lower() in folders for part in p.split("/")[:-1]) for p in paths
    )


def _assign_roles(
    frameworks: list[Framework], strong: dict[str, set[str]], weak: dict[str, set[str]]
) -> None:
    """primary / optional / library, from where and how each framework is used."""
    core = [fw for fw in frameworks if fw.name not in LIBRARIES and strong.get(fw.name)]
    main_paths = {fw.name: {p for p in strong[fw.name] if not _AUX_PATH.search(p)} for fw in core}
    dominant = max(
        core, key=lambda fw: (len(main_paths[fw.name]), len(strong[fw.name])), default=None
    )
    for fw in frameworks:
        paths = strong.get(fw.name, set())
        if fw.name in LIBRARIES:
            # transformers in the demos' and trainers' own imports is what you install to run
            # the model; one script importing it (an evaluation, a monitor) is a utility's need.
            entries = [p for p in paths if _is_entry_script(p) and not _AUX_PATH.search(p)]
            needed = len(entries) >= 2
            fw.role = "primary" if needed or (paths and not core) else "library"
            continue
        if not paths:
            # Only optional/lazy imports, a checkpoint file, or a declaration.
            fw.role = "optional" if dominant is not None or weak.get(fw.name) else "primary"
            continue
        if dominant is None or fw.name == dominant.name:
            fw.role = "primary"
            continue
        mine = main_paths.get(fw.name, set())
        theirs = main_paths.get(dominant.name, set())
        if not mine:
            fw.role = "optional"  # only in export scripts, tools, tests or notebooks
        elif _in_port_folder(fw.name, mine) and not _in_port_folder(dominant.name, theirs):
            fw.role = "optional"  # a tf/ port beside the main code
        elif (
            fw.name in _BASES
            and dominant.name in _BASES
            and mine <= strong.get(dominant.name, set())
            and len(theirs) >= 3 * len(mine)
        ):
            fw.role = "optional"  # a port or converter next to the main framework's code
        elif _one_helper(fw.name, dominant.name, mine, theirs):
            fw.role = "optional"  # TensorFlow in a PyTorch repository's logger.py
        else:
            fw.role = "primary"


def _one_helper(name: str, dominant: str, mine: set[str], theirs: set[str]) -> bool:
    """A second base framework that one helper module imports (a TensorBoard `logger.py`, a
    metric), no entry script, while the main framework's code spans several files: a
    utility's need, not what runs the model."""
    return (
        name in _BASES
        and dominant in _BASES
        and len(mine) == 1
        and not any(_is_entry_script(p) for p in mine)
        and len(theirs) >= 3
    )
