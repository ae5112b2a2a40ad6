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
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib = usage.ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak_kib / 1024,
                # CPU time: the work done, unlike wall seconds not inflated by a busy machine
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "rc": proc.returncode,
                "stderr": proc.stderr.decode(errors="replace")[-300:],
            }
        )
    )


if __name__ == "__main__":
    main()
