"""Tensors built from others: diagonal embeddings, block-diagonal matrices, Cartesian products and
combinations, repeated entries, triangle indices, Vandermonde matrices.

All are composites (index_select, index_add_into, cat, stack), so their gradients need no rule.
"""
from __future__ import annotations

import itertools

from .. import backend, dtypes
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import legacy_linalg as LL
from . import matrix_functions as MF
from . import methods
from . import shape as S
from . import index as I
from .registry import declare


def _constant(xp, array) -> Tensor:
    return Tensor._make(xp.asarray(array))


@declare(method=True)
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with ``input``'s last dim on their ``offset`` diagonal, over ``dim1`` (rows) and
    ``dim2`` (columns) of the result, which has one more dim than ``input``."""
    ndim = input._data.ndim + 1
    d1, d2 = _wrap_dim(dim1, ndim, "diag_embed"), _wrap_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input._data.shape[-1] if input._data.ndim else 1) + abs(offset)
    vector = input if input._data.ndim else S.reshape(input, (1,))
    k = input.xp.arange(vector._data.shape[-1])
    rows, cols = k - min(offset, 0), k + max(offset, 0)
    square = I.index_add_into(vector, vector._data.shape[:-1] + (n, n), (Ellipsis, rows, cols))
    return S.movedim(square, (-2, -1), (d1, d2))


@declare()
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with the flattened ``input`` on its ``offset`` diagonal."""
    return diag_embed(S.reshape(input, (-1,)), offset)


@declare()
def block_diag(*tensors: Tensor) -> Tensor:
    """The block-diagonal matrix of the given blocks (0-d and 1-D ones count as one row)."""
    blocks = []
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t._data.ndim} dimensions")
        blocks.append(S.reshape(t, (1,) * (2 - t._data.ndim) + t._data.shape))
    if not blocks:
        return Tensor._make(backend.numpy.zeros((1, 0), dtype=dtypes.get_default_dtype().np))
    dtype = blocks[0].dtype
    for b in blocks[1:]:
        dtype = dtypes.promote(dtype, b.dtype)
    width = sum(b._data.shape[1] for b in blocks)
    rows, before = [], 0
    for b in blocks:
        xp, (r, c) = b.xp, b._data.shape
        left = _constant(xp, xp.zeros((r, before), dtype=dtype.np))
        right = _constant(xp, xp.zeros((r, width - before - c), dtype=dtype.np))
        rows.append(S.cat([left, E.cast(b, dtype), right], 1))
        before += c
    return S.cat(rows, 0)


@declare()
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple of one entry from each 1-D tensor, as rows (itertools.product's order)."""
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = S.meshgrid(*tensors, indexing="ij")
    return S.stack([S.reshape(g, (-1,)) for g in grids], 1)


@declare()
def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's entries, as rows (itertools' order)."""
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(input.xp.zeros((0,), dtype=input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    picks = list(pick(range(input._data.shape[0]), r))
    if not picks:
        return Tensor._make(input.xp.zeros((0, r), dtype=input._data.dtype))
    index = input.xp.asarray(picks, dtype=input.xp.int64)
    return S.stack([I.index_select(input, 0, _constant(input.xp, index[:, j])) for j in range(r)], 1)


def _integer_counts(counts: Tensor) -> None:
    """torch's NotImplementedError for counts that are not integers (its kernel has no other)."""
    if counts._data.dtype.kind not in "iu":
        raise NotImplementedError(f"\"repeat_interleave\" not implemented for "
                                  f"'{dtypes.scalar_name(counts.dtype)}'")


@declare(method=True)
def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each entry (each slice along ``dim``) repeated ``repeats`` times in place: an int, or one
    count per entry; ``repeat_interleave(counts)`` alone repeats 0, 1, 2, ... (a host read when
    the counts are a tensor: they set the result's size)."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = input
        if counts._data.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        _integer_counts(counts)
        xp = counts.xp
        return Tensor._make(xp.repeat(xp.arange(counts._data.shape[0]), _host_counts(counts._data)))
    if dim is None:
        input, dim = S.reshape(input, (-1,)), 0
    axis = _wrap_dim(dim, input._data.ndim, "repeat_interleave")
    size = input._data.shape[axis] if input._data.ndim else 1
    xp = input.xp
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        _integer_counts(repeats)
        counts = _host_counts(repeats._data.reshape(-1))
        if len(counts) not in (1, size):
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {len(counts)} and input.size({dim}) = "
                               f"{size}")
        if any(c < 0 for c in counts):
            raise RuntimeError("repeats can not be negative")
        counts = counts[0] if len(counts) == 1 else counts
    else:
        if repeats < 0:
            raise RuntimeError("repeats can not be negative")
        counts = repeats
    index = xp.repeat(xp.arange(size), counts)
    if output_size is not None and output_size != index.shape[0]:
        raise RuntimeError("allocated size does not match required size")
    if input._data.ndim == 0:
        input = S.reshape(input, (1,))
    return I.index_select(input, axis, _constant(xp, index))


def _host_counts(counts) -> list:
    """Repeat counts as Python ints (they set the result's size; CuPy's repeat wants a list)."""
    return [int(c) for c in counts.tolist()]


def _triangle_indices(name: str, upper: bool):
    def indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                layout=None) -> Tensor:
        dtype = dtypes.int64 if dtype is None else dtype
        dev = backend.as_device(device)
        xp = backend.xp_for(dev)
        if row < 0 or col < 0:
            raise RuntimeError(f"{name}: row and col must be non-negative, got {row} and {col}")
        with backend.device_context(dev):
            mask = xp.ones((row, col), dtype=bool)
            mask = xp.triu(mask, offset) if upper else xp.tril(mask, offset)
            return Tensor._make(xp.stack(xp.nonzero(mask)).astype(dtype.np))

    indices.__name__ = name
    indices.__doc__ = (f"The 2×N row and column indices of the {name[:4]} of a row×col matrix "
                       "(from the ``offset`` diagonal), row by row.")
    return indices


tril_indices = declare(_triangle_indices("tril_indices", upper=False))
triu_indices = declare(_triangle_indices("triu_indices", upper=True))


def powers(x: Tensor, count: int) -> list:
    """``[x^0, x^1, ..., x^(count-1)]`` by repeated products (finite gradients at x = 0)."""
    result = [E.add(E.mul(x, 0), 1)] if count else []
    for _ in range(count - 1):
        result.append(E.mul(result[-1], x))
    return result


@declare()
def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: columns x^(N-1) ... x^0 (ascending if
    ``increasing``)."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    columns = powers(x, n)
    if not increasing:
        columns = columns[::-1]
    if not columns:
        dtype = dtypes.promote(x.dtype, dtypes.int64)
        return Tensor._make(x.xp.zeros((x._data.shape[0], 0), dtype=dtype.np))
    return E.cast(S.stack(columns, 1), dtypes.promote(x.dtype, dtypes.int64))


@declare(out="exact")
def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of a chain of matrices; deprecated in torch for ``linalg.multi_dot``."""
    LL.warn_deprecated("chain_matmul", "torch.chain_matmul is deprecated and will be removed in a "
                    "future PyTorch release. Use torch.linalg.multi_dot instead, which accepts a "
                    "list of two or more tensors rather than multiple parameters.")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        if m._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m._data.ndim}, expected 2 instead.")
    if len(matrices) == 1:
            return methods.clone(matrices[0])
    return MF.multi_dot(matrices)


