"""Loss curves: a PNG (matplotlib) and a Mermaid chart for GitHub job summaries."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forkvet.runtime.baseline import Curve

from forkvet.safe_write import open_log

MAX_PANELS = 12  # the training loss and up to 11 other series, two to a row
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
    fig = figure(losses, title, steps, baseline, series, metrics)  # sets matplotlib up
    import matplotlib.pyplot as plt

    with os.fdopen(open_log(path), "wb") as f:  # never through a link
        fig.savefig(f, format="png")
    plt.close(fig)
    return path


def _metric_axis(ax: Any, name: str, metric: dict[str, Any]) -> None:
    points = [(x, v) for x, v in metric["points"] if v is not None]
    ax.plot([x for x, _ in points], [v for _, v in points], lw=1.5, label=name[:40])
    # a best point only where better has a meaning (not a learning rate or a gradient norm)
    judged = metric["kind"] in ("train_loss", "val_loss", "metric")
    if judged and metric.get("best_step") is not None and metric.get("best") is not None:
        ax.plot(
            [metric["best_step"]], [metric["best"]], "o", ms=4, label=f"best ({metric['goal']})"
        )
    ax.legend(loc="best", fontsize=8)
    _scale(ax, [v for _, v in points])
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
    finite = [(x, v) for x, v in zip(xs, losses, strict=True) if math.isfinite(v)]
    if baseline is not None:
        # the baseline in its own step units when both logged steps, else by logged point
        bxs = baseline.xs(by_steps=bool(steps) and baseline.steps is not None)
        pts = [(x, v) for x, v in zip(bxs, baseline.losses, strict=True) if math.isfinite(v)]
        ax.plot(
            [x for x, _ in pts],
            [v for _, v in pts],
            lw=1.2,
            ls="--",
            color="grey",
            label=f"baseline {baseline.label}"[:60],
        )
    named = {k: v for k, v in (series or {}).items() if v}
    if len(named) >= 2:
        for name, vals in named.items():
            sx = xs if len(vals) == len(xs) else list(range(1, len(vals) + 1))
            pts = [(x, v) for x, v in zip(sx, vals, strict=True) if math.isfinite(v)]
            ax.plot([x for x, _ in pts], [v for _, v in pts], lw=1.5, label=name[:40])
    elif finite:
        ax.plot([x for x, _ in finite], [v for _, v in finite], lw=1.5, label="this run")
    if finite or named:
        ax.legend(loc="upper right", fontsize=8)
    _scale(ax, [v for _, v in finite] + [v for vals in named.values() for v in vals])
    for x, v in zip(xs, losses, strict=True):
        if not math.isfinite(v):
            ax.axvline(x, color="red", ls="--", lw=1)
    ax.set_xlabel("step" if steps else "logged point")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)


WIDE = 1e3  # max/min beyond this: a logarithmic axis, or the early values flatten the rest


def axis_scale(values: list[float]) -> str:
    """linear; log when the values span more than WIDE (all positive); else symlog."""
    finite = [v for v in values if math.isfinite(v)]
    positive = [abs(v) for v in finite if v != 0]
    if not positive or max(positive) / min(positive) < WIDE:
        return "linear"
    return "log" if all(v > 0 for v in finite) else "symlog"


def _scale(ax: Any, values: list[float]) -> None:
    scale = axis_scale(values)
    if scale == "log":
        ax.set_yscale("log")
    elif scale == "symlog":
        small = min(abs(v) for v in values if math.isfinite(v) and v != 0)
        ax.set_yscale("symlog", linthresh=small)


def mermaid_chart(losses: list[float], title: str, max_points: int = 60) -> str:
    """A Mermaid xychart (GitHub renders it in job summaries and issues)."""
    finite = [v for v in losses if math.isfinite(v)]
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
