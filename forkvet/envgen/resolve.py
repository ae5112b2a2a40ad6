"""Versions as of the code's date: the framework first, then everything else with uv."""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from packaging.version import InvalidVersion, Version

from forkvet import rx, safeparse
from forkvet.envgen.index import IndexError_, IndexFile
from forkvet.envgen.metadata_fix import (
    invalid_packages,
    newer_release_is_broken,
    newest_are_broken,
    repair,
    write_uv_toml,
)
from forkvet.envgen.names import Need, NeedSet
from forkvet.envgen.uv import BUILD_TOOLS, Compiled, compile_, plain_requirement
from forkvet.errors import ForkvetError
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
    # Allowed past the date: their first wheel for this Python came after it (builds off).
    after_date: list[str] = field(default_factory=list)
    # Repaired legacy metadata (uv `dependency-metadata` entries) the pins need to install.
    metadata_fixes: list[dict[str, object]] = field(default_factory=list)
    # Pins (name==version) that only had source releases: their requirements were read
    # statically for resolving; installing them builds them from source.
    from_source: list[str] = field(default_factory=list)


def _req(need: Need) -> str:
    return need.requirement()


def resolve(
    needs: NeedSet,
    python: str,
    as_of: date,
    framework: FrameworkPin | None,
    flags: list[str] | None = None,
) -> Resolution:
    """Resolve the main requirements; relax declared pins or drop missing packages until it
    resolves (bounded), recording each change. flags: the user's extra sources for uv."""
    result = Resolution(python, framework=framework)
    active = needs.of_kind("main", "build")
    if framework:
        # The framework is pinned already; its other spellings must not reintroduce it.
        active = [n for n in active if canonical(n.name) != canonical(framework.dist)]
    extra: list[str] = list(flags or [])
    fixes: list[dict[str, object]] = []
    repaired: set[str] = set()
    tmp = tempfile.TemporaryDirectory(prefix="forkvet-uv-")
    try:
        return _rounds(result, active, framework, python, as_of, extra, fixes, repaired, tmp)
    finally:
        tmp.cleanup()


@dataclass
class _Rounds:
    """The state of one Python's resolution rounds: what is still asked for, what uv may not
    build, which source releases were read, and forkvet's uv.toml of metadata repairs."""

    result: Resolution
    active: list[Need]
    framework: FrameworkPin | None
    python: str
    as_of: date
    extra: list[str]
    fixes: list[dict[str, object]]
    repaired: set[str]
    tmp: tempfile.TemporaryDirectory[str]
    no_build: set[str] = field(default_factory=set)
    widened: set[str] = field(default_factory=set)
    static: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    read: dict[str, set[str]] = field(default_factory=dict)
    config: Path | None = None

    def repair(self, broken: list[str]) -> None:
        self.config = _repair(broken, self.as_of, self.fixes, self.repaired, self.result, self.tmp)

    def flags(self) -> list[str]:
        return [*self.extra] + [x for pkg in sorted(self.no_build) for x in ("--only-binary", pkg)]

    def uv_toml(self) -> str:
        return self.config.read_text(encoding="utf-8") if self.config else ""

    def drop(self, gone: set[str]) -> None:
        self.result.dropped += [n.name for n in self.active if n.name in gone]
        self.active = [n for n in self.active if n.name not in gone]


def _plain_only(result: Resolution, active: list[Need]) -> list[Need]:
    """The needs whose requirement uv can be given as a plain line; one that cannot (a marker
    string whose escape renders a newline) is left out and named, never the end of the run."""
    kept = []
    for need in active:
        try:
            plain_requirement(_req(need))
        except ForkvetError:
            result.problems.append(
                f"{need.name}: its requirement cannot be given to the resolver as it stands "
                f"({_req(need)[:120]!r}); left out"
            )
            result.dropped.append(need.name)
            continue
        kept.append(need)
    return kept


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
    active = _plain_only(result, active)
    st = _Rounds(result, active, framework, python, as_of, extra, fixes, repaired, tmp)
    early = newest_are_broken(sorted({canonical(n.name) for n in active}), as_of)
    if early:
        st.repair(early)
    _read_sources_ahead(st)
    for _ in range(MAX_ROUNDS + 4):
        reqs = ([f"{framework.dist}=={framework.version}"] if framework else []) + [
            _req(n) for n in st.active
        ]
        res = compile_(reqs, python, as_of, st.flags(), uv_toml=st.uv_toml())
        if _one_round(st, res):
            return st.result
    result.complete = False
    result.problems.append("gave up after relaxing pins several times")
    return result


_AHEAD_DEPTH = 3
_AHEAD_PACKAGES = 40


def _read_sources_ahead(st: _Rounds) -> None:
    """The source-only releases uv would stop on, one per round (each a uv run: stable
    diffusion's stack ran out of rounds finding eleven of them), read before the first run:
    of each package asked for, then of what those releases require, whenever the newest
    release the date and the specifier allow has no wheel for this Python. Bounded."""
    from forkvet.envgen.uv import builds_allowed

    if builds_allowed():
        return
    exact = _exact_pins(st.active, st.framework)
    asked = {canonical(n.name): n.spec for n in st.active}
    seen: set[str] = set()
    for _ in range(_AHEAD_DEPTH):
        names = [n for n in asked if n not in seen][: max(0, _AHEAD_PACKAGES - len(seen))]
        seen.update(names)
        sources = _source_only_now(names, asked, st.python, st.as_of)
        if not sources:
            return
        _read_sources(
            st.result, sources, st.python, st.as_of, st.extra, st.static, st.read, exact,
            st.tmp, "", st.active,
        )  # fmt: skip
        asked = _requirements_of(st, set(sources))


def _source_only_now(
    names: list[str], asked: dict[str, str], python: str, as_of: date
) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    from forkvet.envgen.index import WORKERS
    from forkvet.envgen.sdist import newest_needs_source

    def check(name: str) -> bool:
        try:
            return newest_needs_source(name, asked[name], python, as_of)
        except (LookupError, IndexError_):
            return False  # not on the index, or out of reach: the rounds will say so

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        flags = list(pool.map(check, names))
    return [n for n, source in zip(names, flags, strict=True) if source]


def _requirements_of(st: _Rounds, names: set[str]) -> dict[str, str]:
    """The requirements (name: specifier) of the source releases read for these packages,
    for this Python, without extras."""
    from packaging.requirements import InvalidRequirement

    env = {"python_version": st.python, "python_full_version": st.python + ".0", "extra": ""}
    out: dict[str, str] = {}
    for (name, _version), entry in st.static.items():
        if name not in names:
            continue
        for text in entry.get("requires-dist") or []:  # type: ignore[attr-defined]
            try:
                req = safeparse.requirement(str(text))
                if req.marker is not None and not req.marker.evaluate(env):
                    continue
            except (InvalidRequirement, ValueError):
                continue
            out.setdefault(canonical(req.name), str(req.specifier))
    return out


def _one_round(st: _Rounds, res: Compiled) -> bool:
    """One answer of uv acted on; True when the resolution is over (done or hopeless)."""
    broken = [n for n in invalid_packages(res.error) if n not in st.repaired]
    if res.ok:
        top = {n.name for n in st.active}
        broken = _newer_broken(
            {n: v for n, v in res.pins.items() if n in top and n not in st.repaired}, st.as_of
        )
        if not broken:
            _finish(st, res)
            return True
    if broken:
        st.repair(broken)
        # The failed build was the resolver backtracking past releases it could not read:
        # with their metadata repaired, that package may build again.
        st.no_build -= set(broken)
        return False
    if _undeclared_conflict(st, res):
        return False
    if _without_source_builds(st, res):
        return False
    return _drop_or_relax(st, res)


_INCOMPATIBLE = rx.compile(r"(?i)\bare incompatible\b|\bcannot be used\b")


def _undeclared_conflict(st: _Rounds, res: Compiled) -> bool:
    """A package the code imports but the authors never declared, whose releases conflict
    with the authors' own pins even after its source releases were read: left out, said why.
    Reading its older releases one batch per round (each a uv run) only delays that answer,
    and relaxing the authors' pins for it would trade their versions for a guess."""
    if not _INCOMPATIBLE.search(res.error):
        return False
    declared = [n for n in st.active if n.declared and _named(n.name, res.error)]
    blamed = [
        n.name
        for n in st.active
        if not n.declared
        and not n.spec
        and _named(n.name, res.error)
        # releases uv could not read yet may fit: read a batch of them first
        and (n.name in st.read or not _unread(n.name, res.error))
    ]
    if not declared or len(blamed) != 1:
        return False
    st.drop(set(blamed))
    st.result.problems.append(
        f"{blamed[0]}: imported by the code but not declared by the authors, and no release "
        f"of it on the date fits their pins ({', '.join(n.name for n in declared)}); left out, "
        f"not pinned (install it by hand if you need the code that imports it): {res.error}"
    )
    return True


def _unread(name: str, error: str) -> bool:
    return bool(rx.search(rf"(?i){rx.escape(name)}[^\s,]* (?:has|have) no usable wheels", error))


def _named(name: str, error: str) -> bool:
    return bool(rx.search(rf"(?i)(?:^|[^\w.-]){rx.escape(name)}(?:[^\w-]|$)", error))


def _finish(st: _Rounds, res: Compiled) -> None:
    result = st.result
    result.pins = _cap_build_tools(res.pins, st.python, st.as_of, st.flags(), st.uv_toml(), result)
    _from_source(result, st.static, st.fixes)
    _flag_downgrades(result, st.active)


def _without_source_builds(st: _Rounds, res: Compiled) -> bool:
    """Packages uv would have to build, or that had nothing on the date: yanked wheels,
    source releases read statically, or the nearest release with a wheel. True to retry."""
    result, python, as_of, extra = st.result, st.python, st.as_of, st.extra
    fw_name = canonical(st.framework.dist) if st.framework else ""
    absent = sorted({canonical(m) for m in _NO_VERSIONS.findall(res.error)} - {fw_name})
    # Source-only releases on the date: their requirements read without running them.
    exact = _exact_pins(st.active, st.framework)
    names = list(dict.fromkeys(res.needs_build + absent))
    _prefetch(names)
    if names and _yanked_wheels(result, st.active, names, python, as_of, exact):
        return True
    if names and _read_sources(
        result, names, python, as_of, extra, st.static, st.read, exact, st.tmp, res.error,
        st.active,
    ):  # fmt: skip
        return True
    if res.needs_build and _nearest_wheels(
        result, res.needs_build, python, as_of, extra, st.widened
    ):
        return True
    # Nothing of a package on the date (PyTorch before 1.0 was never on the index): its
    # first release with a wheel for this Python, disclosed.
    return bool(absent) and _nearest_wheels(result, absent, python, as_of, extra, st.widened)


def _prefetch(names: list[str]) -> None:
    """Read these packages' index pages side by side: the steps below look at them one by
    one (an error is left for them to meet, as before)."""
    from concurrent.futures import ThreadPoolExecutor

    from forkvet.envgen.index import WORKERS, IndexError_, project_files

    def one(name: str) -> None:
        with contextlib.suppress(IndexError_):
            project_files(name)

    if len(names) > 1:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            list(pool.map(one, names))


def _drop_or_relax(st: _Rounds, res: Compiled) -> bool:
    """Leave out what cannot be had, or relax the pins uv names; True when over."""
    result = st.result
    if res.needs_build:
        if not _without_builds(result, st.active, res.needs_build, st.as_of):
            return True
        st.active = [n for n in st.active if n.name not in result.dropped]
        return False
    if _unbuildable(st, res) or _failed_build(st, res):
        return False
    if _pin_yanked(result, st.active, res.error):
        return False
    if res.not_found:
        gone = set(res.not_found)
        st.drop(gone)
        result.problems.append(
            f"not on the package index: {', '.join(sorted(gone))} (renamed, removed or private?)"
        )
        return False
    return _relax(st, res)


def _unbuildable(st: _Rounds, res: Compiled) -> bool:
    unbuildable = [
        m.lower()
        for m in rx.findall(r"all versions of ([\w.-]+) have no usable wheels", res.error)
        if m.lower() in st.no_build
    ]
    if not unbuildable:
        return False
    gone = set(unbuildable)
    st.drop(gone)
    st.result.problems.append(
        f"{', '.join(sorted(gone))}: only source releases, which do "
        f"not build here; left out (install by hand)"
    )
    return True


def _failed_build(st: _Rounds, res: Compiled) -> bool:
    failed = res.build_failed_package
    if not failed or failed in st.no_build:
        return False
    # This source release does not build here: skip that package's source releases
    # (its wheels stay); the next answer shows the real constraint, if any.
    st.no_build.add(failed)
    st.result.problems.append(f"{res.error}; its source releases were skipped")
    return True


def _relax(st: _Rounds, res: Compiled) -> bool:
    """Relax the declared pins the resolver names, one round at a time."""
    result = st.result
    named = [
        n for n in st.active if n.spec and rx.search(rf"(?i)\b{rx.escape(n.name)}\b", res.error)
    ]
    if not named:
        result.problems.append(f"unresolvable: {res.error}")
        result.complete = False
        return True
    for n in named:
        result.relaxed.append(f"{n.name}{n.spec}")
        n.spec = ""
    result.problems.append(f"relaxed {', '.join(result.relaxed[-len(named) :])}: {res.error}")
    return False


def _read_sources(
    result: Resolution,
    names: list[str],
    python: str,
    as_of: date,
    extra: list[str],
    static: dict[tuple[str, str], dict[str, object]],
    read: dict[str, set[str]],
    exact: dict[str, str],
    tmp: tempfile.TemporaryDirectory[str],
    error: str = "",
    active: list[Need] | None = None,
) -> bool:
    """Builds are off and these packages had only source releases for this Python by the
    date: read the requirements of such releases statically (the pinned one, then the
    newest, then older ones each time uv still lacks one) and give uv a metadata-only wheel
    of each (sdist.py). False when there was nothing more to read."""
    from forkvet.envgen.uv import builds_allowed

    if builds_allowed():
        return False
    wanted = [
        (name, v, f)
        for name in names
        for v, f in _source_batch(result, name, python, as_of, read, exact, error, active)
    ]
    folder = Path(tmp.name) / "static-metadata"
    done = _metadata_wheels(wanted, folder, python, static)
    if not done:
        return False
    if str(folder) not in extra:
        extra += ["--find-links", str(folder)]
    _say_source_only(result, list(done), python, as_of)
    return True


def _source_batch(
    result: Resolution,
    name: str,
    python: str,
    as_of: date,
    read: dict[str, set[str]],
    exact: dict[str, str],
    error: str,
    active: list[Need] | None,
) -> list[tuple[str, IndexFile]]:
    """(version, file) of the source releases of name to read next; marks them read."""
    from forkvet.envgen.sdist import source_only_versions

    done_before = read.setdefault(name, set())
    pinned = {exact[name]} if name in exact else set()
    asked = _asked_for(error, name)
    batch = source_only_versions(
        name, python, as_of, done_before, pinned - done_before, wanted=asked
    )
    if not batch and active is not None and name not in exact:
        # Every source release that fits was yanked (futures 3.1.1): the newest, pinned
        # exactly, installs (PEP 592).
        batch = source_only_versions(name, python, as_of, done_before, yanked=True)[:1]
        for version, _ in batch:
            _pin_yanked_source(result, active, name, version)
    done_before.update(v for v, _ in batch)
    return batch


def _pin_yanked_source(result: Resolution, active: list[Need], name: str, version: str) -> None:
    need = next((n for n in active if canonical(n.name) == name), None)
    if need is None:
        need = Need(name, "", "needed by the packages above", "main")
        active.append(need)
    need.spec = f"=={version}"
    result.problems.append(
        f"{name}: its source releases that fit were yanked; pinned {name}=={version} "
        f"exactly, which installs a yanked release (PEP 592)"
    )


def _metadata_wheels(
    wanted: list[tuple[str, str, IndexFile]],
    folder: Path,
    python: str,
    static: dict[tuple[str, str], dict[str, object]],
) -> dict[str, int]:
    """Read each release's metadata side by side; a metadata-only wheel of each that
    installs on python goes to folder. Returns how many per package."""
    from concurrent.futures import ThreadPoolExecutor

    from forkvet.envgen.index import WORKERS
    from forkvet.envgen.sdist import metadata_wheel, static_metadata, supports

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        metas = list(pool.map(lambda t: static_metadata(*t), wanted))
    folder.mkdir(exist_ok=True)
    done: dict[str, int] = {}
    for meta in metas:
        # uv does not check a find-links wheel's Requires-Python: a release for Python 2 only
        # (futures 3.2.0) must not stand in for one that installs here.
        if meta is None or not supports(meta.requires_python, python):
            continue
        metadata_wheel(folder, meta)
        static[(canonical(meta.name), meta.version)] = meta.entry()
        done[meta.name] = done.get(meta.name, 0) + 1
    return done


def _say_source_only(result: Resolution, done: list[str], python: str, as_of: date) -> None:
    told = {
        n
        for p in result.problems
        if "only source releases for Python" in p
        for n in p.split(":", 1)[0].split(", ")
    }
    new = [n for n in done if n not in told]
    if new:
        result.problems.append(
            f"{', '.join(new)}: only source releases for Python {python} by "
            f"{as_of.isoformat()}; read the requirements of those releases from their "
            f"archives without running anything"
        )


def _asked_for(error: str, name: str) -> list[str]:
    """The specifiers uv's explanation says dependants put on name (`tensorflow==1.2.0
    depends on markdown==2.2.0`): the source releases to read first."""
    pattern = rf"(?i)depends on {rx.escape(name)}((?:[<>=!~]=?[\w.*+!]+,?)+)"
    return [m.rstrip(",") for m in rx.findall(pattern, error)]


_YANKED = rx.compile(r"([A-Za-z0-9][\w.-]*)==([\w.+!]+) (?:was|were|is) yanked")


def _pin_exactly(active: list[Need], need: Need | None, name: str, version: str) -> None:
    """Pin `name` to exactly `version` (a yanked release installs when pinned, PEP 592),
    adding it to the stack when nothing asked for it yet."""
    if need is None:
        need = Need(name, "", "needed by the packages above", "main")
        active.append(need)
    need.spec = f"=={version}"


def _pin_yanked(result: Resolution, active: list[Need], error: str) -> bool:
    """Every release of a package that fits was yanked (early torchvision): an exact pin
    installs a yanked release (PEP 592), so the newest one uv names is pinned, and said."""
    found: dict[str, Version] = {}
    for name, version in _YANKED.findall(error):
        try:
            v = safeparse.version(version)
        except InvalidVersion:
            continue
        key = canonical(name)
        found[key] = max(v, found.get(key, v))
    changed = False
    for key, version in sorted(found.items()):
        need = next((n for n in active if canonical(n.name) == key), None)
        if need is not None and need.spec.startswith("=="):
            continue  # pinned already: the yanked release is not what blocks it
        _pin_exactly(active, need, key, str(version))
        result.problems.append(
            f"{key}: the releases that fit were yanked; pinned {key}=={version} exactly, "
            f"which installs a yanked release (PEP 592)"
        )
        changed = True
    return changed


def _yanked_wheels(
    result: Resolution,
    active: list[Need],
    names: list[str],
    python: str,
    as_of: date,
    exact: dict[str, str],
) -> bool:
    """uv found nothing usable of these packages on the date: when the only wheels were
    yanked since, pin the newest of them exactly (it installs; PEP 592)."""
    from forkvet.envgen.wheels import newest_yanked_wheel

    changed = False
    for name in names:
        if name in exact:
            continue
        version = newest_yanked_wheel(name, python, as_of)
        if version is None:
            continue
        need = next((n for n in active if canonical(n.name) == name), None)
        _pin_exactly(active, need, name, version)
        result.problems.append(
            f"{name}: its wheels up to {as_of.isoformat()} were yanked later; pinned "
            f"{name}=={version} exactly, which installs a yanked release (PEP 592)"
        )
        changed = True
    return changed


def _exact_pins(active: list[Need], framework: FrameworkPin | None) -> dict[str, str]:
    out = {canonical(framework.dist): framework.version} if framework else {}
    for n in active:
        m = rx.fullmatch(r"\s*===?\s*([\w.+!-]+)\s*", n.spec)
        if m:
            out[canonical(n.name)] = m.group(1)
    return out


def _from_source(
    result: Resolution,
    static: dict[tuple[str, str], dict[str, object]],
    fixes: list[dict[str, object]],
) -> None:
    """The pins that are source releases read statically: they build when installed, and the
    metadata read goes into uv.toml (uv then reads it instead of building to learn it)."""
    for name, version in sorted(result.pins.items()):
        entry = static.get((canonical(name), version))
        if entry is None:
            continue
        result.from_source.append(f"{name}=={version}")
        fixes.append(entry)
    result.metadata_fixes = fixes
    if result.from_source:
        result.problems.append(
            f"builds from source when installed (only source releases on the date): "
            f"{', '.join(result.from_source)}"
        )


def _newer_broken(pins: dict[str, str], as_of: date) -> list[str]:
    """The pinned packages with a newer release up to the date that uv could not read (looked
    up side by side)."""
    from concurrent.futures import ThreadPoolExecutor

    from forkvet.envgen.index import WORKERS

    items = sorted(pins.items())
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        flags = list(pool.map(lambda item: newer_release_is_broken(item[0], item[1], as_of), items))
    return [n for (n, _), bad in zip(items, flags, strict=True) if bad]


def _repair(
    broken: list[str],
    as_of: date,
    fixes: list[dict[str, object]],
    repaired: set[str],
    result: Resolution,
    tmp: tempfile.TemporaryDirectory[str],
) -> Path:
    """Repair these packages' legacy metadata (up to the date) for uv; the uv.toml to use."""
    for name in broken:
        fixes += repair(name, as_of)
        repaired.add(name)
    result.metadata_fixes = fixes
    result.problems.append(
        f"repaired the invalid legacy metadata of {', '.join(broken)} (e.g. pytz>=2011k)"
    )
    return write_uv_toml(Path(tmp.name) / "uv.toml", fixes)


_NO_VERSIONS = rx.compile(r"there (?:are|is) no versions? of ([A-Za-z0-9][\w.-]*)")


def _nearest_wheels(
    result: Resolution,
    names: list[str],
    python: str,
    as_of: date,
    extra: list[str],
    widened: set[str],
) -> bool:
    """Builds are off and these packages had only source releases by the date: allow each up
    to its first release with a wheel for this Python (disclosed: released after the date).
    False when none has such a release (then they are relaxed or left out)."""
    from forkvet.envgen.wheels import first_wheel_after

    changed = False
    for name in names:
        if name in widened:
            continue
        widened.add(name)
        found = first_wheel_after(name, python, as_of)
        if found is None:
            continue
        version, uploaded = found
        limit = (uploaded + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        extra += ["--exclude-newer-package", f"{name}={limit}"]
        result.after_date.append(name)
        from forkvet.envgen.uv import builds_allowed

        why = (
            "no release on the index by then"
            if builds_allowed()
            else "only source releases or none by then, and builds are off (--allow-build "
            "builds them)"
        )
        result.problems.append(
            f"{name}: {why}; allowed up to {name} {version}, its first release with a wheel "
            f"for Python {python} ({uploaded.date().isoformat()}), after {as_of.isoformat()}"
        )
        changed = True
    return changed


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


def _cap_build_tools(
    pins: dict[str, str],
    python: str,
    as_of: date,
    flags: list[str],
    uv_toml: str,
    result: Resolution,
) -> dict[str, str]:
    """With builds allowed, build tools were resolved uncapped (uv builds old setup.py
    releases with setuptools>=40.8). The environment's own build-tool pins are then the
    newest release up to the date within every pinned package's limits on them (TF 1.10:
    setuptools<=39.1.0), read from those releases' metadata. Without builds they were capped
    and resolved with the rest in the first place."""
    from forkvet.envgen.uv import builds_allowed

    tools = [t for t in BUILD_TOOLS if t in pins]
    if not tools or not builds_allowed():
        return pins
    limits = _limits_on(tools, {n: v for n, v in pins.items() if n not in tools}, python)
    out = dict(pins)
    for tool in tools:
        spec = ",".join(limits.get(tool, []))
        res = compile_(
            [f"{tool}{spec}"],
            python,
            as_of,
            ["--no-deps", *flags],
            uv_toml=uv_toml,
            uncap_build_tools=False,
        )
        if res.ok and tool in res.pins:
            out[tool] = res.pins[tool]
        else:
            result.problems.append(
                f"{tool}: no release up to {as_of.isoformat()} satisfies {spec}; kept {pins[tool]}"
            )
    return out


def _limits_on(tools: list[str], pins: dict[str, str], python: str) -> dict[str, list[str]]:
    """The specifiers the pinned releases' wheels put on the build tools, for this Python."""
    from concurrent.futures import ThreadPoolExecutor

    from packaging.requirements import InvalidRequirement

    from forkvet.envgen.index import WORKERS, IndexError_, release_metadata

    env = {"python_version": python, "python_full_version": f"{python}.0", "extra": ""}

    def one(item: tuple[str, str]) -> list[tuple[str, str]]:
        name, version = item
        try:
            meta = release_metadata(name, version, python)
        except (IndexError_, OSError):
            return []
        found = []
        for raw in (meta.get_all("Requires-Dist") or []) if meta else []:
            try:
                req = safeparse.requirement(raw)
            except InvalidRequirement:
                continue
            tool = canonical(req.name)
            if tool in tools and req.specifier and (not req.marker or req.marker.evaluate(env)):
                found.append((tool, str(req.specifier)))
        return found

    limits: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for found in pool.map(one, pins.items()):
            for tool, spec in found:
                limits.setdefault(tool, []).append(spec)
    return limits


def _flag_downgrades(result: Resolution, active: list[Need]) -> None:
    """A relaxed pin that ended below the authors' own floor is a silent downgrade (uv took
    a much older release): the result is not what the authors used, so not complete."""
    relaxed = {rx.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0]: r for r in result.relaxed}
    for name, original in relaxed.items():
        pinned = result.pins.get(name)
        floors = rx.findall(r"(?:==|>=|~=)\s*([\w.]+)", original)
        if not pinned or not floors:
            continue
        try:
            if safeparse.version(pinned) < safeparse.version(floors[0]):
                result.complete = False
                result.problems.append(
                    f"{name}: uv could only use {pinned}, below the authors' {original}"
                )
        except InvalidVersion:
            continue
    if getattr(result, "needs_build", []):
        result.complete = False
