"""Benchmark: one training step of a 784-256-128-10 ReLU MLP, batch 128, cross-entropy, SGD.

The same PyTorch-style code runs with ``lib = torch`` and ``lib = ember`` in one process, from
the same initial weights and data (target ratio <= 1.2).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check_and_compare, configure_threads, training_run  # noqa: E402

BATCH = 128
SIZES = (784, 256, 128, 10)
STEPS = 20


def build(lib, weights: list[np.ndarray], device: str = "cpu"):
    """The MLP in ``lib`` with the given weights, on ``device``."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(), nn.Linear(SIZES[1], SIZES[2]),
                          nn.ReLU(), nn.Linear(SIZES[2], SIZES[3]))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.from_numpy(w))
    return model.to(device)


def make_run(lib, weights: list[np.ndarray], x_np: np.ndarray, y_np: np.ndarray, device: str = "cpu",
             compiled: bool = False):
    """One unit of work: STEPS SGD steps on the same batch (the model ``lib.compile``d when
    ``compiled``); returns the last loss."""
    nn = lib.nn
    model = build(lib, weights, device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = lib.from_numpy(x_np).to(device)
    y = lib.from_numpy(y_np).to(device)
    return training_run(lib.compile(model) if compiled else model, opt, loss_fn, x, y, STEPS)


def initial_weights(rng) -> list[np.ndarray]:
    """torch's default Linear initialisation, drawn with NumPy so both libraries start equal."""
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return out


def main() -> tuple[float, float]:
    import torch

    import ember

    configure_threads()
    rng = np.random.default_rng(0)
    weights = initial_weights(rng)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH).astype(np.int64)
    return check_and_compare(f"mlp 784-256-128-10 b{BATCH} SGD (per step)",
                             make_run(ember, weights, x, y), make_run(torch, weights, x, y),
                             target=1.2, per=STEPS, tol=1e-3)


if __name__ == "__main__":
    main()
