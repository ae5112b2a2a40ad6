"""The one search of the repository's code for the models it loads (round 22).

Before round 22 four passes walked the code files for model names, each with its own file
list and bounds (the hub-id search, the base-model search, the licence gaps' second pass past
the base-model search, ...). This module reads the code once: every `.py`, shell script,
YAML/JSON/TOML/cfg/INI config, container build, environment file and Modelfile, and a
notebook's code cells (`.ipynb`: the code a reader runs, not its outputs), in tree order, up
to MAX_FILES files and MAX_BYTES in all. Every reader of model names consumes its texts; the
files past the bound are listed, and the licence check makes them a gap (a bound that is hit
fails closed and says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from forkvet import rx
from forkvet.snapshot import FileEntry
from forkvet.vet.context import Context
from forkvet.vet.pysource import notebook_source

CODE_SUFFIXES = frozenset(
    [".py", ".sh", ".bash", ".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".ipynb"]
)
MAX_FILES = 3000
MAX_BYTES = 48 * 1024 * 1024
MAX_FILE_BYTES = 512 * 1024  # a code file larger than this is data (a vocabulary, a table)
READ_CHARS = 200_000
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024  # past this a notebook is left unsearched (a gap)

# Settings that run with the code: a container build's `ENV BASE_MODEL=org/name`, an
# environment file's `BASE_MODEL=org/name` (`.env.example`), a Makefile's variable.
_ENV_OR_BUILD = rx.compile(
    r"(?i)^(?:dockerfile|containerfile|makefile|docker-compose)(?:[.-][\w.-]*)?$|"
    r"^\.?env(?:\.[\w.-]+)?$|\.(?:env|dockerfile|containerfile|mk)$"
)


@dataclass(frozen=True)
class Searched:
    texts: list[tuple[FileEntry, str]]  # (file, the text its model names are searched in)
    left: list[str]  # code files past the bound, not searched


def modelfile(fe: FileEntry) -> bool:
    return fe.name == "Modelfile" or fe.name.startswith("Modelfile.") or fe.suffix == ".modelfile"


def is_python(fe: FileEntry) -> bool:
    """Python source: a `.py` file or a notebook's code cells."""
    return fe.suffix.lower() in (".py", ".ipynb")


def _code_file(ctx: Context, fe: FileEntry) -> bool:
    if fe.vendored:
        return False
    suffix = fe.suffix.lower()
    if suffix == ".ipynb":  # outputs make notebooks large; their code is what is read
        return True
    named = suffix in CODE_SUFFIXES or modelfile(fe) or bool(_ENV_OR_BUILD.search(fe.name))
    return named and fe.size <= MAX_FILE_BYTES


def _text(ctx: Context, fe: FileEntry) -> str:
    if fe.suffix.lower() != ".ipynb":
        return (ctx.snap.read_text(fe.path) or "")[:READ_CHARS]
    # A notebook over the text cap (its outputs) is parsed from its bytes: its code cells are
    # what is searched, and MAX_BYTES bounds them all.
    try:
        raw = ctx.snap.read_bytes(fe.path, MAX_NOTEBOOK_BYTES)
        source = notebook_source(raw.decode("utf-8", "replace"))
    except (OSError, RecursionError):
        source = None
    return (source[0] + "\n" + "\n".join(source[1]) if source else "")[:READ_CHARS]


def searched(ctx: Context) -> Searched:
    """The code texts every model-name reader searches, and the files past the bound."""
    if "modelsearch" in ctx.memo:
        found: Searched = ctx.memo["modelsearch"]
        return found
    files = [f for f in ctx.snap.files if _code_file(ctx, f)]
    texts: list[tuple[FileEntry, str]] = []
    read = 0
    left: list[str] = []
    for n, fe in enumerate(files):
        if read > MAX_BYTES or n >= MAX_FILES:
            left += [f.path for f in files[n:]]
            break
        if fe.size > MAX_NOTEBOOK_BYTES:  # only a notebook can be this large here
            left.append(fe.path)
            continue
        read += min(fe.size, MAX_FILE_BYTES)  # a notebook's outputs are not read as code
        texts.append((fe, _text(ctx, fe)))
    found = Searched(texts, left)
    ctx.memo["modelsearch"] = found
    return found
