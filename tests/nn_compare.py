"""Helpers for the nn tests: run an Ember module or function and its torch twin on the same
inputs and weights, and compare values, first derivatives and second derivatives."""
from __future__ import annotations

import numpy as np
import torch

import ember

TOL = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-6)}


def to_torch(t: ember.Tensor, requires_grad: bool = False) -> torch.Tensor:
    out = torch.from_numpy(np.array(t.detach().numpy(), copy=True))
    return out.requires_grad_(requires_grad)


def to_ember(t: torch.Tensor, requires_grad: bool = False) -> ember.Tensor:
    return ember.tensor(t.detach().numpy(), requires_grad=requires_grad)


def copy_weights(e_module, t_module) -> None:
    """Ember state_dict -> NumPy -> torch ``load_state_dict`` (strict: the keys must agree)."""
    t_module.load_state_dict({k: to_torch(v) for k, v in e_module.state_dict().items()})


def host(t) -> np.ndarray:
    if isinstance(t, torch.Tensor) and t._is_zerotensor():  # torch's symbolic zeros
        return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])
    return t.detach().numpy()


def assert_close(got, want, dtype: str = "float64", what: str = "", tol=None) -> None:
    rtol, atol = tol or TOL[dtype]
    assert tuple(got.shape) == tuple(want.shape), f"{what}: {tuple(got.shape)} != {tuple(want.shape)}"
    np.testing.assert_allclose(host(got), host(want), rtol=rtol, atol=atol, err_msg=what)


def leaves(arrays: list) -> tuple[list, list]:
    """The same arrays as Ember and torch leaves; floating ones require grad."""
    e, t = [], []
    for a in arrays:
        floating = a.dtype.kind == "f"
        e.append(ember.tensor(a, requires_grad=floating))
        t.append(torch.tensor(a, requires_grad=floating))
    return e, t


def check_fn(e_fn, t_fn, arrays: list, dtype: str = "float64", order: int = 2, tol=None,
             seed: int = 0) -> None:
    """Forward, gradients of <out, cotangent> and (order 2) the gradient of <grad, v> vs torch."""
    e_in, t_in = leaves(arrays)
    e_out, t_out = e_fn(*e_in), t_fn(*t_in)
    assert_close(e_out, t_out, dtype, "forward", tol)
    diff = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    if order < 1 or not diff:
        return
    rng = np.random.default_rng(seed)
    cot = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    e_g = ember.autograd.grad(e_out, [e_in[i] for i in diff], ember.tensor(cot), create_graph=order > 1,
                              allow_unused=True)
    t_g = torch.autograd.grad(t_out, [t_in[i] for i in diff], torch.tensor(cot), create_graph=order > 1,
                              allow_unused=True)
    for k, (eg, tg) in enumerate(zip(e_g, t_g)):
        assert (eg is None) == (tg is None), f"gradient {k}: {eg} vs {tg}"
        if eg is not None:
            assert_close(eg, tg, dtype, f"gradient of input {diff[k]}", tol)
    if order < 2:
        return
    vecs = [rng.standard_normal(tuple(arrays[i].shape)).astype(dtype) for i in diff]
    e_s = _second(ember, e_g, [e_in[i] for i in diff], vecs)
    t_s = _second(torch, t_g, [t_in[i] for i in diff], vecs)
    for k, (es, ts) in enumerate(zip(e_s, t_s)):
        want = np.zeros(arrays[diff[k]].shape) if ts is None else host(ts)
        got = np.zeros(arrays[diff[k]].shape) if es is None else host(es)
        rtol, atol = tol or TOL[dtype]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"second derivative of input {diff[k]}")


def _second(lib, grads, inputs, vecs):
    total = None
    for g, v in zip(grads, vecs):
        if g is None or not g.requires_grad:
            continue
        term = (g * lib.tensor(v)).sum()
        total = term if total is None else total + term
    if total is None:
        return [None] * len(inputs)
    return lib.autograd.grad(total, inputs, allow_unused=True)


def check_module(e_mod, t_mod, arrays: list, dtype: str = "float64", tol=None, seed: int = 0):
    """Same weights (copied through state_dict), same inputs: outputs, input and parameter grads."""
    copy_weights(e_mod, t_mod)
    e_in, t_in = leaves(arrays)
    e_out, t_out = e_mod(*e_in), t_mod(*t_in)
    assert_close(e_out, t_out, dtype, "module output", tol)
    cot = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(dtype)
    e_out.backward(ember.tensor(cot))
    t_out.backward(torch.tensor(cot))
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if t.grad is not None:
            assert_close(e.grad, t.grad, dtype, f"input {i} gradient", tol)
    t_params = dict(t_mod.named_parameters())
    e_params = dict(e_mod.named_parameters())
    assert list(e_params) == list(t_params)
    for name, tp in t_params.items():
        ep = e_params[name]
        assert (ep.grad is None) == (tp.grad is None), name
        if tp.grad is not None:
            assert_close(ep.grad, tp.grad, dtype, f"gradient of {name}", tol)
    return e_out, t_out
