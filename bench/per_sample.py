"""Benchmark: per-sample gradients of W3's MLP (784-256-128-10), batch 256, by ``vmap(grad)``.

``func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)`` with ``functional_call`` over
the model, the same code for ``lib = torch`` and ``lib = ember`` (target ratio <= 1.5).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp  # noqa: E402
from common import compare, configure_threads, quick  # noqa: E402

BATCH = 256


def make_run(lib, weights: list[np.ndarray], x_np: np.ndarray, y_np: np.ndarray, device: str = "cpu"):
    """One unit of work: the per-sample gradients of every parameter; returns them."""
    model = mlp.build(lib, weights, device)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = lib.from_numpy(x_np).to(device)
    y = lib.from_numpy(y_np).to(device)

    def loss(p, xi, yi):
        out = lib.func.functional_call(model, p, (xi.unsqueeze(0),))
        return lib.nn.functional.cross_entropy(out, yi.unsqueeze(0))

    per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))

    def run():
        grads = per_sample(params, x, y)
        return grads["4.weight"]

    return run


def main() -> tuple[float, float]:
    import torch

    import ember

    configure_threads()
    rng = np.random.default_rng(0)
    weights = mlp.initial_weights(rng)
    x = rng.standard_normal((BATCH, mlp.SIZES[0])).astype(np.float32)
    y = rng.integers(0, mlp.SIZES[-1], BATCH).astype(np.int64)
    e_run, t_run = make_run(ember, weights, x, y), make_run(torch, weights, x, y)
    assert np.allclose(e_run().numpy(), t_run().numpy(), rtol=1e-4, atol=1e-6), \
        "Ember and torch must give the same per-sample gradients"
    repeat, warmup = (1, 0) if quick() else (7, 2)
    return compare(f"per-sample grads MLP b{BATCH} vmap(grad)", e_run, t_run, repeat=repeat,
                   warmup=warmup, target=1.5)


if __name__ == "__main__":
    main()
