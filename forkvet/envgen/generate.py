"""`forkvet env`: from a vetted repository to pinned, dated requirements and a conda file."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier
from packaging.version import InvalidVersion

from forkvet import rx, safeparse
from forkvet.config import Config
from forkvet.envgen import api_evidence, licenses, markers, optional, outputs
from forkvet.envgen import device as devices
from forkvet.envgen.choose import choose, python_candidates
from forkvet.envgen.docker import dockerfile_versions
from forkvet.envgen.metadata_fix import look_ahead, uv_toml_text
from forkvet.envgen.names import (
    Need,
    NeedSet,
    from_report,
    guessed_notice,
    private_rule,
    readme_git_clones,
)
from forkvet.envgen.py2 import resolve_py2
from forkvet.envgen.resolve import FRAMEWORK_DISTS, FrameworkPin, Resolution, resolve
from forkvet.envgen.stamp import ENV_STAMP, source_fingerprint
from forkvet.escape import terminal  # line breaks shown as \n: one line per entry
from forkvet.report import Framework, Report
from forkvet.snapshot import Snapshot
from forkvet.vet import Context, ownindex, vet
from forkvet.vet.declared import collect
from forkvet.vet.dependencies import RepoNames, repo_names, submodule_paths
from forkvet.vet.importmap import canonical

# Called with a result's requirements and Python, beside the license check (generate()).
Alongside = Callable[[list[dict[str, str]], str], None]


@dataclass
class EnvResult:
    repo: str
    python: str
    as_of: str
    offline: bool
    complete: bool
    framework: dict[str, str] | None
    requirements: list[dict[str, str]]
    files: list[str]
    commands: dict[str, str]
    problems: list[str] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    licenses: list[dict[str, str]] = field(default_factory=list)
    # Names a partial resolution could not pin (listed unpinned in requirements.txt).
    unresolved: list[str] = field(default_factory=list)
    # Imported only inside try/except ImportError: listed, commented, in requirements.txt.
    optional: list[str] = field(default_factory=list)
    verify: dict[str, Any] | None = None
    # Needed a source build, which was not allowed (`--allow-build`): left out or relaxed.
    needs_build: list[str] = field(default_factory=list)
    # "cpu" or "cuda": which builds the environment is for (--device; default what this has).
    device: str = "cpu"
    # Optional extras the authors declared (extras_require), listed as comments, not resolved.
    extras: list[str] = field(default_factory=list)
    # Imports neither declared nor in forkvet's import table: comments only, never resolved.
    guessed: list[str] = field(default_factory=list)
    # Declared names the repository provides itself (its own project, a module or package in
    # it, an extension it builds): comments only, never resolved.
    local: list[str] = field(default_factory=list)
    # Declared names that are no public project forkvet knows, in a repository that installs
    # from an index of its own (where: the problems): comments only, never resolved.
    private: list[str] = field(default_factory=list)
    # `name @ git+https://…` / `git+https://…` the authors install from git: comments only.
    git: list[str] = field(default_factory=list)
    # Pinned to a release after the date: nothing installable without a build came earlier.
    after_date: list[str] = field(default_factory=list)
    # Pins (name==version) with only source releases on the date: resolved from their
    # metadata read statically; installing them builds them from source.
    builds_from_source: list[str] = field(default_factory=list)
    # The commit the date is from: the newest that changed code (not docs, packaging, CI).
    code_commit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def code_date(report: Report) -> date:
    raw = report.repo.code_date or report.repo.commit_date
    if raw:
        try:
            return datetime.fromisoformat(raw).date()
        except ValueError:
            pass
    return datetime.now(UTC).date()


def _offline(needs: NeedSet, python: str) -> Resolution:
    res = Resolution(python, complete=True)
    for need in needs.of_kind("main", "build"):
        if need.spec.startswith("==") and "*" not in need.spec:
            res.pins[need.name] = need.spec[2:]
    res.problems.append("offline: declared pins only; unpinned names are listed without versions")
    unpinned = [n.name for n in needs.of_kind("main", "build") if n.name not in res.pins]
    if unpinned:
        # Names without versions are not an environment: complete only when all are pinned.
        res.complete = False
        res.problems.append(f"offline: no version for {', '.join(unpinned)}")
    return res


def _optional_integrations(
    ctx: Context, report: Report, needs: NeedSet, names: RepoNames
) -> list[str]:
    """Distributions used only behind a flag or in export/integration files: optional."""
    from forkvet.vet.dependencies import git_sources, third_party_imports

    uses = third_party_imports(ctx, git_sources(ctx), names)
    texts = {f.path: f.text for f in ctx.py.files if f.text}
    known = [fw for fw in report.frameworks if fw.name in FRAMEWORK_DISTS]
    # the framework the environment is built around stays required, whatever its role
    keep = [FRAMEWORK_DISTS[f.name] for i, f in enumerate(known) if i == 0 or f.role == "primary"]
    return optional.mark(needs, uses, texts, ctx.readme, keep)


def _python_too_old(report: Report, python: str | None, res: Resolution) -> None:
    """A --python the code cannot run on (f-strings on 2.7) gives no complete environment."""
    need = report.python.min_version
    if not python or not need:
        return
    try:
        too_old = safeparse.version(python) < safeparse.version(need)
    except InvalidVersion:
        return
    if too_old:
        res.complete = False
        why = "; ".join(report.python.evidence[:2])
        res.problems.append(
            f"--python {python}: the code needs Python >= {need}" + (f" ({why})" if why else "")
        )


def _offline_requirements(repo: str, needs: NeedSet, res: Resolution) -> str:
    lines = [
        f"# Requirements for {terminal(repo)}, generated by forkvet env --offline (names and the "
        f"authors' own pins;",
        f"# run forkvet env without --offline to pin every "
        f"version as of the code's date). Python {res.python}.",
        "",
    ]
    for need in needs.of_kind("main", "build"):
        lines.append(f"{need.requirement()}  # {terminal(need.why)}")
    optional = needs.of_kind("optional", "extra")
    if optional:
        lines += ["", "# optional: imported inside try/except ImportError, or an optional extra"]
        lines += [f"# {n.requirement()}" for n in optional]
    lines += outputs.guessed_lines(needs) + outputs.local_lines(needs)
    lines += outputs.private_lines(needs) + outputs.git_lines(needs) + outputs.conda_lines(needs)
    return "\n".join(lines) + "\n"


@dataclass
class _Job:
    """What one `forkvet env` run knows before it resolves: the vetted code and its needs."""

    snap: Snapshot
    config: Config
    report: Report
    needs: NeedSet
    when: date
    dated_by: str | None
    framework: Framework | None
    said: list[str]  # said after the resolver's own problems (the API, optional imports)
    python: str | None
    offline: bool
    device: str
    sources: list[str]


def generate(
    snap: Snapshot,
    config: Config | None = None,
    out: Path | None = None,
    as_of: date | None = None,
    python: str | None = None,
    offline: bool = False,
    extra: list[Need] | None = None,
    device: str | None = None,
    sources: list[str] | None = None,
    alongside: Alongside | None = None,
) -> tuple[EnvResult, Report]:
    """sources: uv options the user passed for extra package sources (["--find-links", URL,
    ...]), used for every resolution and written into requirements.txt. alongside: called with
    the result's requirements and Python once the files are written, side by side with the
    dependency-license check (env's vulnerability audit: both only read remote services)."""
    job = _gather(snap, config or Config(), as_of, python, offline, extra, device, sources)
    res = _resolve_job(job)
    _check(job, res)
    files = _files(job, res)
    written = outputs.write(out, files, repo=snap.root) if out else []
    return _result(job, res, written, alongside), job.report


def _gather(
    snap: Snapshot,
    config: Config,
    as_of: date | None,
    python: str | None,
    offline: bool,
    extra: list[Need] | None,
    device: str | None,
    sources: list[str] | None,
) -> _Job:
    """Vet the code, collect what it needs, date it, and narrow the framework."""
    device = device or devices.detect()
    ctx = Context(snap, config)
    report = vet(snap, config, ctx)
    names = repo_names(ctx)
    own_index = ownindex.statements(snap)
    private = private_rule(own_index.places, own_index.cut)
    needs = from_report(report, collect(ctx), names.declared_local, private)
    if own_index.cut:
        needs.notices.append(f"{own_index.cut} (the rest are not known to set none)")
    pythons = _pythons(report, python)
    _judge_markers(needs, pythons[:1] if offline else pythons)  # offline: the first, always
    for need in extra or []:  # what --verify found missing: a repository module never is
        if needs.get(need.name) is None:
            reason = names.declared_local(need.name)
            if reason:
                need = replace(need, kind="local", why=f"{need.why}; {reason}")
            elif private and (reason := private(need.name)):
                need = replace(need, kind="private", why=f"{need.why}; {reason}")
            needs.needs.append(need)
    needs.git += [g for g in readme_git_clones(ctx.readme, snap.name) if g not in needs.git]
    said = _optional_integrations(ctx, report, needs, names)
    guessed_notice(needs, submodule_paths(ctx))
    if device == "cpu":
        _cpu_twins(needs)
    when = as_of or code_date(report)
    dated_by = None if as_of else report.repo.code_commit
    if dated_by and dated_by != report.repo.commit:
        needs.notices.append(
            f"dated {when.isoformat()} by commit {dated_by[:12]}, the newest that changes code "
            f"(later commits change only docs, packaging metadata or CI)"
        )
    framework = next((fw for fw in report.frameworks if fw.name in FRAMEWORK_DISTS), None)
    framework = _docker_pin(snap, framework, needs)
    _other_framework_specs(report, needs, framework)
    framework, api_notes = api_evidence.apply(
        ((f.path, f.text) for f in ctx.py.files if not f.copy_of and f.text), needs, framework
    )
    said[:0] = api_notes
    return _Job(
        snap, config, report, needs, when, dated_by, framework, said, python, offline, device,
        sources or [],
    )  # fmt: skip


def _pythons(report: Report, python: str | None) -> list[str]:
    """The Pythons env may build for: 2.7 for Python 2 code, the one asked for, or the
    candidates it tries in turn."""
    py = report.python
    if py.majors == [2] and python in (None, "2.7"):
        return ["2.7"]
    return [python] if python else python_candidates(py.recommended, py.min_version, py.max_version)


def _judge_markers(needs: NeedSet, pythons: list[str]) -> None:
    """Leave out what the authors' markers exclude for every Python env may choose (named);
    a marker true for all of them is dropped, any other stays on the line for uv and pip."""
    kept: list[Need] = []
    for need in needs.needs:
        verdict = markers.judged(need.marker, pythons) if need.marker else True
        if verdict is False:
            needs.notices.append(markers.left_out_notice(need.name, need.why, need.marker, pythons))
            continue
        if verdict:
            need.marker = ""
        kept.append(need)
    needs.needs = kept


def _resolve_job(job: _Job) -> Resolution:
    """Python 2 code gets its own resolver; Python 3 code the best Python that works."""
    py, needs = job.report.python, job.needs
    if py.majors == [2] and job.python in (None, "2.7"):
        if job.offline:
            return _offline(needs, "2.7")
        return resolve_py2(needs, job.when, job.framework, job.device)
    pythons = _pythons(job.report, job.python)
    if job.offline:
        return _offline(needs, pythons[0])
    # What the first resolution checks of each package is read while uv pins the framework.
    names = sorted({canonical(n.name) for n in needs.of_kind("main", "build")})
    ahead = look_ahead(names, job.when)
    flags = source_flags(job.sources)

    def attempt(version: str, pin: FrameworkPin | None, more: list[str]) -> Resolution:
        # Each attempt relaxes pins on its own copy of the needs.
        return resolve(copy.deepcopy(needs), version, job.when, pin, flags + more)

    try:
        return choose(job.framework, needs, pythons, job.when, job.device, flags, attempt)
    finally:
        ahead.join()


def _check(job: _Job, res: Resolution) -> None:
    """What the result must say about itself: floors broken, a Python too old, GPU kernels."""
    if not job.offline:
        _below_floors(res, job.needs, job.framework)
    _python_too_old(job.report, job.python, res)
    if job.device == "cuda" and res.framework and not job.offline:
        warning = devices.gpu_warning(
            res.framework.dist, res.framework.version, devices.gpu_capability()
        )
        if warning:
            res.problems.append(warning)
    res.problems[:0] = job.needs.notices
    res.problems += job.said


def _files(job: _Job, res: Resolution) -> dict[str, str]:
    """The files to write (uv.toml when metadata repairs apply to the pins)."""
    snap, needs = job.snap, job.needs
    files = {
        "requirements.txt": (
            _offline_requirements(snap.name, needs, res)
            if job.offline
            else outputs.requirements_txt(snap.name, res, needs, job.when, job.sources)
        ),
        "environment.yml": outputs.environment_yml(snap.name, res, needs, job.device),
        ".python-version": f"{res.python}\n",
    }
    fixes = [f for f in res.metadata_fixes if res.pins.get(str(f["name"])) == str(f["version"])]
    if fixes and not job.offline:
        files["uv.toml"] = (
            "# Metadata of old releases for uv: repaired (invalid version specifiers such as\n"
            "# pytz>=2011k, which uv and pip >= 24.1 refuse), or read without running anything\n"
            "# from source-only releases. uv reads it when run in this folder (uv pip install\n"
            "# -r requirements.txt), merged with your own uv configuration.\n" + uv_toml_text(fixes)
        )
    if not job.offline:
        # Which code these pins are for: smoke and train-check reuse them for the same code.
        files[ENV_STAMP] = json.dumps(
            {"fingerprint": source_fingerprint(snap), "python": res.python, "asked": job.python}
        )
    return files


def _requirements(res: Resolution, needs: NeedSet) -> list[dict[str, str]]:
    top = {n.name: n for n in needs.needs}
    requirements = [
        {
            "name": n,
            "version": v,
            "why": top[n].why if n in top else "dependency",
            "kind": top[n].kind if n in top else "transitive",
        }
        for n, v in sorted(res.pins.items())
    ]
    if res.framework and res.framework.dist not in res.pins:
        fw = {"name": res.framework.dist, "version": res.framework.version}
        requirements.insert(0, {**fw, "why": "framework", "kind": "main"})
    return requirements


def _dependency_licenses(job: _Job, res: Resolution) -> list[dict[str, Any]]:
    if job.offline or not res.pins:
        return []
    category, policy = job.report.license.category, job.config.license
    return [asdict(d) for d in licenses.check(res.pins, category, policy, res.python)]


def _unresolved(res: Resolution, needs: NeedSet) -> list[str]:
    return [
        n.name
        for n in needs.of_kind("main", "build")
        if n.name not in res.pins
        and not (res.framework and n.name == res.framework.dist)
        and n.name not in res.dropped
        and not n.marker  # uv found the marker false for this Python
    ]


def _result(
    job: _Job, res: Resolution, written: list[str], alongside: Alongside | None = None
) -> EnvResult:
    needs = job.needs
    requirements = _requirements(res, needs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        other = pool.submit(alongside, requirements, res.python) if alongside else None
        dependency_licenses = _dependency_licenses(job, res)
        if other is not None:
            other.result()
    return EnvResult(
        repo=job.snap.name,
        python=res.python,
        as_of=job.when.isoformat(),
        offline=job.offline,
        complete=res.complete,
        framework=asdict(res.framework) if res.framework else None,
        requirements=requirements,
        files=written,
        commands=outputs.commands(job.snap.name, res, job.device),
        problems=res.problems,
        relaxed=res.relaxed,
        dropped=res.dropped,
        conflicts=needs.conflicts,
        licenses=dependency_licenses,
        needs_build=res.needs_build,
        optional=[n.name for n in needs.of_kind("optional")],
        device=job.device,
        extras=[n.name for n in needs.of_kind("extra")],
        guessed=[n.name for n in needs.of_kind("guessed")],
        local=[n.name for n in needs.of_kind("local")],
        private=[n.name for n in needs.of_kind("private")],
        git=list(needs.git),
        after_date=res.after_date,
        builds_from_source=res.from_source,
        code_commit=job.dated_by,
        unresolved=_unresolved(res, needs),
    )


_FLOOR = rx.compile(r"(==|>=|~=|>)\s*([\w.]+)")


def _below_floors(res: Resolution, needs: NeedSet, fw: Framework | None) -> None:
    """A pin under a floor the authors stated (README "TF >= 1.2", requirements `x>=2`) is not
    what they ran: never complete, and said."""
    stated: list[tuple[str, str, str]] = [
        (n.name, n.spec, n.why) for n in needs.of_kind("main", "build") if n.spec
    ]
    if fw is not None and fw.version_spec and fw.name in FRAMEWORK_DISTS:
        stated.append((FRAMEWORK_DISTS[fw.name], fw.version_spec, "the README or code"))
    pins = dict(res.pins)
    if res.framework:
        pins[res.framework.dist] = res.framework.version
        if res.framework.dist == "tensorflow-gpu":
            pins.setdefault("tensorflow", res.framework.version)
    for name, spec, why in stated:
        pinned = pins.get(name)
        if not pinned or any(p.startswith(f"{name}: uv could only use") for p in res.problems):
            continue
        for op, floor in _FLOOR.findall(spec):
            try:
                low = safeparse.version(floor.rstrip(".*"))
                below = safeparse.version(pinned) < low or (
                    op == ">" and safeparse.version(pinned) == low
                )
            except InvalidVersion:
                continue
            if below:
                res.complete = False
                res.problems.append(
                    f"{name}=={pinned} is below the authors' stated {name}{spec} ({terminal(why)})"
                )
                break


def _cpu_twins(needs: NeedSet) -> None:
    """A CPU environment gets the CPU build of every GPU-only distribution the authors name
    (tensorflow-gpu 1.x cannot even be imported without CUDA); their version carries over."""
    for need in list(needs.needs):
        twin = devices.cpu_twin(need.name)
        if twin is None:
            continue
        needs.notices.append(f"{need.name}: its CPU build {twin} for --device cpu")
        other = needs.get(twin)
        if other is None:
            need.name = twin
            continue
        if need.spec and not other.spec:
            other.spec = need.spec
        if need.kind == "main":
            other.kind = "main"
        needs.needs.remove(need)


def _docker_pin(snap: Snapshot, fw: Framework | None, needs: NeedSet) -> Framework | None:
    """A Dockerfile `FROM tensorflow/tensorflow:1.12.0-py3` names the release the authors ran:
    it pins the framework unless their own declarations already do."""
    if fw is None:
        return fw
    found = dockerfile_versions(snap).get(fw.name)
    declared = needs.get(FRAMEWORK_DISTS[fw.name])
    if not found or (declared is not None and "==" in declared.spec):
        return fw
    version, where = found
    try:
        if fw.version_spec and not safeparse.specifiers(fw.version_spec).contains(version):
            return fw  # the code's own constraints disagree: keep them
    except InvalidSpecifier:
        pass
    needs.notices.append(f"{where}: the Dockerfile builds on {fw.name} {version}; pinned it")
    return replace(fw, version_spec=f"=={version}")


def _other_framework_specs(report: Report, needs: NeedSet, primary: Any) -> None:
    """The versions a README names for the other frameworks (Keras 2.1.5 *and* TensorFlow
    1.6.0) constrain them too: uv otherwise takes any release it can (TF 1.4.1)."""
    for fw in report.frameworks:
        if fw is primary or not fw.version_spec or fw.name not in FRAMEWORK_DISTS:
            continue
        need = needs.get(FRAMEWORK_DISTS[fw.name])
        if need is not None and not need.spec:
            need.spec = fw.version_spec


SOURCE_OPTIONS = ("--find-links", "--extra-index-url")
# Archives of old framework releases (find-links pages) carry no upload times, which uv's date
# cap treats as "too new": the framework family is exempt from the cap when the user adds one.
_UNDATED = ("torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-gpu")


def source_flags(sources: list[str]) -> list[str]:
    flags = list(sources)
    if sources:
        for name in _UNDATED:
            flags += ["--exclude-newer-package", f"{name}=false"]
    return flags
