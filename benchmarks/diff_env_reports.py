"""Prove a speed-up of `forkvet env` changes no answer: snapshot env JSON results, then diff.

    python benchmarks/diff_env_reports.py snapshot OUT_DIR CLONE [CLONE ...] [--src FORKVET_ROOT]
    python benchmarks/diff_env_reports.py diff BEFORE_DIR AFTER_DIR

`snapshot` runs `forkvet env --format json` on each clone as bench_env.py does (dependency
files stripped, `--as-of` the truth file's code date), all in ONE run, and writes
OUT_DIR/owner+name.json plus OUT_DIR/_timings.json (seconds per repository, the load average
before and after each, the median). Held-out repositories of benchmarks/env_truth.json are
refused: their results are not to be looked at while fixing. `--src` runs the forkvet under
that folder (an exported copy of the base commit, so "before" cannot change while you edit).

`diff` compares two snapshots field by field, ignoring timings and the run's own temporary
paths, and exits 1 when any result differs (listing the paths that differ).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_env import _commit_of, _load, _stripped_copy  # noqa: E402
from diff_reports import _differences  # noqa: E402

# Keys whose values are wall-clock measurements or this run's own folders, not answers.
IGNORED_KEYS = frozenset({"seconds", "elapsed_s", "duration_s", "timings", "out", "files"})


def _truth() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((HERE / "env_truth.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _spec_for(clone: Path, truth: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    commit = _commit_of(clone)
    for name, spec in truth.items():
        if spec.get("commit") == commit or name.replace("/", "+") == clone.name:
            return name, spec
    raise SystemExit(f"{clone}: not in env_truth.json")


def snapshot(out: Path, clones: list[Path], src: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    truth = _truth()
    env = {**os.environ, "PYTHONPATH": str(src)}
    timings: dict[str, Any] = {"repositories": {}}
    for clone in clones:
        name, spec = _spec_for(clone, truth)
        if spec.get("split") == "heldout":
            print(f"  {name}: held out, skipped", file=sys.stderr)
            continue
        as_of = date.fromisoformat(spec["as_of"])
        with tempfile.TemporaryDirectory(prefix="forkvet-diffenv-") as tmp:
            repo = _stripped_copy(clone, Path(tmp), as_of)
            cmd = [sys.executable, "-m", "forkvet", "env", str(repo), "--out", f"{tmp}/out"]
            cmd += ["--format", "json", "--as-of", as_of.isoformat()]
            load = _load()
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=src)
            seconds = round(time.perf_counter() - start, 1)
            text = proc.stdout.replace(tmp, "<TMP>")
        if not text.strip():
            text = json.dumps({"_stderr": proc.stderr[-2000:], "_exit": proc.returncode})
        (out / f"{clone.name}.json").write_text(text)
        timings["repositories"][name] = {"seconds": seconds, "load": load, "after": _load()}
        print(f"  {name}: exit {proc.returncode}, {seconds} s, load {load}", file=sys.stderr)
    secs = [r["seconds"] for r in timings["repositories"].values()]
    timings["median_s"] = statistics.median(secs) if secs else None
    (out / "_timings.json").write_text(json.dumps(timings, indent=1))
    print(f"median {timings['median_s']} s over {len(secs)}", file=sys.stderr)
    return 0


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, str):
        # uv's messages name this run's own temporary folders
        import re

        return re.sub(r"/tmp/forkvet-[\w.-]+", "<TMP>", value)
    return value


def _load_json(path: Path) -> Any:
    try:
        return _strip(json.loads(path.read_text()))
    except ValueError:
        return {"_unparsable": path.read_text()[-500:]}


def diff(before: Path, after: Path) -> int:
    names = sorted({p.name for p in before.glob("*.json")} | {p.name for p in after.glob("*.json")})
    changed = 0
    for name in names:
        if name.startswith("_"):
            continue
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            print(f"{name}: only in {'before' if a.exists() else 'after'}")
            changed += 1
            continue
        found = _differences(_load_json(a), _load_json(b), values=True)
        if found:
            changed += 1
            print(f"{name}: {len(found)} difference(s)")
            for d in found[:20]:
                print(f"  {d}")
    print(f"{len(names) - changed - sum(n.startswith('_') for n in names)} same, {changed} differ")
    return 1 if changed else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("out", type=Path)
    s.add_argument("clones", type=Path, nargs="+")
    s.add_argument("--src", type=Path, default=HERE.parent)
    d = sub.add_parser("diff")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "snapshot":
        sys.exit(snapshot(args.out, args.clones, args.src.resolve()))
    sys.exit(diff(args.before, args.after))


if __name__ == "__main__":
    main()
