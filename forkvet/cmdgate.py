"""In GitHub Actions, the runner processes no workflow command forkvet did not mean.

The runner reads every line a step prints, on stdout and on stderr, and acts on a workflow
command in it: `::name ...::` at the start of a line (after any Unicode white space, which it
trims), and the legacy `##[name ...]` anywhere in a line. forkvet prints text a repository
controls (an error from uv quoting a requirement line, a build backend's stderr quoted by uv,
a path), and its children may write to the stderr they inherit (uv, git). Escaping every such
line would be a list that can miss a spelling; the runner's own switch cannot:
`::stop-commands::<token>` makes it process no command at all until it reads `::<token>::`.

So, run as a program with `GITHUB_ACTIONS=true`, forkvet (`start`, from `forkvet.cli.main`):

- writes `::stop-commands::<token>` before anything else, with a fresh token of 128 random
  bits that is written nowhere else and never reused: text cannot guess it;
- resumes only around the commands it means itself (`speaking`: the annotations of
  `forkvet.gha`, through github-action-utils), writes them, and stops again with a new token;
- resumes at exit (`atexit`, which a SIGTERM's unwinding also reaches), so the step's later
  lines (its shell's own `::error::`) are processed again. A forkvet killed with SIGKILL
  leaves the rest of that step stopped (the runner keeps the state per step): nothing of
  forkvet's actions prints a command after forkvet in the same step.

Every line of this protocol, and forkvet's own commands, go to file descriptor 2 (stderr):
stdout is often a data channel (`forkvet env > result.json`, `key=$(forkvet envs key ...)`,
`>> $GITHUB_STEP_SUMMARY`) where a stop line would corrupt the data, and the runner reads
stdout and stderr as two pipes whose lines it interleaves in no guaranteed order. On one pipe
the order is total: a line written after the stop line is read after it. forkvet's actions
therefore run forkvet with stdout and stderr on one pipe (`2>&1`) wherever stdout is not a
file or a capture; children that inherit forkvet's stderr write into that same pipe.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import sys
from collections.abc import Iterator

_token: str | None = None
_started = False


def active() -> bool:
    """Is the runner's command processing stopped by this process right now?"""
    return _token is not None


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _line(text: str, fresh: bool = True) -> None:
    """One line on fd 2, after whatever Python still buffers on either stream; on a line of
    its own (`fresh`): what was written before may not have ended its line, and a command
    glued to the end of other text is no command."""
    _flush()
    data = (("\n" if fresh else "") + text + "\n").encode()
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(2, data) :]


def _stop(fresh: bool = True) -> None:
    global _token
    # hex: never one of the runner's command names, never `:` or a space
    _token = "forkvet-" + secrets.token_hex(16)
    _line(f"::stop-commands::{_token}", fresh)


def _resume() -> None:
    global _token
    if _token is not None:
        token, _token = _token, None
        _line(f"::{token}::")


def start() -> None:
    """In GitHub Actions, stop the runner's command processing for this process's output
    (once; before anything else is printed)."""
    global _started
    if _started or os.environ.get("GITHUB_ACTIONS") != "true":
        return
    try:
        os.fstat(2)
    except OSError:
        return  # no stderr: nothing of ours reaches the runner
    _started = True
    _stop(fresh=False)
    atexit.register(_resume)


@contextlib.contextmanager
def speaking() -> Iterator[None]:
    """forkvet's own workflow commands: the runner processes them, and only them. What is
    printed inside goes to stderr (github-action-utils writes to `sys.stdout`), on the same
    pipe as the resume and stop lines around it."""
    if _token is None:
        yield
        return
    _resume()
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        _flush()
        sys.stdout = out
        _stop()
