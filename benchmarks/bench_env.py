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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's forkvet
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from forkvet.envgen.index import index_url, project_files
from forkvet.vet.importmap import canonical

HERE = Path(__file__).resolve().parent
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
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
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


def environments(
    clones: list[Path],
    verify_all: bool,
    device: str,
    skip_verify: bool,
    allow_build: bool,
    cold: bool = False,
) -> None:
    truth_file = json.loads((HERE / "env_truth.json").read_text())
    by_commit = {v["commit"]: (k, v) for k, v in truth_file.items() if not k.startswith("_")}
    rows: list[list[str]] = []
    seconds_all: list[float] = []
    for clone in clones:
        commit = _commit_of(clone)
        if commit not in by_commit:
            print(f"{clone}: commit {commit[:10]} is not in env_truth.json, skipped")
            continue
        name, spec = by_commit[commit]
        as_of = date.fromisoformat(spec["as_of"])
        authors = spec.get("framework") or {}
        with tempfile.TemporaryDirectory(prefix="forkvet-bench-env-") as tmp:
            repo = _stripped_copy(clone, Path(tmp), as_of)
            out = Path(tmp) / "out"
            cmd = [sys.executable, "-m", "forkvet", "env", str(repo), "--out", str(out)]
            cmd += ["--format", "json", "--as-of", as_of.isoformat(), "--device", device]
            cmd += ["--allow-build"] if allow_build else []
            # --cold: an empty uv cache for this repository, as on a fresh machine.
            env = {**os.environ, "UV_CACHE_DIR": str(Path(tmp) / "uv-cache")} if cold else None
            seconds, proc = run(cmd, repo, env)
            seconds_all.append(seconds)
            try:
                data = json.loads(proc.stdout)
            except json.JSONDecodeError:
                rows.append([name, as_of.isoformat(), "ERROR", "-", "-", "-", "-", "-", "-"])
                print(f"{name}: {proc.stderr.strip()[-300:]}", file=sys.stderr)
                continue
            pins = {r["name"]: r["version"] for r in data["requirements"]}
            late, total = released_after(dict(pins), as_of)
            fw = data.get("framework") or {}
            # The authors' framework may not be forkvet's first one (Keras on TensorFlow).
            mine = ""
            if authors:
                alts = (authors["dist"], f"{authors['dist']}-gpu", f"{authors['dist']}-cpu")
                mine = next((pins[d] for d in alts if pins.get(d)), "")
            fw_text = (
                f"{authors['dist']} {mine or '-'}"
                if authors
                else (f"{fw['dist']} {fw['version']}" if fw else "-")
            )
            want = authors["version"] if authors else "-"
            ok = _resolves(out / "requirements.txt", data["python"])
            verified = "-"
            if (spec.get("verify") or verify_all) and not skip_verify:
                vout = Path(tmp) / "verify"
                vs, vproc = run([*cmd[:6], str(vout), *cmd[7:], "--verify"], repo, env)
                try:
                    v = json.loads(vproc.stdout).get("verify") or {}
                    verified = ("yes" if v.get("ok") else "NO") + f" ({vs:.0f} s)"
                    for n in v.get("notes", []):
                        print(f"    verify note: {n[:300]}", file=sys.stderr)
                    for f in v.get("failures", [])[:5]:
                        print(f"    verify: {f['module']}: {f['reason'][:300]}", file=sys.stderr)
                except json.JSONDecodeError:
                    verified = "ERROR"
                    print(f"    verify: {vproc.stderr.strip()[-600:]}", file=sys.stderr)
            rows.append(
                [
                    name,
                    as_of.isoformat(),
                    "yes" if data["complete"] else "NO",
                    f"{data['python']}" + (f" ({spec['python']})" if spec.get("python") else ""),
                    f"{fw_text} ({want})",
                    _era(mine, authors.get("era", "")) if authors else "-",
                    f"{late} of {total}",
                    ok,
                    f"{seconds:.1f}",
                    verified,
                ]
            )
            print("| " + " | ".join(rows[-1]) + " |", file=sys.stderr, flush=True)
            for p in data["problems"][:5]:
                print(f"    {p[:400]}", file=sys.stderr, flush=True)
    head = [
        "repository",
        "code date",
        "complete",
        "Python (authors')",
        "framework (authors')",
        "in era",
        "pins after date",
        "uv compile resolves",
        "s",
        "--verify",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if seconds_all:
        seconds_all.sort()
        print(f"\nmedian {seconds_all[len(seconds_all) // 2]:.1f} s over {len(seconds_all)}")


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
    args = ap.parse_args()
    if not args.names:
        environments(
            args.clones, args.verify_all, args.device, args.skip_verify, args.allow_build, args.cold
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
