"""Fuzz indexing against torch: basic and advanced indices, out-of-range ones, gather/scatter."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember
from fuzzlib import arrays, budget, check, shapes, tensor_arrays

_FLOAT_OR_INT = ("float32", "float64", "int64")


@st.composite
def index_items(draw, x_shape: tuple):
    """One index entry: int (maybe out of range), slice, None, Ellipsis, list, int or bool array."""
    side = x_shape[0] if x_shape else 1
    kind = draw(st.sampled_from(["int", "int", "slice", "slice", "none", "ellipsis", "list",
                                 "long", "mask", "bool"]))
    if kind == "int":
        return draw(st.integers(-side - 2, side + 1))
    if kind == "slice":
        bound = st.one_of(st.none(), st.integers(-side - 2, side + 2))
        return slice(draw(bound), draw(bound), draw(st.one_of(st.none(), st.integers(-1, 3))))
    if kind == "none":
        return None
    if kind == "ellipsis":
        return Ellipsis
    if kind == "list":
        return draw(st.lists(st.integers(-side - 1, side), min_size=0, max_size=3))
    if kind == "long":
        return draw(hnp.arrays(np.int64, draw(shapes(0, 2)), elements=st.integers(-side - 1, side)))
    if kind == "mask":
        shape = x_shape[:draw(st.integers(0, len(x_shape)))] if draw(st.booleans()) else draw(shapes(0, 2))
        return draw(hnp.arrays(np.bool_, shape))
    return draw(st.booleans())


@st.composite
def getitem_calls(draw):
    x = draw(tensor_arrays(min_dims=0, max_dims=3))
    n = draw(st.integers(1, 3))
    idx = tuple(draw(index_items(x.shape[i:] if i < x.ndim else ())) for i in range(n))
    return x, idx[0] if len(idx) == 1 and draw(st.booleans()) else idx


@budget(400)
@given(call=getitem_calls())
def test_getitem(call):
    x, idx = call
    check("getitem", lambda t, i: t[i], lambda t, i: t[i], (x, idx))


@budget(150)
@given(call=getitem_calls(), value=st.one_of(st.floats(-3, 3), st.integers(-3, 3), tensor_arrays(max_dims=2)))
def test_setitem(call, value):
    x, idx = call

    def run(t, i, v):
        t = t.detach().clone()
        t[i] = v
        return t

    check("setitem", run, run, (x, idx, value), grads=False)


@st.composite
def gather_calls(draw):
    """gather / take_along_dim / scatter_add / index_select / masked_fill with drawn arguments."""
    name = draw(st.sampled_from(["gather", "scatter_add", "index_select", "masked_fill",
                                 "take_along_dim"]))
    x = draw(tensor_arrays(_FLOAT_OR_INT, min_dims=0, max_dims=3))
    n = x.ndim
    dim = draw(st.integers(-n - 1, n))
    side = max(x.shape) if x.shape else 1
    ints = st.integers(-2, side + 1)
    same_rank = draw(st.booleans())
    index_shape = tuple(draw(st.integers(0, s + 1)) for s in x.shape) if same_rank else draw(shapes(0, 3))
    index = draw(hnp.arrays(np.int64, index_shape, elements=ints))
    if name in ("gather", "take_along_dim"):
        return name, (x, dim, index) if name == "gather" else (x, index, dim)
    if name == "scatter_add":
        src = draw(arrays(x.dtype.name if draw(st.integers(0, 5)) else "float64", index_shape))
        return name, (x, dim, index, src)
    if name == "index_select":
        return name, (x, dim, draw(hnp.arrays(np.int64, draw(shapes(0, 2)), elements=ints)))
    mask = draw(hnp.arrays(np.bool_, x.shape if draw(st.booleans()) else draw(shapes(0, 3))))
    return name, (x, mask, draw(st.one_of(st.floats(-3, 3), st.integers(-3, 3))))


@budget(250)
@given(call=gather_calls())
def test_gather_family(call):
    name, args = call
    check(name, getattr(ember, name), getattr(torch, name), args)
