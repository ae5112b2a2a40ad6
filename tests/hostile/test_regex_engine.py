"""No super-linear regex on repository text, by the engine: every pattern forkvet and the App
apply runs on RE2 (forkvet/rx.py), which has no backtracking. This test finds every regex call
in the source by its syntax tree, so a new `re.search` anywhere fails here, whatever it is fed."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import random
import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

import bot
import bot.settings
import forkvet
from forkvet import rx
from forkvet.vet.risks import _PIPE_SHELL, text_risks
from tests.cputime import cpu_time

ROOT = Path(__file__).resolve().parents[2]
_RE_FUNCS = {"compile", "search", "match", "fullmatch", "finditer", "findall", "sub", "subn"}
_RE_FUNCS |= {"split", "template"}
# Files that may use Python's `re`, each with why. Nothing else may import it.
ALLOWED_RE = {
    "forkvet/rx.py": "the wrapper itself: `re` only for flag values and re.escape",
    # Pending: the pickle scanner is being rewritten on another branch; its patterns see
    # pickle opcode arguments (repository bytes) and must move to rx when that lands.
    "forkvet/vet/pickles.py": "PENDING: convert to rx when the pickle rewrite merges",
}


def _sources() -> list[Path]:
    return sorted([*(ROOT / "forkvet").rglob("*.py"), *(ROOT / "bot").rglob("*.py")])


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_module_uses_python_re_outside_the_allow_list() -> None:
    offenders = []
    for path in _sources():
        if _rel(path) in ALLOWED_RE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(
                a.name in ("re", "regex", "sre_compile") for a in node.names
            ):
                offenders.append(f"{_rel(path)}:{node.lineno}: import re")
            elif isinstance(node, ast.ImportFrom) and node.module in ("re", "regex"):
                offenders.append(f"{_rel(path)}:{node.lineno}: from re import")
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "re"
                and node.attr in _RE_FUNCS
            ):
                offenders.append(f"{_rel(path)}:{node.lineno}: re.{node.attr}")
    assert not offenders, "use forkvet.rx (RE2), not re:\n" + "\n".join(offenders)


def _literal_patterns() -> list[tuple[str, str | bytes, int]]:
    """(where, pattern, flags) of every rx call whose pattern is written in the source."""
    out = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "rx"
                and node.func.attr in _RE_FUNCS
                and node.args
            ):
                continue
            try:
                pattern = ast.literal_eval(node.args[0])
            except ValueError:
                continue  # built at run time: the registry below holds it after import
            out.append((f"{_rel(path)}:{node.lineno}", pattern, 0))
    return out


def test_every_written_pattern_compiles_on_re2() -> None:
    patterns = _literal_patterns()
    assert len(patterns) > 150  # the scan sees the source (a broken scan finds nothing)
    failed = []
    for where, pattern, flags in patterns:
        try:
            rx.compile(pattern, flags)._rx_object()
        except rx.error as exc:
            failed.append(f"{where}: {exc}")
    assert not failed, "\n".join(failed)


def test_every_pattern_built_at_import_is_an_re2_pattern() -> None:
    for pkg in (forkvet, bot):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if mod.name.endswith("__main__"):
                continue
            try:
                importlib.import_module(mod.name)
            except bot.settings.SettingsError:
                continue  # App modules that read their settings at import (none here)
    assert len(rx.REGISTRY) > 200
    rx.check_all()  # RE2 compiles on first use: compile them all now
    for (pattern, _flags), compiled in rx.REGISTRY.items():
        # A Pattern exists only once RE2 accepted it: RE2 has no backtracking, so every
        # search is linear in the text (an RE2 program, not Python's sre).
        assert isinstance(compiled, rx.Pattern)
        assert type(compiled._rx_object()).__module__ == "re2", pattern


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?=a)", r"(?!a)", r"(?<=a)b", r"(?<!a)b", r"a*+", r"(?>a)", r"(?P<x>a)(?P=x)"],
)
def test_backtracking_features_are_refused(pattern: str) -> None:
    with pytest.raises(rx.error):
        rx.compile_now(pattern)


def test_curl_pipe_shell_on_400_kb_of_curl_is_fast() -> None:
    text = "curl " * 80_000  # 400 KB: 44 s on the old backtracking regex
    start = time.perf_counter()
    assert _PIPE_SHELL.search(text) is None
    assert _PIPE_SHELL.search(text + "| sh\n") is not None
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "curl " * 80_000,
        "torch.load(" * 40_000,
        "x.eval(" * 60_000,
        "pickle.loads " * 40_000,
        " " * 400_000 + "eval",
    ],
)
def test_unparsed_code_risks_are_linear(text: str) -> None:
    start = time.perf_counter()
    text_risks(text)
    # Tens of thousands of candidate matches, each checked in Python: about 2 s on a shared
    # 2-core machine. A quadratic scan of 400 KB takes minutes.
    assert time.perf_counter() - start < 8.0


def test_vet_of_a_readme_of_curl_is_fast(tmp_path: Path) -> None:
    from forkvet.snapshot import load
    from forkvet.vet import vet

    (tmp_path / "README.md").write_text("curl " * 80_000 + "\n", encoding="utf-8")
    (tmp_path / "run.sh").write_text("wget " * 80_000 + "\n", encoding="utf-8")
    start = time.perf_counter()
    vet(load(tmp_path))
    assert time.perf_counter() - start < 20  # was minutes; most of this is vet's fixed cost


# -- rx keeps Python's meaning where RE2's syntax differs ----------------------------------------
# Code points Python's Unicode database assigns (RE2's tables may be a newer Unicode).
_ALL_CHARS = "".join(
    chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) not in ("Cn", "Cs")
)


@pytest.mark.parametrize("cls", [r"\w", r"\W", r"\d", r"\D", r"\s", r"\S", r"[\w.-]", r"[^\w\s]"])
def test_unicode_classes_match_what_python_matches(cls: str) -> None:
    # Runs, not single characters: the same coverage in far fewer matches.
    want = [m.span() for m in re.finditer(f"(?:{cls})+", _ALL_CHARS)]
    got = [m.span() for m in rx.compile(f"(?:{cls})+").finditer(_ALL_CHARS)]
    assert got == want


def test_ascii_flag_keeps_classes_ascii() -> None:
    assert rx.findall(r"\w+", "héllo", rx.A) == re.findall(r"\w+", "héllo", re.A)
    assert rx.findall(rb"\w+", b"h\xe9llo") == [b"h", b"llo"]


def test_bytes_patterns_match_bytes() -> None:
    """Bytes patterns read bytes (Latin-1 in RE2), not UTF-8: any byte is one character."""
    text = b"a\xff\xfe\x00b\xc3\xa9"
    for pattern in (rb"(\xff+)", rb"(.)\x00", rb"[\x80-\xff]+", rb"(?s).{3}$", rb"b(..)"):
        want = [(m.span(), m.groups()) for m in re.finditer(pattern, text)]
        assert [(m.span(), m.groups()) for m in rx.finditer(pattern, text)] == want
    m = rx.search(rb"(?P<hi>\xff)", text)
    assert m is not None and (m.group(1), m["hi"], m.start("hi")) == (b"\xff", b"\xff", 1)


def test_a_pattern_over_the_small_budget_still_compiles_and_matches() -> None:
    """Patterns get a 1 MiB RE2 budget (memory); one whose program is larger is compiled again
    with RE2's default 8 MiB rather than refused, and matches as Python does."""
    import re2

    big = r"[\w.-]{1,100}/[\w./-]{1,200}@(\w+)"
    small = re2.Options()
    small.max_mem = rx._MAX_MEM
    small.log_errors = False
    with pytest.raises(re2.error, match="too large"):
        re2.compile(rx.compile(big).translated, small)
    text = "uses: owner/a.b-c/path@v4 and x/y@main"
    assert [m.group(1) for m in rx.finditer(big, text)] == re.findall(big, text)


@pytest.mark.parametrize(
    ("pattern", "flags", "text"),
    [
        (r"ab\Z", 0, "xab"),
        (r"ab\Z", 0, "ab\n"),
        (r"(?i)ÉTÉ", 0, "été"),
        (r"straße", rx.I, "STRASSE"),
        (r"^\w+$", rx.M, "ab\ncd\n"),
        (r"a.b", rx.S, "a\nb"),
        (r"a.b", 0, "a\nb"),
        (r"a{,2}", 0, "aaa"),
        (r"[]a]+", 0, "]a]"),
        (r"[^]a]+", 0, "]xa"),
        (r"\u00e9+", 0, "éé"),
        (r"(?P<k>\w+)=(\d+)?", 0, "a= b=1"),
        (r"\s*,\s*", 0, "a , b,c"),
    ],
)
def test_matches_as_python_does(pattern: str, flags: int, text: str) -> None:
    want = [(m.span(), m.groups()) for m in re.finditer(pattern, text, flags)]
    got = [(m.span(), m.groups()) for m in rx.compile(pattern, flags).finditer(text)]
    assert got == want


def test_api_subset() -> None:
    p = rx.compile(r"(?P<name>[a-z]+)-(\d+)?")
    m = p.search("x abc- y")
    assert m is not None
    assert (m.group(), m.group("name"), m.group(2), m[1], m.groupdict()) == (
        "abc-",
        "abc",
        None,
        "abc",
        {"name": "abc"},
    )
    assert (m.start(), m.end(), m.span(1), p.groups, p.groupindex) == (
        2,
        6,
        (2, 5),
        2,
        {"name": 1},
    )
    assert rx.sub(r"([ab])", r"<\1>", "xaby") == re.sub(r"([ab])", r"<\1>", "xaby")
    assert rx.sub(r"([ab])", r"\\\1", "xaby") == re.sub(r"([ab])", r"\\\1", "xaby")
    assert rx.sub(r"a", "é", "aa", count=1) == "éa"
    assert rx.sub(r"(?P<x>a)", lambda m: m.group("x").upper(), "aba") == "AbA"
    assert rx.split(r"\s*,\s*", "a , b,c") == ["a", "b", "c"]
    assert rx.split(r"(,)", "a,b") == ["a", ",", "b"]
    assert rx.findall(r"(a)(b)?", "aab") == [("a", ""), ("a", "b")]
    assert rx.fullmatch(r"\d+", "12") and not rx.fullmatch(r"\d+", "12a")
    assert rx.match(rx.escape("a.b (c)"), "a.b (c)!") is not None
    assert rx.compile(r"é+").search("xéé", 1) is not None
    with pytest.raises(rx.error):
        rx.compile("a", re.VERBOSE)


def test_documented_differences() -> None:
    """What rx leaves as RE2 has it (docs/vet.md): \\b is ASCII, $ is the very end."""
    assert rx.search(r"\bfoo", "éfoo") is not None  # Python: no boundary after é
    assert re.search(r"\bfoo", "éfoo") is None
    assert rx.search(r"ab$", "ab\n") is None  # Python also matches before a final newline
    assert re.search(r"ab$", "ab\n") is not None
    assert rx.search(r"ab$", "ab\n", rx.M) is not None


_DIFF_PATTERNS = [
    r"é*",
    r"\w+",
    r"(\d+)(?:\.(\d+))?",
    r"(?P<a>[^\s,]+),?",
    r"x|",
    r"(?i)[a-zé]+",
    r"(?s).{2}",
    r"^.*$",
    r"[^a]*",
]


@pytest.mark.parametrize("pattern", _DIFF_PATTERNS)
def test_spans_on_mixed_text_match_python(pattern: str) -> None:
    """Offsets are characters for any text: ASCII (the fast path), UTF-8 with 2-4 byte
    characters, empty matches between them, and searches from a position."""
    rng = random.Random(pattern)
    alphabet = ["a", "x", "1", " ", ",", ".", "\n", "é", "ß", "€", "𝔘", "٣", "\u3000"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        p, r = rx.compile(pattern, rx.M), re.compile(pattern, re.M)
        assert [(m.span(), m.groups()) for m in p.finditer(text)] == [
            (m.span(), m.groups()) for m in r.finditer(text)
        ], text
        start = rng.randrange(0, len(text) + 1)
        got, want = p.search(text, start), r.search(text, start)
        assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups()))
        assert p.sub("<\\g<0>>", text) == r.sub("<\\g<0>>", text)
        assert p.split(text) == r.split(text)


# -- the checks written in Python around RE2 matches stay linear ---------------------------------
def _hostile_call_sites() -> list[tuple[str, Callable[[str], object], str]]:
    from forkvet.runtime import losses
    from forkvet.vet import copyright, entry_points, frameworks, license, python_version

    return [
        (
            "loss name after a word",
            lambda t: losses.loss_from_line(t + ")=1", []),
            "xloss(" * 60_000,
        ),
        ("GAN name before a letter", losses.gan_from_line, "lossDtensor(1" * 30_000),
        ("GAN names", losses.gan_from_line, "errDx errGx " * 30_000),
        ("inline code", lambda t: list(entry_points._inline_code(t)), "`abcd``" * 60_000),
        ("top-level calls", entry_points._runs_at_top_level, "f(def\n" * 60_000),
        ("license sections", lambda t: list(license._license_sections(t)), "## License\n" * 40_000),
        ("license statements", license._statements, "released under MIT.5 " * 20_000),
        ("names and affiliates", copyright._split_names, " and affiliates" * 30_000),
        (
            "framework versions",
            lambda t: list(frameworks._readme_versions(t)),
            "torch 1.0 or 1.1 or newer " * 20_000,
        ),
        (
            "python versions",
            lambda t: list(python_version._README_PY.resuming(t, lambda m: m.end(1))),
            "python3" * 60_000,
        ),
    ]


@pytest.mark.parametrize("case", range(10))
def test_python_side_checks_are_linear(case: int) -> None:
    """Each site doubles its input: the time may double (with slack for a busy machine), not
    quadruple."""
    name, site, text = _hostile_call_sites()[case]
    times = []
    for size in (len(text) // 2, len(text)):
        times.append(cpu_time(lambda: site(text[:size]), runs=5))  # noqa: B023 (called at once)
    assert times[1] < 8.0, name
    assert times[1] < 3.5 * times[0] + 0.2, (name, times)
