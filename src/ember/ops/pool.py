"""Pooling over sliding windows: max, average and adaptive pools for any number of spatial dims.

Max pooling picks, per window, the kernel tap holding the first maximum (torch's choice, NaN
wins) with a loop over the kernel's taps, never over pixels. ``take_taps`` and ``put_taps``
move values between windows and those taps; they are each other's derivative, so max
pooling is differentiable to any order. Average pooling is ``im2col`` summed over the
kernel, and the adaptive pools are products with constant per-dimension matrices.
"""
from __future__ import annotations

import math

from .. import backend, dtypes
from ..tensor import Tensor
from ..autograd.engine import torch_backward
from . import elementwise as E
from . import index as I
from . import reduce as R
from . import shape as S
from .batching import per_sample
from .conv import batched, check_non_negative, check_positive, ntuple
from .registry import apply, declare, primitive
from .window import (Geometry, im2col, kernel_offsets, make_geometry, output_size,
                     scatter_windows, window_view)


# ---------------------------------------------------------------------------- geometry


def pool_geometry(op: str, x: Tensor, dims: int, kernel_size, stride, padding, dilation,
                  ceil_mode: bool, reach: bool = True) -> Geometry:
    """Check a pool's arguments against torch's rules and return its window geometry.

    ``reach``: padding is limited by half the dilated kernel (max pool) or half the kernel.
    """
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    stride = kernel if stride is None or stride == [] or stride == () else \
        ntuple(op, "stride", stride, dims)
    pad = ntuple(op, "padding", padding, dims)
    dilation = ntuple(op, "dilation", dilation, dims)
    check_positive(op, "kernel_size", kernel)
    check_positive(op, "stride", stride)
    check_positive(op, "dilation", dilation)
    check_non_negative(op, "padding", pad)
    for p, k, d in zip(pad, kernel, dilation):
        limit = ((k - 1) * d + 1) // 2 if reach else k // 2
        if p > limit:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    size = tuple(x._data.shape[2:])
    out = tuple(output_size(s, k, d, st, p, p, ceil_mode)
                for s, k, d, st, p in zip(size, kernel, dilation, stride, pad))
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"{op}: given input size {list(x.shape[1:])}, the calculated output size "
            f"{[x._data.shape[1]] + list(out)} is too small (kernel_size={list(kernel)}, "
            f"padding={list(pad)}, dilation={list(dilation)}): the kernel is larger than the "
            "padded input"
        )
    return make_geometry(size, kernel, dilation, stride, pad, out)


# ---------------------------------------------------------------------------- taps


def _strides_of(shape: tuple) -> tuple:
    """Row-major element strides of ``shape``."""
    out = []
    step = 1
    for s in reversed(shape):
        out.append(step)
        step *= s
    return tuple(reversed(out))


def _along(geom: Geometry, dim: int, values):
    """A per-position vector along output ``dim``, shaped to broadcast over the output grid."""
    shape = [1] * len(geom.out)
    shape[dim] = geom.out[dim]
    return values.reshape(shape)


def _positions(xp, geom: Geometry, dim: int, taps):
    """Input coordinate along ``dim`` read by each window's tap (may be in the padding)."""
    tap = (taps // _strides_of(geom.kernel)[dim]) % geom.kernel[dim]
    start = xp.arange(geom.out[dim]) * geom.stride[dim] - geom.lo[dim]
    return _along(geom, dim, start) + tap * geom.dilation[dim]


def _first_real_tap(geom: Geometry):
    """Per window, the first tap inside the input (torch starts its search there): a host
    table of the geometry alone, for ``backend.table``."""
    np = backend.numpy
    first = np.zeros((1,) * len(geom.out), dtype=np.int64)
    for dim, step in enumerate(_strides_of(geom.kernel)):
        start = np.arange(geom.out[dim]) * geom.stride[dim] - geom.lo[dim]
        tap = -(-np.maximum(-start, 0) // geom.dilation[dim])
        first = first + _along(geom, dim, tap * step)
    return first


def _taps(xp, geom: Geometry):
    """The kernel taps as (index, offset) pairs and the smallest integer type that counts them."""
    dtype = xp.int8 if geom.kernel_numel < 128 else xp.int64
    return enumerate(kernel_offsets(geom)), dtype


def _taps_by_scan(xp, view, geom: Geometry, shape: tuple):
    """torch's scan: start at the first real tap, move on a strictly larger value or a NaN."""
    taps_iter, dtype = _taps(xp, geom)
    best = xp.full(shape, -math.inf, dtype=view.dtype)
    first = backend.table(_first_real_tap, geom, device=backend.device_of(view))
    taps = xp.broadcast_to(first, shape).astype(dtype)
    for t, offset in taps_iter:
        v = view[(slice(None), slice(None)) + offset]
        better = v > best
        better |= v != v
        xp.copyto(best, v, where=better)
        xp.copyto(taps, t, where=better)
    return taps


def _taps_by_stack(xp, view, geom: Geometry, out):
    """The scan's answer in a few whole-array kernels, for a GPU: the last NaN tap where a
    window holds a NaN, else the first tap holding the maximum ``out``, and the first real tap
    where that maximum is -inf (the scan never moves off it)."""
    taps_iter, dtype = _taps(xp, geom)
    stacked = xp.stack([view[(slice(None), slice(None)) + offset] for _, offset in taps_iter])
    nan = stacked != stacked
    last_nan = (stacked.shape[0] - 1) - xp.argmax(nan[::-1], axis=0)
    first = backend.table(_first_real_tap, geom, device=backend.device_of(view))
    taps = xp.where(out == -math.inf, first, xp.argmax(stacked, axis=0))
    return xp.where(nan.any(axis=0), last_nan, taps).astype(dtype)


def first_max_taps(xp, x, geom: Geometry, out):
    """Index of the first tap of each window holding its maximum ``out`` (as torch picks it).

    Branch-free: scan the taps backwards keeping the last hit. When a maximum is not finite
    (NaN or -inf, where torch's choice depends on its scan) the exact scan runs instead. A GPU
    takes the stacked form of the scan, as looking first would make the host wait.
    """
    view = window_view(xp, x, geom, fill=-math.inf)
    if xp is not backend.numpy:
        return _taps_by_stack(xp, view, geom, out)
    if not bool(xp.isfinite(out).all()):
        return _taps_by_scan(xp, view, geom, out.shape)
    taps_iter, dtype = _taps(xp, geom)
    taps = xp.zeros(out.shape, dtype=dtype)
    for t, offset in reversed(list(taps_iter)):
        hit = (view[(slice(None), slice(None)) + offset] == out).view(xp.int8)
        taps += hit * (dtype(t) - taps)
    return taps


def _bits(xp, dtype):
    """The unsigned integer type as wide as ``dtype``."""
    return xp.dtype(f"u{xp.dtype(dtype).itemsize}")


def select(xp, mask, a):
    """``a`` where ``mask`` else +0, without branches: a bitwise AND on the raw bits (exact for
    every value, inf and NaN included; a data-dependent ``where`` mispredicts on random masks).
    A GPU has no branches to mispredict: there it is one ``where``."""
    if xp is not backend.numpy:
        return xp.where(mask, a, a.dtype.type(0))
    bits = _bits(xp, a.dtype)
    ones = xp.asarray(xp.iinfo(bits).max, dtype=bits)
    return (a.view(bits) & (mask.view(xp.uint8) * ones)).view(a.dtype)


def _max_fwd(xp, x, geom):
    view = window_view(xp, x, geom, fill=-math.inf)
    best = None
    for offset in kernel_offsets(geom):
        v = view[(slice(None), slice(None)) + offset]
        best = v.copy() if best is None else xp.maximum(best, v, out=best)
    return best


def _take_fwd(xp, x, taps, geom):
    view = window_view(xp, x, geom)
    bits = _bits(xp, x.dtype)
    out = xp.zeros(taps.shape, dtype=bits)
    taps_iter, _ = _taps(xp, geom)
    for t, offset in taps_iter:
        out |= select(xp, taps == t, view[(slice(None), slice(None)) + offset]).view(bits)
    return out.view(x.dtype)


def _put_fwd(xp, g, taps, geom):
    taps_iter, _ = _taps(xp, geom)
    pieces = ((offset, select(xp, taps == t, g)) for t, offset in taps_iter)
    return scatter_windows(xp, g.shape[:2], g.dtype, geom, pieces)


def _max_taps(out, x, geom) -> Tensor:
    """Which tap of each window holds its (first) maximum."""
    return Tensor._make(first_max_taps(x.xp, x._data, geom, out._data))


def _max_rule(g, out, x, geom):
    return (put_taps(g, _max_taps(out, x, geom), geom),)


def _max_jvp(tangents, out, x, geom):
    return take_taps(tangents[0], _max_taps(out, x, geom), geom)


_max = primitive(
    "max_pool", _max_fwd, _max_rule, saves_out=True, batchable=False, jvp=_max_jvp,
    formula="the gradient of each window goes to the tap of its (first) maximum", batch="fold",
)
_take = primitive(
    "take_taps", _take_fwd,
    lambda g, out, x, taps, geom: (put_taps(g, taps, geom), None), batchable=False, jvp="linear",
    formula="each window's value comes from one tap; the gradient goes back to that tap", batch="fold",
)
_put = primitive(
    "put_taps", _put_fwd,
    lambda g, out, v, taps, geom: (take_taps(g, taps, geom), None), batchable=False, jvp="linear",
    formula="adjoint of take_taps: it reads the gradient at the same taps", batch="fold",
)


def take_taps(x: Tensor, taps: Tensor, geom: Geometry) -> Tensor:
    """The value at one chosen tap of every window: (N, C, *size) -> (N, C, *out)."""
    return apply(_take, x, taps, geom=geom)


def put_taps(v: Tensor, taps: Tensor, geom: Geometry) -> Tensor:
    """Window values added back at their chosen taps: (N, C, *out) -> (N, C, *size)."""
    return apply(_put, v, taps, geom=geom)


def tap_indices(xp, taps, geom: Geometry):
    """torch's ``return_indices``: each chosen tap as a flat index into the input's spatial dims."""
    flat = 0
    for dim, step in enumerate(_strides_of(geom.size)):
        flat = flat + _positions(xp, geom, dim, taps.astype(xp.int64)) * step
    return flat


# ---------------------------------------------------------------------------- max / avg

# The dtypes torch's pooling kernels exist for (others: NotImplementedError naming the op).
_FLOATS_ONLY = E.kernels_for("f")  # 1-d max pooling (no indices) and the adaptive pools
_NOT_BOOL = E.kernels_for("iuf")  # 2-d and 3-d max pooling, average pooling


def max_pool(op: str, dims: int, input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
             ceil_mode: bool = False, return_indices: bool = False):
    """N-d max pooling; with ``return_indices`` also the flat input index of each maximum."""
    if return_indices and input._batched:  # inside vmap: the indices read values
        return per_sample(lambda t: max_pool(op, dims, t, kernel_size, stride, padding, dilation,
                                             ceil_mode, True), "max_pool_with_indices", input)
    x, unbatched = batched(op, input, dims)
    # torch's 1-d kernel without indices is float-only; the one with indices takes integers
    (_FLOATS_ONLY if dims == 1 and not return_indices else _NOT_BOOL)(op, x)
    geom = pool_geometry(op, x, dims, kernel_size, stride, padding, dilation, ceil_mode)
    out = apply(_max, x, geom=geom)
    if return_indices:
        xp = x.xp
        idx = Tensor._make(tap_indices(xp, first_max_taps(xp, x._data, geom, out._data), geom))
        out = (out, idx)
    if not unbatched:
        return out
    return tuple(S.squeeze(o, 0) for o in out) if return_indices else S.squeeze(out, 0)


@declare(namespaces=("ember", "ember.nn.functional"))
def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """1-D max pooling over (N, C, L)."""
    return max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                    return_indices)


@declare(namespaces=("ember", "ember.nn.functional"))
@torch_backward("MaxPool2DWithIndicesBackward0")
def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-D max pooling over (N, C, H, W): a 2x2 pool halves (3, 28, 28) to (3, 14, 14)."""
    return max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                    return_indices)


def _window_counts(xp, geom: Geometry, lo_bound: tuple, hi_bound: tuple, dtype):
    """How many taps of each window fall inside [lo_bound, hi_bound) per dim, multiplied over dims."""
    count = 1
    for dim in range(len(geom.out)):
        start = xp.arange(geom.out[dim]) * geom.stride[dim] - geom.lo[dim]
        first = xp.maximum(start, lo_bound[dim])
        last = xp.minimum(start + geom.kernel[dim], hi_bound[dim])
        count = count * _along(geom, dim, xp.maximum(last - first, 0))
    return xp.asarray(count, dtype=dtype)


def avg_pool(op: str, dims: int, input: Tensor, kernel_size, stride=None, padding=0,
             ceil_mode: bool = False, count_include_pad: bool = True,
             divisor_override: int | None = None) -> Tensor:
    """N-d average pooling: the windows' sums (im2col summed over the kernel) over a divisor
    (of an integer tensor: truncated to its integer type, as torch)."""
    x, unbatched = batched(op, input, dims)
    _NOT_BOOL(op, x)
    integer = x.dtype if x._data.dtype.kind in "iu" else None
    x = E.cast(x, dtypes.float64) if integer else x
    geom = pool_geometry(op, x, dims, kernel_size, stride, padding, 1, ceil_mode, reach=False)
    total = R.sum(im2col(x, geom), tuple(range(2, 2 + dims)))
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
        out = E.div(total, divisor_override)
    else:
        xp = x.xp
        if count_include_pad:
            lo = tuple(-p for p in geom.lo)
            hi = tuple(s + p for s, p in zip(geom.size, geom.lo))
        else:
            lo = (0,) * dims
            hi = geom.size
        out = E.div(total, Tensor._make(_window_counts(xp, geom, lo, hi, x._data.dtype)))
    if integer:
        out = E.cast(E.trunc(out), integer)
    return S.squeeze(out, 0) if unbatched else out


@declare(namespaces=("ember", "ember.nn.functional"))
def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling over (N, C, L)."""
    return avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                    count_include_pad)


@declare(out="exact", namespaces=("ember.nn.functional",))
@torch_backward("AvgPool2DBackward0")
def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling over (N, C, H, W)."""
    return avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                    count_include_pad, divisor_override)


# ---------------------------------------------------------------------------- adaptive


def adaptive_bounds(size: int, out: int) -> list[tuple[int, int]]:
    """torch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out)) for each output i."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_sizes(op: str, x: Tensor, dims: int, output_size) -> tuple:
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(sizes) != dims:
        raise ValueError(f"{op}: output_size must be an int or {dims} ints, got {output_size!r}")
    out = tuple(s if s is not None else x._data.shape[2 + i] for i, s in enumerate(sizes))
    check_positive(op, "output_size", out)
    return tuple(int(o) for o in out)


def apply_along(x: Tensor, axis: int, taps: tuple) -> Tensor:
    """Apply an (out, in) matrix along ``axis`` of ``x`` (a separable linear map), given as its
    ``sparse_rows`` on ``x``'s device.

    Only each row's nonzero entries are touched, as torch's window and interpolation kernels
    do: a dense product would turn an inf or nan anywhere along the axis into nan in every
    output (0 * inf), where torch keeps it inside the windows that hold it.
    """
    index, weight, used = taps
    picked = I.take(S.movedim(x, axis, -1), (Ellipsis, index))
    terms = E.where(Tensor._make(used), E.mul(picked, Tensor._make(weight)), 0.0)
    return S.movedim(R.sum(terms, -1), -1, axis)


def sparse_rows(matrix, dtype: str) -> tuple:
    """Each row's nonzero columns, their weights (as ``dtype``) and which slots are used, padded
    to the longest row: the host tables ``apply_along`` takes."""
    np = backend.numpy
    nonzero = matrix != 0
    width = max(int(nonzero.sum(axis=1).max()), 1)
    index = np.zeros((matrix.shape[0], width), dtype=np.int64)
    weight = np.zeros((matrix.shape[0], width), dtype=dtype)
    used = np.zeros((matrix.shape[0], width), dtype=bool)
    for r in range(matrix.shape[0]):
        cols = nonzero[r].nonzero()[0]
        index[r, :len(cols)], weight[r, :len(cols)], used[r, :len(cols)] = cols, matrix[r, cols], True
    return index, weight, used


def _average_taps(size: int, out: int, dtype: str) -> tuple:
    m = backend.numpy.zeros((out, size))
    for i, (a, b) in enumerate(adaptive_bounds(size, out)):
        m[i, a:b] = 1.0 / (b - a)
    return sparse_rows(m, dtype)


def adaptive_avg_pool(op: str, dims: int, input: Tensor, output_size) -> Tensor:
    """Average over torch's adaptive windows: one constant matrix per spatial dim."""
    x, unbatched = batched(op, input, dims)
    _FLOATS_ONLY(op, x)
    out = _adaptive_sizes(op, x, dims, output_size)
    for k, o in enumerate(out):
        size = x._data.shape[2 + k]
        if o != size:
            taps = backend.table(_average_taps, size, o, x._data.dtype.name, device=x.device)
            x = apply_along(x, 2 + k, taps)
    return S.squeeze(x, 0) if unbatched else x


@declare(namespaces=("ember.nn.functional",))
def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, L) to ``output_size`` positions."""
    return adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


@declare(namespaces=("ember.nn.functional",))
@torch_backward(lambda input, output_size:
                "MeanBackward1" if output_size in (1, (1, 1)) else "AdaptiveAvgPool2DBackward0")
def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, H, W) to an ``output_size`` grid (1 gives global pooling)."""
    return adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_max_pool(op: str, dims: int, input: Tensor, output_size, return_indices: bool = False):
    """Max over torch's adaptive windows; regular windows reuse ``max_pool``."""
    x, unbatched = batched(op, input, dims)
    _FLOATS_ONLY(op, x)
    out = _adaptive_sizes(op, x, dims, output_size)
    size = tuple(x._data.shape[2:])
    if all(s % o == 0 for s, o in zip(size, out)):
        kernel = tuple(s // o for s, o in zip(size, out))
        res = max_pool(op, dims, x, kernel, kernel, 0, 1, False, return_indices)
    else:
        res = _adaptive_max_general(x, size, out, return_indices)
    if not unbatched:
        return res
    return tuple(S.squeeze(r, 0) for r in res) if return_indices else S.squeeze(res, 0)


def _window_table(size: int, out: int, k: int, dims: int):
    """The input positions of each adaptive window along spatial dim ``k`` of ``dims`` (short
    windows repeat their last position), shaped to broadcast against the other dims' tables."""
    bounds = adaptive_bounds(size, out)
    width = max(b - a for a, b in bounds)
    table = backend.numpy.array([[min(a + j, b - 1) for j in range(width)] for a, b in bounds])
    shape = [1] * (2 * dims)
    shape[2 * k], shape[2 * k + 1] = table.shape
    return table.reshape(shape)


def _adaptive_max_general(x: Tensor, size: tuple, out: tuple, return_indices: bool):
    """Windows of unequal sizes gathered by index (short windows repeat their last element)."""
    if x._batched:  # inside vmap: the maxima are found on the arrays
        return per_sample(lambda t: _adaptive_max_general(t, size, out, return_indices),
                          "max_pool_with_indices", x)
    dims = len(size)
    n, c = x._data.shape[:2]
    tables = [backend.table(_window_table, s, o, k, dims, device=x.device)
              for k, (s, o) in enumerate(zip(size, out))]
    win = I.take(x, (slice(None), slice(None)) + tuple(tables))  # (N, C, o1, k1, o2, k2, ...)
    order = (0, 1) + tuple(2 + 2 * k + 1 for k in range(dims)) + tuple(2 + 2 * k for k in range(dims))
    win = S.reshape(S.permute(win, order), (n, c, -1) + out)
    taps = _first_max_along(x.xp, win._data)
    values = S.squeeze(I.gather(win, 2, Tensor._make(taps[:, :, None])), 2)
    if not return_indices:
        return values
    widths = tuple(t.shape[2 * k + 1] for k, t in enumerate(tables))
    flat = 0
    for k, (table, step) in enumerate(zip(tables, _strides_of(size))):
        tap = (taps // _strides_of(widths)[k]) % widths[k]
        shape = [1] * dims
        shape[k] = out[k]
        rows = table.reshape(out[k], widths[k])[x.xp.arange(out[k]).reshape(shape), tap]
        flat = flat + rows * step
    return values, Tensor._make(flat)


def _first_max_along(xp, win):
    """Along axis 2: index of the first maximum (NaN counts as maximal)."""
    best = win[:, :, 0].copy()
    taps = xp.zeros(best.shape, dtype=xp.int64)
    for t in range(1, win.shape[2]):
        v = win[:, :, t]
        better = (v > best) | (v != v)
        xp.copyto(best, v, where=better)
        xp.copyto(taps, t, where=better)
    return taps


@declare(namespaces=("ember.nn.functional",))
def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) to ``output_size`` positions."""
    return adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


@declare(namespaces=("ember.nn.functional",))
def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, H, W) to an ``output_size`` grid."""
    return adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---------------------------------------------------------------------------- 3-D pools


@declare(namespaces=("ember", "ember.nn.functional"))
def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """3-D max pooling over (N, C, D, H, W)."""
    return max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                    return_indices)


@declare(out="exact", namespaces=("ember.nn.functional",))
def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling over (N, C, D, H, W)."""
    return avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                    count_include_pad, divisor_override)


@declare(namespaces=("ember.nn.functional",))
def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, D, H, W) to an ``output_size`` grid."""
    return adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


@declare(namespaces=("ember.nn.functional",))
def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, D, H, W) to an ``output_size`` grid."""
    return adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)
