"""Benchmark `forkvet env` against pipreqs and pigar on real model repositories.

    python benchmarks/bench_env.py CLONE [CLONE ...]

Each CLONE is a git checkout of a repository listed in benchmarks/env_truth.json (matched by
commit). Its dependency files are removed (requirements*, environment*.yml, Pipfile*,
setup.py/setup.cfg/pyproject.toml), then every tool names the dependencies from the code.
Scores: precision and recall against the hand-read truth; the share of pinned versions
released after the code's date (looked up on your package index); seconds per repository
(forkvet's second run, with a warm uv cache). Tools not installed are skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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


def run(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clones", nargs="+", type=Path)
    args = ap.parse_args()
    truth_file = json.loads((HERE / "env_truth.json").read_text())
    by_commit = {v["commit"]: (k, v) for k, v in truth_file.items() if not k.startswith("_")}
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
