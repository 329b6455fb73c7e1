"""Fused kernels (``ember.backend_fused``) against the NumPy path and torch.

Each op that has a kernel (exact GELU, log-softmax and softmax, the Adam/AdamW and SGD-momentum
updates) is run with the kernels on and off, on sizes the kernels take (``MIN_SIZE`` lowered to
0), and compared with torch: values, first derivatives through the kernels' backward, and second
derivatives, which go through the rules in Ember ops (the array-level rules run only where no
graph of the backward is built).
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import backend_fused
from ember.ops import fused_updates
from test_optim import CASES, _close, _run

TOL = {np.float32: dict(rtol=2e-6, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
DTYPES = [np.float32, np.float64]


@pytest.fixture(params=[True, False], ids=["kernels", "numpy"])
def kernels(request, monkeypatch):
    """Every size goes to the kernels (on), or none does (off)."""
    if request.param:
        pytest.importorskip("numba")
    monkeypatch.setattr(backend_fused, "MIN_SIZE", 0)
    with backend_fused.use_kernels(request.param):
        yield request.param


def _pair(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype) * 3
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


OPS = {
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "log_softmax": lambda lib, x: lib.log_softmax(x, -1),
    "softmax": lambda lib, x: lib.softmax(x, -1),
    "log_softmax(dim=0)": lambda lib, x: lib.log_softmax(x, 0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("shape", [(4, 7), (3, 1, 5), (6,)])
def test_values_and_two_orders_of_gradients_match_torch(kernels, name, shape, dtype):
    fn = OPS[name]
    (e, t), (ge, gt) = _pair(shape, dtype), _pair(shape, dtype, seed=1)
    ye, yt = fn(ember, e), fn(torch, t)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
    (de,) = ember.autograd.grad(ye, e, ge.detach(), create_graph=True)
    (dt,) = torch.autograd.grad(yt, t, gt.detach(), create_graph=True)
    np.testing.assert_allclose(de.detach().numpy(), dt.detach().numpy(), **TOL[dtype])
    (dde,) = ember.autograd.grad((de * de).sum(), e)
    (ddt,) = torch.autograd.grad((dt * dt).sum(), t)
    np.testing.assert_allclose(dde.numpy(), ddt.numpy(), rtol=TOL[dtype]["rtol"] * 10,
                               atol=TOL[dtype]["atol"] * 100)
    fn(ember, e).backward(ge.detach())  # no graph of the backward: the array-level rule
    np.testing.assert_allclose(e.grad.numpy(), dt.detach().numpy(), **TOL[dtype])


def test_array_rule_runs_only_where_no_graph_is_built(kernels, monkeypatch):
    calls = []
    real = backend_fused.gelu_backward
    monkeypatch.setattr(backend_fused, "gelu_backward", lambda *a: calls.append(1) or real(*a))
    x, _ = _pair((3, 4), np.float64)
    F.gelu(x).sum().backward()
    assert len(calls) == 1
    (g,) = ember.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    assert len(calls) == 1 and g.requires_grad  # the rule in Ember ops built a graph


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_agree_with_the_numpy_chains(dtype, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(backend_fused, "MIN_SIZE", 0)
    rng = np.random.default_rng(0)
    x, g = (rng.standard_normal((64, 129)).astype(dtype) * 4 for _ in range(2))
    x[0, :3] = (0.0, -40.0, 40.0)
    x[1, :3] = (-np.inf, np.inf, np.nan)
    calls = {
        "gelu": lambda: backend_fused.gelu(np, x),
        "gelu_backward": lambda: backend_fused.gelu_backward(np, g, x),
    }
    eps = np.finfo(dtype).eps
    for name, call in calls.items():
        fused = call()
        with backend_fused.use_kernels(False):
            plain = call()
        assert fused.dtype == plain.dtype == dtype, name
        np.testing.assert_allclose(fused, plain, rtol=4 * eps, atol=8 * eps, err_msg=name)


FUSED_CASES = [(n, kw) for n, kw in CASES
               if (n in ("Adam", "AdamW") and not kw.get("amsgrad")) or (n == "SGD" and kw.get("momentum"))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", FUSED_CASES, ids=[f"{n}-{kw}" for n, kw in FUSED_CASES])
def test_fused_optimizer_steps_match_torch(kernels, name, kwargs, dtype, monkeypatch):
    runs = []
    for fn in ("adam_", "sgd_momentum_"):
        real = getattr(backend_fused, fn)
        monkeypatch.setattr(backend_fused, fn, lambda *a, _r=real, **k: runs.append(_r(*a, **k))
                            or runs[-1])
    e_opt, e_params = _run(ember, name, kwargs, dtype)
    _, t_params = _run(torch, name, kwargs, dtype)
    for e, t in zip(e_params, t_params):
        _close(e.detach().numpy(), t.detach().numpy(), dtype)
    assert runs and all(runs) == kernels  # the kernel did the steps exactly when it was on
    if kernels:
        assert all(e._version > 0 for e in e_params)


def test_an_update_autograd_records_is_left_to_the_ops(monkeypatch):
    monkeypatch.setattr(backend_fused, "MIN_SIZE", 0)
    p, g, m, v = (ember.ones(3, requires_grad=i == 0) for i in range(4))
    hyper = dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, step=1, weight_decay=0.0,
                 decoupled=False, maximize=False)
    assert not fused_updates.adam_(p, g, m, v, **hyper)  # grad mode on, p requires grad
    assert np.all(p.detach().numpy() == 1) and np.all(m.numpy() == 1)
    with ember.no_grad():
        assert fused_updates.adam_(p, g, m, v, **hyper) == (backend_fused._cpu_kernels() is not None)


def test_import_ember_leaves_numba_unimported():
    code = "import sys, ember; ember.nn.functional.gelu(ember.ones(3)); print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.cuda
def test_gpu_twins_match_the_cpu(device, monkeypatch):
    monkeypatch.setattr(backend_fused, "MIN_SIZE", 0)
    x, _ = _pair((5, 6), np.float32)
    results = {}
    for d in ("cpu", device):
        xd = x.detach().to(d).requires_grad_()
        y = F.gelu(xd)
        y.backward(ember.ones_like(y))
        p = ember.nn.Parameter(x.detach().clone().to(d))
        opt = ember.optim.AdamW([p], lr=0.1)
        for _ in range(3):
            p.grad = xd.grad
            opt.step()
        results[d] = [t.detach().cpu().numpy() for t in (y, xd.grad, p)]
    for a, b in zip(results["cpu"], results[device]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
