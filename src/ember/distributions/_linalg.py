"""The matrix algebra the multivariate distributions need, as composites of Ember ops (so
gradients of every order flow): a Cholesky factor and triangular solves."""
from __future__ import annotations

from ..creation import zeros
from ..ops import elementwise as E
from ..ops import index as I
from ..ops import linalg as L
from ..ops import reduce as R
from ..ops import shape as S
from ..tensor import Tensor


def cholesky(a: Tensor) -> Tensor:
    """The lower Cholesky factor of a (batch of) positive-definite matrices, column by column.

    It reads the symmetric part of ``a``, so its gradient is symmetric, as torch's.
    """
    n = a.shape[-1]
    a = E.mul(E.add(a, a.mT), 0.5)
    columns = []
    for j in range(n):
        rest = a[..., j:, j]
        if j:
            done = S.stack(columns, -1)  # (..., n, j)
            rest = E.sub(rest, R.sum(E.mul(done[..., j:, :], done[..., j:j + 1, :]), -1))
        pivot = E.sqrt(rest[..., :1])
        column = S.cat([pivot, E.div(rest[..., 1:], pivot)], -1)
        if j:
            column = S.cat([zeros(tuple(a.shape[:-2]) + (j,), dtype=a.dtype, device=a.device),
                            column], -1)
        columns.append(column)
    return S.stack(columns, -1)


def solve_lower(tril: Tensor, rhs: Tensor) -> Tensor:
    """``tril^-1 @ rhs`` for lower-triangular ``tril`` (batches broadcast); only the lower
    triangle is read, so no gradient reaches the upper one."""
    return L.solve(I.tril(tril), rhs)


def batch_mahalanobis(scale_tril: Tensor, diff: Tensor) -> Tensor:
    """``|scale_tril^-1 diff|^2`` over the last dim, batch dims broadcast."""
    m = solve_lower(scale_tril, S.unsqueeze(diff, -1))
    return R.sum(E.mul(m, m), (-2, -1))


def half_log_det(scale_tril: Tensor) -> Tensor:
    """log det of the covariance ``scale_tril @ scale_tril^T``, halved: sum(log(diag))."""
    return R.sum(E.log(L.diagonal(scale_tril, 0, -2, -1)), -1)


def eigenvalues_nonnegative(value: Tensor, strict: bool) -> Tensor:
    """Whether each symmetric matrix has all eigenvalues >= 0 (> 0 when ``strict``)."""
    xp = value.xp
    eig = xp.linalg.eigvalsh(value._data)
    ok = eig > 0 if strict else eig >= 0
    return Tensor._make(ok.all(axis=-1))
