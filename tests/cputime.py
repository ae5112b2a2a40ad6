"""CPU time of a call, for the linear-time tests.

Best of a few runs of this process's CPU time: a busy machine slows a run, never speeds one up,
and other processes' load does not count. The collector is off while timing: a full collection
that happens to fall in the larger run walks every object of the process, which is not the
call's own cost."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def cpu_time(run: Callable[[], object], runs: int = 3) -> float:
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            start = time.process_time()
            run()
            times.append(time.process_time() - start)
    finally:
        gc.enable()
    return min(times)


def cpu_call(run: Callable[[], T]) -> tuple[T, float]:
    """What one call returns, and the CPU time this process spent on it (collector off)."""
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        value = run()
        return value, time.process_time() - start
    finally:
        gc.enable()
