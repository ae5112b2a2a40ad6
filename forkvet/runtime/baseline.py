"""Compare a training check with an earlier one (the fork's previous commit, the default
branch): is the loss clearly worse at matched steps, is training slower?

The rule, in words (the README says the same):
- Curves are matched on their step numbers when both runs logged them, else on the order of
  logged points; only the overlap counts, so runs that log at different steps or stop at
  different points still compare.
- The last part of the overlap (its final 40%, at least 3 points) is compared: the mean loss of
  this run against the baseline interpolated at this run's steps.
- The noise comes from the curves themselves: the spread of each curve around its own running
  median in that window. The loss regressed when it is worse by more than twice the pooled
  noise and by more than 2% — so the same run against itself never regresses, and a curve that
  is merely noisy does not either.
- Throughput regressed when steps per second fell by more than `speed_tolerance` (20%).
  GPU memory is reported, not judged.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from forkvet.errors import InputError

MAX_BASELINE_BYTES = 8 * 1024 * 1024
MAX_POINTS = 100_000
MIN_RELATIVE = 0.02
NOISE_FACTOR = 2.0
TAIL_SHARE = 0.4


@dataclass
class Curve:
    losses: list[float]
    steps: list[float] | None = None
    steps_per_second: float | None = None
    peak_gpu_memory_mib: float | None = None
    label: str = ""

    def xs(self, by_steps: bool) -> list[float]:
        if by_steps and self.steps is not None:
            return self.steps
        return [float(i + 1) for i in range(len(self.losses))]


@dataclass
class Comparison:
    regression: bool
    reasons: list[str] = field(default_factory=list)
    final_loss_change: float | None = None  # relative: +0.10 = 10% higher (worse) loss
    loss_at_matched_steps: list[dict[str, float]] = field(default_factory=list)
    speed_change: float | None = None  # relative: -0.25 = 25% fewer steps per second
    memory_change: float | None = None  # relative peak GPU memory change
    matched_on: str = "steps"  # steps | logged points | none
    noise: float | None = None
    baseline: str = ""
    # The regression is speed alone (the loss matches or is better): a busy machine does this
    # too, so it is reported as "slower", not as a regressed training.
    slower_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float (a hostile result file)
        return None
    return number if math.isfinite(number) else None


def curve_from_result(data: Any, label: str = "") -> Curve:
    """A curve from train-check's JSON (validated: it may come from an artifact)."""
    if not isinstance(data, dict) or not isinstance(data.get("losses"), list):
        raise InputError(f"{label or 'baseline'}: not a forkvet train-check result (no losses)")
    raw = data["losses"][:MAX_POINTS]
    losses = [v if (v := _num(x)) is not None else math.nan for x in raw]
    steps = data.get("steps")
    step_list: list[float] | None = None
    if isinstance(steps, list) and len(steps) == len(raw):
        parsed = [_num(s) for s in steps[:MAX_POINTS]]
        if all(p is not None for p in parsed):
            step_list = [float(p) for p in parsed if p is not None]
    return Curve(
        losses,
        step_list,
        _num(data.get("steps_per_second")),
        _num(data.get("peak_gpu_memory_mib")),
        label or str(data.get("commit") or ""),
    )


def load_baseline(path: Path, repo: Path | None = None) -> Curve:
    """An earlier result; a path inside the repository `repo` is reached without following any
    link in it, and the file itself is never a link (forkvet.userfile)."""
    from forkvet.userfile import read_regular

    if not os.path.lexists(path):
        raise InputError(f"--baseline {path}: no such file")
    raw = read_regular(str(path), MAX_BASELINE_BYTES, "--baseline", repo, follow_last=False)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"--baseline {path}: not JSON") from exc
    return curve_from_result(data, label=str(path))


def _interp(xs: list[float], ys: list[float], x: float) -> float:
    """Linear interpolation on sorted xs (x inside their range)."""
    lo, hi = 0, len(xs) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    if xs[hi] == xs[lo]:
        return ys[lo]
    t = (x - xs[lo]) / (xs[hi] - xs[lo])
    return ys[lo] + t * (ys[hi] - ys[lo])


def _noise(values: list[float]) -> float:
    """Spread around a running median (window 5): the curve's own step-to-step noise,
    without its trend."""
    if len(values) < 3:
        return 0.0
    resid = []
    for i, v in enumerate(values):
        window = values[max(0, i - 2) : i + 3]
        resid.append(v - statistics.median(window))
    return statistics.pstdev(resid)


def _finite(curve: Curve, by_steps: bool) -> tuple[list[float], list[float]]:
    pairs = sorted(
        (x, y) for x, y in zip(curve.xs(by_steps), curve.losses, strict=True) if math.isfinite(y)
    )
    return [p[0] for p in pairs], [p[1] for p in pairs]


def compare(current: Curve, baseline: Curve, speed_tolerance: float = 0.2) -> Comparison:
    by_steps = current.steps is not None and baseline.steps is not None
    result = Comparison(regression=False, baseline=baseline.label)
    result.matched_on = "steps" if by_steps else "logged points"
    cx, cy = _finite(current, by_steps)
    bx, by = _finite(baseline, by_steps)
    if len(cx) >= 2 and len(bx) >= 2:
        _compare_losses(result, (cx, cy), (bx, by))
    else:
        result.matched_on = "none"
        result.reasons.append("too few finite loss values to compare with the baseline")
    _compare_speed(result, current, baseline, speed_tolerance)
    loss_worse = any(r.startswith("the loss is worse") for r in result.reasons)
    result.slower_only = result.regression and not loss_worse
    if current.peak_gpu_memory_mib and baseline.peak_gpu_memory_mib:
        result.memory_change = round(
            current.peak_gpu_memory_mib / baseline.peak_gpu_memory_mib - 1, 4
        )
    return result


def _compare_losses(
    result: Comparison,
    current: tuple[list[float], list[float]],
    baseline: tuple[list[float], list[float]],
) -> None:
    """The last part of the steps both runs logged: this run's mean loss against the
    baseline's, interpolated at the same steps."""
    (cx, cy), (bx, by) = current, baseline
    lo, hi = max(cx[0], bx[0]), min(cx[-1], bx[-1])
    overlap = [(x, y) for x, y in zip(cx, cy, strict=True) if lo <= x <= hi]
    if len(overlap) < 3 or hi <= lo:
        result.matched_on = "none"
        result.reasons.append(
            "the runs share too few steps to compare their losses "
            f"(this run {cx[0]:g}–{cx[-1]:g}, baseline {bx[0]:g}–{bx[-1]:g})"
        )
        return
    start = overlap[0][0] + (1 - TAIL_SHARE) * (overlap[-1][0] - overlap[0][0])
    tail = [(x, y) for x, y in overlap if x >= start]
    if len(tail) < 3:
        tail = overlap[-3:]
    base_at = [_interp(bx, by, x) for x, _ in tail]
    mine = [y for _, y in tail]
    result.loss_at_matched_steps = [
        {"step": x, "loss": y, "baseline": round(b, 6)}
        for (x, y), b in zip(tail[-20:], base_at[-20:], strict=True)
    ]
    base_tail = [y for x, y in zip(bx, by, strict=True) if start <= x <= hi]
    noise = math.hypot(_noise(mine), _noise(base_tail or base_at))
    result.noise = round(noise, 6)
    _judge_loss(result, statistics.fmean(mine), statistics.fmean(base_at), noise)


def _judge_loss(result: Comparison, mean_mine: float, mean_base: float, noise: float) -> None:
    """Worse only beyond the noise of both runs (and a minimum share of the loss)."""
    diff = mean_mine - mean_base
    scale = abs(mean_base) or 1.0
    result.final_loss_change = round(diff / scale, 4)
    threshold = max(NOISE_FACTOR * noise, MIN_RELATIVE * scale)
    if diff > threshold:
        result.regression = True
        result.reasons.append(
            f"the loss is worse than the baseline: {mean_mine:.4g} vs {mean_base:.4g} "
            f"at matched {result.matched_on} ({diff / scale:+.1%}; the noise is "
            f"±{noise:.2g})"
        )
    elif diff < -threshold:
        result.reasons.append(
            f"the loss is better than the baseline: {mean_mine:.4g} vs {mean_base:.4g}"
        )
    else:
        result.reasons.append("the loss matches the baseline within its noise")


def _compare_speed(
    result: Comparison, current: Curve, baseline: Curve, speed_tolerance: float
) -> None:
    if not (current.steps_per_second and baseline.steps_per_second):
        return
    change = current.steps_per_second / baseline.steps_per_second - 1
    result.speed_change = round(change, 4)
    if change < -speed_tolerance:
        result.regression = True
        result.reasons.append(
            f"training is slower: {current.steps_per_second:g} vs "
            f"{baseline.steps_per_second:g} steps/s ({change:+.0%}, tolerance "
            f"{speed_tolerance:.0%})"
        )
