"""Sorting: ``argsort``, ``sort``, ``topk``, ``msort``.

The order is found on the raw arrays (it has no derivative); the values are then gathered with
the differentiable ``gather``, so gradients flow back to the positions they came from. NaN sorts
as the largest value, as in torch. Ties keep their order (a stable sort) in either direction.
"""
from __future__ import annotations

from ..tensor import Tensor, _wrap_dim
from .index import gather, narrow
from .reduce import ValuesIndices
from .registry import apply, declare, primitive


def _order_fwd(xp, data, axis: int, descending: bool):
    """Positions that sort ``data`` along ``axis``; ties keep their order in both directions."""
    if data.dtype.kind == "b":
        data = data.astype(xp.int8)
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    # Descending and stable: sort the reversed array ascending, then reverse and map back.
    n = data.shape[axis]
    back = xp.flip(xp.argsort(xp.flip(data, axis), axis=axis, kind="stable"), axis)
    return (n - 1) - back


# The order as a primitive (no derivative), so vmap batches it like any op along a dim.
_order = primitive("argsort", lambda xp, x, axis, descending: _order_fwd(xp, x, axis, descending)
                   .astype(xp.int64), None, formula="not differentiable (positions)", batch="dims")


@declare(method=True)
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Positions that sort ``input`` along ``dim`` (ties in their original order)."""
    if input._data.ndim == 0:
        return Tensor._make(input.xp.zeros((), dtype=input.xp.int64))
    axis = _wrap_dim(dim, input._data.ndim, "argsort")
    return apply(_order, input, axis=axis, descending=descending)


@declare(out="exact", method=True)
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """``(values, indices)`` of ``input`` sorted along ``dim``."""
    if input._data.ndim == 0:
        index = argsort(input)
        return ValuesIndices((gather(input.reshape(1), 0, index.reshape(1)).reshape(()), index))
    indices = argsort(input, dim, descending)
    return ValuesIndices((gather(input, _wrap_dim(dim, input._data.ndim, "sort"), indices), indices))


@declare(out="exact", method=True)
def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dimension."""
    return sort(input, 0)[0]


@declare(out="exact", method=True)
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes")
    if input._data.ndim == 0:  # as torch: k of 0 or 1 gives the tensor itself
        if k not in (0, 1):
            raise RuntimeError("selected index k out of range")
        return sort(input)
    axis = _wrap_dim(dim, input._data.ndim, "topk")
    if not 0 <= k <= input._data.shape[axis]:
        raise RuntimeError("selected index k out of range")
    indices = narrow(apply(_order, input, axis=axis, descending=largest), axis, 0, k)
    return ValuesIndices((gather(input, axis, indices), indices))
