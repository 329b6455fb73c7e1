"""The relaxed (Concrete / Gumbel-sigmoid) Bernoulli: a reparameterisable stand-in for
Bernoulli samples, sharper as ``temperature`` falls."""
from __future__ import annotations

from ..creation import rand
from ..ops import elementwise as E
from . import constraints
from .bernoulli import BinaryDistribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import (as_float, broadcast_all, clamp_probs, softplus)


class LogitRelaxedBernoulli(BinaryDistribution):
    """The logit of a RelaxedBernoulli sample: (logistic noise + logits) / temperature."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        self.temperature = temperature
        scalar = self._set_binary(probs, logits)
        super().__init__(() if scalar else self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_binary(LogitRelaxedBernoulli, batch_shape, _instance)
        new.temperature = self.temperature
        return new

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        probs = clamp_probs(self.probs.expand(shape))
        u = clamp_probs(rand(shape, dtype=probs.dtype, device=probs.device))
        return (E.log(u) - E.log1p(-u) + E.log(probs) - E.log1p(-probs)) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return E.log(as_float(self.temperature, logits)) + diff - 2 * softplus(diff)


class Relaxed(TransformedDistribution):
    """A relaxed discrete distribution: a transformed base that holds ``temperature``,
    ``probs`` and ``logits``."""

    has_rsample = True

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class RelaxedBernoulli(Relaxed):
    """RelaxedBernoulli(temperature, probs=None, logits=None): sigmoid of a LogitRelaxedBernoulli."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(RelaxedBernoulli, _instance))



__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]
