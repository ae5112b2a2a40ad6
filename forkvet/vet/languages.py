"""Check 2: files and lines per language (GitHub Linguist's names), without vendored,
generated or binary files."""

from __future__ import annotations

from collections import defaultdict

from forkvet import rx
from forkvet.report import Finding, Language
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet.context import Context
from forkvet.vet.pysource import notebook_source

EXTENSIONS = {
    ".py": "Python",
    ".pyw": "Python",
    ".pyx": "Cython",
    ".pxd": "Cython",
    ".ipynb": "Jupyter Notebook",
    ".lua": "Lua",
    ".c": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".cxx": "C++",
    ".hpp": "C++",
    ".hh": "C++",
    ".hxx": "C++",
    ".cu": "Cuda",
    ".cuh": "Cuda",
    ".sh": "Shell",
    ".bash": "Shell",
    ".zsh": "Shell",
    ".java": "Java",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".ts": "TypeScript",
    ".r": "R",
    ".jl": "Julia",
    ".go": "Go",
    ".rs": "Rust",
    ".scala": "Scala",
    ".pl": "Perl",
    ".proto": "Protocol Buffer",
    ".cmake": "CMake",
    ".f90": "Fortran",
    ".f": "Fortran",
    ".swift": "Swift",
    ".kt": "Kotlin",
    ".rb": "Ruby",
    ".php": "PHP",
    ".cs": "C#",
    ".mm": "Objective-C++",
    ".cl": "OpenCL",
    ".metal": "Metal",
    ".glsl": "GLSL",
    ".hs": "Haskell",
    ".bat": "Batchfile",
    ".ps1": "PowerShell",
    ".html": "HTML",
    ".css": "CSS",
    ".tex": "TeX",
}
FILENAMES = {
    "Makefile": "Makefile",
    "makefile": "Makefile",
    "CMakeLists.txt": "CMake",
    "Dockerfile": "Dockerfile",
}
_GENERATED = rx.compile(
    r"(_pb2(?:_grpc)?\.py|\.min\.(?:js|css)|\.pb\.(?:cc|h)|_generated\.\w+|-min\.js|"
    r"\.bundle\.js)$"
)
# Linguist's vendor and documentation rules (a subset): copied libraries and docs never
# decide what language a repository is written in.
_VENDORED_PATH = rx.compile(
    r"(?i)(?:^|/)(?:node_modules|bower_components|vendors?|third[_-]?party|3rd[_-]?party|"
    r"externals?|extern|deps|Godeps|dist|docs?|Documentation|site-packages|\.?venv|"
    r"assets/(?:js|css)/lib|(?:web|static|public|www|assets)/(?:js|css)/(?:lib|libs|vendor))/"
)
_JS_LIBRARY = rx.compile(
    r"(?i)(?:^|/)(?:jquery|bootstrap|d3|three|underscore|lodash|backbone|angular|react|"
    r"react-dom|vue|moment|chart|highlight|mathjax|plotly|popper|codemirror|ace|modernizr|"
    r"prettify|require|font-?awesome|semantic|materialize|foundation|leaflet|raphael|"
    r"mootools|prototype|dojo|ext-all|yui|handlebars|mustache|knockout|ember|socket\.io|"
    r"swfobject|html5shiv|respond|normalize|tether|select2|datatables|dropzone|clipboard|"
    r"katex|marked|showdown|vega|vega-lite|vega-embed|c3|nv\.d3|sigma|cytoscape|hammer|"
    r"pixi|phaser|p5|tf|ort|onnx|numjs|convnet|deeplearn|tfjs|brain|synaptic|keras|webdnn|"
    r"ml5|gpu)(?:[.-][\w.-]*)?\.(?:js|css)$|"
    # A versioned file name (deeplearn-0.3.15.js, jquery.1.12.min.js) is a copied release.
    r"[.-]v?\d+\.\d+(?:\.\d+)?(?:[.-]min)?\.(?:js|css)$"
)


def vendored_for_languages(path: str) -> bool:
    """Third-party or documentation files that Linguist leaves out of language statistics."""
    return bool(
        _VENDORED_PATH.search(path) or (path.endswith((".js", ".css")) and _JS_LIBRARY.search(path))
    )


_PYTHON_FILES = (".py", ".pyw", ".pyx", ".ipynb")


def has_python(snap: Snapshot) -> bool:
    """Whether the repository has any Python of its own (code, notebooks or packaging)."""
    return any(
        (f.suffix in _PYTHON_FILES or f.name in ("setup.py", "pyproject.toml", "setup.cfg"))
        and not f.vendored
        and not vendored_for_languages(f.path)
        for f in snap.files
    )


_OBJC = rx.compile(r"^[ \t]*(?:#import|@interface|@implementation)\b", rx.M)


def _language(entry: FileEntry, has_cpp: bool, ctx: Context) -> str | None:
    if entry.name in FILENAMES:
        return FILENAMES[entry.name]
    if entry.suffix == ".h":
        return "C++" if has_cpp else "C"
    if entry.suffix == ".m":
        text = ctx.snap.read_text(entry.path) or ""
        return "Objective-C" if _OBJC.search(text) else "MATLAB"
    return EXTENSIONS.get(entry.suffix)


COUNT_BYTES = 2 * 1024 * 1024


def _may_count(entry: FileEntry) -> bool:
    """Whether `_language` can name the file's language at all."""
    return entry.name in FILENAMES or entry.suffix in EXTENSIONS or entry.suffix in (".h", ".m")


def check(ctx: Context) -> tuple[list[Language], list[Finding]]:
    files: dict[str, int] = defaultdict(int)
    lines: dict[str, int] = defaultdict(int)
    read_bytes: dict[str, tuple[int, int]] = {}  # language -> (bytes read, lines counted)
    has_cpp = any(f.suffix in (".cpp", ".cc", ".cxx", ".hpp", ".cu") for f in ctx.snap.files)
    for entry in ctx.snap.files:
        if not _may_count(entry):  # the cheap test first: most files of a data tree fail it
            continue
        if entry.vendored or _GENERATED.search(entry.name) or vendored_for_languages(entry.path):
            continue
        if entry.alias:
            continue  # a symlink's second name for a file counted already (Linguist skips links)
        lang = _language(entry, has_cpp, ctx)
        if lang is None:
            continue
        counted = read_bytes.get(lang, (0, 0))
        if counted[0] > COUNT_BYTES and lang != "Jupyter Notebook":
            # Past the first few MB of a language (a copied library), its lines are estimated
            # from the bytes at the density counted so far: reading 14 MB line by line costs
            # a quarter of the run and changes no ranking.
            files[lang] += 1
            lines[lang] += round(entry.size * counted[1] / counted[0])
            continue
        text = ctx.snap.read_text(entry.path)
        if text is None:
            continue  # binary or too large
        if lang == "Jupyter Notebook":
            # Count the code in the cells, not the JSON around it.
            try:
                joined = notebook_source(text)
            except RecursionError:  # reported by the Python index
                joined = None
            text = joined[0] if joined else ""
        files[lang] += 1
        n = sum(1 for ln in text.splitlines() if ln.strip())
        lines[lang] += n
        read_bytes[lang] = (counted[0] + entry.size, counted[1] + n)
    out = [Language(name, files[name], lines[name]) for name in files]
    out.sort(key=lambda lang: (-lang.lines, lang.name))
    findings = []
    if out and out[0].name in ("Lua", "MATLAB", "Julia", "R"):
        findings.append(
            Finding(
                "languages",
                "notice",
                f"Mostly {out[0].name}",
                f"Most of the code is {out[0].name}; forkvet's Python tooling (environment, smoke "
                f"test) covers only the Python part.",
            )
        )
    return out, findings
