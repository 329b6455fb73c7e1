"""``ember.linalg``: torch.linalg's norms, inverse, determinant, solves, factorizations (Cholesky,
QR, eigen, SVD, LU) and the matrix functions built on them.

Ember has no complex tensors: ``eig``/``eigvals`` return real tensors, and refuse a matrix with
complex eigenvalues.
"""
from __future__ import annotations

from .ops.decompositions import svdvals
from .ops.linalg import LinAlgError, inv
from .ops.linalg import diagonal as _diagonal
from .ops.reduce import norm as _norm
from .ops.shape import cross as _cross
from .ops.registry import declare, derive, exporter, namespace
from .tensor import Tensor
from .ops import elementwise as E
from .ops import reduce as R
from .ops import shape as S

_INF = float("inf")


@declare(out="exact", namespaces=("ember.linalg",))
def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The ``ord``-norm of ``x`` as a vector, over ``dim`` (all of it by default)."""
    return _norm(x, ord, dim, keepdim, dtype)


@declare(out="exact", namespaces=("ember.linalg",))
def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """Frobenius (``'fro'``), max column sum (1, -1 the min) or max row sum (inf, -inf the min)
    norm of the matrices over ``dim``."""
    if ord == "fro":
        return _norm(A, "fro", tuple(dim), keepdim, dtype)
    if ord in (1, -1, _INF, -_INF):
        rows, cols = dim
        summed_over = rows if ord in (1, -1) else cols
        sums = R.sum(E.abs(A), summed_over, keepdim=True)
        pick = R.amax if ord in (1, _INF) else R.amin
        out = pick(sums, (rows, cols), keepdim=True)
        return out if keepdim else S.squeeze(out, (rows, cols))
    if ord in (2, -2, "nuc"):
        rows, cols = (d % A.ndim for d in dim)
        values = svdvals(S.movedim(A, (rows, cols), (-2, -1)))
        if ord == "nuc":
            out = R.sum(values, -1)
        else:
            out = (R.amax if ord == 2 else R.amin)(values, -1)
        if keepdim:
            for d in sorted((rows, cols)):
                out = S.unsqueeze(out, d)
        return out
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


@declare(out=True, namespaces=("ember.linalg",))
def cond(A: Tensor, p=None) -> Tensor:
    """The condition number of each matrix in the ``p`` norm: the ratio of the extreme singular
    values for p in (None, 2, -2), else ``norm(A) * norm(inv(A))`` (square A only)."""
    if A.ndim >= 2 and A.shape[-1] == A.shape[-2] == 0:  # empty matrices: 0, as torch
        return Tensor._make(A.xp.zeros(tuple(A.shape[:-2]), dtype=A._data.dtype))
    if p in (None, 2, -2):
        values = svdvals(A)
        big, small = R.amax(values, -1), R.amin(values, -1)
        return E.div(big, small) if p != -2 else E.div(small, big)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they "
                           f"are {A.shape[-2] if A.ndim > 1 else A.ndim} by {A.shape[-1]} matrices")
    return E.mul(matrix_norm(A, p), matrix_norm(inv(A), p))


@declare(out="exact", name="linalg.cross", namespaces=("ember.linalg",))
def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (the last by default), broadcasting."""
    return _cross(input, other, dim)


@declare(name="linalg.diagonal", namespaces=("ember.linalg",))
def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset`` diagonal of each matrix (over the last two dims by default), a view."""
    return _diagonal(A, offset, dim1, dim2)


@declare(out="exact", name="linalg.norm", namespaces=("ember.linalg",))
def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``vector_norm`` for a vector (or a 1-int ``dim``), ``matrix_norm`` for a matrix (or a
    2-int ``dim``); with ``ord`` None, the 2-norm of everything."""
    if ord is None:
        return _norm(A, 2, dim, keepdim, dtype)
    dims = (dim,) if isinstance(dim, int) else dim
    if dims is None:
        dims = tuple(range(A.ndim)) if A.ndim in (1, 2) else None
        if dims is None:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {A.ndim}D.")
    if len(dims) == 1:
        return vector_norm(A, ord, dims, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dims, keepdim, dtype=dtype)


derive(exporter("ember.linalg", globals()))  # the ops/ declarations for ember.linalg, and these
__all__ = ["LinAlgError", *sorted(namespace("ember.linalg"))]
del declare, derive, exporter, namespace  # the declaration API is not part of torch.linalg
