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


@pytest.mark.parametrize("name, index", CASES)
def test_batching_rule(name: str, index: int) -> None:
    check_vmap(SAMPLES[name], _samples(name)[index], "float64")


def test_every_primitive_has_a_batching_rule() -> None:
    missing = sorted(n for n, p in PRIMITIVES.items() if p.batch is None and n not in LOOPED)
    assert not missing, f"primitives with no batching rule (declare batch=...): {missing}"
    stale = sorted(n for n in LOOPED if n in PRIMITIVES and PRIMITIVES[n].batch is not None)
    assert not stale, f"LOOPED lists primitives that have a rule: {stale}"
