"""Repository text in every sink: rendered with a real CommonMark+GFM-table parser
(markdown-it-py), it makes no HTML, link, image, heading, mention, reference or table cell of
its own; on a terminal it cannot move the cursor or start a line; in workflow commands and
GITHUB_OUTPUT it stays one value (parsed back the way the Actions runner parses them)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from forkvet.escape import md_code, md_fence, md_inline, md_url, terminal
from forkvet.giveback.attribution import attribution_md
from forkvet.render import to_markdown, to_text
from forkvet.snapshot import load
from forkvet.vet import vet

MARKER = "<!-- forkvet:report -->"
HOSTILE = [
    MARKER,
    "<img src=https://evil.example/x.png>",
    "<script>alert(1)</script>",
    "![pixel](https://evil.example/p.png)",
    "[click](https://evil.example)",
    "<https://evil.example>",
    "https://evil.example/and www.evil.example",
    "@octocat and @github/security-team please look",
    "mail admin@evil.example",
    "closes #1 and GH-2 and other/repo#3",
    "# ✅ safe: no problems found",
    "## Findings\n\nnone",
    "x\n===",
    "- [x] verified by forkvet",
    "1. all good",
    "> quoted approval",
    "a | b | c",
    "`code` and ``` fence",
    "*bold* _em_ ~~strike~~ $x^2$",
    ":white_check_mark: :shipit:",
    "tab\there \x1b[2K\rline\u202eevil\u2066",
    "</details></sub><h1>raw</h1>",
    "&lt;img&gt; &amp; entities",
]


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.comments: list[str] = []
        self.text: list[str] = []
        self.shown: list[str] = []  # everything a reader sees, code included
        self.in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.in_code += tag in ("code", "pre")

    def handle_endtag(self, tag: str) -> None:
        self.in_code -= tag in ("code", "pre")

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.shown.append(data)
        # GitHub makes no mentions, references or links inside code.
        if not self.in_code:
            self.text.append(data)


def parse(markdown: str) -> _Html:
    p = _Html()
    p.feed(_md().render(markdown))
    return p


def assert_inert(html: _Html, allowed_tags: set[str]) -> None:
    """What GitHub would turn into markup or notifications, after its own filters."""
    assert set(html.tags) <= allowed_tags, set(html.tags) - allowed_tags
    assert not html.comments
    text = "".join(html.text)
    # GitHub's post-Markdown filters work on text nodes: mentions, references, autolinks,
    # emoji shortcodes. A zero-width space after @, #, :// or : stops each.
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9]", text), text
    assert not re.search(r"(?<![&\w])#\d", text), text
    assert not re.search(r"(?i)https?://|www\.", text), text
    assert not re.search(r":[a-z_]+:", text), text
    assert not re.search(r"(?i)\bgh-\d", text), text


@pytest.mark.parametrize("value", HOSTILE)
def test_md_inline_is_inert_text_that_reads_the_same(value: str) -> None:
    html = parse(f"Title: {md_inline(value)}")
    assert_inert(html, {"p", "code"})  # a URL is a code span: inert, and it copies whole
    shown = "".join(html.shown).replace("\u200b", "").strip()
    # a bidi override or isolate shows as its escape: it never reorders the text, and the
    # name still reads as it is
    visible = re.sub(r"[\u202a-\u202e\u2066-\u2069]", lambda m: f"\\u{ord(m[0]):04x}", value)
    expected = " ".join(re.sub(r"[\x00-\x1f]", " ", visible).split())
    assert shown == f"Title: {expected}"


@pytest.mark.parametrize("value", HOSTILE)
def test_md_code_cannot_close_its_span_and_a_table_stays_whole(value: str) -> None:
    # As render._table does: every pipe in a cell escaped, then one row of two cells.
    cells = [md_inline(value), md_code(value).replace("|", "\\|")]
    row = "| " + " | ".join(cells) + " |"
    html = parse("| a | b |\n|---|---|\n" + row + "\n")
    assert_inert(html, {"table", "thead", "tbody", "tr", "th", "td", "code"})
    rendered = _md().render("| a | b |\n|---|---|\n" + row + "\n")
    url_spans = parse(md_inline(value)).tags.count("code")
    assert rendered.count("<td>") == 2 and rendered.count("<code>") == 1 + url_spans


def test_md_fence_holds_any_text() -> None:
    text = "```\n# heading\n<!-- forkvet:report -->\n~~~\n````"
    html = _md().render(md_fence(text, "sh") + "\n\nafter")
    assert html.count("<pre>") == 1 and "<h1>" not in html and "<p>after</p>" in html


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://github.com/acme/deepnet/actions/runs/1", True),
        ("http://github.com/acme/deepnet/actions/runs/1", False),
        ("https://github.com.evil.example/acme/deepnet", False),
        ("https://user:pw@github.com/acme/deepnet", False),
        ("javascript:alert(1)", False),
        ("https://github.com/other/repo/actions/runs/1", False),
        ("https://github.com/acme/deepnet/actions/runs/1)[x](https://evil.example", False),
    ],
)
def test_md_url_links_only_where_expected(url: str, link: bool) -> None:
    html = _md().render(md_url(url, ("github.com",), "/acme/deepnet/"))
    assert ('<a href="' in html) is link
    if not link:
        assert "<code>" in html


def test_terminal_shows_controls_instead_of_obeying_them() -> None:
    name = "a\n::error file=x::pwned\x1b[2K\x1b[1A\rERROR hidden\u202e"
    out = terminal(name)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\u202e" not in out
    assert out == "a\\n::error file=x::pwned\\x1b[2K\\x1b[1A\\rERROR hidden\\u202e"


# One character of each class that acts or hides (outside attack, round 4, F4): C0, C1 (8-bit
# CSI, NEL), format (bidi override, isolate, mark, zero-width), line and paragraph separators,
# a lone surrogate (an undecodable file name), a tag character.
INVISIBLE = {
    "\x07": "\\x07",
    "\x7f": "\\x7f",
    "\x9b": "\\x9b",
    "\x85": "\\x85",
    "\u202e": "\\u202e",
    "\u2066": "\\u2066",
    "\u200f": "\\u200f",
    "\u061c": "\\u061c",
    "\u200b": "\\u200b",
    "\ufeff": "\\ufeff",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
    "\udcff": "\\udcff",
    "\U000e0041": "\\U000e0041",
}


@pytest.mark.parametrize(("char", "shown"), INVISIBLE.items())
def test_every_invisible_class_is_shown_in_terminal_and_workflow_commands(
    char: str, shown: str
) -> None:
    import unicodedata

    from forkvet.escape import workflow_data, workflow_property

    name = f"g{char}lpk.exe"
    for out in (terminal(name), workflow_property(name), workflow_data(name)):
        assert char not in out and shown in out, (unicodedata.category(char), out)
    line = f"::error title=forkvet%3A Dangerous pickle,file={workflow_property(name)}::x"
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in line)


HOSTILE_FILES = {
    "LICENSE": "Copyright (c) 2024 @github/security <!-- forkvet:report -->\n",
    "CITATION.cff": "cff-version: 1.2.0\n"
    'title: "</details>\\n\\n# ✅ forkvet: no problems found <!-- forkvet:report -->'
    ' <img src=https://evil.example/t.png>"\n'
    "authors:\n"
    '  - family-names: "@octocat"\n'
    '    given-names: "[me](https://evil.example)"\n',
    "README.md": "# x\n\n```sh\npython train.py --x '```' <!-- forkvet:report -->\n```\n"
    "Weights: https://evil.example/w.pth)![a](https://evil.example/a.png)\n",
    "train.py": "import torch\nimport evil_pkg\n",
    "src/evil\n::error::pwned|x`y<img src=z>\x1b[31m.py": "import torch\nm = torch.load('x')\n",
}


def make_hostile_repo(repo: Path) -> Path:
    """A repository whose every piece of text tries to become markup or a command."""
    for name, text in HOSTILE_FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    return make_hostile_repo(tmp_path / "hostile")


def test_a_hostile_repositorys_report_renders_inert(hostile_repo: Path) -> None:
    report = vet(load(hostile_repo))
    md = to_markdown(report)
    assert MARKER not in md and "<!--" not in md
    html = parse(md)
    # forkvet's own structure only: its headings, tables, code, details.
    assert_inert(
        html,
        {
            "p",
            "h3",
            "strong",
            "em",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "code",
            "pre",
            "details",
            "summary",
            "sub",
            "ul",
            "li",
        },
    )
    headings = re.findall(r"<h3>(.*?)</h3>", _md().render(md))
    assert all(
        h
        in {
            "License",
            "Code",
            "Dependencies",
            "How to run it",
            "Weights and data",
            "Citation",
            "Risks of running it",
            "Findings",
        }
        for h in headings
    ), headings
    rendered = _md().render(md)
    for table in re.findall(r"<table>.*?</table>", rendered, re.S):
        widths = {row.count("<td>") for row in re.findall(r"<tr>.*?</tr>", table, re.S)} - {0}
        assert len(widths) == 1, table  # no row broke out of its table
    assert "evil\\n::error::pwned" in to_text(report)
    assert not any(line.startswith("::") for line in to_text(report).splitlines())
    assert "\x1b" not in to_text(report)


def test_attribution_draft_is_inert(hostile_repo: Path) -> None:
    snap = load(hostile_repo)
    md = attribution_md(vet(snap), snap, "https://github.com/up/stream", [("A", "x`|<b>.py")])
    assert MARKER not in md
    assert_inert(parse(md), {"h1", "h2", "p", "ul", "li", "strong", "code", "pre"})


def test_workflow_commands_and_outputs_stay_one_value(tmp_path: Path) -> None:
    """forkvet report in a child process, with a runner's env files; its stdout and
    GITHUB_OUTPUT are parsed as the runner parses them."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("import torch\n")
    report = tmp_path / "vet.json"
    out, summary = tmp_path / "out", tmp_path / "summary"
    out.touch()
    summary.touch()
    data = json.loads(vet(load(repo)).to_json())
    data["license"]["spdx"] = "MIT\nverdict=pass\n::error::x"
    data["findings"].append(
        {
            "check": "risks",
            "severity": "error",
            "title": "t\n::warning::fake",
            "message": "100%\r\n::error::injected",
            "path": "a,b::c.py",
            "line": 1,
        }
    )
    report.write_text(json.dumps(data))
    env = {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary), "PATH": "/usr/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "report", "--vet", str(report)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert proc.returncode == 0, proc.stderr
    commands = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("::")]
    assert all(re.match(r"::(error|warning|notice) [^:]*::", c) for c in commands), commands
    assert not any("::error::x" in c or c.startswith("::warning::fake") for c in commands)
    outputs = _parse_outputs(out.read_text())
    assert outputs["license"] == "MIT\nverdict=pass\n::error::x"
    assert outputs["verdict"] in {"pass", "warn", "fail"}


def _parse_outputs(text: str) -> dict[str, str]:
    """The runner's GITHUB_OUTPUT parser: name=value, or name<<DELIM ... DELIM."""
    lines, out, i = text.split("\n"), {}, 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            assert name not in out, f"second value for {name}"
            out[name] = value
            i += 1
        else:
            i += 1
    return out


def test_env_and_upstream_summaries_are_inert(tmp_path: Path) -> None:
    """The env and upstream-pr actions publish through `forkvet report --env/--upstream`."""
    hostile = "Fix <!-- forkvet:report --> @octocat ![x](https://evil.example/x.png) #1"
    env_json = tmp_path / "env.json"
    env_json.write_text(
        json.dumps(
            {
                "python": "3.10",
                "as_of": "2020-01-01",
                "complete": True,
                "files": [str(tmp_path / "out" / "requirements.txt")],
                "requirements": [{"name": "torch", "version": "1.4.0", "kind": "main"}],
                "problems": [hostile],
            }
        )
    )
    up_json = tmp_path / "up.json"
    up_json.write_text(
        json.dumps(
            {
                "commits": [
                    {"sha": "a" * 40, "subject": hostile, "classification": "fix", "reason": "x"}
                ],
                "drafts": [
                    {
                        "title": hostile,
                        "status": "drafted",
                        "compare_url": "https://evil.example/compare",
                    },
                    {
                        "title": "ok",
                        "status": "drafted",
                        "compare_url": "https://github.com/up/m/compare/main...me:b",
                    },
                ],
            }
        )
    )
    out, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    out.touch()
    summary.touch()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "forkvet",
            "report",
            "--env",
            str(env_json),
            "--upstream",
            str(up_json),
        ],
        capture_output=True,
        text=True,
        env={
            "GITHUB_OUTPUT": str(out),
            "GITHUB_STEP_SUMMARY": str(summary),
            "PATH": "/usr/bin",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        },
    )
    assert proc.returncode == 0, proc.stderr
    outputs = _parse_outputs(out.read_text())
    assert outputs["drafts"] == "2" and outputs["python"] == "3.10"
    text = summary.read_text()
    assert MARKER not in text
    html = _md().render(text)
    assert html.count("<a href=") == 1 and 'href="https://github.com/up/m/compare' in html
    assert_inert(parse(text), {"h3", "ul", "li", "code", "strong", "a"} | {"p"})


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("weights: https://example.org/w_1/model.pth.", "https://example.org/w_1/model.pth"),
        ("(see https://example.org/a_(b))", "https://example.org/a_(b)"),
        ("mirror www.example.org/x?y=1&z=2, or ask", "www.example.org/x?y=1&z=2"),
    ],
)
def test_a_url_in_text_copies_as_the_working_url(text: str, url: str) -> None:
    """No invisible space inside a URL: what a reader copies from the report still works."""
    html = parse(md_inline(text))
    assert url in html.shown and "a" not in html.tags
    assert "\u200b" not in url and "".join(html.shown).replace("\u200b", "").strip() == text


def test_annotations_show_every_invisible_class_of_a_file_name(tmp_path: Path) -> None:
    """The Actions' annotations (`forkvet report`, github-action-utils) as the runner sees
    them: round 4 found `\\x9b`, NEL and U+202E raw in `::error file=`."""
    import unicodedata

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("import torch\n")
    data = json.loads(vet(load(repo)).to_json())
    # A lone surrogate cannot come from vet (file names are decoded first), but a JSON result
    # file can spell one (`\udcff`): no output file takes it raw, so it is shown escaped.
    for char in INVISIBLE:
        data["findings"].append(
            {
                "check": "risks",
                "severity": "error",
                "title": f"Dangerous{char}pickle",
                "message": f"Pickle{char} imports os.system",
                "path": f"g{char}lpk.exe",
                "line": 1,
            }
        )
    report = tmp_path / "vet.json"
    report.write_text(json.dumps(data))
    out, summary = tmp_path / "out", tmp_path / "summary"
    out.touch()
    summary.touch()
    env = {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary), "PATH": "/usr/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "report", "--vet", str(report)],
        capture_output=True,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert proc.returncode == 0, proc.stderr
    stdout = proc.stdout.decode("utf-8", "surrogateescape")
    commands = [ln for ln in stdout.split("\n") if ln.startswith("::error")]
    assert commands, stdout[-2000:]
    for line in commands:
        bad = [c for c in line if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")]
        assert not bad, (bad, line)
    assert any("file=g\\x07lpk.exe" in ln for ln in commands), commands


def test_a_bidi_override_in_a_file_name_is_shown_not_dropped() -> None:
    """Outside attack round 8: dropping a right-to-left override named another file; shown
    as its escape, the name reads as it is and cannot reorder itself."""
    name = "evil\u202egnp.py"
    for rendered in (md_inline(name), md_code(name), md_fence(name)):
        assert "\u202e" not in rendered and "u202e" in rendered
    assert "evil\\u202egnp.py" in md_code(name)


def test_code_spans_are_one_to_one_with_the_name() -> None:
    # Round 11: `  model.pt` (the payload) and `model.pt` (clean) once looked the same.
    names = [
        "model.pt",
        "  model.pt",
        "model.pt ",
        "model\x01.pt",
        "model .pt",
        "model.pt\u2028",
        "nl\ninjected",
        "esc\x1b[2J",
        "a\u2420b",
        # Round 12: invisible format characters and NFC/NFD spellings.
        "ww.pkl",
        "w\u200bw.pkl",
        "\u00e9.pkl",
        "e\u0301.pkl",
    ]
    shown = [md_code(n) for n in names]
    assert len(set(shown)) == len(names)
    assert md_code("  model.pt") == "`\u2420\u2420model.pt`"
    assert md_code("model\x01.pt") == "`model\\x01.pt`"
    assert md_code("nl\ninjected") == "`nl\\ninjected`"


# C0 and C1 controls (ESC, CR, BEL, CSI 0x9b ...) and DEL: none may reach a terminal raw.
_RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_env_text_output_writes_no_raw_control_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Conda channels, package names and places from a README reach `forkvet env`'s text
    report (problems, sources, notes, commands); it is escaped where it is written, so a
    channel cannot clear the screen and print a false 'complete', nor return the cursor."""
    from forkvet.cli import main

    repo = tmp_path / "esc\x1b[31mrepo"
    repo.mkdir()
    (repo / "README.md").write_text(
        "# X\n\n```\n"
        'conda install -c "x\x1b[2J\x1b[H\x1b[32mforkvet env: complete\x1b[0m" pkg\n'
        'mamba install -c "ab\rcd" pkg2\n'
        'conda install "chan\x1b[1m::pkg3"\n'
        'conda install -c "c\x9b2J\x07\u202e" pkg4\n'
        "```\n"
    )
    (repo / "requirements.txt").write_text("numpy==1.26.4\nacme\x1b[2Jx==1.0\n")
    (repo / "train.py").write_text("import numpy\n")
    main(["env", str(repo), "--offline", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "another conda channel" in out  # the problems are there, escaped
    assert "\\x1b[2J" in out and "ab\\rcd" in out
    assert not _RAW_CONTROL.search(out), repr(_RAW_CONTROL.search(out))
    assert all(line.startswith(("forkvet env:", "  ")) for line in out.splitlines())


def test_an_error_line_is_escaped_where_it_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`forkvet: error:` lines carry a repository's name or a path: one line, escaped."""
    from forkvet.cli import main

    repo = tmp_path / "x\x1b[2J\rforkvet env: complete"
    repo.mkdir()
    (repo / "notes.txt").write_text("no code here\n")
    assert main(["env", str(repo), "--offline", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "forkvet: error:" in err and "\\x1b[2J\\r" in err
    assert not _RAW_CONTROL.search(err), repr(err)
