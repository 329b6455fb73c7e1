"""torch.nn.utils.parametrizations.orthogonal: a weight kept (semi-)orthogonal by mapping an
unconstrained matrix through the matrix exponential, the Cayley map or a product of
Householder reflections, each a composition of Ember ops (so second derivatives work)."""
from __future__ import annotations

import math

from ...autograd.grad_mode import no_grad
from ...creation import eye, randn, zeros_like
from ...ops import linalg as L
from ...ops import shape as S
from ...tensor import Tensor
from .. import init
from ..module import Module
from . import parametrize

_MAPS = ("matrix_exp", "cayley", "householder")


def _mT(x: Tensor) -> Tensor:
    return S.transpose(x, -2, -1)


def _identity(n: int, like: Tensor) -> Tensor:
    return eye(n, dtype=like.dtype, device=like.device)


def matrix_exp(a: Tensor) -> Tensor:
    """``exp(a)`` of square matrices: a degree-18 Taylor series after scaling the norm below
    1/2, then squaring back (exact to rounding for the skew matrices used here)."""
    norm = float(a.detach().abs().sum(-1).max().item()) if a.numel() else 0.0
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    a = a / (2.0 ** squarings)
    term = total = _identity(a.shape[-1], a)
    for k in range(1, 19):
        term = L.matmul(term, a) / k
        total = total + term
    for _ in range(squarings):
        total = L.matmul(total, total)
    return total


def householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^T`` with ``v_i`` the
    i-th column of ``a`` below the diagonal and 1 on it (LAPACK's orgqr)."""
    n, k = a.shape[-2], a.shape[-1]
    unit = _identity(n, a)
    q = unit
    for i in range(k):
        v = S.unsqueeze(a[..., :, i] + unit[:, i], -1)
        h = unit - S.unsqueeze(S.unsqueeze(tau[..., i], -1), -1) * L.matmul(v, _mT(v))
        q = L.matmul(q, h)
    return q[..., :, :k]


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of ``a``'s QR factorisation with R's diagonal positive (per matrix of a batch)."""
    flat = S.reshape(a, (-1,) + tuple(a.shape[-2:]))
    qs = [init._orthonormal_columns(flat[i]) for i in range(flat.shape[0])]
    return S.reshape(S.stack(qs), tuple(a.shape))


def _is_orthogonal(q: Tensor) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * (2.220446049250313e-16 if q.dtype.itemsize == 8 else 1.1920928955078125e-07)
    gap = L.matmul(_mT(q), q) - _identity(k, q)
    return bool((gap.abs() <= eps).all().item())


class _Orthogonal(Module):
    """The map from an unconstrained (tall) matrix to an orthogonal one; with
    ``use_trivialization`` the result is multiplied by a ``base`` buffer that assignments
    move, so training starts from the current weight."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = _mT(X)
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                pad = S.expand(zeros_like(X[..., :, :1]), tuple(X.shape[:-1]) + (n - k,))
                X = S.cat([X, pad], -1)
            A = X - _mT(X)
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:
                unit = _identity(n, A)
                Q = L.solve(unit - A * 0.5, unit + A * 0.5)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = householder_product(A, tau)
            Q = Q * S.unsqueeze(L.diagonal(X, 0, -2, -1).detach().to(dtype=Q.dtype).trunc(), -2)
        if "base" in self._buffers:
            Q = L.matmul(self.base, Q)
        return _mT(Q) if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {tuple(Q.shape)}.")
            first = Q
            n, k = Q.shape[-2], Q.shape[-1]
            if n < k:
                Q = _mT(Q)
                n, k = k, n
            if "base" not in self._buffers:
                raise NotImplementedError("Ember's orthogonal parametrization needs "
                                          "use_trivialization=True to assign a weight")
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                extra = randn(tuple(Q.shape[:-2]) + (n, n - k), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(S.cat([Q, extra], -1))
            self.base = Q
            rows, cols = first.shape[-2], first.shape[-1]
            neg_identity = -eye(rows, cols, dtype=first.dtype, device=first.device)
            return neg_identity + zeros_like(first)  # broadcast over a batch of matrices


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep ``module.<name>`` (semi-)orthogonal during training (e.g. RNN recurrent weights)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} "
                         "dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    parametrize.register_parametrization(
        module, name, _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization),
        unsafe=True)
    return module
