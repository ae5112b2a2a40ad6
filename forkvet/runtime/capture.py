"""Run a child that runs the repository's code and keep a bounded part of what it prints.

`subprocess.run(capture_output=True)` holds everything a child writes in forkvet's own,
unsandboxed memory: a module that prints gigabytes at import would take the runner down. Here
each stream keeps its first and its last CAP // 2 bytes; what lies between is counted, not kept.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

CAP = 8 << 20  # per stream: the rows a check reads are a few KB; tracebacks a few tens


class _Bounded:
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


def _drain(pipe: IO[bytes], keep: _Bounded) -> None:
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
) -> subprocess.CompletedProcess[str]:
    """Like subprocess.run(..., capture_output=True, text=True), with each stream bounded.
    On the timeout the child is killed and subprocess.TimeoutExpired carries what was kept."""
    out, err = _Bounded(cap), _Bounded(cap)
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, err), daemon=True),
    ]
    for r in readers:
        r.start()
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        for r in readers:
            r.join(5)
        raise subprocess.TimeoutExpired(list(argv), timeout, out.text(), err.text()) from None
    for r in readers:
        r.join()
    return subprocess.CompletedProcess(list(argv), returncode, out.text(), err.text())
