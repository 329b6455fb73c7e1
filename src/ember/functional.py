"""torch's ``functional`` module: tensor functions torch writes in Python over its ops.

``import torch.functional as F`` and ``torch.functional.einsum(...)`` resolve here; the ops are
the same objects as in the ``ember`` namespace.
"""
from __future__ import annotations

import warnings


from . import linalg
from .creation import tensor, zeros
from .dtypes import promote
from .ops.einsum import einsum, tensordot
from .ops.linalg import matmul
from .ops.reduce import norm
from .ops.pad import pad
from .ops.shape import broadcast_tensors, cat, meshgrid, reshape, split, stack
from .tensor import Size, Tensor

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes",
           "broadcast_tensors", "cartesian_prod", "cdist", "chain_matmul", "einsum", "meshgrid",
           "norm", "split", "tensordot", "unique", "unique_consecutive", "unravel_index"]


def _at_least(ndim: int, tensors: tuple):
    """Each tensor with size-1 dims added as torch's atleast_{1,2,3}d places them."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    items = tensors[0] if len(tensors) == 1 and not single else tensors
    out = []
    for t in items:
        shape = tuple(t.shape)
        if len(shape) < ndim:
            if ndim == 3 and len(shape) == 2:
                shape = shape + (1,)
            elif ndim == 3 and len(shape) == 1:
                shape = (1,) + shape + (1,)
            else:
                shape = (1,) * (ndim - len(shape)) + shape
            t = reshape(t, shape)
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Tensors with at least one dimension (0-d ones become shape ``(1,)``)."""
    return _at_least(1, tensors)


def atleast_2d(*tensors):
    """Tensors with at least two dimensions (new ones in front)."""
    return _at_least(2, tensors)


def atleast_3d(*tensors):
    """Tensors with at least three dimensions, placed as torch (``(n,) -> (1, n, 1)``)."""
    return _at_least(3, tensors)


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of these shapes broadcast to, without making any tensor."""
    result: list = []
    for shape in shapes:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for i, n in enumerate(reversed(shape)):
            if i == len(result):
                result.insert(0, n)
                continue
            have = result[-1 - i]
            if have != n and 1 not in (have, n):
                raise RuntimeError(
                    f"Shape mismatch: objects cannot be broadcast to a single shape.  Mismatch is "
                    f"between {have} and {n} at dimension {i}"
                )
            if have == 1:
                result[-1 - i] = n
    return Size(result)


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix with the given (0-, 1- or 2-d) tensors as blocks."""
    if not tensors:
        return zeros(1, 0)
    blocks = [reshape(t, (1,) * (2 - t.ndim) + tuple(t.shape)) if t.ndim < 2 else t for t in tensors]
    for i, t in enumerate(blocks):
        if t.ndim != 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                f"{t.ndim} dimensions"
            )
    dtype = blocks[0].dtype
    for t in blocks[1:]:
        dtype = promote(dtype, t.dtype)
    cols = sum(t.shape[1] for t in blocks)
    placed = []
    left = 0
    for t in blocks:
        placed.append(pad(t.to(dtype), (left, cols - left - t.shape[1])))
        left += t.shape[1]
    return cat(placed, 0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-d tensor, one per row (itertools.product)."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distance between each row of ``x1`` and each row of ``x2`` (batched over leading dims)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return linalg.vector_norm(diff, ord=p, dim=-1)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of the matrices, left to right (deprecated in torch for linalg.multi_dot)."""
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
        "multiple parameters.", UserWarning, stacklevel=2)
    out = matrices[0]
    for m in matrices[1:]:
        out = matmul(out, m)
    return out


def unravel_index(indices, shape) -> tuple:
    """Flat indices turned into one coordinate tensor per dimension of ``shape``."""
    idx = indices if isinstance(indices, Tensor) else tensor(indices)
    if idx.is_floating_point() or idx.dtype.name == "bool":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {idx.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    size = 1
    for n in shape:
        size *= n
    if bool((idx < -size).any()) or bool((idx >= size).any()):
        raise RuntimeError("index out of bounds for shape")
    flat = idx % size if size else idx
    out = []
    for n in reversed(shape):
        out.append(flat % n)
        flat = flat // n
    return tuple(reversed(out))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct values (sorted), optionally with each element's index into them and counts."""
    xp = input.xp
    data = input._data
    axis = None if dim is None else dim % max(input.ndim, 1)
    values, inverse, counts = xp.unique(data, return_inverse=True, return_counts=True, axis=axis)
    if dim is None:
        inverse = inverse.reshape(data.shape)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Collapse each run of equal consecutive values (elements, or slices along ``dim``) to one."""
    xp = input.xp
    data = input._data
    axis = 0 if dim is None else dim % max(input.ndim, 1)
    if dim is None:
        data = data.reshape(-1)
    moved = xp.moveaxis(data, axis, 0).reshape(data.shape[axis] if data.ndim else 1, -1)
    if moved.shape[0] == 0:
        starts = xp.zeros(0, dtype=bool)
    else:
        change = (moved[1:] != moved[:-1]).any(axis=1)
        starts = xp.concatenate([xp.ones(1, dtype=bool), change])
    keep = xp.nonzero(starts)[0]
    values = xp.take(data, keep, axis=axis)
    inverse = xp.cumsum(starts) - 1
    if dim is None:
        inverse = inverse.reshape(input._data.shape)
    counts = xp.diff(xp.concatenate([keep, xp.asarray([moved.shape[0]])]))
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _unique_result(values, inverse, counts, return_inverse: bool, return_counts: bool):
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.astype("int64")))
    if return_counts:
        out.append(Tensor._make(counts.astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)


