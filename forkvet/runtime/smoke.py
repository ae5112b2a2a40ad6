"""The smoke test: every module imports, then the repository's test/demo command runs."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from forkvet import rx
from forkvet.environments import Environment
from forkvet.runtime import bounded, commands
from forkvet.runtime.explain import explain
from forkvet.runtime.gpu import query
from forkvet.runtime.imports import ImportCheck, check_imports, own_modules
from forkvet.runtime.process import run
from forkvet.safe_write import OutputDir
from forkvet.snapshot import Snapshot
from forkvet.vet import vet


@dataclass
class SmokeResult:
    verdict: str  # pass | fail | skipped
    reasons: list[str]
    command: str | None
    command_source: str
    imports: dict[str, Any] | None
    exit_code: int | None = None
    duration: float | None = None
    timed_out: bool = False
    tail: list[str] = field(default_factory=list)
    log: str | None = None
    gpu_visible: bool = False
    gpu: str | None = None
    peak_gpu_memory_mib: float | None = None
    python: str | None = None
    notebook: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    isolation: str | None = None  # bubblewrap | none (forkvet.runtime.sandbox)
    limits: str | None = None  # the bounds on processes and memory that held (runtime.limits)

    def to_dict(self) -> dict[str, Any]:
        """The result as written: every string bounded in encoded bytes (runtime.bounded)."""
        return bounded.strings(asdict(self))  # type: ignore[no-any-return]


def python_env(python: str) -> dict[str, str]:
    """Make `python` in the command mean the chosen interpreter."""
    bindir = str(Path(python).parent)
    return {"PATH": bindir + os.pathsep + os.environ.get("PATH", "")}


def with_interpreter(command: str, python: str) -> str:
    return rx.sub(
        r"^((?:[A-Z_][A-Z0-9_]*=\S*\s+)*)python[\d.]*(\s)",
        lambda m: m.group(1) + python + m.group(2),
        command.strip(),
    )


def smoke(
    snap: Snapshot,
    environment: Environment,
    command: str | None = None,
    timeout: float = 600,
    out_dir: Path = Path("forkvet-out"),
    import_check: bool = True,
    import_timeout: int = 60,
    notebook: Path | None = None,
    source: str = "configured",
    pass_env: list[str] | None = None,
) -> SmokeResult:
    OutputDir(out_dir, repo=snap.root).close()
    gpus = query()
    python = environment.python
    env = environment.child_env()
    if notebook is not None:
        command, source = f"notebook {notebook.name}", "--notebook"
    if not command:
        command, source = commands.detect(vet(snap), "test", gpu=bool(gpus), snap=snap)
    # the import check as a whole gets the operator's --timeout too, kept from outside
    imports = (
        check_imports(snap, python, import_timeout, env, budget=timeout) if import_check else None
    )
    result = SmokeResult(
        "pass",
        import_reasons(imports),
        command,
        source,
        asdict(imports) if imports else None,
        gpu_visible=bool(gpus),
        python=python,
        environment=environment.to_dict(),
    )
    if notebook is not None:
        _run_notebook(result, notebook, python, snap.root, out_dir, timeout, env, pass_env)
    elif command is None:
        result.verdict = "skipped"
        result.reasons.append(
            f"no test command: {source}; set smoke.command in .github/forkvet.yml"
        )
    else:
        _run_command(result, command, python, snap, timeout, out_dir, env, pass_env)
    if imports and not imports.ok:
        result.verdict = "fail"
    return result


def import_reasons(imports: ImportCheck | None) -> list[str]:
    """The first ten modules that failed to import, as reasons."""
    failures = imports.failures[:10] if imports else []
    return [f"import {f['module']}: {f['reason']}" for f in failures]


def _run_notebook(
    result: SmokeResult,
    notebook: Path,
    python: str,
    root: Path,
    out_dir: Path,
    timeout: float,
    env: dict[str, str],
    pass_env: list[str] | None,
) -> None:
    from forkvet.runtime.notebook_run import run_notebook

    nb = run_notebook(notebook, python, root, out_dir, int(timeout), env, pass_env)
    result.notebook = asdict(nb)
    result.isolation = nb.isolation
    if nb.isolation == "bubblewrap":
        from forkvet.runtime.limits import describe

        result.limits = describe()
    if not nb.ok:
        result.verdict = "fail"
        result.reasons.append(f"notebook {notebook.name}: {nb.error}")


def _run_command(
    result: SmokeResult,
    command: str,
    python: str,
    snap: Snapshot,
    timeout: float,
    out_dir: Path,
    env: dict[str, str],
    pass_env: list[str] | None,
) -> None:
    ran = run(
        with_interpreter(command, python),
        snap.root,
        timeout,
        out_dir / "smoke.log",
        env,
        pass_env=pass_env or (),
    )
    result.exit_code, result.duration = ran.returncode, round(ran.duration, 2)
    # the last lines, bounded in bytes as JSON writes them, not only in lines
    result.timed_out, result.log = ran.timed_out, ran.log
    result.tail = bounded.tail(ran.tail[-30:])
    result.gpu, result.peak_gpu_memory_mib = ran.gpu_name, ran.gpu_peak_mib
    result.isolation, result.limits = ran.isolation, ran.limits
    if not ran.ok:
        result.verdict = "fail"
        result.reasons += explain(
            "\n".join(ran.tail), ran.returncode, ran.timed_out, timeout, own_modules(snap)
        )
