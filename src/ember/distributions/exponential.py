"""The exponential distribution."""
from __future__ import annotations

from ..creation import empty
from ..ops import elementwise as E
from ..ops import random as RA
from . import constraints
from .distribution import Distribution
from .utils import as_float


class Exponential(Distribution):
    """Exponential(rate): density rate * exp(-rate * x) for x >= 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None) -> None:
        self._set_parameters(validate_args, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Exponential, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return E.const_zeros(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        draws = RA.exponential_(empty(shape, dtype=self.rate.dtype, device=self.rate.device))
        return draws / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.rate)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - E.exp(-self.rate * value)

    def icdf(self, value):
        return -E.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - E.log(self.rate)
