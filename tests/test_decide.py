"""The learning verdict on synthetic curves whose right answer is known."""

from __future__ import annotations

import math
import random

from forkvet.runtime.decide import decide


def noisy(values: list[float], sigma: float, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [v + rng.gauss(0, sigma) for v in values]


def test_clean_exponential_decay_passes() -> None:
    curve = [2.0 * math.exp(-i / 15) + 0.1 for i in range(60)]
    v = decide(noisy(curve, 0.02))
    assert v.verdict == "pass" and v.trend == "decreasing" and v.drop and v.drop > 0.5


def test_flat_with_noise_fails() -> None:
    v = decide(noisy([1.0] * 60, 0.05))
    assert v.verdict == "fail" and "not learning" in v.reasons[0]


def test_significant_but_tiny_drop_is_not_learning() -> None:
    curve = [1.0 - 0.0004 * i for i in range(60)]  # a 2.4% drop, perfectly monotone
    v = decide(curve)
    assert v.trend == "decreasing" and v.verdict == "fail"
    assert "less than 10%" in v.reasons[0]


def test_slow_decay_with_heavy_noise_is_inconclusive() -> None:
    curve = [1.0 - 0.15 * i / 11 for i in range(12)]
    v = decide(noisy(curve, 0.12, seed=3))
    assert v.verdict == "inconclusive"


def test_too_few_points_is_inconclusive() -> None:
    v = decide([3.0, 2.0, 1.0, 0.5])
    assert v.verdict == "inconclusive" and "only 4" in v.reasons[0]


def test_nan_at_the_end_fails_first() -> None:
    v = decide([2.0 - 0.02 * i for i in range(40)] + [math.nan])
    assert v.verdict == "fail" and "nan" in v.reasons[0]
    assert decide([1.0, math.inf]).verdict == "fail"  # before the point count


def test_rising_loss_fails() -> None:
    v = decide([0.5 * 1.1**i for i in range(30)])
    assert v.verdict == "fail" and "rising" in v.reasons[0]


def test_initial_loss_against_ln_c() -> None:
    good = decide([math.log(10) * math.exp(-i / 10) for i in range(30)], num_classes=10)
    assert not any(r.startswith("warning") for r in good.reasons)
    bad = decide([50.0 * math.exp(-i / 10) for i in range(30)], num_classes=10)
    assert any("ln(10)" in r for r in bad.reasons)
