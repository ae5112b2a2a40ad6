"""Prove a refactor changes no answer: snapshot `forkvet vet` JSON reports, then diff two snapshots.

    python benchmarks/diff_reports.py snapshot CLONES_DIR OUT_DIR [--src FORKVET_ROOT]
    python benchmarks/diff_reports.py diff BEFORE_DIR AFTER_DIR
    python benchmarks/diff_reports.py checks CLONES_DIR BEFORE_SRC MODULE...

`checks` is the fast form for a refactor of a few checks on a shared machine: per clone it
builds the context once and runs each named check module's `check` from this checkout and from
BEFORE_SRC (an exported copy of the base), plus `script_options` on every parsed file when the
module has it, and compares the outputs. The rest of the report is a function of the context
and the checks' outputs, so equal outputs of the changed modules mean equal reports.

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


def _differences(a: Any, b: Any, path: str = "$", values: bool = False) -> list[str]:
    """The JSON paths where a and b differ (with both values, shortened, when asked)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}", values)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b))
            for d in _differences(x, y, f"{path}[{i}]", values)
        ]
    if a == b:
        return []
    return [f"{path}: {json.dumps(a)[:300]} != {json.dumps(b)[:300]}" if values else path]


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


def _as_json(value: Any) -> str:
    import dataclasses

    def default(o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        return str(o)

    return json.dumps(value, default=default, sort_keys=True)


def _load_before(src: Path, module: str) -> Any:
    import importlib.util

    path = src / (module.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location("_before_" + module.replace(".", "_"), path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"diff_reports: cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def checks(clones: Path, before_src: Path, modules: list[str]) -> int:
    import ast
    import importlib

    sys.path.insert(0, str(ROOT))
    from forkvet import snapshot
    from forkvet.config import Config
    from forkvet.vet.context import Context

    pairs = [(m, importlib.import_module(m), _load_before(before_src, m)) for m in modules]
    changed = total = 0
    for clone in sorted(p for p in clones.iterdir() if (p / ".git").exists()):
        ctx = Context(snapshot.load(clone), Config())
        diffs = []
        for name, new, old in pairs:
            if _as_json(new.check(ctx)) != _as_json(old.check(ctx)):
                diffs.append(f"{name}.check")
            if hasattr(new, "script_options"):
                for f in ctx.py.files[:400]:
                    try:
                        tree = ast.parse(f.text)
                    except (SyntaxError, ValueError, RecursionError):
                        continue
                    if _as_json(new.script_options(tree)) != _as_json(old.script_options(tree)):
                        diffs.append(f"{name}.script_options({f.path})")
                        break
        total += 1
        changed += bool(diffs)
        print(f"{clone.name}: {'differs: ' + ', '.join(diffs) if diffs else 'same'}", flush=True)
    print(f"{total} repositories, {changed} differ")
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
    chk = sub.add_parser("checks", help="run changed check modules before/after on one context")
    chk.add_argument("clones", type=Path)
    chk.add_argument("before_src", type=Path)
    chk.add_argument("modules", nargs="+")
    args = ap.parse_args()
    if args.cmd == "checks":
        return checks(args.clones, args.before_src, args.modules)
    if args.cmd == "snapshot":
        if not args.clones.is_dir():
            print(f"diff_reports: {args.clones} is not a folder", file=sys.stderr)
            return 2
        return snapshot(args.clones, args.out, args.src.resolve())
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
