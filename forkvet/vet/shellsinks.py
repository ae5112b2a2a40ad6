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
_SPECIFIER_ANYWHERE = rx.compile(r"\b(?:ark|scp)(?:,[a-z]+)*:")
# Documents and notebooks (whose code is JSON-escaped): a `.txt` URL list is read, a README not.
_PROSE = {".md", ".markdown", ".rst", ".html", ".htm", ".ipynb", ".tex", ".adoc"}
_SPECIAL = "$`\\\n\r\0"  # expansions, escapes, second lines: never judged, an error


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
    scp = f.suffix == ".scp"
    if f.suffix in _PROSE:
        return []  # read by people, not by a data loader
    if f.size > _MAX_FILE:
        return []  # no list or config of this size is read whole (docs/risks.md: left)
    text = utf8_text(snap, f, _MAX_FILE)
    if text is None or ("pipe:" not in text and "|" not in text):
        return []  # not text (no loader reads it as a list), or nothing handed to a shell
    out: list[Risk] = []
    values = _config_values(f, text)  # parsed once for every sink
    for sink in table()["sinks"]:
        for line, where, cmd in _strings(values, text, sink, scp):
            why = judge_command(cmd)
            if why is not None:
                out.append(_risk(f.path, line, f"{sink['library']} {where}", why))
    return out


def _strings(
    values: list[str] | None, text: str, sink: dict[str, Any], scp: bool
) -> Iterator[tuple[int | None, str, str]]:
    """(line, what, command) of each string of the file the sink's library hands a shell
    (`values`: the file's config strings, None when it is no config)."""
    where = sink["where"]
    if where == "scp":
        if scp:
            yield from _scp_commands(text, sink)
        return
    if values is None:
        if where == "values":  # not a config: quoted strings and lines
            yield from _text_commands(text, sink)
        return
    for value in values:
        for cmd in _commands(value, sink):
            yield None, f"string `{_short(value)}`", cmd


def _config_values(f: FileEntry, text: str) -> list[str] | None:
    """Every string value (keys too) of a JSON, YAML or TOML file as its loader reads it, or
    None when the file is none of them or does not parse (then read as text)."""
    kind = _CONFIG_SUFFIXES.get(f.suffix)
    if kind is None:
        return None
    if "pipe:" not in text and ("|" not in text or not _SPECIFIER_ANYWHERE.search(text)):
        return []  # nothing a sink reads in a config: not parsed
    try:
        if kind == "json":
            doc = safeparse.json_loads(text)
        elif kind == "toml":
            doc = safeparse.toml_loads(text)
        else:
            doc = safeyaml.load(text)
    except Exception:  # any parse failure: read as text (fail closed)
        return None
    values: list[str] = []
    todo = [doc]
    while todo and len(values) < _MAX_VALUES:
        node = todo.pop()
        if isinstance(node, str):
            values.append(node)
        elif isinstance(node, dict):
            todo.extend(node.keys())
            todo.extend(node.values())
        elif isinstance(node, list | tuple):
            todo.extend(node)
    if todo:
        raise ValueError("a config of more than 4 M strings")  # NOT verified
    return values


def _commands(value: str, sink: dict[str, Any]) -> Iterator[str]:
    """The commands one string value hands the sink's shell."""
    marker: str = sink["marker"]
    if sink["form"] == "prefix" and marker == "pipe:":
        start = value.find(marker)
        while start >= 0:  # anywhere: `::`-joined URL lists, brace expansions
            cmd = value[start + len(marker) :].split(sink.get("split", "\0"), 1)[0]
            if _url_start(value, start) and cmd.strip():
                yield cmd
            start = value.find(marker, start + 1)
        return
    m = _SPECIFIER.search(value)
    if m is None and sink["where"] == "config":
        return  # a Kaldi pipe in a config is named by its specifier (`ark:… |`)
    stripped = value[m.end() if m else 0 :].strip()
    if sink["form"] == "suffix" and stripped.endswith(marker) and len(stripped) > 1:
        yield stripped[: -len(marker)]
    elif sink["form"] == "prefix" and stripped.startswith(marker) and len(stripped) > 1:
        yield stripped[len(marker) :]


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
    if any(a.startswith("~") for a in args):
        return f"`{name}` is handed the home folder"
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
