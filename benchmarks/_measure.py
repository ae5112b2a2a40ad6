"""Run a command in a child process and report wall seconds and the child's peak RSS."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    cmd = sys.argv[1:]
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak_kib / 1024,
                "rc": proc.returncode,
                "stderr": proc.stderr.decode(errors="replace")[-300:],
            }
        )
    )


if __name__ == "__main__":
    main()
