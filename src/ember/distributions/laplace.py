"""The Laplace (double exponential) distribution."""
from __future__ import annotations

import math

from ..creation import rand
from ..dtypes import finfo
from ..ops import elementwise as E
from .distribution import LocationScale
from .utils import as_float


class Laplace(LocationScale):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale)."""

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        eps = finfo(self.loc.dtype).eps
        u = rand(shape, dtype=self.loc.dtype, device=self.loc.device) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * E.sign(u) * E.log1p(-E.abs(u))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.loc)
        return -E.log(2 * self.scale) - E.abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * E.sign(value - self.loc) * E.expm1(-E.abs(value - self.loc) / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * E.sign(term) * E.log1p(-2 * E.abs(term))

    def entropy(self):
        return 1 + E.log(2 * self.scale)
