"""Loss curves: a PNG (matplotlib) and a Mermaid chart for GitHub job summaries."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forkvet.runtime.baseline import Curve

from forkvet.safe_write import open_log

MAX_PANELS = 12  # the training loss and up to 11 other series, two to a row
# What is drawn of a value: the logged numbers are the repository's (a `grad_norm -1e308` on
# every line, a loss from 1e-300 to 1e270), and matplotlib's axis arithmetic overflows near
# the ends of the float range (outside attack, round 16b: forkvet's plot raised, no result).
# Magnitudes are drawn clipped to [TINY, HUGE] (zero stays zero, the sign is kept), steps to
# MAX_STEP; the result's numbers are not changed, only the picture.
HUGE = 1e100
TINY = 1e-100
MAX_STEP = 1e15


def drawn(value: float) -> float:
    """A finite value as the plot draws it (non-finite ones are not drawn)."""
    if not math.isfinite(value) or value == 0:
        return value
    return math.copysign(min(max(abs(value), TINY), HUGE), value)


def _xy(xs: list[Any], values: list[float]) -> tuple[list[float], list[float]]:
    """The points a line draws: finite values, clipped (drawn); steps as bounded floats."""
    out_x, out_y = [], []
    for x, v in zip(xs, values, strict=False):
        try:
            fx = float(x)
        except (OverflowError, TypeError, ValueError):
            continue
        if math.isfinite(fx) and math.isfinite(v):
            out_x.append(max(-MAX_STEP, min(MAX_STEP, fx)))
            out_y.append(drawn(v))
    return out_x, out_y


_KIND_ORDER = ("train_loss", "val_loss", "metric", "lr", "grad_norm", "other")


def metric_panels(
    losses: list[float],
    series: dict[str, list[float]] | None,
    metrics: dict[str, dict[str, Any]] | None,
) -> list[str]:
    """The metrics that get an axis of their own after the training loss's: each one that
    axis does not already show, losses first, then validation, metrics, learning rate,
    gradient norm."""
    shown = [[v for v in vals if math.isfinite(v)] for vals in [losses, *(series or {}).values()]]
    ranked = sorted(
        (metrics or {}).items(),
        key=lambda kv: _KIND_ORDER.index(kv[1]["kind"]) if kv[1]["kind"] in _KIND_ORDER else 9,
    )
    out = []
    for name, metric in ranked:
        values = [v for _, v in metric["points"] if v is not None]
        if values and values not in shown:
            out.append(name)
    return out[: MAX_PANELS - 1]


def figure(
    losses: list[float],
    title: str,
    steps: list[int] | None = None,
    baseline: Curve | None = None,
    series: dict[str, list[float]] | None = None,
    metrics: dict[str, dict[str, Any]] | None = None,
) -> Any:
    """A matplotlib figure: the training loss (with the baseline, or a GAN's two losses) on
    the first axis, then every other series on an axis of its own, each with a legend and
    a logarithmic y-axis where its values span more than WIDE."""
    _matplotlib()
    import matplotlib.pyplot as plt

    names = metric_panels(losses, series, metrics)
    count = 1 + len(names)
    cols = 1 if count == 1 else 2
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 3.5 * rows), dpi=100, squeeze=False)
    flat = [ax for row in axes for ax in row]
    _loss_axis(flat[0], losses, steps, baseline, series)
    for ax, name in zip(flat[1:], names, strict=False):
        _metric_axis(ax, name, (metrics or {})[name])
    for ax in flat[count:]:
        fig.delaxes(ax)
    if count == 1:
        flat[0].set_title(title)
    else:
        flat[0].set_title("training loss")
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _matplotlib() -> Any:
    """matplotlib with its own defaults only. It reads `./matplotlibrc` from the current folder,
    which on a runner is the repository's checkout (the file may be committed, or written by
    the sandboxed command): its `figure.hooks` name a function to import and call, here,
    outside the sandbox, and a huge dpi takes gigabytes (outside attack, round 14b). Every
    setting is reset to matplotlib's own before a figure is made, the hooks and the backend
    (which a style reset leaves) by name."""
    from forkvet.extras import require

    matplotlib = require("matplotlib")
    matplotlib.rcdefaults()
    matplotlib.rcParams["figure.hooks"] = []
    matplotlib.use("Agg")  # no display on runners
    return matplotlib


def plot_png(
    losses: list[float],
    path: Path,
    title: str,
    steps: list[int] | None = None,
    baseline: Curve | None = None,
    series: dict[str, list[float]] | None = None,
    metrics: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """series: a GAN's losses by name (generator, discriminator), each drawn and labelled on
    the loss axis; metrics: forkvet.runtime.metrics.summaries, each on its own axis."""
    _matplotlib()
    import matplotlib.pyplot as plt

    try:
        fig = figure(losses, title, steps, baseline, series, metrics)
        buffer = io.BytesIO()  # drawn whole before the file is opened: no half-written PNG
        fig.savefig(buffer, format="png")
    finally:
        plt.close("all")
    with os.fdopen(open_log(path), "wb") as f:  # never through a link
        f.write(buffer.getvalue())
    return path


def _metric_axis(ax: Any, name: str, metric: dict[str, Any]) -> None:
    points = [(x, v) for x, v in metric["points"] if v is not None]
    xs, ys = _xy([x for x, _ in points], [v for _, v in points])
    ax.plot(xs, ys, lw=1.5, label=name[:40])
    # a best point only where better has a meaning (not a learning rate or a gradient norm)
    judged = metric["kind"] in ("train_loss", "val_loss", "metric")
    if judged and metric.get("best_step") is not None and metric.get("best") is not None:
        bx, by = _xy([metric["best_step"]], [metric["best"]])
        ax.plot(bx, by, "o", ms=4, label=f"best ({metric['goal']})")
    ax.legend(loc="best", fontsize=8)
    _scale(ax, ys)
    ax.set_title(f"{name[:40]} ({metric['kind']})", fontsize=9)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)


def _loss_axis(
    ax: Any,
    losses: list[float],
    steps: list[int] | None,
    baseline: Curve | None,
    series: dict[str, list[float]] | None,
) -> None:
    xs = steps if steps and len(steps) == len(losses) else list(range(1, len(losses) + 1))
    fx, fy = _xy(xs, losses)
    if baseline is not None:
        # the baseline in its own step units when both logged steps, else by logged point
        bxs = baseline.xs(by_steps=bool(steps) and baseline.steps is not None)
        px, py = _xy(list(bxs), list(baseline.losses))
        ax.plot(
            px,
            py,
            lw=1.2,
            ls="--",
            color="grey",
            label=f"baseline {baseline.label}"[:60],
        )
    named = {k: v for k, v in (series or {}).items() if v}
    drawn_named: list[float] = []
    if len(named) >= 2:
        for name, vals in named.items():
            sx = xs if len(vals) == len(xs) else list(range(1, len(vals) + 1))
            nx, ny = _xy(sx, vals)
            drawn_named += ny
            ax.plot(nx, ny, lw=1.5, label=name[:40])
    elif fy:
        ax.plot(fx, fy, lw=1.5, label="this run")
    if fy or named:
        ax.legend(loc="upper right", fontsize=8)
    _scale(ax, fy + drawn_named)
    bad = [x for x, v in zip(xs, losses, strict=True) if not math.isfinite(v)]
    for x in _xy(bad, [0.0] * len(bad))[0]:
        ax.axvline(x, color="red", ls="--", lw=1)
    ax.set_xlabel("step" if steps else "logged point")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)


WIDE = 1e3  # max/min beyond this: a logarithmic axis, or the early values flatten the rest


def axis_scale(values: list[float]) -> str:
    """linear; log when the values span more than WIDE (all positive); else symlog."""
    finite = [drawn(v) for v in values if math.isfinite(v)]
    positive = [abs(v) for v in finite if v != 0]
    if not positive or max(positive) / min(positive) < WIDE:
        return "linear"
    return "log" if all(v > 0 for v in finite) else "symlog"


def _scale(ax: Any, values: list[float]) -> None:
    scale = axis_scale(values)
    if scale == "log":
        ax.set_yscale("log")
    elif scale == "symlog":
        small = min(abs(drawn(v)) for v in values if math.isfinite(v) and v != 0)
        ax.set_yscale("symlog", linthresh=small)


def mermaid_chart(losses: list[float], title: str, max_points: int = 60) -> str:
    """A Mermaid xychart (GitHub renders it in job summaries and issues)."""
    finite = [drawn(v) for v in losses if math.isfinite(v)]
    if not finite:
        return ""
    stride = max(1, math.ceil(len(finite) / max_points))
    pts = finite[::stride]
    lo, hi = min(pts), max(pts)
    pad = (hi - lo) * 0.05 or 0.1
    values = ", ".join(f"{v:.4g}" for v in pts)
    return (
        f'```mermaid\nxychart-beta\n    title "{title}"\n'
        f'    x-axis "logged point (every {stride})" 1 --> {len(pts)}\n'
        f'    y-axis "loss" {lo - pad:.4g} --> {hi + pad:.4g}\n'
        f"    line [{values}]\n```\n"
    )
