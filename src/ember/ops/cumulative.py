"""Running reductions along a dim: cumprod, cummax, cummin, logcumsumexp (cumsum is in reduce).

cummax/cummin find their positions on the arrays and gather the values, so their gradient is
gather's; cumprod and logcumsumexp are primitives whose rules are written in Ember ops.
"""
from __future__ import annotations

from .. import dtypes
from ..autograd.grad_mode import STATE
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import index as I
from . import reduce as R
from . import shape as S
from .registry import apply, batch_dims, declare


def _reverse_cumsum(t: Tensor, axis: int) -> Tensor:
    """``sum_{k >= j} t_k`` along ``axis``."""
    return S.flip(R.cumsum(S.flip(t, (axis,)), axis), (axis,))


def _on_1d(fn, input: Tensor, dim: int, op: str, **kw):
    """Run ``fn(x, axis)`` with a 0-d input seen as 1-D (as torch's scans do)."""
    _wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        out = fn(S.reshape(input, (1,)), 0, **kw)
        if isinstance(out, tuple):
            return R.ValuesIndices(tuple(S.reshape(o, ()) for o in out))
        return S.reshape(out, ())
    return fn(input, _wrap_dim(dim, input._data.ndim, op), **kw)


# ---------------------------------------------------------------------------- cumprod


def _cumprod_rule(g, out, x, axis):
    """Without zeros, ``reverse_cumsum(g * out) / x``. With zeros, torch's rule along each
    slice: that formula before the first zero; at it, the sum over later outputs of ``g``
    times the product of the other factors; after it, 0 (when the backward is itself recorded,
    the smooth form below)."""
    xp = x.xp
    if x._data.shape[axis] <= 1:  # the output is the input itself (torch: also for inf and 0)
        return (g,)
    zero = x._data == 0
    if not bool(xp.any(zero)):
        return (E.div(_reverse_cumsum(E.mul(g, out), axis), x),)
    if STATE.enabled:  # recording the backward (create_graph): a rule smooth in every x
        return (_cumprod_grad_smooth(g, x, axis),)
    n = x._data.shape[axis]
    shape = [1] * x._data.ndim
    shape[axis] = n
    pos = xp.arange(n).reshape(shape)
    first = xp.where(zero.any(axis=axis, keepdims=True), zero.argmax(axis=axis, keepdims=True), n)
    before, at, later = (Tensor._make(m) for m in (pos < first, pos == first, pos > first))
    ones, nothing = E.const_ones(x), E.const_zeros(g)
    gx = E.where(before, E.div(_reverse_cumsum(E.where(before, E.mul(g, out), nothing), axis),
                               E.where(before, x, ones)), nothing)
    prefix = cumprod(E.where(before, x, ones), axis)  # at the zero: the product before it
    tail = cumprod(E.where(later, x, ones), axis)  # after it: the product since it
    since = R.sum(E.where(E.logical_not(before), E.mul(g, tail), nothing), axis, keepdim=True)
    return (E.add(gx, E.where(at, E.mul(since, prefix), nothing)),)


def _products_of_others(x: Tensor, axis: int) -> tuple[Tensor, Tensor]:
    """``upto[k, i]`` (``i <= k``) and ``others[..., k, i] = prod_{i' <= k, i' != i} x_i'`` with
    ``axis`` moved last: every partial of the running product, zeros included."""
    n = x._data.shape[axis]
    moved = S.movedim(x, axis, -1)
    rows = S.expand(S.unsqueeze(moved, -2), moved._data.shape[:-1] + (n, n))  # [..., k, i] = x_i
    upto = Tensor._make(x.xp.tri(n, n, dtype=bool))  # [k, i]: i <= k
    factors = E.where(upto, rows, E.const_ones(rows))
    return upto, R._prod_of_others(factors, (factors._data.ndim - 1,))


def _cumprod_grad_smooth(g: Tensor, x: Tensor, axis: int) -> Tensor:
    """``sum_{k >= j} g_k prod_{i <= k, i != j} x_i`` spelled out over every (k, j) pair: the
    same values as the rule above, but differentiable again where x has zeros (torch too
    switches to such a form for double backward)."""
    upto, others = _products_of_others(x, axis)
    gk = S.unsqueeze(S.movedim(g, axis, -1), -1)
    gx = R.sum(E.where(upto, E.mul(gk, others), E.const_zeros(others)), -2)
    return S.movedim(gx, -1, axis)


def _cumprod_jvp(tangents, out, x, axis):
    """``d out_k = sum_{j <= k} t_j prod_{i <= k, i != j} x_i``: ``out * cumsum(t / x)`` without
    zeros; with zeros, the products of the others spelled out over every (k, j) pair."""
    t = tangents[0]
    if x._data.shape[axis] <= 1:
        return t
    if not bool(x.xp.any(x._data == 0)):
        return E.mul(out, R.cumsum(E.div(t, x), axis))
    upto, others = _products_of_others(x, axis)
    tj = S.unsqueeze(S.movedim(t, axis, -1), -2)
    dk = R.sum(E.where(upto, E.mul(tj, others), E.const_zeros(others)), -1)
    return S.movedim(dk, -1, axis)


def _cumprod(x: Tensor, axis: int) -> Tensor:
    return apply(cumprod.primitive, x, axis=axis)


@declare(out=True, method=True, inplace=True,
         forward=lambda xp, x, axis: xp.cumprod(x, axis=axis,
                                                dtype=None if x.dtype.kind == "f" else xp.int64),
         rule=_cumprod_rule, saves_out=True, batchable=False, jvp=_cumprod_jvp, batch="dims",
         formula="d/dx_j prod_{i<=k} x_i = prod_{i<=k, i!=j} x_i for j <= k")
def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim`` (integer and bool inputs give int64, as torch)."""
    if dtype is not None:
        input = R.cast_for("cumprod", input, dtype)
    return _on_1d(_cumprod, input, dim, "cumprod")


# ---------------------------------------------------------------------------- cummax / cummin


def _running_extreme(x: Tensor, axis: int, which: str) -> R.ValuesIndices:
    """(values, indices) of the running max or min; ties and nans take the latest position."""
    xp, data = x.xp, x._data
    ufunc = xp.maximum if which == "max" else xp.minimum
    ranked = data.astype(xp.uint8) if data.dtype.kind == "b" else data
    running = ufunc.accumulate(ranked, axis=axis) if data.size else ranked
    hit = ranked == running
    if data.dtype.kind == "f":
        hit |= xp.isnan(ranked)
    shape = [1] * data.ndim
    shape[axis] = data.shape[axis]
    positions = xp.arange(data.shape[axis], dtype=xp.int64).reshape(shape)
    latest = xp.where(hit, positions, 0)
    indices = Tensor._make(xp.maximum.accumulate(latest, axis=axis) if data.size else latest)
    return R.ValuesIndices((I.gather(x, axis, indices), indices))


def _scan_extreme(which: str):
    def op(input: Tensor, dim: int) -> R.ValuesIndices:
        return _on_1d(_running_extreme, input, dim, f"cum{which}", which=which)

    op.__name__ = f"cum{which}"
    op.__doc__ = (f"``(values, indices)`` of the running {which}imum along ``dim`` (a tie takes "
                  "the later position; the gradient goes where each value came from).")
    return op


cummax = declare(_scan_extreme("max"), method=True, out="exact")
cummin = declare(_scan_extreme("min"), method=True, out="exact")


# ---------------------------------------------------------------------------- logcumsumexp


def _logcumsumexp_rule(g, out, x, axis):
    """``d/dx_j = sum_{k >= j} g_k exp(x_j - out_k)``, summed in the log domain (the positive and
    the negative parts of ``g`` apart), as torch: no exponential overflows."""
    axis += batch_dims()
    lowest = float(x.xp.finfo(g._data.dtype).min)
    log_size = E.log(E.abs(g))

    def part(keep):
        logs = E.where(keep, log_size, lowest)
        backwards = S.flip(logcumsumexp(S.flip(E.sub(logs, out), (axis,)), axis), (axis,))
        return E.exp(E.add(backwards, x))

    return (E.sub(part(E.gt(g, 0)), part(E.lt(g, 0))),)


def _logcumsumexp_jvp(tangents, out, x, axis):
    """``d out_k = sum_{j <= k} t_j exp(x_j - out_k)``, in the log domain (the positive and the
    negative parts of ``t`` apart) as the VJP rule: no exponential overflows."""
    t = tangents[0]
    lowest = float(x.xp.finfo(t._data.dtype).min)
    log_size = E.add(E.log(E.abs(t)), x)

    def part(keep):
        return E.exp(E.sub(logcumsumexp(E.where(keep, log_size, lowest), axis), out))

    return E.sub(part(E.gt(t, 0)), part(E.lt(t, 0)))


def _logcumsumexp(x: Tensor, axis: int) -> Tensor:
    return apply(logcumsumexp.primitive, x, axis=axis)


@declare(out="exact", method=True,
         forward=lambda xp, x, axis: xp.logaddexp.accumulate(x, axis=axis) if x.size else x.copy(),
         rule=_logcumsumexp_rule, saves_out=True, jvp=_logcumsumexp_jvp, batch="dims",
         formula="d/dx_j logcumsumexp(x)_k = exp(x_j - out_k) for j <= k",
         fused="stability: each step is a logaddexp, so no running sum of exponentials overflows")
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, one logaddexp at a time (no overflow)."""
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise NotImplementedError(f"logcumsumexp: not implemented for "
                                  f"{dtypes.scalar_name(input.dtype)} input")
    if input._data.ndim == 0:  # itself, with gradient 1 (also at nan or inf), as torch
        _wrap_dim(dim, 0, "logcumsumexp")
        return S.flip(input, ())
    return _on_1d(_logcumsumexp, input, dim, "logcumsumexp")
