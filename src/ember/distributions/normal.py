"""The normal (Gaussian) distribution."""
from __future__ import annotations

import math
from ..autograd.grad_mode import no_grad
from ..creation import randn
from ..ops import elementwise as E
from ..ops import random as RA
from ..ops import special as SP
from .distribution import LocationScale
from .utils import as_float

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def standard_normal(shape, like):
    """Standard normal noise of ``shape`` in ``like``'s dtype and on its device."""
    return randn(tuple(shape), dtype=like.dtype, device=like.device)


class Normal(LocationScale):
    """Normal(loc, scale): density exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi))."""

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return RA.normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=()):
        eps = standard_normal(self._extended_shape(sample_shape), self.loc)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.loc)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - _LOG_SQRT_2PI

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) * self.scale.reciprocal() / math.sqrt(2)
        return 0.5 * (1 + SP.erf(z))

    def icdf(self, value):
        return self.loc + self.scale * SP.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + E.log(self.scale)
