"""Prove a refactor changes no answer: snapshot `forkvet vet` JSON reports, then diff two snapshots.

    python benchmarks/diff_reports.py snapshot CLONES_DIR OUT_DIR [--src FORKVET_ROOT]
    python benchmarks/diff_reports.py diff BEFORE_DIR AFTER_DIR

`snapshot` vets every clone in CLONES_DIR (as made by materialize_repos.py) with
`python -m forkvet vet CLONE --format json` and writes OUT_DIR/owner+name.json. `--src` runs the
forkvet found under that folder instead of this checkout (e.g. an exported copy of the branch
base, so the "before" side cannot change while you edit). `diff` compares two snapshots field by
field, ignoring timings, and exits 1 when any report differs (listing the paths that differ).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Keys whose values are wall-clock measurements or run-specific, not answers.
IGNORED_KEYS = frozenset({"seconds", "elapsed_s", "duration_s", "timings", "timing", "took_s"})


def snapshot(clones: Path, out: Path, src: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    for clone in sorted(p for p in clones.iterdir() if (p / ".git").exists()):
        proc = subprocess.run(
            [sys.executable, "-m", "forkvet", "vet", str(clone), "--format", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=src,
        )
        text = proc.stdout if proc.stdout.strip() else json.dumps({"_stderr": proc.stderr[-2000:]})
        (out / f"{clone.name}.json").write_text(text)
        print(f"  {clone.name}: exit {proc.returncode}", file=sys.stderr)
    return 0


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _differences(a: Any, b: Any, path: str = "$") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def _load(path: Path) -> Any:
    try:
        return _strip(json.loads(path.read_text()))
    except ValueError:
        return {"_unparsable": path.read_text()[-500:]}


def diff(before: Path, after: Path) -> int:
    names = sorted({p.name for p in before.glob("*.json")} | {p.name for p in after.glob("*.json")})
    changed = 0
    for name in names:
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            print(f"{name}: only in {'before' if a.exists() else 'after'}")
            changed += 1
            continue
        diffs = _differences(_load(a), _load(b))
        if diffs:
            changed += 1
            print(f"{name}: {len(diffs)} differences: {', '.join(diffs[:8])}")
    print(f"{len(names)} reports, {changed} differ")
    return 1 if changed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    snap = sub.add_parser("snapshot", help="vet every clone and keep its JSON report")
    snap.add_argument("clones", type=Path)
    snap.add_argument("out", type=Path)
    snap.add_argument("--src", type=Path, default=ROOT, help="folder holding the forkvet package")
    dif = sub.add_parser("diff", help="compare two snapshots, ignoring timings")
    dif.add_argument("before", type=Path)
    dif.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "snapshot":
        if not args.clones.is_dir():
            print(f"diff_reports: {args.clones} is not a folder", file=sys.stderr)
            return 2
        return snapshot(args.clones, args.out, args.src.resolve())
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
