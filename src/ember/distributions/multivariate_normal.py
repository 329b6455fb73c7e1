"""The multivariate normal distribution."""
from __future__ import annotations

import math

from ..creation import eye
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import shape as S
from . import constraints
from ._linalg import batch_mahalanobis, cholesky, half_log_det, solve_lower
from .distribution import Distribution, Located
from .normal import standard_normal
from .utils import lazy_property


def _batch_shape(*shapes) -> tuple:
    out = ()
    for shape in shapes:
        out = E.broadcast_shape("MultivariateNormal", out, tuple(shape))
    return out


class MultivariateNormal(Located, Distribution):
    """MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None):
    exactly one of the three matrices; all work through the lower Cholesky factor."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril "
                             "may be specified.")
        matrix = given[0]
        if matrix.dim() < 2:
            raise ValueError("scale_tril, covariance_matrix or precision_matrix matrix must be at "
                             "least two-dimensional, with optional leading batch dimensions")
        batch_shape = _batch_shape(matrix.shape[:-2], loc.shape[:-1])
        square = tuple(matrix.shape[-2:])
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(batch_shape + square)
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(batch_shape + square)
        else:
            self.precision_matrix = precision_matrix.expand(batch_shape + square)
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, tuple(self.loc.shape[-1:]), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            symmetric = (precision_matrix + precision_matrix.mT) * 0.5  # symmetric gradients
            self._unbroadcasted_scale_tril = cholesky(L.inv(symmetric))

    def expand(self, batch_shape, _instance=None):
        new = self._expanded(MultivariateNormal, batch_shape,
                             ("loc", "covariance_matrix", "precision_matrix", "scale_tril"),
                             _instance)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    @lazy_property
    def scale_tril(self):
        shape = tuple(self._batch_shape) + tuple(self._event_shape) * 2
        return self._unbroadcasted_scale_tril.expand(shape)

    @lazy_property
    def covariance_matrix(self):
        tril = self._unbroadcasted_scale_tril
        shape = tuple(self._batch_shape) + tuple(self._event_shape) * 2
        return L.matmul(tril, tril.mT).expand(shape)

    @lazy_property
    def precision_matrix(self):
        n = self._event_shape[0]
        tril_inv = solve_lower(self._unbroadcasted_scale_tril,
                               eye(n, dtype=self.loc.dtype, device=self.loc.device))
        shape = tuple(self._batch_shape) + tuple(self._event_shape) * 2
        return L.matmul(tril_inv.mT, tril_inv).expand(shape)

    @property
    def variance(self):
        tril = self._unbroadcasted_scale_tril
        return (tril ** 2).sum(-1).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, self.loc)
        return self.loc + S.squeeze(L.matmul(self._unbroadcasted_scale_tril, S.unsqueeze(eps, -1)), -1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + m) - half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        n = self._event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return h.expand(tuple(self._batch_shape)) if len(self._batch_shape) else h
