"""Score `forkvet vet` against hand-written labels of real model repositories.

    python benchmarks/materialize_repos.py /tmp/truth-clones     # checkouts at the labelled commits
    python benchmarks/bench_truth.py /tmp/truth-clones [--json] [--only owner/name ...]
                                            [--split dev|heldout|unsplit] [--round 3|4|5]
    (names of failing repositories are printed only with -v: never use it on the held-out half)

Labels: benchmarks/repos_truth.json (written by reading each repository, never from forkvet's
output; see its `_about`). Each clone CLONES_DIR/owner+name is vetted with
`python -m forkvet vet CLONE --format json` in its own process (wall seconds and peak RSS of
that process tree). A repository that fails to vet counts as wrong on every field.

Scores: accuracy of license spdx, commercial use (with the count of wrong "yes": the label says
no or unclear, does not accept yes, and forkvet says yes; a yes the label accepts is counted
apart), Python majors, weights present, formal citation, arXiv id,
top language, declared requirements; micro precision/recall of primary frameworks and of
train/test entry points (matched by path; `also_ok` paths count neither way), and — once the
report has the keys — of data-preparation scripts (entry_points.prepare) and copyright holders.
A label's `accept` lists other answers that also count as right (e.g. "unclear" commercial use
for a license with use restrictions).
Report keys that do not exist yet are tolerated (frameworks[].role: without it every framework
counts as primary; citation.formal: without it, BibTeX or CITATION.cff counts as formal).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT_S = 300
# License families not on the SPDX list: a LicenseRef label of one of these must name it.
FAMILIES = ("nvidia", "openrail", "llama", "gemma")
_SCRIPT = re.compile(r"\.(py|lua|sh|m|ipynb|bash)$")


@dataclass
class Vetted:
    report: dict[str, Any] | None
    seconds: float
    peak_mib: float
    error: str | None = None


def compile_bytecode() -> None:
    """Write forkvet's .pyc files once, as `pip install` does, before anything is timed."""
    import compileall

    compileall.compile_dir(str(ROOT / "forkvet"), quiet=1)


def vet(clone: Path) -> Vetted:
    """Run forkvet on one clone in a child process; its own rusage gives the peak RSS."""
    cmd = [sys.executable, "-m", "forkvet", "vet", str(clone), "--format", "json"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    # Timed as installed: pip compiles forkvet's bytecode at install time (compile_bytecode()
    # does it once for this checkout); a PYTHONDONTWRITEBYTECODE in the caller's environment
    # would time recompiling every module from source on every run instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        timer = threading.Timer(TIMEOUT_S, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        peak = usage.ru_maxrss / 1024  # KiB on Linux
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode not in (0, 1):
        why = "timed out" if proc.returncode < 0 else f"exit {proc.returncode}"
        tail = stderr.strip().splitlines()[-1:] or [""]
        return Vetted(None, seconds, peak, f"{why}: {tail[0][:200]}")
    try:
        return Vetted(json.loads(stdout), seconds, peak)
    except ValueError as exc:
        return Vetted(None, seconds, peak, f"unreadable JSON: {exc}")


# ---- what the report says, read tolerantly ------------------------------------------------


def _norm_spdx(expr: str | None) -> str | None:
    if expr is None:
        return None
    expr = " ".join(expr.replace("(", " ( ").replace(")", " ) ").split())
    # Same operands in another order are the same expression (one level, the common case).
    for op in (" OR ", " AND "):
        if op in expr and "(" not in expr:
            return op.join(sorted(p.strip().lower() for p in expr.split(op)))
    return expr.lower()


def spdx_right(label: dict[str, Any], pred: str | None) -> bool:
    want = label["spdx"]
    accept = label.get("_accept", [])
    if pred is None and None in accept:
        return True  # the label also accepts "no license found"
    if pred is not None and any(fnmatch.fnmatch(pred, pat) for pat in accept if pat):
        return True
    if want is None or pred is None:
        return want is None and pred in (None, "NONE")
    if want.startswith("LicenseRef-") and " " not in want:
        family = next((f for f in FAMILIES if f in want.lower()), None)
        if family:
            return pred.startswith("LicenseRef-") and family in pred.lower()
        # A custom text: any LicenseRef, or NOASSERTION, says "not an SPDX license" rightly.
        return pred.startswith("LicenseRef-") or pred == "NOASSERTION"
    return _norm_spdx(want) == _norm_spdx(pred)


def commercial(report: dict[str, Any]) -> str:
    value = (report.get("license") or {}).get("commercial_use")
    return (
        {True: "yes", False: "no"}.get(value, "unclear") if isinstance(value, bool) else "unclear"
    )


def primary_frameworks(report: dict[str, Any]) -> set[str]:
    fws = [f for f in report.get("frameworks") or [] if isinstance(f, dict)]
    if any("role" in f for f in fws):
        fws = [f for f in fws if f.get("role") == "primary"]
    return {str(f.get("name", "")).lower() for f in fws}


def _entry_paths(entries: list[Any]) -> set[str]:
    paths: set[str] = set()
    for e in entries or []:
        if isinstance(e, str):
            e = {"command": e}
        if not isinstance(e, dict):
            continue
        if e.get("path"):
            paths.add(_clean(str(e["path"])))
        elif e.get("command"):
            paths |= command_scripts(str(e["command"]))
    return paths


def command_scripts(cmd: str) -> set[str]:
    """Script paths a command runs (`python x.py`, `th train.lua`, `bash s.sh`, `./tools/t.py`)."""
    try:
        words = shlex.split(cmd, comments=True)
    except ValueError:
        words = cmd.split()
    return {_clean(w) for w in words if _SCRIPT.search(w) and "=" not in w}


def _clean(path: str) -> str:
    path = path.strip().strip("`'\"")
    while path.startswith("./"):
        path = path[2:]
    return path


def entries(report: dict[str, Any], kind: str) -> set[str]:
    return _entry_paths((report.get("entry_points") or {}).get(kind) or [])


def formal_citation(report: dict[str, Any]) -> bool:
    cit = report.get("citation") or {}
    if "formal" in cit:
        return bool(cit["formal"])
    return bool(cit.get("bibtex")) or str(cit.get("source", "")).endswith("CITATION.cff")


def arxiv(report: dict[str, Any]) -> str | None:
    value = (report.get("citation") or {}).get("arxiv")
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else f"{len(value)} ids, none picked"
    return re.sub(r"v\d+$", "", str(value)) if value else None


def top_language(report: dict[str, Any]) -> str | None:
    langs = [x for x in report.get("languages") or [] if isinstance(x, dict)]
    if not langs:
        return None
    return str(max(langs, key=lambda x: x.get("lines") or 0).get("name"))


def holders(report: dict[str, Any]) -> set[str] | None:
    """Copyright holders, from whichever key the report has (None: not reported yet)."""
    lic = report.get("license") or {}
    for value in (lic.get("copyright_holders"), lic.get("holders"), report.get("copyright")):
        if isinstance(value, dict):
            value = value.get("holders")
        if isinstance(value, list):
            return {_norm_holder(str(h)) for h in value}
    return None


def _norm_holder(name: str) -> str:
    return " ".join(re.sub(r"[.,]", " ", name).lower().split())


def declared(report: dict[str, Any]) -> bool:
    return bool((report.get("dependencies") or {}).get("files"))


# ---- scoring ----------------------------------------------------------------------------


@dataclass
class Score:
    right: int = 0
    total: int = 0
    wrong: list[str] = field(default_factory=list)

    def add(self, ok: bool, repo: str, detail: str) -> None:
        self.total += 1
        self.right += ok
        if not ok:
            self.wrong.append(f"{repo}: {detail}")


@dataclass
class PR:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    def add(self, repo: str, want: set[str], got: set[str], ignore: list[str]) -> None:
        def ignored(p: str) -> bool:
            return any(fnmatch.fnmatch(p, pat) for pat in ignore)

        got = {p for p in got if p in want or not ignored(p)}
        self.tp += len(want & got)
        self.fp += len(got - want)
        self.fn += len(want - got)
        self.misses += [f"{repo}: {p}" for p in sorted(want - got)]
        self.extras += [f"{repo}: {p}" for p in sorted(got - want)]

    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


ACCURACY: dict[str, Callable[[dict[str, Any], dict[str, Any]], tuple[bool, str]]] = {}


def accuracy(name: str) -> Callable[[Any], Any]:
    def register(fn: Callable[[dict[str, Any], dict[str, Any]], tuple[bool, str]]) -> Any:
        ACCURACY[name] = fn
        return fn

    return register


def _accepted_set(label: dict[str, Any], key: str, got: set[str]) -> set[str]:
    """The labelled set, or the answer itself when the label's accept list holds it whole."""
    if any(set(alt) == got for alt in (label.get("accept") or {}).get(key, [])):
        return got
    return set(label[key])


def _accepts(label: dict[str, Any], key: str, got: Any) -> bool:
    """An alternative answer the label also accepts (exact, or a `*` pattern for strings)."""
    for pat in (label.get("accept") or {}).get(key, []):
        if got == pat or (isinstance(pat, str) and "*" in pat and fnmatch.fnmatch(str(got), pat)):
            return True
    return False


@accuracy("license.spdx")
def _spdx(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got = (rep.get("license") or {}).get("spdx")
    lic = {**label["license"], "_accept": (label.get("accept") or {}).get("license.spdx", [])}
    return spdx_right(lic, got), f"want {label['license']['spdx']}, got {got}"


@accuracy("license.commercial_use")
def _commercial(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got, want = commercial(rep), label["license"]["commercial_use"]
    ok = got == want or _accepts(label, "license.commercial_use", got)
    return ok, f"want {want}, got {got}"


@accuracy("python.majors")
def _majors(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got = sorted((rep.get("python") or {}).get("majors") or [])
    ok = got == sorted(label["python_majors"]) or _accepts(label, "python.majors", got)
    return ok, f"want {label['python_majors']}, got {got}"


@accuracy("weights")
def _weights(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got = bool(rep.get("weights"))
    ok = got == label["weights"] or _accepts(label, "weights", got)
    return ok, f"want {label['weights']}, got {got}"


@accuracy("citation.formal")
def _formal(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got = formal_citation(rep)
    ok = got == label["citation"]["formal"] or _accepts(label, "citation.formal", got)
    return ok, f"want {label['citation']['formal']}, got {got}"


@accuracy("citation.arxiv")
def _arxiv(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got = arxiv(rep)
    ok = got == label["citation"]["arxiv"] or _accepts(label, "citation.arxiv", got)
    return ok, f"want {label['citation']['arxiv']}, got {got}"


@accuracy("top_language")
def _lang(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got = top_language(rep)
    want = label["top_language"]
    ok = (got or "").lower() == (want or "").lower() or _accepts(label, "top_language", got)
    return ok, f"want {want}, got {got}"


@accuracy("declared_requirements")
def _declared(label: dict[str, Any], rep: dict[str, Any]) -> tuple[bool, str]:
    got = declared(rep)
    ok = got == label["declared_requirements"] or _accepts(label, "declared_requirements", got)
    return ok, f"want {label['declared_requirements']}, got {got}"


def _weights_notice(rep: dict[str, Any]) -> bool:
    """The "yes" came with forkvet's notice that the linked weights state no license: the
    labels disagree on that case (most say "yes", some "unclear"), so it is counted apart."""
    return any(f.get("title") == "Weights license not stated" for f in rep.get("findings", []))


def score(labels: list[dict[str, Any]], results: dict[str, Vetted]) -> dict[str, Any]:
    acc = {name: Score() for name in ACCURACY}
    wrong_yes: list[str] = []
    yes_accepted: list[str] = []
    prs = {
        "frameworks.primary": PR(),
        "entry_points.train": PR(),
        "entry_points.test": PR(),
        "entry_points.prepare": PR(),
        "copyright_holders": PR(),
    }
    per_repo = []
    for label in labels:
        repo = label["repo"]
        res = results[repo]
        rep = res.report
        for name, fn in ACCURACY.items():
            ok, detail = (False, f"not vetted ({res.error})") if rep is None else fn(label, rep)
            acc[name].add(ok, repo, detail)
        if (
            rep is not None
            and commercial(rep) == "yes"
            and label["license"]["commercial_use"] != "yes"
        ):
            # A "yes" the labeller also accepts (their notes say why it is defensible: code
            # under MIT linking weights that state no license of their own) is counted
            # apart; a "yes" the label does not accept is the error that must never happen.
            line = f"{repo}: label {label['license']['commercial_use']}"
            if _accepts(label, "license.commercial_use", "yes"):
                yes_accepted.append(line)
            else:
                wrong_yes.append(line + (" (weights notice)" if _weights_notice(rep) else ""))
        ok_paths = list(label.get("also_ok", []))
        empty: dict[str, Any] = {}
        got_primary = primary_frameworks(rep or empty)
        prs["frameworks.primary"].add(
            repo, _accepted_set(label, "frameworks_primary", got_primary), got_primary, []
        )
        for kind in ("train", "test"):
            prs[f"entry_points.{kind}"].add(
                repo, set(label[kind]), entries(rep or empty, kind), ok_paths
            )
        # Scored only once the report has these keys (other helpers are adding them).
        if rep is not None and "prepare" in (rep.get("entry_points") or {}):
            prs["entry_points.prepare"].add(
                repo, set(label["prepare"]), entries(rep, "prepare"), ok_paths
            )
        got_holders = holders(rep) if rep is not None else None
        if got_holders is not None:
            want = {_norm_holder(h) for h in label["copyright_holders"]}
            alts = (label.get("accept") or {}).get("copyright_holders", [])
            if any({_norm_holder(h) for h in alt} == got_holders for alt in alts):
                want = got_holders  # an alternative the label accepts as a whole
            prs["copyright_holders"].add(repo, want, got_holders, [])
        per_repo.append(
            {
                "repo": repo,
                "seconds": round(res.seconds, 2),
                "peak_mib": round(res.peak_mib, 1),
                "error": res.error,
            }
        )
    return {
        "repos": len(labels),
        "accuracy": {
            k: {"right": s.right, "total": s.total, "wrong": s.wrong} for k, s in acc.items()
        },
        "commercial_use_wrong_yes": wrong_yes,
        "commercial_use_yes_accepted": yes_accepted,
        "precision_recall": {
            k: {
                "tp": p.tp,
                "fp": p.fp,
                "fn": p.fn,
                "precision": p.precision(),
                "recall": p.recall(),
                "missed": p.misses,
                "extra": p.extras,
            }
            for k, p in prs.items()
        },
        "per_repo": per_repo,
    }


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.2f}"


def print_text(result: dict[str, Any], verbose: bool) -> None:
    n = result["repos"]
    print(f"forkvet vet against hand labels: {n} repositories\n")
    print(f"{'field':<28} {'right':>9} {'accuracy':>9}")
    for name, s in result["accuracy"].items():
        print(
            f"{name:<28} {s['right']:>4}/{s['total']:<4} {_pct(s['right'] / max(s['total'], 1)):>9}"
        )
    wy = result["commercial_use_wrong_yes"]
    print(f"{'commercial_use wrong yes':<28} {len(wy):>4}      (must be 0)")
    noticed = sum(line.endswith("(weights notice)") for line in wy)
    print(
        f"{'  of which weights notice':<28} {noticed:>4}"
        "      (the yes came with 'Weights license not stated')"
    )
    print(
        f"{'  yes where label prefers':<28} {len(result['commercial_use_yes_accepted']):>4}"
        "      (unclear or no, but the label accepts yes)"
    )
    print(f"\n{'field':<28} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>7}")
    for name, p in result["precision_recall"].items():
        print(
            f"{name:<28} {p['tp']:>4} {p['fp']:>4} {p['fn']:>4} "
            f"{_pct(p['precision']):>10} {_pct(p['recall']):>7}"
        )
    vetted = [r for r in result["per_repo"] if not r["error"]]
    secs = sorted(r["seconds"] for r in vetted)
    peaks = [r["peak_mib"] for r in vetted]
    if secs:
        print(
            f"\nseconds per repository: median {secs[len(secs) // 2]:.2f}, max {secs[-1]:.2f}; "
            f"peak RSS max {max(peaks):.0f} MiB"
        )
    print(f"\n{'repository':<44} {'seconds':>8} {'peak MiB':>9}  error")
    for r in result["per_repo"]:
        print(f"{r['repo']:<44} {r['seconds']:>8.2f} {r['peak_mib']:>9.1f}  {r['error'] or ''}")
    if verbose:
        if wy:
            print("\nwrong 'commercial use: yes':")
            for line in wy:
                print(f"  {line}")
        for name, s in result["accuracy"].items():
            if s["wrong"]:
                print(f"\n{name} wrong:")
                for line in s["wrong"]:
                    print(f"  {line}")
        for name, p in result["precision_recall"].items():
            for what in ("missed", "extra"):
                if p[what]:
                    print(f"\n{name} {what}:")
                    for line in p[what]:
                        print(f"  {line}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clones", type=Path, help="folder made by benchmarks/materialize_repos.py")
    ap.add_argument("--json", action="store_true", help="print the full result as JSON")
    ap.add_argument("--truth", type=Path, default=HERE / "repos_truth.json")
    ap.add_argument(
        "--only", nargs="*", default=None, help="owner/name of the repositories to score"
    )
    ap.add_argument(
        "--split",
        choices=("dev", "heldout", "unsplit"),
        default=None,
        help="score one half of the round-3 labels (unsplit: the labels from before the split)",
    )
    ap.add_argument(
        "--round", type=int, default=None, help="score one labelling round (3, 4 or 5) only"
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="list every wrong answer")
    args = ap.parse_args()
    try:
        labels = json.loads(args.truth.read_text())["repos"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"bench_truth: cannot read {args.truth}: {exc}", file=sys.stderr)
        return 2
    if not args.clones.is_dir():
        print(
            f"bench_truth: {args.clones} is not a folder (run materialize_repos.py)",
            file=sys.stderr,
        )
        return 2
    if args.only:
        labels = [lab for lab in labels if lab["repo"] in args.only]
    if args.split:
        labels = [lab for lab in labels if lab.get("split", "unsplit") == args.split]
    if args.round is not None:
        labels = [lab for lab in labels if lab.get("round") == args.round]
    results: dict[str, Vetted] = {}
    compile_bytecode()
    for label in labels:
        clone = args.clones / label["repo"].replace("/", "+")
        if not (clone / ".git").exists():
            results[label["repo"]] = Vetted(None, 0.0, 0.0, f"no clone at {clone}")
            continue
        head = subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        if head != label["commit"]:
            results[label["repo"]] = Vetted(
                None, 0.0, 0.0, f"clone is at {head[:12]}, not the labelled commit"
            )
            continue
        results[label["repo"]] = vet(clone)
        if not args.json:
            r = results[label["repo"]]
            print(f"  vetted {label['repo']} in {r.seconds:.2f} s", file=sys.stderr)
    result = score(labels, results)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print_text(result, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
