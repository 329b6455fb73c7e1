"""Every op in tests/opinfo against torch 2.13.0: forward, first and second derivatives, gradcheck.

The cases come from ``tests/opinfo``: adding an op there adds its tests here.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import ember
from opinfo import SAMPLES
from harness import assert_close, check_error, check_op, sample_list


@functools.lru_cache(maxsize=None)
def _samples(name: str, dtype: str) -> list:
    return sample_list(SAMPLES[name], dtype)


CASES = [
    pytest.param(name, dtype, i, id=f"{name}-{dtype}-{i}")
    for name, info in SAMPLES.items()
    for dtype in info.dtypes
    for i in range(len(_samples(name, dtype)))
]


@pytest.mark.parametrize("name, dtype, index", CASES)
def test_op(name: str, dtype: str, index: int, device: str) -> None:
    check_op(SAMPLES[name], _samples(name, dtype)[index], dtype, device)


ERROR_CASES = [
    pytest.param(name, i, id=f"{name}-{i}")
    for name, info in SAMPLES.items()
    if info.errors is not None
    for i in range(len(list(info.errors(np.random.default_rng(0), "float64"))))
]


@pytest.mark.parametrize("name, index", ERROR_CASES)
def test_op_refuses_what_torch_refuses(name: str, index: int) -> None:
    info = SAMPLES[name]
    sample = list(info.errors(np.random.default_rng(0), "float64"))[index]
    check_error(info, sample)


# ---------------------------------------------------------------------------- type promotion

PROMOTIONS = [
    "m.tensor([1, 2]) * 2.5",
    "m.tensor([1, 2]) + True",
    "m.tensor([True, False]) + m.tensor([True, True])",
    "m.tensor([True, False]) + 1",
    "m.tensor([True, False]) * 1.5",
    "m.tensor([1., 2.]) + m.tensor([1., 2.], dtype=m.float64)",
    "m.tensor([1., 2.]) + m.tensor(1., dtype=m.float64)",
    "m.tensor([1, 2], dtype=m.int32) + m.tensor(5)",
    "m.tensor([1, 2], dtype=m.int32) + m.tensor([5, 6])",
    "m.tensor([1, 2], dtype=m.uint8) + m.tensor([1, 2], dtype=m.int8)",
    "m.tensor([1, 2]) + m.tensor(1.5, dtype=m.float64)",
    "m.tensor([1, 2], dtype=m.int32) + m.tensor(1.5)",
    "m.tensor([3, 4]) / m.tensor([2, 8])",
    "m.tensor([7, -7]) / 2",
    "m.tensor([7, -7]) // 2",
    "m.tensor([7, -7]) % 3",
    "m.tensor([7., -7.]) // 2",
    "m.tensor([2, 3]) ** 2",
    "m.tensor([2, 3]) ** 0.5",
    "2 ** m.tensor([2, 3])",
    "2.0 ** m.tensor([2, 3])",
    "m.tensor([1., 2.], dtype=m.float16) + m.tensor([1., 2.])",
    "m.exp(m.tensor([1, 2]))",
    "m.sqrt(m.tensor([4, 9], dtype=m.int32))",
    "m.sigmoid(m.tensor([True, False]))",
    "m.abs(m.tensor([-3, 2]))",
    "m.sum(m.tensor([1, 2], dtype=m.int32))",
    "m.sum(m.tensor([True, True, False]))",
    "m.cumsum(m.tensor([1, 2], dtype=m.int16), 0)",
    "m.prod(m.tensor([True, True]))",
    "m.where(m.tensor([True, False]), m.tensor([1, 2]), 2.5)",
    "m.where(m.tensor([True, False]), 1, 0)",
    "m.where(m.tensor([True, False]), 1.0, 0)",
    "m.clamp(m.tensor([1, 5]), 0.5)",
    "m.clamp(m.tensor([1, 5]), 2, 4)",
    "m.maximum(m.tensor([1, 5], dtype=m.int32), m.tensor([2., 3.]))",
    "m.cat([m.tensor([1, 2]), m.tensor([1.5])])",
    "m.matmul(m.tensor([[1, 2]]), m.tensor([[3], [4]]))",
    "m.tensor([1, 2]) < m.tensor([1.5, 1.5])",
    "m.tensor([1, 2]) == 2.0",
    "m.tensor(3) * 2.5",
    "m.tensor(3.5) + m.tensor(1, dtype=m.int64)",
    "m.tensor([1, 2]).float().mean()",
    "m.tensor([1., 2.]).double() + 1",
    "m.tensor([1, 2]).masked_fill(m.tensor([True, False]), 3.7)",
    "-m.tensor([True])",
    "m.tensor([True]) - m.tensor([False])",
    "m.tensor([1, 2]).mean()",
    "m.tensor([1, 2]) ** -1",
]


@pytest.mark.parametrize("expr", PROMOTIONS)
def test_type_promotion_matches_torch(expr: str) -> None:
    try:
        want = eval(expr, {"m": torch})
    except Exception as exc:
        with pytest.raises(type(exc)):
            eval(expr, {"m": ember})
        return
    got = eval(expr, {"m": ember})
    assert_close(got, want, str(want.dtype).split(".")[-1], expr)
