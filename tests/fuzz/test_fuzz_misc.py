"""Fuzz matrix products, selection (clamp/where/lerp/addcmul) and tensor creation against torch."""
from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import ember
from fuzzlib import DTYPES, FLOATS, arrays, budget, check, scalars, shape_pairs, shapes, tensor_arrays

MATMUL = ["matmul", "dot", "mm", "bmm", "mv", "outer", "inner"]


@st.composite
def matmul_operands(draw):
    """Two operands of 0-4 dims whose inner sizes usually, but not always, agree."""
    a_shape = draw(shapes(0, 4))
    b_shape = list(draw(shapes(0, 4)))
    if a_shape and len(b_shape) and draw(st.integers(0, 3)):
        b_shape[-2 if len(b_shape) > 1 else 0] = a_shape[-1]
    dtype = draw(st.sampled_from(DTYPES))
    # Mixed dtypes only among numbers: torch checks bool and dtype mismatch in an order that
    # depends on the path (2-D, batched, empty), not worth matching.
    numbers = ("float32", "float64", "int64")
    batched = len(a_shape) > 2 or len(b_shape) > 2  # torch skips the dtype check of empty batches
    mixed = not (draw(st.integers(0, 5)) or dtype == "bool" or batched)
    other = draw(st.sampled_from(numbers)) if mixed else dtype
    return draw(arrays(dtype, a_shape, bounded=True)), draw(arrays(other, tuple(b_shape), bounded=True))


def _product_slack(a, b) -> float:
    if a.dtype.kind != "f" or not a.size or not b.size:
        return 0.0
    big = [float(np.abs(v[np.isfinite(v)]).max(initial=0.0)) for v in (a, b)]
    k = a.shape[-1] if a.ndim else 1
    return 4 * k * float(np.finfo(a.dtype).eps) * big[0] * big[1]


@budget(250)
@given(name=st.sampled_from(MATMUL), operands=matmul_operands())
def test_matmul_family(name, operands):
    a, b = operands
    # A dot product sums k terms: allow k * eps * max|a| * max|b| (another order of summation,
    # and BLAS's fused multiply-adds).
    slack = _product_slack(a, b)
    check(name, getattr(ember, name), getattr(torch, name), operands, atol=slack)


@st.composite
def selection_calls(draw):
    name = draw(st.sampled_from(["clamp", "where", "lerp", "addcmul", "addcdiv", "masked_fill"]))
    if name == "clamp":
        x = draw(tensor_arrays(("float32", "float64", "int64")))
        bound = st.one_of(st.none(), scalars("float64"), scalars("int64"),
                          tensor_arrays(("float32", "float64", "int64"), max_dims=2))
        return name, (x,), {"min": draw(bound), "max": draw(bound)}
    if name == "where":
        sa, sb = draw(shape_pairs(max_dims=3))
        cond = draw(arrays("bool", sa))
        x = draw(st.one_of(arrays(draw(st.sampled_from(DTYPES)), sb), scalars()))
        y = draw(st.one_of(tensor_arrays(max_dims=3), scalars()))
        return name, (cond, x, y), {}
    if name == "masked_fill":
        sa, sb = draw(shape_pairs(max_dims=3))
        return name, (draw(arrays(draw(st.sampled_from(DTYPES)), sa)), draw(arrays("bool", sb)),
                      draw(scalars())), {}
    sa, sb = draw(shape_pairs(max_dims=3))
    dtype = draw(st.sampled_from(FLOATS))
    # torch's lerp/addcmul/addcdiv kernels use fused multiply-adds (NumPy has none): near the
    # float maximum the unfused formula overflows where torch's does not, so draw bounded values.
    bounded = True
    a, b = draw(arrays(dtype, sa, bounded)), draw(arrays(dtype, sb, bounded))
    if name == "lerp":
        w = draw(st.one_of(st.floats(-2, 2), arrays(dtype, draw(shapes(0, 2)), bounded)))
        return name, (a, b, w), {}
    c = draw(arrays(dtype, draw(shapes(0, 2)), bounded))
    if name == "addcdiv":
        # value / tiny is ~1e38 in float32: its broadcast gradient sum overflows midway, and torch
        # sums float32 in double (Ember in float32, 2.4x faster), so they differ there.
        c = np.where((np.abs(c) < 1e-30) & (c != 0), 1.0, c).astype(c.dtype)
    return name, (a, b, c), {"value": draw(st.sampled_from([1, 0.5, -2]))}


@budget(250)
@given(call=selection_calls())
def test_selection(call):
    name, args, kwargs = call
    check(name, getattr(ember, name), getattr(torch, name), args, kwargs, atol=_fused_slack(name, args))


def _fused_slack(name: str, args: tuple) -> float:
    """lerp/addcmul/addcdiv cancel (end - (end - start) * (1 - w)) after torch's fused multiply-add
    rounded once where Ember rounds twice: allow eps times the size of the terms."""
    if name not in ("lerp", "addcmul", "addcdiv"):
        return 0.0
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    if name == "addcdiv":
        with np.errstate(all="ignore"):
            try:
                arrays = arrays[:1] + [arrays[1] / arrays[2], np.ones(1)]
            except ValueError:  # shapes that do not broadcast: both libraries raise
                return 0.0
    size = [float(np.abs(a[np.isfinite(a)]).max(initial=0.0)) for a in arrays]
    eps = float(np.finfo(args[0].dtype).eps)
    if name == "lerp":
        return 8 * eps * (size[0] + size[1]) * (1 + size[2])
    return 8 * eps * (size[0] + size[1] * size[2])


_number = st.one_of(st.integers(-5, 8), st.floats(-5, 8), st.sampled_from([math.inf, math.nan]))


@st.composite
def creation_calls(draw):
    name = draw(st.sampled_from(["zeros", "ones", "full", "arange", "linspace", "eye", "empty"]))
    dtype = draw(st.sampled_from([None, "float32", "float64", "int64", "bool"]))
    kwargs = {} if dtype is None else {"dtype": dtype}
    if name in ("zeros", "ones", "empty"):
        return name, (draw(st.lists(st.integers(-2, 3), max_size=3).map(tuple)),), kwargs
    if name == "full":
        return name, (draw(st.lists(st.integers(-2, 3), max_size=3)), draw(scalars())), kwargs
    if name == "arange":
        n = draw(st.integers(1, 3))
        return name, tuple(draw(_number) for _ in range(n)), kwargs
    if name == "linspace":
        return name, (draw(_number), draw(_number), draw(st.integers(-2, 5))), kwargs
    sizes = st.integers(-2, 4)
    return name, (draw(sizes),) + ((draw(sizes),) if draw(st.booleans()) else ()), kwargs


@budget(200)
@given(call=creation_calls())
def test_creation(call):
    name, args, kwargs = call

    def run(lib):
        def fn(*a, **kw):
            if "dtype" in kw:
                kw = {**kw, "dtype": getattr(lib, kw["dtype"])}
            return getattr(lib, name)(*a, **kw)

        return fn

    if name == "empty":  # values are unspecified: compare shape and dtype only
        check(name, lambda *a, **k: ember.zeros_like(run(ember)(*a, **k)),
              lambda *a, **k: torch.zeros_like(run(torch)(*a, **k)), args, kwargs)
        return
    # A range's values near zero come from cancellation (7 - 6.99999...), and torch computes them
    # in chunks (start + step * chunk) + step * j: allow an error of eps times the bounds.
    ranged = name in ("arange", "linspace")
    bounds = [abs(float(a)) for a in args[:2] if math.isfinite(float(a))] if ranged else []
    atol = 4 * float(np.finfo(np.float64).eps) * max(bounds, default=0.0)
    check(name, run(ember), run(torch), args, kwargs, atol=atol)
