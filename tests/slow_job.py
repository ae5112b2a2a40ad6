"""A job child for tests and benchmarks only: bot.jobchild, with a vet that burns CPU, eats
memory or fills its folder's disk, or an environment generation that fails, when the
repository holds a marker file. Settings.job_module points here in tests; the App never can
(Settings.from_env does not read it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import jobchild, jobs

BURN_CPU = "FORKVET_TEST_BURN_CPU"
EAT_MEMORY = "FORKVET_TEST_EAT_MEMORY"
BREAK_ENV = "FORKVET_TEST_BREAK_ENV"
FILL_DISK = "FORKVET_TEST_FILL_DISK"
_real_vet = getattr(jobs, "vet")  # noqa: B009
_real_pinned_env = getattr(jobs, "_pinned_env")  # noqa: B009


def broken_pinned_env(snap_root: Any, *args: Any) -> Any:
    if (snap_root / BREAK_ENV).exists():
        from forkvet.errors import ForkvetError

        raise ForkvetError("/secret/path/of/the/worker: resolution failed")
    return _real_pinned_env(snap_root, *args)


def hostile_vet(snap: Any, config: Any) -> Any:
    if (snap.root / BURN_CPU).exists():
        n = 0
        while True:  # a parser's worst case, stood in for: pure CPU, never done
            n = (n * 31 + 7) % 1_000_003
    if (snap.root / FILL_DISK).exists():
        import tempfile
        import time

        # Writes into the job's own TMPDIR, 1 MiB at a time, up to 128 MiB, then waits.
        with open(Path(tempfile.gettempdir()) / "fill.bin", "wb") as fh:
            for _ in range(128):
                fh.write(b"\0" * (1 << 20))
                fh.flush()
                time.sleep(0.01)
        time.sleep(3600)
    if (snap.root / EAT_MEMORY).exists():
        hog = []
        while True:
            hog.append(bytearray(64 * 1024 * 1024))
    return _real_vet(snap, config)


if __name__ == "__main__":
    setattr(jobs, "vet", hostile_vet)  # noqa: B010  (the module global the handler calls)
    setattr(jobs, "_pinned_env", broken_pinned_env)  # noqa: B010
    raise SystemExit(jobchild.main())
