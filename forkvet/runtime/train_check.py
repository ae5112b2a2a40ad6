"""The training sanity check: run a few steps (or read a log), extract the loss, decide."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from forkvet.runtime import losses as L
from forkvet.runtime.baseline import Curve, compare, curve_from_result
from forkvet.runtime.decide import MIN_DROP, MIN_POINTS, decide, decide_gan
from forkvet.runtime.explain import explain
from forkvet.runtime.plot import mermaid_chart, plot_png
from forkvet.runtime.process import run
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
    # Set with --baseline: this run against an earlier one (forkvet.runtime.baseline).
    baseline: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    points: list[L.LossPoint] = []
    times: list[float] = []
    result_extra: dict[str, Any] = {}
    run_reasons: list[str] = []
    if command:

        def on_line(line: str) -> bool:
            point = L.loss_from_line(line, patterns)
            if point:
                points.append(point)
                times.append(time.monotonic())
                # Stop early on NaN too: nothing after it can rescue the run.
                values = [point.value, *(point.series or {}).values()]
                return (max_steps > 0 and len(points) >= max_steps) or not all(
                    math.isfinite(v) for v in values
                )
            return False

        ran = run(
            command, cwd, timeout, out_dir / "train.log", env, on_line, pass_env=pass_env or ()
        )
        result_extra = {
            "command": command,
            "log": ran.log,
            "duration": round(ran.duration, 2),
            "exit_code": ran.returncode,
            "stopped_early": ran.stopped_early,
            "timed_out": ran.timed_out,
            "gpu": ran.gpu_name,
            "isolation": ran.isolation,
            "peak_gpu_memory_mib": ran.gpu_peak_mib,
        }
        if ran.stopped_early:
            run_reasons.append(f"stopped after {len(points)} loss values (max {max_steps})")
        elif ran.timed_out:
            run_reasons.append(f"stopped at the {timeout:g} s time limit")
        elif ran.returncode != 0:
            run_reasons += [
                "the training command failed",
                *explain("\n".join(ran.tail), ran.returncode, False, timeout, own or set()),
            ]
    elif log is not None:
        points = L.from_file(log, pattern)
        result_extra = {"source": str(log)}
    gan = [p for p in points if p.series]
    if gan and len(gan) * 2 >= len(points):
        points = gan  # a GAN log: the generator is the main series, judged with its pair
    values = [p.value for p in points]
    series: dict[str, list[float]] = {}
    for p in points:
        for name, value in (p.series or {}).items():
            series.setdefault(name, []).append(value)
    steps = [p.step for p in points if p.step is not None]
    # Steps that restart (per-epoch batch counters) are no x-axis.
    increasing = all(a < b for a, b in itertools.pairwise(steps))
    step_list = steps if points and len(steps) == len(points) and increasing else None
    if not points and "the training command failed" in run_reasons:
        # The failure is the reason (explained above), not the loss pattern.
        verdict, reasons = "fail", ["it failed before printing any loss value"]
    elif not points:
        verdict, reasons = (
            "inconclusive",
            ["no loss values found in the output: set train.pattern (a regex with one group)"],
        )
    else:
        if "generator" in series and "discriminator" in series:
            v = decide_gan(series["generator"], series["discriminator"], min_points)
        else:
            v = decide(values, min_points=min_points, min_drop=min_drop, num_classes=num_classes)
        verdict, reasons = v.verdict, v.reasons
        if "the training command failed" in run_reasons:
            verdict = "fail"
    safe, bad = _json_safe(values)
    plot = None
    if points:
        plot = str(
            plot_png(
                values,
                out_dir / "loss.png",
                f"training loss: {verdict}",
                step_list,
                baseline,
                series=series if len(series) >= 2 else None,
            )
        )
    result = TrainResult(
        verdict=verdict,
        reasons=run_reasons + reasons,
        losses=safe,
        steps=step_list,
        steps_per_second=_rate(points, times) if times else None,
        plot=plot,
        nonfinite=bad,
        chart=mermaid_chart(values, f"training loss ({verdict})"),
        series={name: _json_safe(vals)[0] for name, vals in series.items()},
        **result_extra,
    )
    if baseline is not None:
        mine = curve_from_result(result.to_dict(), label="this run")
        result.baseline = compare(mine, baseline, speed_tolerance).to_dict()
    return result
