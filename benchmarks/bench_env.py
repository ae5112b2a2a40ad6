"""Benchmark `forkvet env` on real model repositories, 2015-2026.

    python benchmarks/bench_env.py CLONE [CLONE ...]            # environments
    python benchmarks/bench_env.py --names CLONE [CLONE ...]    # names vs pipreqs and pigar
    python benchmarks/bench_env.py --cold CLONE [CLONE ...]     # an empty uv cache each

Each CLONE is a git checkout of a repository listed in benchmarks/env_truth.json (matched by
commit). Its dependency files are removed (requirements*, environment*.yml, Pipfile*,
setup.py/setup.cfg/pyproject.toml), then `forkvet env` runs as of the code's date (the truth
file's `as_of`: the last commit that touched code), online against your configured index.

Environments (default): per repository, whether the result is complete, the Python chosen,
the framework pin next to the version the authors used (and whether it is in their era), how
many pins were released after the date, whether `uv pip compile` of the written
requirements.txt resolves (conda-only Python 2 environments: not applicable), seconds, and for
repositories marked `verify` (or with --verify-all) whether `forkvet env --verify` installs the
environment and imports every module (CPU builds).

Each repository's line carries its split (`dev`, `heldout`, or `unsplit` for the labels
without one) and the load average when it ran; the summary counts dev and unsplit repositories
apart from the held-out ones: complete, framework in the authors' era, resolvable by uv, pins
released after the code date, median and max seconds, --verify passes. Held-out repositories
are scored only in the summary: their own lines are printed with --show-heldout alone (for the
very end of a round), and --json FILE writes the records (held-out ones reduced to their name
unless --show-heldout). --forkvet DIR runs the forkvet of another checkout (a base commit's
`git archive`) for before/after tables on the same machine.

Names (--names): precision and recall of the names against the hand-read truth, pins after the
date and seconds (forkvet's second run, warm uv cache), side by side with pipreqs and pigar.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's forkvet
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from forkvet.envgen.index import index_url, project_files
from forkvet.vet.importmap import canonical

HERE = Path(__file__).resolve().parent
# The forkvet checkout `forkvet env` runs from (--forkvet): this one unless told otherwise.
HERE_FORKVET = [HERE.parent]
DECLARATIONS = re.compile(
    r"(?i)^(.*requirements.*\.(txt|in)|environment.*\.ya?ml|Pipfile.*|"
    r"setup\.py|setup\.cfg|pyproject\.toml)$"
)
_PIN = re.compile(r"^([A-Za-z0-9][\w.-]*)\s*(?:\[[^\]]*\])?\s*(?:==|>=|~=)?\s*([\w.]+)?")


def strip_declarations(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".git"))
    for path in list(dest.rglob("*")):
        if path.is_file() and DECLARATIONS.match(path.name) and path.parent == dest:
            path.unlink()


def parse_requirements(text: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = _PIN.match(line)
        if m and line:
            out[canonical(m.group(1))] = m.group(2) if "==" in line else None
    return out


def run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    # `python -m forkvet` must run the forkvet next to this script (a frozen copy, a branch),
    # not whichever one the interpreter has installed.
    env = dict(env or os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE_FORKVET[0]), env.get("PYTHONPATH", "")])
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False, env=env
    )
    return time.perf_counter() - start, proc


def tool_forkvet(repo: Path, out: Path) -> tuple[float, dict[str, str | None]]:
    cmd = [sys.executable, "-m", "forkvet", "env", str(repo), "--out", str(out), "--format", "json"]
    run(cmd, repo)  # first run warms uv's cache
    seconds, proc = run(cmd, repo)
    data = json.loads(proc.stdout) if proc.stdout.strip() else {"requirements": []}
    pins: dict[str, str | None] = {}
    for r in data.get("requirements", []):
        if r["kind"] != "transitive":
            pins[canonical(r["name"])] = r["version"]
    for name in data.get("unresolved", []) + data.get("optional", []):
        pins.setdefault(canonical(name), None)  # named (unpinned or commented) in the output
    return seconds, pins


def tool_pipreqs(repo: Path, out: Path) -> tuple[float, dict[str, str | None]] | None:
    exe = shutil.which("pipreqs")
    if not exe:
        return None
    target = out / "pipreqs.txt"
    # pipreqs reads PyPI's JSON API: derive it from your index URL (…/simple/ → …/pypi/).
    json_api = re.sub(r"simple/?$", "pypi/", index_url())
    seconds, proc = run(
        [exe, "--force", "--pypi-server", json_api, "--savepath", str(target), str(repo)], repo
    )
    if proc.returncode != 0 or not target.exists():
        return seconds, {}
    return seconds, parse_requirements(target.read_text())


def tool_pigar(repo: Path, out: Path) -> tuple[float, dict[str, str | None]] | None:
    exe = shutil.which("pigar")
    if not exe:
        return None
    target = out / "pigar.txt"
    seconds, _ = run(
        [
            exe,
            "generate",
            "--auto-select",
            "--dont-show-differences",
            "--question-answer",
            "yes",
            "--index-url",
            index_url(),
            "-f",
            str(target),
            str(repo),
        ],
        repo,
    )
    if not target.exists():
        return seconds, {}
    return seconds, parse_requirements(target.read_text())


def released_after(pins: dict[str, str | None], as_of: date) -> tuple[int, int]:
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    late = total = 0
    for name, version in pins.items():
        if not version:
            continue
        times = [
            f.upload_time for f in project_files(name) if f.version == version and f.upload_time
        ]
        if times:
            total += 1
            late += min(times) > cutoff
    return late, total


def _commit_of(clone: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _stripped_copy(clone: Path, dest: Path, as_of: date) -> Path:
    repo = dest / clone.name
    strip_declarations(clone, repo)
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.org"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        [*git, "commit", "-qm", "x", "--date", f"{as_of}T12:00:00"],
        cwd=repo,
        check=True,
        env={"GIT_COMMITTER_DATE": f"{as_of}T12:00:00", "PATH": "/usr/bin:/bin"},
    )
    return repo


def _resolves(requirements: Path, python: str) -> str:
    """Whether uv resolves the written file, as a user would run it (no date cap; with the
    written uv.toml of metadata repairs, as the printed command does)."""
    if python.startswith("2."):
        return "n/a (conda)"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    config = requirements.parent / "uv.toml"
    more = ["--config-file", str(config)] if config.exists() else []
    # Old source releases build with the target Python, as in the user's `uv venv --python`.
    from forkvet.interpreters import find_python

    found = find_python(python)
    more += ["--python", found] if found else []
    proc = subprocess.run(
        [
            *(uv, "pip", "compile", str(requirements), "--python-version", python),
            *("--quiet", "--python-platform", "x86_64-unknown-linux-gnu", "--no-header"),
            *more,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    return "yes" if proc.returncode == 0 else "NO"


def _era(version: str | None, era: str) -> str:
    if not version:
        return "-"
    try:
        return "yes" if SpecifierSet(era).contains(Version(version)) else "NO"
    except (InvalidVersion, ValueError):
        return "?"


def _load() -> str:
    """The machine's load average now (`uptime`), to read the seconds against."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _framework(data: dict[str, Any], authors: dict[str, str]) -> tuple[str, str]:
    """(what the table shows, the authors' framework as pinned): the authors' framework may
    not be forkvet's first one (Keras on TensorFlow)."""
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    fw = data.get("framework") or {}
    if not authors:
        return (f"{fw['dist']} {fw['version']}" if fw else "-"), ""
    alts = (authors["dist"], f"{authors['dist']}-gpu", f"{authors['dist']}-cpu")
    mine = next((pins[d] for d in alts if pins.get(d)), "")
    return f"{authors['dist']} {mine or '-'} ({authors['version']})", mine


def _verify(cmd: list[str], repo: Path, tmp: Path, env: dict[str, str] | None) -> dict[str, Any]:
    vout = tmp / "verify"
    seconds, proc = run([*cmd[:6], str(vout), *cmd[7:], "--verify"], repo, env)
    try:
        v = json.loads(proc.stdout).get("verify") or {}
    except json.JSONDecodeError:
        return {"ok": None, "seconds": seconds, "error": proc.stderr.strip()[-600:]}
    return {
        "ok": bool(v.get("ok")),
        "seconds": seconds,
        "notes": [n[:300] for n in v.get("notes", [])],
        "failures": [f"{f['module']}: {f['reason'][:300]}" for f in v.get("failures", [])[:5]],
    }


def _one(
    clone: Path, name: str, spec: dict[str, Any], flags: list[str], verify: bool, cold: bool
) -> dict[str, Any]:
    """Run `forkvet env` on the stripped clone as of its code date; one record of results."""
    as_of = date.fromisoformat(spec["as_of"])
    authors = spec.get("framework") or {}
    record: dict[str, Any] = {"repository": name, "split": spec.get("split", "unsplit")}
    record |= {"code_date": as_of.isoformat(), "load": _load()}
    with tempfile.TemporaryDirectory(prefix="forkvet-bench-env-") as tmp:
        repo = _stripped_copy(clone, Path(tmp), as_of)
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "forkvet", "env", str(repo), "--out", str(out)]
        cmd += ["--format", "json", "--as-of", as_of.isoformat(), *flags]
        # --cold: an empty uv cache for this repository, as on a fresh machine.
        env = {**os.environ, "UV_CACHE_DIR": str(Path(tmp) / "uv-cache")} if cold else None
        seconds, proc = run(cmd, repo, env)
        record["seconds"] = round(seconds, 1)
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            return record | {"error": proc.stderr.strip()[-300:]}
        pins = {r["name"]: r["version"] for r in data["requirements"]}
        late, total = released_after(dict(pins), as_of)
        fw_text, mine = _framework(data, authors)
        record |= {
            "complete": bool(data["complete"]),
            "python": data["python"],
            "authors_python": spec.get("python"),
            "framework": fw_text,
            "era": _era(mine, authors.get("era", "")) if authors else "-",
            "late": late,
            "pins": total,
            "resolves": _resolves(out / "requirements.txt", data["python"]),
            "optional": data.get("optional", []),
            "problems": [p[:400] for p in data["problems"][:5]],
        }
        if verify:
            record["verify"] = _verify(cmd, repo, Path(tmp), env)
    return record


_HEAD = [
    "repository",
    "split",
    "code date",
    "complete",
    "Python (authors')",
    "framework (authors')",
    "in era",
    "pins after date",
    "uv compile resolves",
    "s",
    "load",
    "--verify",
]


def _row(r: dict[str, Any]) -> list[str]:
    if "error" in r:
        return [r["repository"], r["split"], r["code_date"], "ERROR", *["-"] * 5,
                f"{r['seconds']}", r["load"], "-"]  # fmt: skip
    v = r.get("verify")
    verified = (
        "-"
        if not v
        else (
            ("ERROR" if v["ok"] is None else "yes" if v["ok"] else "NO")
            + f" ({v['seconds']:.0f} s)"
        )
    )
    python = r["python"] + (f" ({r['authors_python']})" if r["authors_python"] else "")
    return [
        r["repository"],
        r["split"],
        r["code_date"],
        "yes" if r["complete"] else "NO",
        python,
        r["framework"],
        r["era"],
        f"{r['late']} of {r['pins']}",
        r["resolves"],
        f"{r['seconds']:.1f}",
        r["load"],
        verified,
    ]


def _load_range(records: list[dict[str, Any]]) -> list[float]:
    ones = []
    for r in records:
        try:
            ones.append(float(str(r.get("load", "")).split()[0]))
        except (ValueError, IndexError):
            continue
    return [min(ones), max(ones)] if ones else []


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over one group of records: complete, era-right, resolvable, late pins, seconds."""
    ok = [r for r in records if "error" not in r]
    seconds = sorted(r["seconds"] for r in records)
    with_era = [r for r in ok if r["era"] in ("yes", "NO")]
    checked = [r for r in ok if r["resolves"] in ("yes", "NO")]
    verified = [r for r in ok if r.get("verify")]
    return {
        "repositories": len(records),
        "complete": sum(r["complete"] for r in ok),
        "era_right": sum(r["era"] == "yes" for r in with_era),
        "with_authors_framework": len(with_era),
        "resolves": sum(r["resolves"] == "yes" for r in checked),
        "resolve_checked": len(checked),
        "late_pins": sum(r["late"] for r in ok),
        "pins": sum(r["pins"] for r in ok),
        "repos_with_late_pins": sum(r["late"] > 0 for r in ok),
        "median_s": seconds[len(seconds) // 2] if seconds else None,
        "max_s": seconds[-1] if seconds else None,
        "verify_ok": sum(bool(r["verify"]["ok"]) for r in verified),
        "verified": len(verified),
        # the 1-minute load average over the runs, lowest and highest
        "load": _load_range(records),
    }


def _print_summary(groups: dict[str, dict[str, Any]]) -> None:
    print("\n| | " + " | ".join(groups) + " |")
    print("|---|" + "---|" * len(groups))
    lines = {
        "complete": lambda s: f"{s['complete']} of {s['repositories']}",
        "framework in the authors' era": lambda s: (
            f"{s['era_right']} of {s['with_authors_framework']}"
        ),
        "uv compile resolves": lambda s: f"{s['resolves']} of {s['resolve_checked']}",
        "pins released after the code date": lambda s: (
            f"{s['late_pins']} of {s['pins']} ({s['repos_with_late_pins']} repos)"
        ),
        "median / max seconds": lambda s: f"{s['median_s']} / {s['max_s']}",
        "--verify ok": lambda s: f"{s['verify_ok']} of {s['verified']}",
        "load average (1 min), lowest–highest": lambda s: (
            f"{s['load'][0]}–{s['load'][1]}" if s["load"] else "-"
        ),
    }
    for label, cell in lines.items():
        print(f"| {label} | " + " | ".join(cell(s) for s in groups.values()) + " |")


def environments(
    clones: list[Path],
    verify_all: bool,
    flags: list[str],
    skip_verify: bool,
    cold: bool = False,
    show_heldout: bool = False,
    json_out: Path | None = None,
) -> None:
    truth_file = json.loads((HERE / "env_truth.json").read_text())
    by_commit = {v["commit"]: (k, v) for k, v in truth_file.items() if not k.startswith("_")}
    records: list[dict[str, Any]] = []
    for clone in clones:
        commit = _commit_of(clone)
        if commit not in by_commit:
            print(f"{clone}: commit {commit[:10]} is not in env_truth.json, skipped")
            continue
        name, spec = by_commit[commit]
        verify = bool(spec.get("verify") or verify_all) and not skip_verify
        records.append(_one(clone, name, spec, flags, verify, cold))
        # Held-out repositories are scored in the summary only: their lines stay hidden, so
        # that nobody fixes from them (--show-heldout, at the very end).
        if records[-1]["split"] != "heldout" or show_heldout:
            print("| " + " | ".join(_row(records[-1])) + " |", file=sys.stderr, flush=True)
            for p in records[-1].get("problems", []):
                print(f"    {p}", file=sys.stderr, flush=True)
    shown = [r for r in records if r["split"] != "heldout" or show_heldout]
    print("| " + " | ".join(_HEAD) + " |")
    print("|" + "---|" * len(_HEAD))
    for r in shown:
        print("| " + " | ".join(_row(r)) + " |")
    groups = {
        "dev and unsplit": summary([r for r in records if r["split"] != "heldout"]),
        "held out": summary([r for r in records if r["split"] == "heldout"]),
        "all": summary(records),
    }
    _print_summary(groups)
    if json_out:
        hidden = [] if show_heldout else [r for r in records if r["split"] == "heldout"]
        kept = [r if r not in hidden else {"repository": r["repository"], "split": "heldout"}
                for r in records]  # fmt: skip
        json_out.write_text(json.dumps({"flags": flags, "summary": groups, "repositories": kept},
                                       indent=1))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clones", nargs="+", type=Path)
    ap.add_argument("--names", action="store_true", help="score names against pipreqs/pigar")
    ap.add_argument("--verify-all", action="store_true", help="--verify every repository")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--skip-verify", action="store_true", help="no --verify installs")
    ap.add_argument(
        "--allow-build", action="store_true", help="pass --allow-build (source-only packages)"
    )
    ap.add_argument("--cold", action="store_true", help="an empty uv cache per repository")
    ap.add_argument(
        "--show-heldout",
        action="store_true",
        help="print the held-out repositories' own lines too (only when all fixing is done)",
    )
    ap.add_argument("--json", type=Path, metavar="FILE", help="write the records and summary")
    ap.add_argument(
        "--forkvet",
        type=Path,
        metavar="DIR",
        help="run the forkvet of this checkout (e.g. a base commit's copy, for before/after)",
    )
    args = ap.parse_args()
    if args.forkvet:
        HERE_FORKVET[0] = args.forkvet.resolve()
    if not args.names:
        flags = ["--device", args.device, *(["--allow-build"] if args.allow_build else [])]
        environments(
            args.clones,
            args.verify_all,
            flags,
            args.skip_verify,
            args.cold,
            args.show_heldout,
            args.json,
        )
        return
    truth_file = json.loads((HERE / "env_truth.json").read_text())
    by_commit = {
        v["commit"]: (k, v) for k, v in truth_file.items() if not k.startswith("_") and "truth" in v
    }
    print(
        f"{'repository':<28} {'tool':<8} {'precision':>9} {'recall':>7} {'pins after date':>16}"
        f" {'seconds':>8}"
    )
    for clone in args.clones:
        commit = subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if commit not in by_commit:
            print(f"{clone}: commit {commit[:10]} is not in env_truth.json, skipped")
            continue
        name, spec = by_commit[commit]
        as_of = date.fromisoformat(
            subprocess.run(
                ["git", "-C", str(clone), "log", "-1", "--format=%cs"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        truth = {canonical(t) for t in spec["truth"]}
        ignore = {canonical(t) for t in spec["ignore"]}
        with tempfile.TemporaryDirectory(prefix="forkvet-bench-env-") as tmp:
            repo = Path(tmp) / clone.name
            strip_declarations(clone, repo)
            subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
            subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
            subprocess.run(
                [
                    "git",
                    "-c",
                    "user.name=b",
                    "-c",
                    "user.email=b@example.org",
                    "commit",
                    "-qm",
                    "x",
                    "--date",
                    as_of.isoformat(),
                ],
                cwd=repo,
                check=True,
                env={"GIT_COMMITTER_DATE": f"{as_of}T12:00:00", "PATH": "/usr/bin:/bin"},
            )
            out = Path(tmp) / "out"
            out.mkdir()
            results = {
                "forkvet": tool_forkvet(repo, out),
                "pipreqs": tool_pipreqs(repo, out),
                "pigar": tool_pigar(repo, out),
            }
            for tool, result in results.items():
                if result is None:
                    print(f"{name:<28} {tool:<8} {'not installed':>9}")
                    continue
                seconds, pins = result
                found = {n for n in pins if n not in ignore}
                tp = len(found & truth)
                precision = tp / len(found) if found else 0.0
                recall = tp / len(truth) if truth else 0.0
                late, total = released_after(pins, as_of)
                print(
                    f"{name:<28} {tool:<8} {precision:9.0%} {recall:7.0%} "
                    f"{f'{late}/{total}':>16} {seconds:8.1f}"
                )
                extra, missed = sorted(found - truth), sorted(truth - found)
                if extra or missed:
                    shown = ", ".join(extra[:12]) + (
                        f" … (+{len(extra) - 12})" if len(extra) > 12 else ""
                    )
                    print(
                        f"{'':<28} {'':<8} extra: {shown or '-'}; missed: "
                        f"{', '.join(missed) or '-'}"
                    )


if __name__ == "__main__":
    main()
