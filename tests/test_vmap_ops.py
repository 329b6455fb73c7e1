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
}


@pytest.mark.parametrize("name, index", CASES)
def test_batching_rule(name: str, index: int) -> None:
    if (name, index) in TORCH_VMAP_DIFFERS:
        pytest.skip(TORCH_VMAP_DIFFERS[name, index])
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


def test_every_primitive_has_a_batching_rule() -> None:
    missing = sorted(n for n, p in PRIMITIVES.items() if p.batch is None and n not in LOOPED)
    assert not missing, f"primitives with no batching rule (declare batch=...): {missing}"
    stale = sorted(n for n in LOOPED if n in PRIMITIVES and PRIMITIVES[n].batch is not None)
    assert not stale, f"LOOPED lists primitives that have a rule: {stale}"
