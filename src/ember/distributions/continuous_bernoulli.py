"""The continuous Bernoulli distribution on [0, 1] (Loaiza-Ganem and Cunningham, 2019)."""
from __future__ import annotations

import math

from ..creation import rand
from ..ops import elementwise as E
from . import constraints
from .bernoulli import BinaryDistribution, log_prob_binary
from .utils import (as_float, broadcast_all, clamp_probs, lazy_property, logits_to_probs)


class ContinuousBernoulli(BinaryDistribution):
    """ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501)): density proportional
    to p^x (1 - p)^(1 - x) on [0, 1]. Near p = 1/2 (inside ``lims``) the closed forms lose
    precision, so Taylor expansions around 1/2 are used there."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None) -> None:
        scalar = self._set_binary(probs, logits)
        if probs is not None:
            if validate_args is not None and not bool(
                    self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
            self._param = self.probs
        self._lims = lims
        super().__init__(() if scalar else self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_binary(ContinuousBernoulli, batch_shape, _instance)
        new._lims = self._lims
        return new

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def _outside_unstable_region(self):
        return E.logical_or(E.le(self.probs, self._lims[0]), E.gt(self.probs, self._lims[1]))

    def _cut_probs(self):
        return E.where(self._outside_unstable_region(), self.probs,
                       E.const_zeros(self.probs) + self._lims[0])

    def _cont_bern_log_norm(self):
        """log C(p), C the normaliser 2 atanh(1 - 2p) / (1 - 2p); Taylor near p = 1/2."""
        cut = self._cut_probs()
        below = E.where(E.le(cut, 0.5), cut, E.const_zeros(cut))
        above = E.where(E.ge(cut, 0.5), cut, E.const_ones(cut))
        log_norm = E.log(E.abs(E.log1p(-cut) - E.log(cut))) - E.where(
            E.le(cut, 0.5), E.log1p(-2.0 * below), E.log(2.0 * above - 1.0))
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return E.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (E.log1p(-cut) - E.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x
        return E.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return E.sqrt(self.variance)

    @property
    def variance(self):
        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 \
            + 1.0 / (E.log1p(-cut) - E.log(cut)) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return E.where(self._outside_unstable_region(), var, taylor)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        return self.icdf(rand(shape, dtype=self.probs.dtype, device=self.probs.device))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, as_float(value, self.logits))
        return log_prob_binary(logits, value) + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut ** value * (1.0 - cut) ** (1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = E.where(self._outside_unstable_region(), cdfs, value)
        return E.where(E.le(value, 0.0), E.const_zeros(unbounded),
                       E.where(E.ge(value, 1.0), E.const_ones(unbounded), unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inverse = (E.log1p(-cut + value * (2.0 * cut - 1.0)) - E.log1p(-cut)) \
            / (E.log(cut) - E.log1p(-cut))
        return E.where(self._outside_unstable_region(), inverse, value)

    def entropy(self):
        log_p0 = E.log1p(-self.probs)
        log_p1 = E.log(self.probs)
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0
