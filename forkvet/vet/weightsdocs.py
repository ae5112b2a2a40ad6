"""Every place a repository states its models' terms (outside attack round 18, F3 and F9).

The weights' terms are written wherever the authors chose: a `WEIGHTS.md`, a `DOWNLOAD.md`,
`docs/weights.md`, a `TRAINING.md`, the README of `weights/`, `ckpt/` or `assets/`, a
notebook's Markdown cell, a REUSE `.reuse/dep5`. So the reading is not a list of file names:

- every prose file of the repository's own (Markdown, reStructuredText, a README; plain
  text only when named for weights or in a folder of weights) and the Markdown cells of its
  notebooks are read sentence by sentence; a sentence about the models, weights or
  checkpoints with a restrictive clause ("for non-commercial research use only", "not
  licensed for commercial use") restricts the weights;
- a file named for the weights or their terms (`WEIGHTS.md`, `download.md`, `MODEL_USAGE.md`,
  `checkpoints.txt`) or a README in a folder of weights is the weights' own statement: any
  restrictive sentence in it restricts them, whatever its subject ("Not for commercial use.");
- a sentence about a data set ("the images are for research use only"; in another document
  any sentence that speaks of data, "a model trained for research use may be fair use of this
  data") restricts nothing here (data set terms are reported apart).

The license files and files named for terms are read by the license reader with their
templates' words subtracted (the GPL's "noncommercially"); they are not read again here, nor
is the README that reader reads. Bounded: at most MAX_DOCS prose files and MAX_NOTEBOOKS
notebooks, each read up to MAX_DOC_CHARS, MAX_TOTAL_CHARS in all, the named ones first.
"""

from __future__ import annotations

from typing import Any

from forkvet import rx, safeparse
from forkvet.snapshot import FileEntry
from forkvet.vet.context import Context
from forkvet.vet.licenseterms import FOREIGN_RESTRICTIONS, clauses
from forkvet.vet.modelterms import ModelTerms, sentences
from forkvet.vet.textnorm import fold

MAX_DOCS = 80
MAX_NOTEBOOKS = 20
MAX_DOC_BYTES = 512 * 1024
MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024
MAX_DOC_CHARS = 200_000
MAX_TOTAL_CHARS = 4_000_000
MAX_DEPTH = 6
MAX_HITS = 3
# A document a bound skipped is scanned for terms' words, up to these sizes.
MAX_SCAN_BYTES = 8 * 1024 * 1024
MAX_SCAN_TOTAL = 32 * 1024 * 1024
_MAX_SENTENCE = 600

_PROSE = frozenset([".md", ".markdown", ".mdx", ".rst", ".txt", ".adoc", ""])
# A name that says the file is about the weights or their terms: a word of the name.
_NAMED_FOR_WEIGHTS = rx.compile(
    r"(?i)(?:^|[-_. ])(?:weights?|models?|checkpoints?|ckpts?|pre-?trained|downloads?|usage|"
    r"terms|model[-_ ]?cards?|cards?|zoo)(?:$|[-_. ])"
)
# A folder holding weights: its README is their card.
_WEIGHTS_FOLDER = rx.compile(
    r"(?i)model|weight|checkpoint|ckpt|pretrained|snapshot|release|download|assets?\b"
)
_README = rx.compile(r"(?i)^readme(?:[-_.][\w.-]{0,20})?$")
# Files the license reader reads with its templates subtracted (license and legal texts).
_LICENSE_LIKE = rx.compile(
    r"(?i)^(?:un)?licen[cs]|^copying|^copyright|^notice|^eula|^legal|^patents?\b|"
    r"[-_.]licen[cs]e(?:\.\w+)?$"
)
# "weights", never "a weight of 0.0" (a data mixture's weight).
_SUBJECT = rx.compile(
    r"(?i)\b(?:models?|weights|checkpoints?|ckpts?|pre-?trained|parameters|snapshots?)\b"
)
# What a model card says the model is meant for ("intended for research purposes", "Direct
# Use", "deployment … is out of scope") is its authors' intent, not terms, unless it speaks of
# a license, a permission or a prohibition ("intended and licensed for research use only").
_INTENT = rx.compile(r"(?i)\bintended\b|\bout\s+of\s+scope\b|\bdirect\s+use\b")
_TERMS = rx.compile(
    r"(?i)licen[cs]|permi|\ballow|prohibit|forbid|\b(?:may|must|shall)\s+not\b|\bcannot\b|"
    r"\bterms\b|restrict|\bnot\s+for\b|\bNC\b"
)
_DATA = rx.compile(
    r"(?i)\b(?:data|data\s*sets?|corpus|corpora|annotations|images|photos|videos|audio|"
    r"fair\s+use)\b"
)
# Words a restrictive clause cannot be written without (a cheap test before the clauses).
_HINT = rx.compile(
    r"(?i)commerc|research|academic|profit|\bNC\b|educational|evaluation|sell|permission|"
    r"licen[cs]"
)
_RESTRICTIVE = ("non-commercial", "research-only", "no-permission")


def weights_doc_terms(ctx: Context) -> list[ModelTerms]:
    """The first MAX_HITS files (prose or notebooks) that restrict the weights."""
    out: list[ModelTerms] = []
    budget = MAX_TOTAL_CHARS
    for fe, own in _docs(ctx):
        if fe.suffix == ".ipynb":
            text = _notebook_markdown(ctx, fe)
        else:
            text = (ctx.snap.read_text(fe.path) or "")[:MAX_DOC_CHARS]
        budget -= len(text)
        if budget < 0:
            break
        said = _restriction(text, own)
        if said:
            what = f"{fe.path} restricts the weights: {said!r}"
            out.append(ModelTerms(fe.path, what, [], True))
            if len(out) >= MAX_HITS:
                break
    return out


def unread_docs(ctx: Context) -> list[tuple[str, str]]:
    """(path, why) of the documents that may state the weights' terms and that a bound kept
    from being read whole (too large, too deep, past the count or the total), and whose text
    a second, cheaper reading cannot clear: terms forkvet did not read, so commercial use is
    never a plain yes (outside attack round 19c, L20)."""
    prose, notebooks, skipped = _candidates(ctx)
    late = [f for f, _ in prose[MAX_DOCS:]] + [f for f, _ in notebooks[MAX_NOTEBOOKS:]]
    out: list[tuple[str, str]] = []
    budget = MAX_SCAN_TOTAL
    for fe, why in skipped + [(f, "past the documents read for terms") for f in late]:
        if fe.path.count("/") > MAX_DEPTH and not _NAMED_FOR_WEIGHTS.search(fe.name):
            continue  # a deep document not named for the weights: as before, not theirs
        budget -= min(fe.size, MAX_SCAN_BYTES)
        if fe.size > MAX_SCAN_BYTES or budget < 0:
            out.append((fe.path, why))
            continue
        own = bool(_NAMED_FOR_WEIGHTS.search(fe.name))
        said = _restriction(_scan_text(ctx, fe), own)
        if said:
            out.append((fe.path, f"{why}; it says {said!r}"))
        if len(out) >= MAX_HITS:
            break
    return out


def _scan_text(ctx: Context, fe: FileEntry) -> str:
    """The file's bytes as text (a notebook's JSON escapes undone), for a cheap reading."""
    try:
        raw = ctx.snap.read_bytes(fe.path, MAX_SCAN_BYTES)
    except OSError:
        return "licen"  # unreadable: never cleared
    text = raw.decode("utf-8", "replace")
    if fe.suffix == ".ipynb":
        text = text.replace("\\n", "\n").replace('\\"', '"')
    # Only the lines with a terms word, each a paragraph of its own: the sentence bound of
    # the full reading must not stop before the end of a large file.
    lines = [line.strip(' \t",[]') for line in text.splitlines() if _hinted(line)]
    return "\n\n".join(lines[:5000])


def _docs(ctx: Context) -> list[tuple[FileEntry, bool]]:
    """(file, whether it is the weights' own statement), the weights' own first, then the
    shallowest; notebooks after prose."""
    prose, notebooks, _ = _candidates(ctx)
    return prose[:MAX_DOCS] + notebooks[:MAX_NOTEBOOKS]


def _candidates(
    ctx: Context,
) -> tuple[list[tuple[FileEntry, bool]], list[tuple[FileEntry, bool]], list[tuple[FileEntry, str]]]:
    """Every prose file and notebook that may state the weights' terms, in reading order, and
    (path, why) of those a size or depth bound leaves unread."""
    main = ctx.snap.readme.path if ctx.snap.readme else ""
    prose: list[tuple[FileEntry, bool]] = []
    notebooks: list[tuple[FileEntry, bool]] = []
    skipped: list[tuple[FileEntry, str]] = []
    for f in ctx.snap.files:
        if f.vendored or f.path == main or f.size <= 0:
            continue
        if f.suffix == ".ipynb":
            bound = _bound(f, MAX_NOTEBOOK_BYTES)
            if bound:
                skipped.append((f, bound))
            else:
                notebooks.append((f, False))
            continue
        if f.suffix not in _PROSE or _LICENSE_LIKE.search(f.name):
            continue
        folder = f.path.rpartition("/")[0]
        own = bool(_NAMED_FOR_WEIGHTS.search(f.name)) or (
            bool(_README.match(f.name)) and bool(_WEIGHTS_FOLDER.search(folder))
        )
        # Plain text only when it is the weights' own or a README (requirements, lists).
        if f.suffix in (".txt", "") and not (own or _README.match(f.name)):
            continue
        bound = _bound(f, MAX_DOC_BYTES)
        if bound:
            skipped.append((f, bound))
            continue
        prose.append((f, own))
    prose.sort(key=lambda d: (not d[1], d[0].path.count("/"), d[0].path))
    notebooks.sort(key=lambda d: (d[0].path.count("/"), d[0].path))
    return prose, notebooks, skipped


def _bound(f: FileEntry, most: int) -> str:
    """Why a bound leaves the file unread ("" when none does)."""
    if f.size > most:
        return f"{f.size:,} bytes, over the {most:,} read"
    if f.path.count("/") > MAX_DEPTH:
        return f"deeper than {MAX_DEPTH} folders"
    return ""


def _notebook_markdown(ctx: Context, fe: FileEntry) -> str:
    """What a notebook shows a reader (parsed as JSON, bounded), one paragraph each: its
    Markdown and raw cells, its code cells' comments and their outputs (stream text, plain
    text and HTML displays: GitHub shows them under the cell; round 19c, L7)."""
    try:
        data = safeparse.json_loads(ctx.snap.read_bytes(fe.path, MAX_NOTEBOOK_BYTES))
    except (ValueError, OSError, UnicodeDecodeError):
        return ""
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return ""
    parts: list[str] = []
    size = 0
    for cell in cells[:2000]:
        for text in _shown(cell) if isinstance(cell, dict) else []:
            parts.append(text)
            size += len(text)
        if size > MAX_DOC_CHARS:
            break
    return "\n\n".join(parts)[:MAX_DOC_CHARS]


_COMMENT = rx.compile(r"(?m)^[ \t]*#+[ \t]?([^\n]*)$")
_TAG = rx.compile(r"<[^<>\n]{0,300}>")


def _shown(cell: dict[str, Any]) -> list[str]:
    """The texts of one notebook cell a reader sees."""
    kind = cell.get("cell_type")
    if kind in ("markdown", "raw"):
        return [_source(cell.get("source"))]
    if kind != "code":
        return []
    code = _source(cell.get("source"))
    out = ["\n".join(m.group(1) for m in _COMMENT.finditer(code[:MAX_DOC_CHARS]))]
    outputs = cell.get("outputs")
    for output in outputs[:50] if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        out.append(_source(output.get("text"))[:MAX_DOC_CHARS])
        shown = output.get("data")
        if isinstance(shown, dict):
            out.append(_source(shown.get("text/plain"))[:MAX_DOC_CHARS])
            out.append(_TAG.sub(" ", _source(shown.get("text/html"))[:MAX_DOC_CHARS]))
    return [t for t in out if t.strip()]


def _source(source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(s for s in source[:5000] if isinstance(s, str))
    return ""


def _hinted(text: str) -> bool:
    """A word a restrictive clause needs, in English or in the other languages' table."""
    if _HINT.search(text):
        return True
    lower = text.lower()
    return not text.isascii() and any(pat.search(lower) for _, pat in FOREIGN_RESTRICTIONS)


def _restriction(text: str, own: bool) -> str:
    """The first sentence that restricts the weights; "" when none does."""
    if not text:
        return ""
    text = fold(text)
    if not _hinted(text):
        return ""
    for sentence in sentences(text)[:5000]:
        lines = [sentence] if len(sentence) < _MAX_SENTENCE else sentence.split("\n")
        for line in lines[:200]:
            if len(line) >= _MAX_SENTENCE or not _hinted(line):
                continue
            # Another document's sentence about the weights; in the weights' own document any
            # sentence; a sentence that speaks of data is the data's terms in another
            # document ("a model trained for research use may be fair use of this data"), in
            # the weights' own document only when it names no weights.
            subject = _SUBJECT.search(line)
            data = _DATA.search(line)
            if not (own or subject) or (data and not (own and subject)):
                continue
            if _INTENT.search(line) and not _TERMS.search(line):
                continue
            if any(c in _RESTRICTIVE for c in clauses(line)):
                return " ".join(line.split())[:160]
    return ""


def reuse_expressions(ctx: Context) -> list[tuple[str, str]]:
    """(path, SPDX expression) of every license a REUSE declaration names: `License:` lines
    of `.reuse/dep5` (the DEP5 form REUSE still accepts) and `SPDX-License-Identifier` values
    of `REUSE.toml`'s annotations. At most 200."""
    out: list[tuple[str, str]] = []
    for f in ctx.snap.files:
        if _dep5(ctx, f) and f.size <= MAX_DOC_BYTES:
            text = ctx.snap.read_text(f.path) or ""
            out += [(f.path, m.group(1).strip()) for m in _DEP5_LICENSE.finditer(text)][:200]
        elif f.path == "REUSE.toml" and f.size <= MAX_DOC_BYTES:
            out += [(f.path, e) for e in _toml_expressions(ctx.snap.read_text(f.path) or "")]
        elif f.name.endswith(".license") and len(f.name) > 8 and 0 < f.size <= 64 * 1024:
            # REUSE's third form: `model.pth.license` beside the file it licenses (19c, L4).
            text = ctx.snap.read_text(f.path) or ""
            out += [(f.path, m.group(1).strip()) for m in _SIDECAR.finditer(text)][:20]
        if len(out) >= 200:
            break
    return [(p, e) for p, e in out if e][:200]


# Debian's machine-readable copyright format (DEP 5), the form `.reuse/dep5` uses: a file named
# `copyright` or `dep5` (`debian/copyright`) whose first line is its `Format:` header (19c L11).
_DEP5_FORMAT = rx.compile(r"(?i)\A\s*Format:[ \t]*\S*copyright-format")


def _dep5(ctx: Context, f: FileEntry) -> bool:
    if f.path == ".reuse/dep5":
        return True
    if f.name.lower() not in ("copyright", "dep5") or f.vendored:
        return False
    return bool(_DEP5_FORMAT.match((ctx.snap.read_text(f.path) or "")[:2000]))


_DEP5_LICENSE = rx.compile(r"(?mi)^License:[ \t]*([^\n]{1,300})$")
_SIDECAR = rx.compile(r"(?mi)^\W{0,4}SPDX-License-Identifier:[ \t]*([^\n]{1,300})$")


def _toml_expressions(text: str) -> list[str]:
    try:
        data = safeparse.toml_loads(text)
    except ValueError:
        return []
    annotations = data.get("annotations")
    if not isinstance(annotations, list):
        return []
    out: list[str] = []
    for item in annotations[:500]:
        value = item.get("SPDX-License-Identifier") if isinstance(item, dict) else None
        values = value if isinstance(value, list) else [value]
        out += [v[:300] for v in values[:20] if isinstance(v, str)]
    return out[:200]
