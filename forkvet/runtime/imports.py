"""The import smoke test: import every module of the repository in a child interpreter."""

from __future__ import annotations

import ast
import contextlib
import fcntl
import json
import math
import os
import struct
import subprocess
import termios
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from forkvet import limits, rx, safeparse
from forkvet.runtime import sandbox
from forkvet.runtime.capture import CAP, Bounded, drain, run_capped
from forkvet.runtime.explain import explain
from forkvet.runtime.process import isolate_self, scrubbed_env
from forkvet.snapshot import Snapshot
from forkvet.vet.pysource import estimated_nodes

_SKIP_DIRS = (
    "tests/",
    "test/",
    "docs/",
    "doc/",
    "examples/",
    "scripts/",
    "tools/",
    "setup.py",
    "conftest.py",
)
_SETUP_CALL = rx.compile(
    r"^(?:add_|set_|register|append$|insert$|extend$|filterwarnings$|simplefilter$|"
    r"basicConfig$|setLevel$|addHandler$|manual_seed$|seed$|use$|setdefault$|update$|"
    r"disable_|enable_|setrecursionlimit$|set_start_method$|getLogger$|warn$)"
)
_SIDE_EFFECTS = (ast.For, ast.While, ast.With, ast.AsyncFor, ast.AsyncWith)

# Runs in the child: imports each module with a per-module alarm (a diagnostic: the deadline
# is the parent's, from outside), one JSON row each on the result descriptor (argv[3]), never
# on the stdout the imported code prints to.
_CHILD = r"""
import importlib, json, os, signal, sys, time, traceback
mods, timeout, results = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def on_alarm(*_):
    raise TimeoutError(f"import took over {timeout} s")
signal.signal(signal.SIGALRM, on_alarm)
def report(row):
    data = (json.dumps(row) + "\n").encode()
    while data:
        data = data[os.write(results, data):]
for name, path_dir in mods:
    if path_dir not in sys.path:
        sys.path.insert(0, path_dir)
    start = time.time()
    signal.alarm(timeout)
    try:
        importlib.import_module(name)
        err = None
    except BaseException as exc:
        err = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    finally:
        signal.alarm(0)
    report({"module": name, "error": err, "seconds": round(time.time() - start, 3)})
"""


@dataclass
class ImportCheck:
    ok: bool
    modules: int
    failures: list[dict[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _safe_to_import(text: str) -> bool:
    """A module whose top level only defines things: importing it runs no training."""
    if estimated_nodes(text) > limits.MAX_PARSE_TOKENS:
        return False  # built to exhaust ast (over 1 GB for a million names): not imported
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return True  # importing reports the syntax error, which is what we want
    for node in tree.body:
        if isinstance(node, ast.Expr):
            value = node.value
            # Docstrings and method calls (parser.add_argument, sys.path.append) are set-up;
            # a bare call (main(), train(args), print(...)) means the module is a script.
            if isinstance(value, ast.Constant) or (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and _SETUP_CALL.match(value.func.attr)
            ):
                continue
            return False
        if isinstance(node, _SIDE_EFFECTS):
            return False
    return True


def repo_modules(snap: Snapshot) -> tuple[list[tuple[str, str]], list[str]]:
    """([(module name, sys.path entry)], [skipped scripts])."""
    packages = {f.path.rsplit("/", 1)[0] for f in snap.files if f.name == "__init__.py"}
    mods: list[tuple[str, str]] = []
    skipped: list[str] = []
    for f in snap.files:
        if (
            f.suffix != ".py"
            or f.vendored
            or f.path.startswith(_SKIP_DIRS)
            or f.name.startswith("test_")
        ):
            continue
        parts = f.path[:-3].split("/")
        # The longest chain of packages ending at this file gives its dotted name.
        i = len(parts) - 1
        while i > 0 and "/".join(parts[:i]) in packages:
            i -= 1
        name_parts = parts[i:]
        if name_parts[-1] == "__init__":
            name_parts = name_parts[:-1]
        if not name_parts:
            continue
        root = str(snap.root / "/".join(parts[:i])) if i else str(snap.root)
        text = snap.read_text(f.path) or ""
        if not _safe_to_import(text):
            skipped.append(f.path)
            continue
        mods.append((".".join(name_parts), root))
    return mods, skipped


def own_modules(snap: Snapshot) -> set[str]:
    """The repository's own top-level module and package names (including a src/ layout)."""
    names: set[str] = set()
    for f in snap.files:
        parts = f.path.split("/")
        if parts[0] == "src" and len(parts) > 1:
            parts = parts[1:]
        if len(parts) == 1 and f.suffix == ".py":
            names.add(parts[0][:-3])
        elif len(parts) == 2 and parts[1] == "__init__.py":
            names.add(parts[0])
    return names


@contextlib.contextmanager
def _terminal() -> Iterator[int]:
    """A pseudo-terminal (24 rows, 80 columns) as the import check's stdin. Research code
    reads the terminal's size at import (`os.popen('stty size').read().split()` in a progress
    bar copied into countless PyTorch repositories), which fails on /dev/null although the
    environment is right. Reading it gives end-of-file at once, as /dev/null does: an
    `input()` at import fails instead of waiting for the timeout. Nothing reads what the
    child writes to it (echo is off); the user's own terminal is never involved."""
    master, child = os.openpty()
    try:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        attrs = termios.tcgetattr(child)
        attrs[3] &= ~(termios.ECHO | termios.ECHONL)  # lflag
        termios.tcsetattr(child, termios.TCSANOW, attrs)
        # Each end-of-file character ends one read: enough for every input() of a run.
        os.write(master, bytes([attrs[6][termios.VEOF][0]]) * _EOFS)
        yield child
    finally:
        os.close(child)
        os.close(master)


_EOFS = 256


def check_imports(
    snap: Snapshot,
    python: str,
    timeout: int = 60,
    env: dict[str, str] | None = None,
    budget: float | None = None,
) -> ImportCheck:
    """Import every module in one sandboxed child. `timeout`: a module's own alarm (a
    diagnostic the module can disarm); `budget`: seconds for the whole check, enforced from
    outside (the child's process group and sandbox are killed), by default 60 s plus
    `timeout` for each of up to 20 modules. `forkvet smoke` gives its --timeout."""
    mods, skipped = repo_modules(snap)
    own = own_modules(snap)
    if not mods:
        return ImportCheck(True, 0, skipped=skipped)
    given = "" if budget is None else " (--timeout)"
    if budget is None:
        # One child for all modules; the total budget covers a slow first import (torch).
        budget = 60 + timeout * min(len(mods), 20)
    timeout = max(1, min(timeout, math.ceil(budget)))
    isolate_self()
    # The rows come on a pipe of their own: what the imported code prints is never read as a
    # result. (It runs in the same interpreter and could write to this pipe too: every row is
    # checked, bound to its module by position, and a bad one fails that module.)
    read_end, write_end = os.pipe()
    rows = Bounded(CAP)
    reader = threading.Thread(
        target=drain, args=(os.fdopen(read_end, "rb", buffering=0), rows), daemon=True
    )
    reader.start()
    stopped = ""
    try:
        argv = [python, "-c", _CHILD, json.dumps(mods), str(timeout), str(write_end)]
        stderr = _run_child(snap, python, argv, env, budget, write_end)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr if isinstance(exc.stderr, str) else ""
        stopped = f"the import check ran out of its {budget:g} s{given} here"
    finally:
        os.close(write_end)
        reader.join(5)  # a process the sandbox did not hold may keep the pipe open
    failures, seen = _results(rows.text(), mods, timeout, own)
    if seen < len(mods):
        failures.append(
            {
                "module": mods[seen][0],
                "error": stderr[-500:],
                "reason": stopped or "the import check stopped here",
            }
        )
    return ImportCheck(not failures, len(mods), failures, skipped)


def _run_child(
    snap: Snapshot,
    python: str,
    argv: list[str],
    env: dict[str, str] | None,
    budget: float,
    write_end: int,
) -> str:
    """Run the import child in the sandbox, like the smoke command; its stderr."""
    # The interpreter's own environment, when it is one, is seen (read-only) even where
    # the sandbox's private /tmp would hide it (an --env-dir under /tmp); forkvet's
    # environment is read-only too (`sandbox.environment_mounts`).
    venv = Path(python).parent.parent
    readable = [str(venv)] if (venv / "pyvenv.cfg").is_file() else []
    readable += sandbox.environment_mounts(env)
    with (
        _terminal() as stdin,
        sandbox.sandboxed(argv, snap.root, (), readable) as (argv, _),
    ):
        # bounded: a module that prints gigabytes at import costs forkvet a few MB
        proc = run_capped(
            argv,
            cwd=snap.root,
            env=scrubbed_env(env),
            timeout=budget,
            stdin=stdin,
            pass_fds=(write_end,),
        )
    return proc.stderr or ""


def _results(
    text: str, mods: list[tuple[str, str]], timeout: int, own: set[str]
) -> tuple[list[dict[str, str]], int]:
    """(failures, rows read) from the result channel. Each row must be the next module's, of
    the child's shape and types; a row that is not fails that module (never forkvet), and
    rows past the last module are ignored."""
    failures: list[dict[str, str]] = []
    seen = 0
    for line in text.splitlines():
        if seen >= len(mods):
            break
        name = mods[seen][0]
        seen += 1
        error = _row_error(line, name)
        if error is _MALFORMED:
            failures.append(
                {
                    "module": name,
                    "error": line[-500:],
                    "reason": "its import result was not the import check's (the module's "
                    "code wrote to the result channel?)",
                }
            )
        elif error:
            reasons = explain(error, 1, False, timeout, own)
            failures.append(
                {
                    "module": name,
                    "error": error[-500:],
                    "reason": reasons[0] if reasons else error[-200:],
                }
            )
    return failures, seen


_MALFORMED = "\x00malformed"


def _row_error(line: str, name: str) -> str | None:
    """The error of a well-formed row for module `name` (None: imported), else _MALFORMED."""
    try:
        row = safeparse.json_loads(line)
    except (json.JSONDecodeError, ValueError, RecursionError):
        return _MALFORMED
    if (
        not isinstance(row, dict)
        or set(row) != {"module", "error", "seconds"}
        or row["module"] != name
        or not (row["error"] is None or isinstance(row["error"], str))
        or isinstance(row["seconds"], bool)
        or not isinstance(row["seconds"], (int, float))
    ):
        return _MALFORMED
    return row["error"]
