"""Comparing a training check with a baseline, on loss curves from real (tiny) PyTorch runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forkvet.errors import InputError
from forkvet.runtime.baseline import compare, curve_from_result, load_baseline

torch = pytest.importorskip("torch")


def train(
    seed: int, lr: float = 0.05, steps: int = 300, every: int = 1, noise_labels: float = 0.0
) -> dict[str, object]:
    """A real training run: an MLP on a fixed synthetic classification task; the result in
    train-check's JSON shape."""
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead
    g = torch.Generator().manual_seed(1234)  # the data is the same for every run
    x = torch.randn(512, 20, generator=g)
    w = torch.randn(20, 4, generator=g)
    y = (x @ w).argmax(dim=1)
    if noise_labels:
        flip = torch.rand(512, generator=g) < noise_labels
        y = torch.where(flip, torch.randint(0, 4, (512,), generator=g), y)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses, logged = [], []
    for step in range(1, steps + 1):
        idx = torch.randint(0, 512, (32,))
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % every == 0:
            losses.append(round(float(loss.detach()), 5))
            logged.append(step)
    return {
        "verdict": "pass",
        "losses": losses,
        "steps": logged,
        "steps_per_second": 50.0,
        "peak_gpu_memory_mib": 1000.0,
    }


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, object]]:
    return {
        "base": train(seed=0),
        "reseeded": train(seed=1),
        "sparse_log": train(seed=2, every=10),
        "hurt": train(seed=0, noise_labels=0.5),  # the "change that hurts": noisy labels
        "short": train(seed=3, steps=120),
    }


def test_the_same_run_is_never_a_regression(runs: dict[str, dict[str, object]]) -> None:
    base = curve_from_result(runs["base"])
    result = compare(base, base)
    assert not result.regression and result.final_loss_change == 0.0
    assert result.speed_change == 0.0


def test_another_seed_is_within_the_noise(runs: dict[str, dict[str, object]]) -> None:
    result = compare(curve_from_result(runs["reseeded"]), curve_from_result(runs["base"]))
    assert not result.regression, result.reasons


def test_a_change_that_hurts_is_flagged_with_the_reason(
    runs: dict[str, dict[str, object]],
) -> None:
    result = compare(curve_from_result(runs["hurt"]), curve_from_result(runs["base"]))
    assert result.regression and not result.slower_only
    assert result.final_loss_change is not None and result.final_loss_change > 0.1
    assert "worse than the baseline" in result.reasons[0]
    assert result.loss_at_matched_steps and result.matched_on == "steps"


def test_runs_logging_at_different_steps_and_lengths_are_matched(
    runs: dict[str, dict[str, object]],
) -> None:
    sparse = compare(curve_from_result(runs["sparse_log"]), curve_from_result(runs["base"]))
    assert not sparse.regression and sparse.matched_on == "steps"
    assert all(p["step"] % 10 == 0 for p in sparse.loss_at_matched_steps)
    # the shorter run is compared on the steps both have, not against the baseline's end
    short = compare(curve_from_result(runs["short"]), curve_from_result(runs["base"]))
    assert not short.regression, short.reasons
    assert max(p["step"] for p in short.loss_at_matched_steps) <= 120


def test_throughput_drop_beyond_the_tolerance(runs: dict[str, dict[str, object]]) -> None:
    slow = dict(runs["base"], steps_per_second=35.0, peak_gpu_memory_mib=1500.0)
    result = compare(curve_from_result(slow), curve_from_result(runs["base"]))
    assert result.regression and result.speed_change == -0.3
    assert result.slower_only  # the loss matches: reported as slower, not as regressed
    assert result.memory_change == 0.5
    assert not compare(
        curve_from_result(slow), curve_from_result(runs["base"]), speed_tolerance=0.5
    ).regression


def test_a_baseline_must_be_a_train_check_result(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps({"verdict": "pass"}))
    with pytest.raises(InputError, match="not a forkvet train-check result"):
        load_baseline(bad)
    bad.write_text("[" * 100_000)
    with pytest.raises(InputError, match="not JSON"):
        load_baseline(bad)
    with pytest.raises(InputError, match="no such file"):
        load_baseline(tmp_path / "missing.json")


def _log(path: Path, run: dict[str, object]) -> Path:
    # what a training script prints: the format train-check reads by default
    losses, steps = run["losses"], run["steps"]
    assert isinstance(losses, list) and isinstance(steps, list)
    path.write_text("".join(f"step {s} loss: {v}\n" for s, v in zip(steps, losses, strict=True)))
    return path


def test_train_check_cli_compares_with_a_baseline(
    runs: dict[str, dict[str, object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from forkvet.cli import main

    good = _log(tmp_path / "good.log", runs["base"])
    hurt = _log(tmp_path / "hurt.log", runs["hurt"])
    base = tmp_path / "base.json"
    common = ["--format", "json", "--out", str(tmp_path / "out")]
    assert (
        main(["train-check", str(tmp_path), "--log", str(good), "--output", str(base), *common])
        == 0
    )
    capsys.readouterr()

    assert (
        main(["train-check", str(tmp_path), "--log", str(good), "--baseline", str(base), *common])
        == 0
    )
    same = json.loads(capsys.readouterr().out)
    assert same["baseline"]["regression"] is False

    assert (
        main(["train-check", str(tmp_path), "--log", str(hurt), "--baseline", str(base), *common])
        == 0
    )  # reported, not failed: the default policy
    worse = json.loads(capsys.readouterr().out)
    assert worse["baseline"]["regression"] is True
    assert worse["baseline"]["final_loss_change"] > 0.1
    assert Path(worse["plot"]).stat().st_size > 0  # the plot overlays the baseline

    cfg = tmp_path / "policy.yml"
    cfg.write_text("train:\n  fail_on_regression: true\n")
    code = main(
        [
            "train-check",
            str(tmp_path),
            "--log",
            str(hurt),
            "--baseline",
            str(base),
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    text = capsys.readouterr().out
    assert code == 1 and text.splitlines()[0].endswith("REGRESSED vs the baseline")
    assert "worse than the baseline" in text.splitlines()[1]

    code = main(
        [
            "train-check",
            str(tmp_path),
            "--log",
            str(good),
            "--baseline",
            str(tmp_path / "nope.json"),
        ]
    )
    assert code == 2 and "no such file" in capsys.readouterr().err
