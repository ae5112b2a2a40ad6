"""`forkvet smoke`, `forkvet train-check`: the runtime subcommands."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from forkvet import hostpaths, rx
from forkvet.errors import InputError
from forkvet.escape import terminal
from forkvet.runtime.runs_cli import register_runs
from forkvet.safe_write import OutputDir, default_out, output_format, write_file
from forkvet.userfile import refuse_linked_target

EXIT_FAIL = 1


def positive_seconds(value: str) -> float:
    """argparse type: a time limit above zero (a negative one would stop nothing)."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r}: give seconds above 0")
    return seconds


def _whole_number(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None


def non_negative_int(value: str) -> int:
    if (number := _whole_number(value)) < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give 0 (no limit) or more")
    return number


def int_at_least(low: int) -> Callable[[str], int]:
    """argparse type: a whole number of at least `low` (a count of 0 or -3 would make any run
    pass)."""

    def check(value: str) -> int:
        if (number := _whole_number(value)) < low:
            raise argparse.ArgumentTypeError(f"{value!r}: give {low} or more")
        return number

    check.__name__ = f"int_at_least_{low}"
    return check


def relative_drop(value: str) -> float:
    """argparse type: a fraction in [0, 1) (a negative minimum drop would pass a rising loss)."""
    try:
        drop = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= drop < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a fraction from 0 to below 1 (0.1)")
    return drop


def python_version(value: str) -> str:
    """argparse type: a Python version as uv and the env resolver take it (2.7 or 3.N)."""
    if not rx.fullmatch(r"2\.7|3\.[0-9]{1,2}", value):
        raise argparse.ArgumentTypeError(f"{value!r}: give a Python version such as 3.10 or 2.7")
    return value


def _emit(
    data: dict[str, Any], fmt: str, output: str | None, text: str, repo: Path | None = None
) -> None:
    # Text lines carry repository text (README commands, the run's output, paths): each line
    # is made inert for the terminal and for CI logs (no ANSI, no control characters).
    body = (
        json.dumps(data, indent=2) + "\n"
        if fmt == "json"
        else "".join(terminal(line) + "\n" for line in text.splitlines())
    )
    if output and output != "-":
        try:
            write_file(Path(output), body, repo=repo)
        except OSError as exc:
            raise InputError(f"cannot write --output {output}: {exc.strerror}") from exc
    else:
        sys.stdout.write(body)


def _check_output(output: str | None, repo: Path) -> None:
    """-o FILE's folder must be usable before anything runs, so no result is lost."""
    if output and output != "-":
        OutputDir(Path(os.path.abspath(output)).parent, repo=repo).close()


def _out_dir(value: str | None, repo: Path) -> Path:
    """--out (default ./forkvet-out, outside the repository), created fresh or verified (no
    links), and writable: checked before anything runs."""
    out = Path(value) if value else default_out("forkvet-out", repo)
    hostpaths.guard(out)  # the command writes there: no program forkvet runs is found in it
    try:
        with OutputDir(out, repo=repo) as folder:
            probe = folder.write_text(".forkvet-write-test", "")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write to --out {out}: {exc.strerror}") from exc
    return out


def _config(
    target: Path, path: str | None, args: argparse.Namespace | None = None, step: str = "smoke"
) -> Any:
    """The policy, with the operator's --timeout and --max-steps as caps on the floor: the
    repository's .github/forkvet.yml can only lower them (config.tighten)."""
    from forkvet.config import config_for

    def limits(floor: Any) -> None:
        if args is None:
            return
        section = floor.train if step == "train" else floor.smoke
        if getattr(args, "timeout", None):
            section.timeout = args.timeout
        if getattr(args, "max_steps", None) is not None:
            floor.train.max_steps = args.max_steps

    return config_for(path, target, limits)[0]


def _pass_env(args: argparse.Namespace, repo: Path | None = None) -> list[str]:
    """--pass-env names, plus runtime.pass_env from the operator's --config file only: the
    repository's own .github/forkvet.yml must not be able to ask for the runner's secrets."""
    names = list(args.pass_env or [])
    if args.config:
        from forkvet.config import load_config

        names += load_config(Path(args.config), root=repo).runtime.pass_env
    for name in names:
        if not name or "=" in name:
            raise InputError(f"--pass-env {name!r}: give a variable name")
    return list(dict.fromkeys(names))


def _sandbox_policy(args: argparse.Namespace, cfg: Any) -> None:
    """Before anything of the repository runs: the sandbox, or the operator's explicit opt-out
    (--allow-unsandboxed, or runtime.require_sandbox: false in the operator's --config; the
    repository's own file never reaches cfg.runtime). Without either, refuse (exit 3)."""
    from forkvet.runtime import gpunodes, sandbox

    gpunodes.use_device(getattr(args, "device", "auto"))
    if getattr(args, "no_network", False) or cfg.runtime.network == "none":
        sandbox.cut_network()
    if args.allow_unsandboxed or not cfg.runtime.require_sandbox:
        sandbox.allow_unsandboxed()
        return
    sandbox.require()


def _environment(
    args: argparse.Namespace, snap: Any, cfg: Any, dry_run: bool
) -> tuple[Any, list[str]]:
    """(Environment, or None on a dry run; lines describing it)."""
    from forkvet import environments as envs

    if args.python:
        env = envs.given_interpreter(args.python, snap.root)
        return env, [f"environment {env.python} as it is (--python), repository on PYTHONPATH"]
    lines, source, version, uv_config = envs.requirements_and_config(
        snap, cfg, args.python_version, args.env_dir, generate_missing=not dry_run
    )
    plan = envs.plan(snap, lines, source, version, args.device, args.env_dir, uv_config)
    plan.install_timeout = getattr(args, "install_timeout", None) or envs.INSTALL_TIMEOUT
    if dry_run:
        return None, _dry_run_labels(plan.describe(), snap, cfg, version, bool(lines))
    # Wheels only unless the operator allows builds: a build is a package's own code.
    allow = bool(getattr(args, "allow_build", False))
    return envs.prepare(plan, allow_build=allow), plan.describe()


def _dry_run_labels(
    described: list[str], snap: Any, cfg: Any, version: str | None, known: bool
) -> list[str]:
    """Before forkvet env has run, the Python and the framework are vet's: say those, not
    "uv default" or a torch backend for a TensorFlow repository."""
    if known:
        return described
    from forkvet.vet import vet

    report = vet(snap, cfg)
    primary = [fw.name for fw in report.frameworks if fw.role == "primary"]
    out = []
    for line in described:
        if line.startswith("python ") and version is None and report.python.recommended:
            line = f"python      {report.python.recommended} (vet's choice; forkvet env decides)"
        elif line.startswith("device ") and "pytorch" not in primary:
            frameworks = ", ".join(primary) or "no framework found"
            line = line.split(" (", 1)[0] + f" ({frameworks}: no torch backend)"
        out.append(line)
    return out


@contextlib.contextmanager
def _settled(environment: Any) -> Iterator[None]:
    """Around every run that had the environment writable: afterwards (also when forkvet
    fails or is stopped) it is kept only within forkvet's limits (environments.settle)."""
    try:
        yield
    finally:
        if environment is not None:
            from forkvet.environments import settle

            settle(environment)


def _removed_reason(why: str) -> str:
    return f"the environment was removed after the run, not kept or cached: {why}"


def _env_line(env: Any) -> str:
    how = (
        "reused"
        if env.reused
        else f"built in {env.built_seconds} s"
        if env.built_seconds is not None
        else "as given"  # --python: nothing was built
    )
    kept = "; removed after the run" if getattr(env, "removed", None) else ""
    return (
        f"  env       {env.path or env.python} "
        f"({how}; {env.device}; own code {env.own_package}{kept})"
    )


def _print_dry_run(what: str, command: str | None, source: str, env_lines: list[str]) -> int:
    print(f"forkvet {what} --dry-run: nothing is run")
    print(terminal(f"  command     {command or '(none)'}" + (f" ({source})" if source else "")))
    for line in env_lines:
        print(terminal(f"  {line}"))
    return 0


def _relative_to_cwd(value: str | None) -> Path | None:
    """A path the user typed is relative to where they typed it, not to the repository."""
    return Path(value).absolute() if value else None


def _notebook_arg(value: str | None, repo: Path | None = None) -> Path | None:
    """--notebook, relative to the current folder: a regular file, reached without following
    a link inside the repository (forkvet.userfile; outside attack, round 16b)."""
    import os

    from forkvet.userfile import open_regular

    notebook = _relative_to_cwd(value)
    if notebook is None:
        return None
    if not os.path.lexists(notebook):
        raise InputError(f"--notebook {value}: no such notebook (relative to the current folder)")
    try:
        os.close(open_regular(notebook, repo, "--notebook"))
    except InputError as exc:
        raise InputError(f"{exc} (relative to the current folder)") from exc
    return notebook


def _smoke_dry_run(
    args: argparse.Namespace,
    snap: Any,
    cfg: Any,
    command: str | None,
    source: str,
    notebook: Path | None,
) -> int:
    from forkvet.runtime import commands
    from forkvet.runtime.gpu import query
    from forkvet.vet import vet

    if notebook is not None:
        command, source = f"notebook {notebook}", "--notebook"
    elif not command:
        command, source = commands.detect(vet(snap), "test", bool(query()), snap)
    _, described = _environment(args, snap, cfg, dry_run=True)
    return _print_dry_run("smoke", command, source, described)


def smoke_summary(result: Any, env_line: str) -> str:
    """The terminal view of a smoke result (SmokeResult)."""
    lines = [f"forkvet smoke: {result.verdict.upper()}", env_line]
    if result.command:
        lines.append(f"  command   {result.command} ({result.command_source})")
    if result.exit_code is not None:  # a notebook has no exit status, only its cells
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
    return "\n".join(lines) + "\n"


def cmd_smoke(args: argparse.Namespace) -> int:
    from forkvet.runtime.smoke import smoke
    from forkvet.snapshot import load

    if args.github:
        from forkvet.gha import require_actions

        require_actions()  # before the run, not after it
    refuse_linked_target(args.target)
    snap = load(Path(args.target))
    cfg = _config(snap.root, args.config, args)
    pass_env = _pass_env(args, snap.root)
    if not args.dry_run:
        _sandbox_policy(args, cfg)
    command = args.cmd or cfg.smoke.command
    source = "--cmd" if args.cmd else ".github/forkvet.yml" if command else ""
    timeout = cfg.smoke.timeout  # the operator's (or default) cap, lowered by the repository
    out_dir = _out_dir(args.out, snap.root)
    _check_output(args.output, snap.root)
    notebook = _notebook_arg(args.notebook, snap.root)
    if args.dry_run:
        return _smoke_dry_run(args, snap, cfg, command, source, notebook)
    environment, _ = _environment(args, snap, cfg, dry_run=False)
    with _settled(environment):
        if notebook is not None and environment.path:
            from forkvet.environments import add_packages

            add_packages(environment, ["ipykernel"])
        result = smoke(
            snap,
            environment,
            command,
            timeout,
            out_dir,
            not args.no_import_check,
            notebook=notebook,
            source=source,
            pass_env=pass_env,
        )
    if environment.removed:
        result.reasons.append(_removed_reason(environment.removed))
        result.environment = environment.to_dict()
    text = smoke_summary(result, _env_line(environment))
    _emit(result.to_dict(), output_format(args.format, args.output), args.output, text, snap.root)
    if args.github:
        from forkvet.gha import publish_smoke

        publish_smoke(result.to_dict())
    return EXIT_FAIL if result.verdict == "fail" else 0


def _require_runtime_extra() -> None:
    """Fail before hours of training, not after: the verdict and the plot need these."""
    from forkvet.extras import require

    require("pymannkendall")
    require("matplotlib")


def _train_command(
    args: argparse.Namespace, target: Path, cfg: Any, log: Path | None
) -> tuple[str | None, str, Any]:
    """(the training command, where it came from, the snapshot — None when reading a log)."""
    command = args.cmd or (None if log else cfg.train.command)
    source = "--cmd" if args.cmd else ".github/forkvet.yml" if command else ""
    if log:
        return command, source, None
    from forkvet.snapshot import load

    snap = load(target)
    if not command:
        from forkvet.runtime import commands
        from forkvet.runtime.gpu import query
        from forkvet.vet import vet

        command, source = commands.detect(vet(snap), "train", bool(query()), snap)
    if not command:
        raise InputError(
            "no training command: pass --cmd or set train.command in .github/forkvet.yml "
            f"({source})"
        )
    return command, source, snap


def _train_environment(
    args: argparse.Namespace, snap: Any, cfg: Any, command: str
) -> tuple[Any, dict[str, str], str]:
    """(the environment, the child's variables, the command with its interpreter): the
    sandbox policy first, since building the environment runs the repository's build."""
    from forkvet.runtime.smoke import with_interpreter

    _sandbox_policy(args, cfg)
    environment, _ = _environment(args, snap, cfg, dry_run=False)
    return environment, environment.child_env(), with_interpreter(command, environment.python)


def _train_lines(result: Any, environment: Any, source: str, regressed: bool) -> list[str]:
    """The text output: the verdict, the baseline, the environment, the losses, the plot."""
    finite = [v for v in result.losses if v is not None]
    headline = f"forkvet train-check: {result.verdict.upper()}"
    if regressed and result.baseline and result.baseline.get("slower_only"):
        headline += (
            " — slower than the baseline (the loss is not worse; a busy machine is slower too)"
        )
    elif regressed:
        headline += " — REGRESSED vs the baseline"
    return [
        headline,
        *([f"  baseline  {r}" for r in result.baseline["reasons"]] if result.baseline else []),
        *([_env_line(environment)] if environment is not None else []),
        *([f"  command   {result.command} ({source})"] if result.command else []),
        f"  losses    {len(result.losses)} value(s)"
        + (f", first {finite[0]:.4g}, last {finite[-1]:.4g}" if finite else ""),
        f"  speed     {result.steps_per_second or '-'} steps/s",
        *_gpu_line(result),
        *_metric_lines(result.metrics),
        f"  plot      {result.plot or '-'}",
        *[f"  - {r}" for r in result.reasons],
    ]


def _gpu_line(result: Any) -> list[str]:
    if result.gpu_utilization_mean is None:
        return []
    return [
        f"  GPU       {result.gpu_utilization_mean:.0f}% busy on average "
        f"({result.gpu_utilization_samples} samples)"
    ]


def _metric_lines(metrics: dict[str, Any], most: int = 12) -> list[str]:
    """One line per series: first → last, the best and where, the trend."""
    lines = []
    for name, m in list(metrics.items())[:most]:
        if m["first"] is None:
            continue
        lines.append(
            f"  metric    {name}: {m['first']:.4g} → {m['last']:.4g}, best {m['best']:.4g} "
            f"at {m['best_step']} ({m['goal']} is better), {m['trend']}"
        )
    return lines


def _load_baseline(args: argparse.Namespace, repo: Path | None = None) -> Any:
    if not args.baseline:
        return None
    from forkvet.runtime.baseline import load_baseline

    return load_baseline(Path(args.baseline).absolute(), repo)


def cmd_train_check(args: argparse.Namespace) -> int:
    from forkvet.runtime.train_check import check

    _require_runtime_extra()
    target = Path(args.target or ".")
    if not target.is_dir():
        raise InputError(f"no such directory: {target}")
    refuse_linked_target(target)
    log = _relative_to_cwd(args.log)
    cfg = _config(target, args.config, args, "train")
    pass_env = _pass_env(args, target)
    out_dir = _out_dir(args.out, target.resolve())  # before any training, not after
    _check_output(args.output, target.resolve())
    baseline = _load_baseline(args, target)
    command, source, snap = _train_command(args, target, cfg, log)
    if args.dry_run and snap is not None:
        _, described = _environment(args, snap, cfg, dry_run=True)
        return _print_dry_run("train-check", command, source, described)
    if args.dry_run:
        return _print_dry_run("train-check", f"read {log}", "--log", [])
    environment, env = None, None
    if command and snap is not None:
        environment, env, command = _train_environment(args, snap, cfg, command)
    from forkvet.runtime.imports import own_modules

    with _settled(environment):
        result = check(
            command=command,
            log=log,
            cwd=snap.root if snap is not None else target,
            # the operator's (or default) caps, which the repository's file can only lower
            timeout=cfg.train.timeout,
            max_steps=cfg.train.max_steps,
            pattern=args.pattern or cfg.train.pattern,
            num_classes=args.num_classes or cfg.train.num_classes,
            out_dir=out_dir,
            min_points=args.min_points,
            min_drop=args.min_drop,
            env=env,
            own=own_modules(snap) if snap is not None else None,
            pass_env=pass_env,
            baseline=baseline,
            speed_tolerance=cfg.train.max_slowdown / 100,
        )
    if environment is not None and environment.removed:
        result.reasons.append(_removed_reason(environment.removed))
    commit = snap.git.commit if snap is not None else None
    return _train_exit(args, result, environment, source, cfg, target, commit)


def _train_exit(
    args: argparse.Namespace,
    result: Any,
    environment: Any,
    source: str,
    cfg: Any,
    target: Path,
    commit: str | None = None,
) -> int:
    """Write the result (text or JSON, Actions outputs) and choose the exit status."""
    if environment is not None:
        result.environment = environment.to_dict()
    result.command_source = source or None
    regressed = bool(result.baseline and result.baseline["regression"])
    lines = _train_lines(result, environment, source, regressed)
    fmt = output_format(args.format, args.output)
    # Which code and when: `forkvet runs` orders and labels stored results by these.
    data = {**result.to_dict(), "commit": commit, "finished_at": round(time.time(), 3)}
    _emit(data, fmt, args.output, "\n".join(lines) + "\n", target)
    if args.github:
        from forkvet.gha import publish_train

        publish_train(data)
    if regressed and cfg.train.fail_on_regression:
        return EXIT_FAIL
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
        print(terminal(path))
    return 0


def _environment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--env-dir",
        metavar="DIR",
        help="where environments are kept and shared between steps (default "
        "$FORKVET_ENV_DIR, else $XDG_CACHE_HOME/forkvet/envs)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="CPU or CUDA builds of the framework (default: cuda when nvidia-smi sees a GPU)",
    )
    p.add_argument(
        "--pass-env",
        action="append",
        metavar="NAME",
        help="pass this variable to the repository's code on purpose (only an allow-list "
        "passes otherwise; e.g. HF_TOKEN for gated weights); repeatable",
    )
    p.add_argument(
        "--no-network",
        action="store_true",
        help="the repository's code gets no network: its own namespace with only loopback, "
        "no abstract UNIX socket (runtime.network: none; installs still reach the index)",
    )
    p.add_argument(
        "--allow-build",
        action="store_true",
        help="let the environment build source releases of requirements that have no wheel "
        "(runs their build code, in the sandbox, with no index credentials); default: "
        "wheels only, and a requirement without a wheel is named",
    )
    p.add_argument(
        "--install-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="the install budget: the environment build is killed after this many seconds "
        "(default 1800)",
    )
    p.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="where no sandbox is available (bubblewrap, user namespaces), run the "
        "repository's code anyway, without one (only on a machine you throw away)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would run and in which environment, and run nothing",
    )


def _result_options(p: argparse.ArgumentParser, out_help: str) -> None:
    """The options smoke and train-check share: the policy file and where results go."""
    p.add_argument("--config", metavar="FILE", help="policy file (.github/forkvet.yml format)")
    p.add_argument("--out", help=out_help)
    p.add_argument(
        "--format", choices=("text", "json"), help="default: by -o FILE's extension, else text"
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write the result here")
    p.add_argument(
        "--github",
        action="store_true",
        help="also write GitHub Actions outputs, job summary and annotations",
    )


def _register_notebooks(sub: Any) -> None:
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


def _register_smoke(sub: Any) -> None:
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
    s.add_argument(
        "--python-version",
        type=python_version,
        help="Python for a new environment (uv): 2.7 or 3.N",
    )
    _environment_options(s)
    s.add_argument(
        "--timeout",
        type=positive_seconds,
        help="seconds for the import check, then for the command (default 600)",
    )
    s.add_argument(
        "--no-import-check", action="store_true", help="skip importing every module first"
    )
    s.add_argument(
        "--notebook",
        metavar="PATH",
        help="execute this notebook instead of a "
        "command (per-cell timeout = --timeout; "
        "the interpreter needs ipykernel)",
    )
    _result_options(s, "folder for logs (default ./forkvet-out, outside the repository)")
    s.set_defaults(func=cmd_smoke)


def _register_train_check(sub: Any) -> None:
    t = sub.add_parser(
        "train-check",
        help="train a few steps and check that the loss falls",
        description="Training sanity check: run the training command for a "
        "bounded number of loss values or seconds (or read a log, "
        "CSV/JSONL metrics or TensorBoard events), then decide "
        "pass, fail or inconclusive.",
    )
    t.add_argument("target", metavar="TARGET", nargs="?", help="the repository folder (default: .)")
    t.add_argument(
        "--cmd",
        help="training command (default: .github/forkvet.yml train.command, the README's "
        "training command, or a detected training script)",
    )
    t.add_argument("--log", metavar="FILE", help="read this log, metrics file or event file")
    t.add_argument(
        "--baseline",
        metavar="FILE",
        help="an earlier train-check JSON result to compare with (loss at matched steps, "
        "speed); a regression fails only with train.fail_on_regression",
    )
    t.add_argument(
        "--python",
        metavar="PATH",
        help="use this interpreter as it is (default: the environment smoke builds or built)",
    )
    t.add_argument(
        "--python-version",
        type=python_version,
        help="Python for a new environment (uv): 2.7 or 3.N",
    )
    _environment_options(t)
    t.add_argument(
        "--max-steps",
        type=non_negative_int,
        help="stop after this many loss values (default 50; 0 = no limit)",
    )
    t.add_argument("--timeout", type=positive_seconds, help="seconds (default 900)")
    t.add_argument("--pattern", metavar="REGEX", help="loss regex with one group")
    t.add_argument(
        "--num-classes",
        type=int_at_least(2),
        help="check the initial loss against ln(C) (2 or more)",
    )
    t.add_argument(
        "--min-points",
        type=int_at_least(2),
        default=8,
        help="loss values needed for a verdict (8; 2 or more)",
    )
    t.add_argument(
        "--min-drop",
        type=relative_drop,
        default=0.10,
        help="minimum relative drop (0.10; from 0 to below 1)",
    )
    _result_options(
        t, "folder for the log and plot (default ./forkvet-out, outside the repository)"
    )
    t.set_defaults(func=cmd_train_check)


def register(sub: Any) -> None:
    _register_notebooks(sub)
    _register_smoke(sub)
    _register_train_check(sub)
    register_runs(sub)
