"""Helpers for the sequence-model tests: run an Ember module and its torch twin (weights copied
through ``state_dict``) on the same inputs, and compare every output, the gradients of every
input and parameter, and (optionally) second derivatives through ``create_graph``."""
from __future__ import annotations

import numpy as np
import torch

import ember
from nn_compare import TOL, _second, copy_weights, host

# float32 recurrences and attention sum in a different order than torch's kernels
TOL32 = (2e-4, 2e-5)


def tolerance(dtype: str) -> tuple:
    return TOL32 if dtype == "float32" else TOL["float64"]


def outputs(out) -> list:
    """Every tensor a module returned (PackedSequence data, nested tuples opened; None dropped)."""
    if out is None:
        return []
    if isinstance(out, (ember.nn.utils.rnn.PackedSequence, torch.nn.utils.rnn.PackedSequence)):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in outputs(o)]
    return [out]


def _close(got, want, dtype: str, what: str) -> None:
    rtol, atol = tolerance(dtype)
    assert tuple(got.shape) == tuple(want.shape), f"{what}: {tuple(got.shape)} != {tuple(want.shape)}"
    np.testing.assert_allclose(host(got), host(want), rtol=rtol, atol=atol, err_msg=what)


def compare_module(e_mod, t_mod, e_call, t_call, inputs: list, dtype: str = "float64",
                   order: int = 1, seed: int = 0) -> None:
    """``e_call(e_mod, *ember_inputs)`` vs ``t_call(t_mod, *torch_inputs)``: outputs, gradients of
    the floating inputs and of every parameter, and with ``order=2`` the gradient of
    <first gradients, v> with respect to all of them."""
    copy_weights(e_mod, t_mod)
    e_in = [ember.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
            for a in inputs]
    t_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
            for a in inputs]
    e_outs, t_outs = outputs(e_call(e_mod, *e_in)), outputs(t_call(t_mod, *t_in))
    assert len(e_outs) == len(t_outs)
    for k, (e, t) in enumerate(zip(e_outs, t_outs)):
        _close(e, t, dtype, f"output {k}")
    e_wrt = [t for t in e_in if isinstance(t, ember.Tensor) and t.requires_grad]
    t_wrt = [t for t in t_in if isinstance(t, torch.Tensor) and t.requires_grad]
    names = [f"input {i}" for i in range(len(e_wrt))] + [n for n, _ in t_mod.named_parameters()]
    e_wrt += list(e_mod.parameters())
    t_wrt += list(t_mod.parameters())
    rng = np.random.default_rng(seed)
    cots = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_outs]
    live = [k for k, t in enumerate(t_outs) if t.requires_grad]
    e_g = ember.autograd.grad([e_outs[k] for k in live], e_wrt, [ember.tensor(cots[k]) for k in live],
                              create_graph=order > 1, allow_unused=True)
    t_g = torch.autograd.grad([t_outs[k] for k in live], t_wrt, [torch.tensor(cots[k]) for k in live],
                              create_graph=order > 1, allow_unused=True)
    for name, e, t in zip(names, e_g, t_g):
        assert (e is None) == (t is None), f"gradient of {name}: {e} vs {t}"
        if t is not None:
            _close(e, t, dtype, f"gradient of {name}")
    if order < 2:
        return
    vecs = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_wrt]
    e_s = _second(ember, e_g, e_wrt, vecs)
    t_s = _second(torch, t_g, t_wrt, vecs)
    for name, e, t, v in zip(names, e_s, t_s, vecs):
        want = np.zeros(v.shape) if t is None else host(t)
        got = np.zeros(v.shape) if e is None else host(e)
        rtol, atol = tolerance(dtype)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"second derivative of {name}")


def twins(name: str, *args, dtype: str = "float64", **kwargs):
    """The same layer built in Ember and torch, in ``dtype``."""
    e = getattr(ember.nn, name)(*args, **kwargs)
    t = getattr(torch.nn, name)(*args, **kwargs)
    return (e.double(), t.double()) if dtype == "float64" else (e, t)
