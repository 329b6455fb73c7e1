"""Order statistics and nan-aware reductions: kthvalue, median, nanmedian, mode, quantile,
nanquantile, nansum, nanmean, aminmax.

Positions are found on the arrays (a stable sort puts nan last, as torch); values are then
gathered with the differentiable ``gather``, so each gradient goes where its value came from.
A median over everything shares its gradient evenly among the entries equal to it, as torch.
"""
from __future__ import annotations

from .. import backend, dtypes
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import index as I
from . import reduce as R
from . import shape as S
from . import sort as O
from .registry import apply, declare, primitive
from .returns import return_type


def _pick(input: Tensor, axis: int, positions, keepdim: bool) -> R.ValuesIndices:
    """(values, indices) where ``positions`` (an array with size 1 along ``axis``) are the
    indices into ``input`` along ``axis``."""
    indices = Tensor._make(positions.astype("int64"))
    values = I.gather(input, axis, indices)
    if not keepdim:
        values, indices = S.squeeze(values, axis), S.squeeze(indices, axis)
    return R.ValuesIndices((values, indices))


def _ranked(input: Tensor, axis: int, rank):
    """The positions in ``input`` of the entries of sorted rank ``rank`` (an array broadcasting
    against ``input`` with size 1 along ``axis``) in the stable ascending order."""
    xp = input.xp
    order = O._order_fwd(xp, input._data, axis, False)
    return xp.take_along_axis(order, xp.asarray(rank, dtype=xp.int64), axis=axis)


def _check_dim(op: str, input: Tensor, dim) -> int:
    axis = _wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim and input._data.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size.")
    return axis


def _scalar_case(input: Tensor) -> R.ValuesIndices:
    """A 0-d input is its own order statistic, at index 0."""
    return R.ValuesIndices((input, E.const_zeros(E.cast(input, dtypes.int64))))


@declare(out="exact", method=True)
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> R.ValuesIndices:
    """``(values, indices)`` of the ``k``-th smallest entry along ``dim`` (``k`` from 1)."""
    axis = _check_dim("kthvalue", input, dim)
    n = input._data.shape[axis] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim} "
                           f"(k = {k}, size {n})")
    if input._data.ndim == 0:
        return _scalar_case(input)
    shape = tuple(1 if d == axis else s for d, s in enumerate(input._data.shape))
    return _pick(input, axis, _ranked(input, axis, input.xp.full(shape, k - 1)), keepdim)


def _median_along(input: Tensor, axis: int, keepdim: bool, skip_nan: bool) -> R.ValuesIndices:
    """The lower median along ``axis``: a slice with nan gives its first nan (``skip_nan``: the
    median of its other entries, nan only when all are)."""
    xp, data = input.xp, input._data
    n = data.shape[axis]
    valid = (~xp.isnan(data)).sum(axis=axis, keepdims=True) if data.dtype.kind == "f" else \
        xp.full(tuple(1 if d == axis else s for d, s in enumerate(data.shape)), n)
    if skip_nan:
        rank = xp.maximum(valid - 1, 0) // 2
    else:
        rank = xp.where(valid < n, valid, (n - 1) // 2)
    return _pick(input, axis, _ranked(input, axis, rank), keepdim)


def _evenly(input: Tensor, value: Tensor) -> Tensor:
    """``value`` (an order statistic of all of ``input``) with torch's derivatives, those of
    ``max()`` over the entries equal to it (the nan ones when it is nan): the gradient shared
    evenly among them, the tangent read evenly (nan at a nan value, as torch's)."""
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        return value
    m = Tensor._make(value._data)
    hits = E.logical_or(E.eq(input, m), E.logical_and(E.isnan(input), E.isnan(m)))
    # at -inf the others, made -inf too, would tie with it: there the min over the others made
    # +inf is taken (chosen on the device: no host read; the branch not taken gets no gradient)
    lowest = R.min(E.where(hits, input, float("inf")))
    return E.where(E.eq(m, float("-inf")), lowest, R.max(E.where(hits, input, float("-inf"))))


_NOT_BOOL = E.kernels_for("iuf")  # torch's median kernels have no bool form


def _median(op: str, skip_nan: bool):
    def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
        _NOT_BOOL(op, input)
        if dim is None:
            if input._data.size == 0:  # nan, still in the graph (its gradient is empty)
                if input._data.dtype.kind not in dtypes.FLOAT_KINDS:  # torch's nan as an integer: the lowest
                    low = input.xp.iinfo(input._data.dtype).min
                    return Tensor._make(input.xp.full((), low, dtype=input._data.dtype))
                return E.add(R.sum(input), float("nan"))
            flat = S.reshape(input, (-1,))
            return _evenly(flat, _median_along(flat, 0, False, skip_nan)[0])
        axis = _check_dim(op, input, dim)
        if input._data.ndim == 0:
            return _scalar_case(input)
        return _median_along(input, axis, keepdim, skip_nan)

    median.__name__ = op
    median.__doc__ = ("The lower median of all entries, or ``(values, indices)`` along ``dim``"
                      + ("; nan entries are left out." if skip_nan else "; nan if a nan is among them."))
    return median


median = declare(_median("median", False), method=True, out="exact")
nanmedian = declare(_median("nanmedian", True), method=True, out="exact")


@declare(out="exact", method=True)
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> R.ValuesIndices:
    """``(values, indices)`` of the most frequent value along ``dim`` (the smallest among equally
    frequent ones; its last position)."""
    axis = _check_dim("mode", input, dim)
    if input._data.ndim == 0:
        return _scalar_case(input)
    xp, data = input.xp, input._data
    moved = xp.moveaxis(data, axis, -1)
    ordered = xp.sort(moved.astype(xp.int8) if data.dtype.kind == "b" else moved, axis=-1)
    n = moved.shape[-1]
    positions = xp.arange(n, dtype=xp.int64)
    starts = xp.ones(ordered.shape, dtype=bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    run_start = xp.maximum.accumulate(xp.where(starts, positions, 0), axis=-1)
    run_length = positions - run_start + 1  # at each entry: the length of its run so far
    # the first run to reach the greatest length is the smallest of the most frequent values
    end = xp.argmax(run_length == run_length.max(axis=-1, keepdims=True), axis=-1)[..., None]
    value = xp.take_along_axis(ordered, end, axis=-1).astype(moved.dtype)
    last = xp.where(moved == value, positions, -1).max(axis=-1, keepdims=True)
    return _pick(input, axis, xp.moveaxis(last, -1, axis), keepdim)


# ---------------------------------------------------------------------------- quantiles

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_args(op: str, input: Tensor, q) -> Tensor:
    """``q`` as a tensor of ``input``'s dtype, checked as torch checks it."""
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype (got "
                           f"{dtypes.scalar_name(input.dtype)})")
    if isinstance(q, Tensor):
        if q._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor (got "
                               f"{q.dtype} and {input.dtype})")
        if q._data.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor (got shape {list(q.shape)})")
        if q._data.size:  # checked on the device: a GPU reads the flag with the next read
            backend.require((q._data >= 0).all() & (q._data <= 1).all(), lambda: RuntimeError(
                f"{op}() q values must be in the range [0, 1]"))
        return q
    if not 0 <= float(q) <= 1:
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
    return E.as_tensor_like(float(q), input, input.dtype, op)


def _quantile(op: str, skip_nan: bool):
    def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        q = _quantile_args(op, input, q)
        if interpolation not in _INTERPOLATIONS:
            raise RuntimeError(f"{op}() interpolation must be one of {', '.join(_INTERPOLATIONS)}. "
                               f"Got {interpolation!r}")
        x = S.reshape(input, (-1,)) if dim is None else input
        if x._data.ndim == 0:
            x = S.reshape(x, (1,))
        axis = _wrap_dim(0 if dim is None else dim, x._data.ndim, op)
        if x._data.shape[axis] == 0:
            raise RuntimeError(f"{op}() input tensor must be non-empty")
        out = _quantile_last(S.movedim(x, axis, -1), q, interpolation, skip_nan)
        return _quantile_shape(out, input, q, dim, axis, keepdim)

    quantile.__name__ = op
    quantile.__doc__ = ("The ``q``-th quantiles along ``dim`` (of everything by default), "
                        "interpolated between the neighbouring order statistics"
                        + (" of the non-nan entries." if skip_nan else "; nan if a nan is among them."))
    return quantile


def _quantile_last(x: Tensor, q: Tensor, interpolation: str, skip_nan: bool) -> Tensor:
    """Quantiles along the last dim of ``x``, shaped ``q.shape + x.shape[:-1]``."""
    xp = x.xp
    ordered = O.sort(x, -1)[0]
    n = x._data.shape[-1]
    nan = xp.isnan(x._data)
    if skip_nan:  # an all-nan slice has last -1: its ranks become 0 (a nan, as torch)
        last = (n - nan.sum(axis=-1, keepdims=True) - 1).astype(x._data.dtype)
    else:
        last = xp.full(nan.shape[:-1] + (1,), n - 1, dtype=x._data.dtype)
    qs = S.reshape(q, q._data.shape + (1,) * x._data.ndim)
    ranks = E.mul(qs, Tensor._make(last))  # q.shape + batch + (1,)
    if skip_nan:
        ranks = E.where(E.lt(ranks, 0), 0.0, ranks)
    else:  # a slice with nan gives its last entry: the nan
        ranks = E.where(Tensor._make(nan.any(axis=-1, keepdims=True)), float(n - 1), ranks)
    rounding = {"lower": E.floor, "higher": E.ceil, "nearest": E.round}.get(interpolation)
    if rounding is not None:
        ranks = rounding(ranks)
    below = E.cast(E.floor(ranks), dtypes.int64)
    full = S.expand(ordered, ranks._data.shape[:-1] + (n,))
    values = I.gather(full, -1, below)
    if interpolation in ("linear", "midpoint"):
        above = I.gather(full, -1, E.cast(E.ceil(ranks), dtypes.int64))
        weight = 0.5 if interpolation == "midpoint" else E.sub(ranks, E.floor(ranks))
        values = E.lerp(values, above, weight)
    return S.squeeze(values, -1)


def _quantile_shape(out: Tensor, input: Tensor, q: Tensor, dim, axis: int, keepdim: bool) -> Tensor:
    """torch's result shape: q's dim first, then the input's, the reduced one kept as 1 with
    ``keepdim`` (every one of them when ``dim`` is None)."""
    if not keepdim:
        return out
    lead = q._data.shape
    if dim is None:
        return S.reshape(out, lead + (1,) * input._data.ndim)
    return S.unsqueeze(out, len(lead) + axis) if input._data.ndim else out


quantile = declare(_quantile("quantile", False), method=True, out="exact")
nanquantile = declare(_quantile("nanquantile", True), method=True, out="exact")


# ---------------------------------------------------------------------------- nan-aware sums


_nan_to_zero = primitive(
    "nan_to_zero", lambda xp, x: xp.where(xp.isnan(x), xp.zeros((), x.dtype), x),
    lambda g, out, x: (E.mul(g, E.logical_not(E.isnan(x))),), reads_inputs=True,
    jvp="elementwise", batch="elementwise",
    formula="d/dx = 1 where x is not nan, else 0 (multiplied: an inf gradient gives nan there)",
    fused="torch's gradient: g * (x is not nan), so an infinite g gives nan at nan entries "
          "(nanmean of an all-nan slice), where a where() would give 0")


def _without_nan(input: Tensor) -> Tensor:
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        return input
    return apply(_nan_to_zero, input)


@declare(out=True, method=True)
def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum over ``dim`` with nan entries counted as zero."""
    return R.sum(_without_nan(input), dim, keepdim, dtype=dtype)


@declare(out=True, method=True)
def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean over ``dim`` of the entries that are not nan."""
    if dtype is not None:
        input = E.cast(input, dtype)
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but "
                           f"got {dtypes.scalar_name(input.dtype)}")
    count = R.sum(E.logical_not(E.isnan(input)), dim, keepdim)
    return E.div(nansum(input, dim, keepdim), count)


MinMax = return_type("aminmax", "min", "max")


@declare(out="exact", method=True)
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """``(min, max)`` over ``dim`` (all entries by default) in one call."""
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        lo, hi = R.amin(input), R.amax(input)
        if keepdim:
            ones = (1,) * input._data.ndim
            lo, hi = S.reshape(lo, ones), S.reshape(hi, ones)
        return MinMax((lo, hi))
    axis = _wrap_dim(dim, input._data.ndim, "aminmax")
    if input._data.ndim and input._data.shape[axis] == 0:
        raise IndexError(f"aminmax(): Expected reduction dim {axis} to have non-zero size.")
    return MinMax((R.amin(input, dim, keepdim), R.amax(input, dim, keepdim)))
