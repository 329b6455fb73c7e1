"""Benchmark: one SGD step of a small CNN on a batch of 64 1x28x28 images (float32).

conv 1->16 3x3 pad 1, ReLU, maxpool 2, conv 16->32 3x3 pad 1, ReLU, maxpool 2,
linear 32*7*7->10, cross-entropy, SGD. The model is written once as PyTorch code and run with
``lib = torch`` and ``lib = ember`` in the same process, from the same initial weights
(target ratio <= 1.5).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check_and_compare, configure_threads, training_run  # noqa: E402

BATCH = 64
STEPS = 10


def build(lib):
    """The CNN, written as torch code against ``lib``."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def make_run(lib, weights: list[np.ndarray], x_np: np.ndarray, y_np: np.ndarray, device: str = "cpu",
             compiled: bool = False):
    """One unit of work: STEPS SGD steps of the CNN (weights copied in once; the model
    ``lib.compile``d when ``compiled``); returns the last loss."""
    model = build(lib)
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.from_numpy(w.copy()))
    model.to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x = lib.from_numpy(x_np).to(device)
    y = lib.from_numpy(y_np).to(device)
    loss_fn = lib.nn.functional.cross_entropy
    return training_run(lib.compile(model) if compiled else model, opt, loss_fn, x, y, STEPS)


def main() -> tuple[float, float]:
    import torch

    import ember

    configure_threads()
    torch.manual_seed(0)
    weights = [p.detach().numpy().copy() for p in build(torch).parameters()]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    return check_and_compare(f"cnn batch {BATCH} 1x28x28, SGD step", make_run(ember, weights, x, y),
                             make_run(torch, weights, x, y), target=1.5, per=STEPS, tol=1e-4, warmup=1)


if __name__ == "__main__":
    main()
