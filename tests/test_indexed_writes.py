"""What the op samples cannot show about the scatter, set and order-statistic ops: in-place
writes and views, torch's warnings, the names of returned tuples, and third derivatives."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _both(build):
    """``build(module)`` run with ember and with torch."""
    return build(ember), build(torch)


def _same(got, want) -> None:
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_unfold_is_a_view_that_writes_through() -> None:
    def build(m):
        x = m.arange(12.0).reshape(3, 4)
        windows = x.unfold(1, 2, 2)
        windows[1, 0, 1] = -5.0
        return x

    got, want = _both(build)
    _same(got, want)


def test_in_place_forms_write_into_the_tensor_and_keep_its_graph() -> None:
    def build(m):
        w = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64, requires_grad=True)
        y = w * 2
        y.index_add_(1, m.tensor([0, 0]), m.ones(2, 2, dtype=m.float64), alpha=3)
        m.index_put_(y, (m.tensor([0]), m.tensor([2])), m.tensor([7.0], dtype=m.float64),
                     accumulate=True)
        y.put_(m.tensor([1, -1]), w[1, :2].clone())
        y.scatter_reduce_(0, m.tensor([[1, 0, 1]]), w[:1] * w[:1], "amax", include_self=False)
        (g,) = m.autograd.grad((y * y).sum(), w)
        return m.cat([y.reshape(-1), g.reshape(-1)])

    got, want = _both(build)
    _same(got, want)


def test_changing_a_saved_result_in_place_is_refused_as_torch() -> None:
    for m in (ember, torch):
        w = m.ones(2, 3, requires_grad=True)
        y = (w * 2).scatter_reduce(0, m.tensor([[1, 0, 1]]), w[:1] * 3, "amax")
        y.index_fill_(1, m.tensor([0]), 0.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_scatter_with_reduce_and_index_reduce_warn_as_torch() -> None:
    x, index, src = ember.zeros(2, 3), ember.tensor([[0, 1, 0]]), ember.ones(1, 3)
    with pytest.warns(UserWarning, match="deprecated"):
        ember.scatter(x, 0, index, src, reduce="add")
    with pytest.warns(UserWarning, match="beta"):
        ember.index_reduce(x, 0, ember.tensor([1]), src, "prod")


def test_returned_tuples_have_torch_names() -> None:
    x = [[3.0, 1.0, 2.0], [0.5, 4.0, 4.0]]
    for m in (ember, torch):
        t = m.tensor(x)
        pair = m.aminmax(t, dim=1)
        hist = m.histogram(t, 3)
        run = m.cummax(t, 1)
        mid = m.median(t, 1)
        assert pair.min.tolist() == [1.0, 0.5] and pair.max.tolist() == [3.0, 4.0]
        assert hist.hist.shape == (3,) and hist.bin_edges.shape == (4,)
        assert run.indices.tolist() == [[0, 0, 0], [0, 1, 2]]
        assert mid.values.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("name", ["scatter_reduce_prod", "cumprod_zeros", "index_reduce_mean", "quantile"])
def test_third_derivatives_match_torch(name: str) -> None:
    """Rules written in Ember ops differentiate again: a third derivative, against torch's
    (logcumsumexp's takes torch seconds, so the samples' second derivatives stand for it)."""
    ops = {
        "scatter_reduce_prod": lambda m, x: m.scatter_reduce(x, 0, m.tensor([[0, 0, 1]]),
                                                             x[1:] * 1.5, "prod"),
        "cumprod_zeros": lambda m, x: m.cumprod(x * m.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]],
                                                             dtype=m.float64), 1),
        "index_reduce_mean": lambda m, x: m.index_reduce(x * x, 1, m.tensor([2, 0, 2]), x.exp(), "mean"),
        "quantile": lambda m, x: m.quantile(x, 0.3, dim=1) ** 3,
    }
    values = [[0.7, -1.2, 0.4], [1.1, 0.3, -0.8]]

    def third(m):
        x = m.tensor(values, dtype=m.float64, requires_grad=True)
        y = ops[name](m, x)
        (g1,) = m.autograd.grad((y * y).sum(), x, create_graph=True)
        (g2,) = m.autograd.grad((g1 * g1).sum(), x, create_graph=True)
        (g3,) = m.autograd.grad(g2.sum(), x)
        return g3

    got, want = _both(third)
    _same(got, want)
