"""Data strings a library hands to a shell (round 22; outside tester round 21a F13, F14): a
WebDataset shard URL `pipe:<command>` (webdataset's `gopen` runs it with `shell=True`), a Kaldi
rxfilename `<command> |` in a `.scp` list or a config (kaldiio's `open_like_kaldi`), a Kaldi
wxfilename `| <command>`. Which libraries, which forms and where they are read are one table,
`forkvet/data/shell_sinks.json`; every file the vetting reads as config, data or a list is
read for them, and each is a `shell-in-data` finding of its own.

The command is judged, not the marker (such URLs are the norm in LAION-style training and
Kaldi recipes): a pipeline of programs that only read their input and write it to stdout
(`pipe:curl -L -s https://…/{000..099}.tar || true`, `sox x.wav -t wav - |`) passes; another
program, a path into the tree, a shell operator (`;`, `&&`, `&`, a redirection), an
expansion (`$`, a backtick), a backslash, a second line, or an option that writes a file,
uploads, or reads a config (`curl -o`, `-T`, `-K`) is an error. Past this pass's budget
what is left is NOT verified, an error."""

from __future__ import annotations

import functools
import json
import posixpath
import shlex
import time
from collections.abc import Collection, Iterator
from importlib import resources
from typing import Any

from forkvet import rx, safeparse, safeyaml
from forkvet.report import Risk
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet.textfiles import utf8_text

KIND = "shell-in-data"
_SECONDS = 5.0  # all files of a run, inside the run's deadline
_MAX_FILE = 4 << 20  # bytes of one file read
_MAX_VALUES = 4 << 20  # string values of one parsed config (more only by YAML aliases)
_MAX_RISKS = 20
_CONFIG_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_SPECIFIER = rx.compile(r"^\s*(?:ark|scp)(?:,[a-z]+)*:")  # Kaldi's `ark,t:` / `scp:` prefix
# Documents and notebooks (whose code is JSON-escaped): a `.txt` URL list is read, a README not.
_PROSE = {".md", ".markdown", ".rst", ".html", ".htm", ".ipynb", ".tex", ".adoc"}
_SPECIAL = "$`\\\n\r\0"  # expansions, escapes, second lines: never judged, an error
_SCHEME = rx.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")  # urllib.parse's scheme
_FILE_URL = rx.compile(r"^(?i:file):(?://[^/]*)?")
_C0_SPACE = "".join(map(chr, range(0x21)))  # what urllib.parse strips before a URL
# Text that holds one of these may hold a string a sink reads (an escape may spell any).
_MAY_HOLD = ("pipe:", "|", "'", "\\", "download")
# A `|` that may end a string (Kaldi's `cmd |`): before its closing quote, a flow
# separator, a key's `:`, a comment or a line end; a specifier anywhere (`ark:| gzip`).
_PIPE_END = rx.compile(r"\|[ \t\r]*(?:[\"',}\]:#\\]|$)", rx.M)
_ASCII_ESCAPE = rx.compile(r"\\[xuU]")  # JSON's, YAML's and TOML's code point escapes
_SPECIFIER_ANYWHERE = rx.compile(r"\b(?:ark|scp)(?:,[a-z]+)*:")
_URL_SCHEME = rx.compile(r"(?i)\b(?:https?|s?ftps?|scp|gs|ais|htgs)\s*:")


@functools.cache
def table() -> dict[str, Any]:
    text = resources.files("forkvet.data").joinpath("shell_sinks.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def shell_risks(
    snap: Snapshot, deadline: float, errors: Collection[str] = frozenset()
) -> list[Risk]:
    """Every shell-run data string of the tree judged (see judge_command). A file that
    cannot be read is NOT verified, unless it is one of `errors` (an error already)."""
    deadline = min(deadline, time.monotonic() + _SECONDS)
    out: list[Risk] = []
    late: list[str] = []
    for f in snap.files:
        if len(out) >= _MAX_RISKS:
            break  # the run is an error already
        if time.monotonic() > deadline:
            late.append(f.path)
            continue
        try:
            out += _file_risks(snap, f)
        except OSError as exc:
            if f.path not in errors:
                out.append(_risk(f.path, None, "", f"NOT verified: {exc.strerror or exc}"))
        except (ValueError, RecursionError) as exc:
            out.append(_risk(f.path, None, "", f"NOT verified: {type(exc).__name__}"))
    if late:
        more = f" ({len(late) - 1:,} more files were not read either)" if len(late) > 1 else ""
        why = f"NOT verified: the {_SECONDS:.0f} s for data handed to a shell were spent{more}"
        out.append(_risk(late[0], None, "", why))
    return out


def _file_risks(snap: Snapshot, f: FileEntry) -> list[Risk]:
    if f.suffix in _PROSE:
        return []  # read by people, not by a data loader
    if f.size > _MAX_FILE:
        return []  # no list or config of this size is read whole (docs/risks.md: left)
    text = utf8_text(snap, f, _MAX_FILE)
    if text is None or not any(m in text for m in _MAY_HOLD):
        return []  # not text (no loader reads it as a list), or nothing handed to a shell
    out: list[Risk] = []
    doc = _config_doc(f, text)  # parsed once for every sink
    values = None if doc is _NO_CONFIG else _config_values(doc, text)
    for sink in table()["sinks"]:
        if sink["form"] == "dispatch":
            if _CONFIG_SUFFIXES.get(f.suffix) == sink["where"]:
                out += _dispatch_risks(f.path, doc, sink)
            continue
        for line, where, cmd in _strings(values, text, sink, f):
            why = _judge(sink, cmd)
            if why is not None:
                out.append(_risk(f.path, line, f"{sink['library']} {where}", why))
    return out


def _judge(sink: dict[str, Any], cmd: str) -> str | None:
    """Why a string the sink hands a shell is more than data: a `quoted` sink's URL holding
    its quote (round 22a F1: `curl -f -s -L '<url>'`), else the command judged."""
    if sink["form"] != "quoted":
        return judge_command(cmd)
    quote: str = sink["quote"]
    if quote not in cmd:
        return None
    return (
        f"`{_short(cmd.strip())}` holds {quote}, which ends the {quote}…{quote} the URL is put in"
    )


def _dispatch_risks(path: str, doc: object, sink: dict[str, Any]) -> list[Risk]:
    """A value the library dispatches by its form (round 22a F17, YOLO's data YAML
    `download`): a `http….zip` URL is downloaded, `bash …` run by a shell, any other
    string `exec`'d as Python — code, an error whatever it holds."""
    if not isinstance(doc, dict) or not any(k in doc for k in sink["when_keys"]):
        return []
    value = doc.get(sink["key"])
    if not isinstance(value, str) or not value:
        return []  # `if s and autodownload`: nothing runs
    if value.startswith(sink["url_prefix"]) and value.endswith(sink["url_suffix"]):
        return []
    what = f"{sink['library']} `{sink['key']}` string"
    if value.startswith(sink["shell_prefix"]):
        why = judge_command(value)
        return [_risk(path, None, what, why)] if why else []
    short = _short(" ".join(value.split()))
    message = (
        f"The {what} `{short}` is no URL ending in {sink['url_suffix']}, so the loader "
        "exec()s it as Python when the data is missing: code in data. Read it before "
        "training on this data"
    )
    return [Risk(KIND, "error", message, path, None)]


def _strings(
    values: list[str] | None, text: str, sink: dict[str, Any], f: FileEntry
) -> Iterator[tuple[int | None, str, str]]:
    """(line, what, command) of each string of the file the sink's library hands a shell
    (`values`: the file's config strings, None when it is no config)."""
    where, suffix = sink["where"], f.suffix
    if where == "scp":
        if suffix == ".scp":
            yield from _scp_commands(text, sink)
        return
    if values is None:
        if sink["form"] == "quoted":
            yield from _list_urls(text, sink, suffix)
        elif where == "values":  # not a config: quoted strings and lines
            yield from _text_commands(text, sink)
        return
    for value in values:
        for cmd in _commands(value, sink):
            yield None, f"string `{_short(value)}`", cmd


_NO_CONFIG = object()  # a file that is no config, or one that does not parse: read as text
_JSON = object()  # a JSON text that parses


def _worth_parsing(text: str) -> bool:
    """Whether a config's text may hold a string a sink reads, as its loader decodes it: an
    escape of a code point (`\\x7c`, `\\u0027`) may spell anything; else `pipe:`, a `|` that
    may end a string or follow a specifier, a YOLO `download`, or a quote beside a URL
    scheme."""
    if "pipe:" in text or "download" in text or _ASCII_ESCAPE.search(text):
        return True
    if "|" in text and (
        _SPECIFIER_ANYWHERE.search(text) or any(map(_ends_string, _PIPE_END.finditer(text)))
    ):
        return True
    return "'" in text and _URL_SCHEME.search(text) is not None


@functools.cache
def _json_marked() -> rx.Pattern[str]:
    marks = "|".join(rx.escape(m) for m in _marks()) + r"|\\u00[0-7][0-9A-Fa-f]"
    return rx.compile(r'"(?:[^"\\]|\\.)*?(?:' + marks + r')(?:[^"\\]|\\.)*"')


def _ends_string(m: rx.Match[str]) -> bool:
    """Whether a `|` may end a string: not YAML's block scalar indicator (`key: |`, `- |`)."""
    text, at = m.string, m.start()
    before = text[text.rfind("\n", 0, at) + 1 : at]
    if before[-1:].isspace() and before.rstrip().endswith(":"):
        return False  # `key: |`
    return before.strip(" \t-?") != ""  # `- |`, `? |`


@functools.cache
def _marks() -> tuple[str, ...]:
    """What a string any sink reads holds: a marker (`pipe:`, `|`) or a quote."""
    marks = {s.get("marker") or s.get("quote") for s in table()["sinks"]} - {None}
    return tuple(sorted(marks))


def _config_doc(f: FileEntry, text: str) -> object:
    """A JSON, YAML or TOML file as its loader reads it (None when nothing in it may be a
    sink's string: not parsed), _JSON for JSON that parses, or _NO_CONFIG."""
    kind = _CONFIG_SUFFIXES.get(f.suffix)
    if kind is None:
        return _NO_CONFIG
    if not _worth_parsing(text):
        return None
    try:
        if kind == "json":
            return _JSON  # its strings are read token by token
        if kind == "toml":
            return safeparse.toml_loads(text)
        return safeyaml.load(text)
    except Exception:  # any parse failure: read as text (fail closed)
        return _NO_CONFIG


def _config_values(doc: object, text: str) -> list[str] | None:
    """Every string value (keys too) of a parsed config that holds a sink's marker or quote
    (`_marks`: the others no sink reads). JSON's are its string tokens that hold one, or an
    escape of an ASCII character (which may spell one), each decoded as json.loads decodes
    it: a tokenizer's 300,000 tokens are not walked as objects."""
    if doc is _JSON:
        try:
            return [json.loads(m.group(0)) for m in _json_marked().finditer(text)]
        except ValueError:  # a token json.loads does not decode: no JSON, read as text
            return None
    values: list[str] = []
    todo, marks, seen = [doc], _marks(), 0
    while todo and seen < _MAX_VALUES:
        node = todo.pop()
        if isinstance(node, str):
            seen += 1
            for mark in marks:
                if mark in node:
                    values.append(node)
                    break
        elif isinstance(node, dict):
            todo.extend(node)
            todo.extend(node.values())
        elif isinstance(node, list | tuple):
            todo.extend(node)
    if todo:
        raise ValueError("a config of more than 4 M strings")  # NOT verified
    return values


def _commands(value: str, sink: dict[str, Any]) -> Iterator[str]:
    """The commands one string value hands the sink's shell."""
    if sink["form"] == "quoted":  # each URL of a `::`-joined list, by its scheme
        if sink["quote"] not in value:
            return  # nothing ends the quoting
        for part in value.split(sink.get("split", "\0")):
            if _scheme(part) in sink["schemes"]:
                yield part
        return
    marker: str = sink["marker"]
    if marker not in value:
        return
    if sink["form"] == "prefix" and marker == "pipe:":
        start = value.find(marker)
        while start >= 0:  # anywhere: `::`-joined URL lists, brace expansions
            cmd = value[start + len(marker) :].split(sink.get("split", "\0"), 1)[0]
            if _url_start(value, start) and cmd.strip():
                yield cmd
            start = value.find(marker, start + 1)
        return
    m = _SPECIFIER.search(value)
    if m is None and sink["where"] == "config" and not sink.get("bare"):
        return  # a Kaldi wxfilename in a config is named by its specifier (`ark:| …`)
    stripped = value[m.end() if m else 0 :].strip()
    if sink["form"] == "suffix" and stripped.endswith(marker) and len(stripped) > 1:
        if m is not None or _runs(stripped[: -len(marker)]):  # round 22a F14: `cmd |` bare
            yield stripped[: -len(marker)]
    elif sink["form"] == "prefix" and stripped.startswith(marker) and len(stripped) > 1:
        yield stripped[len(marker) :]


def _scheme(url: str) -> str:
    m = _SCHEME.search(url.lstrip(_C0_SPACE))
    return m.group(1).lower() if m else ""


def _runs(cmd: str) -> bool:
    """Whether a string could name a program to a shell: not a tokenizer's `Ġ$$ ` (none of
    the table's `runs` characters), not `||x||` (a syntax error: nothing runs)."""
    c = cmd.strip()
    return not c.startswith("|") and _runs_rx().search(c) is not None


@functools.cache
def _runs_rx() -> rx.Pattern[str]:
    return rx.compile(table()["runs"])


def _scp_commands(text: str, sink: dict[str, Any]) -> Iterator[tuple[int | None, str, str]]:
    for n, line in enumerate(text.splitlines(), 1):
        fields = line.strip().split(None, 1)
        if len(fields) == 2:
            for cmd in _commands(fields[1], sink):
                yield n, "list entry", cmd


def _text_commands(text: str, sink: dict[str, Any]) -> Iterator[tuple[int | None, str, str]]:
    """`pipe:` commands of a text that is no config: up to the quote before the marker
    closes, or the end of the line. A doubled quote (YAML's `''`) or no closing quote is an
    escape the judgement cannot follow: the rest of the text is judged, an error."""
    marker: str = sink["marker"]
    start = text.find(marker)
    while start >= 0:
        quote = text[start - 1] if start and text[start - 1] in "\"'" else "\n"
        begin = start + len(marker)
        end = text.find(quote, begin)
        if end < 0 or (quote != "\n" and text.startswith(quote, end + 1)):
            end = len(text)  # unterminated, or an escaped quote: judged to the end
        cmd = text[begin:end].split(sink.get("split", "\0"), 1)[0]
        if _text_start(text, start, cmd) and cmd.strip():  # not `with p.stdout as pipe:`
            yield text.count("\n", 0, start) + 1, "string", cmd
        start = text.find(marker, begin)


def _list_urls(
    text: str, sink: dict[str, Any], suffix: str
) -> Iterator[tuple[int | None, str, str]]:
    """A `quoted` sink's URLs in a list file that is no config (`lists`: a `.txt` of shard
    URLs, one a line): each line (each part of a `::` list) that starts with one of its
    schemes, whole. Code and prose are not such lists (a URL in code is the code's)."""
    if suffix not in sink["lists"] or sink["quote"] not in text:
        return
    for n, line in enumerate(text.splitlines(), 1):
        if sink["quote"] in line:
            for cmd in _commands(line, sink):  # each URL of a `::` list, by its scheme
                yield n, "list line", cmd


def _url_start(text: str, at: int) -> bool:
    """Whether a marker starts a URL: not inside a word (`mypipe:`, `self.pipe:`)."""
    return at == 0 or not (text[at - 1].isalnum() or text[at - 1] in "_.")


def _text_start(text: str, at: int, cmd: str) -> bool:
    """Whether a marker in a text that is no config starts a value: at the start of its
    line, or after a quote, `=`, `:` (YAML's `key: pipe:…`, `::`), `,`, or a bracket; not
    inside prose (`"error in pipe: …"`) or code (`as pipe:`); never followed by a space."""
    if cmd[:1].isspace() or cmd.strip().isdigit():
        return False  # `pipe: Type` (a key, an annotation), ffmpeg's `pipe:0` (a descriptor)
    before = text[text.rfind("\n", 0, at) + 1 : at].rstrip()
    return not before or before[-1] in "\"'=:,{[("


def _short(value: str) -> str:
    return value if len(value) <= 80 else value[:77] + "..."


def _risk(path: str, line: int | None, what: str, why: str) -> Risk:
    inside = f"A {what} is run by a shell" if what else "Data handed to a shell"
    return Risk(
        KIND,
        "error",
        f"{inside}: {why}. The library runs it when the data is read; read it before "
        "training on this data",
        path,
        line,
    )


# -- the command -----------------------------------------------------------------------------------
# Path parts through which an absolute program path may lead anywhere (the kernel's views of
# a process, scratch folders, `.`/`..`, `//`); a Kaldi tool under `/opt/kaldi/tools/` is fine.
_LEADS_ANYWHERE = frozenset(("", ".", "..", "proc", "dev", "fd", "self", "tmp", "shm", "run"))


def judge_command(cmd: str) -> str | None:
    """Why a command is more than programs writing data to stdout, or None."""
    bad = next((c for c in cmd if c in _SPECIAL), None)
    if bad is not None:
        return f"`{_short(cmd.strip())}` holds {bad!r}, which the shell expands or escapes"
    try:
        lexer = shlex.shlex(cmd, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return f"`{_short(cmd.strip())}` has unbalanced quotes"
    segments: list[list[str]] = [[]]
    for i, tok in enumerate(tokens):
        if tok == "|":
            segments.append([])
        elif tok == "||" and tokens[i + 1 :] in ([t] for t in table()["tails"]):
            break  # `|| true`: the download's failure is ignored
        elif tok and all(c in "();<>|&" for c in tok):
            return f"`{_short(cmd.strip())}` runs the shell operator `{tok}`"
        else:
            segments[-1].append(tok)
    for seg in segments:
        why = _program(seg)
        if why is not None:
            return f"`{_short(cmd.strip())}`: {why}"
    return None


def _program(seg: list[str]) -> str | None:
    """Why one pipeline stage is more than a program writing its input to stdout, or None."""
    if not seg:
        return "an empty pipeline stage"
    prog, args = seg[0], seg[1:]
    if "/" in prog and not prog.startswith("/"):
        return f"it runs `{prog}`, a file of the tree or the working folder"
    name = prog.rsplit("/", 1)[-1]
    if _LEADS_ANYWHERE & set(prog.split("/")[1:-1]):
        # a path is judged by where it may lead, not only by its last name:
        # `/proc/self/cwd/bin/curl` is the tree's own `bin/curl` (round 22a F22)
        return f"it runs `{prog}`, a path through a folder that may lead into the tree"
    rule: dict[str, Any] | None = table()["programs"].get(name)
    if rule is None:
        return f"it runs `{name}`, not a program that only writes data to stdout"
    private = next((a for a in args if _private(a)), None)
    if private is not None:  # round 22a F23: by where the path leads, not the spelling `~`
        return f"`{name}` is handed `{_short(private)}`, a home folder or the system's own files"
    subs: list[list[str]] = rule.get("subcommands", [])
    if subs and not any(args[: len(s)] == s for s in subs):
        return f"`{name} {' '.join(args[:2])}` is not a read to stdout"
    last = rule.get("last")
    if last is not None and (not args or args[-1] != last):
        return f"`{name}` does not write to stdout (its last argument is not `{last}`)"
    if "needs" in rule and rule["needs"] not in args:
        return f"`{name}` does not write to stdout (no `{rule['needs']}` argument)"
    needed: list[str] = rule.get("stdout_required", [])
    if needed and not any(_uses(a, o, rule) for a in args for o in needed):
        return f"`{name}` does not write to stdout (no `{needed[0]}`)"
    for i, arg in enumerate(args):
        for opt in rule.get("refused", []):
            if _uses(arg, opt, rule):
                return f"`{name}` is given `{arg}` (it writes a file, uploads or reads a config)"
        for opt in rule.get("stdout_only", []):
            if _uses(arg, opt, rule) and _value(args, i, opt) != "-":
                return f"`{name}` is given `{arg}` with a file, not `-` (stdout)"
    return None


def _private(arg: str) -> bool:
    """Whether an argument (an option's `=value`, a `file:` URL) names a path in the table's
    `private` folders once normalised (`//root`, `/./root`, `file://localhost/root`), or an
    absolute path through `..` (the kernel resolves it past symlinks: not judged)."""
    value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
    url = _FILE_URL.search(value)
    if url is not None:
        value = value[url.end() :]
        if "%" in value:
            return True  # a percent-escaped file path: not judged
    if value.startswith("~"):
        return True
    if not value.startswith("/"):
        return False
    if ".." in value.split("/"):
        return True
    norm = "/" + posixpath.normpath(value).lstrip("/")
    return any(norm == p or norm.startswith(p.rstrip("/") + "/") for p in table()["private"])


def _uses(arg: str, opt: str, rule: dict[str, Any]) -> bool:
    """Whether an argument gives the option: a long one by any prefix getopt_long accepts
    (`--output-d=x`), a short one alone or in a cluster (`-sLo`)."""
    if opt.startswith("--"):
        name = arg[2:].split("=", 1)[0]
        return arg.startswith("--") and bool(name) and opt[2:].startswith(name)
    if rule.get("words"):
        return arg == opt
    return arg.startswith("-") and not arg.startswith("--") and opt[1] in arg[1:]


def _value(args: list[str], i: int, opt: str) -> str | None:
    arg = args[i]
    if arg.startswith("--"):
        if "=" in arg:
            return arg.split("=", 1)[1]
    else:
        attached = arg[arg.index(opt[1]) + 1 :]
        if attached:
            return attached
    return args[i + 1] if i + 1 < len(args) else None
