"""Check 2: files and lines per language (GitHub Linguist's names), without vendored,
generated or binary files."""

from __future__ import annotations

import re
from collections import defaultdict

from forkvet.report import Finding, Language
from forkvet.snapshot import FileEntry
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
_GENERATED = re.compile(r"(_pb2(?:_grpc)?\.py|\.min\.js|\.pb\.(?:cc|h)|_generated\.\w+)$")
_OBJC = re.compile(r"^\s*(?:#import|@interface|@implementation)\b", re.M)


def _language(entry: FileEntry, has_cpp: bool, ctx: Context) -> str | None:
    if entry.name in FILENAMES:
        return FILENAMES[entry.name]
    if entry.suffix == ".h":
        return "C++" if has_cpp else "C"
    if entry.suffix == ".m":
        text = ctx.snap.read_text(entry.path) or ""
        return "Objective-C" if _OBJC.search(text) else "MATLAB"
    return EXTENSIONS.get(entry.suffix)


def check(ctx: Context) -> tuple[list[Language], list[Finding]]:
    files: dict[str, int] = defaultdict(int)
    lines: dict[str, int] = defaultdict(int)
    has_cpp = any(f.suffix in (".cpp", ".cc", ".cxx", ".hpp", ".cu") for f in ctx.snap.files)
    for entry in ctx.snap.files:
        if entry.vendored or _GENERATED.search(entry.name):
            continue
        lang = _language(entry, has_cpp, ctx)
        if lang is None:
            continue
        text = ctx.snap.read_text(entry.path)
        if text is None:
            continue  # binary or too large
        if lang == "Jupyter Notebook":
            # Count the code in the cells, not the JSON around it.
            joined = notebook_source(text)
            text = joined[0] if joined else ""
        files[lang] += 1
        lines[lang] += sum(1 for ln in text.splitlines() if ln.strip())
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
