"""Is the model learning? A robust verdict on a loss series.

Order matters (each step fixes a known failure of naive rules):
1. every value finite — a NaN or Inf is `fail`, checked first (Mann-Kendall silently drops NaN);
2. enough points — fewer is `inconclusive` (Mann-Kendall cannot reach p < 0.05 with 4);
3. a decreasing trend by the Mann-Kendall test — or, for a run that converged in its first
   few points and then sits on a noisy plateau (where Mann-Kendall over the whole series
   loses significance), a first window that lies more than 3 standard deviations of the
   plateau above it; AND
4. a minimum relative drop between the first and the last window (a significant 2% drop is
   not learning).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

MIN_POINTS = 8
MIN_DROP = 0.10
ALPHA = 0.05


# Every verdict train-check gives; a result that says anything else was not written by it.
VERDICTS = ("pass", "fail", "inconclusive")


@dataclass
class Verdict:
    verdict: str  # one of VERDICTS
    reasons: list[str] = field(default_factory=list)
    drop: float | None = None
    trend: str | None = None
    p_value: float | None = None


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def change_text(first: float, last: float, drop: float) -> str:
    """ "12.0% drop", "rose 192.0%", or for a blow-up "rose 1e+29×" (never a 27-digit
    percentage)."""
    if drop >= 0:
        return f"{drop:.1%} drop"
    if first > 0 and last / first >= 10:
        return f"rose {last / first:.3g}×"
    return f"rose {-drop:.1%}"


def decide(
    losses: list[float],
    min_points: int = MIN_POINTS,
    min_drop: float = MIN_DROP,
    alpha: float = ALPHA,
    num_classes: int | None = None,
) -> Verdict:
    unusable = _unusable(losses, min_points)
    if unusable is not None:
        return unusable
    from forkvet.extras import require

    mk = require("pymannkendall")
    from forkvet.runtime.metrics import MAX_POINTS, thin

    # Mann-Kendall's memory grows with the square of the points: it sees at most MAX_POINTS.
    losses = thin(losses, MAX_POINTS)

    window = max(2, len(losses) // 5)
    first, last = _mean(losses[:window]), _mean(losses[-window:])
    drop = (first - last) / abs(first) if first != 0 else 0.0
    result = mk.original_test(losses, alpha=alpha)
    trend, p = str(result.trend), float(result.p)
    reasons: list[str] = [
        f"loss {first:.4g} → {last:.4g} (mean of first/last {window} points): "
        + change_text(first, last, drop),
        f"Mann-Kendall trend: {trend} (p={p:.3g})",
        *initial_loss_warning(losses[0], num_classes),
    ]
    separated = first - last > 3 * statistics.stdev(losses[-window:])
    verdict, lead, note = weigh(drop, trend, separated, min_drop)
    reasons = [*([lead] if lead else []), *reasons, *([note] if note else [])]
    return Verdict(verdict, reasons, drop, trend, p)


def _unusable(losses: list[float], min_points: int) -> Verdict | None:
    """Steps 1 and 2: a value that is not finite fails; too few values are inconclusive."""
    bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
    if bad:
        return Verdict(
            "fail",
            [
                f"loss is {losses[bad[0]]} at point {bad[0] + 1} of "
                f"{len(losses)}: training diverged or has a numerical bug"
            ],
        )
    if len(losses) < min_points:
        return Verdict(
            "inconclusive",
            [
                f"only {len(losses)} loss value(s) (need {min_points}): "
                "run more steps or log more often"
            ],
        )
    return None


def initial_loss_warning(initial: float, num_classes: int | None) -> list[str]:
    """A classifier starts near ln(C); far from it, the labels or the loss are suspect."""
    if not num_classes or num_classes <= 1:
        return []
    expected = math.log(num_classes)
    if expected / 3 <= initial <= expected * 3:
        return []
    return [
        f"warning: initial loss {initial:.4g} is far from ln({num_classes})"
        f"={expected:.3g}; check the labels, the output layer or the loss"
    ]


def weigh(
    drop: float, trend: str, separated: bool, min_drop: float
) -> tuple[str, str | None, str | None]:
    """Steps 3 and 4: (verdict, the reason to put first, a note to put last)."""
    if drop >= min_drop and (trend == "decreasing" or (separated and trend != "increasing")):
        early = "converged early: the first points lie far above the final plateau"
        return "pass", None, None if trend == "decreasing" else early
    if trend == "increasing" or drop < -min_drop:
        return "fail", "loss is rising: learning rate too high, or a bug", None
    if drop >= min_drop:
        return "inconclusive", "loss fell but too noisily to be sure: run more steps", None
    if trend == "decreasing":
        return "fail", f"loss fell by less than {min_drop:.0%}: not learning enough", None
    return "fail", "loss is flat: the model is not learning", None


# GAN thresholds: a discriminator whose loss sits near zero has won (the generator gets no
# useful gradient); a generator loss many times its start and still high is diverging.
GAN_COLLAPSED_D = 0.01
GAN_DIVERGED_RATIO = 10.0
GAN_DIVERGED_FLOOR = 5.0


def decide_gan(
    generator: list[float], discriminator: list[float], min_points: int = MIN_POINTS
) -> Verdict:
    """A verdict on a generator/discriminator pair. Adversarial losses need not fall: the
    two players trade places. So, in this order:
    1. both series finite — a NaN or Inf in either is `fail`;
    2. enough points — fewer is `inconclusive`;
    3. the discriminator has not collapsed: its last-window mean is not below 0.01 (it wins
       outright and the generator learns nothing) — `fail`;
    4. the generator has not diverged: its last-window mean is not both 10x its first-window
       mean and above 5 — `fail`;
    5. both losses move (a constant pair means nothing trains) — else `fail`;
    otherwise `pass`."""
    for name, series in (("generator", generator), ("discriminator", discriminator)):
        bad = [i for i, v in enumerate(series) if not math.isfinite(v)]
        if bad:
            return Verdict(
                "fail",
                [
                    f"{name} loss is {series[bad[0]]} at point {bad[0] + 1} of {len(series)}: "
                    "training diverged or has a numerical bug"
                ],
            )
    n = min(len(generator), len(discriminator))
    if n < min_points:
        return Verdict(
            "inconclusive",
            [f"only {n} generator/discriminator loss pair(s) (need {min_points})"],
        )
    window = max(2, n // 5)
    g0, g1 = _mean(generator[:window]), _mean(generator[-window:])
    d0, d1 = _mean(discriminator[:window]), _mean(discriminator[-window:])
    reasons = [
        f"GAN: generator loss {g0:.4g} → {g1:.4g}, discriminator loss {d0:.4g} → {d1:.4g} "
        f"(mean of first/last {window} points); adversarial losses need not fall"
    ]
    if d1 < GAN_COLLAPSED_D:
        return Verdict(
            "fail",
            [
                "the discriminator's loss went to zero: it wins outright and the generator gets "
                "no useful gradient (mode collapse or a too-strong discriminator)",
                *reasons,
            ],
        )
    if g1 > GAN_DIVERGED_RATIO * max(g0, 1e-12) and g1 > GAN_DIVERGED_FLOOR:
        return Verdict("fail", ["the generator's loss is diverging", *reasons])
    if statistics.pstdev(generator) == 0 and statistics.pstdev(discriminator) == 0:
        return Verdict("fail", ["neither loss changes: nothing is training", *reasons])
    return Verdict("pass", reasons)
