"""What GPU the command saw, its peak memory and how busy it was, from nvidia-smi (absent on
CPU machines)."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from typing import NamedTuple

from forkvet import hostpaths

# Below this mean utilisation (percent) the GPU waited most of the time: the input pipeline,
# the CPU or a tiny batch is the bottleneck, not the GPU.
IDLE_PERCENT = 20.0


class Reading(NamedTuple):
    name: str
    memory_mib: float
    utilization: float | None  # percent; None where the driver does not report it


def _utilization(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:  # "[N/A]", "[Not Supported]"
        return None
    return value if 0 <= value <= 100 else None


def query() -> list[Reading]:
    """One Reading for each visible NVIDIA GPU; [] without a driver."""
    smi = hostpaths.find("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run(
            [
                smi,
                "--query-gpu=name,memory.used,utilization.gpu",
                "--format=csv,noheader,nounits",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in out.strip().splitlines()[:64]:
        # the name may hold a comma; the two numbers never do
        name, _, rest = line.rpartition(",")
        name, _, used = name.rpartition(",")
        try:
            gpus.append(Reading(name.strip(), float(used), _utilization(rest.strip())))
        except ValueError:
            continue
    return gpus


@dataclass
class GpuStats:
    """What the sampler saw while the command ran."""

    name: str | None = None
    peak_mib: float | None = None
    utilization_sum: float = 0.0
    utilization_samples: int = 0

    @property
    def utilization_mean(self) -> float | None:
        if not self.utilization_samples:
            return None
        return round(self.utilization_sum / self.utilization_samples, 1)


class GpuSampler:
    """Polls nvidia-smi in the background while a command runs: peak memory of the first GPU,
    and utilisation (the busiest GPU at each sample: a run that uses one of eight GPUs is not
    idle). Only running sums are kept, so a long run costs no memory."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.stats = GpuStats()
        self.baseline: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str | None:
        return self.stats.name

    @property
    def peak(self) -> float | None:
        return self.stats.peak_mib

    def start(self) -> None:
        first = query()
        if not first:
            return
        # before the command: its utilisation is not the command's
        self.stats.name = first[0].name
        self.baseline = first[0].memory_mib
        self.stats.peak_mib = first[0].memory_mib
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._record(query())

    def _record(self, now: list[Reading]) -> None:
        if not now:
            return
        if self.stats.peak_mib is not None:
            self.stats.peak_mib = max(self.stats.peak_mib, now[0].memory_mib)
        busy = [g.utilization for g in now if g.utilization is not None]
        if busy:
            self.stats.utilization_sum += max(busy)
            self.stats.utilization_samples += 1

    def stop(self) -> GpuStats:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        return self.stats


def idle_warning(mean: float | None, samples: int) -> str | None:
    """A plain sentence when the GPU waited most of the run (mean utilisation in percent)."""
    if mean is None or mean >= IDLE_PERCENT:
        return None
    return (
        f"warning: the GPU was idle most of the time: mean utilisation {mean:.0f}% over "
        f"{samples} sample(s) (the data loading, the CPU or a small batch "
        "holds it back)"
    )
