"""The trapezoidal rule: ``trapezoid`` (the integral of samples ``y`` along a dim) and
``cumulative_trapezoid`` (its running values)."""
from __future__ import annotations

from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .registry import declare


def _areas(op: str, y: Tensor, x, dx, dim: int) -> tuple:
    """The trapezoids' areas along ``dim``, and that dim's index."""
    if y._data.dtype.kind == "b":
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if isinstance(x, Tensor) and x._data.dtype.kind == "b":
        raise RuntimeError(f"{op}: received a bool input for `x` or `y`, but bool is not "
                           f"supported")
    if y._data.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    axis = _wrap_dim(dim, y._data.ndim, op)
    n = y._data.shape[axis]

    def part(t, start, stop):
        return t[(slice(None),) * axis + (slice(start, stop),)]

    heights = E.div(E.add(part(y, 1, n), part(y, 0, max(n - 1, 0))), 2)
    if isinstance(x, Tensor):
        if x._data.ndim == 1:
            if x._data.shape[0] != n:
                raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
            steps = S.reshape(E.sub(x[1:], x[:-1]), (-1,) + (1,) * (y._data.ndim - axis - 1))
        else:
            steps = E.sub(part(x, 1, n), part(x, 0, max(n - 1, 0)))
        return E.mul(heights, steps), axis
    step = 1 if dx is None and x is None else (dx if x is None else x)
    return E.mul(heights, step), axis


@declare(aliases=("trapz",))
def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The integral of ``y`` along ``dim`` by the trapezoidal rule, at points ``x`` (a tensor)
    or spaced ``dx`` apart (1 by default)."""
    areas, axis = _areas("trapezoid", y, x, dx, dim)
    if not y._data.shape[axis]:  # no samples: torch gives y's own dtype
        return R.sum(y, axis)
    return R.sum(areas, axis)


@declare()
def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running integral of ``y`` along ``dim`` (one value fewer than ``y`` has)."""
    areas, axis = _areas("cumulative_trapezoid", y, x, dx, dim)
    return R.cumsum(areas, axis)
