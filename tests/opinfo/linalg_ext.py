"""Samples of ember.linalg's factorizations and matrix functions, and their torch.* aliases.

Factors that are unique only up to signs (the columns of an SVD's U and V, eigenvectors) are
compared after flipping each column so its largest entry is positive, in both libraries: the
loss then depends on the factorization only through what it determines, as in torch's own
OpInfo tests. Matrices are built inside the calls where an op needs a kind of matrix (symmetric
positive-definite for Cholesky, well-conditioned for solves), so perturbing the raw samples
(finite differences) keeps them of that kind.
"""
from __future__ import annotations

import numpy as np
import torch

from .specs import WITH_INT, S, T, V, fixed, op

L = "linalg"
# LAPACK builds (torch's, NumPy's) round differently in float32; second derivatives add it up
F32 = {"float32": (1e-3, 1e-4)}


CHOLESKY_READS = "checks the factorization succeeded (torch reads its error code on CUDA too)"
LSTSQ_READS = "residuals are given only where A has full rank (torch checks it too)"


# Forward mode runs a factorization's whole VJP rule (the "transposed" JVP kind), and the
# rule's check for repeated eigen- or singular values reads them back from the GPU.
FORWARD_READS = "forward mode: the factorization's rule checks for repeated values on the host"


def add(name, call, samples, **kw):
    kw.setdefault("tol", F32)
    return op(name, call, samples, L, **kw)


def _eye(m, a):
    return m.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def spd(m, a):
    """A symmetric positive-definite matrix from any square ``a``."""
    return a @ a.mT + _eye(m, a)


def wellcond(m, a):
    """``a`` shifted away from singularity (its leading square part, if not square)."""
    return a + 3 * m.eye(*a.shape[-2:], dtype=a.dtype, device=a.device)


def signs(m, u):
    """+1/-1 per column of ``u`` making its largest entry positive (a constant): flipping the
    columns this way gives the same factors in both libraries, whatever signs LAPACK chose."""
    if u.numel() == 0:
        return m.ones(u.shape[:-2] + (1, u.shape[-1]), dtype=u.dtype, device=u.device)
    idx = u.abs().argmax(-2, keepdim=True)
    return m.gather(u, -2, idx).sign().detach()


def svd_fixed(m, a, full_matrices=True):
    u, s, vh = m.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    flip = signs(m, u)
    return u * flip, s, vh * flip.mT


def svd_fixed_legacy(m, a, some=True):
    u, s, v = m.svd(a, some)
    k = s.shape[-1]
    u, v = u[..., :k], v[..., :k]
    flip = signs(m, u)
    return u * flip, s, v * flip


def eigh_fixed(m, a, UPLO="L"):
    w, v = m.linalg.eigh(a, UPLO)
    return w, v * signs(m, v)


def real(m, t):
    """torch's complex result as the real tensor Ember gives (its imaginary part is zero)."""
    return t.real if m is torch else t


def eig_fixed(m, a):
    w, v = m.linalg.eig(a)
    w, v = real(m, w), real(m, v)
    return w, v * signs(m, v)


def real_spectrum(rng, n: int, batch: tuple = ()) -> np.ndarray:
    """A matrix P diag(d) P^-1 with distinct real eigenvalues, well apart."""
    p = rng.standard_normal(batch + (n, n)) + 3 * np.eye(n)
    d = np.arange(1, n + 1) * 1.5 + rng.uniform(-0.2, 0.2, batch + (n,))
    return (p * d[..., None, :]) @ np.linalg.inv(p)


def spectra(*specs):
    """Samples of real-spectrum matrices: ``specs`` are (n, batch) pairs."""
    def samples(rng, dtype):
        for n, batch in specs:
            yield (real_spectrum(rng, n, batch).astype(dtype),), {}
    return samples


# ---------------------------------------------------------------------------- factorizations

add("linalg.cholesky", lambda m, a, **kw: m.linalg.cholesky(spd(m, a), **kw), fixed(
    S(T(3, 3)), S(T(2, 3, 3)), S(T(1, 1)), S(T(0, 0)), S(T(3, 3), upper=True)),
    host_reads=CHOLESKY_READS)
add("linalg.cholesky(given)", lambda m, a: m.linalg.cholesky((a + a.mT) / 2), fixed(
    S(V([[4.0, 1.0], [1.0, 3.0]], None))),
    host_reads=CHOLESKY_READS)
add("linalg.cholesky(refused)", lambda m, a: m.linalg.cholesky(a), fixed(), errors=fixed(
    S(V([[1.0, 2.0], [2.0, 1.0]], None)), S(T(3)), S(T(2, 3)), S(V([[1, 0], [0, 1]])),
    S(V([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]], None))))
add("linalg.cholesky_ex", lambda m, a: m.linalg.cholesky_ex(spd(m, a)), fixed(
    S(T(3, 3)), S(T(2, 2, 2))),
    host_reads=CHOLESKY_READS)
add("linalg.cholesky_ex(info)", lambda m, a: m.linalg.cholesky_ex(a).info, fixed(
    S(V([[1.0, 2.0], [2.0, 1.0]], None)), S(V([[[4.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 1.0]]],
                                             None))),
    host_reads="finds which leading minor fails (torch's CUDA cholesky_ex does not wait)")
add("linalg.qr", lambda m, a, *args: m.linalg.qr(wellcond(m, a), *args), fixed(
    S(T(4, 3)), S(T(3, 3)), S(T(3, 5)), S(T(2, 4, 3)), S(T(3, 5), "complete"), S(T(1, 1))))
add("linalg.qr(no grad)", lambda m, a, mode: m.linalg.qr(a, mode), fixed(
    S(T(4, 3), "complete"), S(T(4, 3), "r"), S(T(0, 3), "reduced")), grad=False, gradgrad=False,
    errors=fixed(S(T(3), "reduced"), S(T(3, 3), "full"), S(V([[1, 2], [3, 4]]), "r"),
                 S(T(2, 2, dtype="float16"), "reduced")),
    notes="torch has no derivative for mode='r' or for a tall complete Q")
add("linalg.eigh", lambda m, a, *args: eigh_fixed(m, a + a.mT, *args), fixed(
    S(T(3, 3)), S(T(2, 4, 4)), S(T(1, 1)), S(T(3, 3), "U")),
    host_reads="the eigenvector gradient checks for repeated eigenvalues, to warn",
    errors=fixed(S(T(2, 3)), S(T(3, 3), "X")))
add("linalg.eigvalsh", lambda m, a, *args: m.linalg.eigvalsh(a + a.mT, *args), fixed(
    S(T(3, 3)), S(T(2, 3, 3), "U"), S(T(0, 0))), host_reads=FORWARD_READS)
add("linalg.eig", eig_fixed, spectra((3, ()), (2, (2,)), (1, ())),
    notes="real results only: Ember has no complex tensors",
    host_reads="the eigenvector gradient checks for repeated eigenvalues, to warn")
add("linalg.eigvals", lambda m, a: real(m, m.linalg.eigvals(a)), spectra((3, ()), (2, (2,))),
    host_reads=FORWARD_READS)
add("linalg.svd", svd_fixed, fixed(
    S(T(4, 3)), S(T(3, 5)), S(T(2, 3, 3)), S(T(4, 3), False), S(T(2, 3, 5), False), S(T(0, 3))),
    host_reads="the singular-vector gradient checks for repeated singular values, to warn",
    errors=fixed(S(T(3)), S(V([[1, 2], [3, 4]])), S(T(2, 2, dtype="float16"))))
add("linalg.svdvals", lambda m, a: m.linalg.svdvals(a), fixed(
    S(T(4, 3)), S(T(2, 3, 5)), S(T(0, 2))), host_reads=FORWARD_READS)
add("linalg.lu", lambda m, a: m.linalg.lu(a), fixed(
    S(T(3, 3)), S(T(4, 3)), S(T(3, 5)), S(T(2, 3, 3)), S(T(1, 1)), S(T(0, 0))))
add("linalg.lu_factor", lambda m, a: m.linalg.lu_factor(a), fixed(
    S(T(3, 3)), S(T(4, 3)), S(T(2, 3, 5))),
    errors=fixed(S(V([[1.0, 2.0], [2.0, 4.0]], None)), S(T(3))))
add("linalg.lu_factor_ex", lambda m, a: m.linalg.lu_factor_ex(a), fixed(S(T(3, 3)), S(T(2, 4, 3))))
add("linalg.lu_factor_ex(singular)", lambda m, a: m.linalg.lu_factor_ex(a), fixed(
    S(V([[1.0, 2.0], [2.0, 4.0]], None))), grad=False, gradgrad=False,
    notes="U has a zero pivot: the derivative is inf/nan, in torch too")
add("linalg.lu_solve", lambda m, a, b, **kw: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, **kw),
    fixed(S(T(3, 3), T(3, 2)), S(T(2, 3, 3), T(3, 4)), S(T(3, 3), T(3, 2), adjoint=True),
          S(T(3, 3), T(2, 3), left=False), S(T(2, 2), T(2, 2, 1))))
add("linalg.solve_triangular", lambda m, a, b, **kw: m.linalg.solve_triangular(
    wellcond(m, a), b, **kw), fixed(
    S(T(3, 3), T(3, 2), upper=True), S(T(3, 3), T(3, 2), upper=False),
    S(T(2, 3, 3), T(3, 4), upper=True), S(T(3, 3), T(2, 3, 1), upper=False, unitriangular=True),
    S(T(3, 3), T(2, 3), upper=True, left=False), S(T(0, 0), T(0, 2), upper=True)),
    errors=fixed(S(T(3, 3), T(3), upper=True), S(T(3, 3), T(4, 2), upper=True)))

# ---------------------------------------------------------------------------- matrix functions

add("linalg.slogdet", lambda m, a: m.linalg.slogdet(wellcond(m, a)), fixed(
    S(T(3, 3)), S(T(2, 3, 3)), S(V([[0.5, 2.0], [1.0, 0.3]], None))),
    errors=fixed(S(T(2, 3)), S(V([[1, 2], [3, 4]])), S(T(2, 2, dtype="float16"))))
add("logdet", lambda m, a: m.logdet(a), fixed(
    S(V([[2.0, 0.5], [0.3, 1.5]], None)), S(V([[0.5, 2.0], [1.0, 0.3]], None)),
    S(V([[[2.0, 0.5], [0.3, 1.5]], [[1.0, 0.0], [0.0, 3.0]]], None))))
add("linalg.pinv", lambda m, a, **kw: m.linalg.pinv(a, **kw), fixed(
    S(T(3, 4)), S(T(4, 3)), S(T(2, 3, 3)), S(T(3, 4), rtol=1e-3), S(T(3, 4), atol=0.01),
    S(T(0, 3)), S(T(2, 3, 4), atol=V([0.01, 0.02], None), rtol=V([0.0, 1e-3], None))),
    notes="tolerance tensors that require grad are refused, as torch",
    errors=fixed(S(V([[1, 2], [3, 4]])), S(T(3)), S(T(2, 2, dtype="float16"))))
add("linalg.pinv(hermitian)", lambda m, a: m.linalg.pinv(a + a.mT, hermitian=True), fixed(
    S(T(3, 3)), S(T(2, 4, 4))))
add("linalg.pinv(tolerance tensors)", lambda m, a, atol, rtol: m.linalg.pinv(
    a, atol=atol.detach(), rtol=rtol.detach()), fixed(
    S(T(2, 3, 4), V([0.01, 0.02], None), V([0.0, 1e-3], None)),
    S(T(3, 3), V(0.01, None), V(0.0, None))),
    notes="cutoffs below the smallest singular value: torch differentiates a truncated pinv as "
          "if nothing were cut, which finite differences would not confirm")
add("pinverse", lambda m, a: m.pinverse(a), fixed(S(T(3, 4))))
add("linalg.lstsq", lambda m, a, b, **kw: m.linalg.lstsq(a, b, **kw)[:3], fixed(
    S(T(4, 3), T(4, 2)), S(T(2, 4, 3), T(2, 4, 2), driver="gelsd"),
    S(T(4, 3), T(4, 2), driver="gels"), S(T(4, 3), T(4, 2), driver="gelss"),
    S(T(3, 4), T(3, 2)), S(T(2, 4, 3), T(2, 4))),
    notes="the singular values (not differentiable in torch) are checked on their own",
    host_reads=LSTSQ_READS,
    errors=fixed(S(T(4, 3), T(4, 2), driver="foo"), S(T(4, 3), T(3, 2))))
add("linalg.lstsq(singular values)", lambda m, a, b, **kw: m.linalg.lstsq(a, b, **kw)[3], fixed(
    S(T(4, 3), T(4, 2), driver="gelsd"), S(T(2, 3, 4), T(2, 3, 1), driver="gelss"),
    S(T(4, 3), T(4, 2))), grad=False, gradgrad=False, host_reads=LSTSQ_READS)
add("linalg.matrix_rank", lambda m, a, *args, **kw: m.linalg.matrix_rank(a, *args, **kw), fixed(
    S(T(3, 4)), S(V([[1.0, 2.0], [2.0, 4.0]], None)), S(T(2, 3, 3), hermitian=True),
    S(T(3, 4), atol=1.0), S(T(3, 4), rtol=0.5), S(T(3, 4), atol=0.1, rtol=0.2), S(T(3, 4), 1.0),
    S(T(2, 3, 4), atol=V([0.5, 1.5], None))),
    grad=False, gradgrad=False)
add("linalg.matrix_power", lambda m, a, n: m.linalg.matrix_power(a, n), fixed(
    S(T(3, 3), 0), S(T(3, 3), 1), S(T(2, 3, 3), 3), S(T(3, 3), 6), S(T(0, 0), 2)),
    dtypes=WITH_INT, errors=fixed(S(T(2, 3), 2)))
add("linalg.matrix_power(negative)", lambda m, a, n: m.linalg.matrix_power(wellcond(m, a), n),
    fixed(S(T(3, 3), -1), S(T(2, 2, 2), -3)))
add("linalg.matrix_exp", lambda m, a: m.linalg.matrix_exp(a), fixed(
    S(T(3, 3)), S(T(2, 3, 3)), S(T(1, 1)), S(T(0, 0)), S(V([[0.1, 0.2], [-0.3, 0.05]], None)),
    S(V([[2.0, 3.0], [-1.0, 4.0]], None))),
    host_reads="reads the norm back to choose the number of squarings",
    errors=fixed(S(T(2, 3)), S(V([[1, 2], [3, 4]]))))
add("linalg.multi_dot", lambda m, ts: m.linalg.multi_dot(ts), fixed(
    S([T(3), T(3, 4), T(4)]), S([T(2, 3), T(3, 4), T(4, 5)]), S([T(2, 3), T(3)]),
    S([T(3), T(3, 2)])),
    errors=fixed(S([T(3)]), S([T(2, 3, 3), T(3, 3)]), S([T(3, 3), T(3, 3, 3)]),
                 S([T(3, 3), T(3, 3, 3), T(3)])))
add("linalg.cross", lambda m, a, b, **kw: m.linalg.cross(a, b, **kw), fixed(
    S(T(4, 3), T(4, 3)), S(T(2, 3), T(1, 3)), S(T(3, 2), T(3, 2), dim=0)), dtypes=WITH_INT,
    errors=fixed(S(T(2, 4), T(2, 4)),))
add("linalg.vecdot", lambda m, a, b, **kw: m.linalg.vecdot(a, b, **kw), fixed(
    S(T(2, 3), T(3)), S(T(3, 2), T(3, 1), dim=0), S(T(0, 3), T(0, 3))),
    errors=fixed(S(V([1, 2]), V([3, 4])),))
add("linalg.matmul", lambda m, a, b: m.linalg.matmul(a, b), fixed(
    S(T(2, 3), T(3, 4)), S(T(2, 1, 3), T(3, 3, 2))))
add("linalg.diagonal", lambda m, a, **kw: m.linalg.diagonal(a, **kw), fixed(
    S(T(2, 3, 4)), S(T(2, 3, 4), offset=1), S(T(2, 3, 4), dim1=0, dim2=2)))
add("linalg.cond", lambda m, a, *args: m.linalg.cond(wellcond(m, a), *args), fixed(
    S(T(3, 3)), S(T(2, 3, 3), 2), S(T(3, 3), -2), S(T(3, 3), "nuc"), S(T(3, 4)), S(T(2, 0, 0)),
    S(T(2, 0, 0), "fro")),
    errors=fixed(S(T(2, 3), 1),), host_reads=FORWARD_READS)
add("linalg.cond(norm orders)", lambda m, a, p: m.linalg.cond(wellcond(m, a), p), fixed(
    S(T(3, 3), "fro"), S(T(3, 3), float("inf")), S(T(2, 3, 3), -1)), grad=False, gradgrad=False,
    notes="torch's backward fails here (it changes inv_ex's output in place)")
add("linalg.matrix_norm", lambda m, a, *args, **kw: m.linalg.matrix_norm(a, *args, **kw), fixed(
    S(T(3, 4), 2), S(T(2, 3, 4), -2), S(T(3, 4), "nuc"), S(T(3, 2, 4), 2, dim=(0, 2)),
    S(T(2, 3, 4), "nuc", keepdim=True)),
    errors=fixed(S(T(3, 4), 3),), host_reads=FORWARD_READS)
add("linalg.tensorinv", lambda m, a, **kw: m.linalg.tensorinv(wellcond(m, a.reshape(6, 6))
                                                               .reshape(a.shape), **kw), fixed(
    S(T(6, 2, 3), ind=1), S(T(2, 3, 6))), errors=fixed(S(T(2, 3, 4), ind=1),))
add("linalg.tensorsolve", lambda m, a, b, **kw: m.linalg.tensorsolve(
    wellcond(m, a.reshape(6, 6)).reshape(a.shape), b, **kw), fixed(
    S(T(6, 2, 3), T(6)), S(T(2, 3, 6), T(2, 3)), S(T(6, 2, 3), T(2, 3), dims=(0,))),
    errors=fixed(S(T(2, 3, 4), T(2, 3)),))
add("linalg.householder_product", lambda m, a, tau: m.linalg.householder_product(a, tau), fixed(
    S(T(4, 3), T(3)), S(T(2, 5, 3), T(2, 2)), S(T(3, 3), T(0))),
    errors=fixed(S(T(2, 3), T(2)), S(T(4, 3), T(4))))
add("linalg.vander", lambda m, x, **kw: m.linalg.vander(x, **kw), fixed(
    S(T(3)), S(T(2, 4)), S(T(3), N=5)), dtypes=WITH_INT, errors=fixed(S(T(3), N=1), S(T())))
add("linalg.inv_ex", lambda m, a: m.linalg.inv_ex(wellcond(m, a)), fixed(
    S(T(3, 3)), S(T(2, 2, 2))))
add("linalg.inv_ex(info)", lambda m, a: m.linalg.inv_ex(a).info, fixed(
    S(V([[1.0, 2.0], [2.0, 4.0]], None)), S(V([[[1.0, 0.0], [0.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]],
                                             None))))
add("linalg.solve_ex", lambda m, a, b, **kw: m.linalg.solve_ex(wellcond(m, a), b, **kw), fixed(
    S(T(3, 3), T(3, 2)), S(T(2, 3, 3), T(2, 3)), S(T(3, 3), T(2, 3), left=False)))
add("linalg.inv(singular)", lambda m, a: m.linalg.inv(a), fixed(), errors=fixed(
    S(V([[1.0, 2.0], [2.0, 4.0]], None)), S(V([[[1.0, 0.0], [0.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]],
                                             None))))

# ---------------------------------------------------------------------------- torch.* aliases

add("svd", lambda m, a, *args: tuple(svd_fixed_legacy(m, a, *args)), fixed(
    S(T(4, 3)), S(T(3, 5), False), S(T(2, 3, 3))),
    host_reads="the singular-vector gradient checks for repeated singular values, to warn")
add("svd(compute_uv=False)", lambda m, a: m.svd(a, compute_uv=False), fixed(S(T(4, 3))),
    host_reads=FORWARD_READS)
add("qr", lambda m, a, *args: m.qr(wellcond(m, a), *args), fixed(S(T(4, 3)), S(T(3, 5), False)))
add("cholesky", lambda m, a, *args: m.cholesky(spd(m, a), *args), fixed(
    S(T(3, 3)), S(T(3, 3), True)),
    host_reads=CHOLESKY_READS)
add("cholesky_solve", lambda m, b, a, *args: m.cholesky_solve(
    b, m.linalg.cholesky(spd(m, a), upper=bool(args and args[0])), *args), fixed(
    S(T(3, 2), T(3, 3)), S(T(3, 2), T(3, 3), True), S(T(2, 3, 1), T(3, 3)),
    S(T(3, 2), T(2, 3, 3))), host_reads=CHOLESKY_READS)
add("cholesky_solve(given factor)", lambda m, b, l, *args: m.cholesky_solve(b, l, *args), fixed(
    S(T(3, 2), V([[2.0, 0.0, 0.0], [0.5, 1.5, 0.0], [-0.3, 0.2, 1.8]], None)),
    S(T(3, 2), V([[2.0, 0.5, -0.3], [0.0, 1.5, 0.2], [0.0, 0.0, 1.8]], None), True)),
    dtypes=("float32",),  # float64 would add finite differences, which see only the triangle
    notes="the factor's gradient is dense, as torch's (it is taken as if both triangles were used)",
    errors=fixed(S(T(3), T(3, 3)), S(T(3, 2), T(3, 2))))
add("cholesky_inverse", lambda m, a, *args: m.cholesky_inverse(
    m.linalg.cholesky(spd(m, a), upper=bool(args and args[0])), *args), fixed(
    S(T(3, 3)), S(T(3, 3), True), S(T(2, 2, 2))), host_reads=CHOLESKY_READS,
    jvp_ref="torch's forward formula for the factor disagrees with its own dense VJP; Ember's "
            "JVP is the transpose of its VJP, which matches torch's")
add("lu", lambda m, a, **kw: m.lu(a, **kw), fixed(S(T(3, 3)), S(T(2, 3, 3), get_infos=True)))
add("lu_solve", lambda m, a, b: m.lu_solve(b, *m.lu(a)), fixed(S(T(3, 3), T(3, 2))))
add("lu_unpack", lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a)), fixed(
    S(T(3, 3)), S(T(4, 3)), S(T(2, 3, 5))))
add("triangular_solve", lambda m, b, a, *args: m.triangular_solve(b, wellcond(m, a), *args),
    fixed(S(T(3, 2), T(3, 3)), S(T(3, 2), T(3, 3), False), S(T(3, 2), T(3, 3), True, True),
          S(T(3, 2), T(3, 3), True, False, True)),
    jvp_ref="torch's forward formula uses all of A's tangent though the op reads one triangle; "
            "Ember's JVP agrees with finite differences and with torch's (triangular) VJP")
add("det(method)", lambda m, a: a.det(), fixed(S(T(3, 3))))
add("inverse", lambda m, a: m.inverse(wellcond(m, a)), fixed(S(T(3, 3))))
add("slogdet", lambda m, a: m.slogdet(wellcond(m, a)), fixed(S(T(3, 3))))
add("matrix_power(method)", lambda m, a: a.matrix_power(3), fixed(S(T(3, 3))))
add("matrix_exp", lambda m, a: m.matrix_exp(a), fixed(S(T(3, 3))),
    host_reads="reads the norm back to choose the number of squarings")
add("orgqr", lambda m, a, tau: m.orgqr(a, tau), fixed(S(T(4, 3), T(2))))


# ---------------------------------------------------------------------------- LAPACK's packed forms


def sym(m, a):
    """A symmetric matrix from any square ``a`` (LDL^T reads the lower triangle)."""
    return a + a.mT


_NO_GRAD = dict(grad=False, gradgrad=False, notes="torch has no derivative",
                host_reads="SciPy's LAPACK factors on the host (a round trip on a GPU)")
add("linalg.ldl_factor", lambda m, a: m.linalg.ldl_factor(sym(m, a)), fixed(
    S(T(3, 3)), S(T(2, 4, 4)), S(T(0, 0))), errors=fixed(S(T(2, 3)), S(V([[0.0, 0.0], [0.0, 0.0]], None))),
    **_NO_GRAD)
add("linalg.ldl_factor_ex", lambda m, a: m.linalg.ldl_factor_ex(sym(m, a)), fixed(
    S(T(4, 4)), S(T(3, 2, 2)), S(V([[0.0, 1.0], [1.0, 0.0]], None))), **_NO_GRAD)
add("linalg.ldl_solve", lambda m, a, b: m.linalg.ldl_solve(*m.linalg.ldl_factor(sym(m, a)), b), fixed(
    S(T(3, 3), T(3, 2)), S(T(2, 4, 4), T(2, 4, 1)), S(T(3, 3), T(2, 3, 2))), **_NO_GRAD)
add("geqrf", lambda m, a: m.geqrf(a), fixed(S(T(4, 3)), S(T(2, 3, 5)), S(T(3, 3)), S(T(0, 2))),
    errors=fixed(S(T(3)),), **_NO_GRAD)
add("ormqr", lambda m, a, tau, c, *args: m.ormqr(a, tau, c, *args), fixed(
    S(T(4, 3), T(3), T(4, 2)), S(T(4, 3), T(3), T(4, 2), True, True), S(T(2, 3), T(2), T(2, 5)),
    S(T(2, 3, 3), T(2, 3), T(2, 5, 3), False), S(T(3, 2), T(2), T(5, 3), False, True)),
    errors=fixed(S(T(4, 3), T(3), T(5, 2)), S(T(4, 3), T(2), T(4, 2))))
