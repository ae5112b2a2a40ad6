"""Sanity checks for use inside notebooks and tests (PyTorch).

    from forkvet import sanity
    sanity.overfit_one_batch(model, (x, y), loss_fn)       # can it memorise one batch?
    sanity.parameters_change(model, (x, y), loss_fn)       # does every parameter get updated?
    sanity.check_finite(model)                             # no NaN/Inf in weights
    sanity.initial_loss(loss_fn(model(x), y).item(), num_classes=10)

Each returns a SanityResult (truthy when it passed) with a message saying what to fix.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SanityResult:
    ok: bool
    message: str
    # Kept for plotting, left out of the repr (a notebook prints the result: one line).
    losses: list[float] = field(default_factory=list, repr=False)
    details: list[str] = field(default_factory=list, repr=False)

    def __bool__(self) -> bool:
        return self.ok


def _step(model: Any, batch: Sequence[Any], loss_fn: Callable[..., Any], optimizer: Any) -> float:
    inputs, targets = batch[0], batch[1]
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return float(loss.item())


def overfit_one_batch(
    model: Any,
    batch: Sequence[Any],
    loss_fn: Callable[..., Any],
    steps: int = 100,
    lr: float = 1e-2,
    optimizer: Any = None,
    target_ratio: float = 0.1,
) -> SanityResult:
    """Train on one batch: a working model and loss drive the loss to a small fraction."""
    import torch

    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = [_step(model, batch, loss_fn, opt) for _ in range(steps)]
    if not all(math.isfinite(v) for v in losses):
        return SanityResult(
            False,
            "loss became NaN/Inf while overfitting one batch: lower the "
            "learning rate or look for log(0)/division by zero",
            losses,
        )
    ratio = losses[-1] / losses[0] if losses[0] else 0.0
    if ratio <= target_ratio:
        return SanityResult(
            True, f"overfits one batch: loss {losses[0]:.4g} → {losses[-1]:.4g}", losses
        )
    if ratio <= LEARNS_RATIO:
        # Gradients reach the model and the loss halves: it learns. A small model (a linear
        # one on non-linear data) may not be able to memorise a batch at all.
        return SanityResult(
            True,
            f"learns one batch: loss {losses[0]:.4g} → {losses[-1]:.4g} in {steps} steps, "
            f"though not to {target_ratio:.0%} of its start (a small model may not memorise "
            f"it; more steps tell)",
            losses,
        )
    tail = losses[-max(2, steps // 10) :]
    falling = tail[0] > 0 and (tail[0] - tail[-1]) / tail[0] > 0.01
    return SanityResult(
        False,
        f"cannot overfit one batch in {steps} steps (loss {losses[0]:.4g}"
        f" → {losses[-1]:.4g}"
        + (
            ", still falling): give it more steps or a higher learning rate; if it stays "
            if falling
            else "): "
        )
        + "check the labels, the loss, a frozen or detached part of the model, or the "
        "learning rate",
        losses,
    )


LEARNS_RATIO = 0.5  # the loss at most halves: learning, if not memorising


def parameters_change(
    model: Any,
    batch: Sequence[Any],
    loss_fn: Callable[..., Any],
    optimizer: Any = None,
    lr: float = 1e-2,
) -> SanityResult:
    """After one step every trainable parameter must change (else it gets no gradient)."""
    import torch

    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    opt = optimizer or torch.optim.SGD(model.parameters(), lr=lr)
    _step(model, batch, loss_fn, opt)
    frozen = [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and torch.equal(before[n], p.detach())
    ]
    if frozen:
        return SanityResult(
            False,
            f"{len(frozen)} trainable parameter(s) did not change after a "
            f"step (no gradient reaches them): {', '.join(frozen[:5])}",
            details=frozen,
        )
    return SanityResult(True, f"all {len(before)} trainable parameter tensors changed")


def check_finite(*objects: Any) -> SanityResult:
    """No NaN or Inf in tensors or in a model's parameters and buffers."""
    import torch

    bad: list[str] = []
    for i, obj in enumerate(objects):
        if isinstance(obj, torch.nn.Module):
            named = list(obj.named_parameters()) + list(obj.named_buffers())
        else:
            named = [(f"tensor {i}", obj)]
        for name, t in named:
            if torch.is_tensor(t) and t.is_floating_point() and not torch.isfinite(t).all():
                bad.append(name)
    if bad:
        return SanityResult(False, f"NaN/Inf in {', '.join(bad[:5])}", details=bad)
    return SanityResult(True, "all values finite")


def initial_loss(loss: float, num_classes: int, tolerance: float = 3.0) -> SanityResult:
    """A fresh classifier's cross-entropy should be near ln(C)."""
    expected = math.log(num_classes)
    if expected / tolerance <= loss <= expected * tolerance:
        return SanityResult(True, f"initial loss {loss:.4g} ≈ ln({num_classes}) = {expected:.4g}")
    return SanityResult(
        False,
        f"initial loss {loss:.4g} is far from ln({num_classes}) = "
        f"{expected:.4g}: check the output layer's initialisation, the "
        f"label encoding, or whether the loss expects logits",
    )


def deepcopy_model(model: Any) -> Any:
    """A copy to run the destructive checks on, leaving the caller's model untouched."""
    return copy.deepcopy(model)
