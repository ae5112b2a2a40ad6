"""Which Python and which framework release: always something that installs, and the reason.

The framework comes first: the newest release on the code's date that satisfies the authors'
constraints and has wheels for the newest Python they allow. Then the whole stack is resolved
for that Python; when it does not resolve (torchvision had no cp311 wheel on that date), the
next older Python is tried, and the notes say which were tried and why. uv resolves nothing
below Python 3.6, so 3.5-era code steps *up* to 3.6. When no release the authors named has
wheels for any of those Pythons on the date, the nearest one that does is taken and disclosed:
first a newer release on the date, then the oldest matching release still on the index (the
index may have deleted or never had the old ones: PyTorch before 1.0), then the oldest
release at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from packaging.specifiers import InvalidSpecifier

from forkvet import rx, safeparse
from forkvet.envgen.device import tf_gpu_dist
from forkvet.envgen.index import IndexError_, project_files
from forkvet.envgen.names import NeedSet
from forkvet.envgen.resolve import FRAMEWORK_DISTS, FrameworkPin, Resolution
from forkvet.envgen.uv import BUILD_TOOLS, builds_allowed, compile_
from forkvet.report import Framework

UV_FLOOR = (3, 6)  # uv refuses to resolve for anything older
NEWEST = (3, 14)
MAX_FULL_RESOLVES = 3
# TensorFlow 1.x shipped its GPU build as a separate distribution.
_TF_GPU_BEFORE = (2, 1)


def _tuple(s: str) -> tuple[int, int]:
    a, b = s.split(".")[:2]
    return int(a), int(b)


def python_candidates(
    recommended: str | None, min_version: str | None, max_version: str | None
) -> list[str]:
    """Pythons to try, best first: from the recommendation down to the oldest the code
    supports, never below 3.6 (uv's floor); code meant for 3.5 or older steps up from 3.6."""
    top = _tuple(recommended) if recommended else (3, 12)
    low = _tuple(min_version) if min_version else (3, 6)
    high = _tuple(max_version) if max_version else NEWEST
    top = min(top, high) if top[0] == 3 else (3, 6)
    if top < UV_FLOOR:
        # 3.3/3.5-era code: the nearest Pythons uv supports, oldest first.
        return [f"3.{m}" for m in range(UV_FLOOR[1], 9)]
    low = max(low, UV_FLOOR) if low[0] == 3 else UV_FLOOR
    out = [f"3.{m}" for m in range(top[1], low[1] - 1, -1)]
    return out or [f"{top[0]}.{top[1]}"]


@dataclass
class Choice:
    pin: FrameworkPin | None
    note: str  # empty when the pin is exactly what the authors allow, on the date


def framework_dist(fw: Framework, needs: NeedSet, device: str) -> str:
    dist = FRAMEWORK_DISTS[fw.name]
    if dist == "tensorflow" and needs.get("tensorflow-gpu") is not None and device == "cuda":
        return "tensorflow-gpu"
    return dist


def for_device(
    pin: FrameworkPin, python: str, as_of: date, flags: list[str], device: str
) -> FrameworkPin:
    """TensorFlow before 2.1 runs on a GPU only as `tensorflow-gpu`; the CPU build is
    `tensorflow` (a declared `tensorflow-gpu` on a CPU machine gets the CPU build)."""
    if not pin.dist.startswith("tensorflow") or not tf_gpu_dist(pin.version):
        return pin
    want = "tensorflow-gpu" if device == "cuda" else "tensorflow"
    if pin.dist == want:
        return pin
    today = date.today()
    if _one(want, f"=={pin.version}", python, as_of, False, flags) or _one(
        want, f"=={pin.version}", python, today, False, flags
    ):
        return FrameworkPin(pin.name, want, pin.version, pin.spec)
    return pin


def framework_spec(fw: Framework, needs: NeedSet, dist: str) -> str:
    need = needs.get(dist) or (needs.get("tensorflow") if dist == "tensorflow-gpu" else None)
    parts = [
        p.strip()
        for s in (need.spec if need else "", fw.version_spec or "")
        for p in s.split(",")
        if p.strip()
    ]
    spec = ",".join(dict.fromkeys(parts))
    try:
        safeparse.specifiers(spec)
    except InvalidSpecifier:
        spec = need.spec if need and need.spec else ""
    return spec


def _floor(spec: str) -> str:
    """The lower bounds of spec: "==0.12.1" -> ">=0.12.1", ">=1.4,<1.5" -> ">=1.4"."""
    out = []
    for part in spec.split(","):
        m = rx.match(r"\s*(==|>=|>|~=)\s*([\w.]+)", part)
        if m:
            out.append((">" if m.group(1) == ">" else ">=") + m.group(2).rstrip(".*"))
    return ",".join(out)


def _one(dist: str, spec: str, python: str, as_of: date, lowest: bool, flags: list[str]) -> str:
    extra = ["--no-deps", "--only-binary", dist, *flags]
    if lowest:
        extra += ["--resolution", "lowest"]
    res = compile_([f"{dist}{spec}"], python, as_of, extra, may_build=False)
    return res.pins.get(dist, "") if res.ok else ""


def _on_index(dist: str, flags: list[str], python: str) -> bool:
    res = compile_([dist], python, date.today(), ["--no-deps", *flags])
    return not res.not_found


def _first_upload(dist: str) -> datetime | None:
    try:
        times = [f.upload_time for f in project_files(dist) if f.upload_time]
    except IndexError_:
        return None
    return min(times) if times else None


def pin_on_date(
    dist: str, spec: str, python: str, as_of: date, flags: list[str]
) -> FrameworkPin | None:
    version = _one(dist, spec, python, as_of, False, flags)
    if not version and not builds_allowed():
        # Frameworks that shipped only source releases (chainer, Theano): the release on the
        # date, whose requirements resolve.py reads without building it.
        from forkvet.envgen.sdist import source_pin

        try:
            version = source_pin(dist, spec, python, as_of)
        except IndexError_:
            version = ""
    return FrameworkPin(dist, dist, version, spec) if version else None


def fallback(
    fw: Framework, dist: str, spec: str, python: str, as_of: date, flags: list[str]
) -> Choice | None:
    """The nearest release that installs on this Python when none the authors allow was
    on the index by the date; always disclosed."""
    wanted = f"{dist}{spec}" if spec else dist
    floor = _floor(spec)
    if floor and floor != spec:
        version = _one(dist, floor, python, as_of, True, flags)
        if version:
            return Choice(
                FrameworkPin(fw.name, dist, version, floor),
                f"no {wanted} release with wheels for Python {python} was on the index by "
                f"{as_of.isoformat()}; pinned {dist}=={version}, the nearest newer one that was",
            )
    if spec.startswith("==") and "," not in spec:
        # The version the authors name, released after the code's date: still theirs.
        version = _one(dist, spec, python, date.today(), False, flags)
        if version:
            return Choice(
                FrameworkPin(fw.name, dist, version, spec),
                f"{dist}=={version}, the version the authors name, was released after the "
                f"code's date ({as_of.isoformat()}); pinned it",
            )
    if spec:
        # A README often describes a later version than the code's date (DiT: "PyTorch 2.0",
        # code from before its release): the newest release on the date beats one after it.
        version = _one(dist, "", python, as_of, False, flags)
        if version:
            return Choice(
                FrameworkPin(fw.name, dist, version, ""),
                f"no {wanted} release with wheels for Python {python} was on the index by "
                f"{as_of.isoformat()}; pinned the newest {dist} then, {version} (the stated "
                f"version may postdate the code)",
            )
    today = date.today()
    for s, what in ((spec, f"matching {spec}"), ("", "at all")):
        if not s and not spec:
            continue
        version = _one(dist, s, python, today, True, flags)
        if version:
            return Choice(
                FrameworkPin(fw.name, dist, version, s),
                f"no {wanted} release with wheels for Python {python} is on the index from "
                f"{as_of.isoformat()} or before (the index never had it, or deleted it); pinned "
                f"the oldest {dist} {what} that installs, {version}, released after the code's "
                f"date. A source with the old releases (--find-links or --extra-index-url, "
                f"e.g. the framework's own archive) lets forkvet pin the authors' version",
            )
    if not spec:
        version = _one(dist, "", python, today, True, flags)
        if version:
            return Choice(
                FrameworkPin(fw.name, dist, version, ""),
                f"no {dist} release with wheels for Python {python} was on the index by "
                f"{as_of.isoformat()}; pinned the oldest that installs, {version}",
            )
    return None


def _index_has(dist: str, spec: str) -> bool:
    """Whether the index has any release matching spec (at any date)."""
    try:
        allowed = safeparse.specifiers(spec)
        versions = {f.version for f in project_files(dist) if f.version}
    except (InvalidSpecifier, IndexError_):
        return True
    return any(allowed.contains(v, prereleases=True) for v in versions)


def _before_first_release(dist: str, as_of: date) -> bool:
    first = _first_upload(dist)
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    return bool(first and first > cutoff)


def why_none(dist: str, spec: str, pythons: list[str], as_of: date, flags: list[str]) -> str:
    """A reason that does not blame the date when the date is not the cause."""
    if pythons and not _on_index(dist, flags, pythons[0]):
        return f"{dist} is not on the package index"
    first = _first_upload(dist)
    cutoff = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    if first and first > cutoff:
        return (
            f"the first {dist} release was published on {first.date().isoformat()}, after "
            f"{as_of.isoformat()}: the date is before the framework existed on this index "
            f"(check --as-of)"
        )
    return (
        f"no {dist}{spec} release has wheels for Python {', '.join(pythons)} (the Pythons the "
        f"code and uv support) on this index, on {as_of.isoformat()} or since"
    )


def good(res: Resolution) -> bool:
    """Complete, and nothing the code needs left out (a build tool missing from a private
    index is no reason to try another Python)."""
    dropped = [d for d in res.dropped if d not in BUILD_TOOLS]
    return res.complete and not dropped and not getattr(res, "needs_build", [])


@dataclass
class _Trials:
    """The resolutions tried so far, one Python (and framework pin) at a time."""

    pythons: list[str]
    as_of: date
    device: str
    flags: list[str]
    resolve: Callable[[str, FrameworkPin | None, list[str]], Resolution]
    tried: list[str] = field(default_factory=list)
    results: list[Resolution] = field(default_factory=list)
    full: int = 0  # full resolutions run

    def attempt(
        self, python: str, pin: FrameworkPin | None, note: str, after: bool = False
    ) -> Resolution | None:
        """The result when it is complete on the date; None (and why, in tried) otherwise."""
        # A fallback release from after the date is exempt from the date cap (pinned exactly).
        extra = ["--exclude-newer-package", f"{pin.dist}=false"] if pin and after else []
        res = self.resolve(python, pin, extra)
        if note:
            res.problems.insert(0, note)
        self.results.append(res)
        if good(res) and not res.after_date:
            return res
        reason = (
            f"{', '.join(res.after_date)} only after the date"
            if good(res)
            else res.problems[-1]
            if res.problems
            else "incomplete"
        )
        self.tried.append(
            f"Python {python}: the rest of the stack did not resolve ({reason[:200]})"
        )
        return None


def choose(
    fw: Framework | None,
    needs: NeedSet,
    pythons: list[str],
    as_of: date,
    device: str,
    flags: list[str],
    resolve: Callable[[str, FrameworkPin | None, list[str]], Resolution],
) -> Resolution:
    """The first Python (best first) for which the framework pins on the date and the whole
    stack resolves; else the best partial result, with what was tried."""
    trials = _Trials(pythons, as_of, device, flags, resolve)
    dist = framework_dist(fw, needs, device) if fw and fw.name in FRAMEWORK_DISTS else ""
    spec = framework_spec(fw, needs, dist) if fw and dist else ""
    if fw and dist:
        _with_framework(trials, fw, dist, spec)
    else:
        for python in pythons[:MAX_FULL_RESOLVES]:
            if trials.attempt(python, None, ""):
                break
    return _best(trials)


def _with_framework(trials: _Trials, fw: Framework, dist: str, spec: str) -> None:
    """The framework's release on the date for each Python, then a fallback release."""
    pythons, as_of, flags = trials.pythons, trials.as_of, trials.flags
    missing: list[str] = []
    for python in pythons:
        pin = pin_on_date(dist, spec, python, as_of, flags)
        if pin is None:
            missing.append(python)
            continue
        pin.name = fw.name
        pin = for_device(pin, python, as_of, flags, trials.device)
        trials.full += 1
        if trials.attempt(python, pin, "") or trials.full >= MAX_FULL_RESOLVES:
            break
    if missing:
        trials.tried.insert(
            0,
            f"Python {', '.join(missing)}: no {dist}{spec} release with wheels "
            f"for it on {as_of.isoformat()}",
        )
    on_date = len(missing) < len(pythons)
    date_is_wrong = _before_first_release(dist, as_of) and _index_has(dist, spec)
    if not on_date and not date_is_wrong:
        _fallbacks(trials, fw, dist, spec)
    if not trials.results:
        res = trials.resolve(pythons[0], None, [])
        res.complete = False
        res.problems.insert(0, why_none(dist, spec, pythons, as_of, flags))
        trials.results.append(res)


def _fallbacks(trials: _Trials, fw: Framework, dist: str, spec: str) -> None:
    for python in trials.pythons[:2]:
        if trials.full >= MAX_FULL_RESOLVES + 1:
            break
        choice = fallback(fw, dist, spec, python, trials.as_of, trials.flags)
        if choice is None or choice.pin is None:
            continue
        trials.full += 1
        pin = for_device(choice.pin, python, trials.as_of, trials.flags, trials.device)
        if trials.attempt(python, pin, choice.note, after="after the code's date" in choice.note):
            break


def _best(trials: _Trials) -> Resolution:
    """Everything on the date beats a release after it; that beats a partial result."""
    results, tried = trials.results, trials.tried
    best = next((r for r in results if good(r) and not r.after_date), None)
    best = best or next((r for r in results if good(r)), None)
    if best is None:
        best = min(results, key=lambda r: (len(r.dropped), not r.complete, -len(r.pins)))
        best.complete = best.complete and not [d for d in best.dropped if d not in BUILD_TOOLS]
        if len(results) > 1 or len(tried) > 1:
            best.problems.insert(
                0,
                f"no Python gave a complete environment; kept Python {best.python}'s partial "
                f"result. Tried: " + "; ".join(tried),
            )
    elif tried:
        best.problems.insert(0, _chosen_note(best, tried))
    return best


def _chosen_note(best: Resolution, tried: list[str]) -> str:
    """Why this Python: the others tried and why they lost (its own attempt is not 'before
    it'; when it won with releases after the date, that is said instead)."""
    own = f"Python {best.python}:"
    others = [t for t in tried if not t.startswith(own)]
    note = f"Python {best.python} chosen"
    if best.after_date:
        note += f" ({', '.join(best.after_date)} only after the code's date)"
    return note + ("; tried before it: " + "; ".join(others) if others else "")
