"""Benchmark: the full Hessian of f(x) = sum(tanh(A @ x)²), A a fixed 300×300 float64 matrix.

Ember's ``ember.func.hessian`` (``jacfwd(jacrev(f))``, as torch's: the 300 basis tangents pushed
as one batch through the gradient's computation) against ``torch.func.hessian`` in the same
process (target ratio <= 1.5). ``autograd.functional.hessian(vectorize=True)`` is timed too.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare, quick, configure_threads  # noqa: E402

N = 300


def make_f(lib, a_np: np.ndarray, device: str = "cpu"):
    """f(x) = sum(tanh(A @ x)²), written once for both libraries."""
    a = lib.from_numpy(a_np).to(device)

    def f(x):
        return (lib.tanh(a @ x) ** 2).sum()

    return f


def main() -> tuple[float, float]:
    import torch

    import ember

    configure_threads()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((N, N)) / np.sqrt(N)
    x = rng.standard_normal(N)
    e_f, t_f = make_f(ember, a), make_f(torch, a)
    e_x, t_x = ember.from_numpy(x), torch.from_numpy(x)
    e_h = ember.func.hessian(e_f)(e_x).numpy()
    t_h = torch.func.hessian(t_f)(t_x).numpy()
    assert np.allclose(e_h, t_h, rtol=1e-10, atol=1e-12), "Ember and torch must give the same Hessian"
    repeat, warmup = (1, 0) if quick() else (7, 2)
    result = compare(f"hessian {N}x{N} ember.func.hessian", lambda: ember.func.hessian(e_f)(e_x),
                     lambda: torch.func.hessian(t_f)(t_x), repeat=repeat, warmup=warmup, target=1.5)
    compare("hessian autograd.functional vectorized",
            lambda: ember.autograd.functional.hessian(e_f, e_x, vectorize=True),
            lambda: torch.autograd.functional.hessian(t_f, t_x, vectorize=True),
            repeat=repeat, warmup=warmup)
    return result


if __name__ == "__main__":
    main()
