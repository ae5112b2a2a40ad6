"""Escaping of repository text for each place forkvet writes it: GitHub Markdown (issues,
check runs, pull request bodies, job summaries, drafts), the terminal, and workflow commands.

Every string a vetted repository controls (file names, license names, CITATION.cff fields,
README commands, URLs, commit messages, workflow run names) goes through one of these at the
renderer, never raw. The rules, per sink:

- Markdown inline text (`md_inline`): no raw HTML or HTML comments (so no copy of the bot's
  hidden marker), no links, images or autolinks, no @-mentions of users or teams, no issue
  cross-references, no emoji shortcodes, no headings, lists or quotes, no table break-out,
  no line breaks, no control characters; a bidirectional override or isolate is shown as its
  escape (`\\u202e`), never acting. It renders as the same visible text.
- Markdown code (`md_code`, `md_fence`): a code span or fence the text cannot close.
- URLs (`md_url`): a link only for https URLs on an expected host; otherwise code.
- Terminal (`terminal`): every invisible or acting character made visible as an escape
  (`\\x1b`, `\\n`, `\\x9b`, `\\u202e`): the whole Unicode categories Cc (C0 and C1
  controls), Cf (format: bidi overrides and isolates, zero-width characters), Zl, Zp (line and
  paragraph separators) and Cs (a lone surrogate from an undecodable file name). So a file
  name cannot move the cursor, hide a line, start one or reorder itself on screen.
- Titles (`title`): an issue, pull request or check-run title is plain text on GitHub, but
  GitHub still links issue references (`#1`, `GH-1`, `owner/repo#1`) and renders emoji
  shortcodes in it, and it reaches lists, notifications, e-mails and `gh pr list` in a
  terminal: one line, every control, format (bidi) and separator character shown as its
  escape, mentions, references, emoji, URLs and hidden markers broken by an invisible space.
  Every title forkvet sends to GitHub goes through it where it is sent.
- Workflow commands (`workflow_data`, `workflow_property`): the same characters made visible
  (CR, LF kept for GitHub's own escaping), then GitHub's escaping (`%`, CR, LF; and `:` `,` in
  properties), as in @actions/core.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from forkvet import rx

# Zero-width space: breaks @mentions, #references, autolinks and :emoji: without a visible
# change. GitHub's filters run on the rendered text, where backslash escapes are already gone.
ZWSP = "\u200b"
# Bidirectional overrides/isolates (Trojan Source) and other invisible format characters.
_BIDI = rx.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_ANSI = rx.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# Escaped everywhere (they act anywhere in a line); the rest only where they act.
_BACKSLASHED = set("\\`*[]~$")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "|": "&#124;"}
# At the start of a line: a heading, a list item (-, +, 1. or 1)), a thematic break.
# Only where they act: `1.`/`-`/`+`/`#` need a space (or the end) after them, `=` underlines.
# `2101.00001` or `-5` at the start are plain text and stay unescaped.
# The marker is the first group that took part (RE2 has no look-ahead: what follows is matched
# too, and only the marker counts).
_LINE_START = rx.compile(r"^(?:(#{1,6}|[-+])(?:\s|$)|([-=]+\s*$)|(\d{1,9})[.)](?:\s|$))")
_MENTION = rx.compile(r"@([\w-])")
_ISSUE_REF = rx.compile(r"#(\d)")
_GH_REF = rx.compile(r"(?i)\b(gh)(-\d)")
_WWW = rx.compile(r"(?i)\bwww\.")
_EMOJI_START = rx.compile(r":([a-z0-9_+\\-]+)", rx.I)
# A URL as GitHub would autolink it: up to a space, a quote, an angle bracket, a backtick or a
# table pipe (the rest stays text, escaped as text).
_URL = rx.compile(r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>`|\"]+")


def _shown_bidi(text: str) -> str:
    """Bidi characters as visible escapes (`\\u202e`): they cannot reorder the text, and a
    file name still reads as it is (dropping them would name another file)."""
    return _BIDI.sub(lambda m: _escape(m.group(0)), text)


def _controls(text: str, replacement: str = " ") -> str:
    """Show bidi characters as escapes; turn line breaks and other controls into
    `replacement`."""
    text = _shown_bidi(text)
    return "".join(
        replacement if unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029\x85" else ch
        for ch in text
    )


_EDGE_SPACE = "\u2420"  # ␠, SYMBOL FOR SPACE


def _one_to_one(text: str) -> str:
    """Text that reads back as exactly the value: controls, invisible format characters,
    combining marks, line and paragraph separators and bidi characters as escapes (`\x01`,
    `\u200b`, `\u0301`, `\u2028`), spaces at either end as ␠ (a code span drops them), so
    `  model.pt` and `model.pt`, `w\u200bw.pkl` and `ww.pkl` never look alike."""
    text = _shown_bidi(text)
    text = "".join(
        _escape(ch)
        if unicodedata.category(ch) in ("Cc", "Cf", "Mn")
        or ch in "\u2028\u2029\x85"
        or ch == _EDGE_SPACE
        else ch
        for ch in text
    )
    core = text.strip(" ")
    if not core:
        return _EDGE_SPACE * len(text)
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text) - len(text.rstrip(" "))
    return _EDGE_SPACE * lead + core + _EDGE_SPACE * trail


def _unmark(text: str) -> str:
    # Code shows `<!--` as text, but a bot that finds its issue by a hidden marker reads the
    # raw body: a copy of any `<!-- ... -->` marker is broken by an invisible space.
    return text.replace("<!--", "<" + ZWSP + "!--")


def _truncate(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        return text[: max(0, limit - 1)] + "…"
    return text


def md_inline(value: object, limit: int | None = 300) -> str:
    """Repository text as inert inline Markdown: it shows as written and does nothing.

    A URL in it becomes a code span: no link, and it copies as the working URL (an invisible
    space inside it would break the copy)."""
    text = _truncate(" ".join(_controls(str(value)).split()), limit)
    pieces: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        url = _trim_url(m.group(0))
        if m.start() < pos or not url:
            continue
        pieces.append(_inline_text(text[pos : m.start()], at_line_start=pos == 0))
        pieces.append(f"`{_unmark(url)}`")
        pos = m.start() + len(url)
    pieces.append(_inline_text(text[pos:], at_line_start=pos == 0))
    return "".join(pieces)


def _trim_url(url: str) -> str:
    """Trailing punctuation ends a sentence, not the URL (as GitHub's autolinks read it)."""
    while url and (
        url[-1] in ".,:;!?*_~'"
        or (url[-1] == ")" and url.count(")") > url.count("("))
        or (url[-1] == "]" and url.count("]") > url.count("["))
    ):
        url = url[:-1]
    return url if "://" in url or url.lower().startswith("www.") else ""


def _inline_text(text: str, at_line_start: bool) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _BACKSLASHED:
            out.append("\\" + ch)
        elif ch == "_" and not (
            0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        ):
            out.append("\\_")  # emphasis; snake_case inside a word is left alone
        else:
            out.append(ch)
    escaped = "".join(out)
    m = _LINE_START.match(escaped) if at_line_start else None
    if m:
        marker = next(g for g in (1, 2, 3) if m.group(g) is not None)
        end = m.end(marker)
        if m.group(marker)[0].isdigit():
            escaped = escaped[:end] + "\\" + escaped[end:]  # 1\. not an ordered list
        else:
            escaped = "\\" + escaped
    # Filters GitHub runs after Markdown: mentions, references, bare links, emoji.
    escaped = _MENTION.sub(lambda m: "@" + ZWSP + m.group(1), escaped)
    escaped = _ISSUE_REF.sub(_issue_ref, escaped)
    escaped = _GH_REF.sub(lambda m: m.group(1) + ZWSP + m.group(2), escaped)
    escaped = escaped.replace("://", ":" + ZWSP + "//")
    escaped = _WWW.sub("www" + ZWSP + ".", escaped)
    escaped = _EMOJI_START.sub(_emoji_start, escaped)
    return escaped


def _issue_ref(m: rx.Match[str]) -> str:
    # `&#123;` is an entity this function wrote, not a reference.
    if m.string[m.start() - 1 : m.start()] == "&":
        return m.group(0)
    return "#" + ZWSP + m.group(1)


def _emoji_start(m: rx.Match[str]) -> str:
    # `:name:` is an emoji shortcode only with its closing colon.
    if m.string[m.end() : m.end() + 1] != ":":
        return m.group(0)
    return ":" + ZWSP + m.group(1)


def md_code(value: object, limit: int | None = 300) -> str:
    """Repository text as an inline code span the text cannot close (no line breaks).

    In a table the caller still escapes `|` (GitHub splits cells before it parses code)."""
    text = _truncate(_one_to_one(str(value)), limit)
    if not text:
        return "` `"
    text = _unmark(text)
    longest = max((len(m) for m in rx.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(value: object, lang: str = "", limit: int | None = 20_000) -> str:
    """Repository text (many lines) as a fenced code block it cannot close."""
    text = _truncate(_shown_bidi(str(value)), limit)
    text = "\n".join(
        "".join(ch if ch == "\t" or unicodedata.category(ch) != "Cc" else "�" for ch in line)
        for line in text.replace("\r\n", "\n").split("\n")
    )
    text = _unmark(text)
    longest = max((len(m) for m in rx.findall(r"`{3,}|~{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def md_url(url: object, hosts: tuple[str, ...] = ("github.com",), path_prefix: str = "") -> str:
    """A link when `url` is https on one of `hosts` (and under `path_prefix`); otherwise the
    URL as code, so a repository cannot make a link to anywhere it likes."""
    text = str(url or "")
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        return md_code(text)
    ok = (
        parts.scheme == "https"
        and host in {h.lower() for h in hosts}
        and parts.username is None
        and parts.password is None
        and parts.path.startswith(path_prefix)
        and not rx.search(r"[\s<>()\[\]`\\\"']", text)
    )
    if not ok:
        return md_code(text)
    return f"[{md_inline(text, limit=None)}]({text})"


# Whole categories, so a character nobody listed (a new format character) is covered too.
_INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def visible(text: str, keep: str = "") -> str:
    """Every Cc, Cf, Zl, Zp and Cs character (but those in `keep`) as a visible escape, and
    no workflow command the Actions runner would read in it (`inert`)."""
    return inert(
        "".join(
            _escape(ch) if ch not in keep and unicodedata.category(ch) in _INVISIBLE else ch
            for ch in text
        )
    )


# The Actions runner reads `##[name ...]` anywhere in a line (the legacy form), and
# `::name ...::` at the start of one after .NET's TrimStart(), which trims every Unicode
# white space character (Zs too: U+2003, U+3000), not only the controls `visible` escapes.
_LINE_BREAKS = rx.compile(r"(\r\n|\r|\n)")


def _dotnet_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def inert(text: str) -> str:
    """Text in which the Actions runner finds no workflow command: `##[` shown as `##\\[`
    anywhere, a `::` that starts a line (after any white space) as `\\::`. (In Actions
    forkvet also stops the runner's command processing as a whole: forkvet.cmdgate.)"""
    text = text.replace("##[", "##\\[")
    if "::" not in text:
        return text
    parts = _LINE_BREAKS.split(text)
    for i in range(0, len(parts), 2):  # the lines; the odd items are the breaks
        line = parts[i]
        lead = 0
        while lead < len(line) and _dotnet_space(line[lead]):
            lead += 1
        if line.startswith("::", lead):
            parts[i] = line[:lead] + "\\" + line[lead:]
    return "".join(parts)


def terminal(value: object, limit: int | None = None) -> str:
    """Repository text for a terminal line: every control, format (bidi) and line-break
    character shown as an escape sequence instead of acting."""
    return _truncate(visible(str(value)), limit)


TITLE_LIMIT = 256


def title(value: object, limit: int = TITLE_LIMIT) -> str:
    """Repository text as a GitHub title (issue, pull request, check run): one line of plain
    text that shows as written and acts on nothing. Whitespace runs (line breaks, tabs) become
    one space; every other control, bidi override or isolate, format character and separator
    is shown as its escape (`\\u202e`, `\\x1b`); @mentions, `#1`, `GH-1`, URLs, `:emoji:`
    and `<!--` markers are broken by an invisible space, the only invisible character a title
    holds (any in the value are dropped first, so title(title(x)) == title(x)). No HTML
    entities: a title is not Markdown, `<` shows as `<`."""
    text = visible(" ".join(str(value).replace(ZWSP, "").split()))
    text = _MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    text = _ISSUE_REF.sub(lambda m: "#" + ZWSP + m.group(1), text)
    text = _GH_REF.sub(lambda m: m.group(1) + ZWSP + m.group(2), text)
    text = _WWW.sub("www" + ZWSP + ".", text.replace("://", ":" + ZWSP + "//"))
    text = _EMOJI_START.sub(_emoji_start, text)
    return _truncate(_unmark(text), limit)


def workflow_data(value: object) -> str:
    """The message part of a workflow command (`::error ...::MESSAGE`): invisible characters
    made visible, then GitHub's escaping (CR and LF stay lines of the message)."""
    text = visible(str(value), keep="\r\n\t")
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(value: object) -> str:
    """A property of a workflow command (`title=`, `file=`)."""
    return workflow_data(value).replace(":", "%3A").replace(",", "%2C")


def strip_ansi(value: str) -> str:
    """Output of a program (a log tail) without its colour codes."""
    return _ANSI.sub("", value)
