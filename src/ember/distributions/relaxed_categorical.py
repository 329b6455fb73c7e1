"""The relaxed (Concrete / Gumbel-softmax) one-hot categorical distribution."""
from __future__ import annotations

from ..creation import rand
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import reduce as R
from . import constraints
from .categorical import CategoricalVectors
from .relaxed_bernoulli import Relaxed
from .transforms import ExpTransform
from .utils import as_float, clamp_probs


class ExpRelaxedCategorical(CategoricalVectors):
    """The log of a RelaxedOneHotCategorical sample: log-softmax((logits + Gumbel) / temperature)."""

    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        self.temperature = temperature
        self._set_categorical(probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_categorical(ExpRelaxedCategorical, batch_shape, _instance)
        new.temperature = self.temperature
        return new

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        u = clamp_probs(rand(shape, dtype=self.logits.dtype, device=self.logits.device))
        gumbels = -E.log(-E.log(u))
        scores = (self.logits + gumbels) / self.temperature
        return scores - R.logsumexp(scores, -1, keepdim=True)

    def log_prob(self, value):
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        temperature = as_float(self.temperature, self.logits)
        log_scale = G.lgamma(E.const_zeros(temperature) + float(k)) + (k - 1) * E.log(temperature)
        score = self.logits - value * temperature
        score = R.sum(score - R.logsumexp(score, -1, keepdim=True), -1)
        return score + log_scale


class RelaxedOneHotCategorical(Relaxed):
    """RelaxedOneHotCategorical(temperature, probs=None, logits=None): points on the simplex
    that approach one-hot samples as ``temperature`` falls (reparameterised)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.simplex

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape,
                              self._get_checked_instance(RelaxedOneHotCategorical, _instance))
