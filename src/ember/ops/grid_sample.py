"""Sampling an image at arbitrary points (torch.nn.functional.grid_sample) and the affine grids
that feed it (affine_grid): the pieces of a spatial transformer network.

``grid_sample`` is a composite: each spatial dim gives a few taps (an integer position and a
weight that is a polynomial in the sampling coordinate), the taps of all dims are combined
by products, and the values are gathered from the flattened image. The weights carry the
gradient with respect to the grid and the gather the gradient with respect to the image, so
every derivative order works.
"""
from __future__ import annotations

import itertools
import warnings

from .. import dtypes
from ..creation import linspace, zeros
from ..tensor import Tensor
from . import elementwise as E
from . import index as I
from . import linalg as L
from . import shape as S
from .registry import declare

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75  # torch's (Keys') cubic convolution coefficient


def _warn_align_corners() -> None:
    warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.",
                  stacklevel=3)


# ---------------------------------------------------------------------------- affine_grid


def _base_coordinates(steps: int, align_corners: bool, like: Tensor) -> Tensor:
    """Pixel centres (or corners) along one dim in [-1, 1]: a size-1 dim sits at 0."""
    if steps <= 1:
        return zeros(1, dtype=like.dtype, device=like.device)
    line = linspace(-1.0, 1.0, steps, dtype=like.dtype, device=like.device)
    return line if align_corners else E.mul(line, (steps - 1) / steps)


@declare(namespaces=("ember.nn.functional",))
def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps: (N, 2, 3) gives (N, H, W, 2) for
    ``size = (N, C, H, W)``, (N, 3, 4) gives (N, D, H, W, 3) for 5-D sizes."""
    if align_corners is None:
        _warn_align_corners()
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {list(theta.shape)}.")
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {list(theta.shape)}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    axes = [_base_coordinates(s, align_corners, theta) for s in reversed(spatial)]  # x, y(, z)
    mesh = S.meshgrid(*reversed(axes), indexing="ij")  # each (D,) H, W
    base = S.stack(list(reversed(mesh)) + [E.const_ones(mesh[0])], -1)
    points = S.reshape(base, (1, -1, len(spatial) + 1))
    grid = L.matmul(points, S.transpose(theta, 1, 2))  # (N, prod(spatial), dims)
    return S.reshape(grid, (size[0],) + tuple(spatial) + (len(spatial),))


# ---------------------------------------------------------------------------- grid_sample


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    """[-1, 1] to pixel coordinates (corner pixels' centres, or the image's outer edges)."""
    if align_corners:
        return E.mul(E.add(coord, 1.0), (size - 1) / 2)
    return E.div(E.sub(E.mul(E.add(coord, 1.0), size), 1.0), 2)


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """``coord`` reflected back and forth into [twice_low / 2, twice_high / 2]."""
    if twice_low == twice_high:
        return E.mul(coord, 0.0)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    dist = E.abs(E.sub(coord, low))
    flips = E.floor(E.div(dist, span)).detach()
    extra = E.sub(dist, E.mul(flips, span))
    even = E.eq(E.remainder(flips, 2), 0)
    return E.where(even, E.add(extra, low), E.add(E.sub(span, extra), low))


def _pad_coordinate(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Apply ``border`` (clip) or ``reflection`` (reflect, then clip) to a pixel coordinate."""
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = E.clamp(coord, 0, size - 1)
    return coord


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """Keys' cubic convolution weights of the four taps at offsets -1, 0, 1, 2 from floor."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return E.add(E.mul(E.mul(E.sub(E.mul(x, a + 2), a + 3), x), x), 1.0)

    def far(x):  # 1 < |x| < 2
        return E.sub(E.mul(E.add(E.mul(E.sub(E.mul(x, a), 5 * a), x), 8 * a), x), 4 * a)

    return [far(E.add(t, 1.0)), near(t), near(E.sub(1.0, t)), far(E.sub(2.0, t))]


def _taps(coord: Tensor, size: int, mode: str, padding_mode: str,
          align_corners: bool) -> list[tuple[Tensor, Tensor]]:
    """One dim's taps: (integer position, weight) pairs; a position outside [0, size) reads 0."""
    x = _unnormalize(coord, size, align_corners)
    if mode == "bicubic":
        start = E.floor(x).detach()
        weights = _cubic_weights(E.sub(x, start))
        taps = []
        for k, w in enumerate(weights):
            pos = _pad_coordinate(E.add(start, k - 1), size, padding_mode, align_corners)
            taps.append((E.cast(pos, dtypes.int64), w))
        return taps
    x = _pad_coordinate(x, size, padding_mode, align_corners)
    if mode == "nearest":
        nearest = E.round(x)
        # weight exactly 1 that keeps the grid in the graph: its gradient is zeros, as torch's
        one = E.add(E.mul(E.sub(x, nearest), 0.0), 1.0)
        return [(E.cast(nearest, dtypes.int64), one)]
    low = E.floor(x).detach()
    frac = E.sub(x, low)
    low = E.cast(low, dtypes.int64)
    return [(low, E.sub(1.0, frac)), (E.add(low, 1), frac)]


_FLOATS_ONLY = E.kernels_for("f")


def _check_grid_sample(input: Tensor, grid: Tensor, mode: str, padding_mode: str) -> None:
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                         f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    _FLOATS_ONLY("grid_sampler", input)  # torch's kernels exist for floating inputs only
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    if input.ndim not in (4, 5) or input.ndim != grid.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    dims = input.ndim - 2
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != dims:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {dims} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and dims != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


@declare(namespaces=("ember.nn.functional",))
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Read ``input`` (N, C, H, W) at the points of ``grid`` (N, Ho, Wo, 2), given as (x, y)
    in [-1, 1]; 5-D inputs take (x, y, z) points. Points outside read zeros, the border value
    or the reflected image (``padding_mode``)."""
    _check_grid_sample(input, grid, mode, padding_mode)
    if align_corners is None:
        _warn_align_corners()
        align_corners = False
    n, c = input.shape[:2]
    size = tuple(input.shape[2:])
    out = tuple(grid.shape[1:-1])
    dims = len(size)
    per_dim = []  # taps of spatial dims 0..dims-1 (grid coordinate dims-1-k drives dim k)
    for k in range(dims):
        coord = S.reshape(grid[..., dims - 1 - k], (n, -1))
        per_dim.append(_taps(coord, size[k], mode, padding_mode, align_corners))
    strides = [1] * dims
    for k in range(dims - 2, -1, -1):
        strides[k] = strides[k + 1] * size[k + 1]
    flat = S.reshape(input, (n, c, -1))
    total = None
    for combo in itertools.product(*per_dim):
        index = 0
        weight = None
        inside = None
        for k, (pos, w) in enumerate(combo):
            ok = E.logical_and(E.ge(pos, 0), E.lt(pos, size[k]))
            inside = ok if inside is None else E.logical_and(inside, ok)
            index = E.add(index, E.mul(pos, strides[k]))
            weight = w if weight is None else E.mul(weight, w)
        safe = S.expand(S.unsqueeze(E.where(inside, index, 0), 1), (n, c, index.shape[1]))
        values = E.mul(I.gather(flat, 2, safe), S.unsqueeze(weight, 1))
        term = E.where(S.unsqueeze(inside, 1), values, 0.0)
        total = term if total is None else E.add(total, term)
    return S.reshape(total, (n, c) + out)

