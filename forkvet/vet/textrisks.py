"""Risky calls found by pattern in Python code ast did not read (Python 2, or past the parse
budget), and the messages the risks check gives them either way.

Its own module, below both: pysource skims a file with it and the risks check reads the
result, so neither imports the other.
"""

from __future__ import annotations

from forkvet import rx
from forkvet.vet.textnorm import line_of

TORCH_LOAD = "torch.load without weights_only=True runs any pickled code in the checkpoint"
PICKLE_LOADERS = ("pickle.load", "pickle.loads", "cPickle.load", "joblib.load", "dill.load")
YAML_LOAD = "yaml.load without a Loader can run code (old PyYAML) and fails on PyYAML 6"
EVAL = "{}() on a computed string: check what reaches it (command-line arguments, config files)"
NP_PICKLE = "np.load(allow_pickle=True) unpickles data"
REMOTE_CODE = "trust_remote_code=True downloads and runs code from the model hub"
# Files ast did not read (Python 2, or over the parse budget): the same calls by pattern, on
# the code with strings and comments blanked. RE2 has no look-arounds: what they said is
# checked on the match's neighbours in `_accepted` (a bounded window, so still linear).
_NOT_AFTER_WORD_OR_DOT = "not-after-word-or-dot"
_TEXT_RISKS: tuple[tuple[rx.Pattern[str], tuple[str, ...], str, str, str], ...] = (
    (rx.compile(r"\btorch\.load\s*\("), ("no-weights_only",), "torch-load", "warning", TORCH_LOAD),
    (
        rx.compile(r"(?:c?[pP]ickle|joblib|dill)\.loads?\s*\("),
        (_NOT_AFTER_WORD_OR_DOT,),
        "pickle-load",
        "warning",
        "{} executes code in untrusted files",
    ),
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
    (rx.compile(r"\ballow_pickle\s*=\s*True\b"), (), "pickle-load", "notice", NP_PICKLE),
    (
        rx.compile(r"\btrust_remote_code\s*=\s*True\b"),
        (),
        "trust-remote-code",
        "warning",
        REMOTE_CODE,
    ),
)
_LOOKAHEAD = 400  # how far the argument list is searched for weights_only / Loader
_ARGUMENT_WORD = {
    "no-weights_only": rx.compile(r"\bweights_only\b"),
    "no-Loader": rx.compile(r"\bLoader\b"),
}


def _accepted(code: str, m: rx.Match[str], checks: tuple[str, ...]) -> bool:
    for check in checks:
        if check == _NOT_AFTER_WORD_OR_DOT:
            before = code[m.start() - 1 : m.start()]
            if before and (before == "." or before == "_" or before.isalnum()):
                return False
        elif check == "eval-call":
            if m.group(1) is not None and not _accepted(
                code, m, (_NOT_AFTER_WORD_OR_DOT, "no-quote")
            ):
                return False
        elif check == "no-quote":
            if code[m.end() : m.end() + 1] in ("'", '"'):
                return False
        else:
            # The word within the next 400 characters of the argument list (before a `)`).
            window = code[m.end() : m.end() + _LOOKAHEAD + 32]
            close = window.find(")")
            word = _ARGUMENT_WORD[check].search(window[: close + 1] if close >= 0 else window)
            if word and word.start() <= _LOOKAHEAD and (close < 0 or word.end() <= close):
                return False
    return True


# A plain substring each pattern's matches contain: `in` skips most files at memchr speed (the
# patterns, tried at every position, cost ~0.5 s per MB together).
_TEXT_NEEDLES: tuple[tuple[str, ...], ...] = (
    ("torch.load",),
    ("load",),
    ("yaml.load",),
    ("eval", "exec"),
    ("allow_pickle",),
    ("trust_remote_code",),
)


def text_risks(code: str) -> list[tuple[str, str, str, int]]:
    """(kind, severity, message, line) of risky calls found by pattern in unparsed code."""
    lines = line_of(code)
    out = []
    for (pattern, checks, kind, severity, msg), needles in zip(
        _TEXT_RISKS, _TEXT_NEEDLES, strict=True
    ):
        if not any(n in code for n in needles):
            continue
        for m in pattern.finditer(code):
            if not _accepted(code, m, checks):
                continue
            what = next((g for g in m.groups() if g), m.group(0).rstrip("( \t"))
            out.append((kind, severity, msg.format(what.strip()), lines(m.start())))
    return sorted(out, key=lambda r: r[3])
