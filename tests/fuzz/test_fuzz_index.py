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


FAULTS = (None, None, None, "range", "mask", "step", "count", "float")


@st.composite
def _in_range(draw, size: int):
    """An int index valid for a dimension of ``size`` (negative ones included)."""
    return draw(st.integers(-size, size - 1))


@st.composite
def getitem_calls(draw):
    """A tensor and an index for it, with at most one fault (so only one error can apply).

    Items walk the dimensions: ints, slices, None, one Ellipsis, lists, long tensors, masks and
    Python bools. The fault, if any: an out-of-range int, a mask of the wrong shape, a slice
    step <= 0, one index too many, or a float index tensor.
    """
    x = draw(tensor_arrays(min_dims=0, max_dims=3))
    fault = draw(st.sampled_from(FAULTS))
    idx, dim, real_slices = [], 0, []
    for _ in range(draw(st.integers(1, 3))):
        rest = x.ndim - dim
        kinds = ["none", "bool", "slice"] + ([] if _has_ellipsis(idx) else ["ellipsis"])
        if rest and x.shape[dim]:
            kinds += ["int", "int", "list", "long"]
        if rest:
            kinds += ["mask", "slice"]
        kind = draw(st.sampled_from(kinds))
        size = x.shape[dim] if rest else 0
        if kind == "int":
            idx.append(draw(_in_range(size)))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
            idx.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3]))))
            if rest:
                real_slices.append(len(idx) - 1)
        elif kind == "none":
            idx.append(None)
            continue
        elif kind == "ellipsis":
            idx.append(Ellipsis)
            dim = x.ndim  # what follows an ellipsis indexes the last dimensions: keep it simple
            continue
        elif kind == "bool":
            idx.append(draw(st.booleans()))
            continue
        elif kind == "list":
            idx.append(draw(st.lists(_in_range(size), max_size=3)))
        elif kind == "long":
            shape = draw(shapes(0, 2))
            idx.append(draw(hnp.arrays(np.int64, shape, elements=_in_range(size))))
        else:
            n = draw(st.integers(1, rest))
            idx.append(draw(hnp.arrays(np.bool_, x.shape[dim:dim + n])))
            dim += n
            continue
        if kind != "slice" or rest:
            dim += 1
    return x, _inject(draw, x, idx, fault, real_slices)


def _has_ellipsis(idx: list) -> bool:
    return any(i is Ellipsis for i in idx)


def _consumed(i) -> int:
    """How many dimensions of the indexed tensor an index item uses up."""
    if i is None or isinstance(i, bool):
        return 0
    if isinstance(i, np.ndarray) and i.dtype == np.bool_:
        return i.ndim
    return 1


def _inject(draw, x, idx: list, fault, slices: list):
    """Apply ``fault`` to a valid index (or leave it as it is when it has nothing to break)."""
    ints = [k for k, i in enumerate(idx) if isinstance(i, int) and not isinstance(i, bool)]
    masks = [k for k, i in enumerate(idx) if isinstance(i, np.ndarray) and i.dtype == np.bool_ and i.ndim]
    if fault == "range" and ints and not _has_ellipsis(idx):
        k = draw(st.sampled_from(ints))
        size = x.shape[sum(_consumed(i) for i in idx[:k])]
        idx[k] = draw(st.sampled_from([size, size + 2, -size - 1]))
    elif fault == "mask" and masks:
        k = draw(st.sampled_from(masks))
        idx[k] = np.zeros(tuple(s + 1 for s in idx[k].shape), dtype=bool)
    elif fault == "step" and slices:
        k = draw(st.sampled_from(slices))
        idx[k] = slice(idx[k].start, idx[k].stop, draw(st.sampled_from([0, -1])))
    elif fault == "count" and not _has_ellipsis(idx):
        idx += [0] * (x.ndim + 1 - sum(_consumed(i) for i in idx))
    elif fault == "float":
        idx[0] = np.array([0.0])
    return tuple(idx) if len(idx) > 1 or draw(st.booleans()) else idx[0]


@budget(400)
@given(call=getitem_calls())
def test_getitem(call):
    x, idx = call
    check("getitem", lambda t, i: t[i], lambda t, i: t[i], (x, idx))


@budget(150)
@given(call=getitem_calls(), value=st.one_of(st.floats(-3, 3), st.integers(-3, 3), tensor_arrays(max_dims=2)))
def test_setitem(call, value):
    x, idx = call
    items = idx if isinstance(idx, tuple) else (idx,)
    if isinstance(value, np.ndarray) and any(isinstance(i, (bool, np.ndarray)) for i in items):
        # torch's dtype check on index_put depends on its dispatch path (masked_fill for some
        # masks, index_put for others); compare same-dtype values there.
        value = value.astype(x.dtype)

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
    if name == "take_along_dim" and -n <= dim < n and x.shape[dim]:
        # torch 2.13 does not bound-check take_along_dim (index 4 of a size-2 dim reads row 0);
        # Ember raises there, so only valid (possibly negative) positions are compared.
        ints = st.integers(-x.shape[dim], x.shape[dim] - 1)
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
    # torch's index_select raises RuntimeError from its float kernel and IndexError from its
    # generic one for the same out-of-range index; Ember always raises IndexError.
    check(name, getattr(ember, name), getattr(torch, name), args,
          interchangeable=(IndexError, RuntimeError) if name == "index_select" else ())
