"""What forkvet found about the code's or the weights' terms but could not judge (outside
attack round 19c).

Commercial use is "yes" only when every statement found is a known grant: a document a bound
kept unread (a README over the read size, a weights document or notebook past a size, depth or
count bound), a license named for the weights that forkvet does not know, a license value it
cannot map — each is a gap, and a gap makes the answer "unclear" with its reason, never "yes".
This module lists the gaps as (path, what); the license check turns each into an unclear term.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from forkvet import rx
from forkvet.vet import licensedb, licensefields, modelsearch, weightsdocs
from forkvet.vet.context import Context
from forkvet.vet.modelterms import sentences
from forkvet.vet.readmereader import (
    _REFERRING,
    _foreign,
    _license_at_url,
    names_a_license,
    unknown_license_name,
)
from forkvet.vet.textnorm import fold


def gaps(
    ctx: Context, documents: list[str], sections: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(path, what forkvet could not judge), at most a few of each kind. documents: the
    files that may state terms; sections: (path, License section) of the READMEs."""
    out: list[tuple[str, str]] = []
    out += _undecoded(ctx, documents)
    out += _unread_languages(sections)
    out += _unread_scripts(ctx)
    out += _linked_terms(sections)
    out += _unsearched_base(ctx)
    out += _unread_readme(ctx)
    out += [(p, f"past what is read in full ({why})") for p, why in weightsdocs.unread_docs(ctx)]
    out += _weights_on_request(ctx)
    out += [(p, f"a metadata file not read ({why})") for p, why in licensefields.unread(ctx)]
    return out


# Weights given on request, through a form or an agreement (round 19c, L19): their terms are
# whatever the request grants, not in the repository, so the code's license earns no "yes".
_ON_REQUEST = rx.compile(
    r"(?i)\b(?:up)?on\s+(?:\w+\s+){0,2}?request\b|\bby\s+request\b|\bupon\s+approval\b|"
    r"\bfill\s*(?:in|out)?\s+(?:this|the|a|our)\b[^.\n]{0,60}?\bform\b|"
    r"\b(?:request|apply\s+for)\s+(?:\w+\s+)?access\b|\baccess\s+requests?\b|"
    r"\bforms\.gle/|\bdocs\.google\.com/forms\b"
)
_WEIGHTS = rx.compile(
    r"(?i)\b(?:models?|weights|checkpoints?|ckpts?|pre-?trained|parameters|snapshots?)\b"
)


def _weights_on_request(ctx: Context) -> list[tuple[str, str]]:
    """The README's first sentence that gives the weights on request (a form, an access
    request): their terms are not stated here."""
    fe = ctx.snap.readme
    if fe is None or not _ON_REQUEST.search(ctx.readme[:200_000]):
        return []
    for s in sentences(fold(ctx.readme[:200_000]))[:5000]:
        if len(s) < 600 and _ON_REQUEST.search(s) and _WEIGHTS.search(s):
            said = " ".join(s.split())[:160]
            return [(fe.path, f"gives the weights on request ({said!r}): their terms are not here")]
    return []


def _unread_readme(ctx: Context) -> list[tuple[str, str]]:
    """The README GitHub shows, over the size forkvet reads: its License section unread."""
    fe = ctx.snap.readme
    if fe is None or fe.size <= ctx.snap.max_text_bytes:
        return []
    return [(fe.path, f"not read ({fe.size:,} bytes, over the {ctx.snap.max_text_bytes:,} read)")]


def _undecoded(ctx: Context, documents: list[str]) -> list[tuple[str, str]]:
    """A document that may state terms in no encoding forkvet (or GitHub's detection) reads:
    its terms are unread (round 20c, F1)."""
    out = []
    for path in documents[:200]:
        if ctx.snap.undecodable(path):
            out.append((path, "not decoded: in an encoding forkvet cannot detect"))
    return out[:3]


# Scripts by the first word of their letters' Unicode names: the script a sentence is in.
_SCRIPT_NAMES = {"CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese"}
_MIN_LETTERS = 6


def _script(ch: str) -> str:
    word = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
    return _SCRIPT_NAMES.get(word, word.title())


def sentence_language(sentence: str) -> str:
    """The script a sentence is mostly written in when not Latin ("Greek", "Thai"), "a
    language other than English" for Latin prose with almost no English function word, or
    "" for English (or too short to tell)."""
    letters = [ch for ch in sentence if ch.isalpha()]
    if len(letters) < _MIN_LETTERS:
        return ""
    other = Counter(_script(ch) for ch in letters if not ch.isascii())
    other.pop("Latin", None)
    if 2 * sum(other.values()) > len(letters):
        return other.most_common(1)[0][0]
    tokens = rx.findall(r"[a-z]+", fold(sentence).lower())
    if not _foreign(sentence, tokens):
        return ""
    # Few function words, and most words no license text's ("Please strictly follow the open
    # source license" is English in other words).
    english = sum(t in licensedb.vocabulary() for t in tokens)
    return "a language other than English" if 2 * english < len(tokens) else ""


_CODE_BLOCK = rx.compile(
    r"(?s)```.*?(?:```|\z)|~~~.*?(?:~~~|\z)|<[^>\n]{0,200}>|\b(?:https?://|www\.)\S*"
)


def _unread_languages(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A License section sentence in a language forkvet has no terms vocabulary for: it
    reads English terms (and spots restrictions in a few languages, which can make an answer
    worse, never earn a yes), so such a sentence is a gap naming the language, unless it
    only names a license forkvet knows (round 20c, F3)."""
    from forkvet.vet.licenseterms import RESTRICTIVE_CLAUSES, clauses

    out = []
    for path, section in sections:
        body = _CODE_BLOCK.sub(" ", section[:20_000])
        for sentence in rx.split(r"[.!?;\n\u3002\uff01\uff1f\uff1b\u0964]", body)[:300]:
            code = any(ch in sentence for ch in "{}=@\\|")  # a citation's or a table's
            language = "" if code else sentence_language(sentence)
            if not language or any(c in RESTRICTIVE_CLAUSES for c in clauses(sentence)):
                continue
            if names_a_license(sentence) and _only_a_name(sentence):
                continue
            said = " ".join(sentence.split())[:100]
            out.append((path, f"a License section in {language} ({said!r}), unread"))
            break
    return out[:3]


def _only_a_name(sentence: str) -> bool:
    """Few words beside the license name ("本项目采用 MIT 许可证"): a name, not terms."""
    letters = sum(ch.isalpha() and not ch.isascii() for ch in sentence)
    return len(sentence.split()) <= 6 and letters <= 16


_LINK = rx.compile(r"\[([^\]\n]{0,200})\]\((https?://[^)\s]{1,500})[^)\n]{0,200}\)")
_TERMS_WORD = rx.compile(r"(?i)licen[cs]|\bterms\b|agreement|polic(?:y|ies)")
_POINTING = frozenset(["here", "this", "link", "that", "there", "page", "see"])
_OWN_COPY = rx.compile(r"(?i)^https?://github\.com/[^/]+/[^/]+/(?:blob|tree|raw)/[^/]+/[^?#]*licen")


def _names_known(text: str, path: str) -> bool:
    """The link's text names a license forkvet knows: a name, or an SPDX full or family name
    ("SIL Open Font License, version 1.1"), not a mere reference ("this license")."""

    if names_a_license(text):
        return True
    own = [w for w in rx.findall(r"[\pL\pN]+", text.lower()) if w not in _REFERRING]
    return bool(own) and not unknown_license_name(text, path)


def _linked_terms(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A License section link to an address whose text names no license forkvet knows and
    whose address is no license's page ("released under [this license](URL)", "Weights:
    [our license](URL)"): the terms are at an address forkvet never read (round 20c, F8)."""
    out = []
    for path, section in sections:
        for m in list(_LINK.finditer(section[:20_000]))[:50]:
            text, url = m.group(1).strip("*_` "), m.group(2)
            if _names_known(text, path) or _license_at_url(url, path) or _OWN_COPY.search(url):
                continue
            # The word after a link is its name's ("[Evil x](URL) License"), unless the link's
            # text is an address (a source cited: "Source: [www.x.int](URL) License ...").
            address = rx.search(r"^(?:https?://|www\.)|^[\w-]+(?:\.[\w-]+)+/?$", text)
            said = text + ("" if address else " " + section[m.end() : m.end() + 12])
            line = section[max(0, m.start() - 80) : m.end() + 40]
            if not _TERMS_WORD.search(said) and not (
                set(text.lower().split()) <= _POINTING and _TERMS_WORD.search(line)
            ):
                continue  # a link beside the terms (a paper, a website), not to them
            out.append((path, f"puts terms at an address forkvet did not read ({url[:100]})"))
            break
    return out[:3]


def _unsearched_base(ctx: Context) -> list[tuple[str, str]]:
    """Code files past the one model search's bound (modelsearch, which every reader of model
    names consumes): what they load is unread, never a silent pass."""
    left = modelsearch.searched(ctx).left
    if not left:
        return []
    return [(left[0], f"{len(left)} code files past the model search's bound, unread")]


# Scripts whose languages forkvet has terms words for (licenseterms' foreign tables: Chinese,
# Japanese, Korean, Russian, Ukrainian, Arabic, Hindi); a letter that only other languages of
# the script write (Kazakh's қ, Persian's گ) tells those apart.
_READ_SCRIPTS = frozenset(["Chinese", "Japanese", "Hangul", "Cyrillic", "Arabic", "Devanagari"])
_OTHER_LANGUAGE_LETTERS = rx.compile(r"[әғқңөұүһјљњћђџўپچژگکیےٹڈڑں]")
_RUSSIAN_OR_UKRAINIAN = rx.compile(r"[ыэєїґ]")
_HEADING = rx.compile(r"(?m)^(?:#{1,6}[ \t]|[^\n]*\n[=-]{3,}[ \t]*$)")


def _read_script(script: str, text: str) -> bool:
    if script not in _READ_SCRIPTS or _OTHER_LANGUAGE_LETTERS.search(text.lower()):
        return False
    return script != "Cyrillic" or bool(_RUSSIAN_OR_UKRAINIAN.search(text.lower()))


def _unread_scripts(ctx: Context) -> list[tuple[str, str]]:
    """A README section written mostly in a script forkvet has no terms words for (Greek,
    Hebrew, Thai, Persian, Bulgarian, ...), under whatever heading ("## Άδεια"): its terms,
    if any, are unread, so commercial use is not a plain yes (round 20c, F3)."""
    fe = ctx.snap.readme
    text = ctx.readme[:200_000]
    if fe is None or text.isascii():
        return []
    for section in _HEADING.split(_CODE_BLOCK.sub(" ", text))[:500]:
        letters = [ch for ch in section if ch.isalpha()]
        scripts = Counter(_script(ch) for ch in letters if not ch.isascii())
        scripts.pop("Latin", None)
        if not scripts:
            continue
        script, count = scripts.most_common(1)[0]
        if count >= 12 and 2 * count > len(letters) and not _read_script(script, section):
            said = " ".join(section.split())[:100]
            return [(fe.path, f"a section in {script} ({said!r}), a script forkvet does not read")]
    return []
