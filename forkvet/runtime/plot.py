"""Loss curves: a PNG (matplotlib) and a Mermaid chart for GitHub job summaries."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forkvet.runtime.baseline import Curve

from forkvet.safe_write import open_log


def plot_png(
    losses: list[float],
    path: Path,
    title: str,
    steps: list[int] | None = None,
    baseline: Curve | None = None,
    series: dict[str, list[float]] | None = None,
) -> Path:
    """series: a GAN's losses by name (generator, discriminator), each drawn and labelled."""
    from forkvet.extras import require

    matplotlib = require("matplotlib")
    matplotlib.use("Agg")  # no display on runners
    import matplotlib.pyplot as plt

    xs = steps if steps and len(steps) == len(losses) else list(range(1, len(losses) + 1))
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
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
    if baseline is not None or len(named) >= 2:
        ax.legend(loc="upper right", fontsize=8)
    _scale(ax, [v for _, v in finite] + [v for vals in named.values() for v in vals])
    for x, v in zip(xs, losses, strict=True):
        if not math.isfinite(v):
            ax.axvline(x, color="red", ls="--", lw=1)
    ax.set_xlabel("step" if steps else "logged point")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with os.fdopen(open_log(path), "wb") as f:  # never through a link
        fig.savefig(f, format="png")
    plt.close(fig)
    return path


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
