"""The multinomial distribution: category counts of ``total_count`` categorical draws."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import reduce as R
from . import constraints
from .binomial import Binomial
from .categorical import CategoricalVectors
from .one_hot_categorical import one_hot
from .utils import broadcast_all


class Multinomial(CategoricalVectors):
    """Multinomial(total_count=1, probs=None, logits=None)."""

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args=None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._set_categorical(probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_categorical(Multinomial, batch_shape, _instance)
        new.total_count = self.total_count
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        with no_grad():
            draws = self._categorical.sample((self.total_count,) + sample_shape)
            counts = one_hot(draws, self._categorical._num_events, self.probs.dtype)
            return R.sum(counts, 0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = G.lgamma(R.sum(value, -1) + 1)
        log_factorial_xs = R.sum(G.lgamma(value + 1), -1)
        impossible = E.logical_and(E.eq(value, 0), E.eq(logits, float("-inf")))
        logits = E.where(impossible, E.const_zeros(logits), logits)
        return log_factorial_n - log_factorial_xs + R.sum(logits * value, -1)

    def entropy(self):
        """n H(categorical) - log n! + sum_i E[log x_i!], x_i ~ Binomial(n, p_i)."""
        n = tensor(float(self.total_count), dtype=self.probs.dtype, device=self.probs.device)
        binomial = Binomial(n, probs=self.probs, validate_args=False)
        support = binomial.enumerate_support(False)[1:]
        binomial_probs = E.exp(binomial.log_prob(support))
        expected_log_factorials = R.sum(R.sum(binomial_probs * G.lgamma(support + 1), 0), -1)
        return n * self._categorical.entropy() - G.lgamma(n + 1) + expected_log_factorials
