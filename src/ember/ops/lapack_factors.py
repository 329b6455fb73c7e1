"""Factorizations in LAPACK's packed form: LDL^T (``linalg.ldl_factor``, ``ldl_factor_ex``,
``ldl_solve``) and Householder QR (``geqrf``, ``ormqr``).

The factors come from SciPy's LAPACK (``sytrf``, ``sytrs``, ``geqrf``) on the host, through
``backend.lapack_routine``, one matrix of a batch at a time. torch gives ``ldl_factor``,
``ldl_solve`` and ``geqrf`` no derivative, and Ember refuses one at backward as torch does;
``ormqr`` is a composite of ``householder_product``, so all its derivatives exist.
"""
from __future__ import annotations

from collections import namedtuple

from .. import backend, dtypes
from ..tensor import Tensor
from . import decompositions as D
from . import shape as S
from .linalg import LinAlgError, _mT, matmul
from .matrix_functions import householder_product
from .registry import apply, declare, primitive

_HOST = backend.numpy  # SciPy's LAPACK reads and writes host arrays


def _not_differentiable(name: str, error: type = RuntimeError):
    """A VJP and JVP rule that refuse, as torch's for an op without a derivative."""

    def refuse(*args, **kwargs):
        raise error(f"derivative for aten::{name} is not implemented")

    return refuse


def _each_matrix(batch: tuple, fn) -> None:
    """``fn(index)`` for every matrix of a batch with leading shape ``batch``."""
    for index in _HOST.ndindex(*batch):
        fn(index)


def _sytrf(a):
    """Host LDL^T of each symmetric matrix (its lower triangle): LD, pivots, info (int32)."""
    n = a.shape[-1]
    ld = _HOST.zeros_like(a)
    pivots = _HOST.zeros(a.shape[:-1], dtype=_HOST.int32)
    info = _HOST.zeros(a.shape[:-2], dtype=_HOST.int32)

    def one(i):
        packed, pivots[i], info[i] = backend.lapack_routine("sytrf", a[i])(a[i], lower=1)
        ld[i] = _HOST.tril(packed)

    if n:
        _each_matrix(a.shape[:-2], one)
    return ld, pivots, info


def _ldl_fwd(xp, a):
    return backend.on_host(_sytrf, a)[0]


_ldl = primitive("linalg_ldl_factor_ex", _ldl_fwd, _not_differentiable("linalg_ldl_factor_ex"),
                 jvp=_not_differentiable("linalg_ldl_factor_ex"))

LDLFactor = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorEx = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


@declare(out="exact", namespaces=("ember.linalg",))
def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False):
    """``(LD, pivots, info)``: LAPACK's sytrf of the lower triangle of symmetric A (D's 1×1 and
    2×2 blocks on LD's diagonal, L's multipliers below, Bunch-Kaufman pivots, 1-based, negative
    for a 2×2 block), and per matrix the first zero diagonal of D (0 where D is invertible)."""
    op = "torch.linalg.ldl_factor_ex"
    D.check_matrices(op, A, square=True)
    _, pivots, info = backend.on_host(_sytrf, A._data)
    if check_errors:
        _refuse_singular(op, info)
    return LDLFactorEx(apply(_ldl, A), Tensor._make(pivots), Tensor._make(info))


def _refuse_singular(op: str, info) -> None:
    flat = backend.transfer(info, backend.CPU).reshape(-1)
    bad = _HOST.nonzero(flat)[0]
    if bad.size:
        where = f"(Batch element {int(bad[0])}): " if info.ndim else ""
        raise LinAlgError(f"{op}: {where}The factorization could not be completed because the "
                          f"input is singular: D[{int(flat[bad[0]]) - 1}, "
                          f"{int(flat[bad[0]]) - 1}] is zero.")


@declare(out="exact", namespaces=("ember.linalg",))
def ldl_factor(A: Tensor, *, hermitian: bool = False):
    """``(LD, pivots)`` of ``ldl_factor_ex``, refusing a matrix whose D is singular."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    _refuse_singular("torch.linalg.ldl_factor", info._data)
    return LDLFactor(LD, pivots)


def _sytrs(ld, pivots, b):
    """Host solve of ``A X = B`` from A's sytrf factors, one matrix at a time."""
    batch = _HOST.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
    ld = _HOST.broadcast_to(ld, batch + ld.shape[-2:])
    pivots = _HOST.broadcast_to(pivots, batch + pivots.shape[-1:])
    b = _HOST.broadcast_to(b, batch + b.shape[-2:])
    x = _HOST.zeros(b.shape, dtype=_HOST.result_type(ld, b))

    def one(i):
        x[i] = backend.lapack_routine("sytrs", ld[i])(ld[i], pivots[i], b[i], lower=1)[0]

    if b.size:
        _each_matrix(batch, one)
    return (x,)


def _ldl_solve_fwd(xp, ld, pivots, b):
    return backend.on_host(_sytrs, ld, pivots, b)[0]


_ldl_solve = primitive("linalg_ldl_solve", _ldl_solve_fwd, _not_differentiable("linalg_ldl_solve"),
                       jvp=_not_differentiable("linalg_ldl_solve"))


@declare(out="exact", namespaces=("ember.linalg",))
def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """X with ``A X = B``, A given by ``ldl_factor``'s ``(LD, pivots)``."""
    op = "torch.linalg.ldl_solve"
    D.check_matrices(op, LD, square=True, name="LD")
    D.check_matrices(op, B, name="B")
    if pivots._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: Expected pivots to be integers. Got {pivots.dtype}")
    if LD._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected LD and B to have the same dtype, but got "
                           f"{LD.dtype} and {B.dtype}")
    if B._data.shape[-2] != LD._data.shape[-1] or pivots._data.shape[-1] != LD._data.shape[-1]:
        raise RuntimeError(f"{op}: LD {list(LD.shape)}, pivots {list(pivots.shape)} and B "
                           f"{list(B.shape)} do not fit: B needs LD's {LD._data.shape[-1]} rows")
    return apply(_ldl_solve, LD, Tensor._make(pivots._data.astype("int32")), B)


def _geqrf(a):
    """Host Householder QR of each matrix: R and the reflectors packed, and their scales."""
    k = min(a.shape[-2:])
    packed = a.copy()
    tau = _HOST.zeros(a.shape[:-2] + (k,), dtype=a.dtype)

    def one(i):
        packed[i], tau[i] = backend.lapack_routine("geqrf", a[i])(a[i])[:2]

    if a.size:
        _each_matrix(a.shape[:-2], one)
    return packed, tau


def _geqrf_fwd(xp, a):
    return backend.on_host(_geqrf, a)[0]


_geqrf_prim = primitive("geqrf", _geqrf_fwd, _not_differentiable("geqrf", NotImplementedError),
                        jvp=_not_differentiable("geqrf", NotImplementedError))
Geqrf = namedtuple("geqrf", ["a", "tau"])


@declare(out=True, method=True)
def geqrf(input: Tensor):
    """``(a, tau)``: LAPACK's geqrf, R on and above a's diagonal, the Householder vectors below
    it, and their scales tau (``householder_product(a, tau)`` is Q)."""
    D.check_matrices("geqrf", input)
    _, tau = backend.on_host(_geqrf, input._data)
    return Geqrf(apply(_geqrf_prim, input), Tensor._make(tau))


@declare(out="exact", method=True)
def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """``other`` multiplied by Q (``Q^T`` with ``transpose``) from the left or the right, Q the
    product of the Householder reflectors in ``(input, tau)`` as geqrf gives them."""
    op = "torch.ormqr"
    D.check_matrices(op, input)
    D.check_matrices(op, other, name="other")
    side = -2 if left else -1
    size = other._data.shape[side]
    rows, cols = input._data.shape[-2:]
    if rows != size:
        raise RuntimeError(f"{op}: input.shape[-2] must be equal to other.shape[{side}] (input "
                           f"{list(input.shape)}, other {list(other.shape)})")
    for name, t in (("tau", tau), ("other", other)):
        if t.dtype != input.dtype:
            raise RuntimeError(f"{op}: Expected input and {name} to have the same dtype, but input "
                               f"has dtype{dtypes.scalar_name(input.dtype)} and {name} has dtype "
                               f"{dtypes.scalar_name(t.dtype)}")
    k = tau._data.shape[-1] if tau._data.ndim else -1
    if k != min(size, cols):
        raise RuntimeError(f"{op}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           f"input.shape[-1]) (tau {list(tau.shape)})")
    q = householder_product(_square(input[..., :k]), _padded(tau, rows))
    if transpose:
        q = _mT(q)
    return matmul(q, other) if left else matmul(other, q)


def _square(a: Tensor) -> Tensor:
    """``a`` (m×k, k ≤ m) with zero columns to m×m: reflectors with a zero scale are the identity."""
    rows, cols = a._data.shape[-2:]
    if cols == rows:
        return a
    pad = Tensor._make(a.xp.zeros(a._data.shape[:-1] + (rows - cols,), dtype=a._data.dtype))
    return S.cat([a, pad], -1)


def _padded(tau: Tensor, n: int) -> Tensor:
    k = tau._data.shape[-1]
    if k == n:
        return tau
    pad = Tensor._make(tau.xp.zeros(tau._data.shape[:-1] + (n - k,), dtype=tau._data.dtype))
    return S.cat([tau, pad], -1)
