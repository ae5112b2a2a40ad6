"""The learning verdict on synthetic curves whose right answer is known."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

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


def _dcgan_log(d: list[float], g: list[float]) -> str:
    fmt = "[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f"
    return (
        "\n".join(
            fmt % (0, 5, i, 469, dv, gv, 0.5, 0.4, 0.3)
            for i, (dv, gv) in enumerate(zip(d, g, strict=True))
        )
        + "\n"
    )


@pytest.mark.parametrize(
    ("d", "g", "verdict", "why"),
    [
        # a healthy pair: the losses trade places around their equilibrium
        (
            [1.4, 0.9, 1.1, 0.7, 1.2, 0.8, 1.0, 0.9, 1.1, 0.8],
            [0.8, 2.1, 1.5, 2.8, 1.9, 2.5, 2.0, 2.4, 1.8, 2.6],
            "pass",
            "need not fall",
        ),
        # the discriminator wins outright
        (
            [1.2, 0.5, 0.1, 0.02, 0.005, 0.002, 0.001, 0.001, 0.0005, 0.0004],
            [0.9, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0],
            "fail",
            "went to zero",
        ),
        # the generator's loss runs away while the discriminator keeps a loss
        (
            [1.3, 1.0, 0.9, 0.8, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2],
            [0.7, 0.8, 1.0, 2.0, 5.0, 9.0, 14.0, 20.0, 25.0, 30.0],
            "fail",
            "diverging",
        ),
        (
            [1.3, 1.0, float("nan"), 0.8, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2],
            [0.7] * 10,
            "fail",
            "discriminator loss is nan",
        ),
        ([1.3, 1.0, 0.9], [0.7, 0.8, 1.0], "inconclusive", "pair(s)"),
    ],
)
def test_gan_verdict_on_a_dcgan_log(
    d: list[float], g: list[float], verdict: str, why: str, tmp_path: Path
) -> None:
    from forkvet.runtime.train_check import check

    log = tmp_path / "dcgan.log"
    log.write_text(_dcgan_log(d, g))
    result = check(log=log, out_dir=tmp_path / "out")
    assert result.verdict == verdict, result.reasons
    assert why in " ".join(result.reasons)
    assert result.series["discriminator"][:2] == [pytest.approx(d[0]), pytest.approx(d[1])]
    assert result.losses[0] == pytest.approx(g[0])
