"""Every op sample under ``ember.func.vmap`` against ``torch.func.vmap`` (the batching rules)."""
from __future__ import annotations

import functools

import pytest

from ember.ops.batching import LOOPED
from ember.ops.registry import PRIMITIVES
from harness import sample_list
from opinfo import SAMPLES
from vmap_check import check_vmap


@functools.lru_cache(maxsize=None)
def _samples(name: str) -> list:
    return sample_list(SAMPLES[name], "float64")


CASES = [pytest.param(name, i, id=f"{name}-{i}")
         for name, info in SAMPLES.items() if "float64" in info.dtypes
         for i in range(len(_samples(name)))]


# Samples where torch's vmap disagrees with torch itself run sample by sample; Ember gives the
# per-sample (eager) answer there, checked in test_where_torch_vmap_differs_from_torch.
TORCH_VMAP_DIFFERS = {
    ("argmax", 3): "torch's vmap gives argmax(x, keepdim=True) of a 2-D x the shape (1,), eager (1, 1)",
    ("argmin", 3): "as argmax",
    ("isclose", 1): "torch's vmap of isclose(inf, inf) with the other side unbatched gives False",
    ("linalg.lu_solve", 4): "torch's vmap of lu_solve with B of more batch dims than LU permutes the "
                            "wrong rows",
    ("linalg.qr(no grad)", 1): "torch's vmap of qr(mode='r') gives the empty Q the shape (0,), "
                               "stacking the samples' gives (3, 0)",
}


# Ops whose samples do not yet batch as torch.func.vmap does (they arrived in the same wave as
# vmap): a batched index (scatter, index_*, take, put, embedding_bag), values read on the host
# (sets, searches, order statistics, unpooling); linalg.eig/eigvals meet complex eigenvalues in
# the permuted samples, which Ember (no complex tensors) refuses. Each still runs: a failure is
# reported as xfail until its rule lands.
VMAP_OWED = {
    'addmm(beta=0 ignores nan)',
    'aminmax',
    'argwhere',
    'bincount',
    'bucketize',
    'ctc_loss',
    'cummax',
    'cummin',
    'embedding_bag',
    'embedding_bag(per_sample_weights)',
    'fractional_max_pool2d',
    'fractional_max_pool2d_with_indices',
    'fractional_max_pool3d',
    'fractional_max_pool3d_with_indices',
    'geqrf',
    'histc',
    'histogram',
    'index_add',
    'index_add_',
    'index_copy',
    'index_copy_',
    'index_fill',
    'index_fill(negative)',
    'index_fill_',
    'index_put(accumulate)',
    'index_put_',
    'index_reduce(amax)',
    'index_reduce(amin)',
    'index_reduce(mean)',
    'index_reduce(prod)',
    'index_reduce_',
    'isin',
    'kthvalue',
    'linalg.eig',
    'linalg.eigvals',
    'linalg.ldl_factor',
    'linalg.ldl_factor_ex',
    'linalg.ldl_solve',
    'masked_scatter',
    'masked_scatter_',
    'max_unpool1d',
    'max_unpool2d',
    'max_unpool3d',
    'median',
    'median(nan over all)',
    'mode(distinct)',
    'multi_margin_loss',
    'multilabel_margin_loss',
    'nanmedian',
    'nanquantile',
    'put',
    'put_',
    'quantile',
    'repeat_interleave',
    'resize_',
    'scatter',
    'scatter(reduce)',
    'scatter_',
    'scatter_reduce(amax)',
    'scatter_reduce(amin)',
    'scatter_reduce(mean)',
    'scatter_reduce(prod)',
    'scatter_reduce(sum)',
    'scatter_reduce(ties)',
    'scatter_reduce(zeros)',
    'scatter_reduce_',
    'searchsorted',
    'take',
    'torch.index_put_',
}


@pytest.mark.parametrize("name, index", CASES)
def test_batching_rule(name: str, index: int) -> None:
    if (name, index) in TORCH_VMAP_DIFFERS:
        pytest.skip(TORCH_VMAP_DIFFERS[name, index])
    if name in VMAP_OWED:
        try:
            check_vmap(SAMPLES[name], _samples(name)[index], "float64")
        except Exception as exc:  # noqa: BLE001 - any failure of an owed rule is the known gap
            pytest.xfail(f"a batching rule for this op is owed (VMAP_OWED): {type(exc).__name__}")
        return
    check_vmap(SAMPLES[name], _samples(name)[index], "float64")


def test_where_torch_vmap_differs_from_torch() -> None:
    import ember
    import numpy as np
    import torch

    x = np.array([[1.0, np.nan, np.inf], [np.nan, 1.0, np.inf]])
    y = np.array([1.0, np.nan, np.inf])
    got = ember.func.vmap(ember.isclose, in_dims=(0, None))(ember.tensor(x), ember.tensor(y))
    want = torch.stack([torch.isclose(torch.tensor(r), torch.tensor(y)) for r in x])
    assert got.tolist() == want.tolist()
    z = np.arange(12.0).reshape(2, 2, 3)
    got = ember.func.vmap(lambda t: ember.argmax(t, keepdim=True))(ember.tensor(z))
    assert tuple(got.shape) == (2,) + tuple(torch.argmax(torch.tensor(z[0]), keepdim=True).shape)
    a = np.array([[[0.1, 1.0], [1.0, 0.2]], [[1.0, 0.3], [0.2, 1.0]], [[0.1, 2.0], [3.0, 0.2]]])
    b = np.arange(12.0).reshape(3, 2, 2, 1)

    def lu_solve(m, u, v):
        return m.linalg.lu_solve(*m.linalg.lu_factor(u), v)

    got = ember.func.vmap(functools.partial(lu_solve, ember))(ember.tensor(a), ember.tensor(b))
    want = torch.stack([lu_solve(torch, torch.tensor(u), torch.tensor(v)) for u, v in zip(a, b)])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    got = ember.func.vmap(lambda u: ember.linalg.qr(u, "r"))(ember.tensor(a))
    assert tuple(got.Q.shape) == (3, 0) and tuple(got.R.shape) == (3, 2, 2)


def test_every_primitive_has_a_batching_rule() -> None:
    missing = sorted(n for n, p in PRIMITIVES.items() if p.batch is None and n not in LOOPED)
    assert not missing, f"primitives with no batching rule (declare batch=...): {missing}"
    stale = sorted(n for n in LOOPED if n in PRIMITIVES and PRIMITIVES[n].batch is not None)
    assert not stale, f"LOOPED lists primitives that have a rule: {stale}"
