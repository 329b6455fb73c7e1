"""Matrix factorizations: Cholesky, QR, symmetric and general eigen, SVD, LU, triangular solve.

A factorization computes all its outputs at once, but each output is recorded as its own node
of one primitive: an output the loss never reaches adds nothing to A's gradient, as torch's
undefined gradients. Each rule gets the cotangent of its output (``None`` for the others) and
the factors as Ember tensors: the saved arrays, or, while the rule itself is being recorded
(``create_graph=True``), the factorization recomputed from A, so that second derivatives see
how the factors depend on A. The rules follow torch's (``FunctionsManual.cpp``) and the
literature (Murray 2016 for Cholesky, Walter & Lehmann 2018 for QR, Townsend 2016 for SVD).

Complex tensors do not exist in Ember: ``eig`` of a matrix with complex eigenvalues is refused.
"""
from __future__ import annotations

import math
import warnings
from collections import namedtuple
from typing import Callable

from .. import dtypes
from ..autograd.forward_ad import LEVELS
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from . import elementwise as E
from . import index as I
from . import reduce as R
from . import shape as S
from . import builders
from .linalg import LinAlgError, _mT, diagonal, matmul, solve
from .leading_batch import leading_batch
from .registry import apply, declare, primitive
from .tensor_args import NotATensorError

# ---------------------------------------------------------------------------- checks and helpers


def check_matrices(op: str, A: Tensor, square: bool = False, name: str = "A",
                   lapack: bool = True) -> None:
    """torch's refusals for a matrix argument: fewer than 2 dims, not square, not floating,
    float16 where LAPACK does the work (it has no half precision)."""
    if not isinstance(A, Tensor):
        raise NotATensorError(f"{op}(): argument '{name}' must be Tensor, not {type(A).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if square and A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A._data.shape[-2]} by {A._data.shape[-1]} matrices")
    if A._data.dtype.kind not in dtypes.FLOAT_KINDS:
        # NotImplementedError, a RuntimeError: torch raises one or the other by the op's kernel
        raise NotImplementedError(f"{op}: Expected a floating point or complex tensor as input. "
                                  f"Got {dtypes.scalar_name(A.dtype)}")
    if lapack and A._data.dtype.itemsize < 4:
        raise NotImplementedError(f"{op}: not implemented for '{dtypes.scalar_name(A.dtype)}' "
                                  "(LAPACK has no half precision)")


def _owned(arr):
    """An array that owns its memory (a view would be tracked as a view of A)."""
    return arr if arr.base is None else arr.copy()


def eye_like(A: Tensor, n: int | None = None) -> Tensor:
    """The n×n identity (n: A's last dim) in A's dtype and device, a constant."""
    n = A._data.shape[-1] if n is None else n
    return Tensor._make(A.xp.eye(n, dtype=A._data.dtype))


def _diag(x: Tensor) -> Tensor:
    return diagonal(x, 0, -2, -1)


def _factorization(name: str, backward: Callable, recompute: Callable, formula: str):
    """The primitive behind every output of one factorization.

    ``backward(grads, factors, **kw)`` returns A's gradient from the outputs' cotangents
    (``None`` where an output is not used); ``recompute(A, **kw)`` is the public function.
    """

    def rule(g, out, a, part, parts, **kw):
        grads = [None] * len(parts)
        grads[part] = g
        if STATE.enabled and a.requires_grad:
            factors = recompute(a, **kw)
        else:
            factors = [Tensor._make(p) for p in parts]
        return (backward(grads, factors, **kw),)

    return primitive(name, lambda xp, a, part, parts, **kw: parts[part], rule, batchable=False,
                     formula=formula, jvp="transposed", batch="leading")


def _record(prim, A: Tensor, parts: tuple, differentiable: tuple, **kw) -> list:
    """One tensor per output; the differentiable ones recorded as nodes of ``prim``."""
    parts = tuple(_owned(p) for p in parts)
    return [apply(prim, A, part=i, parts=parts, **kw) if i in differentiable else Tensor._make(p)
            for i, p in enumerate(parts)]


def _warn_repeated(op: str, gaps: Tensor, what: str) -> None:
    """torch returns nan/inf silently when vectors meet repeated values; Ember says why."""
    off = gaps._data + gaps.xp.eye(gaps._data.shape[-1], dtype=gaps._data.dtype)
    if bool((off == 0).any()):
        warnings.warn(f"{op}: the gradient through the {what} is not finite: the input has "
                      f"repeated {'singular values' if what == 'singular vectors' else 'eigenvalues'},"
                      f" whose {what} are not unique (torch gives the same nan/inf)", stacklevel=4)


def _gaps(values: Tensor) -> Tensor:
    """``E[i, j] = values[j] - values[i]`` with ones on the diagonal (it is divided by)."""
    e = E.sub(S.unsqueeze(values, -2), S.unsqueeze(values, -1))
    return E.add(e, eye_like(e))


# ---------------------------------------------------------------------------- triangular solve


def _substitute(xp, a, b, upper: bool, unitriangular: bool):
    """X with A X = B for triangular A, by forward or back substitution (as BLAS trsm: a zero on
    the diagonal gives inf/nan, no error)."""
    n = a.shape[-1]
    batch = E.broadcast_shape("linalg.solve_triangular", a.shape[:-2], b.shape[:-2])
    dtype = xp.result_type(a, b)
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    x = xp.zeros(batch + b.shape[-2:], dtype=dtype)
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        done = slice(i + 1, n) if upper else slice(0, i)
        row = b[..., i, :] - xp.matmul(a[..., i:i + 1, done], x[..., done, :])[..., 0, :]
        x[..., i, :] = row if unitriangular else row / a[..., i, i:i + 1]
    return x


def _solve_triangular_rule(g, out, a, b, upper, unitriangular):
    """X = A^-1 B: gB = A^-T G, gA = -gB X^T on A's triangle."""
    gb = solve_triangular(_mT(a), g, upper=not upper, unitriangular=unitriangular)
    ga = None
    if a.requires_grad:
        offset = int(unitriangular)
        full = E.neg(matmul(gb, _mT(out)))
        ga = R.sum_to(I.triu(full, offset) if upper else I.tril(full, -offset), a._data.shape)
    return ga, (R.sum_to(gb, b._data.shape) if b.requires_grad else None)


_solve_triangular = primitive(
    "solve_triangular",
    lambda xp, a, b, upper, unitriangular: _substitute(xp, a, b, upper, unitriangular),
    _solve_triangular_rule, saves_out=True, batchable=False, jvp="transposed", batch="leading",
    formula="X = A^-1 B (A triangular): gB = A^-T G, gA = triangle(-gB X^T)",
)


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with ``A X = B`` (``X A = B`` when not ``left``) for triangular A: only A's ``upper``
    (or lower) triangle is read, and its diagonal is taken as ones if ``unitriangular``."""
    op = "linalg.solve_triangular"
    check_matrices(op, A, square=True)
    check_matrices(op, B, name="B")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{dtypes.scalar_name(A.dtype)} and B of type "
                           f"{dtypes.scalar_name(B.dtype)} instead")
    if not left:
        return _mT(solve_triangular(_mT(A), _mT(B), upper=not upper, unitriangular=unitriangular))
    if A._data.shape[-1] != B._data.shape[-2]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({A._data.shape[-2]}x{A._data.shape[-1]} and "
                           f"{B._data.shape[-2]}x{B._data.shape[-1]})")
    return apply(_solve_triangular, A, B, upper=bool(upper), unitriangular=bool(unitriangular))


# ---------------------------------------------------------------------------- Cholesky


def _cholesky_backward(grads, factors):
    """gA = sym(L^-T Φ(L^T gL) L^-1), Φ the lower triangle with its diagonal halved."""
    (gl,), (l,) = grads, factors
    phi = I.tril(matmul(_mT(l), gl))
    phi = E.sub(phi, E.mul(builders.diag_embed(_diag(phi)), 0.5))
    ga = solve_triangular(_mT(l), phi, upper=True)
    ga = solve_triangular(l, ga, upper=False, left=False)
    return E.mul(E.add(ga, _mT(ga)), 0.5)


_cholesky = _factorization("linalg_cholesky", _cholesky_backward,
                           lambda a: [cholesky(a)],
                           "gA = sym(L^-T tril½(L^T gL) L^-1)")


def _factor(xp, a):
    """The Cholesky factor, or None where it fails: NumPy raises, CuPy returns NaN unless told to
    raise (so the result is read back, as torch's CUDA cholesky reads its error code)."""
    try:
        factor = xp.linalg.cholesky(a)
    except xp.linalg.LinAlgError:
        return None
    return None if bool(xp.isnan(factor).any()) else factor


def _first_failing_minors(xp, a) -> list:
    """Per matrix, the order of the first leading minor that is not positive-definite (0: none)."""
    flat = a.reshape((math.prod(a.shape[:-2]),) + a.shape[-2:])
    orders = []
    for m in flat:
        bad = (k for k in range(1, m.shape[-1] + 1) if _factor(xp, m[:k, :k]) is None)
        orders.append(next(bad, 0))
    return orders


def _cholesky_arrays(xp, a, op: str, check: bool):
    """(L, info): L where the factorization succeeds (NaN elsewhere), info the failing order."""
    factor = _factor(xp, a)
    if factor is not None:
        return factor, xp.zeros(a.shape[:-2], dtype=xp.int32)
    orders = _first_failing_minors(xp, a)
    if check:
        batch, order = next((b, k) for b, k in enumerate(orders) if k)
        where = f"(Batch element {batch}): " if a.ndim > 2 else ""
        raise LinAlgError(f"{op}: {where}The factorization could not be completed because the "
                          f"input is not positive-definite (the leading minor of order {order} "
                          "is not positive-definite).")
    flat = a.reshape((len(orders),) + a.shape[-2:])
    factors = xp.stack([xp.full(m.shape, xp.nan, dtype=a.dtype) if k else xp.linalg.cholesky(m)
                        for m, k in zip(flat, orders)])
    return factors.reshape(a.shape), xp.asarray(orders, dtype=xp.int32).reshape(a.shape[:-2])


def _cholesky_outputs(A: Tensor, upper: bool, check: bool, op: str):
    check_matrices(op, A, square=True)
    l_arr, info = _cholesky_arrays(A.xp, A._data, op, check)
    (l,) = _record(_cholesky, A, (l_arr,), (0,))
    return (_mT(l) if upper else l), Tensor._make(info)


@declare(out="exact", name="linalg.cholesky", namespaces=("ember.linalg",))
@leading_batch
def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L with ``A = L L^T`` for symmetric positive-definite A (only its lower triangle is read);
    ``upper=True`` gives ``L^T``. Not positive-definite: torch's LinAlgError."""
    return _cholesky_outputs(A, upper, True, "linalg.cholesky")[0]


CholeskyEx = namedtuple("linalg_cholesky_ex", ["L", "info"])


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """``(L, info)``: info is 0 where A is positive-definite, else the order of the first leading
    minor that is not (L's values there are unspecified: NaN in Ember)."""
    return CholeskyEx(*_cholesky_outputs(A, upper, check_errors, "linalg.cholesky_ex"))


# ---------------------------------------------------------------------------- QR


def _qr_square_backward(gq, gr, q, r):
    """Walter & Lehmann for m >= n: gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""
    m = E.sub(matmul(r, _mT(gr)), matmul(_mT(gq), q))
    lower = I.tril(m, -1)
    sym = E.add(E.add(lower, _mT(lower)), builders.diag_embed(_diag(m)))
    return solve_triangular(_mT(r), E.add(gq, matmul(q, sym)), upper=False, left=False)


def _qr_backward(grads, factors, mode):
    gq, gr = grads
    q, r = factors
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                           "differentiate through linalg.qr.")
    rows, cols = q._data.shape[-2], r._data.shape[-1]
    if mode == "complete" and rows > cols:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    gq = E.const_zeros(q) if gq is None else gq
    gr = E.const_zeros(r) if gr is None else gr
    if rows >= cols:
        return _qr_square_backward(gq, gr, q, r)
    # A = [X | Y] with X square: Y = Q V gives gY = Q gV, and Q depends on X only
    u, v = r[..., :, :rows], r[..., :, rows:]
    y = matmul(q, v)
    gx = _qr_square_backward(E.add(gq, matmul(y, _mT(gr[..., :, rows:]))), gr[..., :, :rows], q, u)
    return S.cat([gx, matmul(q, gr[..., :, rows:])], -1)


_qr = _factorization("linalg_qr", _qr_backward, lambda a, mode: list(qr(a, mode)),
                     "gA = (gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T")

QR = namedtuple("linalg_qr", ["Q", "R"])


@declare(out="exact", name="linalg.qr", namespaces=("ember.linalg",))
@leading_batch
def qr(A: Tensor, mode: str = "reduced"):
    """``(Q, R)`` with ``A = Q R``, Q orthonormal columns and R upper triangular; ``mode``
    'reduced' (k = min(m, n) columns), 'complete' (Q square) or 'r' (Q empty)."""
    check_matrices("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           "(default), 'r', or 'complete'")
    xp = A.xp
    q, r = xp.linalg.qr(A._data, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        q = xp.zeros((0,), dtype=A._data.dtype)
    return QR(*_record(_qr, A, (q, r), (0, 1), mode=mode))


# ---------------------------------------------------------------------------- symmetric eigen


def _eigh_backward(grads, factors, UPLO):
    """gA = V (skew(V^T gV) / E + diag(gw)) V^T, E[i, j] = w_j - w_i."""
    gw, gv = grads
    w, v = factors
    if gv is None:
        inner = builders.diag_embed(gw)
    else:
        vgv = matmul(_mT(v), gv)
        gaps = _gaps(w)
        _warn_repeated("linalg.eigh", gaps, "eigenvectors")
        inner = E.div(E.mul(E.sub(vgv, _mT(vgv)), 0.5), gaps)
        if gw is not None:
            inner = E.add(inner, builders.diag_embed(gw))
    return matmul(v, matmul(inner, _mT(v)))


_eigh = _factorization("linalg_eigh", _eigh_backward, lambda a, UPLO: list(eigh(a, UPLO)),
                       "gA = V (skew(V^T gV) / (w_j - w_i) + diag(gw)) V^T")

Eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])


def _check_uplo(op: str, UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def eigh(A: Tensor, UPLO: str = "L"):
    """``(w, V)`` with ``A = V diag(w) V^T`` for symmetric A (only its ``UPLO`` triangle is
    read), w ascending."""
    check_matrices("linalg.eigh", A, square=True)
    _check_uplo("linalg.eigh", UPLO)
    w, v = A.xp.linalg.eigh(A._data, UPLO)
    return Eigh(*_record(_eigh, A, (w, v), (0, 1), UPLO=UPLO))


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of symmetric A, ascending (its gradient is V diag(g) V^T, finite even
    for repeated eigenvalues)."""
    check_matrices("linalg.eigvalsh", A, square=True)
    _check_uplo("linalg.eigvalsh", UPLO)
    if STATE.enabled and A.requires_grad or LEVELS.active:
        return eigh(A, UPLO)[0]
    return Tensor._make(A.xp.linalg.eigvalsh(A._data, UPLO))


# ---------------------------------------------------------------------------- general eigen


def _eig_backward(grads, factors):
    """gA = V^-T (diag(gw) + off((V^T gV - V^T V diag(V^T gV)) / E)) V^T, E[i, j] = w_j - w_i."""
    gw, gv = grads
    w, v = factors
    inner = E.const_zeros(v) if gw is None else builders.diag_embed(gw)
    if gv is not None:
        vgv = matmul(_mT(v), gv)
        normalized = E.sub(vgv, matmul(_mT(v), E.mul(v, S.unsqueeze(_diag(vgv), -2))))
        gaps = _gaps(w)
        _warn_repeated("linalg.eig", gaps, "eigenvectors")
        off = Tensor._make(1 - v.xp.eye(v._data.shape[-1], dtype=v._data.dtype))
        inner = E.add(inner, E.mul(E.div(normalized, gaps), off))
    return solve(_mT(v), matmul(inner, _mT(v)))


_eig = _factorization("linalg_eig", _eig_backward, lambda a: list(eig(a)),
                      "gA = V^-T (diag(gw) + off(V^T gV - V^T V diag(V^T gV)) / (w_j - w_i)) V^T")

Eig = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])


def _real_eig(op: str, xp, a, vectors: bool):
    """Eigenvalues (and vectors) of ``a``, refused where any eigenvalue is complex."""
    try:
        result = xp.linalg.eig(a) if vectors else (xp.linalg.eigvals(a),)
    except xp.linalg.LinAlgError:
        raise RuntimeError(f"torch.{op}: input tensor should not contain infs or NaNs.") from None
    if any(r.dtype.kind == "c" for r in result):
        if bool((result[0].imag != 0).any()):
            raise NotImplementedError(
                f"{op}: this matrix has complex eigenvalues, and Ember has no complex tensors; "
                "only matrices whose eigenvalues are all real are supported (symmetric ones: "
                "use linalg.eigh)")
        result = tuple(r.real.astype(a.dtype) for r in result)
    return result


@declare(out=True, namespaces=("ember.linalg",))
@leading_batch
def eig(A: Tensor):
    """``(w, V)`` with ``A V = V diag(w)``, as torch (LAPACK's order, unit-norm columns), for
    matrices whose eigenvalues are all real: Ember has no complex tensors, so torch's complex
    results come back real, and a matrix with complex eigenvalues is refused."""
    check_matrices("linalg.eig", A, square=True)
    w, v = _real_eig("linalg.eig", A.xp, A._data, True)
    return Eig(*_record(_eig, A, (w, v), (0, 1)))


@declare(out=True, namespaces=("ember.linalg",))
@leading_batch
def eigvals(A: Tensor) -> Tensor:
    """The eigenvalues of A (all real, or refused: see ``eig``)."""
    check_matrices("linalg.eigvals", A, square=True)
    if STATE.enabled and A.requires_grad or LEVELS.active:
        return eig(A)[0]
    return Tensor._make(_real_eig("linalg.eigvals", A.xp, A._data, False)[0])


# ---------------------------------------------------------------------------- SVD


def _svd_backward(grads, factors, full_matrices):
    """torch's svd_backward (reduced factors; full ones are narrowed to k columns first)."""
    gu, gs, gvh = grads
    u, s, vh = factors
    k = s._data.shape[-1]
    if full_matrices:
        u, vh = u[..., :, :k], vh[..., :k, :]
        gu = None if gu is None else gu[..., :, :k]
        gvh = None if gvh is None else gvh[..., :k, :]
    rows, cols = u._data.shape[-2], vh._data.shape[-1]
    if gu is None and gvh is None:
        return matmul(E.mul(u, S.unsqueeze(gs, -2)), vh)
    gaps = _gaps(E.mul(s, s))
    _warn_repeated("linalg.svd", gaps, "singular vectors")
    inner = None
    if gu is not None:
        uhgu = matmul(_mT(u), gu)
        inner = E.mul(E.sub(uhgu, _mT(uhgu)), S.unsqueeze(s, -2))
    if gvh is not None:
        vhgv = matmul(vh, _mT(gvh))
        term = E.mul(S.unsqueeze(s, -1), E.sub(vhgv, _mT(vhgv)))
        inner = term if inner is None else E.add(inner, term)
    inner = E.div(inner, gaps)
    if gs is not None:
        inner = E.add(inner, builders.diag_embed(gs))
    if rows > cols and gu is not None:
        ga = matmul(u, inner)
        gu_sinv = E.div(gu, S.unsqueeze(s, -2))
        ga = E.sub(E.add(ga, gu_sinv), matmul(u, matmul(_mT(u), gu_sinv)))
        return matmul(ga, vh)
    if rows < cols and gvh is not None:
        ga = matmul(inner, vh)
        sinv_gvh = E.div(gvh, S.unsqueeze(s, -1))
        ga = E.sub(E.add(ga, sinv_gvh), matmul(matmul(sinv_gvh, _mT(vh)), vh))
        return matmul(u, ga)
    return matmul(matmul(u, inner), vh)


_svd = _factorization("linalg_svd", _svd_backward,
                      lambda a, full_matrices: list(svd(a, full_matrices)),
                      "gA = U (skew(U^T gU) S + S skew(V^T gV)) / (s_j^2 - s_i^2) + diag(gS)) V^T "
                      "(+ the parts outside U's and V's column spaces)")

SVD = namedtuple("linalg_svd", ["U", "S", "Vh"])


def _svd_arrays(op: str, xp, a, full_matrices: bool = False, vectors: bool = True):
    try:
        return xp.linalg.svd(a, full_matrices=full_matrices, compute_uv=vectors)
    except xp.linalg.LinAlgError:
        why = ("is ill-conditioned or has too many repeated singular values"
               if bool(xp.isfinite(a).all()) else "contained non-finite values")
        raise LinAlgError(f"{op}: The algorithm failed to converge because the input matrix "
                          f"{why}.") from None


@declare(out="exact", name="linalg.svd", namespaces=("ember.linalg",))
@leading_batch
def svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending; ``full_matrices=False`` keeps
    k = min(m, n) columns of U and rows of Vh."""
    check_matrices("linalg.svd", A)
    parts = _svd_arrays("linalg.svd", A.xp, A._data, full_matrices)
    return SVD(*_record(_svd, A, parts, (0, 1, 2), full_matrices=bool(full_matrices)))


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of A, descending (their gradient U diag(g) Vh is finite even for
    repeated ones)."""
    check_matrices("linalg.svdvals", A)
    if STATE.enabled and A.requires_grad or LEVELS.active:
        return svd(A, full_matrices=False)[1]
    return Tensor._make(_svd_arrays("linalg.svdvals", A.xp, A._data, vectors=False))


# ---------------------------------------------------------------------------- LU


def lu_arrays(xp, a):
    """Partial-pivoting LU of a batch of matrices, as LAPACK's getrf: ``(LU, perm, pivots,
    info)``; row i of P^T A is row ``perm[i]`` of A, ``pivots`` are getrf's 1-based row swaps,
    ``info`` the first zero pivot (1-based, 0 if none)."""
    rows, cols = a.shape[-2:]
    k = min(rows, cols)
    batch = a.shape[:-2]
    count = math.prod(batch)
    lu = a.reshape((count, rows, cols)).astype(a.dtype, copy=True)
    every = xp.arange(count)
    perm = xp.broadcast_to(xp.arange(rows), (count, rows)).copy()
    pivots = xp.zeros((count, k), dtype=xp.int32)
    info = xp.zeros(count, dtype=xp.int32)
    for j in range(k):
        p = xp.argmax(xp.abs(lu[:, j:, j]), axis=-1) + j
        pivots[:, j] = p + 1
        _swap_rows(lu, every, j, p)
        _swap_rows(perm, every, j, p)
        pivot = lu[:, j, j]
        zero = pivot == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(xp.int32)
        lu[:, j + 1:, j] /= xp.where(zero, 1, pivot)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return (lu.reshape(a.shape), perm.reshape(batch + (rows,)), pivots.reshape(batch + (k,)),
            info.reshape(batch))


def _swap_rows(arr, every, j: int, p) -> None:
    """Swap row ``j`` with row ``p[b]`` of each matrix ``b`` of ``arr``, in place."""
    row = arr[every, j].copy()
    arr[every, j] = arr[every, p]
    arr[every, p] = row


def _lu_backward(grads, factors):
    """torch's linalg_lu_backward: square, wide (m < n) and tall (m > n) cases."""
    _, gl, gu = grads
    p, l, u = factors
    rows, cols = l._data.shape[-2], u._data.shape[-1]
    k = min(rows, cols)
    gl = E.const_zeros(l) if gl is None else I.tril(gl, -1)  # L's other entries are constants
    gu = E.const_zeros(u) if gu is None else I.triu(gu)
    if rows <= cols:  # A = P L [U1 | U2]
        u1, gu1, gu2 = u[..., :, :k], gu[..., :, :k], gu[..., :, k:]
        ga = E.sub(matmul(_mT(l), gl), matmul(gu, _mT(u)))
        ga = solve_triangular(_mT(u1), I.tril(ga, -1), upper=False, left=False)
        ga = S.cat([E.add(ga, gu1), gu2], -1)
        ga = solve_triangular(_mT(l), ga, upper=True, unitriangular=True)
    else:  # A = P [L1; L2] U
        l1, gl1, gl2 = l[..., :k, :], gl[..., :k, :], gl[..., k:, :]
        ga = E.sub(matmul(gu, _mT(u)), matmul(_mT(l), gl))
        ga = solve_triangular(_mT(l1), I.triu(ga), upper=True, unitriangular=True)
        ga = S.cat([E.add(ga, gl1), gl2], -2)
        ga = solve_triangular(_mT(u), ga, upper=False, left=False)
    return matmul(p, ga)


_lu = _factorization("linalg_lu", _lu_backward, lambda a: list(lu(a)),
                     "square A = P L U: gA = P L^-T (tril₋(L^T gL) + triu(gU U^T)) U^-T")

LU = namedtuple("linalg_lu", ["P", "L", "U"])


def _permutation_matrix(xp, perm, dtype):
    """P with ``A = P L U`` from getrf's row order: ``P[r, c] = 1`` where ``perm[c] == r``."""
    n = perm.shape[-1]
    return (perm[..., None, :] == xp.arange(n)[:, None]).astype(dtype)


def _lu_parts(A: Tensor, op: str):
    check_matrices(op, A)
    xp, a = A.xp, A._data
    packed, perm, pivots, info = lu_arrays(xp, a)
    rows, cols = a.shape[-2:]
    k = min(rows, cols)
    lower = xp.tril(packed[..., :, :k], -1) + xp.eye(rows, k, dtype=a.dtype)
    upper = xp.triu(packed[..., :k, :])
    return (_permutation_matrix(xp, perm, a.dtype), lower, upper), pivots, info


@declare(out="exact", name="linalg.lu", namespaces=("ember.linalg",))
@leading_batch
def lu(A: Tensor, *, pivot: bool = True):
    """``(P, L, U)`` with ``A = P L U``: partial pivoting as LAPACK's getrf, L unit lower
    triangular (m×k), U upper (k×n)."""
    if not pivot:
        raise NotImplementedError("linalg.lu: LU without pivoting is only available on CUDA in "
                                  "torch, and not in Ember")
    parts, _, _ = _lu_parts(A, "linalg.lu")
    return LU(*_record(_lu, A, parts, (1, 2)))


LUFactor = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorEx = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """``(LU, pivots, info)``: L (below the diagonal) and U packed in one matrix, getrf's 1-based
    row swaps, and the first zero pivot (1-based; 0 where A is invertible)."""
    return _lu_factor(A, pivot, check_errors, "torch.linalg.lu_factor_ex")


def _lu_factor(A: Tensor, pivot: bool, check_errors: bool, op: str):
    if not pivot:
        raise NotImplementedError("linalg.lu_factor: LU without pivoting is only available on "
                                  "CUDA in torch, and not in Ember")
    (p, l_arr, u_arr), pivots, info = _lu_parts(A, op)
    if check_errors:
        raise_singular(op, A.xp, info, "lu")
    _, l, u = _record(_lu, A, (p, l_arr, u_arr), (1, 2))
    rows, cols = A._data.shape[-2:]
    strict = E.sub(l, Tensor._make(A.xp.eye(rows, l._data.shape[-1], dtype=A._data.dtype)))
    packed = E.add(_zero_pad(strict, rows, cols), _zero_pad(u, rows, cols))
    return LUFactorEx(packed, Tensor._make(pivots), Tensor._make(info))


def _zero_pad(t: Tensor, rows: int, cols: int) -> Tensor:
    """``t`` with zero rows below and zero columns right, to rows×cols."""
    for axis, size in ((-2, rows), (-1, cols)):
        extra = size - t._data.shape[axis]
        if extra:
            shape = list(t._data.shape)
            shape[axis] = extra
            t = S.cat([t, Tensor._make(t.xp.zeros(tuple(shape), dtype=t._data.dtype))], axis)
    return t


@declare(out="exact", namespaces=("ember.linalg",))
@leading_batch
def lu_factor(A: Tensor, *, pivot: bool = True):
    """``(LU, pivots)`` of ``lu_factor_ex``; a singular A is refused with torch's LinAlgError."""
    packed, pivots, _ = _lu_factor(A, pivot, True, "torch.linalg.lu_factor")
    return LUFactor(packed, pivots)


_SINGULAR = {
    "inverse": (LinAlgError, "The diagonal element {i} is zero, the inversion could not be "
                             "completed because the input matrix is singular."),
    "solve": (LinAlgError, "The solver failed because the input matrix is singular."),
    "lu": (RuntimeError, "U[{i},{i}] is zero and using it on lu_solve would result in a division "
                         "by zero. If you still want to perform the factorization, consider "
                         "calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"),
}


def raise_singular(op: str, xp, info, kind: str = "inverse") -> None:
    """torch's error for the first matrix with a zero pivot (``info`` from the LU; a host read,
    as torch's own check)."""
    flat = info.reshape(-1)
    bad = xp.nonzero(flat)[0]
    if not bad.size:
        return
    batch = int(bad[0])
    where = f"(Batch element {batch}): " if info.ndim else ""
    error, text = _SINGULAR[kind]
    raise error(f"{op}: {where}{text.format(i=int(flat[batch]))}")


def _row_order(pivots: Tensor, rows: int):
    """getrf's 1-based row swaps as a permutation: row i of P^T A is row perm[i] of A."""
    xp = pivots.xp
    lead = pivots._data.shape[:-1]
    piv = pivots._data.reshape((math.prod(lead), pivots._data.shape[-1])).astype(xp.int64) - 1
    count = piv.shape[0]
    every = xp.arange(count)
    perm = xp.broadcast_to(xp.arange(rows), (count, rows)).copy()
    for j in range(piv.shape[-1]):
        _swap_rows(perm, every, j, piv[:, j])
    return perm.reshape(pivots._data.shape[:-1] + (rows,))


@declare(name="linalg.lu_solve", namespaces=("ember.linalg",))
@leading_batch(cores={"pivots": 1})
def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False) -> Tensor:
    """X with ``A X = B`` from A's ``lu_factor`` (``X A = B`` if not ``left``, A^T if
    ``adjoint``): two triangular solves and a row permutation."""
    op = "linalg.lu_solve"
    check_matrices(op, LU, square=True, name="LU")
    check_matrices(op, B, name="B")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return _mT(lu_solve(LU, pivots, _mT(B), adjoint=not adjoint))
    n = LU._data.shape[-1]
    if B._data.shape[-2] != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({n}x{n} and {B._data.shape[-2]}x{B._data.shape[-1]})")
    perm = Tensor._make(_row_order(pivots, n))
    p = Tensor._make(_permutation_matrix(LU.xp, perm._data, LU._data.dtype))
    if adjoint:  # A^T = U^T L^T P^T
        y = solve_triangular(_mT(LU), B, upper=False)
        y = solve_triangular(_mT(LU), y, upper=True, unitriangular=True)
        return matmul(p, y)
    y = solve_triangular(LU, matmul(_mT(p), B), upper=False, unitriangular=True)
    return solve_triangular(LU, y, upper=True)


LUUnpack = namedtuple("lu_unpack", ["P", "L", "U"])


@declare()
@leading_batch(cores={"LU_pivots": 1})
def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True):
    """``(P, L, U)`` from ``lu_factor``'s packed matrix and pivots (torch.lu_unpack)."""
    rows, cols = LU_data._data.shape[-2:]
    k = min(rows, cols)
    xp = LU_data.xp
    empty = Tensor._make(xp.zeros((0,), dtype=LU_data._data.dtype))
    p = l = u = empty
    if unpack_pivots:
        perm = _row_order(LU_pivots, rows)
        p = Tensor._make(_permutation_matrix(xp, perm, LU_data._data.dtype))
    if unpack_data:
        l = E.add(I.tril(LU_data[..., :, :k], -1),
                  Tensor._make(xp.eye(rows, k, dtype=LU_data._data.dtype)))
        u = I.triu(LU_data[..., :k, :])
    return LUUnpack(p, l, u)
