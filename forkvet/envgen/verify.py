"""`forkvet env --verify` (runners only, never the App): build the environment, import every
module of the repository, and repair missing dependencies in bounded rounds."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forkvet import environments, hostpaths, rx
from forkvet.envgen.generate import EnvResult, generate
from forkvet.envgen.names import Need
from forkvet.envgen.uv import builds_allowed, private_workdir
from forkvet.errors import ForkvetError
from forkvet.runtime import sandbox
from forkvet.runtime.imports import check_imports
from forkvet.runtime.process import scrubbed_env
from forkvet.snapshot import Snapshot
from forkvet.vet.importmap import dist_for_module

MAX_ROUNDS = 3
_MISSING = rx.compile(r"No module named '([\w.]+)'")


@dataclass
class Verification:
    ok: bool
    rounds: int
    added: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    python: str | None = None
    # What building the environment had to do differently (PyTorch from your index).
    notes: list[str] = field(default_factory=list)


def _classify(snap: Snapshot, module: str, error: str) -> tuple[str | None, str]:
    """(distribution to add, or None; explanation)."""
    m = _MISSING.search(error)
    if not m:
        if "CUDA" in error or "libcuda" in error or "nvcc" in error:
            return None, "needs CUDA (a GPU runner)"
        return None, error.splitlines()[-1][:200] if error else "import failed"
    missing = m.group(1)
    top = missing.split(".")[0]
    own = any(f.path.split("/")[0] == top or f.name.split(".")[0] == top for f in snap.files)
    if own:
        return None, (
            f"{missing} is the repository's own module: a C/Cython extension that "
            f"must be built first (e.g. python setup.py build_ext --inplace)"
        )
    dist, _ = dist_for_module(missing)
    if dist is None:
        return None, f"{missing} is not installable from the package index"
    return dist, f"missing {missing} → added {dist}"


def _conda_create(conda: str, out: Path) -> subprocess.CompletedProcess[str]:
    """conda env create, in the sandbox: its pip section may build source releases (package
    code). Writable: the output folder, which holds the new environment and conda's package
    cache for it; secrets scrubbed (the index settings kept)."""
    # The pip section is installed by pip: wheels only unless builds were allowed.
    env = scrubbed_env(
        {"CONDA_PKGS_DIRS": str(out / "conda-pkgs")}
        | ({} if builds_allowed() else {"PIP_ONLY_BINARY": ":all:"}),
        keep_index_config=True,
    )
    cmd = [conda, "env", "create", "-q", "-p", str(out / "conda-env")]
    cmd += ["-f", str(out / "environment.yml")]
    with (
        private_workdir() as work,
        sandbox.sandboxed(cmd, work, [out], private_home=False, index=True) as (argv, _),
    ):
        return subprocess.run(
            argv,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )


def verify(
    snap: Snapshot, result: EnvResult, out: Path, **generate_args: Any
) -> tuple[EnvResult, Verification]:
    out = out.resolve()  # a relative --out: uv and conda run in folders of their own
    if result.python == "2.7":
        conda = hostpaths.find("conda") or hostpaths.find("mamba")
        if not conda:
            return result, Verification(
                False,
                0,
                failures=[
                    {
                        "module": "*",
                        "reason": "Python 2 environments need conda, which is not installed here",
                    }
                ],
            )
        proc = _conda_create(conda, out)
        if proc.returncode != 0:
            raise ForkvetError(f"conda env create failed: {proc.stderr.strip()[-300:]}")
        python = str(out / "conda-env" / "bin" / "python")
        checked = check_imports(snap, python)
        return result, Verification(checked.ok, 1, failures=checked.failures, python=python)
    added: list[Need] = []
    report = Verification(False, 0)
    for round_no in range(1, MAX_ROUNDS + 1):
        report.rounds = round_no
        # The shared environment (kept outside the checkout): smoke and train-check reuse it.
        lines = environments.sanitize_requirements(out / "requirements.txt", out)
        plan = environments.plan(
            snap, lines, "forkvet env", result.python, uv_config=out / "uv.toml"
        )
        # The pins env disclosed as source-only build (sandboxed); nothing else does.
        plan.may_build = [p.split("==")[0] for p in result.builds_from_source]
        built = environments.prepare(plan, allow_build=builds_allowed())
        python = built.python
        report.python = python
        report.notes = list(built.notes)
        checked = check_imports(snap, python)
        report.failures = []
        new: list[Need] = []
        for failure in checked.failures:
            dist, why = _classify(snap, failure["module"], failure["error"])
            if dist and dist not in {n.name for n in added + new}:
                new.append(
                    Need(dist, "", f"found by --verify: {why} (importing {failure['module']})")
                )
            else:
                report.failures.append({"module": failure["module"], "reason": why})
        if not new:
            report.ok = not report.failures
            break
        added += new
        report.added += [n.name for n in new]
        result, _ = generate(snap, out=out, extra=added, **generate_args)
    return result, report
