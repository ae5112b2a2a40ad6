"""Run a child that runs the repository's code and keep a bounded part of what it prints.

`subprocess.run(capture_output=True)` holds everything a child writes in forkvet's own,
unsandboxed memory: a module that prints gigabytes at import would take the runner down. Here
each stream keeps its first and its last CAP // 2 bytes; what lies between is counted, not kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

CAP = 8 << 20  # per stream: the rows a check reads are a few KB; tracebacks a few tens


class Bounded:
    def __init__(self, cap: int) -> None:
        self.half = cap // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail += chunk
        over = len(self.tail) - self.half
        if over > 0:
            del self.tail[:over]
            self.dropped += over

    def text(self) -> str:
        gap = f"\n… {self.dropped:,} bytes not kept …\n".encode() if self.dropped else b""
        return bytes(self.head + gap + self.tail).decode("utf-8", "replace")


def drain(pipe: IO[bytes], keep: Bounded) -> None:
    while chunk := pipe.read(1 << 16):
        keep.add(chunk)


def run_capped(
    argv: Sequence[str],
    *,
    cwd: Path | str,
    env: dict[str, str] | None,
    timeout: float,
    stdin: Any = subprocess.DEVNULL,
    cap: int = CAP,
    pass_fds: Sequence[int] = (),
) -> subprocess.CompletedProcess[str]:
    """Like subprocess.run(..., capture_output=True, text=True), with each stream bounded.
    On the timeout the child's whole process group is killed (it starts one of its own; the
    sandbox dies with it) and subprocess.TimeoutExpired carries what was kept.
    pass_fds: descriptors the child inherits besides the three (a result channel)."""
    out, err = Bounded(cap), Bounded(cap)
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(target=drain, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=drain, args=(proc.stderr, err), daemon=True),
    ]
    for r in readers:
        r.start()
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
        for r in readers:
            r.join(5)
        raise subprocess.TimeoutExpired(list(argv), timeout, out.text(), err.text()) from None
    for r in readers:
        r.join()
    return subprocess.CompletedProcess(list(argv), returncode, out.text(), err.text())
