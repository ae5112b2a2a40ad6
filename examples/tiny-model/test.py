"""Evaluate the tiny classifier: accuracy of saved weights on fresh synthetic data."""

import argparse

import torch
from torch import nn
from train import make_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", default="model.pt")
    parser.add_argument("--classes", type=int, default=4)
    args = parser.parse_args()
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, args.classes))
    model.load_state_dict(torch.load(args.weights, weights_only=True))
    x, y = make_data(1024, 16, args.classes, seed=0)
    acc = (model(x).argmax(1) == y).float().mean().item()
    print(f"accuracy: {acc:.3f}")


if __name__ == "__main__":
    main()
