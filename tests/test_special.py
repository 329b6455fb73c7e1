"""erf, erfc and erfinv (SciPy's) over the whole line (tails, infinities, nan) vs torch.

The catalog (tests/test_ops.py) covers their gradients and second derivatives; this checks the
forward on dense grids, where an approximation's weak spots would show.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

GRID = np.concatenate([np.linspace(-30.0, 30.0, 60001), np.logspace(-300, 1.5, 2000),
                       [0.0, -0.0, 0.46875, 4.0, 26.5, 27.3, np.inf, -np.inf, np.nan]])


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_erfc_float64(name):
    got = getattr(ember, name)(ember.tensor(GRID)).numpy()
    want = getattr(torch, name)(torch.tensor(GRID)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300, equal_nan=True)  # SciPy vs torch


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_erfc_float32_and_method(name):
    x = GRID.astype(np.float32)
    got = getattr(ember.tensor(x), name)()
    assert got.dtype == ember.float32
    want = getattr(torch, name)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-37, equal_nan=True)


def test_erfinv_float64_including_the_tails():
    z = np.concatenate([np.linspace(-1.0, 1.0, 40001), 1 - np.logspace(-16, -1, 200),
                        -1 + np.logspace(-16, -1, 200), [1.5, -2.0, np.nan, 1e-300]])
    got = ember.erfinv(ember.tensor(z)).numpy()
    want = torch.erfinv(torch.tensor(z)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300, equal_nan=True)
    assert got[0] == -np.inf and got[40000] == np.inf


def test_erfinv_inverts_erf_and_inplace_methods():
    x = ember.linspace(-0.99, 0.99, 101, dtype=ember.float64)
    np.testing.assert_allclose(ember.erf(ember.erfinv(x)).numpy(), x.numpy(), rtol=1e-14)
    y = x.clone()
    assert y.erfinv_() is y and y.erf_() is y
    np.testing.assert_allclose(y.numpy(), x.numpy(), rtol=1e-14)
    assert ember.erf(ember.tensor([0, 1])).dtype == ember.float32  # integers become floats
