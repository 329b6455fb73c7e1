"""Op checks kept in a test file of their own rather than the shared catalog: ``op`` builds an
``OpInfo`` the way ``ember.ops.catalog`` does, and ``install`` adds to the calling test module
the same tests ``test_ops.py`` runs for the catalog (forward, first and second derivatives
against torch, float64 finite differences, CUDA stand-in; errors of the same class)."""
from __future__ import annotations

import functools
from functools import partial
from typing import Callable

import numpy as np
import pytest

import ember
from ember.ops.registry import OpInfo
from harness import check_error, check_op, sample_list


def op(table: dict, family: str, name: str, call: Callable, samples: Callable, **kw) -> OpInfo:
    """Add to ``table`` an op whose Ember and torch forms are ``call(module, *args, **kwargs)``."""
    if name in table:
        raise ValueError(f"op {name!r} listed twice")
    info = OpInfo(name, partial(call, ember), call, samples, family, **kw)
    table[name] = info
    return info


def install(table: dict, namespace: dict) -> None:
    """Define ``test_op`` and ``test_op_refuses_what_torch_refuses`` over ``table`` in the test
    module whose globals are ``namespace``."""

    @functools.lru_cache(maxsize=None)
    def samples(name: str, dtype: str) -> list:
        return sample_list(table[name], dtype)

    cases = [pytest.param(name, dtype, i, id=f"{name}-{dtype}-{i}")
             for name, info in table.items() for dtype in info.dtypes
             for i in range(len(samples(name, dtype)))]

    @pytest.mark.parametrize("name, dtype, index", cases)
    def test_op(name: str, dtype: str, index: int, device: str) -> None:
        check_op(table[name], samples(name, dtype)[index], dtype, device)

    def errors(info) -> list:
        return list(info.errors(np.random.default_rng(0), "float64"))

    error_cases = [pytest.param(name, i, id=f"{name}-{i}") for name, info in table.items()
                   if info.errors is not None for i in range(len(errors(info)))]

    @pytest.mark.parametrize("name, index", error_cases)
    def test_op_refuses_what_torch_refuses(name: str, index: int) -> None:
        check_error(table[name], errors(table[name])[index])

    namespace["test_op"] = test_op
    namespace["test_op_refuses_what_torch_refuses"] = test_op_refuses_what_torch_refuses
