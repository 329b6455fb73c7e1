"""The log-normal distribution: exp of a normal."""
from __future__ import annotations

from ..ops import elementwise as E
from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform


class LogNormal(TransformedDistribution):
    """LogNormal(loc, scale): exp(X) for X ~ Normal(loc, scale)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        super().__init__(Normal(loc, scale, validate_args=validate_args), ExpTransform(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(LogNormal, _instance))

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return E.exp(self.loc + self.scale.pow(2) / 2)

    @property
    def mode(self):
        return E.exp(self.loc - self.scale.pow(2))

    @property
    def variance(self):
        scale2 = self.scale.pow(2)
        return E.expm1(scale2) * E.exp(2 * self.loc + scale2)

    def entropy(self):
        return self.base_dist.entropy() + self.loc
