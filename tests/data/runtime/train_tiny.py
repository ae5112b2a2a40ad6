"""A tiny real PyTorch training script used by the runtime tests (CPU)."""

import argparse
import math

import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--steps", type=int, default=120)
p.add_argument("--log-every", type=int, default=4)
p.add_argument("--nan-at", type=int, default=0)
p.add_argument("--style", default="colon")
args = p.parse_args()

torch.manual_seed(0)
x = torch.randn(512, 10)
w = torch.randn(10, 1)
y = x @ w + 0.1 * torch.randn(512, 1)
model = nn.Linear(10, 1)
opt = torch.optim.SGD(model.parameters(), lr=args.lr)
for step in range(1, args.steps + 1):
    idx = torch.randint(0, 512, (32,))
    loss = ((model(x[idx]) - y[idx]) ** 2).mean()
    if args.nan_at and step >= args.nan_at:
        loss = loss * math.nan
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % args.log_every == 0:
        if args.style == "dict":
            print({"epoch": 0, "step": step, "loss": round(loss.item(), 5)}, flush=True)
        else:
            print(f"step {step} loss: {loss.item():.5f}", flush=True)
