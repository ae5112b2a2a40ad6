"""`forkvet smoke`, `forkvet train-check`: the runtime subcommands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from forkvet.errors import ForkvetError, InputError
from forkvet.safe_write import OutputDir, default_out, write_file

EXIT_FAIL = 1


def _emit(
    data: dict[str, Any], fmt: str, output: str | None, text: str, repo: Path | None = None
) -> None:
    body = json.dumps(data, indent=2) + "\n" if fmt == "json" else text
    if output and output != "-":
        write_file(Path(output), body, repo=repo)
    else:
        sys.stdout.write(body)


def _config(target: Path, path: str | None) -> Any:
    from forkvet.cli import config_for

    return config_for(path, target)[0]


def _interpreter(path: str) -> str:
    # Absolute, but not resolved: a venv's python is a symlink whose venv we must keep.
    python = os.path.abspath(path)
    if not os.access(python, os.X_OK) or os.path.isdir(python):
        raise InputError(f"--python {path}: no such interpreter")
    return python


def cmd_smoke(args: argparse.Namespace) -> int:
    from forkvet.runtime.environment import prepare
    from forkvet.runtime.smoke import smoke
    from forkvet.snapshot import load

    snap = load(Path(args.target))
    cfg = _config(snap.root, args.config)
    command = args.cmd or cfg.smoke.command
    timeout = args.timeout or cfg.smoke.timeout
    out_dir = Path(args.out) if args.out else default_out("forkvet-out", snap.root)
    OutputDir(out_dir, repo=snap.root).close()  # created fresh or verified: no links
    if args.python:
        python = _interpreter(args.python)
    else:
        reqs = next(
            (
                snap.root / n
                for n in ("requirements.txt", "requirements/base.txt")
                if (snap.root / n).is_file()
            ),
            None,
        )
        version = args.python_version
        if reqs is None:
            # No requirements file: generate one as of the code's date (forkvet env).
            from forkvet.envgen.generate import generate

            generated, _ = generate(snap, cfg, out=out_dir / "env")
            if generated.python == "2.7":
                raise ForkvetError(
                    "this is Python 2 code: create the conda environment from "
                    f"{out_dir / 'env' / 'environment.yml'} and pass --python"
                )
            reqs = out_dir / "env" / "requirements.txt"
            version = version or generated.python
        # smoke runs the repository's code anyway: building its dependencies adds no trust.
        python = str(prepare(snap.root, reqs, out_dir / "venv", version, allow_build=True))
    notebook = None
    if args.notebook:
        notebook = Path(args.notebook)
        notebook = notebook if notebook.is_absolute() else snap.root / notebook
    result = smoke(
        snap, python, command, timeout, out_dir, not args.no_import_check, notebook=notebook
    )
    lines = [f"forkvet smoke: {result.verdict.upper()}"]
    if result.command:
        lines.append(f"  command   {result.command} ({result.command_source})")
        lines.append(
            f"  exit      {result.exit_code} in {result.duration} s"
            + (" (timed out)" if result.timed_out else "")
        )
    if result.imports:
        lines.append(
            f"  imports   {result.imports['modules']} module(s), "
            f"{len(result.imports['failures'])} failed"
        )
    lines.append(
        f"  GPU       {result.gpu or 'none visible'}"
        + (f", peak {result.peak_gpu_memory_mib:.0f} MiB" if result.peak_gpu_memory_mib else "")
    )
    lines += [f"  - {r}" for r in result.reasons]
    _emit(result.to_dict(), args.format, args.output, "\n".join(lines) + "\n", snap.root)
    if args.github:
        from forkvet.gha import publish_smoke

        publish_smoke(result.to_dict())
    return EXIT_FAIL if result.verdict == "fail" else 0


def cmd_train_check(args: argparse.Namespace) -> int:
    from forkvet.runtime.train_check import check

    if bool(args.cmd) == bool(args.log) and not args.target:
        raise InputError("give either --cmd (run training) or --log (read a log or metrics file)")
    target = Path(args.target or ".")
    if not target.is_dir():
        raise InputError(f"no such directory: {target}")
    cfg = _config(target, args.config)
    command = args.cmd or (None if args.log else cfg.train.command)
    if not command and not args.log:
        raise InputError(
            "no training command: pass --cmd or set train.command in .github/forkvet.yml"
        )
    out_dir = Path(args.out) if args.out else default_out("forkvet-out", target)
    OutputDir(out_dir, repo=target).close()  # created fresh or verified: no links
    env = None
    if args.python:
        from forkvet.runtime.smoke import python_env, with_interpreter

        python = _interpreter(args.python)
        env = python_env(python)
        command = with_interpreter(command, python) if command else None
    result = check(
        command=command,
        log=Path(args.log) if args.log else None,
        cwd=target,
        timeout=args.timeout or cfg.train.timeout,
        max_steps=args.max_steps if args.max_steps is not None else cfg.train.max_steps,
        pattern=args.pattern or cfg.train.pattern,
        num_classes=args.num_classes or cfg.train.num_classes,
        out_dir=out_dir,
        min_points=args.min_points,
        min_drop=args.min_drop,
        env=env,
    )
    finite = [v for v in result.losses if v is not None]
    lines = [
        f"forkvet train-check: {result.verdict.upper()}",
        f"  losses    {len(result.losses)} value(s)"
        + (f", first {finite[0]:.4g}, last {finite[-1]:.4g}" if finite else ""),
        f"  speed     {result.steps_per_second or '-'} steps/s",
        f"  plot      {result.plot or '-'}",
    ]
    lines += [f"  - {r}" for r in result.reasons]
    data = result.to_dict()
    _emit(data, args.format, args.output, "\n".join(lines) + "\n", target)
    if args.github:
        from forkvet.gha import publish_train

        publish_train(result.to_dict())
    return 0 if result.verdict != "fail" else EXIT_FAIL


def cmd_notebooks(args: argparse.Namespace) -> int:
    from forkvet.runtime.notebooks import write_notebooks
    from forkvet.snapshot import load

    snap = load(Path(args.target))
    out = Path(args.out) if args.out else default_out("notebooks", snap.root)
    written = write_notebooks(snap, out)
    if not written:
        raise InputError(f"{args.target}: no Python test or training script to start from")
    for path in written:
        print(path)
    return 0


def register(sub: Any) -> None:
    n = sub.add_parser(
        "notebooks",
        help="write starter testing and training notebooks",
        description="Write a testing and a training notebook (jupytext percent "
        "format and .ipynb) from the repository's test and train "
        "scripts, with a parameters cell (steps, batch size, device, "
        "seed), for you to adapt.",
    )
    n.add_argument("target", metavar="TARGET", help="the repository folder")
    n.add_argument(
        "--out",
        help="output folder (default ./notebooks, or a per-user folder when the current "
        "folder is inside the repository; the path is printed)",
    )
    n.set_defaults(func=cmd_notebooks)

    s = sub.add_parser(
        "smoke",
        help="run the import check and the test/demo command",
        description="Smoke test: import every module of the repository, then "
        "run its test/demo command with a timeout. Runs the "
        "repository's code: use it on a runner, not on a server.",
    )
    s.add_argument("target", metavar="TARGET", help="the repository folder")
    s.add_argument(
        "--cmd",
        help="command to run (default: .github/forkvet.yml smoke.command, "
        "the README's test command, or a detected test script)",
    )
    s.add_argument(
        "--python",
        metavar="PATH",
        help="use this interpreter as it is (e.g. a runner's preinstalled CUDA framework)",
    )
    s.add_argument("--python-version", help="Python for a new environment (uv)")
    s.add_argument("--timeout", type=float, help="seconds (default 600)")
    s.add_argument("--no-import-check", action="store_true")
    s.add_argument(
        "--notebook",
        metavar="PATH",
        help="execute this notebook instead of a "
        "command (per-cell timeout = --timeout; "
        "the interpreter needs ipykernel)",
    )
    s.add_argument("--config", metavar="FILE")
    s.add_argument("--out", help="folder for logs (default ./forkvet-out, outside the repository)")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.add_argument("--output", "-o", metavar="FILE")
    s.add_argument(
        "--github",
        action="store_true",
        help="also write GitHub Actions outputs, job summary and annotations",
    )
    s.set_defaults(func=cmd_smoke)

    t = sub.add_parser(
        "train-check",
        help="train a few steps and check that the loss falls",
        description="Training sanity check: run the training command for a "
        "bounded number of loss values or seconds (or read a log, "
        "CSV/JSONL metrics or TensorBoard events), then decide "
        "pass, fail or inconclusive.",
    )
    t.add_argument("target", metavar="TARGET", nargs="?", help="the repository folder (default: .)")
    t.add_argument("--cmd", help="training command")
    t.add_argument("--log", metavar="FILE", help="read this log, metrics file or event file")
    t.add_argument("--python", metavar="PATH", help="interpreter for `python` in --cmd")
    t.add_argument(
        "--max-steps", type=int, help="stop after this many loss values (default 50; 0 = no limit)"
    )
    t.add_argument("--timeout", type=float, help="seconds (default 900)")
    t.add_argument("--pattern", metavar="REGEX", help="loss regex with one group")
    t.add_argument("--num-classes", type=int, help="check the initial loss against ln(C)")
    t.add_argument("--min-points", type=int, default=8)
    t.add_argument("--min-drop", type=float, default=0.10, help="minimum relative drop (0.10)")
    t.add_argument("--config", metavar="FILE")
    t.add_argument(
        "--out", help="folder for the log and plot (default ./forkvet-out, outside the repository)"
    )
    t.add_argument("--format", choices=("text", "json"), default="text")
    t.add_argument("--output", "-o", metavar="FILE")
    t.add_argument(
        "--github",
        action="store_true",
        help="also write GitHub Actions outputs, job summary and annotations",
    )
    t.set_defaults(func=cmd_train_check)
