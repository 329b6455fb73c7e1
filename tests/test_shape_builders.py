"""Shape builders, products, statistics beyond their samples (tests/opinfo/builders.py, run by
tests/test_ops.py): torch's warnings, derivatives torch cannot take, views."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember


def test_chain_matmul_warns_as_torch() -> None:
    a = ember.ones(2, 2)
    from ember.ops import legacy_linalg

    legacy_linalg._WARNED.discard("chain_matmul")
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        ember.chain_matmul(a, a)


def test_cov_warns_when_no_degrees_of_freedom_are_left() -> None:
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        got = ember.cov(ember.tensor([[1.0, 2.0]]), correction=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.cov(torch.tensor([[1.0, 2.0]]), correction=2)
    assert np.isinf(got.numpy()).all() == np.isinf(want.numpy()).all()


def test_vander_derivatives_match_finite_differences() -> None:
    x = ember.tensor([0.5, -1.2, 2.0, 0.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.vander(t, 5), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.vander(t, 3, increasing=True), (x,))


def test_as_strided_is_a_view_as_in_torch() -> None:
    results = []
    for lib in (ember, torch):
        a = lib.arange(6.0, requires_grad=True)
        b = a * 1
        window = b.as_strided((2, 2), (2, 1), 1)
        window.mul_(3)  # writes reach b, and b's gradient knows it
        b.sum().backward()
        results.append((b.detach().numpy(), a.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
