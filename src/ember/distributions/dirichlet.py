"""The Dirichlet distribution over the probability simplex."""
from __future__ import annotations

from ..dtypes import finfo
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import random as RA
from ..ops import reduce as R
from . import constraints
from .distribution import Distribution
from .utils import xlogy


class Dirichlet(Distribution):
    """Dirichlet(concentration): density prod(x_i^(a_i - 1)) / B(a) on the simplex.

    ``rsample`` normalises reparameterised gamma draws, so gradients reach ``concentration``.
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Dirichlet, batch_shape, ("concentration",), _instance)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        gammas = RA.standard_gamma(self.concentration.expand(shape))
        value = gammas / R.sum(gammas, -1, keepdim=True)
        info = finfo(value.dtype)
        return E.clamp(value, info.tiny, 1 - info.eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (R.sum(xlogy(a - 1.0, value), -1) + G.lgamma(R.sum(a, -1))
                - R.sum(G.lgamma(a), -1))

    @property
    def mean(self):
        return self.concentration / R.sum(self.concentration, -1, keepdim=True)

    @property
    def mode(self):
        am1 = E.clamp(self.concentration - 1, min=0.0)
        mode = am1 / R.sum(am1, -1, keepdim=True)
        # all concentrations below 1: the density peaks at the corner of the largest one
        below = R.all(E.lt(self.concentration, 1), -1, keepdim=True)
        corner = E.cast(E.eq(self.concentration, R.amax(self.concentration, -1, keepdim=True)),
                        mode.dtype)
        return E.where(below, corner, mode)

    @property
    def variance(self):
        a0 = R.sum(self.concentration, -1, keepdim=True)
        return self.concentration * (a0 - self.concentration) / (a0.pow(2) * (a0 + 1))

    def entropy(self):
        a = self.concentration
        k = a.shape[-1]
        a0 = R.sum(a, -1)
        return (R.sum(G.lgamma(a), -1) - G.lgamma(a0) - (k - a0) * G.digamma(a0)
                - R.sum((a - 1.0) * G.digamma(a), -1))
