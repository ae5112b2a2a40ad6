"""Risky calls found by pattern in Python code ast did not read (Python 2, or past the parse
budget), and the messages the risks check gives them either way.

Its own module, below both: pysource skims a file with it and the risks check reads the
result, so neither imports the other.
"""

from __future__ import annotations

from functools import cache

from forkvet import rx
from forkvet.vet import dataformats
from forkvet.vet.textnorm import line_of

YAML_LOAD = "yaml.load without a Loader can run code (old PyYAML) and fails on PyYAML 6"
EVAL = "{}() on a computed string: check what reaches it (command-line arguments, config files)"
NP_PICKLE = "np.load(allow_pickle=True) unpickles data"
REMOTE_CODE = "trust_remote_code=True downloads and runs code from the model hub"
# Files ast did not read (Python 2, or over the parse budget): the same calls by pattern, on
# the code with strings and comments blanked. RE2 has no look-arounds: what they said is
# checked on the match's neighbours in `_accepted` (a bounded window, so still linear).
_NOT_AFTER_WORD_OR_DOT = "not-after-word-or-dot"
_NOT_AFTER_WORD = "not-after-word"
_TEXT_RISKS: tuple[tuple[rx.Pattern[str], tuple[str, ...], str, str, str], ...] = (
    (rx.compile(r"\byaml\.load\s*\("), ("no-Loader",), "yaml-load", "warning", YAML_LOAD),
    (
        # A call `eval(...)` (checked: not after a word or `.`, not on a literal string) or a
        # Python 2 statement `exec code`: one pattern, so a match of one hides the other.
        rx.compile(r"(eval|exec)\s*\(|^[ \t]*(exec)[ \t]+\w", rx.M),
        ("eval-call",),
        "eval",
        "warning",
        EVAL,
    ),
    (
        rx.compile(r"\btrust_remote_code\s*=\s*True\b"),
        (),
        "trust-remote-code",
        "warning",
        REMOTE_CODE,
    ),
)
_LOOKAHEAD = 400  # how far the argument list is searched for weights_only / Loader
_ARGUMENT_WORD = {"no-Loader": r"\bLoader\b"}


def _accepted(code: str, m: rx.Match[str], checks: tuple[str, ...]) -> bool:
    for check in checks:
        if check == _NOT_AFTER_WORD_OR_DOT:
            before = code[m.start() - 1 : m.start()]
            if before and (before == "." or before == "_" or before.isalnum()):
                return False
        elif check == _NOT_AFTER_WORD:
            before = code[m.start() - 1 : m.start()]
            if before and (before == "_" or before.isalnum()):
                return False
        elif check == "eval-call":
            if m.group(1) is not None and not _accepted(
                code, m, (_NOT_AFTER_WORD_OR_DOT, "no-quote")
            ):
                return False
        elif check == "no-quote":
            if code[m.end() : m.end() + 1] in ("'", '"'):
                return False
        elif check.startswith("unless:"):
            # fine with the keyword, unless it is given as False (`weights_only=False`)
            word = check.removeprefix("unless:")
            if _in_arguments(code, m, rf"\b{word}\b") and not _in_arguments(
                code, m, rf"\b{word}\s*=\s*(?:False|None|0)\b"
            ):
                return False
        elif check.startswith("only:"):
            word, value = check.removeprefix("only:").split("=", 1)
            if not _in_arguments(code, m, rf"\b{word}\s*=\s*{value}\b"):
                return False
        elif _in_arguments(code, m, _ARGUMENT_WORD[check]):
            return False
    return True


def _in_arguments(code: str, m: rx.Match[str], pattern: str) -> bool:
    """The pattern within the next 400 characters of the argument list (before a `)`)."""
    window = code[m.end() : m.end() + _LOOKAHEAD + 32]
    close = window.find(")")
    word = _compiled(pattern).search(window[: close + 1] if close >= 0 else window)
    return bool(word and word.start() <= _LOOKAHEAD and (close < 0 or word.end() <= close))


@cache
def _compiled(pattern: str) -> rx.Pattern[str]:
    return rx.compile(pattern)


def _table_rules() -> list[
    tuple[tuple[rx.Pattern[str], tuple[str, ...], str, str, str], tuple[str, ...]]
]:
    """The loaders of forkvet/data/loaders.json, by the names they are called by."""
    out = []
    for rule in dataformats.text_rules():
        # a tail's pattern takes the dotted names before it; what precedes may be a call's
        # `)` and a dot (`f().torch.load(`)
        checks = {"name": [_NOT_AFTER_WORD_OR_DOT], "tail": [_NOT_AFTER_WORD]}.get(rule.place, [])
        if rule.unless_word:
            checks.append(f"unless:{rule.unless_word}")
        if rule.only_word:
            checks.append(f"only:{rule.only_word}")
        pattern = rx.compile(rule.pattern)
        out.append(((pattern, tuple(checks), rule.kind, rule.severity, rule.message), rule.needles))
    return out


# A plain substring each pattern's matches contain: `in` skips most files at memchr speed (the
# patterns, tried at every position, cost ~0.5 s per MB together).
_TEXT_NEEDLES: tuple[tuple[str, ...], ...] = (
    ("yaml.load",),
    ("eval", "exec"),
    ("trust_remote_code",),
)


def text_risks(code: str) -> list[tuple[str, str, str, int]]:
    """(kind, severity, message, line) of risky calls found by pattern in unparsed code."""
    lines = line_of(code)
    out = []
    for (pattern, checks, kind, severity, msg), needles in _RULES:
        if not any(n in code for n in needles):
            continue
        for m in pattern.finditer(code):
            if not _accepted(code, m, checks):
                continue
            what = next((g for g in m.groups() if g), m.group(0).rstrip("( \t"))
            out.append((kind, severity, msg.format(what.strip()), lines(m.start())))
    return sorted(out, key=lambda r: r[3])


_RULES = [*_table_rules(), *zip(_TEXT_RISKS, _TEXT_NEEDLES, strict=True)]
