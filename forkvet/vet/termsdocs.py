"""Every document that can carry terms, and the ones forkvet cannot read (outside attack round
21d, F6, F7, F9, F12b, F13).

"Yes is earned" by construction for documents: a document that may state the weights' or the
code's terms is read by the license reader, or it is a gap (commercial use "unclear", never
silence) when forkvet cannot read it:

- a document stored as a Git LFS pointer (a README, `WEIGHTS.md`, a model card): GitHub shows
  the real text, the checkout holds only the pointer (F7);
- the weights' own document in a format forkvet does not read (`WEIGHTS.pdf`,
  `docs/MODEL_CARD.pdf`, `checkpoints/README.pdf`, `Model_Usage.docx`) (F13);
- the weights' own document (`WEIGHTS.md`, a weights folder's README, a model card) in a
  language or script forkvet has no terms words for — the README's rule, for every document
  (F9);
- a License section that shows an image (its terms are pixels, not text) (F6);
- a code or config file over the size the license and base-model readers read (512 KiB): read
  again cheaply for a license key or a model loaded by a hub id; one that holds either, or
  that the cheap reading cannot reach, is a gap (F12b).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from forkvet import rx
from forkvet.snapshot import FileEntry
from forkvet.vet import licensegaps, weightsdocs
from forkvet.vet.context import Context
from forkvet.vet.licenseterms import clauses
from forkvet.vet.readmereader import _ENGLISH

MAX_OWN_DOCS = 20
MAX_OWN_CHARS = 200_000
_LFS_VERSIONS = (
    b"version https://git-lfs.github.com/spec/v1",
    b"version https://hawser.github.com/spec/v1",
    b"version http://git-media.io/v/2",
)
# Documents GitHub shows (or offers to download) that forkvet cannot read as text.
_BINARY_DOC = frozenset(
    (".pdf", ".doc", ".docx", ".odt", ".rtf", ".pages", ".epub", ".ppt", ".pptx", ".odp", ".xps")
)
# A name that says a binary document is the weights' own (or a README): a word of its stem.
_OWN_DOC_NAME = rx.compile(
    r"(?i)(?:^|[-_. ])(?:weights?|checkpoints?|ckpts?|pre-?trained|downloads?|usage|terms|"
    r"model[-_ ]?cards?|cards?|zoo|readme)(?:$|[-_. ])"
)
# Formats whose text a reader sees rendered (not data): a pointer in their place hides one.
_RENDERED = weightsdocs._PROSE - frozenset([".txt", ".text", ""])


def own_documents(ctx: Context) -> list[tuple[str, str]]:
    """(path, text) of the weights' own documents (named for the weights, a weights folder's
    README, a model card) that the weights-document reader reads in full, the first
    MAX_OWN_DOCS: read once per run."""
    if "termsdocs.own" not in ctx.memo:
        prose, _, _ = weightsdocs._candidates(ctx)
        own = [fe for fe, is_own in prose if is_own][:MAX_OWN_DOCS]
        ctx.memo["termsdocs.own"] = [
            (fe.path, (ctx.snap.read_text(fe.path) or "")[:MAX_OWN_CHARS]) for fe in own
        ]
    return ctx.memo["termsdocs.own"]  # type: ignore[no-any-return]


def gaps(ctx: Context, sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(path, what) of the documents that may state terms and that forkvet cannot read."""
    out = _pointers(ctx) + _binary_documents(ctx) + _unread_languages(ctx)
    out += _images(sections) + oversized(ctx)
    return out


def _pointers(ctx: Context) -> list[tuple[str, str]]:
    """A document stored as a Git LFS pointer: its text is not in the checkout (F7)."""
    out = []
    for f in ctx.snap.files:
        if f.vendored or not 0 < f.size <= 1024 or not _document(f):
            continue
        try:
            head = ctx.snap.read_bytes(f.path, 64)
        except OSError:
            continue
        if head.lstrip().startswith(_LFS_VERSIONS):
            out.append((f.path, "stored as a Git LFS pointer: its text was never read"))
            if len(out) >= 3:
                break
    return out


def _document(f: FileEntry) -> bool:
    readme = bool(weightsdocs._README.match(f.name))
    named = bool(weightsdocs._NAMED_FOR_WEIGHTS.search(f.name))
    return f.suffix in _RENDERED or (f.suffix in weightsdocs._PROSE and (readme or named))


def _binary_documents(ctx: Context) -> list[tuple[str, str]]:
    """The weights' own document (or a README) in a format forkvet does not read (F13). A
    license or terms file in such a format is the license reader's ("License file not read")."""
    out = []
    for f in ctx.snap.files:
        if f.vendored or f.suffix not in _BINARY_DOC or f.path.count("/") > 8:
            continue
        stem = f.name[: -len(f.suffix)]
        if _OWN_DOC_NAME.search(stem) and not weightsdocs._LICENSE_LIKE.search(f.name):
            out.append((f.path, f"a {f.suffix[1:].upper()} document forkvet cannot read"))
            if len(out) >= 3:
                break
    return out


@cache
def _words() -> dict[str, frozenset[str]]:
    """Common English words, and function words of the Latin-script languages whose terms
    forkvet's foreign tables read (`forkvet/data/read_languages.json`)."""
    raw = resources.files("forkvet.data").joinpath("read_languages.json").read_text("utf-8")
    table = json.loads(raw)
    out = {lang: frozenset(words) for lang, words in table["function_words"].items()}
    out["english"] = frozenset(table["english"])
    return out


def unread_language(sentence: str, text: str) -> str:
    """The language of a sentence forkvet has no terms words for ("Greek", "a language other
    than English"), or "": English, a script its tables read (Chinese, Japanese, Korean,
    Russian, Ukrainian, Arabic, Hindi), or Latin-script prose with two function words of
    French, German, Spanish, Italian or Portuguese."""
    language = licensegaps.sentence_language(sentence)
    if language and language != "a language other than English":
        return "" if licensegaps._read_script(language, text) else language
    # Words of letters only: identifiers, hashes, emoji codes and addresses are no prose.
    plain = _NOT_PROSE.sub(" ", sentence)
    tokens = [
        w for w in plain.split() if rx.fullmatch(r"\pL+(?:['’-]\pL+)*", w.strip('.,:;!?()"*'))
    ]
    lower = [t.lower().strip('.,:;!?()"*') for t in tokens]
    words = _words()
    english = sum(t in _ENGLISH for t in lower)
    stem = _COMMERCE_STEM.search(" ".join(lower))
    if len(tokens) < 6 or (english and not stem) or 5 * english >= len(tokens):
        return ""  # English by its function words (one is enough in technical prose)
    if 2 * sum(t in words["english"] for t in lower) >= len(tokens):
        return ""
    if 2 * sum(t[:1].islower() for t in tokens) <= len(tokens):
        return ""  # a list of names, a title: not prose
    read = [w for lang, w in words.items() if lang != "english"]
    return "" if any(len(set(lower) & w) >= 2 for w in read) else "a language other than English"


# "Commercial" in the Latin-script languages of Europe and Asia (commercieel, komercyjny,
# kommersiell, komerční, comercial, kaupallinen, ticari, thương mại, komersial): a sentence with
# it and few English words is terms forkvet has no words for, even beside an English word.
_COMMERCE_STEM = rx.compile(
    r"(?i)k?[ck]omm?er[csčz]|ticari|th[uư][oơ]ng\s+m[aạ]i|kaupalli|kereskedelm"
)
_NOT_PROSE = rx.compile(r"(?i)\b(?:https?|ftp)://\S+|\S+@\S+|\[[^\]\n]*\]\([^)\n]*\)|:\w+:|#!\S*")


def _unread_languages(ctx: Context) -> list[tuple[str, str]]:
    """A sentence of the weights' own document in a language or script forkvet has no terms
    words for, and that the weights' reader does not read as a restriction: its terms are
    unread, as in the README (F9)."""
    out = []
    for path, text in own_documents(ctx):
        body = licensegaps._CODE_BLOCK.sub(" ", text)
        for sentence in rx.split(r"[.!?;\n\u3002\uff01\uff1f\uff1b\u0964]", body)[:500]:
            if any(ch in sentence for ch in "{}=@\\|`"):
                continue  # code, a citation or a table
            language = unread_language(sentence, text)
            if not language or any(c in weightsdocs._RESTRICTIVE for c in clauses(sentence)):
                continue
            said = " ".join(sentence.split())[:100]
            out.append((path, f"the weights' own document in {language} ({said!r}), unread"))
            break
        if len(out) >= 3:
            break
    return out


_IMAGE = rx.compile(
    r"!\[[^\]\n]{0,300}\]\(\s*<?([^)\s>]{1,500})|<img\b[^>]{0,500}?\bsrc\s*=\s*[\"']?([^\"'\s>]{1,500})"
)
# Images whose words forkvet reads: a badge (its label and message) and the Creative Commons
# buttons (their address names the license).
_READ_IMAGE = rx.compile(
    r"(?i)shields\.io|badgen\.net|badge|licensebuttons\.net|creativecommons\.org|"
    r"opensource\.org|forthebadge"
)


def _images(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A License section that shows an image forkvet cannot read (a picture of the terms, not
    a badge): what it says is not text (F6)."""
    for path, section in sections:
        for m in list(_IMAGE.finditer(section[:20_000]))[:20]:
            address = m.group(1) or m.group(2) or ""
            if not _READ_IMAGE.search(address):
                said = address[:100]
                return [(path, f"a License section that shows an image ({said}): terms as pixels")]
    return []


# The bound of the license-key and base-model readers (licensefields.MAX_BYTES,
# modelterms' code search): files over it are read here cheaply, head and tail.
MAX_READ = 512 * 1024
MAX_SCAN = 8 * 1024 * 1024
MAX_SCAN_TOTAL = 96 * 1024 * 1024
_BIG_KINDS = frozenset([".py", ".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".sh"])
# A license key with a text value, or a model loaded (or set) by a hub id.
_KEYS = rx.compile(
    r"(?i)licen[cs]e\w*[\"']?[ \t]*[:=][ \t]*[\"']?[A-Za-z]|"
    r"(?:from_pretrained|hf_hub_download|snapshot_download|pipeline|_name_or_path|"
    r"model_name|model_id|base_model\w*|repo_id|pretrained\w*)[\"']?[ \t]*[(:=,][ \t]*"
    r"(?:[\w]+[ \t]*=[ \t]*)?[\"']?[\w.-]+/[\w.-]+"
)


def oversized(ctx: Context) -> list[tuple[str, str]]:
    """Code and config files over MAX_READ, which the license-key and base-model readers skip:
    read here cheaply (their first and last MAX_SCAN bytes, MAX_SCAN_TOTAL in all); a file
    that holds a license key or a hub id set for a model, one larger than twice MAX_SCAN (its
    middle unread) and files past the total are gaps: a bound never passes silently (F12b)."""
    out: list[tuple[str, str]] = []
    budget = MAX_SCAN_TOTAL
    for f in ctx.snap.files:
        if f.vendored or f.suffix.lower() not in _BIG_KINDS or f.size <= MAX_READ:
            continue
        why = f"{f.size:,} bytes, over the {MAX_READ:,} the license readers read"
        budget -= min(f.size, 2 * MAX_SCAN)
        if budget < 0:
            out.append((f.path, f"{why}, past the {MAX_SCAN_TOTAL:,} read again"))
            break
        found = _scan(ctx, f)
        if found or f.size > 2 * MAX_SCAN:
            said = f"; it holds {found!r}" if found else ", too large to read again"
            out.append((f.path, why + said))
        if len(out) >= 3:
            break
    return out


def _scan(ctx: Context, f: FileEntry) -> str:
    try:
        with ctx.snap.open(f.path) as fh:
            parts = [fh.read(MAX_SCAN)]
            if f.size > MAX_SCAN:
                fh.seek(max(MAX_SCAN, f.size - MAX_SCAN))
                parts.append(fh.read(MAX_SCAN))
    except OSError:
        return "(unreadable)"
    for raw in parts:
        m = _KEYS.search(raw.decode("utf-8", "replace"))
        if m:
            return m.group(0)[:120]
    return ""


# A Python constant whose name is shaped like a license key (`WEIGHTS_LICENSE = "CC-BY-NC-4.0"`,
# `MODEL_LICENCE`, `__license__`): the key-shape rule of licensefields, for code (F6).
_CODE_FIELD = rx.compile(
    r"(?m)^[ \t]*(?:[A-Za-z_]\w*\.)?([A-Za-z_]*(?i:licen[cs]e)[A-Za-z_]*)[ \t]*"
    r"(?::[ \t]*str[ \t]*)?=[ \t]*[rRuU]?(?:\"([^\"\n]{2,200})\"|'([^'\n]{2,200})')"
)
MAX_CODE_FILES = 2000
_LICENSE_WORD = rx.compile(r"(?i)licen[cs]e")


def code_license_fields(ctx: Context) -> list[tuple[str, str]]:
    """(path, value) of the license-shaped constants of the repository's own Python files
    (not `__license__`, which licensefields reads; not a key or a file's name), the first
    MAX_CODE_FILES files of at most MAX_READ bytes."""
    out: list[tuple[str, str]] = []
    files = [f for f in ctx.snap.files if f.suffix == ".py" and not f.vendored]
    for f in files[:MAX_CODE_FILES]:
        if f.size > MAX_READ:
            continue  # oversized() reads it
        text = ctx.snap.read_text(f.path) or ""
        if not _LICENSE_WORD.search(text):
            continue
        for m in list(_CODE_FIELD.finditer(text))[:20]:
            name, value = m.group(1).lower(), (m.group(2) or m.group(3)).strip()
            if name == "__license__" or rx.search(r"key|file|path|url|dir|type", name):
                continue
            out.append((f.path, value))
        if len(out) >= 50:
            break
    return out
