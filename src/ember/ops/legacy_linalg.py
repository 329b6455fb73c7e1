"""torch's linear algebra from before ``torch.linalg``, with its own signatures: ``torch.svd``
(V, not Vh), ``torch.qr`` (``some``), ``torch.cholesky`` (deprecated, as in torch), ``torch.lu``,
``torch.lu_solve``, ``torch.triangular_solve``; each a thin layer over ``ember.linalg``."""
from __future__ import annotations

import warnings
from collections import namedtuple

from ..tensor import Tensor
from . import decompositions as D
from . import matrix_functions as MF
from . import methods
from . import shape as S
from . import index as I
from . import linalg as LA
from .registry import declare

SVD = namedtuple("svd", ["U", "S", "V"])


@declare(out="exact", method=True)
def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """``(U, S, V)`` with ``input = U diag(S) V^T`` (V itself, not its transpose); without
    ``compute_uv``, U and V are zero matrices of the full shapes, as torch."""
    if compute_uv:
        u, s, vh = D.svd(input, full_matrices=not some)
        return SVD(u, s, S.transpose(vh, -1, -2))
    s = D.svdvals(input)
    xp, shape = input.xp, input._data.shape
    zeros = [Tensor._make(xp.zeros(shape[:-2] + (n, n), dtype=input._data.dtype))
             for n in shape[-2:]]
    return SVD(zeros[0], s, zeros[1])


QR = namedtuple("qr", ["Q", "R"])


@declare(out="exact", method=True)
def qr(input: Tensor, some: bool = True):
    """``(Q, R)``: the reduced factorization if ``some``, else the complete one."""
    return QR(*D.qr(input, "reduced" if some else "complete"))


_WARNED: set = set()


def warn_deprecated(name: str, message: str) -> None:
    """torch's deprecation warning, once per function as torch's TORCH_WARN_ONCE."""
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(message, UserWarning, stacklevel=3)


def _deprecated(name: str, replacement: str) -> None:
    warn_deprecated(name, f"torch.{name} is deprecated in favor of torch.{replacement} and will be "
                          "removed in a future PyTorch release.")


@declare(method=True)
def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky, deprecated in torch in favour of linalg.cholesky."""
    _deprecated("cholesky", "linalg.cholesky")
    return D.cholesky(input, upper=upper)


@declare(out=True, method=True)
def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """``(LU, pivots)`` (and ``infos`` if asked) of ``linalg.lu_factor_ex``; deprecated in torch."""
    _deprecated("lu", "linalg.lu_factor / torch.linalg.lu_factor_ex")
    packed, pivots, info = D.lu_factor_ex(A, pivot=pivot)
    return (packed, pivots, info) if get_infos else (packed, pivots)


@declare(method=True)
def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """X with A X = b from A's ``lu`` (arguments in torch.lu_solve's order); deprecated in torch."""
    _deprecated("lu_solve", "linalg.lu_solve")
    return D.lu_solve(LU_data, LU_pivots, b)


TriangularSolve = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


@declare(out="exact", method=True)
def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """``(X, A)`` with ``A X = b`` (``A^T X = b`` if ``transpose``) for triangular A."""
    _deprecated("triangular_solve", "linalg.solve_triangular")
    a = S.transpose(A, -1, -2) if transpose else A
    x = D.solve_triangular(a, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolve(x, methods.clone(A))



def _gram(L: Tensor, upper: bool, op: str) -> Tensor:
    """A = L L^T (U^T U if ``upper``) from the triangle torch reads, differentiated as torch does:
    as if every entry of L were used (the detached other triangle leaves the values)."""
    D.check_matrices(op, L, square=True)
    other = I.tril(L, -1) if upper else I.triu(L, 1)
    factor = L - other.detach()
    return LA.matmul(S.transpose(factor, -1, -2), factor) if upper else \
        LA.matmul(factor, S.transpose(factor, -1, -2))


@declare(out=True, method=True)
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """X with ``A X = B`` for A given by its Cholesky factor L (``A = L L^T``, or ``U^T U``)."""
    D.check_matrices("cholesky_solve", B, name="B")
    A = _gram(L, upper, "cholesky_solve")
    if B._data.shape[-2] != A._data.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{A.shape[-2]} by {A.shape[-1]} but each b matrix is {B.shape[-2]} by "
                           f"{B.shape[-1]}")
    return LA.solve(A, B)


@declare(out=True, method=True)
def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """The inverse of A given by its Cholesky factor L (``A = L L^T``, or ``U^T U``)."""
    return LA.inv(_gram(L, upper, "cholesky_inverse"))


@declare(out="exact", method=True)
def inverse(input: Tensor) -> Tensor:
    """torch's older name of ``linalg.inv``: the inverse of each square matrix."""
    return LA.inv(input)


@declare(out=True, method=True)
def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """torch's older name of ``linalg.householder_product``: Q from Householder reflectors."""
    return MF.householder_product(input, tau)
