"""The Poisson distribution over counts."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import random as RA
from . import constraints
from .distribution import Distribution
from .utils import as_float, xlogy


class Poisson(Distribution):
    """Poisson(rate): P(k) = rate^k exp(-rate) / k!."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None) -> None:
        self._set_parameters(validate_args, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Poisson, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return E.floor(self.rate)

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            return RA.poisson(self.rate.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.rate)
        return xlogy(value, self.rate) - self.rate - G.lgamma(value + 1)
