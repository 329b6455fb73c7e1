"""The beta distribution on [0, 1]."""
from __future__ import annotations

from numbers import Number

from ..ops import shape as S
from . import constraints
from .dirichlet import Dirichlet
from .distribution import Distribution
from .utils import as_float, broadcast_all


class Beta(Distribution):
    """Beta(concentration1, concentration0): density x^(a-1) (1-x)^(b-1) / B(a, b), a Dirichlet
    over (x, 1 - x)."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None) -> None:
        scalar = isinstance(concentration1, Number) and isinstance(concentration0, Number)
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(S.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(() if scalar else self._dirichlet.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.concentration1)
        return self._dirichlet.log_prob(S.stack(list(broadcast_all(value, 1.0 - value)), -1))

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]
