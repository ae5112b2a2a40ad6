"""`forkvet runs PATH...`: the runs table (forkvet.runtime.runs_table) from stored
train-check results — files, or folders of them such as downloaded workflow artifacts."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forkvet import fstree
from forkvet.errors import InputError
from forkvet.runtime import runs_table
from forkvet.runtime.baseline import MAX_BASELINE_BYTES

MAX_FILES = 1000  # JSON files looked at under one folder
MAX_DEPTH = 4  # folder levels below a PATH (an artifact download is 1–2 deep)


@dataclass
class Loaded:
    rows: list[runs_table.RunRow]
    skipped: int  # JSON files under a folder that are not train-check results


def register_runs(sub: Any) -> None:
    r = sub.add_parser(
        "runs",
        help="print the table of training checks across commits from stored results",
        description="Print one row per stored train-check result (a JSON file written by "
        "`forkvet train-check --format json -o FILE`, or the `train.json` in the workflow's "
        "forkvet-runtime artifact): commit, date, verdict, final train and validation loss, "
        "best metric, steps/s, GPU utilisation and the baseline comparison, newest first. "
        "The same table as the forkvet App's report issue.",
    )
    r.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="a train-check result file, or a folder searched for them (*.json files that "
        "are not train-check results are skipped there)",
    )
    r.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text", help="default: text"
    )
    r.set_defaults(func=cmd_runs)


def cmd_runs(args: argparse.Namespace) -> int:
    loaded = load_rows([Path(p) for p in args.paths])
    if args.format == "json":
        sys.stdout.write(json.dumps(runs_table.json_rows(loaded.rows), indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(runs_table.markdown(loaded.rows, limit=None))
    else:
        sys.stdout.write(runs_table.text(loaded.rows))
    if loaded.skipped:
        print(
            f"forkvet: skipped {loaded.skipped} JSON file(s) that are not train-check results",
            file=sys.stderr,
        )
    return 0


def load_rows(paths: list[Path]) -> Loaded:
    """Rows from each PATH; an InputError (exit 2) for a missing path, a named file that is
    not a train-check result, or a folder without any."""
    out = Loaded([], 0)
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            _load_folder(path, out)
        elif path.is_file():
            result = _read(path)
            if isinstance(result, str):
                raise InputError(f"{path}: {result}")
            out.rows.append(_row(path, result))
        else:
            raise InputError(f"{path}: no such file or folder")
    return out


def _load_folder(folder: Path, out: Loaded) -> None:
    found = 0
    for path in _json_files(folder):
        result = _read(path)
        if isinstance(result, str):
            out.skipped += 1
            continue
        out.rows.append(_row(path, result))
        found += 1
    if not found:
        raise InputError(f"{folder}: no train-check result (*.json) in this folder")


def _json_files(folder: Path) -> list[Path]:
    """*.json files under `folder`, in name order, without following links."""
    files: list[Path] = []
    for root, dirs, names in fstree.walk(folder):
        depth = len(Path(root).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if depth < MAX_DEPTH)
        for name in sorted(names):
            path = Path(root) / name
            if name.endswith(".json") and not path.is_symlink() and path.is_file():
                files.append(path)
                if len(files) > MAX_FILES:
                    raise InputError(f"{folder}: more than {MAX_FILES} JSON files")
    return files


def _read(path: Path) -> dict[str, Any] | str:
    """The parsed result, or why it is not one."""
    if path.stat().st_size > MAX_BASELINE_BYTES:
        return f"larger than {MAX_BASELINE_BYTES // 2**20} MiB"
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "not valid JSON"
    except OSError as exc:
        return f"cannot read ({exc.strerror})"
    if not isinstance(data, dict) or not isinstance(data.get("losses"), list):
        return "not a forkvet train-check result (no `losses` list)"
    return data


def _row(path: Path, result: dict[str, Any]) -> runs_table.RunRow:
    """The commit is the result's own `commit` (set by `forkvet baseline`), else the file's
    name; the date its `finished_at` (POSIX seconds) when present, else the file's mtime. A
    `finished_at` that is no date (out of range, not finite, not a number) leaves none."""
    commit = result.get("commit")
    label = commit if isinstance(commit, str) and commit else _label(path)
    if "finished_at" in result:
        return runs_table.row_from_result(result, label, result.get("finished_at"))
    return runs_table.row_from_result(result, label, path.stat().st_mtime)


def _label(path: Path) -> str:
    # An artifact's result is always train.json: its folder names the run.
    return f"{path.parent.name}/{path.name}" if path.name == "train.json" else path.name
