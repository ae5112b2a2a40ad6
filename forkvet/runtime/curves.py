"""Warnings from the whole set of metrics (never a failure: the training loss decides):
validation loss turning up while the training loss still falls (overfitting), and a
validation metric that never improves."""

from __future__ import annotations

import math
from typing import Any

from forkvet.runtime.metrics import MIN_TREND_POINTS, OVERFIT_RISE, trend

MIN_VALIDATION_POINTS = 5
MIN_STALL_POINTS = 3
STILL_FALLING = 0.01  # the training loss's later part at least 1% below its start


def _finite(metric: dict[str, Any]) -> list[tuple[int, float]]:
    return [(x, v) for x, v in metric["points"] if v is not None and math.isfinite(v)]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _pick(metrics: dict[str, dict[str, Any]], kind: str, least: int) -> str | None:
    """The series of this kind with the most points (at least `least`)."""
    names = [n for n, m in metrics.items() if m["kind"] == kind and len(_finite(m)) >= least]
    return max(names, key=lambda n: len(_finite(metrics[n])), default=None)


def _turn(points: list[tuple[int, float]]) -> tuple[int, float] | None:
    """(index of the minimum, how far the end lies above it) when the curve went up after
    its minimum and stays there: at least two points after it, the last half of them
    OVERFIT_RISE above it on average, and rising from the minimum on (Mann-Kendall from
    four points on, so one noisy evaluation is no turn; else the later half above the
    earlier half)."""
    values = [v for _, v in points]
    low = min(range(len(values)), key=values.__getitem__)
    after = values[low + 1 :]
    if len(after) < 2 or values[low] == 0:
        return None
    half = max(1, len(after) // 2)
    end = _mean(after[-half:])
    rise = (end - values[low]) / abs(values[low])
    tail = values[low:]
    rising = trend(tail) == "rising" if len(tail) >= MIN_TREND_POINTS else end > _mean(after[:half])
    return (low, rise) if rise >= OVERFIT_RISE and rising else None


def _later_part(
    train: list[tuple[int, float]], turn_x: int, turn_fraction: float, same_axis: bool
) -> list[float]:
    """The training loss from the turn on: by step when both series log real steps, else
    by the same fraction of the run."""
    if same_axis:
        return [v for x, v in train if x >= turn_x]
    return [v for _, v in train[round(turn_fraction * (len(train) - 1)) :]]


def overfitting(metrics: dict[str, dict[str, Any]], stepped: set[str]) -> tuple[str, str] | None:
    """(the validation loss's name, the warning) when the validation loss turned up while
    the training loss still fell.
    `stepped`: the series whose x is a logged step (else a position in the series)."""
    val_name = _pick(metrics, "val_loss", MIN_VALIDATION_POINTS)
    train_name = _pick(metrics, "train_loss", 2)
    if val_name is None or train_name is None:
        return None
    val, train = _finite(metrics[val_name]), _finite(metrics[train_name])
    turned = _turn(val)
    if turned is None:
        return None
    low, _ = turned
    same_axis = val_name in stepped and train_name in stepped
    later = _later_part(train, val[low][0], low / (len(val) - 1), same_axis)
    if len(later) < 2:
        return None
    third = max(1, len(later) // 3)
    start, end = _mean(later[:third]), _mean(later[-third:])
    if not end < start - STILL_FALLING * abs(start):
        return None
    where = "step" if val_name in stepped else "evaluation"
    return val_name, (
        f"warning: overfitting: the validation loss {val_name} turned at {where} {val[low][0]} "
        f"({val[low][1]:.4g}) and rose to {val[-1][1]:.4g} by {where} {val[-1][0]} "
        f"({(val[-1][1] - val[low][1]) / abs(val[low][1]):+.0%}), while the training loss "
        f"{train_name} still fell "
        f"({start:.4g} → {end:.4g}): stop earlier, regularise or use more data"
    )


def never_improved(metrics: dict[str, dict[str, Any]], skip: set[str]) -> list[str]:
    """A validation metric (or loss) that never beat its first value."""
    from forkvet.runtime.metrics import is_validation

    out = []
    for name, metric in metrics.items():
        points = _finite(metric)
        if name in skip or metric["kind"] not in ("val_loss", "metric"):
            continue
        if not is_validation(name) or len(points) < MIN_STALL_POINTS:
            continue
        first = points[0][1]
        better = [v for _, v in points[1:] if (v < first if metric["goal"] == "min" else v > first)]
        if not better:
            out.append(
                f"warning: the validation metric {name} never improved on its first value "
                f"{first:.4g} in {len(points)} evaluations ({metric['goal']} is better)"
            )
    return out


def warnings(metrics: dict[str, dict[str, Any]], stepped: set[str]) -> list[str]:
    warned = overfitting(metrics, stepped)
    if warned is None:
        return never_improved(metrics, set())
    name, text = warned
    return [text, *never_improved(metrics, {name})]
