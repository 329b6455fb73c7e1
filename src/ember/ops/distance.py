"""Pairwise distances: ``cdist`` (every row of one set to every row of another) and ``pdist``
(every pair of rows of one set), as p-norms of differences."""
from __future__ import annotations

from ..tensor import Tensor
from .. import dtypes
from . import elementwise as E
from . import reduce as R
from . import shape as S
from . import index as I
from .registry import declare


@declare()
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """``||x1[..., i, :] - x2[..., j, :]||_p`` for every i, j, broadcasting the batch dims."""
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X{1 if x1._data.ndim < 2 else 2} "
                           f"got: {min(x1._data.ndim, x2._data.ndim)}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    for t in (x1, x2):
        if t._data.dtype.kind not in dtypes.FLOAT_KINDS:
            raise RuntimeError(f"cdist only supports floating-point dtypes, X{1 if t is x1 else 2} "
                               f"got: {t.dtype}")
    diff = E.sub(S.unsqueeze(x1, -2), S.unsqueeze(x2, -3))
    return R.norm(diff, p, -1)


@declare()
def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The distances between rows i < j of an N×M tensor, in row-major order (N(N-1)/2)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input._data.shape[0]
    rows, cols = input.xp.triu_indices(n, 1)
    left = I.index_select(input, 0, Tensor._make(rows.astype("int64")))
    right = I.index_select(input, 0, Tensor._make(cols.astype("int64")))
    return R.norm(E.sub(left, right), p, -1)
