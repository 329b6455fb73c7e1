"""Resizing images and signals: nearest (by index) and (bi/tri)linear (two taps per dim).

Both are separable: each spatial dim is resized on its own. Nearest gathers an index array
along the dim; linear modes gather the two neighbours and weight them. The index and weight
formulas follow torch's kernels, including its float32 scale for nearest.
"""
from __future__ import annotations

import math

from .. import backend
from ..tensor import Tensor
from . import index as I
from . import elementwise as E
from .pool import adaptive_avg_pool
from .registry import declare

LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
MODES = ("nearest", "nearest-exact", "area") + tuple(LINEAR_MODES)


def _sizes(x: Tensor, dims: int, size, scale_factor) -> tuple[tuple, tuple]:
    """Output sizes and the scale (input per output step) each dim's coordinates use."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: either size or scale_factor should be defined, not both")
    in_sizes = tuple(x._data.shape[2:])
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(out) != dims:
            raise ValueError(f"interpolate: expected size of {dims} ints for input of shape "
                             f"{list(x.shape)}, got {size!r}")
        out = tuple(int(o) for o in out)
        return out, tuple(None for _ in out)
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
    if len(scales) != dims:
        raise ValueError(f"interpolate: expected scale_factor of {dims} numbers for input of shape "
                         f"{list(x.shape)}, got {scale_factor!r}")
    out = tuple(int(math.floor(s * f)) for s, f in zip(in_sizes, scales))
    return out, tuple(float(f) for f in scales)


def _nearest_index(size: int, out: int, scale, exact: bool):
    """torch's nearest source index (its scale is computed in float32)."""
    np = backend.numpy
    ratio = np.float32(1.0 / scale) if scale is not None else np.float32(size) / np.float32(out)
    j = np.arange(out, dtype=np.float32)
    if exact:
        j = j + np.float32(0.5)
    src = np.floor(j * ratio).astype(np.int64)
    return np.minimum(src, size - 1)


def _linear_taps(size: int, out: int, scale, align_corners: bool, dtype: str, trail: int) -> tuple:
    """torch's two neighbours and weights per output position along one dim: (i0, i1, w0, w1),
    the weights as ``dtype`` with ``trail`` size-1 dims to broadcast over the dims after it."""
    np = backend.numpy
    j = np.arange(out, dtype=np.float64)
    if align_corners:
        src = j * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        ratio = 1.0 / scale if scale is not None else size / out
        src = np.maximum(ratio * (j + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    w1 = src - i0
    weight = lambda w: w.astype(dtype).reshape(w.shape + (1,) * trail)
    return i0, i1, weight(1.0 - w1), weight(w1)


def _interpolate_along(x: Tensor, axis: int, taps: tuple) -> Tensor:
    """``w0 * x[i0] + w1 * x[i1]`` along ``axis``: both neighbours always, as torch's kernel (a
    nan neighbour with weight 0 still gives nan)."""
    i0, i1, w0, w1 = taps
    lead = (slice(None),) * axis
    near = I.take(x, lead + (i0,))
    far = I.take(x, lead + (i1,))
    return E.add(E.mul(near, Tensor._make(w0)), E.mul(far, Tensor._make(w1)))


@declare(namespaces=("ember.nn.functional",))
def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, *spatial) to ``size`` or by ``scale_factor`` (torch's F.interpolate)."""
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; use one of {MODES}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    dims = input._data.ndim - 2
    if dims < 1:
        raise ValueError(f"interpolate: expected an input of shape (N, C, *spatial), got "
                         f"{list(input.shape)}")
    if mode in LINEAR_MODES and LINEAR_MODES[mode] != dims:
        raise ValueError(f"interpolate: mode {mode!r} expects {LINEAR_MODES[mode] + 2}D input, got "
                         f"{dims + 2}D input of shape {list(input.shape)}")
    if align_corners is not None and mode not in LINEAR_MODES:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    out, scales = _sizes(input, dims, size, scale_factor)
    if any(o <= 0 for o in out):
        raise ValueError(f"interpolate: output size {list(out)} must be positive (input "
                         f"{list(input.shape)})")
    if recompute_scale_factor:
        scales = tuple(None for _ in scales)
    if mode == "area":
        return adaptive_avg_pool("interpolate", dims, input, out)
    x = input
    for k, (o, s) in enumerate(zip(out, scales)):
        axis = 2 + k
        n = x._data.shape[axis]
        if mode in LINEAR_MODES:
            taps = backend.table(_linear_taps, n, o, s, bool(align_corners), x._data.dtype.name,
                                 x._data.ndim - axis - 1, device=x.device)
            x = _interpolate_along(x, axis, taps)
            continue
        src = backend.table(_nearest_index, n, o, s, mode == "nearest-exact", device=x.device)
        x = I.take(x, (slice(None),) * axis + (src,))
    return x
