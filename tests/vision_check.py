"""Compare a vision op of Ember and torch: forward, gradients and gradients of gradients (float64).

The op is called as ``call(module, *tensors)`` with ``module`` = ember or torch, so both sides
run the same code. Second derivatives are the gradient of <first gradients, random vectors>,
taken through ``autograd.grad(create_graph=True)`` on both sides.
"""
from __future__ import annotations

import numpy as np
import torch

import ember

RTOL, ATOL = 1e-10, 1e-12


def _close(got, want, what: str) -> None:
    g = got.detach().numpy() if got is not None else None
    w = want.detach().numpy() if want is not None else None
    if w is None or g is None:
        assert g is None or not np.any(g), f"{what}: Ember {g} vs torch None"
        assert w is None or not np.any(w), f"{what}: torch {w} vs Ember None"
        return
    assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
    np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=what)


def check_against_torch(call, arrays: list, seed: int = 0, second: bool = True) -> None:
    """Forward, first and (optionally) second derivatives of ``call`` on float64 ``arrays``."""
    rng = np.random.default_rng(seed)
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_out = call(ember, *e_in)
    t_out = call(torch, *t_in)
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(e_out[1].numpy(), t_out[1].numpy(), err_msg="indices")
        e_out, t_out = e_out[0], t_out[0]
    _close(e_out, t_out, "forward")
    cot = rng.standard_normal(tuple(t_out.shape))
    e_g = ember.autograd.grad(e_out, e_in, ember.tensor(cot), create_graph=True, allow_unused=True)
    t_g = torch.autograd.grad(t_out, t_in, torch.tensor(cot), create_graph=True, allow_unused=True)
    for i, (g, w) in enumerate(zip(e_g, t_g)):
        _close(g, w, f"gradient of input {i}")
    if not second:
        return
    vecs = [rng.standard_normal(a.shape) for a in arrays]
    e_total = sum((g * ember.tensor(v)).sum() for g, v in zip(e_g, vecs) if g is not None and g.requires_grad)
    t_total = sum((g * torch.tensor(v)).sum() for g, v in zip(t_g, vecs) if g is not None and g.requires_grad)
    e_h = ember.autograd.grad(e_total, e_in, allow_unused=True) \
        if isinstance(e_total, ember.Tensor) else [None] * len(arrays)
    t_h = torch.autograd.grad(t_total, t_in, allow_unused=True) \
        if isinstance(t_total, torch.Tensor) else [None] * len(arrays)
    for i, (g, w) in enumerate(zip(e_h, t_h)):
        _close(g, w, f"second derivative of input {i}")
