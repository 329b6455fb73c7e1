"""Functions of matrices built on the factorizations: log-determinants, pseudo-inverse, least
squares, rank, powers, exponential, chained products, tensor solves, Householder products.

All but ``slogdet`` and ``pinv`` are composites of differentiable ops, so their derivatives
need no rule. ``pinv`` has its own rule (Golub & Pereyra's), as torch: differentiating through
its SVD would give NaN for repeated singular values, where the pseudo-inverse is smooth.
"""
from __future__ import annotations

import math
from collections import namedtuple

from .. import dtypes
from ..tensor import Tensor
from . import decompositions as D
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .linalg import _mT, inv, matmul, require_square, solve
from .leading_batch import leading_batch, vector_rhs
from .registry import apply, declare, primitive


def _identity(A: Tensor) -> Tensor:
    """The identity for each matrix of A (a constant of A's shape)."""
    xp = A.xp
    return Tensor._make(xp.broadcast_to(xp.eye(A._data.shape[-1], dtype=A._data.dtype),
                                        A._data.shape).copy())


# ---------------------------------------------------------------------------- determinants


def _slogdet_rule(g, out, a, value):
    """d log|det A| = tr(A^-1 dA), so gA = g A^-T."""
    return (E.mul(S.unsqueeze(S.unsqueeze(g, -1), -1), _mT(inv(a))),)


# The forward is given the value LAPACK computed with the sign, so it runs once for both.
_logabsdet = primitive("slogdet", lambda xp, a, value: value, _slogdet_rule, jvp="transposed",
                       batch="leading",
                       formula="d log|det A| = tr(A^-1 dA): gA = g A^-T")

SlogDet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


@declare(out="exact", namespaces=("ember", "ember.linalg"), method=True)
@leading_batch
def slogdet(A: Tensor):
    """``(sign, logabsdet)`` of each square matrix: det A = sign * exp(logabsdet), without the
    overflow of ``det`` (the sign has no gradient)."""
    D.check_matrices("linalg.slogdet", A, square=True)
    sign, logabs = A.xp.linalg.slogdet(A._data)
    xp = A.xp
    return SlogDet(Tensor._make(xp.asarray(sign)), apply(_logabsdet, A, value=xp.asarray(logabs)))


@declare(method=True)
@leading_batch
def logdet(A: Tensor) -> Tensor:
    """log det A: NaN where the determinant is negative, -inf where it is zero (torch.logdet)."""
    D.check_matrices("logdet", A, square=True)
    sign, logabs = slogdet(A)
    nan = Tensor._make(A.xp.asarray(float("nan"), dtype=A._data.dtype))
    return E.where(E.lt(sign, 0), nan, logabs)


# ---------------------------------------------------------------------------- pseudo-inverse, rank


def _tolerance(xp, s, shape: tuple, atol, rtol):
    """torch's cutoff for small singular values: max(atol, rtol * largest), with rtol
    eps * max(m, n) when neither is given (and 0 when only atol is)."""
    def value(t):
        return t._data if isinstance(t, Tensor) else t

    atol, rtol = value(atol), value(rtol)
    if rtol is None:
        given = atol is not None and not (isinstance(atol, (int, float)) and atol <= 0)
        rtol = 0.0 if given else xp.finfo(s.dtype).eps * max(shape[-2:])
    top = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    atol = 0.0 if atol is None else atol
    atol = xp.asarray(atol, dtype=s.dtype)
    rtol = xp.asarray(rtol, dtype=s.dtype)
    if atol.ndim:
        atol = atol[..., None]
    if rtol.ndim:
        rtol = rtol[..., None]
    return xp.maximum(atol, rtol * top)


def _pinv_fwd(xp, a, atol, rtol, hermitian):
    if hermitian:
        w, v = xp.linalg.eigh(a)
        keep = xp.abs(w) > _tolerance(xp, xp.abs(w), a.shape, atol, rtol)
        inverse = xp.where(keep, 1 / xp.where(keep, w, 1), 0)
        return xp.matmul(v * inverse[..., None, :], xp.swapaxes(v, -1, -2))
    u, s, vh = D._svd_arrays("linalg.pinv", xp, a)
    keep = s > _tolerance(xp, s, a.shape, atol, rtol)
    inverse = xp.where(keep, 1 / xp.where(keep, s, 1), 0)
    return xp.matmul(xp.swapaxes(vh, -1, -2) * inverse[..., None, :], xp.swapaxes(u, -1, -2))


def _pinv_rule(g, out, a, atol, rtol, hermitian):
    """Golub & Pereyra (X = A^+): gA = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)."""
    x, gt = out, _mT(g)
    xt = _mT(x)
    first = E.neg(matmul(matmul(xt, g), xt))
    left = E.sub(D.eye_like(a, a._data.shape[-2]), matmul(a, x))
    right = E.sub(D.eye_like(a), matmul(x, a))
    second = matmul(matmul(left, gt), matmul(x, xt))
    third = matmul(matmul(xt, x), matmul(gt, right))
    return (E.add(E.add(first, second), third),)


_pinv = primitive("pinv", _pinv_fwd, _pinv_rule, saves_out=True, batchable=False, jvp="transposed",
                  batch="leading",
                  formula="dX = -X dA X + X X^T dA^T (I - A X) + (I - X A) dA^T X^T X")


def _tensor_arg(t):
    """A tolerance tensor's array (kept as a value so the primitive does not differentiate it)."""
    return t._data if isinstance(t, Tensor) else t


@declare(out=True, namespaces=("ember.linalg",))
@leading_batch(cores={"rcond": 0, "atol": 0, "rtol": 0})
def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse: singular values at or below max(atol, rtol * the
    largest) count as zero (``rcond`` is the older name of ``rtol``)."""
    if not isinstance(A, Tensor) or A._data.ndim < 2 or A._data.dtype.kind not in dtypes.FLOAT_KINDS \
            or A._data.dtype.itemsize < 4:
        kind = dtypes.scalar_name(A.dtype) if isinstance(A, Tensor) else type(A).__name__
        raise RuntimeError(f"linalg.pinv({kind}{{{list(getattr(A, 'shape', []))}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble "
                           "types")
    rtol = rcond if rtol is None else rtol
    for name, t in (("atol", atol), ("rtol", rtol)):
        if isinstance(t, Tensor) and t.requires_grad:
            raise RuntimeError(f"The function 'linalg_pinv' is not differentiable with respect to "
                               f"argument '{name}'. This input cannot have requires_grad True.")
    return apply(_pinv, A, atol=_tensor_arg(atol), rtol=_tensor_arg(rtol),
                 hermitian=bool(hermitian))


@declare(method=True)
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: ``pinv`` with singular values below ``rcond`` times the largest cut."""
    return pinv(input, rtol=rcond)


@declare(out=True, namespaces=("ember.linalg",))
@leading_batch(cores={"tol": 0, "atol": 0, "rtol": 0})
def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:
    """How many singular values (eigenvalue sizes if ``hermitian``) exceed max(atol, rtol * the
    largest); ``tol`` is the older name of ``atol`` (then rtol is 0)."""
    D.check_matrices("linalg.matrix_rank", A)
    xp = A.xp
    if tol is not None:
        atol, rtol = tol, 0.0
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(A._data))
    else:
        s = D._svd_arrays("linalg.matrix_rank", xp, A._data, vectors=False)
    cut = _tolerance(xp, s, A._data.shape, _tensor_arg(atol), _tensor_arg(rtol))
    return Tensor._make((s > cut).sum(axis=-1).astype(xp.int64))


Lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


@declare(out=True, namespaces=("ember.linalg",))
@leading_batch(cores={"B": vector_rhs})
def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver: str | None = None):
    """``(solution, residuals, rank, singular_values)`` of min ||A X - B||: the solution is
    pinv(A) B (torch's derivative is pinv's too); the other outputs are filled for the drivers
    for which torch fills them (residuals when m > n and A has full rank)."""
    op = "torch.linalg.lstsq"
    D.check_matrices(op, A)
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss)")
    vector = B._data.ndim == A._data.ndim - 1
    b = S.unsqueeze(B, -1) if vector else B
    if b._data.ndim < 2 or b._data.shape[-2] != A._data.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2)")
    rows, cols = A._data.shape[-2:]
    xp, dt = A.xp, A._data.dtype
    solution = matmul(pinv(A, rtol=rcond), b)
    empty = Tensor._make(xp.zeros((0,), dtype=dt))
    rank = Tensor._make(xp.zeros((0,), dtype=xp.int64))
    if driver != "gels":
        rank = matrix_rank(A, rtol=rcond)
    residuals = empty
    if driver != "gelsy" and rows > cols:
        full = rank._data if driver != "gels" else matrix_rank(A)._data
        if bool((full == cols).all()):
            residuals = R.sum(E.square(E.sub(matmul(A, solution), b)), -2)
            residuals = S.squeeze(residuals, -1) if vector else residuals
    values = D.svdvals(A).detach() if driver in ("gelsd", "gelss") else empty  # as torch's
    return Lstsq(S.squeeze(solution, -1) if vector else solution, residuals, rank, values)


# ---------------------------------------------------------------------------- powers and exponential


@declare(out=True, namespaces=("ember", "ember.linalg"), method=True)
def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (n < 0: the inverse's power; n = 0: the identity)."""
    require_square("linalg.matrix_power", A)  # any dtype: integer powers too
    if n == 0:
        return _identity(A)
    base = inv(A) if n < 0 else A
    result = None
    n = abs(n)
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


_TAYLOR_DEGREE = 18


@declare(namespaces=("ember", "ember.linalg"), method=True)
@leading_batch
def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) by scaling and squaring: A / 2^s has 1-norm at most 1/2, where a degree-18 Taylor
    polynomial is exact to rounding; then s squarings. Its derivative is the polynomial's,
    which is exp's to rounding too. (Reads the norm back to choose s.)"""
    D.check_matrices("linalg.matrix_exp", A, square=True, lapack=False)
    xp = A.xp
    size = A._data.size
    norm = float(xp.abs(A._data).sum(axis=-2).max()) if size else 0.0
    steps = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    x = E.div(A, 2.0 ** steps) if steps else A
    eye = _identity(A)
    result = eye
    for k in range(_TAYLOR_DEGREE, 0, -1):  # Horner: I + X/1 (I + X/2 (I + ...))
        result = E.add(eye, matmul(E.div(x, float(k)), result))
    for _ in range(steps):
        result = matmul(result, result)
    return result


# ---------------------------------------------------------------------------- products


@declare(out="exact", namespaces=("ember.linalg",))
def multi_dot(tensors, *, out=None) -> Tensor:
    """The product of a chain of matrices; the first may be a row vector and the last a column
    vector (1-D), which are dropped from the result's shape."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        want = "1D or 2D" if i in (0, len(tensors) - 1) else "2D"
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t._data.ndim not in allowed:
            which = {0: "the first tensor", len(tensors) - 1: "the last tensor"}.get(i, f"tensor {i}")
            raise RuntimeError(f"multi_dot(): {which} must be {want} but got {t._data.ndim}D")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 "
                               f"is {tensors[0]._data.dtype} and tensor {i} {t._data.dtype}")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


@declare(out="exact", namespaces=("ember.linalg",))
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim``, broadcasting the rest."""
    for t in (x, y):
        if t._data.dtype.kind not in dtypes.FLOAT_KINDS:
            raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as "
                               f"input. Got {dtypes.scalar_name(t.dtype)}")
    return R.sum(E.mul(x, y), dim)


@declare(name="linalg.vander", namespaces=("ember.linalg",))
def vander(x: Tensor, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of ``x``'s last dim: columns x^0, x^1, ..., x^(N-1)."""
    if x._data.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension.")
    if x._data.dtype.kind == "b":
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           "but got Bool")
    n = x._data.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    columns = [E.add(E.mul(x, 0), 1)]
    for _ in range(n - 1):
        columns.append(E.mul(columns[-1], x))
    return S.stack(columns, -1)


@declare(out=True, namespaces=("ember.linalg",))
def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i column i of A
    below the diagonal and a one on it (LAPACK's orgqr, torch.orgqr)."""
    op = "torch.linalg.householder_product"
    D.check_matrices(op, A)
    rows, cols = A._data.shape[-2:]
    if rows < cols:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    k = tau._data.shape[-1] if tau._data.ndim else 0
    if tau._data.ndim != A._data.ndim - 1 or k > cols:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    xp, dt = A.xp, A._data.dtype
    eye = Tensor._make(xp.eye(rows, cols, dtype=dt))
    q = E.add(E.mul(A, 0), eye)
    for i in range(k - 1, -1, -1):
        head = Tensor._make(xp.zeros(A._data.shape[:-2] + (i + 1, 1), dtype=dt))
        head = E.add(head, Tensor._make(xp.eye(i + 1, 1, -i, dtype=dt)))
        v = S.cat([head, A[..., i + 1:, i:i + 1]], -2)
        t = S.unsqueeze(S.unsqueeze(tau[..., i], -1), -1)
        q = E.sub(q, E.mul(t, matmul(v, matmul(_mT(v), q))))
    return q


# ---------------------------------------------------------------------------- tensor solves


@declare(out=True, namespaces=("ember.linalg",))
def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of A read as a map from its last dims to its first ``ind`` dims."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    head, tail = A._data.shape[:ind], A._data.shape[ind:]
    if math.prod(tail) != math.prod(head):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(tail)} != "
                           f"{math.prod(head)}")
    square = S.reshape(A, (math.prod(head), math.prod(tail)))
    return S.reshape(inv(square), tail + head)


@declare(out=True, namespaces=("ember.linalg",))
def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) = B``; ``dims`` of A are moved to the end first."""
    if dims is not None:
        dims = tuple(dims)
        A = S.movedim(A, dims, tuple(range(A._data.ndim - len(dims), A._data.ndim)))
    head, tail = A._data.shape[:B._data.ndim], A._data.shape[B._data.ndim:]
    if math.prod(tail) != math.prod(B._data.shape):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) "
                           f"== prod(self.shape[:other.ndim]), but got {math.prod(tail)} != "
                           f"{math.prod(B._data.shape)}")
    square = S.reshape(A, (math.prod(head), math.prod(tail)))
    return S.reshape(solve(square, S.reshape(B, (-1,))), tail)


# ---------------------------------------------------------------------------- no-raise forms

InvEx = namedtuple("linalg_inv_ex", ["inverse", "info"])
SolveEx = namedtuple("linalg_solve_ex", ["result", "info"])


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def inv_ex(A: Tensor, *, check_errors: bool = False):
    """``(inverse, info)`` through A's LU factors: info is the first zero pivot (1-based, 0 when
    A is invertible), and the inverse is inf/NaN there instead of an error."""
    D.check_matrices("linalg.inv_ex", A, square=True)
    lu, pivots, info = D.lu_factor_ex(A)
    if check_errors:
        D.raise_singular("linalg.inv_ex", A.xp, info._data)
    return InvEx(D.lu_solve(lu, pivots, _identity(A)), info)


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch(cores={"B": vector_rhs})
def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """``(result, info)``: ``solve`` without the error for singular A (info as ``inv_ex``)."""
    D.check_matrices("linalg.solve_ex", A, square=True)
    lu, pivots, info = D.lu_factor_ex(A)
    if check_errors:
        D.raise_singular("linalg.solve_ex", A.xp, info._data, "solve")
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1
                                   and B._data.shape == A._data.shape[:-1])
    if vector:
        b = S.unsqueeze(B, -1 if left else -2)
        return SolveEx(S.squeeze(D.lu_solve(lu, pivots, b, left=left), -1 if left else -2), info)
    return SolveEx(D.lu_solve(lu, pivots, B, left=left), info)
