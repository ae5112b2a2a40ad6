"""Score forkvet's license check against hand-labelled license files of real ML repositories.

    python benchmarks/bench_license.py MIRRORS [--truth benchmarks/license_truth.json] [-v]

MIRRORS holds the repositories as fetched bare git dirs (`MIRRORS/owner+name/repo`, or
`…/repo/.git`) or as clones (`MIRRORS/owner/name`). Each labelled entry names a repository, a
commit and the files that matter (LICENSE files, a README, a PATENTS file); the scorer reads
those files at that commit with git (the texts are not ours to redistribute, so they are not
stored here), writes them into an empty folder and runs forkvet's license check on it.

Prints, over the entries it could read: SPDX accuracy, commercial-use accuracy, category
accuracy, and the count of wrong "yes" answers to "may my company use it commercially?" (the
dangerous error: it must be 0), plus the slowest check. `spdx` labels: an expression (operand
order inside a flat OR/AND does not matter), `LicenseRef-*` (any LicenseRef id: a custom
license without a standard name) or null (no license); `score_spdx: false` leaves an entry's
id unscored (darknet's seven-way choice). askalono and licensee could not be
installed here (no crates.io / no Ruby), so no side-by-side column.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from forkvet.snapshot import load  # noqa: E402
from forkvet.vet import license as license_check  # noqa: E402
from forkvet.vet.context import Context  # noqa: E402


def git_dir(mirrors: Path, repo: str) -> Path | None:
    owner, name = repo.split("/")
    for cand in (
        mirrors / f"{owner}+{name}" / "repo" / ".git",
        mirrors / f"{owner}+{name}" / "repo",
        mirrors / owner / name / ".git",
        mirrors / owner / name,
    ):
        if (cand / "HEAD").is_file():
            return cand
    return None


def read_at(gdir: Path, commit: str, path: str) -> bytes | None:
    proc = subprocess.run(
        ["git", "--git-dir", str(gdir), "show", f"{commit}:{path}"],
        capture_output=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else None


def _operands(expr: str) -> tuple[str, frozenset[str]]:
    ops = set(re.findall(r"\s(AND|OR)\s", expr))
    parts = frozenset(p.strip("() ") for p in re.split(r"\s+(?:AND|OR)\s+", expr))
    return ("/".join(sorted(ops)), parts)


def spdx_right(truth: str | None, alts: list[str], got: str | None) -> bool:
    for want in [truth, *alts]:
        if want is None or got is None:
            if want is None and got is None:
                return True
            continue
        if want == "LicenseRef-*":
            if re.fullmatch(r"LicenseRef-[A-Za-z0-9.\-]+", got):
                return True
            continue
        if _operands(want) == _operands(got):
            return True
    return False


def verdict(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unclear"}[value]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mirrors", type=Path)
    ap.add_argument("--truth", type=Path, default=HERE / "license_truth.json")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every entry")
    ap.add_argument(
        "--heldout", action="store_true", help="score only the entries labelled after the fixes"
    )
    args = ap.parse_args()
    entries = json.loads(args.truth.read_text(encoding="utf-8"))["entries"]
    if args.heldout:
        entries = [e for e in entries if e.get("heldout")]
    n = spdx_n = spdx_ok = cu_ok = cat_ok = wrong_yes = 0
    skipped: list[str] = []
    slowest = (0.0, "")
    for entry in entries:
        gdir = git_dir(args.mirrors, entry["repo"])
        if gdir is None:
            skipped.append(f"{entry['repo']} (not fetched)")
            continue
        texts = {p: read_at(gdir, entry["commit"], p) for p in entry["paths"]}
        if any(t is None for t in texts.values()):
            skipped.append(f"{entry['repo']}@{entry['commit'][:8]} (file missing)")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / entry["repo"].split("/")[1]
            for path, data in texts.items():
                dest = root / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data or b"")
            start = time.perf_counter()
            info, _ = license_check.check(Context(load(root)))
            took = time.perf_counter() - start
        slowest = max(slowest, (took, entry["repo"]))
        n += 1
        scored_spdx = entry.get("score_spdx", True)
        s_ok = spdx_right(entry["spdx"], entry.get("spdx_alt", []), info.spdx)
        if scored_spdx:
            spdx_n += 1
            spdx_ok += s_ok
        got_cu = verdict(info.commercial_use)
        c_ok = got_cu == entry["commercial_use"]
        cu_ok += c_ok
        cat_ok += info.category == entry["category"]
        if got_cu == "yes" and entry["commercial_use"] != "yes":
            wrong_yes += 1
        if args.verbose or not (c_ok and (s_ok or not scored_spdx)):
            mark = "ok " if c_ok and (s_ok or not scored_spdx) else "BAD"
            print(
                f"{mark} {entry['repo']:<42} {','.join(entry['paths'])[:40]:<40} "
                f"want {entry['spdx']} / {entry['commercial_use']} / {entry['category']}   "
                f"got {info.spdx} / {got_cu} / {info.category}"
            )
    print(f"\nentries scored: {n} ({len(skipped)} skipped: {', '.join(skipped) or 'none'})")
    print(f"spdx accuracy:            {spdx_ok}/{spdx_n} = {spdx_ok / max(1, spdx_n):.2f}")
    print(f"commercial-use accuracy:  {cu_ok}/{n} = {cu_ok / max(1, n):.2f}")
    print(f"category accuracy:        {cat_ok}/{n} = {cat_ok / max(1, n):.2f}")
    print(f"wrong 'yes' answers:      {wrong_yes}")
    print(f"slowest check:            {slowest[0]:.3f} s ({slowest[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
