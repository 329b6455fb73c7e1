"""Scatter and indexed writes: scatter, scatter_reduce, index_add/copy/fill/put/reduce, put, take,
masked_scatter, select and the ``*_scatter`` ops, ``Tensor.unfold``, ``argwhere``.

Two primitives carry them all: index.py's ``index_put`` (overwrite the positions an index names)
and ``reduce_into`` here (combine values into those positions with sum, prod, amax or amin).
Every op builds the index tuple NumPy's advanced indexing understands, so one rule serves each
kind of write, and each rule is written in these same ops: derivatives of every order.
"""
from __future__ import annotations

import warnings

from .. import backend, dtypes
from ..tensor import Tensor, _wrap_dim
from . import batching as B
from . import elementwise as E
from . import index as I
from . import reduce as R
from . import shape as S
from .registry import apply, declare, primitive

_UFUNCS = {"sum": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}
_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _identity(xp, dtype, reduce: str):
    """The value that leaves ``reduce`` unchanged (what ``include_self=False`` starts from)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -float("inf") if reduce == "amax" else float("inf")
    info = xp.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _reduce_into_fwd(xp, x, src, idx, reduce, include_self):
    out = x.copy()
    base, inner = I._target(out, idx)
    if not include_self:
        base[inner] = _identity(xp, x.dtype, reduce)
    getattr(xp, _UFUNCS[reduce]).at(base, inner, src)
    return out


def _hit(x: Tensor, idx) -> Tensor:
    """A bool tensor shaped like ``x``: True at the positions ``idx`` writes to."""
    mask = x.xp.zeros(x._data.shape, dtype=bool)
    base, inner = I._target(mask, idx)
    base[inner] = True
    return Tensor._make(mask)


def _pick(t: Tensor, idx) -> Tensor:
    return apply(I._getitem, t, idx=idx)


def _reduce_into_rule(g, out, x, src, idx, reduce, include_self):
    """torch's scatter_reduce backward, in Ember ops (so it differentiates again)."""
    gx, gsrc = _reduce_into_partials(g, out, x, src, idx, reduce, include_self)
    return (gx if x.requires_grad else None,
            R.sum_to(gsrc, src._data.shape) if src.requires_grad else None)


def _reduce_into_jvp(tangents, out, x, src, idx, reduce, include_self):
    """Each result entry moves by its inputs' tangents times their partials (the VJP's
    weights for a cotangent of ones): those of ``x`` in place, those of ``src`` summed in."""
    wx, wsrc = _reduce_into_partials(E.const_ones(out), out, x, src, idx, reduce, include_self)
    tx, tsrc = tangents
    return apply(_reduce_into, E.const_zeros(out) if tx is None else E.mul(tx, wx),
                 E.const_zeros(src) if tsrc is None else E.mul(tsrc, wsrc),
                 idx=idx, reduce="sum", include_self=True)


def _reduce_into_partials(g, out, x, src, idx, reduce, include_self):
    """``g`` times the derivative of each result entry by the ``x`` and ``src`` entries in it."""
    if reduce == "sum":
        gx, gsrc = g, _pick(g, idx)
    elif reduce == "prod":
        gx, gsrc = _prod_grads(g, out, x, src, idx, include_self)
    else:  # amax / amin: the gradient is shared evenly among the values that attain the result
        x_wins = E.eq(x, out)
        src_wins = E.eq(src, _pick(out, idx))
        ones = E.cast(x_wins, g.dtype)
        count = apply(_reduce_into, ones, E.cast(src_wins, g.dtype), idx=idx, reduce="sum",
                      include_self=True)
        share = E.div(g, count)  # 0 winners (a nan result): 0 * inf = nan, as torch
        gx = E.mul(ones, share)
        gsrc = E.mul(E.cast(src_wins, g.dtype), _pick(share, idx))
    if not include_self:  # the overwritten entries of x had no say in the result
        gx = E.where(_hit(x, idx), 0.0, gx)
    return gx, gsrc


def _prod_grads(g, out, x, src, idx, include_self):
    """d prod: the product of the others; a zero input's own gradient is the product without it."""
    x_safe = E.where(E.eq(x, 0), 1.0, x)
    without_x = apply(_reduce_into, x_safe, src, idx=idx, reduce="prod", include_self=include_self)
    gx = E.div(E.mul(g, without_x), x_safe)
    src_zero = E.eq(src, 0)
    zeros_in_group = apply(_reduce_into, E.const_zeros(x), E.cast(src_zero, x.dtype), idx=idx,
                           reduce="sum", include_self=True)
    lone_zero = E.logical_and(src_zero, E.eq(_pick(zeros_in_group, idx), 1))
    src_safe = E.where(lone_zero, 1.0, src)
    without_src = apply(_reduce_into, x, src_safe, idx=idx, reduce="prod", include_self=include_self)
    divided = E.div(_pick(E.mul(g, out), idx), E.where(src_zero, 1.0, src))
    gsrc = E.where(lone_zero, _pick(E.mul(g, without_src), idx), divided)
    return gx, gsrc


def _reduce_into_batch(prim, args: list, bdims: list, idx, **kw) -> Tensor:
    """vmap: a batch index in front of ``idx`` when it is index arrays for every dim (scatter's
    and index_add's), on inputs batched first; other index forms run once per sample."""
    if not isinstance(idx, tuple) or not all(hasattr(i, "ndim") for i in idx):
        return B._loop(prim, args, bdims, dict(kw, idx=idx))
    x, src = B.batched_everywhere(args, bdims)
    xp = x.xp
    rank = len(xp.broadcast_shapes(*[i.shape for i in idx]))
    n = x._data.shape[0]
    lead = xp.arange(n, dtype=xp.int64).reshape((n,) + (1,) * rank)
    return apply(prim, x, src, idx=(lead,) + tuple(i[None] for i in idx), **kw)


_reduce_into = primitive(
    "reduce_into", _reduce_into_fwd, _reduce_into_rule, saves_out=True, batchable=False,
    jvp=_reduce_into_jvp, batch=_reduce_into_batch,
    formula="sum: g to the input, g gathered to the source; prod: the product of the others; "
            "amax/amin: shared evenly among the values that attain the result",
)


def _reduce_at(x: Tensor, src: Tensor, idx, reduce: str, include_self: bool) -> Tensor:
    """``x`` with ``src`` combined into the positions ``idx`` by ``reduce`` (mean included)."""
    if src._data.dtype != x._data.dtype:
        src = E.cast(src, x.dtype)
    if reduce != "mean":
        return apply(_reduce_into, x, src, idx=idx, reduce=reduce, include_self=include_self)
    total = apply(_reduce_into, x, src, idx=idx, reduce="sum", include_self=include_self)
    ones = E.const_ones(src)
    count = apply(_reduce_into, E.const_ones(x) if include_self else E.const_zeros(x), ones,
                  idx=idx, reduce="sum", include_self=include_self)
    count = E.where(E.eq(count, 0), E.const_ones(count), count)
    if x._data.dtype.kind in "iub":
        return E.floor_divide(total, count)
    return E.div(total, count)


def _check_reduce(op: str, reduce: str, allowed: tuple = _REDUCES) -> str:
    """The reduction's name (torch also takes ``max`` and ``min`` for amax and amin)."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce) if "amax" in allowed else reduce
    if reduce not in allowed:
        raise RuntimeError(f"{op}(): reduce argument must be one of {', '.join(allowed)}, "
                           f"got {reduce!r}")
    return reduce


def _check_index_dtype(op: str, index: Tensor) -> None:
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): Expected dtype int64 for index (got {got})")


def _check_same_dtype(op: str, x: Tensor, src: Tensor) -> None:
    if x._data.dtype != src._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got "
                           f"{x.dtype} and {src.dtype})")


# ---------------------------------------------------------------------------- along a dim


def _along_dim(op: str, x: Tensor, dim: int, index: Tensor, src: Tensor | None):
    """(x as 1-D if 0-d, index tuple, src cut to index's shape) for a scatter along ``dim``."""
    axis = _wrap_dim(dim, x._data.ndim, op)
    I._check_gather(op, x, axis, index)
    x1, index1 = I._as_1d(x), I._as_1d(index)
    if src is not None:
        src1 = I._as_1d(src)
        if index._data.size and max(src._data.ndim, 1) != index1._data.ndim:
            raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                               f"src tensor (got index of shape {list(index.shape)} and src of "
                               f"shape {list(src.shape)})")
        for d, (a, b) in enumerate(zip(index1._data.shape, src1._data.shape)):
            if a > b:
                raise RuntimeError(f"{op}(): Size does not match at dimension {d} expected index "
                                   f"{list(index.shape)} to be smaller than src "
                                   f"{list(src.shape)}")
        corner = tuple(slice(0, s) for s in index1._data.shape)
        src = src1 if src1._data.shape == index1._data.shape else I.take(src1, corner)
    return x1, I._along(x.xp, index1._data, axis), src


def _value_tensor(op: str, value, like: Tensor) -> Tensor:
    """A scalar value (number or 0-d tensor) in ``like``'s dtype."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"{op}(): only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        return E.cast(value, like.dtype)
    return E.as_tensor_like(value, like, like.dtype, op)


@declare(out="exact", method=True, inplace=True)
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """``input`` with ``src`` (or ``value``) written at the positions ``index`` names along ``dim``.

    ``reduce="add"`` or ``"multiply"`` combines instead of overwriting (torch's older form of
    ``scatter_reduce``).
    """
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is not None:
        _check_same_dtype("scatter", input, src)
    if reduce is not None:
        _check_reduce("scatter", reduce, ("add", "multiply"))
        if src is not None:
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                          "will be removed in a future PyTorch release. Use torch.scatter_reduce "
                          "instead for more reduction options.", UserWarning, stacklevel=2)
    if not index._data.size:
        I._check_gather("scatter", input, _wrap_dim(dim, input._data.ndim, "scatter"), index)
        return S.flip(input, ())
    x, idx, src = _along_dim("scatter", input, dim, index, src)
    if src is None:
        src = S.expand(_value_tensor("scatter", value, input), index._data.shape or (1,))
    if reduce is None:
        out = apply(I._index_put, x, src, idx=idx)
    else:
        out = _reduce_at(x, src, idx, "sum" if reduce == "add" else "prod", True)
    return S.reshape(out, input._data.shape)


@declare(out="exact", method=True, inplace=True)
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``src`` combined into ``input`` at ``index`` along ``dim`` by sum, prod, mean, amax or amin."""
    reduce = _check_reduce("scatter_reduce", reduce)
    _check_same_dtype("scatter_reduce", input, src)
    if not index._data.size:
        I._check_gather("scatter_reduce", input, _wrap_dim(dim, input._data.ndim, "scatter_reduce"),
                        index)
        return S.flip(input, ())
    x, idx, src = _along_dim("scatter_reduce", input, dim, index, src)
    return S.reshape(_reduce_at(x, src, idx, reduce, include_self), input._data.shape)


# ---------------------------------------------------------------------------- index_* along a dim


def _index_dim(op: str, x: Tensor, dim: int, index: Tensor, source: Tensor | None,
               errors: type = RuntimeError, negatives: bool = False,
               not_vector: str = ""):
    """(x as 1-D if 0-d, index tuple, source as 1-D if 0-d) for ``index_add`` and its kin.

    ``errors`` is the class torch raises for an index out of range or a source of the wrong
    shape (it differs between these ops); ``negatives``: positions count from the end too;
    ``not_vector``: the op's own RuntimeError message for an index of more than one dim, where
    torch words and classes it apart (``index_fill``).
    """
    _check_index_dtype(op, index)
    if index._data.ndim > 1:
        if not_vector:
            raise RuntimeError(not_vector)
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: "
                         f"{index._data.ndim} with size: {list(index.shape)}")
    x1 = I._as_1d(x)
    axis = _wrap_dim(dim, x._data.ndim, op)
    flat = index._data.reshape(-1)
    size = x1._data.shape[axis]
    if flat.size:
        I._require_in_range(flat, -size if negatives else 0, size, lambda bad: errors(
            f"{op}(): index {bad} is out of bounds for dimension {axis} with size {size}"))
    if source is not None:
        source = I._as_1d(source)
        want = x1._data.shape[:axis] + (flat.shape[0],) + x1._data.shape[axis + 1:]
        if source._data.shape != want:
            raise errors(f"{op}(): source of shape {list(source.shape)} does not fit self of "
                         f"shape {list(x.shape)} with {flat.shape[0]} indices along dim {dim} "
                         f"(expected {list(want)})")
    return x1, (slice(None),) * axis + (flat,), source


@declare(out="exact", method=True, inplace=True)
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` added at the positions ``index`` names along ``dim``."""
    _check_same_dtype("index_add", input, source)
    x, idx, source = _index_dim("index_add", input, dim, index, source)
    if alpha != 1:
        source = E.mul(source, alpha)
    return S.reshape(_reduce_at(x, source, idx, "sum", True), input._data.shape)


@declare(out="exact", method=True, inplace=True)
def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``source`` combined into ``input`` at ``index`` along ``dim`` by prod, mean, amax or amin."""
    warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning,
                  stacklevel=2)
    reduce = _check_reduce("index_reduce", reduce, ("prod", "mean", "amax", "amin"))
    _check_same_dtype("index_reduce", input, source)
    x, idx, source = _index_dim("index_reduce", input, dim, index, source, IndexError)
    return S.reshape(_reduce_at(x, source, idx, reduce, include_self), input._data.shape)


@declare(out="exact", method=True, inplace=True)
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices of ``source`` written at the positions ``index`` names along ``dim``."""
    _check_same_dtype("index_copy", input, source)
    x, idx, source = _index_dim("index_copy", input, dim, index, source, IndexError)
    return S.reshape(apply(I._index_put, x, source, idx=idx), input._data.shape)


@declare(method=True, inplace=True)
def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with ``value`` written at the positions ``index`` names along ``dim``."""
    x, idx, _ = _index_dim("index_fill", input, dim, index, None, IndexError, negatives=True,
                           not_vector="Index has to be a vector/scalar")
    v = _value_tensor("index_fill", value, input)
    return S.reshape(E.where(_hit(x, idx), v, x), input._data.shape)


@declare(method=True, inplace=True)
def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with ``values`` written (or, with ``accumulate``, added) at ``input[indices]``."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for i in indices:
        if i is not None and (not isinstance(i, Tensor) or i._data.dtype.kind not in "iub"):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if not accumulate:
        out = S.flip(input, ())
        out[tuple(indices)] = values
        return out
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{dtypes.scalar_name(input.dtype)} for the destination and "
            f"{dtypes.scalar_name(values.dtype)} for the source.")
    arr_idx = I._index_arrays(tuple(indices), input)
    I._check_bounds(arr_idx, input._data.shape)
    idx = I.torch_order(arr_idx)
    target = I._getitem_fwd(input.xp, input._data, idx).shape
    I._check_value_shape(values._data.shape, target)
    if values._data.ndim > len(target):
        values = S.reshape(values, values._data.shape[values._data.ndim - len(target):])
    return _reduce_at(input, values, idx, "sum", True)


@declare(name="index_put_")
def index_put_(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``torch.index_put_``: ``input.index_put_(indices, values, accumulate)``, in place."""
    return input.index_put_(indices, values, accumulate)


# ---------------------------------------------------------------------------- flat positions


def _flat_index(op: str, x: Tensor, index: Tensor):
    """``index`` as a checked 1-D array of positions in ``x`` flattened (negatives allowed)."""
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got "
                           f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}")
    n = x._data.size
    flat = index._data.reshape(-1)
    if flat.size:
        if not n:
            raise IndexError(f"{op}(): tried to take from an empty tensor")
        I._require_in_range(flat, -n, n, lambda bad: IndexError(
            f"{op}(): index {bad} out of range for tensor of {n} elements"))
    return flat


@declare(out="exact", method=True)
def take(input: Tensor, index: Tensor) -> Tensor:
    """The entries of ``input`` (as if flattened) at the positions in ``index``, shaped as it."""
    flat = _flat_index("take", input, index)
    picked = I.take(S.reshape(input, (-1,)), (flat,))
    return S.reshape(picked, index._data.shape)


@declare(method=True, inplace=True)
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` (as if flattened) with ``source`` written (or added) at the positions in ``index``."""
    flat = _flat_index("put", input, index)
    _check_same_dtype("put", input, source)
    if source._data.size != flat.size:
        raise IndexError(f"put(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source._data.size}, "
                           f"index.numel() = {flat.size}")
    x = S.reshape(input, (-1,))
    values = S.reshape(source, (-1,))
    if accumulate:
        out = _reduce_at(x, values, (flat,), "sum", True)
    else:
        out = apply(I._index_put, x, values, idx=(flat,))
    return S.reshape(out, input._data.shape)


@declare(method=True, inplace=True)
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the first entries of ``source``, in order, written where ``mask`` holds."""
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got "
                           f"{dtypes.scalar_name(mask.dtype)}")
    _check_same_dtype("masked_scatter", input, source)
    shape = E.broadcast_shape("masked_scatter", input._data.shape, mask._data.shape)
    x = S.expand(input, shape) if input._data.shape != shape else input
    m = mask._data if mask._data.shape == shape else mask.xp.broadcast_to(mask._data, shape)
    count = int(backend.read_scalar(m.sum()))
    if source._data.size < count:
        raise RuntimeError(f"masked_scatter: expected source to have at least as many elements as "
                           f"ones in mask (got {source._data.size} for {count} ones)")
    values = I.take(S.reshape(source, (-1,)), (slice(0, count),))
    return apply(I._index_put, x, values, idx=(m,))


# ---------------------------------------------------------------------------- slices of one dim


def _select_index(op: str, x: Tensor, dim: int, index: int) -> tuple:
    if x._data.ndim == 0:
        raise IndexError(f"{op}() cannot be applied to a 0-dim tensor.")
    axis = _wrap_dim(dim, x._data.ndim, op)
    size = x._data.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"{op}(): index {index} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {dim}")
    return (slice(None),) * axis + (index % size,)


@declare(method=True)
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (that dimension removed)."""
    return I.take(input, _select_index("select", input, dim, int(index)))


def _embed(op: str, x: Tensor, src: Tensor, idx: tuple) -> Tensor:
    """``x`` with ``src`` (cast to ``x``'s dtype) written at the basic index ``idx``; ``src``
    must have its shape."""
    target = I._getitem_fwd(x.xp, x._data, idx).shape
    if src._data.shape != target:
        raise RuntimeError(f"{op}(): expected src to have a size equal to the slice of self. src "
                           f"size = {list(src.shape)}, slice size = {list(target)}")
    if src._data.dtype != x._data.dtype:  # torch casts src to self's dtype here
        src = E.cast(src, x.dtype)
    return apply(I._index_put, x, src, idx=idx)


@declare(method=True)
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``src`` written as its slice at ``index`` along ``dim``."""
    return _embed("select_scatter", input, src, _select_index("select_scatter", input, dim, int(index)))


@declare(out="exact", method=True)
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """``input`` with ``src`` written as its slice ``start:end:step`` along ``dim``."""
    if step <= 0:
        raise RuntimeError("slice_scatter(): slice step must be positive")
    axis = _wrap_dim(dim, input._data.ndim, "slice_scatter")
    return _embed("slice_scatter", input, src, (slice(None),) * axis + (slice(start, end, step),))


def _diagonal_positions(xp, shape: tuple, offset: int, axis1: int, axis2: int):
    """Row and column positions of the diagonal ``offset`` of dims ``axis1``, ``axis2``."""
    rows, cols = shape[axis1], shape[axis2]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    start = xp.arange(n, dtype=xp.int64)
    return start - min(offset, 0), start + max(offset, 0)


@declare(method=True)
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """``input`` with ``src`` written on its diagonal (laid out as ``diagonal`` gives it)."""
    nd = input._data.ndim
    a1 = _wrap_dim(dim1, nd, "diagonal_scatter")
    a2 = _wrap_dim(dim2, nd, "diagonal_scatter")
    if a1 == a2:
        raise RuntimeError(f"diagonal_scatter(): diagonal dimensions cannot be identical "
                           f"{dim1}, {dim2}")
    rest = [d for d in range(nd) if d not in (a1, a2)]
    moved = S.permute(input, rest + [a1, a2])
    rows, cols = _diagonal_positions(input.xp, input._data.shape, offset, a1, a2)
    out = _embed("diagonal_scatter", moved, src, (Ellipsis, rows, cols))
    return S.permute(out, [(rest + [a1, a2]).index(d) for d in range(nd)])


def _windows(xp, length: int, size: int, step: int):
    """Positions of every window: row w holds ``w * step + [0, size)``."""
    count = (length - size) // step + 1
    return xp.arange(count, dtype=xp.int64)[:, None] * step + xp.arange(size, dtype=xp.int64)


def _unfold_fwd(xp, x, axis, size, step):
    count = (x.shape[axis] - size) // step + 1
    shape = x.shape[:axis] + (count,) + x.shape[axis + 1:] + (size,)
    strides = x.strides[:axis] + (x.strides[axis] * step,) + x.strides[axis + 1:] + (x.strides[axis],)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _unfold_rule(g, out, x, axis, size, step):
    windows = _windows(x.xp, x._data.shape[axis], size, step)
    lined_up = S.movedim(g, -1, axis + 1)  # (..., count, size, ...): as x[..., windows, ...]
    return (I.index_add_into(lined_up, x._data.shape, (slice(None),) * axis + (windows,)),)


_unfold = primitive("unfold", _unfold_fwd, _unfold_rule, reads_inputs=False, batchable=False,
                    jvp="linear", batch="dims",
                    formula="each window's gradient is added back to the positions it covers")


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every slice of length ``size`` along ``dimension``, ``step`` apart, in a new last dim:
    a view, as torch's (windows overlap when ``step < size``)."""
    x = I._as_1d(input)
    axis = _wrap_dim(dimension, x._data.ndim, "unfold")
    length = x._data.shape[axis]
    if size > length:
        raise RuntimeError(f"unfold(): maximum size for tensor at dimension {dimension} is "
                           f"{length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold(): step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"unfold(): size is {size} but must be >= 0")
    out = apply(_unfold, x, axis=axis, size=size, step=step)
    return S.reshape(out, (size,)) if input._data.ndim == 0 else out


declare(unfold, name="Tensor.unfold", prim=_unfold, method=True, namespaces=())


@declare(method=True)
def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero entries, one row each (``nonzero`` without ``as_tuple``)."""
    return I.nonzero(input)
