"""Versions as of the code's date: the framework first, then everything else with uv."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from forkvet.envgen.metadata_fix import (
    invalid_packages,
    newer_release_is_broken,
    repair,
    write_uv_toml,
)
from forkvet.envgen.names import Need, NeedSet
from forkvet.envgen.uv import BUILD_TOOLS, compile_
from forkvet.report import Framework
from forkvet.vet.importmap import canonical

FRAMEWORK_DISTS = {
    "pytorch": "torch",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "jax": "jax",
    "mxnet": "mxnet",
    "chainer": "chainer",
    "theano": "theano",
    "paddle": "paddlepaddle",
    "flax": "flax",
}
MAX_ROUNDS = 6


@dataclass
class FrameworkPin:
    name: str
    dist: str
    version: str
    spec: str


@dataclass
class Resolution:
    python: str
    pins: dict[str, str] = field(default_factory=dict)
    framework: FrameworkPin | None = None
    relaxed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    complete: bool = True
    # Packages only usable as source releases, which builds being off left out or relaxed.
    needs_build: list[str] = field(default_factory=list)


def python_candidates(
    recommended: str | None, min_version: str | None, max_version: str | None
) -> list[str]:
    """Newest first, from the recommendation down to the minimum the code supports."""

    def v(s: str | None, default: tuple[int, int]) -> tuple[int, int]:
        if not s:
            return default
        a, b = s.split(".")[:2]
        return int(a), int(b)

    top = v(recommended, (3, 12))
    low = max(v(min_version, (3, 5)), (3, 5))
    out = [f"3.{m}" for m in range(top[1], low[1] - 1, -1)] if top[0] == 3 else []
    if max_version and v(max_version, top) < top:
        out = [p for p in out if v(p, top) <= v(max_version, top)]
    return out or [f"{top[0]}.{top[1]}"]


def _framework_spec(fw: Framework, needs: NeedSet, dist: str) -> str:
    need = needs.get(dist) or (needs.get("tensorflow-gpu") if dist == "tensorflow" else None)
    parts = [
        p.strip()
        for s in (need.spec if need else "", fw.version_spec or "")
        for p in s.split(",")
        if p.strip()
    ]
    spec = ",".join(dict.fromkeys(parts))
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        spec = need.spec if need and need.spec else ""
    return spec


def pin_framework(
    fw: Framework, needs: NeedSet, pythons: list[str], as_of: date
) -> tuple[FrameworkPin | None, str | None, str]:
    """(pin, python, problem): the newest framework release on the date that satisfies the
    declared and implied constraints and has wheels for the newest possible Python."""
    dist = FRAMEWORK_DISTS.get(fw.name)
    if dist is None:
        return None, None, ""
    declared = needs.get("tensorflow-gpu") if dist == "tensorflow" else None
    if declared is not None:
        dist = "tensorflow-gpu"
    spec = _framework_spec(fw, needs, dist)
    for python in pythons:
        res = compile_([f"{dist}{spec}"], python, as_of, ["--no-deps", "--only-binary", dist])
        if res.ok and res.pins:
            version = res.pins.get(dist) or next(iter(res.pins.values()))
            return FrameworkPin(fw.name, dist, version, spec), python, ""
        if res.not_found:
            return None, None, f"{dist} is not on the package index"
    return (
        None,
        None,
        (
            f"no {dist} release{' matching ' + spec if spec else ''} with wheels for "
            f"Python {', '.join(pythons)} was published on or before "
            f"{as_of.isoformat()} (a date before the framework existed?)"
        ),
    )


def _req(need: Need) -> str:
    return f"{need.name}{need.spec}"


def resolve(needs: NeedSet, python: str, as_of: date, framework: FrameworkPin | None) -> Resolution:
    """Resolve the main requirements; relax declared pins or drop missing packages until it
    resolves (bounded), recording each change."""
    result = Resolution(python, framework=framework)
    active = needs.of_kind("main", "build")
    if framework:
        # The framework is pinned already; its other spellings must not reintroduce it.
        active = [n for n in active if canonical(n.name) != canonical(framework.dist)]
    extra: list[str] = []
    fixes: list[dict[str, object]] = []
    repaired: set[str] = set()
    tmp = tempfile.TemporaryDirectory(prefix="forkvet-uv-")
    try:
        return _rounds(result, active, framework, python, as_of, extra, fixes, repaired, tmp)
    finally:
        tmp.cleanup()


def _rounds(
    result: Resolution,
    active: list[Need],
    framework: FrameworkPin | None,
    python: str,
    as_of: date,
    extra: list[str],
    fixes: list[dict[str, object]],
    repaired: set[str],
    tmp: tempfile.TemporaryDirectory[str],
) -> Resolution:
    no_build: set[str] = set()
    config: Path | None = None
    for _ in range(MAX_ROUNDS + 4):
        reqs = ([f"{framework.dist}=={framework.version}"] if framework else []) + [
            _req(n) for n in active
        ]
        flags = [*extra]
        for pkg in sorted(no_build):
            flags += ["--only-binary", pkg]
        uv_toml = config.read_text(encoding="utf-8") if config else ""
        res = compile_(reqs, python, as_of, flags, uv_toml=uv_toml)
        broken = [n for n in invalid_packages(res.error) if n not in repaired]
        if res.ok:
            top = {n.name for n in active}
            broken = [
                n
                for n, v in res.pins.items()
                if n in top and n not in repaired and newer_release_is_broken(n, v, as_of)
            ]
            if not broken:
                result.pins = _cap_build_tools(res.pins, as_of, result)
                return result
        if broken:
            for name in broken:
                fixes += repair(name, as_of)
                repaired.add(name)
            config = write_uv_toml(Path(tmp.name) / "uv.toml", fixes)
            # The failed build was the resolver backtracking past releases it could not read:
            # with their metadata repaired, that package may build again.
            no_build -= set(broken)
            result.problems.append(
                f"repaired the invalid legacy metadata of {', '.join(broken)} (e.g. pytz>=2011k)"
            )
            continue
        if res.needs_build:
            if not _without_builds(result, active, res.needs_build, as_of):
                return result
            active = [n for n in active if n.name not in result.dropped]
            continue
        unbuildable = [
            m.lower()
            for m in re.findall(r"all versions of ([\w.-]+) have no usable wheels", res.error)
            if m.lower() in no_build
        ]
        if unbuildable:
            gone = set(unbuildable)
            result.dropped += [n.name for n in active if n.name in gone]
            active = [n for n in active if n.name not in gone]
            result.problems.append(
                f"{', '.join(sorted(gone))}: only source releases, which do "
                f"not build here; left out (install by hand)"
            )
            continue
        failed = res.build_failed_package
        if failed and failed not in no_build:
            # This source release does not build here: skip that package's source releases
            # (its wheels stay); the next answer shows the real constraint, if any.
            no_build.add(failed)
            result.problems.append(f"{res.error}; its source releases were skipped")
            continue
        if res.not_found:
            gone = set(res.not_found)
            result.dropped += [n.name for n in active if n.name in gone]
            result.problems.append(
                f"not on the package index: {', '.join(sorted(gone))} "
                f"(renamed, removed or private?)"
            )
            active = [n for n in active if n.name not in gone]
            continue
        # Relax the declared pins the resolver names, one round at a time.
        named = [
            n for n in active if n.spec and re.search(rf"(?i)\b{re.escape(n.name)}\b", res.error)
        ]
        if not named:
            result.problems.append(f"unresolvable: {res.error}")
            result.complete = False
            return result
        for n in named:
            result.relaxed.append(f"{n.name}{n.spec}")
            n.spec = ""
        result.problems.append(f"relaxed {', '.join(result.relaxed[-len(named) :])}: {res.error}")
    result.complete = False
    result.problems.append("gave up after relaxing pins several times")
    return result


def _without_builds(result: Resolution, active: list[Need], names: list[str], as_of: date) -> bool:
    """Builds are not allowed: relax a declared pin whose releases are only source releases,
    or leave out a package that has no wheel at all by the date. False when the package that
    needs a build is not one the repository declared (resolution cannot go on)."""
    result.needs_build += [n for n in names if n not in result.needs_build]
    ours = [n for n in active if n.name in names]
    if not ours:
        result.problems.append(
            f"{', '.join(names)} (a dependency) has only source releases by "
            f"{as_of.isoformat()}; building them runs their code: rerun with --allow-build "
            f"to allow it"
        )
        result.complete = False
        return False
    for n in ours:
        if n.spec:
            result.relaxed.append(f"{n.name}{n.spec}")
            result.problems.append(
                f"relaxed {n.name}{n.spec}: only a source release matches, and builds are "
                f"off (--allow-build builds it)"
            )
            n.spec = ""
        else:
            result.dropped.append(n.name)
            result.problems.append(
                f"{n.name}: only source releases by {as_of.isoformat()}, and builds are off; "
                f"left out (--allow-build builds it)"
            )
    return True


def _cap_build_tools(pins: dict[str, str], as_of: date, result: Resolution) -> dict[str, str]:
    """Build tools are resolved uncapped (old setuptools cannot build old sdists), but the
    environment itself gets the newest release up to the date, like everything else."""
    from forkvet.envgen.py2 import newest_by_date

    for tool in BUILD_TOOLS:
        if tool in pins:
            capped = newest_by_date(tool, as_of, python=result.python)
            if capped and capped != pins[tool]:
                pins[tool] = capped
    return pins
