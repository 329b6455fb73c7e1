"""Benchmark: the lecture's linear regression, y_hat = w*x + b, on N = 1 000 000 float32 points.

100 full-batch gradient-descent steps on the mean squared error, written once as PyTorch code
and run with ``lib = torch`` and ``lib = ember`` in the same process (target ratio <= 1.2).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare, quick, configure_threads  # noqa: E402

N = 1_000_000
STEPS = 100
LR = 0.5


def make_run(lib, x_np: np.ndarray, y_np: np.ndarray, device: str = "cpu"):
    """One unit of work: fresh parameters, then STEPS full-batch GD steps; returns the final loss."""
    x = lib.from_numpy(x_np).to(device)
    y = lib.from_numpy(y_np).to(device)

    def run() -> float:
        w = lib.zeros(1, requires_grad=True, device=device)
        b = lib.zeros(1, requires_grad=True, device=device)
        for _ in range(STEPS):
            loss = ((w * x + b - y) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w -= LR * w.grad
                b -= LR * b.grad
                w.grad = None
                b.grad = None
        return loss.item()

    return run


def main() -> tuple[float, float]:
    import torch

    import ember

    configure_threads()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, N).astype(np.float32)
    y = (3 * x + 2 + 0.1 * rng.standard_normal(N)).astype(np.float32)
    e_run, t_run = make_run(ember, x, y), make_run(torch, x, y)
    assert abs(e_run() - t_run()) < 1e-4, "Ember and torch must reach the same loss"
    repeat, warmup = (1, 0) if quick() else (7, 2)
    return compare(f"linreg N=1e6, {STEPS} GD steps (per step)", e_run, t_run, repeat=repeat,
                   warmup=warmup, target=1.2, per=STEPS)


if __name__ == "__main__":
    main()
