"""JVP rules of the primitives that got theirs late: against torch.func.jvp, or, where torch's
forward mode lacks the op (igamma) or gets it wrong (scatter_reduce "prod" gives zeros), against
torch's reverse-mode Jacobian times the tangent."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.ops.random import standard_gamma
from ember.ops.recurrent import lstm_scan

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4))
X_ZERO = X.copy()
X_ZERO[1, 2] = 0.0


def _jvp(lib, fn, arrays, tangents):
    out = lib.func.jvp(fn, tuple(lib.tensor(a) for a in arrays), tuple(lib.tensor(t) for t in tangents))
    return [o.detach().numpy() for o in out]


def _tangents(arrays):
    return [RNG.standard_normal(np.shape(a)) for a in arrays]


@pytest.mark.parametrize("fn, x", [
    (lambda M, a: M.cumprod(a, 1), X),
    (lambda M, a: M.cumprod(a, 0), X_ZERO),
    (lambda M, a: M.cumprod(a, 1), X_ZERO),
    (lambda M, a: M.logcumsumexp(a, 1), X),
    (lambda M, a: M.polygamma(2, a.abs() + 0.5), X),
    (lambda M, a: M.digamma(a), X),
    (lambda M, a: a.unfold(1, 2, 1), X),
    (lambda M, a: M.nansum(a.log(), 1), X),
])
def test_jvp_matches_torch(fn, x):
    t = _tangents([x])
    for got, want in zip(_jvp(ember, lambda a: fn(ember, a), [x], t),
                         _jvp(torch, lambda a: fn(torch, a), [x], t)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def _against_jacobian(fn, arrays):
    tangents = _tangents(arrays)
    jac = torch.func.jacrev(lambda *a: fn(torch, *a), argnums=tuple(range(len(arrays))))(
        *[torch.tensor(a) for a in arrays])
    want = sum(np.tensordot(j.numpy(), t, t.ndim) for j, t in zip(jac, tangents))
    got = _jvp(ember, lambda *a: fn(ember, *a), arrays, tangents)[1]
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("reduce", ["sum", "prod", "amax", "amin", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_jvp(reduce, include_self):
    src = RNG.standard_normal(5)
    base = RNG.standard_normal(4)
    src[1] = base[1]  # a tie between the input and the source
    idx = np.array([0, 1, 1, 2, 2])
    _against_jacobian(lambda M, a, s: a.scatter_reduce(0, M.tensor(idx), s, reduce,
                                                       include_self=include_self), [base, src])


def test_logcumsumexp_jvp_does_not_overflow():
    # (torch's own forward mode loses these values; its reverse mode keeps them)
    _against_jacobian(lambda M, a: M.logcumsumexp(a * 300, 1), [X])


def test_igamma_jvp_in_its_second_argument():
    a = np.full(4, 2.5)
    _against_jacobian(lambda M, x: M.igamma(M.tensor(a), x), [np.abs(X[0]) + 0.1])
    with pytest.raises(RuntimeError, match="igamma: input"):
        _jvp(ember, lambda s: ember.igamma(s, ember.tensor(a)), [a], [a])


def test_random_draws_have_zero_tangent():
    mean = ember.tensor(X)
    _, tangent = ember.func.jvp(lambda m: ember.normal(m, 1.0) * 0 + m.sum(), (mean,), (mean,))
    np.testing.assert_allclose(tangent.numpy(), np.full(X.shape, X.sum()))
    alpha = ember.tensor(np.abs(X) + 0.5)
    draw, tangent = ember.func.jvp(standard_gamma, (alpha,), (ember.ones_like(alpha),))
    assert np.all(tangent.numpy() != 0)  # the reparameterised draw moves with its concentration


def _unrolled_lstm(M, xw, h0, c0, w):
    h, c, outs = h0, c0, []
    for t in range(xw.shape[0]):
        i, f, g, o = (xw[t] + h @ w.T).chunk(4, -1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        outs.append(M.cat([h, c, i, f, g, o], -1))
    return M.stack(outs)


@pytest.mark.parametrize("mask", [(1, 1, 1, 1), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)])
def test_lstm_scan_jvp_is_the_unrolled_cells(mask):
    arrays = [RNG.standard_normal(s) for s in [(3, 2, 8), (2, 2), (2, 2), (8, 2)]]
    tangents = [t * m for t, m in zip(_tangents(arrays), mask)]
    got = _jvp(ember, lstm_scan, arrays, tangents)[1]
    want = _jvp(torch, lambda *a: _unrolled_lstm(torch, *a), arrays, tangents)[1]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
