"""CPU seconds of the pickle sweep and of the snapshot walk alone, in this process.

    PYTHONPATH=TREE python benchmarks/bench_sweep.py CHECKOUT

The sweep (every file probed for pickles) runs five times on one snapshot, the walk three
times; CPU time (not wall time) so that a busy machine matters less. Run it from each tree's
own folder, the trees taking turns, and compare the ratios.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from forkvet import snapshot
from forkvet.config import Config
from forkvet.vet import risks
from forkvet.vet.context import Context


def main() -> int:
    root = Path(sys.argv[1])
    snap = snapshot.load(root)
    sweeps = []
    for _ in range(5):
        ctx = Context(snap, Config())
        start = time.process_time()
        risks._pickle_risks(ctx, [])
        sweeps.append(time.process_time() - start)
    walks = []
    for _ in range(3):
        start = time.process_time()
        snapshot.load(root)
        walks.append(time.process_time() - start)
    sweep, walk = statistics.median(sweeps), statistics.median(walks)
    print(f"{root.name}: sweep {sweep:.3f} cpu-s, walk {walk:.3f} cpu-s ({len(snap.files)} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
