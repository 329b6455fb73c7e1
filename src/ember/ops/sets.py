"""Sets, counts and search: unique, unique_consecutive, bincount, histc, histogram,
searchsorted, bucketize, isin.

None of them has a derivative (their results are positions, counts or chosen values, as in
torch), so each is a forward on the arrays of the tensor's module and nothing else.
"""
from __future__ import annotations

import math

from .. import backend, dtypes
from ..tensor import Tensor, _wrap_dim
from .registry import declare
from .returns import return_type


def _extras(values, inverse, counts, return_inverse: bool, return_counts: bool):
    """The values alone, or with the inverse and counts asked for, as torch returns them."""
    parts = [values]
    if return_inverse:
        parts.append(inverse.astype("int64"))
    if return_counts:
        parts.append(counts.astype("int64"))
    tensors = tuple(Tensor._make(p) for p in parts)
    return tensors[0] if len(tensors) == 1 else tensors


@declare(method=True)
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct values (or slices along ``dim``) in ascending order; optionally where each
    entry went (``return_inverse``) and how often each value occurs (``return_counts``)."""
    xp, data = input.xp, input._data
    if dim is None:
        values, inverse, counts = xp.unique(data.reshape(-1), return_inverse=True,
                                            return_counts=True)
        return _extras(values, inverse.reshape(data.shape), counts, return_inverse, return_counts)
    axis = _wrap_dim(dim, data.ndim, "unique")
    if not data.size and data.shape[axis]:
        raise RuntimeError(f"unique(): There are 0 sized dimensions in shape {list(data.shape)}, "
                           "and they aren't selected, so unique cannot be applied")
    if data.shape[axis] == 0:
        empty = xp.zeros((0,), dtype="int64")
        return _extras(data, empty, empty, return_inverse, return_counts)
    values, inverse, counts = xp.unique(data, axis=axis, return_inverse=True, return_counts=True)
    return _extras(values, inverse.reshape(-1), counts, return_inverse, return_counts)


@declare(method=True)
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Each run of equal consecutive values (or slices along ``dim``) kept once, with where each
    entry went (``return_inverse``) and each run's length (``return_counts``)."""
    xp, data = input.xp, input._data
    axis = 0 if dim is None else _wrap_dim(dim, data.ndim, "unique_consecutive")
    rows = data.reshape(-1) if dim is None else xp.moveaxis(data, axis, 0)
    n = rows.shape[0]
    starts = xp.ones((n,), dtype=bool)
    if n > 1:
        differs = rows[1:] != rows[:-1]
        starts[1:] = differs.reshape(n - 1, -1).any(axis=1)
    first = xp.nonzero(starts)[0]
    values = rows[first] if dim is None else xp.moveaxis(rows[first], 0, axis)
    inverse = xp.cumsum(starts) - 1
    counts = xp.diff(xp.concatenate([first, xp.asarray([n], dtype=first.dtype)]))
    if dim is None:
        inverse = inverse.reshape(data.shape)
    return _extras(values, inverse, counts, return_inverse, return_counts)


@declare(method=True)
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer ``input`` (summing
    ``weights`` instead of ones when given)."""
    data = input._data
    if data.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount: not implemented for {dtypes.scalar_name(input.dtype)} "
                                  "input (it counts integers)")
    if data.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs (got shape "
                           f"{list(input.shape)} and dtype {input.dtype})")
    if minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0 (got {minlength})")
    if data.size:
        backend.require(data.min() >= 0, lambda: RuntimeError(
            "bincount only supports 1-d non-negative integral inputs (found a negative value)"))
    xp = input.xp
    if weights is None:
        return Tensor._make(xp.bincount(data, minlength=minlength).astype("int64"))
    if weights._data.shape != data.shape:
        raise RuntimeError(f"bincount(): weights should be 1-d and have the same length as input "
                           f"(got {list(weights.shape)} for input {list(input.shape)})")
    out = xp.bincount(data, weights=weights._data, minlength=minlength)
    kind = weights._data.dtype if weights._data.dtype.kind in dtypes.FLOAT_KINDS else "float64"
    return Tensor._make(out.astype(kind))


def _float_only(op: str, input: Tensor) -> None:
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise NotImplementedError(f"{op}: not implemented for {dtypes.scalar_name(input.dtype)} "
                                  "input (it takes floating point)")


def _count_into(x, edges, weights, bins: int, dtype):
    """Counts (or summed weights) of ``x`` in the bins between consecutive ``edges``: a bin holds
    its left edge, the last one its right edge too; values outside (and nan) count nowhere."""
    xp = backend.xp_of(x)
    x = x.reshape(-1)
    pos = xp.searchsorted(edges, x, side="right") - 1
    pos = xp.where(x == edges[-1], bins - 1, pos)
    inside = (x >= edges[0]) & (x <= edges[-1])
    w = inside.astype(dtype) if weights is None else xp.where(inside, weights.reshape(-1), 0)
    pos = xp.clip(pos, 0, bins - 1)
    return xp.bincount(pos, weights=w, minlength=bins)[:bins].astype(dtype)


def _limits(op: str, data, low, high) -> tuple:
    """The range of the bins: ``(low, high)`` as given, else the data's extremes (read back);
    it must be finite."""
    if low == high and data.size:
        low, high = backend.read_scalar(data.min()), backend.read_scalar(data.max())
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"{op}: range of [{low:g}, {high:g}] is not finite")
    return low, high


@declare(out="exact", method=True)
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of ``input`` in ``bins`` equal bins from ``min`` to ``max`` (the data's extremes
    when both are equal); values outside are not counted."""
    _float_only("torch.histc", input)
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError(f"torch.histc(): max must be larger than min (got min {min}, max {max})")
    low, high = _limits("torch.histc", input._data, min, max)
    if low == high:
        low, high = low - 1, high + 1
    xp, data = input.xp, input._data.reshape(-1)
    # torch's arithmetic, in the input's dtype: (x - low) * bins / (high - low), truncated
    lo, hi = xp.asarray(low, dtype=data.dtype), xp.asarray(high, dtype=data.dtype)
    inside = (data >= lo) & (data <= hi)
    pos = ((xp.where(inside, data, lo) - lo) * bins / (hi - lo)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    counts = xp.bincount(pos, weights=inside.astype(data.dtype), minlength=bins)
    return Tensor._make(counts.astype(data.dtype))


HistogramResult = return_type("histogram", "hist", "bin_edges")


@declare(out="exact", method=True)
def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None,
              density: bool = False):
    """``(hist, bin_edges)``: counts (or summed ``weight``) of ``input`` in ``bins`` bins (a
    count of equal bins over ``range`` or the data's extremes, or a tensor of edges)."""
    _float_only("torch.histogram", input)
    xp, data = input.xp, input._data
    if isinstance(bins, Tensor):
        if bins._data.ndim != 1 or bins._data.shape[0] < 1:
            raise RuntimeError("torch.histogram(): bins tensor should have one dimension and at "
                               f"least 1 element (got shape {list(bins.shape)})")
        edges = bins._data.astype(data.dtype)
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        low, high = _limits("torch.histogram", data, *(range or (0.0, 0.0)))
        if range is None and not data.size:  # torch: an empty input's bins span [0, 1]
            low, high = 0.0, 1.0
        if low > high:
            raise RuntimeError(f"torch.histogram(): max must be larger than min (got {low}, {high})")
        if low == high:
            low, high = low - 0.5, high + 0.5
        edges = xp.linspace(low, high, int(bins) + 1).astype(data.dtype)
    if weight is not None and weight._data.shape != data.shape:
        raise RuntimeError(f"torch.histogram(): weight should have the same shape as input (got "
                           f"{list(weight.shape)} and {list(input.shape)})")
    n = edges.shape[0] - 1
    hist = _count_into(data, edges, None if weight is None else weight._data, n, data.dtype)
    if density:
        hist = (hist / (hist.sum() * xp.diff(edges))).astype(data.dtype)
    return HistogramResult((Tensor._make(hist), Tensor._make(edges)))


def _as_values(values, like: Tensor):
    """``values`` as an array of ``like``'s module (a Python number becomes 0-d)."""
    if isinstance(values, Tensor):
        return values._data
    return like.xp.asarray(values)


@declare(out="exact")
def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Where each value of ``input`` would go in the last dim of ``sorted_sequence`` to keep it
    sorted (before equal entries, or after them with ``right``/``side="right"``)."""
    seq = sorted_sequence._data
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                               f"{side!r}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                               "side of left while right was True")
        right = side == "right"
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, "
                           "but got 0 dimension")
    values = _as_values(input, sorted_sequence)
    xp = sorted_sequence.xp
    if sorter is not None:
        if sorter._data.shape != seq.shape or sorter._data.dtype.kind not in "iu":
            raise RuntimeError("torch.searchsorted(): sorter must be a long tensor of the boundaries' "
                               f"shape {list(seq.shape)} (got {list(sorter.shape)} {sorter.dtype})")
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    if seq.ndim > 1 and seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor must "
                           f"match, but we got boundaries tensor {list(seq.shape)} and input value "
                           f"tensor {list(values.shape)}")
    out = _bisect(xp, seq, values, right)
    return Tensor._make(out.astype("int32" if out_int32 else "int64"))


def _bisect(xp, seq, values, right: bool):
    """torch's binary search, every value at once: the first position whose boundary is
    ``>= value`` (``> value`` with ``right``) in the last dim of ``seq`` (1-D: shared by all);
    nan goes last. The same halving steps as torch, so an unsorted row gives torch's answer."""
    n = seq.shape[-1]
    rows = seq.reshape(1, n) if seq.ndim == 1 else seq.reshape(-1, n)
    flat = values.reshape(rows.shape[0] if seq.ndim > 1 else 1, -1)
    start = xp.zeros(flat.shape, dtype=xp.int64)
    end = xp.full(flat.shape, n, dtype=xp.int64)
    for _ in range(n.bit_length()):
        mid = start + (end - start) // 2
        probe = xp.take_along_axis(rows, xp.minimum(mid, n - 1), axis=-1) if n else mid
        beyond = ~(probe > flat) if right else ~(probe >= flat)
        moving = start < end
        start = xp.where(moving & beyond, mid + 1, start)
        end = xp.where(moving & ~beyond, mid, end)
    return start.reshape(values.shape)


@declare(out="exact")
def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` among the 1-D sorted ``boundaries``
    (``boundaries[i-1] < x <= boundaries[i]``; ``right``: ``boundaries[i-1] <= x < boundaries[i]``)."""
    if boundaries._data.ndim != 1:
        raise RuntimeError("bucketize(): boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@declare(out="exact")
def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an entry of ``elements`` occurs in ``test_elements`` (False with ``invert``)."""
    like = elements if isinstance(elements, Tensor) else test_elements
    if not isinstance(like, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: at least one of "
                        "elements and test_elements must be a Tensor")
    for t in (elements, test_elements):
        if isinstance(t, Tensor) and t._data.dtype.kind == "b":
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    found = like.xp.isin(_as_values(elements, like), _as_values(test_elements, like), invert=invert)
    return Tensor._make(like.xp.asarray(found))
