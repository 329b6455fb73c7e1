"""``ember.linalg``: torch.linalg's norms, inverse, determinant and linear solve.

Decompositions (SVD, QR, eigen) are not here, so the spectral and nuclear matrix norms are not
either.
"""
from __future__ import annotations

from .ops.linalg import LinAlgError
from .ops.reduce import norm as _norm
from .ops.registry import declare, derive, exporter, namespace
from .tensor import Tensor
from .ops import elementwise as E
from .ops import reduce as R
from .ops import shape as S

_INF = float("inf")


@declare(namespaces=("ember.linalg",))
def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The ``ord``-norm of ``x`` as a vector, over ``dim`` (all of it by default)."""
    return _norm(x, ord, dim, keepdim, dtype)


@declare(namespaces=("ember.linalg",))
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
    raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs a singular value "
                              "decomposition, which Ember does not have")


@declare(name="linalg.norm", namespaces=("ember.linalg",))
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


derive(exporter("ember.linalg", globals()))  # det, inv, solve (in ops/linalg.py) and the norms
__all__ = ["LinAlgError", *sorted(namespace("ember.linalg"))]
del declare, derive, exporter, namespace  # the declaration API is not part of torch.linalg
