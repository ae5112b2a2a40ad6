"""The inverted terms reader (round 23, outside attack round 22d F2, F3, F4, F6, F7, F12, F15):
"yes" is earned, so a sentence of terms that forkvet cannot explain is a gap, whatever section,
file or key carries it, rather than a restriction it must recognise by its wording.

- every sentence a person reads about terms (a word of terms from `data/terms_vocab.json`:
  commercial use, sell, royalty, license, "agree to", written permission, rights reserved …)
  that says nothing forkvet can explain as permissive (a license it knows granting commercial
  use, a pointer at the license file, a plain grant of commercial use) is a gap: in the README
  (every section, not only its License section), the READMEs GitHub may show, the weights' own
  documents and the prose documents at the root and in `docs/`; in a License section or a terms
  document any such sentence, elsewhere one about the code or the model's artefacts (F2, F6);
- a question about terms answered "No" (a FAQ's heading or bold line, then its answer) (F3);
- a terms sentence in a data file's prose value (a BibTeX `note`, YAML/JSON `terms_of_use`,
  `usage`, `description`), a license column of a CSV/TSV table, a container's
  `…image.licenses` label and `CITATION.cff`'s `license-url` (F4);
- a model card that gates its weights on the Hub (`extra_gated_*`, `gated: true`) (F6);
- a document stored in DVC (its `.dvc` file names a README, a terms or prose file) (F7);
- a license or terms file forkvet cannot read (a PDF, a Word file, an image) at any depth (F12).

Functions return (path, what) pairs, the form `license._gaps` turns into gaps."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from forkvet import rx
from forkvet.snapshot import FileEntry
from forkvet.vet import termsdocs, weightsdocs
from forkvet.vet.context import Context
from forkvet.vet.licenseterms import RESTRICTIVE_CLAUSES, clauses, known_license
from forkvet.vet.readmereader import (
    _DATA_SUBJECT,
    _license_at_url,
    _license_sections,
    _named,
    _statements,
    unknown_license_name,
)
from forkvet.vet.shown import vocab
from forkvet.vet.textnorm import fold

MAX_DOCS = 30
MAX_DOC_CHARS = 200_000
MAX_SENTENCES = 3000
MAX_GAPS = 3
MAX_CARDS = 2000


@cache
def _patterns() -> dict[str, rx.Pattern[str]]:
    table = vocab()
    subjects = list(table["subjects"])
    return {
        "terms": rx.compile(r"\b(?:" + "|".join(table["terms_phrases"]) + ")"),
        "strong": rx.compile(r"\b(?:" + "|".join(table["strong_phrases"]) + ")"),
        "asks": rx.compile(r"\b(?:" + "|".join(table["question_words"]) + ")"),
        "idioms": rx.compile(r"\b(?:" + "|".join(table["idioms"]) + r")\b"),
        "explained": rx.compile("|".join(table["explained"])),
        "subject": rx.compile(r"\b(?:" + "|".join(subjects) + r")\b"),
        "no": rx.compile(r"^(?:" + "|".join(table["answers_no"]) + r")\b"),
    }


_CODE = rx.compile(r"\b(?:code|software|source|scripts?)\b")
_ARTEFACTS = weightsdocs._SUBJECT  # the model's artefacts (data/artefact_words.json)
# A sentence that limits or negates: a license named in it no longer explains it.
_LIMITING = rx.compile(
    r"\b(?:not|no|only|except|excluding|unless|without|nor|never|nowhere|solely|strictly)\b"
)


_ADDRESS = rx.compile(r"\b(?:https?://|www\.)\S*")
_MARKS = str.maketrans({c: " " for c in "[]`*\"'"})


def terms_sentence(sentence: str, strict: bool = False) -> bool:
    """Whether a sentence speaks of terms that nothing explains as permissive. strict: in a
    License section, a terms document or text added to a license (any subject)."""
    if sentence.lstrip().startswith("|"):
        return False  # a table row: the row and column readers read it (licenseterms)
    sentence = _ADDRESS.sub(" ", sentence)  # an address's words (`/blob/master/LICENSE`)
    s = " ".join(fold(sentence).lower().translate(_MARKS).split())
    if len(s) > 800 or len(s.split()) < 4 or sentence.rstrip("*_`:) \n").endswith("?"):
        return False  # a question states nothing: its answer is read (refused_question)
    if sentence.lstrip().startswith("#"):
        return False  # a heading names a topic; its section's sentences state the terms
    p = _patterns()
    s = p["idioms"].sub(" ", s)
    if not p["terms"].search(s):
        return False
    found = clauses(s)
    restrictive = any(c in RESTRICTIVE_CLAUSES for c in found)
    if not restrictive and "commercial-contact" in found:
        return False  # an offer beside a license: the README and license readers judge it
    plain = not restrictive and not _LIMITING.search(s)
    if plain and (p["explained"].search(s) or _names_known_license(s)):
        return False  # "released under the MIT license", "see LICENSE", "may be sold"
    if _DATA_SUBJECT.search(s) and not (_CODE.search(s) or _ARTEFACTS.search(s)):
        return False  # a data set's terms ("images in this repository"): reported apart
    if strict or restrictive or p["strong"].search(s):
        return True
    return bool(p["subject"].search(s) or _ARTEFACTS.search(s))


def _names_known_license(s: str) -> bool:
    """The sentence names a license forkvet knows ("Weights: Llama 2 Community License"): the
    license readers judge it, whatever it grants."""
    if known_license(s):
        return True
    names = [m.group(1) for m in _statements(s)[:5]]
    return bool(names) and all(_named(n, "", "readme", 0.6) for n in names)


_CUT = rx.compile(r"[.!?](?:\s|$)|\n[ \t]*\n|\n[ \t]*(?:[-*+#|>]|\d{1,3}[.)]\s)")
_PROSE_NOISE = rx.compile(
    r"(?s)```.*?(?:```|\z)|~~~.*?(?:~~~|\z)|\]\([^)\n]{0,500}\)|<[^>\n]{0,300}>|"
    # A link's reference definition (`[license]: LICENSE.txt`): an address, not a sentence.
    r"(?m:^[ \t]*\[[^\]\n]{1,200}\]:[ \t]*\S+[^\n]*$)|\b(?:https?://|www\.)\S*"
)


def pieces(text: str) -> Iterator[str]:
    """A document's sentences, list items, table rows and headings, links' addresses and code
    blocks removed (their words are not terms a person reads)."""
    body = _PROSE_NOISE.sub(lambda m: "]" if m.group(0).startswith("]") else " ", text)
    start = 0
    for i, m in enumerate(_CUT.finditer(body)):
        if i >= MAX_SENTENCES:
            return
        yield body[start : m.start() + 1]
        start = m.end() - (1 if m.group(0)[-1:] in "-*+#|>" else 0)
    yield body[start:]


def document_gap(path: str, text: str, strict: bool = False) -> str:
    """What in one document is terms forkvet cannot explain ("" if nothing): an unexplained
    terms sentence (every sentence of its License sections counts), or a question about terms
    answered "No"."""
    text = _FRONT.sub("", text[:MAX_DOC_CHARS], count=1)  # front matter: the card reader's
    for section in [text] if strict else _license_sections(text):
        for piece in pieces(section):
            if terms_sentence(piece, strict=True):
                return _said(path, piece, "in its License section" if not strict else "")
    for piece in [] if strict else pieces(text):
        if terms_sentence(piece) or _unread_commerce(piece, text):
            return _said(path, piece, "")
    return refused_question(path, text)


_ENGLISH_COMMERCE = rx.compile(r"(?i)\b(?:non-?)?commercial")


def _unread_commerce(piece: str, text: str) -> bool:
    """A sentence with the stem of "commercial" in a language forkvet has no terms words for
    (Hungarian "kereskedelmi", Polish "komercyjny"): read nowhere, so a gap, as in a License
    section (termsdocs.unread_language)."""
    if not termsdocs._COMMERCE_STEM.search(piece) or _ENGLISH_COMMERCE.search(piece):
        return False  # the English word is read by the terms phrases
    return bool(termsdocs.unread_language(piece, text))


def _said(path: str, piece: str, where: str) -> str:
    said = " ".join(piece.strip(" \t\n#*>|-").split())[:160]
    where = f" {where}" if where else ""
    return f"{path} states terms forkvet cannot explain as permissive{where}: {said!r}"


_QUESTION = rx.compile(
    r"(?m)^[ \t]*(?:#{1,6}[ \t]*|\*\*|__)?[ \t]*(?:q\s*[:.)]\s*)?([^\n]{3,300}\?)"
)
_ANSWER_MARK = rx.compile(r"(?i)^[\s>*_#-]*(?:a\s*[:.)]|answer\s*:)?[\s*_]*")


def refused_question(path: str, text: str) -> str:
    """A question about terms ("Can I use the weights commercially?") whose answer, on the
    next line or paragraph, opens with a refusal ("No.", "Nope", "Not at the moment")."""
    p = _patterns()
    if "?" not in text:
        return ""
    for m in list(_QUESTION.finditer(text))[:500]:
        question = " ".join(fold(m.group(1)).lower().split())
        if not p["asks"].search(p["idioms"].sub(" ", question)):
            continue
        after = text[m.end() : m.end() + 400].lstrip("*_ \t").lstrip("\n")
        answer = _ANSWER_MARK.sub("", after.lstrip(), count=1)
        first = " ".join(fold(answer[:80]).lower().split())
        if p["no"].search(first):
            said = " ".join(m.group(1).split())[:120]
            return f"{path} asks {said!r} and answers {first[:40]!r}: terms forkvet cannot explain"
    return ""


# -- documents, cards and files ---------------------------------------------------------------
_TERMS_NAME = rx.compile(
    r"(?i)(?:^|[-_. ])(?:(?:un)?licen[cs]es?|licensing|eula|terms(?:[-_ ]of[-_ ](?:use|service))?|"
    r"agreements?|tos|legal|copying|restrictions?|conditions?|usage[-_ ]policy|aup)(?:$|[-_. ])"
)


def _terms_named(f: FileEntry) -> bool:
    stem = f.name[: -len(f.suffix)] if f.suffix else f.name
    return bool(_TERMS_NAME.search(stem))


@cache
def _not_terms_name() -> rx.Pattern[str]:
    return rx.compile(r"(?i)" + "|".join(vocab()["not_terms_docs"]))


def _not_terms(name: str) -> bool:
    """A document that is not the repository's terms for its users, or one a license reader
    reads already (`CONTRIBUTING.md`, `AGENTS.md`, `ThirdPartyNotices.txt`, a license file)."""
    return bool(_not_terms_name().search(name))


# Files without a suffix that hold instructions, not prose: each has its own reader.
_BUILD_FILES = frozenset(
    ("modelfile", "dockerfile", "containerfile", "makefile", "gnumakefile", "procfile",
     "vagrantfile", "jenkinsfile", "gemfile", "pipfile", "justfile", "snakefile")
)  # fmt: skip


def documents(ctx: Context, readmes: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(path, text, strict) of the documents a person reads for terms: the READMEs given, the
    weights' own documents, and the prose files at the root, in `.github/` and in `docs/`
    (strict: a file named for terms), the first MAX_DOCS."""
    out = [(p, t, False) for p, t in readmes]
    seen = {p for p, _ in readmes}
    prose, _, _ = weightsdocs._candidates(ctx)
    for f, own in prose:
        shallow = len(f.parts) == 1 or (
            f.parts[0].lower() in ("docs", "doc", ".github") and len(f.parts) <= 3
        )
        if f.path in seen or not (own or shallow) or f.suffix not in weightsdocs._PROSE:
            continue
        if weightsdocs._LICENSE_LIKE.search(f.name) or _not_terms(f.name):
            continue  # a license or notice file (license.py), a contributing guide
        if f.name.lower() in _BUILD_FILES:
            continue  # no prose: read by its own reader (a Modelfile's LICENSE: modelsearch)
        seen.add(f.path)
        text = (ctx.snap.read_text(f.path) or "")[:MAX_DOC_CHARS]
        out.append((f.path, text, _terms_named(f) and not own))
        if len(out) >= MAX_DOCS:
            break
    return out


def gaps(ctx: Context, readmes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(path, what) of everything above: the documents, data files, cards and files."""
    out = unreadable_files(ctx) + dvc_documents(ctx) + card_gates(ctx) + data_file_gaps(ctx)
    for path, text, strict in documents(ctx, readmes):
        what = document_gap(path, text, strict)
        if what:
            out.append((path, what))
        if len(out) >= MAX_GAPS:
            break
    return out[:MAX_GAPS]


def unreadable_files(ctx: Context) -> list[tuple[str, str]]:
    """A license or terms file in a format forkvet cannot read as text (`LICENSE.pdf`,
    `EULA.pdf`, `LICENSE-WEIGHTS.png`, `weights/LICENSE.jpg`), at any depth (F12)."""
    kinds = frozenset(vocab()["unread_suffixes"])
    out = []
    for f in ctx.snap.files:
        if f.vendored or f.suffix.lower() not in kinds or f.path.count("/") > 8:
            continue
        if _terms_named(f):
            kind = f.suffix[1:].upper()
            out.append(
                (f.path, f"a license or terms document in {kind}, which forkvet cannot read")
            )
            if len(out) >= MAX_GAPS:
                break
    return out


_DVC_OUT = rx.compile(r"(?m)^[ \t-]*path:[ \t]*['\"]?([^'\"\n]{1,300})")


def dvc_documents(ctx: Context) -> list[tuple[str, str]]:
    """A document stored in DVC: its `.dvc` file names an output that is a README, a terms or
    license file or a prose document; the checkout holds only the pointer (F7)."""
    out = []
    for f in ctx.snap.files:
        if f.vendored or f.suffix != ".dvc" or f.size > 64 * 1024:
            continue
        text = ctx.snap.read_text(f.path) or ""
        names = [m.group(1).strip() for m in list(_DVC_OUT.finditer(text))[:20]]
        names.append(f.name[: -len(".dvc")])
        for name in names:
            base = name.rstrip("/").rsplit("/", 1)[-1]
            suffix = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
            named = _TERMS_NAME.search(base) or weightsdocs._README.match(base)
            if named or suffix in weightsdocs._PROSE - {".txt", ""}:
                out.append((f.path, f"a document stored in DVC ({base}): its text was never read"))
                break
        if len(out) >= MAX_GAPS:
            break
    return out


_GATE = rx.compile(
    r"(?m)^(?:extra_gated_\w+[ \t]*:|gated[ \t]*:[ \t]*['\"]?(?:true|yes|auto|manual)\b)"
)
_FRONT = rx.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\z)", rx.S)


def card_gates(ctx: Context) -> list[tuple[str, str]]:
    """A model card (a README or a `*.md` named for a model card, at any depth) whose front
    matter gates the weights on the Hub: they come after an agreement forkvet has not read."""
    out = []
    cards = [f for f in ctx.snap.files if f.suffix.lower() in (".md", ".markdown")]
    for f in cards[:MAX_CARDS]:
        if f.vendored or f.path.count("/") > 8 or not 8 <= f.size <= 1 << 20:
            continue
        try:
            head = ctx.snap.read_bytes(f.path, 8192).decode("utf-8", "replace")
        except OSError:
            continue
        fm = _FRONT.match(head)
        if fm and _GATE.search(fm.group(1)):
            out.append((f.path, "a model card gates the weights on the Hub: an agreement unread"))
            if len(out) >= MAX_GAPS:
                break
    return out


# -- data files: terms under other keys and kinds (F4) ------------------------------------------
MAX_DATA_FILES = 500
MAX_DATA_BYTES = 512 * 1024
MAX_DATA_TOTAL = 16 * 1024 * 1024
_DATA_KINDS = frozenset(
    [".bib", ".yaml", ".yml", ".json", ".toml", ".cff", ".csv", ".tsv", ".cfg", ".ini"]
)
_LABEL = rx.compile(
    r"(?i)\bLABEL\b[^\n]{0,500}?licen[cs]es?[\"']?[ \t]*=[ \t]*[\"']?([^\"'\s\\]{2,80})"
)
_CFF_URL = rx.compile(r"(?m)^[ \t]*license-url[ \t]*:[ \t]*['\"]?(\S{4,300}?)['\"]?[ \t]*$")
# Keys a person reads as terms: their values are read as a License section's sentences.
_TERMS_KEYS = frozenset(
    [
        "terms",
        "terms_of_use",
        "terms-of-use",
        "termsofuse",
        "restrictions",
        "conditions",
        "legal",
        "rights",
        "permissions",
        "disclaimer",
    ]
)


@cache
def _string_value() -> rx.Pattern[str]:
    keys = "|".join(rx.escape(k) for k in vocab()["string_keys"])
    return rx.compile(
        rf"(?i)(?:^|[\s{{,\"'])[\"']?({keys})[\"']?[ \t]*[:=][ \t]*[\[{{\"'>|-]*[ \t]*"
        r"([^\n\"'{}]{3,600})"
    )


def data_file_gaps(ctx: Context) -> list[tuple[str, str]]:
    """A data file's prose value about terms that nothing explains (a BibTeX `note`, a YAML
    `terms_of_use:`, a JSON `"usage"`, a TOML `description`), a license column of a CSV/TSV
    table, a container's license label, `CITATION.cff`'s `license-url`, naming anything but a
    license forkvet knows to grant commercial use."""
    out: list[tuple[str, str]] = []
    budget, read = MAX_DATA_TOTAL, 0
    for f in ctx.snap.files:
        docker = f.name.startswith(("Dockerfile", "Containerfile"))
        if f.vendored or not (docker or f.suffix.lower() in _DATA_KINDS):
            continue
        if f.path.count("/") > 4 or not 0 < f.size <= MAX_DATA_BYTES or budget < f.size:
            continue
        read, budget = read + 1, budget - f.size
        if read > MAX_DATA_FILES:
            break
        what = _data_gap(f, ctx.snap.read_text(f.path) or "")
        if what:
            out.append((f.path, what))
            if len(out) >= MAX_GAPS:
                break
    return out


def _data_gap(f: FileEntry, text: str) -> str:
    names: list[str] = []
    if f.suffix.lower() in (".csv", ".tsv"):
        names += _license_cells(text, "\t" if f.suffix.lower() == ".tsv" else ",")
    names += [m.group(1) for m in list(_LABEL.finditer(text))[:10]]
    for name in names[:200]:
        if not _grants(name, f.path):
            return (
                f"{f.path} names {name[:80]!r} as a license, not one known to grant commercial use"
            )
    for m in list(_CFF_URL.finditer(text))[:3] if f.suffix.lower() == ".cff" else []:
        items = _license_at_url(m.group(1), f.path)
        if not items or any(t.commercial_use is not True for _, t in items):
            return f"{f.path} gives its license as the address {m.group(1)[:100]!r}"
    if not _patterns()["terms"].search(fold(text[:MAX_DATA_BYTES]).lower()):
        return ""
    for m in list(_string_value().finditer(text))[:2000]:
        strict = m.group(1).lower() in _TERMS_KEYS
        if terms_sentence(m.group(2), strict=strict):
            return _said(f.path, m.group(2), f"under the key {m.group(1)!r}")
    return ""


def _license_cells(text: str, sep: str) -> list[str]:
    """The cells of a table's license columns (`model,url,license`)."""
    lines = text.splitlines()[:5000]
    if not lines:
        return []
    head = [c.strip().strip("\"'").lower() for c in lines[0].split(sep)]
    columns = [k for k, c in enumerate(head) if c in vocab()["license_columns"]]
    out = []
    for line in lines[1:] if columns else []:
        cells = line.split(sep)
        out += [cells[k].strip().strip("\"'") for k in columns if k < len(cells)]
    return [c for c in out if c]


def _grants(name: str, path: str) -> bool:
    """A license name forkvet knows to grant commercial use, and nothing else."""
    named = _named(name, path, "file", 0.7)
    grants = bool(named) and all(t.commercial_use is True for _, t in named)
    return grants and not unknown_license_name(name, path)
