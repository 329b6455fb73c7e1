"""Student's t-distribution."""
from __future__ import annotations

import math
from ..creation import full
from ..ops import elementwise as E
from ..ops import gamma as G
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .normal import standard_normal
from .utils import as_float


class StudentT(Distribution):
    """StudentT(df, loc=0, scale=1): a normal whose precision is Chi2(df) / df."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None) -> None:
        self._set_parameters(validate_args, df=df, loc=loc, scale=scale)
        self._chi2 = Chi2(self.df)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded(StudentT, batch_shape, ("df", "loc", "scale"), _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self):
        return E.where(E.gt(self.df, 1), self.loc, full((), float("nan"), dtype=self.loc.dtype,
                                                         device=self.loc.device))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        finite = self.scale.pow(2) * df / (df - 2)
        inf = full((), float("inf"), dtype=df.dtype, device=df.device)
        nan = full((), float("nan"), dtype=df.dtype, device=df.device)
        return E.where(E.gt(df, 2), finite, E.where(E.gt(df, 1), inf, nan))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = standard_normal(shape, self.df)
        z = self._chi2.rsample(sample_shape)
        y = x * E.rsqrt(z / self.df)
        return self.loc + self.scale * y

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.df)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + G.lgamma(0.5 * self.df) - G.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * E.log1p(y ** 2.0 / self.df) - z

    def entropy(self):
        half = 0.5 * self.df
        half_plus = 0.5 * (self.df + 1)
        lbeta = G.lgamma(half) + math.lgamma(0.5) - G.lgamma(half_plus)
        return (self.scale.log() + half_plus * (G.digamma(half_plus) - G.digamma(half))
                + 0.5 * self.df.log() + lbeta)
