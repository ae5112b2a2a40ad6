"""Patterns that used look-arounds or possessive runs were rewritten for RE2. Each rewrite is
checked here against the old `re` pattern (kept in this test only) on many generated inputs
built from the pieces that pattern cares about: the same matches, groups and outputs."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator

import pytest

from bot.handlers.comments import COMMAND
from forkvet import escape, rx
from forkvet.envgen import metadata_fix, uv
from forkvet.runtime import losses, smoke
from forkvet.vet import (
    copyright,
    entry_points,
    frameworks,
    license,
    licensesections,
    python_version,
    risks,
)
from forkvet.vet.licenseterms import known_license
from forkvet.vet.textnorm import line_of

N = 3000
# RE2's \b sees ASCII word characters only (documented): next to a non-ASCII letter it finds a
# boundary that `re` does not. Tests of patterns with \b use non-ASCII characters that are not
# letters ("€", an ideographic space); the Unicode classes are compared in test_regex_engine.


def _texts(pieces: list[str], seed: str, n: int = N, most: int = 12) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(n):
        yield "".join(rng.choice(pieces) for _ in range(rng.randrange(0, most)))


def _spans(ms: Iterator[re.Match[str]] | Iterator[rx.Match[str]]) -> list[object]:
    return [(m.start(), m.groups()) for m in ms]


# -- escape.md_inline ----------------------------------------------------------------------------
_OLD_LINE_START = re.compile(r"^(#{1,6}(?=\s|$)|[-+](?=\s|$)|[-=]+\s*$|\d{1,9}(?=[.)](?:\s|$)))")


def _old_md_tail(escaped: str) -> str:
    m = _OLD_LINE_START.match(escaped)
    if m:
        end = m.end()
        if m.group(1)[0].isdigit():
            escaped = escaped[:end] + "\\" + escaped[end:]
        else:
            escaped = "\\" + escaped
    z = escape.ZWSP
    escaped = re.sub(r"@(?=[\w-])", "@" + z, escaped)
    escaped = re.sub(r"(?<!&)#(?=\d)", "#" + z, escaped)
    escaped = re.sub(r"(?i)\bgh(?=-\d)", lambda m: m.group(0) + z, escaped)
    escaped = escaped.replace("://", ":" + z + "//")
    escaped = re.sub(r"(?i)\bwww(?=\.)", "www" + z, escaped)
    return re.sub(r":(?=[a-z0-9_+\\-]+:)", ":" + z, escaped, flags=re.I)


def _old_md_inline(value: object) -> str:
    # md_inline as it was, character escaping included (that part is unchanged code).
    text = " ".join(escape._controls(str(value)).split())
    out = []
    for i, ch in enumerate(text):
        if ch in escape._ENTITIES:
            out.append(escape._ENTITIES[ch])
        elif ch in escape._BACKSLASHED:
            out.append("\\" + ch)
        elif ch == "_" and not (
            0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        ):
            out.append("\\_")
        else:
            out.append(ch)
    return _old_md_tail("".join(out))


def test_md_inline_as_before() -> None:
    pieces = ["#", "##", "-", "+", "=", "1", "23", ".", ")", " ", "@", "a", "&", "#1", ":", "gh"]
    pieces += ["-1", "www", "WWW", ".", "_", "€", "x:", ":y:", "€@", "\t", "&#12;", "::", "<"]
    for text in _texts(pieces, "md"):
        if escape._URL.search(text):
            continue  # a URL is a code span now (test_escape checks it), not text with a ZWSP
        assert escape.md_inline(text, limit=None) == _old_md_inline(text), repr(text)


# -- risks.text_risks ----------------------------------------------------------------------------
_OLD_TEXT_RISKS = (
    (re.compile(r"\btorch\.load\s*\((?![^)]{0,400}\bweights_only\b)"), "torch-load"),
    (re.compile(r"(?<![\w.])(?:c?[pP]ickle|joblib|dill)\.loads?\s*\("), "pickle-load"),
    (re.compile(r"\byaml\.load\s*\((?![^)]{0,400}\bLoader\b)"), "yaml-load"),
    (
        re.compile(r"(?<![\w.])(eval|exec)\s*\(\s*(?!['\"])|^[ \t]*(exec)[ \t]+(?!['\"(])\w", re.M),
        "eval",
    ),
    (re.compile(r"\ballow_pickle\s*=\s*True\b"), "pickle-load"),
    (re.compile(r"\btrust_remote_code\s*=\s*True\b"), "trust-remote-code"),
)


def test_text_risks_as_before() -> None:
    pieces = ["torch.load(", "yaml.load (", "weights_only", "Loader", ")", "x.", "x", "_"]
    pieces += ["pickle.loads(", "cPickle.load (", "joblib.load(", "eval(", "exec ", "exec(", "'"]
    pieces += ['"', " ", "\n", "allow_pickle=True", "trust_remote_code = True", "(", "€", "."]
    for text in _texts(pieces, "risks"):
        lines = line_of(text)
        want = sorted(
            (kind, lines(m.start()))
            for pattern, kind in _OLD_TEXT_RISKS
            for m in pattern.finditer(text)
        )
        got = sorted((kind, line) for kind, _sev, _msg, line in risks.text_risks(text))
        assert got == want, repr(text)


def test_text_risks_look_ahead_bound() -> None:
    for gap in (390, 400, 401, 420):
        text = "torch.load(" + "x" * gap + " weights_only=True)"
        want = bool(_OLD_TEXT_RISKS[0][0].search(text))
        assert bool(risks.text_risks(text)) == want, gap


# -- entry points --------------------------------------------------------------------------------
def _commonmark_spans(text: str) -> list[tuple[int, int, str]]:
    """CommonMark's code spans, the plain way: a run of N backticks is closed by the next run
    of exactly N (a run with none is literal); forkvet keeps those of 4-300 characters on one
    line, which may wrap onto a next line of 1-200 (a longer run's one space each side off)."""
    runs = [(m.start(), len(m.group())) for m in re.finditer(r"`+", text)]
    out, k = [], 0
    while k < len(runs):
        start, n = runs[k]
        match = next((j for j in range(k + 1, len(runs)) if runs[j][1] == n), None)
        if match is None:
            k += 1
            continue
        inner = text[start + n : runs[match][0]]
        inner = inner.strip(" ") if n > 1 else inner
        first, nl, rest = inner.partition("\n")
        if 4 <= len(first) <= 300 and (not nl or (1 <= len(rest) <= 200 and "\n" not in rest)):
            out.append((start, runs[match][0] + n, inner))
        k = match + 1
    return out


def test_inline_code_is_commonmark_code_spans() -> None:
    """The one-scan reader (a run looks at most 16 runs ahead) against the plain definition,
    on every text of up to 16 pieces (so never more runs than it looks ahead)."""
    for text in _texts(["`", "``", "```", "a", "abcd", "\n", " "], "inline", most=16):
        assert list(entry_points._inline_code(text)) == _commonmark_spans(text), repr(text)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            re.compile(
                r"(?i)(?:--?do_train(?:=true)?\b|--?train(?![-\w])|"
                r"(?:--?mode|--?phase|\bmode|\bphase)[= ]+train\b)"
            ),
            entry_points._ARG_TRAIN,
        ),
        (re.compile(r"(?i)\btrain(?!ed)"), rx.compile(r"(?i)\btrain(?:$|[^e]|e(?:$|[^d]))")),
    ],
)
def test_train_words_as_before(old: re.Pattern[str], new: rx.Pattern[str]) -> None:
    pieces = ["--train", "-train", "train", "ed", "e", "-", "x", " ", "=", "--do_train", "mode"]
    for text in _texts([*pieces, "=true", "phase", "TRAIN", "€"], "train"):
        assert bool(old.search(text)) == bool(new.search(text)), repr(text)


def test_top_level_run_as_before() -> None:
    old = re.compile(
        r"^(?:for|while|with)\b[^\n]*:\s*$|^print\b|^[A-Za-z_][\w.]*\s*\((?!.*\bdef\b)", re.M
    )
    pieces = ["for", "with", " x", ":", "\n", "print", "f", "(", "def", " ", "a.b", "undef"]
    for text in _texts(pieces, "top"):
        assert bool(old.search(text)) == entry_points._runs_at_top_level(text), repr(text)


# -- license texts -------------------------------------------------------------------------------
def test_readme_statements_as_before() -> None:
    old = re.compile(
        r"(?:licen[sc]ed|released|distributed|available|provided|published|offered|covered)\s+"
        r"(?:as\s+\S+\s+)?under\s+(?:the\s+|an?\s+)?(?:terms\s+of\s+(?:the\s+)?)?"
        r"([^\n;()]{2,80}?)(?=\.(?!\d)|;|\(|\n|$|,?\s+(?:and|but|except|which|with|see|for)\b)",
        re.I,
    )
    pieces = ["released under ", "licensed under the ", "MIT", "Apache 2", ".", "5", ";", "("]
    pieces += ["\n", ", and ", " with ", "x", " ", "terms of ", "€", "available under an "]
    for text in _texts(pieces, "statement"):
        want = [m.group(1) for m in old.finditer(text)]
        got = [m.group(1) for m in license._README_STATEMENT.resuming(text, lambda m: m.end(1))]
        assert got == want, repr(text)


def test_license_sections_as_before() -> None:
    old = re.compile(
        r"^(?:#{1,6}|\*\*)?[ \t]*+(?:licen[sc]e|licensing|terms of use|copyright)\b[^\n]*\n"
        r"(?:[=\-~^]{3,}[ \t]*\n)?(.*?)(?=^#{1,6}\s|^\S[^\n]*\n[=\-~^]{3,}\s*$|\Z)",
        re.I | re.M | re.S,
    )
    pieces = ["## License\n", "License\n", "===\n", "text ", "\n", "# Other\n", "Copyright\n"]
    pieces += ["x", "---", " ", "**License**\n", "€"]
    for text in _texts(pieces, "sections", most=14):
        want = [m.group(1) for m in old.finditer(text)][:5]
        assert list(license._license_sections(text)) == want, repr(text)


def test_notice_heads_as_before() -> None:
    old_alt = r"(?:licen[cs]es?|copyright(?:\s+notices?)?|notices?)\s+(?:for|of|from)\s+"
    pieces = ["licenses", "copyright notices", "notice", " ", "for", "of", "this", "the ", "x"]
    pieces += ["software", "thisx", "  ", "-", "third-party ", "the software"]
    old_pattern = licensesections._NOTICE_HEAD.pattern.replace(
        old_alt + r"(?P<what>\S[^\n]{0,20})", old_alt + r"(?!this\b|the\s+software\b)\S"
    )
    old = re.compile(old_pattern, re.I)
    for text in _texts(pieces, "notice", most=8):
        assert bool(old.match(text)) == licensesections._notice_head(text), repr(text)


def test_known_licenses_within_a_window_as_before() -> None:
    old = re.compile(r"nvidia\s+source\s+code\s+licen[sc]e[\s\S]{0,4000}?non-?commercial", re.I)
    for gap in (0, 3999, 4000, 4001, 5000):
        text = "NVIDIA Source Code License " + "x" * gap + "non-commercial"
        found = known_license(text)
        assert (found is not None and found.key == "nvidia-nc") == bool(old.search(text)), gap


def test_split_names_as_before() -> None:
    def old(name: str) -> list[str]:
        parts = re.split(r"\s+and\s+(?!(?:its\s+)?affiliates)", name)
        return [p.strip(" ,") for p in parts if p.strip(" ,")]

    pieces = [" and ", "  and  ", "its ", "affiliates", "A", "B", " ", "\tand ", ","]
    for text in _texts(pieces, "names"):
        text = re.sub(r"(?i)\s+and\s+(?:other\s+)?(?:contributors|others)\b.*$", "", text)
        if "," in text:
            continue
        assert copyright._split_names(text) == old(text), repr(text)


def test_copyright_boilerplate_as_before() -> None:
    old = re.compile(copyright._BOILERPLATE.pattern.replace("(?:[^\\w:]|$)", "\\b(?!:)"))
    pieces = ["copyright ", "holders", "holder", "owners", ":", " ", "x", "€", "-"]
    for text in _texts(pieces, "boiler", most=6):
        assert bool(old.search(text)) == bool(copyright._BOILERPLATE.search(text)), repr(text)


# -- Python versions -----------------------------------------------------------------------------
def test_python_versions_as_before() -> None:
    old_readme = re.compile(
        r"python\s*+(?:version\s*+)?(?:==|>=|=|:)?\s*+v?([23])(?:\.(\d{1,2}))?(?!\d)", re.I
    )
    pieces = ["python", " ", "3", "2", ".", "7", "10", "100", "version", "==", "v", "x", "p"]
    for text in _texts(pieces, "py"):
        want = [m.groups() for m in old_readme.finditer(text)]
        got = [m.groups() for m in python_version._README_PY.resuming(text, _after_minor)]
        assert got == want, repr(text)


def _after_minor(m: rx.Match[str]) -> int:
    return m.end(2) if m.group(2) else m.end(1)


@pytest.mark.parametrize(
    ("label", "old"),
    [
        ("octal literal 0777", r"(?<![\w.])0[0-7]+(?![\w.])"),
        ("ur'' string", r"(?<![\w])[uU][rR]\"\""),
        ("long literal 10L", r"(?<![\w.])\d+[lL](?!\w)"),
    ],
)
def test_python2_syntax_as_before(label: str, old: str) -> None:
    new = dict(python_version._PY2_SYNTAX)[label]
    pieces = ["0", "7", "8", "1", "L", "l", "x", ".", " ", "u", "r", '"', "é", "_", "U", "R"]
    for text in _texts(pieces, label):
        assert bool(re.search(old, text)) == bool(new.search(text)), repr(text)


# -- losses ---------------------------------------------------------------------------------------
def test_loss_lines_as_before() -> None:
    num = losses._NUM
    old_name = (
        r"(?<![\w.])(?:train(?:ing)?[_ ]?|total[_ ]?|avg[_ ]?|mean[_ ]?|batch[_ ]?|running[_ ]?)"
        r"?loss"
    )
    value = rf"""['"]?\s*(?:tensor\(\s*\[?\s*)?{num}"""
    old = [
        re.compile(rf"(?i)['\"]{old_name}['\"]\s*:\s*{value}"),
        re.compile(rf"(?i){old_name}(?![\w'\"])\s*(?:\([^)]*\))?\s*[:=]\s*{value}"),
        re.compile(rf"(?i){old_name}(?![\w'\"])\s+(?:tensor\(\s*\[?\s*)?{num}(?![\w.])"),
    ]
    pieces = ["loss", "train_loss", "x", ".", " ", ":", "=", "1", ".5", "e", "'", "tensor(", "-"]
    pieces += ["val_", "nan", "total ", "(", ")", "é", "xtrain loss"]
    for text in _texts(pieces, "loss"):
        for o, n in zip(old, losses.DEFAULT_PATTERNS, strict=True):
            m_old, m_new = o.search(text), n.search(text)
            assert (m_old and m_old.group(m_old.re.groups)) == (m_new and m_new.group(n.groups)), (
                repr(text)
            )


def test_gan_lines_as_before() -> None:
    def old_name(x: str, word: str) -> str:
        return (
            rf"(?i)(?<![A-Za-z0-9])(?:loss[_ ]?{x}|{x}[_ ]loss|err_?{x}|{x}_?err|"
            rf"{word}(?:ator)?[_ ]loss|loss[_ ]{word}(?:ator)?)(?![A-Za-z0-9])"
        )

    old = re.compile(old_name("D", "discrimin") + losses._SEP + losses._VALUE)
    pieces = ["Loss_D", "D loss", "errD", "lossD", ":", " ", "1.5", "x", "é", "[", "]", "-2", "_"]
    for text in _texts(pieces, "gan"):
        m_old = old.search(text)
        m_new = losses._first_named(losses._GAN_D, text)
        assert (m_old and m_old.group(m_old.re.groups)) == (
            m_new and m_new.group(losses._GAN_D.groups)
        ), repr(text)


# -- frameworks ----------------------------------------------------------------------------------
def test_readme_framework_versions_as_before() -> None:
    v = r"(\d+\.\d+(?:\.\d+)?)"
    old = re.compile(
        r"\b(pytorch|torch|tensorflow-gpu|tensorflow|keras|mxnet|chainer|theano|jax)\s*+"
        r"(?:version\s*+)?[(:]?\s*+(==|>=|>|=|~=|v\.?|r)?\s*+" + v + r"(\+)?"
        r"(?:\s*+(?:or|and|/|,)\s*+(?:r|v)?"
        + v
        + r"(?!\s*(?:or|and)\s+(?:newer|later|above|higher)))?"
        r"(\s*+\)?\s*+(?:or|and)\s++(?:newer|later|above|higher|greater|up)\b)?",
        re.I,
    )
    pieces = ["torch ", "1.4", " or ", "1.5", " newer", "and ", ">=", "+", " ", ")", "/", "x"]
    for text in _texts(pieces, "fw"):
        want = [(m.start(), m.end(), m.groups()) for m in old.finditer(text)]
        got = [(s, e, tuple(g[1:])) for s, e, g in frameworks._readme_versions(text)]
        assert got == want, repr(text)


# -- the rest --------------------------------------------------------------------------------------
def test_app_command_as_before() -> None:
    # Round 18c F7: at most 3 spaces before it (4 spaces or a tab: indented code).
    old = re.compile(r"^ {0,3}/forkvet(?![\w-])(?:[ \t]+(\S+))?(.*)$", re.M)
    pieces = ["/forkvet", " ", "\t", "recheck", "-x", "x", "\n", ":", "€", "help"]
    for text in _texts(pieces, "cmd"):
        a, b = old.search(text), COMMAND.search(text)
        assert (a and a.groups()) == (b and b.groups()), repr(text)


def test_small_rewrites_as_before() -> None:
    old_tail = re.compile(r"(\d)[A-Za-z]+(?=[,\s)]|$)")
    for text in _texts(["1", "post", "rc", ",", " ", ")", "<", "2.0", "a"], "tail"):
        assert old_tail.sub(r"\1", text) == metadata_fix._VERSION_TAIL.sub(r"\1\2", text)
    old_py = r"^((?:[A-Z_][A-Z0-9_]*=\S*\s+)*)python[\d.]*(?=\s)"
    for text in _texts(["A=1 ", "python", "3.8", " ", "x", "train.py", "\t"], "interp"):
        want = re.sub(old_py, lambda m: m.group(1) + "P", text.strip())
        assert smoke.with_interpreter(text, "P") == want, repr(text)
    old_nf = re.compile(
        r"Because (?:there is no version of |)([\w.-]+)(?:\S*)? was not found "
        r"in the package registry|(?<![\w.-])([\w.-]+) was not found in the package "
        r"registry",
        re.I,
    )
    pieces = ["foo", " was not found in the package registry", " ", "-", "Because ", "\n"]
    for text in _texts(pieces, "nf"):
        assert old_nf.findall(text) == uv._NOT_FOUND.findall(text), repr(text)


def test_unicode_word_rules_hold_for_the_rewrites() -> None:
    # The Python-side checks use str.isalnum() for \w, as `re` does.
    for ch in ("é", "٣", "ß", "_", "x", "中"):
        assert bool(re.match(r"\w", ch)) == (ch == "_" or ch.isalnum())
    assert unicodedata.category("é") == "Ll"


# -- the App's depth pre-check ---------------------------------------------------------------
def _old_too_deep(body: bytes, limit: int) -> bool:
    strings = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
    pairs = re.compile(rb"\[\]|\{\}")
    not_brackets = bytes(b for b in range(256) if b not in b"[]{}")
    brackets = strings.sub(b"", body).translate(None, not_brackets)
    for _ in range(limit):
        if not brackets:
            return False
        brackets, n = pairs.subn(b"", brackets)
        if n == 0:
            return False
    return bool(brackets)


def _random_json(rng: random.Random, depth: int) -> object:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(['a"b', "\\", '\\"[{', "]}", "é", 1, None, "", '"' * 3])
    if rng.random() < 0.5:
        return [_random_json(rng, depth - 1) for _ in range(rng.randrange(0, 3))]
    return {f"k{i}\\[": _random_json(rng, depth - 1) for i in range(rng.randrange(0, 3))}


def test_json_depth_as_before() -> None:
    import json

    from bot.web import too_deep

    rng = random.Random(3)
    for _ in range(N):
        body = json.dumps(_random_json(rng, rng.randrange(0, 9)), ensure_ascii=False).encode()
        for limit in (1, 2, 3, 5, 8):
            # Round 19c A3: read a slice at a time; every slice size gives the same answer.
            for chunk in (0, 1, 2, 3, 7):
                assert too_deep(body, limit, chunk) == _old_too_deep(body, limit), body
    for cut in range(1, 40):  # not JSON: an answer, never an exception
        for chunk in (0, 1, 2, 5):
            text = b'{"a": ["\\\\\\"", [[{"x": "]]]"}]]]}'[:cut]
            assert too_deep(text, 3, chunk) == too_deep(text, 3, len(text)), text
    assert too_deep(b"[" * 65 + b"]" * 65) and not too_deep(b"[" * 64 + b"]" * 64)
