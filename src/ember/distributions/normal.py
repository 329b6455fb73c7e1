"""The normal (Gaussian) distribution."""
from __future__ import annotations

import math
from ..autograd.grad_mode import no_grad
from ..creation import randn
from ..ops import elementwise as E
from ..ops import random as RA
from ..ops import special as SP
from . import constraints
from .distribution import Distribution, Located
from .utils import as_float

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def standard_normal(shape, like):
    """Standard normal noise of ``shape`` in ``like``'s dtype and on its device."""
    return randn(tuple(shape), dtype=like.dtype, device=like.device)


class Normal(Located, Distribution):
    """Normal(loc, scale): density exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi))."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        self._set_parameters(validate_args, loc=loc, scale=scale)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Normal, batch_shape, ("loc", "scale"), _instance)

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
