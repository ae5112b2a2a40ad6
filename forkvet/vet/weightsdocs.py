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

import json
from importlib import resources
from typing import Any

from forkvet import rx, safeparse
from forkvet.snapshot import FileEntry
from forkvet.vet.context import Context
from forkvet.vet.licenseterms import FOREIGN_RESTRICTIONS, clauses
from forkvet.vet.modelterms import ModelTerms, sentences
from forkvet.vet.readmereader import limiting_sentences
from forkvet.vet.textnorm import disguised, fold

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

# Every format GitHub renders as a document, read as the text it shows once the markup is
# dropped (round 19c, L9): which files are read depends on their format, never on their name.
_PROSE = (
    frozenset(
        (".md", ".markdown", ".mdown", ".mkdn", ".mkd", ".mdwn", ".mdx", ".rst", ".rest", ".txt")
    )
    | frozenset((".text", ".adoc", ".asciidoc", ".asc", ".html", ".htm", ".xhtml", ".textile"))
    | (frozenset((".org", ".creole", ".mediawiki", ".wiki", ".pod", ".rdoc", ".svg", "")))
    # R Markdown, Quarto and LaTeX sources: Markdown, or prose between commands (round 20c F4).
    | frozenset((".rmd", ".qmd", ".tex", ".ltx"))
)
# Configuration files: their comments are prose ("# the weights are for non-commercial use").
_CONFIG = frozenset([".yaml", ".yml", ".toml", ".cfg", ".ini", ".conf"])
# Scripts: what they print while they run, and their comments (round 19c, L9 and L11).
_SCRIPT = frozenset([".sh", ".bash", ".zsh", ".py", ".ps1", ".bat", ".cmd"])
MAX_OTHERS = 400
# CITATION.cff: its `message` and `abstract` are prose GitHub shows ("Cite this repository").
_CFF = frozenset([".cff"])
_PLAIN_OR_CODE = frozenset([".txt", ".text", ""]) | _CONFIG | _SCRIPT | _CFF
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


def _load_subject() -> rx.Pattern[str]:
    """What names the model's artefacts, from `forkvet/data/artefact_words.json`: "weights"
    (never "a weight of 0.0", a data mixture's weight), "the LoRA adapters", "the trained
    network", "the .pth files", "the exported ONNX graphs" (round 20c, F12)."""
    raw = resources.files("forkvet.data").joinpath("artefact_words.json").read_text("utf-8")
    table = json.loads(raw)

    def alt(words: list[str]) -> str:
        return "|".join(rx.escape(w).replace(r"\ ", r"\s+") for w in words)

    made, after = alt(table["made"]), alt(table["after_made"])
    files = r"(?:files?|graphs?|models?|weights|checkpoints?|exports?|versions?|builds?)"
    return rx.compile(
        rf"(?i)\b(?:{alt(table['words'])})\b|\b(?:{made})\s+(?:[\w-]+\s+)?(?:{after})\b|"
        rf"\.(?:{alt(table['suffixes'])})\s+{files}\b|\b(?:{alt(table['formats'])})\s+"
        rf"(?:[\w-]+\s+)?{files}\b"
    )


_SUBJECT = _load_subject()
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
        text = _shown_text(ctx, fe, own)
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
    _, _, skipped = _candidates(ctx)
    out: list[tuple[str, str]] = []
    budget = MAX_SCAN_TOTAL
    for fe, why in skipped:
        own = bool(_NAMED_FOR_WEIGHTS.search(fe.name))
        cost = min(fe.size, MAX_SCAN_BYTES)
        if fe.size > MAX_SCAN_BYTES or budget < cost:
            # A document (named for the weights, or in a format written to be read) left
            # unread fails closed; a large plain-text, config or script file is data or code,
            # read up to the scan size while the total lasts.
            if own or fe.suffix not in _PLAIN_OR_CODE:
                out.append((fe.path, why))
                continue
            if budget < cost:
                continue
        budget -= cost
        said = _restriction(_scan_text(ctx, fe), own)
        if said:
            out.append((fe.path, f"{why}; it says {said!r}"))
        if len(out) >= MAX_HITS:
            break
    return out


def _shown_text(ctx: Context, fe: FileEntry, own: bool = False) -> str:
    """What a file shows a reader about terms: a notebook's cells, a config's comments, what
    a script that downloads prints and its comments, a document's text without its markup."""
    if fe.suffix == ".ipynb":
        return _notebook_markdown(ctx, fe)
    text = (ctx.snap.read_text(fe.path) or "")[:MAX_DOC_CHARS]
    # Hinted as a reader reads it ("n0n-c0mm3rc14l"): fold() is cached for _restriction.
    if not text or not (own or _hinted(text) or (disguised(text) and _hinted(fold(text)))):
        return ""
    return _shown_part(fe.suffix, text)


def _shown_part(suffix: str, text: str) -> str:
    """The part of a file's text that states terms to a reader, by its format."""
    if suffix in _CONFIG:
        return "\n\n".join(m.group(1) for m in _CONFIG_COMMENT.finditer(text))
    if suffix in _CFF:  # round 21d, F6: a citation's message is prose a reader sees
        return "\n\n".join(m.group(1).strip(" \t\n\"'") for m in _CFF_PROSE.finditer(text))
    if suffix in _SCRIPT:
        # Python's docstrings and string constants are text a reader sees in the code
        # (`WEIGHTS_TERMS = "… CC BY-NC 4.0."`, a loader's docstring): read in every script
        # (outside attack round 21d, F6); what a script prints, when it downloads.
        said = []
        if suffix == ".py":
            said = [next((g for g in m.groups() if g), "") for m in _PY_TEXT.finditer(text)]
        if _DOWNLOADS.search(text):
            said += [next((g for g in m.groups() if g), "") for m in _SAID.finditer(text)]
        return "\n\n".join([s for s in said if s][:10000])
    if suffix in (".tex", ".ltx"):
        # LaTeX: a command's name and a comment are no prose; its braces' text is.
        return _TEX_COMMAND.sub(" ", text).replace("{", " ").replace("}", " ")
    if suffix in _LIGHT_MARKUP:
        # Pod's formatting codes ("B<non-commercial>") before the tags fold() drops.
        text = _LIGHT_MARKS.sub("", _POD_CODE.sub(lambda m: m.group(1), text))
    return text


# Lightweight markups GitHub renders (Textile, Org, Creole, MediaWiki, Pod, RDoc, AsciiDoc):
# their emphasis and heading marks are dropped (`+non-com_mer_cial+`, `''bold''`).
_LIGHT_MARKUP = frozenset(
    [".textile", ".org", ".creole", ".mediawiki", ".wiki", ".pod", ".rdoc", ".adoc", ".asciidoc"]
)
_TEX_COMMAND = rx.compile(r"\\[A-Za-z]+\*?|(?m)(?:^|[^\\])%[^\n]*$")
_LIGHT_MARKS = rx.compile(r"[_+~^=']+")
_POD_CODE = rx.compile(r"\b[BICEFSLXZ]<{1,3}[ \t]?([^<>\n]{0,300}?)[ \t]?>{1,3}")
_CFF_PROSE = rx.compile(
    r"(?m)^(?:message|abstract)[ \t]*:[ \t]*[>|]?[-+]?([^\n]*(?:\n[ \t]+[^\n]*){0,200})"
)
_CONFIG_COMMENT = rx.compile(r"(?m)(?:^|[ \t])[#;]+[ \t]?([^\n]*)$")
# A script that fetches files (weights): what it prints is what its user reads as it runs.
_DOWNLOADS = rx.compile(
    r"(?i)\b(?:wget|curl|gdown|urlretrieve|urlopen|hf_hub_download|snapshot_download|"
    r"load_state_dict_from_url|download_url|Invoke-WebRequest|requests\.get|gsutil|azcopy|"
    r"aws\s+s3|rclone|aria2c|download\w*)\b"
)
# echo/print/printf/Write-Host/logging calls with a string literal; a comment line.
_SAID = rx.compile(
    r"(?m)\b(?:echo|printf|print|Write-Host|Write-Output|warn|warning|info)\b[ \t(]*"
    r"(?:-[a-z][ \t]+)?[frbuFRBU]{0,2}(?:\"([^\"\n]{1,600})\"|'([^'\n]{1,600})')|"
    r"^[ \t]*(?:#|::|REM\b)+[ \t]?([^\n]{1,600})$|"
    # An unquoted echo (sh, cmd): its words up to a pipe, a redirection or the command's end.
    r"\b(?:echo|Write-Host)[ \t]+(?:-[a-z]+[ \t]+)?([^\"'\s|;&<>][^\"'\n|;&<>]{0,600})"
)


_PY_TEXT = rx.compile(
    r'(?s:"""(.+?)""")|(?s:\'\'\'(.+?)\'\'\')|'
    r"(?m:^[ \t]*[A-Za-z_]\w*[ \t]*=[ \t]*[rRuU]?(?:\"([^\"\n]{12,600})\"|'([^'\n]{12,600})'))"
)


def _scan_text(ctx: Context, fe: FileEntry) -> str:
    """The file's bytes as text (a notebook's JSON escapes undone), for a cheap reading."""
    try:
        raw = ctx.snap.read_bytes(fe.path, MAX_SCAN_BYTES)
    except OSError:
        return "licen"  # unreadable: never cleared
    text = raw.decode("utf-8", "replace")
    if fe.suffix == ".ipynb":
        text = text.replace("\\n", "\n").replace('\\"', '"')
    if not _hinted(text):  # most files: one linear search, no line split
        return ""
    if fe.suffix in _CONFIG or fe.suffix in _SCRIPT:
        text = _shown_part(fe.suffix, text)  # a config's comments, what a script prints
    # Only the lines with a terms word, each a paragraph of its own: the sentence bound of
    # the full reading must not stop before the end of a large file.
    lines = [line.strip(' \t",[]') for line in text.splitlines() if _hinted(line)]
    return "\n\n".join(lines[:5000])


def _docs(ctx: Context) -> list[tuple[FileEntry, bool]]:
    """(file, whether it is the weights' own statement), the weights' own first, then the
    shallowest; notebooks after prose."""
    prose, rest, _ = _candidates(ctx)
    return prose + rest


_Candidates = tuple[
    list[tuple[FileEntry, bool]], list[tuple[FileEntry, bool]], list[tuple[FileEntry, str]]
]


def _candidates(ctx: Context) -> _Candidates:
    """`_find_candidates`, once per vet (both readings walk every file of the tree)."""
    if "weightsdocs" not in ctx.memo:
        ctx.memo["weightsdocs"] = _within_total(_find_candidates(ctx))
    return ctx.memo["weightsdocs"]  # type: ignore[no-any-return]


def _within_total(found: _Candidates) -> _Candidates:
    """The first MAX_DOCS prose files and the rest the full reading reaches within
    MAX_TOTAL_CHARS (each counted at its size, at most MAX_DOC_CHARS); the others are left to
    the cheap reading, with why: a bound never passes silently (round 20, L9)."""
    prose, rest, skipped = found
    skipped = skipped + [(f, "past the documents read for terms") for f, _ in prose[MAX_DOCS:]]
    left = MAX_TOTAL_CHARS
    kept: tuple[list[tuple[FileEntry, bool]], list[tuple[FileEntry, bool]]] = ([], [])
    for docs, into in ((prose[:MAX_DOCS], kept[0]), (rest, kept[1])):
        for fe, own in docs:
            left -= min(fe.size, MAX_DOC_CHARS)
            if left < 0:
                skipped.append((fe, f"past the {MAX_TOTAL_CHARS:,} characters read in all"))
            else:
                into.append((fe, own))
    return kept[0], kept[1], skipped


def _find_candidates(ctx: Context) -> _Candidates:
    """Every prose file, then every notebook, config and script that may state the weights'
    terms, in reading order, and (path, why) of those a size, depth or count bound leaves
    unread (prose past MAX_DOCS is left to the caller)."""
    main = ctx.snap.readme.path if ctx.snap.readme else ""
    prose: list[tuple[FileEntry, bool]] = []
    notebooks: list[tuple[FileEntry, bool]] = []
    others: list[tuple[FileEntry, bool]] = []
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
        if _LICENSE_LIKE.search(f.name) or f.suffix not in _PROSE | _CONFIG | _SCRIPT | _CFF:
            continue
        folder = f.path.rpartition("/")[0]
        own = f.suffix in _PROSE and (
            bool(_NAMED_FOR_WEIGHTS.search(f.name))
            or (bool(_README.match(f.name)) and bool(_WEIGHTS_FOLDER.search(folder)))
        )
        bound = _bound(f, MAX_DOC_BYTES)
        if bound:
            skipped.append((f, bound))
        elif f.suffix in _PROSE:
            prose.append((f, own))
        else:
            others.append((f, False))
    prose.sort(key=lambda d: (not d[1], d[0].path.count("/"), d[0].path))
    notebooks.sort(key=lambda d: (d[0].path.count("/"), d[0].path))
    # Configs and scripts after the notebooks, in a count of their own.
    others.sort(key=lambda d: (d[0].path.count("/"), d[0].path))
    late = notebooks[MAX_NOTEBOOKS:] + others[MAX_OTHERS:]
    skipped += [(f, "past the documents read for terms") for f, _ in late]
    return prose, notebooks[:MAX_NOTEBOOKS] + others[:MAX_OTHERS], skipped


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
    if not own and not _hinted(text):
        return ""
    # A license's own text (a model license agreement named for the model) grants with
    # words of who and what for ("patent license to make, use, sell"): only its clauses count.
    who = own and not _GRANT_TEXT.search(text)
    for sentence in sentences(text)[:5000]:
        lines = [sentence] if len(sentence) < _MAX_SENTENCE else sentence.split("\n")
        for line in lines[:200]:
            if len(line) >= _MAX_SENTENCE or not (own or _hinted(line)):
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
            if any(c in _RESTRICTIVE for c in clauses(line)) or (
                who and (subject or _TERMS.search(line)) and _limits(line)
            ):
                return " ".join(line.split())[:160]
    return ""


def _limits(line: str) -> bool:
    """The weights' own document is read as a README License section is: a sentence about
    who may use them or for what, with a limiting word ("may only be used by students",
    "restricted to Example Corp employees", "more than 1 million monthly active users"), is
    terms (round 20c, F2: one reader of terms for every document). Advice ("its use should
    be limited to English") and a license text's own grant ("no-charge, royalty-free") are
    not terms of the weights' own."""
    if _ADVICE.search(line) or _DATA.search(line):  # BVLC's "fair use" of the data: no terms
        return False
    if _PURPOSE_ONLY.search(line):
        return True  # "for non-💰 use only": a purpose forkvet cannot read is still a limit
    topics = limiting_sentences(line, "", prose=True)
    # The scope alone ("only", "solely") and engineering words ("internal") are terms where a
    # use is allowed or forbidden ("may be used solely to reproduce", "may not be used in
    # production"), not in a how-to ("if and only if you intend to use CFG", "the internal
    # names").
    if any(t not in _WEAK_TOPICS for t in topics):
        return True
    return bool(topics) and bool(_MODAL_USE.search(line))


_WEAK_TOPICS = frozenset(["the grant's scope", "internal", "production", "hosted", "saas"])
_PURPOSE_ONLY = rx.compile(
    r"(?i)\bfor\s+(?:[^\s.;:]+\s+){1,3}?(?:use|usage|uses|purposes?)\s+only\b"
)
_MODAL_USE = rx.compile(
    r"(?i)\b(?:may|must|shall)\s+(?:only\s+|not\s+|solely\s+)?(?:be\s+)?(?:used|use|"
    r"offered|provided|deployed|hosted|served|sold|distributed|redistributed|made\s+available)\b"
)
_GRANT_TEXT = rx.compile(
    r"(?i)\bhereby\s+grants?\b|\bpermission\s+is\s+hereby\s+granted\b|"
    r"\bterms\s+and\s+conditions\s+for\s+use,\s+reproduction\b"
)


_ADVICE = rx.compile(
    r"(?i)\bshould\b|\brecommend|\bsuggest|\bencourage|\bhereby\b|\broyalty-free\b|"
    r"\bgrants?\s+(?:to\s+)?you\b"
)


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
