"""What GPU the command saw, and its peak memory, from nvidia-smi (absent on CPU machines)."""

from __future__ import annotations

import shutil
import subprocess
import threading


def query() -> list[tuple[str, float]]:
    """[(name, memory used MiB)] for each visible NVIDIA GPU; [] without a driver."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in out.strip().splitlines():
        name, _, used = line.rpartition(",")
        try:
            gpus.append((name.strip(), float(used)))
        except ValueError:
            continue
    return gpus


class GpuSampler:
    """Polls nvidia-smi in the background while a command runs."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.name: str | None = None
        self.baseline: float | None = None
        self.peak: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        first = query()
        if not first:
            return
        self.name = first[0][0]
        self.baseline = first[0][1]
        self.peak = first[0][1]
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            now = query()
            if now and self.peak is not None:
                self.peak = max(self.peak, now[0][1])

    def stop(self) -> tuple[str | None, float | None]:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        return self.name, self.peak
