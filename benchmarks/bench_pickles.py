"""Benchmark forkvet's pickle scan against the scanners a user would otherwise run, on the same
generated hostile set: caught/missed, seconds and peak memory side by side.

    python benchmarks/bench_pickles.py [--modelscan PATH] [--big-mib 512]

The set is tests/hostile/payloads.hostile_set (every wrapper a loader reads: protocols 0-5,
no PROTO opcode, odd extensions, gzip/bz2/xz/lzma/zlib/joblib, zip members not named *.pkl,
nested archives, .npz/.npy object arrays, torch zip and legacy tar) plus safe files (a torch
state_dict, a plain pickle) that must not be flagged, and a large safe checkpoint (--big-mib,
mostly tensor bytes) for speed. Each tool runs in its own child process (benchmarks/_measure.py:
wall seconds, peak RSS). A file counts as caught when the tool names it as dangerous; forkvet
counts `error` risks. Tools that are not installed are skipped. Payloads are never loaded.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.hostile.payloads import hostile_set, safe_state_dict  # noqa: E402


def build(root: Path, big_mib: int) -> tuple[set[str], set[str]]:
    evil = hostile_set(f"touch {root}/PWNED")
    safe: dict[str, bytes] = {"stats.pkl": safe_state_dict()}
    try:
        import io

        import torch

        buf = io.BytesIO()
        torch.save({"w": torch.zeros(4, 4)}, buf)
        safe["state_dict.pt"] = buf.getvalue()
        if big_mib:
            big = io.BytesIO()
            torch.save({"w": torch.zeros(big_mib * 1024 * 256)}, big)  # float32: 4 bytes each
            safe["big_checkpoint.pt"] = big.getvalue()
    except ImportError:
        pass
    for rel, data in {**evil, **safe}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return set(evil), set(safe)


def measure(cmd: list[str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(HERE / "_measure.py"), *cmd],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def run_forkvet(root: Path, report: Path) -> tuple[dict[str, object], set[str]]:
    m = measure(
        [
            sys.executable,
            "-m",
            "forkvet",
            "vet",
            str(root),
            "--format",
            "json",
            "--output",
            str(report),
        ]
    )
    data = json.loads(report.read_text(encoding="utf-8"))
    return m, {r["path"] for r in data["risks"] if r["severity"] == "error"}


def run_picklescan(root: Path) -> tuple[dict[str, object], set[str]] | None:
    exe = shutil.which("picklescan") or str(Path(sys.executable).parent / "picklescan")
    if not Path(exe).exists():
        return None
    # picklescan prints "<path>: dangerous import '...' FOUND" for each finding.
    log = root.parent / "picklescan.log"
    code = (
        "import subprocess, sys; "
        f"p = subprocess.run([{exe!r}, '--path', {str(root)!r}], capture_output=True, text=True);"
        f"open({str(log)!r}, 'w').write(p.stdout + p.stderr)"
    )
    m = measure([sys.executable, "-c", code])
    found = set()
    for line in log.read_text().splitlines():
        hit = re.match(rf"{re.escape(str(root))}/(.+?)(?::[^:]*)?: dangerous import", line)
        if hit:
            found.add(hit.group(1))
    return m, found


def run_modelscan(root: Path, exe: str | None) -> tuple[dict[str, object], set[str]] | None:
    exe = exe or shutil.which("modelscan")
    if not exe or not Path(exe).exists():
        return None
    out = root.parent / "modelscan.json"
    m = measure([exe, "-p", str(root), "-r", "json", "-o", str(out)])
    if not out.exists():
        return m, set()
    data = json.loads(out.read_text())
    found = set()
    for issue in data.get("issues", []):
        src = str(issue.get("source", ""))
        rel = src.split(str(root) + "/", 1)[-1].split(":", 1)[0]
        found.add(rel)
    return m, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modelscan", help="path to a modelscan executable (its own venv)")
    ap.add_argument("--big-mib", type=int, default=512, help="size of the safe big checkpoint")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pickles-") as tmp:
        root = Path(tmp) / "hostile"
        evil, safe = build(root, args.big_mib)
        rows: list[tuple[str, dict[str, object], set[str]]] = []
        m, found = run_forkvet(root, Path(tmp) / "forkvet.json")
        rows.append(("forkvet vet", m, found))
        for name, res in (
            ("picklescan", run_picklescan(root)),
            ("modelscan", run_modelscan(root, args.modelscan)),
        ):
            if res is None:
                print(f"{name}: not installed, skipped")
            else:
                rows.append((name, *res))
        print(f"{len(evil)} malicious files, {len(safe)} safe files\n")
        print("| tool | caught | missed | false alarms | seconds | peak MiB |")
        print("|---|---|---|---|---|---|")
        for name, m, found in rows:
            caught = evil & found
            print(
                f"| {name} | {len(caught)}/{len(evil)} | {len(evil - caught)} | "
                f"{len(found & safe)} | {m['seconds']:.2f} | {m['peak_mib']:.0f} |"
            )
        for name, _, found in rows:
            missed = sorted(evil - found)
            if missed:
                print(f"\n{name} missed: {', '.join(missed)}")
        assert not (Path(root) / "PWNED").exists()


if __name__ == "__main__":
    main()
