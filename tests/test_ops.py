"""Every op in the catalog against torch 2.13.0: forward, first and second derivatives, gradcheck.

The cases come from ``ember.ops.catalog``: adding an op there adds its tests here.
"""
from __future__ import annotations

import functools

import pytest

from ember.ops.catalog import CATALOG
from harness import check_op, sample_list


@functools.lru_cache(maxsize=None)
def _samples(name: str, dtype: str) -> list:
    return sample_list(CATALOG[name], dtype)


CASES = [
    pytest.param(name, dtype, i, id=f"{name}-{dtype}-{i}")
    for name, info in CATALOG.items()
    for dtype in info.dtypes
    for i in range(len(_samples(name, dtype)))
]


@pytest.mark.parametrize("name, dtype, index", CASES)
def test_op(name: str, dtype: str, index: int, device: str) -> None:
    check_op(CATALOG[name], _samples(name, dtype)[index], dtype, device)
