"""Seconds (wall and CPU) and peak memory of `forkvet vet` on the parse bombs of
tests/hostile/test_bombs_outsider.py and their neighbours.

    python benchmarks/bench_bombs.py [--budget 3] [--only NAME]

Each case is built in a temporary folder and vetted in its own process under a watchdog that
sums the resident memory of the whole process tree (worker pools included) and kills it at
120 s or 1.5 GiB. Targets: every case ends with a report (rc 0/1) within the budget plus a few
seconds and under 1 GiB. CPU seconds are the fairer figure on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile.test_bombs_outsider import run_bounded  # noqa: E402

ENV = "".join(f"    - pkg{i:05d}==1.0\n" for i in range(12_000))
ENV_YML = f"name: x\ndependencies:\n  - pip\n  - pip:\n{ENV}"
CASES: dict[str, dict[str, str]] = {
    "dense-py-1M-names": {"data.py": "x = [" + "a," * 1_000_000 + "]\n"},
    "dense-py-250k-names": {"data.py": "x = [" + "a," * 250_000 + "]\n"},
    "dense-py-199k-names (parsed)": {"data.py": "x = [" + "a," * 199_000 + "]\n"},
    "600-py-files": {f"m{i:03}.py": f"x{i} = [{'a,' * 2000}]\n" for i in range(600)},
    "environment.yml-x3": {
        "train.py": "import torch\n",
        "environment.yml": ENV_YML,
        "environment-gpu.yml": ENV_YML,
        "env.yaml": ENV_YML,
    },
    "requirements-15k": {
        "train.py": "import torch\n",
        "requirements.txt": "".join(f"pkg{i:05d}==1.0\n" for i in range(15_000)),
    },
    "requirements-self-include": {
        "train.py": "import torch\n",
        "requirements.txt": "-r requirements.txt\n" * 5000,
    },
    "setup.py-1M-names": {"setup.py": "x = [" + "a," * 1_000_000 + "]\n"},
    "6-setup.py-300k-names": {
        f"p{i}/setup.py": "x = [" + "a," * 300_000 + "]\nsetup(name='x')\n" for i in range(6)
    },
    "requirement-line-1.5MB": {
        "train.py": "import torch\n",
        "requirements.txt": "a[" + "b," * 400_000 + "]==1\n" + "c" * 100_000 + ",<2" * 200_000,
    },
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", default="3", help="FORKVET_VET_SECONDS")
    ap.add_argument("--only")
    args = ap.parse_args()
    for name, files in CASES.items():
        if args.only and args.only not in name:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            for rel, text in files.items():
                (repo / rel).parent.mkdir(parents=True, exist_ok=True)
                (repo / rel).write_text(text)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            rc, wall, peak, _ = run_bounded(
                "vet",
                str(repo),
                "--format",
                "json",
                seconds=120,
                memory=3 << 29,
                env={"FORKVET_VET_SECONDS": args.budget},
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            row = {"case": name, "rc": rc, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
            print(json.dumps({**row, "peak_mib": peak >> 20}), flush=True)


if __name__ == "__main__":
    main()
