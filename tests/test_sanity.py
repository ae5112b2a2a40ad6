"""forkvet.sanity on real PyTorch models."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from forkvet import sanity  # noqa: E402


def _data() -> tuple[object, object]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(16, 8, generator=g), torch.randint(0, 4, (16,), generator=g)


def test_a_working_model_overfits_one_batch() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    result = sanity.overfit_one_batch(model, _data(), torch.nn.CrossEntropyLoss(), steps=150)
    assert result and result.losses[-1] < result.losses[0] * 0.1


def test_shuffled_labels_every_step_cannot_be_overfit() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    x, _ = _data()

    def loss_fn(out: object, y: object) -> object:
        return torch.nn.functional.cross_entropy(out, torch.randint(0, 4, (16,)))

    result = sanity.overfit_one_batch(model, (x, None), loss_fn, steps=60)
    assert not result and "cannot overfit" in result.message


def test_frozen_parameters_are_named() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 4))

    class Detached(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, x: object) -> object:
            return self.m[1](self.m[0](x).detach())  # the first layer gets no gradient

    result = sanity.parameters_change(Detached(), _data(), torch.nn.CrossEntropyLoss())
    assert not result and result.details == ["m.0.weight", "m.0.bias"]
    ok = sanity.parameters_change(torch.nn.Linear(8, 4), _data(), torch.nn.CrossEntropyLoss())
    assert ok


def test_finite_and_initial_loss() -> None:
    model = torch.nn.Linear(4, 2)
    assert sanity.check_finite(model, torch.ones(3))
    with torch.no_grad():
        model.weight[0, 0] = math.nan
    assert sanity.check_finite(model).details == ["weight"]
    assert sanity.initial_loss(2.3, num_classes=10)
    assert not sanity.initial_loss(40.0, num_classes=10)
