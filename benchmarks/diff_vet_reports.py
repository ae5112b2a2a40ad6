"""Prove a refactor of `forkvet vet` and its renderers is structure only.

    python benchmarks/diff_vet_reports.py collect CLONES_DIR OUT_DIR [--jobs 2]
    python benchmarks/diff_vet_reports.py diff BEFORE_DIR AFTER_DIR

`collect` vets every checkout CLONES_DIR/owner+name with `python -m forkvet vet CLONE --format
json` (its own process, the forkvet on PYTHONPATH) and renders that report as Markdown and text
with the same forkvet (one vet per repository instead of three: the machine is shared), into
OUT_DIR/owner+name.{json,md,txt}. Run it once at the branch base and once after the
change. `diff` compares the two folders file by file and exits 1 on any difference; only timing
fields (keys naming seconds or elapsed time) are ignored in the JSON.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TIMEOUT_S = 300
# Keys whose values differ from run to run by design.
_TIMING_KEYS = ("seconds", "elapsed", "duration", "_ms")


def _vet_one(clone: Path, out_dir: Path) -> str:
    from forkvet.render import to_markdown, to_text
    from forkvet.report_io import report_from_dict

    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "vet", str(clone), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    # The exit status is part of the answer (a policy error exits 1).
    status = f"\n--- exit {proc.returncode}\n"
    (out_dir / f"{clone.name}.json").write_text(proc.stdout + status, encoding="utf-8")
    try:
        report = report_from_dict(json.loads(proc.stdout))
    except ValueError as exc:
        (out_dir / f"{clone.name}.md").write_text(f"no report: {exc}{status}", encoding="utf-8")
        return clone.name
    (out_dir / f"{clone.name}.md").write_text(to_markdown(report) + status, encoding="utf-8")
    (out_dir / f"{clone.name}.txt").write_text(to_text(report) + status, encoding="utf-8")
    return clone.name


def collect(clones_dir: Path, out_dir: Path, jobs: int) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    clones = sorted(p for p in clones_dir.iterdir() if p.is_dir())
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for name in pool.map(lambda c: _vet_one(c, out_dir), clones):
            print(name, flush=True)
    print(f"{len(clones)} repositories vetted into {out_dir}")
    return 0


def _drop_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _drop_timing(v)
            for k, v in value.items()
            if not any(t in str(k).lower() for t in _TIMING_KEYS)
        }
    if isinstance(value, list):
        return [_drop_timing(v) for v in value]
    return value


def _normal(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".json":
        return text
    body, _, status = text.rpartition("\n--- exit ")
    try:
        data = _drop_timing(json.loads(body))
    except json.JSONDecodeError:
        return text
    return json.dumps(data, indent=1, sort_keys=True) + f"\n--- exit {status}"


def diff(before: Path, after: Path) -> int:
    names_before = {p.name for p in before.iterdir()}
    names_after = {p.name for p in after.iterdir()}
    problems = sorted(names_before ^ names_after)
    for name in problems:
        print(f"only in one folder: {name}")
    same = 0
    for name in sorted(names_before & names_after):
        a, b = _normal(before / name), _normal(after / name)
        if a == b:
            same += 1
            continue
        problems.append(name)
        lines = difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", n=1)
        print(f"DIFFERS: {name}")
        print("\n".join(list(lines)[:40]))
    repos = {n.rsplit(".", 1)[0] for n in names_before & names_after}
    bad = {n.rsplit(".", 1)[0] for n in problems}
    print(
        f"{same} of {len(names_before | names_after)} files identical; "
        f"{len(repos - bad)} of {len(repos)} repositories identical in every format"
    )
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("clones_dir", type=Path)
    c.add_argument("out_dir", type=Path)
    c.add_argument("--jobs", type=int, default=2)
    d = sub.add_parser("diff")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "collect":
        return collect(args.clones_dir, args.out_dir, args.jobs)
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
