"""The training sanity check: run a few steps (or read a log), extract the loss, decide."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from forkvet import rx
from forkvet.runtime import bounded
from forkvet.runtime import losses as L
from forkvet.runtime import metrics as M
from forkvet.runtime.baseline import Curve, compare, curve_from_result
from forkvet.runtime.curves import warnings as curve_warnings
from forkvet.runtime.decide import MIN_DROP, MIN_POINTS, decide, decide_gan
from forkvet.runtime.explain import explain
from forkvet.runtime.gpu import idle_warning
from forkvet.runtime.plot import mermaid_chart, plot_png
from forkvet.runtime.process import run, scratch_folder
from forkvet.safe_write import OutputDir


@dataclass
class TrainResult:
    verdict: str
    reasons: list[str]
    losses: list[float | None]  # JSON has no NaN: non-finite values are null
    steps: list[int] | None
    steps_per_second: float | None
    plot: str | None
    command: str | None = None
    log: str | None = None
    source: str | None = None
    duration: float | None = None
    exit_code: int | None = None
    stopped_early: bool = False
    timed_out: bool = False
    gpu: str | None = None
    peak_gpu_memory_mib: float | None = None
    nonfinite: list[str] = field(default_factory=list)
    chart: str = ""
    environment: dict[str, Any] | None = None
    command_source: str | None = None
    # Named series besides `losses` (GAN logs: "generator", "discriminator"; null = NaN/Inf).
    series: dict[str, list[float | None]] = field(default_factory=dict)
    isolation: str | None = None  # bubblewrap | none (forkvet.runtime.sandbox)
    limits: str | None = None  # the bounds on processes and memory that held (runtime.limits)
    # Set with --baseline: this run against an earlier one (forkvet.runtime.baseline).
    baseline: dict[str, Any] | None = None
    # Every named scalar series found (forkvet.runtime.metrics.summary), by name.
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    gpu_utilization_mean: float | None = None  # percent, over the samples taken
    gpu_utilization_samples: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The result as written: every string bounded in encoded bytes (runtime.bounded)."""
        return bounded.strings(asdict(self))  # type: ignore[no-any-return]


def _json_safe(values: list[float]) -> tuple[list[float | None], list[str]]:
    out: list[float | None] = []
    bad: list[str] = []
    for i, v in enumerate(values):
        if math.isfinite(v):
            out.append(v)
        else:
            out.append(None)
            bad.append(f"{i}:{v}")
    return out, bad


def _rate(points: list[L.LossPoint], times: list[float]) -> float | None:
    if len(points) < 2 or len(times) != len(points) or times[-1] <= times[0]:
        return None
    first, last = points[0].step, points[-1].step
    span = (
        (last - first)
        if first is not None and last is not None and last > first
        else (len(points) - 1)
    )
    return round(span / (times[-1] - times[0]), 3)


@dataclass
class _Collected:
    """What the run (or the log) gave: loss points, their arrival times, facts about the run
    for the result, and reasons the run itself gives (stopped, timed out, failed)."""

    points: list[L.LossPoint] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    run_reasons: list[str] = field(default_factory=list)
    metrics: M.Recorder = field(default_factory=M.Recorder)
    unparsed: int = 0  # output lines whose parsing failed: skipped, counted in a notice
    gpu_utilization: tuple[float | None, int] = (None, 0)  # mean percent, samples

    @property
    def failed(self) -> bool:
        return "the training command failed" in self.run_reasons


def _loss_listener(
    patterns: list[rx.Pattern[str]], max_steps: int, got: _Collected
) -> Callable[[str], bool]:
    """on_line for process.run: collect loss points and every named metric; True (stop)
    after max_steps loss values or at the first NaN/Inf, since nothing after it can rescue
    the run."""

    def on_line(line: str) -> bool:
        try:
            got.metrics.add_line(line)
            point = L.loss_from_line(line, patterns)
        except Exception:  # by construction: one line (a 5,000-digit step) never ends the read
            got.unparsed += 1
            return False
        if not point:
            return False
        got.points.append(point)
        got.times.append(time.monotonic())
        values = [point.value, *(point.series or {}).values()]
        return (max_steps > 0 and len(got.points) >= max_steps) or not all(
            math.isfinite(v) for v in values
        )

    return on_line


def _run_command(
    command: str,
    cwd: Path,
    timeout: float,
    max_steps: int,
    patterns: list[rx.Pattern[str]],
    out_dir: Path,
    env: dict[str, str] | None,
    own: set[str] | None,
    pass_env: list[str] | None,
) -> _Collected:
    got = _Collected()
    on_line = _loss_listener(patterns, max_steps, got)
    started = time.time()
    with scratch_folder() as scratch:
        # the command writes into `scratch` where it sees the output folder (process.run)
        log, passed = out_dir / "train.log", pass_env or ()
        ran = run(command, cwd, timeout, log, env, on_line, pass_env=passed, scratch=scratch)
        # the metrics files the run wrote (CSV/JSONL loggers, TensorBoard), into what it saw
        # as the output folder or in its tree
        found = M.from_folders([scratch, out_dir, cwd], started)
    got.metrics.merge(found)
    if found.unread:
        got.run_reasons.append(
            f"{found.unread} row(s) of the metrics files the run wrote could not be read "
            "(not a JSON object, a malformed CSV row or a row over the size limit)"
        )
    got.gpu_utilization = (ran.gpu_utilization_mean, ran.gpu_utilization_samples)
    got.extra = {
        "command": command,
        "log": ran.log,
        "duration": round(ran.duration, 2),
        "exit_code": ran.returncode,
        "stopped_early": ran.stopped_early,
        "timed_out": ran.timed_out,
        "gpu": ran.gpu_name,
        "isolation": ran.isolation,
        "limits": ran.limits,
        "peak_gpu_memory_mib": ran.gpu_peak_mib,
    }
    if ran.stopped_early:
        got.run_reasons.append(f"stopped after {len(got.points)} loss values (max {max_steps})")
    elif ran.timed_out:
        got.run_reasons.append(f"stopped at the {timeout:g} s time limit")
    elif ran.returncode != 0:
        got.run_reasons += [
            "the training command failed",
            *explain("\n".join(ran.tail), ran.returncode, False, timeout, own or set()),
        ]
    if got.unparsed:
        got.run_reasons.append(
            f"notice: skipped {got.unparsed} line(s) of the output that could not be parsed"
        )
    return got


def _read_log(log: Path, pattern: str | None, repo: Path | None = None) -> _Collected:
    """A log, metrics file or TensorBoard events: the loss, and every other series in it. A
    log inside the repository `repo` is reached without following any link in it."""
    points, notices = L.read(log, pattern, repo)
    return _Collected(
        points, extra={"source": str(log)}, run_reasons=notices, metrics=M.from_file(log, repo)
    )


def _bounded(got: _Collected) -> None:
    """At most M.MAX_POINTS loss points (a log may hold hundreds of thousands, a run with
    --max-steps 0 too): thinned evenly, the last kept, and the first that is not finite
    (the verdict's first rule) kept too. Times are thinned alongside."""
    n = len(got.points)
    if n <= M.MAX_POINTS:
        return
    bad = next((i for i, p in enumerate(got.points) if not _finite_point(p)), None)
    keep = set(M.thin(range(n), M.MAX_POINTS - (bad is not None)))
    keep |= {bad} if bad is not None else set()
    kept = sorted(keep)
    got.points = [got.points[i] for i in kept]
    if len(got.times) == n:
        got.times = [got.times[i] for i in kept]
    got.run_reasons.append(
        f"notice: {n:,} loss values thinned to {len(kept):,} evenly spaced ones (the last kept)"
    )


def _finite_point(point: L.LossPoint) -> bool:
    return all(math.isfinite(v) for v in [point.value, *(point.series or {}).values()])


def _main_points(points: list[L.LossPoint]) -> list[L.LossPoint]:
    """A GAN log: the generator is the main series, judged with its pair."""
    gan = [p for p in points if p.series]
    return gan if gan and len(gan) * 2 >= len(points) else points


def _named_series(points: list[L.LossPoint]) -> dict[str, list[float]]:
    series: dict[str, list[float]] = {}
    for p in points:
        for name, value in (p.series or {}).items():
            series.setdefault(name, []).append(value)
    return series


def _step_axis(points: list[L.LossPoint]) -> list[int] | None:
    """The logged steps, when every point has one and they increase (steps that restart,
    per-epoch batch counters, are no x-axis)."""
    steps = [p.step for p in points if p.step is not None]
    increasing = all(a < b for a, b in itertools.pairwise(steps))
    return steps if points and len(steps) == len(points) and increasing else None


def _verdict(
    values: list[float],
    series: dict[str, list[float]],
    failed: bool,
    min_points: int,
    min_drop: float,
    num_classes: int | None,
) -> tuple[str, list[str]]:
    if not values and failed:
        # The failure is the reason (explained above), not the loss pattern.
        return "fail", ["it failed before printing any loss value"]
    if not values:
        return "inconclusive", [
            "no loss values found in the output: set train.pattern (a regex with one group)"
        ]
    if "generator" in series and "discriminator" in series:
        v = decide_gan(series["generator"], series["discriminator"], min_points)
    else:
        v = decide(values, min_points=min_points, min_drop=min_drop, num_classes=num_classes)
    return ("fail" if failed else v.verdict), v.reasons


def check(
    command: str | None = None,
    log: Path | None = None,
    cwd: Path = Path("."),
    timeout: float = 900,
    max_steps: int = 50,
    pattern: str | None = None,
    num_classes: int | None = None,
    out_dir: Path = Path("forkvet-out"),
    min_points: int = MIN_POINTS,
    min_drop: float = MIN_DROP,
    env: dict[str, str] | None = None,
    own: set[str] | None = None,
    pass_env: list[str] | None = None,
    baseline: Curve | None = None,
    speed_tolerance: float = 0.2,
) -> TrainResult:
    OutputDir(out_dir, repo=cwd).close()
    patterns = L.compile_pattern(pattern)
    got = _Collected()
    if command:
        got = _run_command(command, cwd, timeout, max_steps, patterns, out_dir, env, own, pass_env)
    elif log is not None:
        got = _read_log(log, pattern, cwd)
    _bounded(got)
    points = _main_points(got.points)
    values, series, step_list = [p.value for p in points], _named_series(points), _step_axis(points)
    verdict, reasons = _verdict(values, series, got.failed, min_points, min_drop, num_classes)
    metrics = M.summaries(got.metrics)
    reasons += _warnings(got, metrics)
    plot = None
    if points:
        plot, notice = _plot(values, out_dir, verdict, step_list, baseline, series, metrics)
        reasons += [notice] if notice else []
    safe, bad = _json_safe(values)
    result = TrainResult(
        verdict=verdict,
        reasons=got.run_reasons + reasons,
        losses=safe,
        steps=step_list,
        steps_per_second=_rate(points, got.times) if got.times else None,
        plot=plot,
        nonfinite=bad,
        chart=mermaid_chart(values, f"training loss ({verdict})"),
        series={name: _json_safe(vals)[0] for name, vals in series.items()},
        metrics=metrics,
        gpu_utilization_mean=got.gpu_utilization[0],
        gpu_utilization_samples=got.gpu_utilization[1],
        **got.extra,
    )
    if baseline is not None:
        mine = curve_from_result(result.to_dict(), label="this run")
        result.baseline = compare(mine, baseline, speed_tolerance).to_dict()
    return result


def _warnings(got: _Collected, metrics: dict[str, dict[str, Any]]) -> list[str]:
    """What the other curves and the GPU say: warnings beside the verdict, never a failure."""
    stepped = {name for name, series in got.metrics.series.items() if series.stepped()}
    idle = idle_warning(*got.gpu_utilization)
    return curve_warnings(metrics, stepped) + ([idle] if idle else [])


def _plot(
    values: list[float],
    out_dir: Path,
    verdict: str,
    steps: list[int] | None,
    baseline: Curve | None,
    series: dict[str, list[float]],
    metrics: dict[str, dict[str, Any]],
) -> tuple[str | None, str | None]:
    """(the plot's path, or None and a notice saying why there is none). The values drawn are
    the repository's: whatever drawing them raises is a notice in the result, never the end
    of the check (outside attack, round 16b: matplotlib raised on logged extremes). A refused
    output file (a link in --out) or a missing extra is still an input error."""
    from forkvet.errors import InputError

    try:
        path = plot_png(
            values,
            out_dir / "loss.png",
            f"training loss: {verdict}",
            steps,
            baseline,
            series=series if len(series) >= 2 else None,
            metrics=metrics,
        )
    except InputError:
        raise
    except Exception as exc:  # by construction: the plot never ends the check
        return None, f"notice: the loss plot could not be drawn ({type(exc).__name__})"
    return str(path), None
