"""Partial inverses and relatives of max pooling: max_unpool1d/2d/3d (values put back at the
indices max pooling returned), lp_pool1d/2d/3d (power-average pooling) and
fractional_max_pool2d/3d (max over pseudo-randomly placed windows).

All are compositions of gathers, scatter-adds and pools, so every derivative order works.
"""
from __future__ import annotations

import math

from .. import backend, dtypes
from ..creation import rand, zeros
from ..tensor import Tensor
from . import elementwise as E
from . import index as I
from . import shape as S
from .conv import batched, ntuple
from .registry import apply, declare
from .pool import _first_max_along, avg_pool


# ---------------------------------------------------------------------------- max_unpool


def unpool_output_size(input: Tensor, kernel: tuple, stride: tuple, padding: tuple,
                       output_size) -> tuple:
    """The unpooled spatial size: the pool's input size, or ``output_size`` when it is one of
    the sizes that pool to the input's (torch's rule)."""
    dims = len(kernel)
    spatial = tuple(input.shape[-dims:])
    default = tuple((s - 1) * st + k - 2 * p for s, st, k, p in zip(spatial, stride, kernel, padding))
    if output_size is None:
        return default
    size = [int(s) for s in output_size]
    if len(size) == dims + 2:
        size = size[2:]
    if len(size) != dims:
        raise ValueError(f"output_size should be a sequence containing {dims} or {dims + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d in range(dims):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < size[d] < high:
            raise ValueError(f'invalid output_size "{tuple(size)}" (dim {d} must be between '
                             f"{low} and {high})")
    return tuple(size)


_FLOATS_ONLY = E.kernels_for("f")  # torch's unpooling and fractional pooling kernels


def max_unpool(op: str, dims: int, input: Tensor, indices: Tensor, kernel_size, stride=None,
               padding=0, output_size=None) -> Tensor:
    """Zeros with each input value at its flat spatial index (where two share an index, as
    overlapping windows allow, the later one stays, as on torch's CPU; both get the gradient)."""
    _FLOATS_ONLY(op, input)
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    stride = kernel if stride is None else ntuple(op, "stride", stride, dims)
    padding = ntuple(op, "padding", padding, dims)
    if indices.dtype != dtypes.int64:
        raise RuntimeError(f"{op}: elements in indices should be type int64 but got: "
                           f"{indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input "
                           f"tensor ({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    x, unbatched = batched(op, input, dims)
    idx = S.unsqueeze(indices, 0) if unbatched else indices
    size = unpool_output_size(x, kernel, stride, padding, output_size)
    n, c = x.shape[:2]
    count = 1
    for s in size:
        count *= s
    flat_idx = S.reshape(idx, (n, c, -1))
    if flat_idx.numel():
        bad = E.logical_or(E.lt(flat_idx, 0), E.ge(flat_idx, count))

        def error() -> RuntimeError:
            value = int(flat_idx[bad][0].item())
            return RuntimeError(f"Found an invalid max index: {value} (output volumes are of size "
                                f"{'x'.join(str(s) for s in size)})")

        backend.require(E.logical_not(bad.any())._data, error)
    xp = x.xp
    where = (xp.arange(n).reshape(n, 1, 1), xp.arange(c).reshape(1, c, 1), flat_idx._data)
    out = apply(I._index_put, zeros((n, c, count), dtype=x.dtype, device=x.device),
                S.reshape(x, (n, c, -1)), idx=I.torch_order(where))
    out = S.reshape(out, (n, c) + size)
    return S.squeeze(out, 0) if unbatched else out


@declare(namespaces=("ember.nn.functional",))
def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Undo max_pool1d: the maxima back at their positions, zeros elsewhere."""
    return max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


@declare(namespaces=("ember.nn.functional",))
def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Undo max_pool2d (e.g. SegNet's decoder): the maxima back at their positions."""
    return max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


@declare(namespaces=("ember.nn.functional",))
def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Undo max_pool3d: the maxima back at their positions."""
    return max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------------------- lp_pool


def lp_pool(op: str, dims: int, input: Tensor, norm_type: float, kernel_size, stride=None,
            ceil_mode: bool = False) -> Tensor:
    """``(sum over the window of x^p)^(1/p)``: the window's p-norm for non-negative inputs
    (max pooling as p grows, sum pooling at p = 1)."""
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    window = 1
    for k in kernel:
        window *= k
    mean = avg_pool(op, dims, E.pow(input, norm_type), kernel, stride, 0, ceil_mode)
    total = E.mul(E.mul(E.sign(mean), E.relu(E.abs(mean))), window)
    return E.pow(total, 1.0 / norm_type)


@declare(namespaces=("ember.nn.functional",))
def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, L)."""
    return lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


@declare(namespaces=("ember.nn.functional",))
def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, H, W)."""
    return lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


@declare(namespaces=("ember.nn.functional",))
def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W)."""
    return lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


# ---------------------------------------------------------------------------- fractional


def _intervals(xp, sample, size: int, out: int, pool: int):
    """torch's pseudo-random window starts along one dim, from one uniform ``sample`` per
    plane, computed in the samples' dtype as torch: (N, C) samples -> (N, C, out) starts."""
    starts = xp.empty(sample.shape + (out,), dtype=xp.int64)
    if out > 1:
        alpha = sample.dtype.type(size - pool) / sample.dtype.type(out - 1)
        steps = xp.arange(out - 1, dtype=sample.dtype)
        first = (sample * alpha).astype(xp.int64)
        starts[..., :-1] = ((steps + sample[..., None]) * alpha).astype(xp.int64) - first[..., None]
    starts[..., -1] = size - pool
    return starts


def pair_of_ratios(op: str, ratio, dims: int = 2) -> tuple:
    """``output_ratio`` as ``dims`` floats."""
    ratio = tuple(ratio) if isinstance(ratio, (tuple, list)) else (ratio,) * dims
    if len(ratio) != dims:
        raise ValueError(f"{op} requires output_ratio to either be a single Int or tuple of Ints.")
    return tuple(float(r) for r in ratio)


def _fractional_size(op: str, dims: int, input: Tensor, output_size, output_ratio) -> tuple:
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        return ntuple(op, "output_size", output_size, dims)
    ratio = pair_of_ratios(op, output_ratio, dims)
    return tuple(int(s * r) for s, r in zip(input.shape[-dims:], ratio))


# which of a plane's random samples places the windows along each spatial dim (torch's order)
_SAMPLE_OF_DIM = {2: (1, 0), 3: (0, 1, 2)}
_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def fractional_max_pool(op: str, dims: int, input: Tensor, kernel_size, output_size=None,
                        output_ratio=None, return_indices: bool = False,
                        _random_samples: Tensor | None = None):
    """Max over ``kernel_size`` windows whose starts are spread pseudo-randomly (one uniform
    sample per plane and dim) so the output has ``output_size`` (or ``output_ratio`` of the
    input); Graham's fractional max pooling. Gradients go to each window's first maximum."""
    _FLOATS_ONLY(op, input)
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    out = _fractional_size(op, dims, input, output_size, output_ratio)
    x, unbatched = batched(op, input, dims)
    n, c = x.shape[:2]
    size = tuple(x.shape[2:])
    suffix = "_out" if dims == 3 else ""
    for name, o, k, s in zip(_DIM_NAMES[dims], out, kernel, size):
        if o + k - 1 > s:
            raise RuntimeError(f"{op}{suffix}(): pool {name} {k} too large relative to input "
                               f"{name} {s}")
    samples = _random_samples
    if samples is None:
        samples = rand(n, c, dims, dtype=x.dtype, device=x.device)
    if tuple(samples.shape) != (n, c, dims):
        raise RuntimeError(f"{op}(): expected _random_samples of shape {[n, c, dims]}, got "
                           f"{list(samples.shape)}")
    xp = x.xp
    flat = 0
    stride = 1
    for d in reversed(range(dims)):  # flat input index of every (window, tap): (N, C, *out, *kernel)
        starts = _intervals(xp, samples._data[..., _SAMPLE_OF_DIM[dims][d]], size[d], out[d],
                            kernel[d])
        place = [1] * (2 * dims)
        place[d] = out[d]
        tap = [1] * (2 * dims)
        tap[dims + d] = kernel[d]
        position = starts.reshape((n, c) + tuple(place)) + xp.arange(kernel[d]).reshape(tap)
        flat = flat + position * stride
        stride *= size[d]
    windows = math.prod(out)
    flat = flat.reshape(n, c, windows, math.prod(kernel))
    values = xp.take_along_axis(x._data.reshape(n, c, -1), flat.reshape(n, c, -1), 2)
    first = _first_max_along(xp, values.reshape(flat.shape).transpose(0, 1, 3, 2))
    chosen = xp.take_along_axis(flat, first[..., None], 3)[..., 0]
    result = S.reshape(I.gather(S.reshape(x, (n, c, -1)), 2, Tensor._make(chosen)), (n, c) + out)
    indices = Tensor._make(chosen.reshape((n, c) + out))
    if unbatched:
        result, indices = S.squeeze(result, 0), S.squeeze(indices, 0)
    return (result, indices) if return_indices else result


@declare(namespaces=("ember.nn.functional",))
def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    """Fractional max pooling of (N, C, H, W)."""
    return fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size, output_size,
                               output_ratio, return_indices, _random_samples)


@declare(namespaces=("ember.nn.functional",))
def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    """Fractional max pooling of (N, C, T, H, W)."""
    return fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size, output_size,
                               output_ratio, return_indices, _random_samples)
