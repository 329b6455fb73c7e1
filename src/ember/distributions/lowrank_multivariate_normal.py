"""The multivariate normal with a low-rank-plus-diagonal covariance ``W W^T + diag(D)``."""
from __future__ import annotations

import math

from ..creation import eye
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import reduce as R
from ..ops import shape as S
from . import constraints
from ._linalg import batch_mahalanobis, cholesky
from .distribution import Distribution, Located
from .multivariate_normal import _batch_shape
from .normal import standard_normal
from .utils import lazy_property


def _capacitance_tril(w, d):
    """Cholesky factor of the capacitance matrix I + W^T D^-1 W."""
    m = w.shape[-1]
    k = L.matmul(w.mT / S.unsqueeze(d, -2), w)
    return cholesky(k + eye(m, dtype=w.dtype, device=w.device))


def _lowrank_logdet(w, d, capacitance_tril):
    """log det(W W^T + D) = log det(C) + log det(D) (the matrix determinant lemma)."""
    return 2 * R.sum(E.log(L.diagonal(capacitance_tril, 0, -2, -1)), -1) + R.sum(E.log(d), -1)


def _lowrank_mahalanobis(w, d, x, capacitance_tril):
    """x^T (W W^T + D)^-1 x by the Woodbury identity."""
    wt_dinv_x = S.squeeze(L.matmul(w.mT / S.unsqueeze(d, -2), S.unsqueeze(x, -1)), -1)
    return R.sum(x.pow(2) / d, -1) - batch_mahalanobis(capacitance_tril, wt_dinv_x)


class LowRankMultivariateNormal(Located, Distribution):
    """LowRankMultivariateNormal(loc, cov_factor, cov_diag): covariance
    ``cov_factor @ cov_factor.mT + diag(cov_diag)``, never formed for log_prob or sampling."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        batch_shape = _batch_shape(loc.shape[:-1], cov_factor.shape[:-2], cov_diag.shape[:-1])
        self.loc = loc.expand(batch_shape + event_shape)
        self.cov_factor = cov_factor.expand(batch_shape + tuple(cov_factor.shape[-2:]))
        self.cov_diag = cov_diag.expand(batch_shape + event_shape)
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded(LowRankMultivariateNormal, batch_shape,
                             ("loc", "cov_factor", "cov_diag"), _instance)
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        return new

    @lazy_property
    def variance(self):
        w = self._unbroadcasted_cov_factor
        return (R.sum(w.pow(2), -1) + self._unbroadcasted_cov_diag).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def covariance_matrix(self):
        w = self._unbroadcasted_cov_factor
        d = self._unbroadcasted_cov_diag
        n = self._event_shape[0]
        cov = L.matmul(w, w.mT) + eye(n, dtype=d.dtype, device=d.device) * S.unsqueeze(d, -1)
        return cov.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def scale_tril(self):
        return cholesky(self.covariance_matrix)

    @lazy_property
    def precision_matrix(self):
        return L.inv(self.covariance_matrix)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        w = self._unbroadcasted_cov_factor
        eps_w = standard_normal(tuple(shape[:-1]) + tuple(w.shape[-1:]), self.loc)
        eps_d = standard_normal(shape, self.loc)
        low_rank = S.squeeze(L.matmul(w, S.unsqueeze(eps_w, -1)), -1)
        return self.loc + low_rank + E.sqrt(self._unbroadcasted_cov_diag) * eps_d

    def _log_det(self):
        return _lowrank_logdet(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                               self._capacitance_tril)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        m = _lowrank_mahalanobis(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                                 value - self.loc, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + m)

    def entropy(self):
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h.expand(tuple(self._batch_shape)) if len(self._batch_shape) else h
