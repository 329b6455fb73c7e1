"""The gamma distribution (shape ``concentration``, inverse scale ``rate``)."""
from __future__ import annotations

from ..dtypes import finfo
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import random as RA
from . import constraints
from .distribution import Distribution
from .utils import as_float, xlogy


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a).

    ``rsample`` is reparameterised implicitly (the draw's derivative in ``concentration`` is
    taken at its fixed quantile), as torch's.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None) -> None:
        self._set_parameters(validate_args, concentration=concentration, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Gamma, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return E.clamp((self.concentration - 1) / self.rate, min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        value = RA.standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return E.clamp(value, min=finfo(value.dtype).tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.rate)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - G.lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return G.igamma(self.concentration, self.rate * value)

    def entropy(self):
        a = self.concentration
        return a - E.log(self.rate) + G.lgamma(a) + (1.0 - a) * G.digamma(a)
