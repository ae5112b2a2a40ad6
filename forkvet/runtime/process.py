"""Run a repository's command safely: own process group, timeout, scrubbed environment,
output teed to a log file, and the whole group killed at the end (no leftover processes)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from forkvet.runtime.gpu import GpuSampler
from forkvet.safe_write import open_log

# Names that carry credentials on runners and developer machines.
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW(?:OR)?D|CREDENTIAL|PRIVATE_KEY|API_KEY|ACCESS_KEY|AUTH|COOKIE|SESSION|"
    r"WEBHOOK",
    re.I,
)
_SECRET_PREFIXES = (
    "AWS_",
    "AZURE_",
    "GOOGLE_APPLICATION",
    "GCP_",
    "ACTIONS_RUNTIME",
    "ACTIONS_ID_TOKEN",
    "ACTIONS_CACHE",
    "ACTIONS_RESULTS",
    "FORKVET_PRIVATE",
    "FORKVET_WEBHOOK",
    "FORKVET_USER_TOKEN",
    "NPM_",
    "PYPI_",
    "TWINE_",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "WANDB_API",
)
TAIL_LINES = 60


def scrubbed_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without anything that looks like a secret."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not _SECRET_NAME.search(k) and not k.startswith(_SECRET_PREFIXES)
    }
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class RunResult:
    command: str
    returncode: int | None
    timed_out: bool
    stopped_early: bool
    duration: float
    tail: list[str]
    log: str | None
    gpu_name: str | None = None
    gpu_peak_mib: float | None = None
    line_times: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _kill_group(pgid: int) -> None:
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def run(
    command: str,
    cwd: Path,
    timeout: float,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    on_line: Callable[[str], bool] | None = None,
    echo: bool = False,
) -> RunResult:
    """Run a shell command. on_line(line) returning True stops the run early (enough steps)."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    start = time.monotonic()
    sampler = GpuSampler()
    sampler.start()
    log = os.fdopen(open_log(log_path, repo=cwd), "w", encoding="utf-8") if log_path else None
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=scrubbed_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stop = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            # tqdm redraws with \r: each redraw is a line for loss parsing.
            for line in raw.decode("utf-8", "replace").replace("\r", "\n").splitlines():
                if not line.strip():
                    continue
                tail.append(line)
                if log:
                    log.write(line + "\n")
                if echo:
                    print(line, flush=True)
                if on_line and not stop.is_set() and on_line(line):
                    stop.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    timed_out = False
    while True:
        try:
            proc.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            if stop.is_set():
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                break
    stopped_early = stop.is_set() and proc.poll() is None
    # Kill the whole group: the command's children (data loaders, servers) go too.
    _kill_group(proc.pid)
    proc.wait()
    reader.join(timeout=5)
    duration = time.monotonic() - start
    if log:
        log.close()
    name, peak = sampler.stop()
    return RunResult(
        command,
        None if (timed_out or stopped_early) else proc.returncode,
        timed_out,
        stopped_early,
        duration,
        list(tail),
        str(log_path) if log_path else None,
        name,
        peak,
    )
