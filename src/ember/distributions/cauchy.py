"""The Cauchy (Lorentz) distribution."""
from __future__ import annotations

import math

from ..creation import empty, full
from ..ops import elementwise as E
from ..ops import random as RA
from ..ops import trig as TR
from .distribution import LocationScale
from .utils import as_float


class Cauchy(LocationScale):
    """Cauchy(loc, scale): density 1 / (pi scale (1 + ((x - loc) / scale)^2)); no mean or variance."""

    def _filled(self, value):
        return full(tuple(self._extended_shape()), value, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def mean(self):
        return self._filled(float("nan"))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._filled(float("inf"))

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        eps = RA.cauchy_(empty(shape, dtype=self.loc.dtype, device=self.loc.device))
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.loc)
        return -math.log(math.pi) - self.scale.log() - E.log1p(((value - self.loc) / self.scale) ** 2)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return TR.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return TR.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + E.log(self.scale)
