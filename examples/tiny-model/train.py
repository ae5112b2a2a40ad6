"""Train a tiny classifier on synthetic data and print the loss (forkvet's demo model)."""

import argparse

import torch
from torch import nn


def make_data(n: int, dim: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, dim, generator=g) * 3
    y = torch.randint(0, classes, (n,), generator=g)
    x = centers[y] + torch.randn(n, dim, generator=g)
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="model.pt", help="where to save the weights")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    x, y = make_data(4096, 16, args.classes, args.seed)
    x, y = x.to(args.device), y.to(args.device)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, args.classes))
    model.to(args.device)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(x), (args.batch_size,), device=args.device)
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 5 == 0 or step == 1:
            print(f"step {step} loss: {loss.item():.4f}", flush=True)
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
