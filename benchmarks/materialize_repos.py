"""Check out every repository labelled in benchmarks/repos_truth.json at its labelled commit.

(`--truth benchmarks/env_truth.json` checks out the environment benchmark's repositories.)

    python benchmarks/materialize_repos.py DEST [--mirrors DIR] [--truth FILE]

The labels were written by reading mirrors made by fetching `github:owner/name` (bare git
directories under /work/.mirror/owner+name/repo or .../repo/.git). Point --mirrors at your own
folder of clones instead: for each `owner/name` it looks for DIR/owner+name (bare or with a
work tree, optionally inside a `repo/` folder) and DIR/owner/name. A repository whose mirror is
missing, or lacks the labelled commit, is reported and skipped (its score then counts as wrong).
Submodules are not brought (vetting sees them as absent, as a user's shallow clone would).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def git_dir(mirrors: Path, repo: str) -> Path | None:
    owner, name = repo.split("/", 1)
    for base in (mirrors / f"{owner}+{name}", mirrors / owner / name):
        for cand in (base / "repo" / ".git", base / "repo", base / ".git", base):
            if (cand / "HEAD").is_file() and (cand / "objects").is_dir():
                return cand
    return None


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def materialize(src: Path, commit: str, dest: Path) -> str | None:
    """Clone src into dest and check out commit; returns an error line or None."""
    if dest.exists():
        head = git("-C", str(dest), "rev-parse", "HEAD").stdout.strip()
        if head == commit:
            return None
        shutil.rmtree(dest)
    if git("--git-dir", str(src), "cat-file", "-e", f"{commit}^{{commit}}").returncode:
        return f"commit {commit[:12]} is not in {src}"
    proc = git("clone", "-q", "--no-checkout", str(src), str(dest))
    if proc.returncode:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "git clone failed"
    proc = git("-C", str(dest), "-c", "advice.detachedHead=false", "checkout", "-q", commit)
    if proc.returncode:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "checkout failed"
    return None


def _labels(data: dict[str, object]) -> list[dict[str, str]]:
    """repos_truth.json lists {"repo", "commit"}; env_truth.json maps owner/name to a label."""
    if "repos" in data:
        return data["repos"]  # type: ignore[return-value]
    return [
        {"repo": name, "commit": label["commit"]}  # type: ignore[index]
        for name, label in data.items()
        if not name.startswith("_")
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest", type=Path, help="folder to put the clones in (e.g. /tmp/truth-clones)")
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--truth", type=Path, default=HERE / "repos_truth.json")
    args = ap.parse_args()
    try:
        labels = _labels(json.loads(args.truth.read_text()))
    except (OSError, ValueError, KeyError) as exc:
        print(f"materialize_repos: cannot read {args.truth}: {exc}", file=sys.stderr)
        return 2
    args.dest.mkdir(parents=True, exist_ok=True)
    failed = 0
    for label in labels:
        repo, commit = label["repo"], label["commit"]
        dest = args.dest / repo.replace("/", "+")
        src = git_dir(args.mirrors, repo)
        err = (
            f"no mirror under {args.mirrors} (fetch github:{repo})"
            if src is None
            else materialize(src, commit, dest)
        )
        if err:
            failed += 1
            print(f"{repo}: {err}", file=sys.stderr)
        else:
            print(f"{repo} @ {commit[:12]} -> {dest}")
    print(f"{len(labels) - failed} of {len(labels)} repositories ready in {args.dest}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
