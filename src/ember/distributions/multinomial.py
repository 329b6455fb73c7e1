"""The multinomial distribution: category counts of ``total_count`` categorical draws."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import reduce as R
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .one_hot_categorical import one_hot
from .utils import broadcast_all


class Multinomial(Distribution):
    """Multinomial(total_count=1, probs=None, logits=None)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args=None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        batch_shape = self._categorical.batch_shape
        event_shape = tuple(self._categorical.param_shape[-1:])
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

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
        logits = E.where(impossible, E.zeros_like_(logits), logits)
        return log_factorial_n - log_factorial_xs + R.sum(logits * value, -1)

    def entropy(self):
        """n H(categorical) - log n! + sum_i E[log x_i!], x_i ~ Binomial(n, p_i)."""
        from ..creation import tensor
        from .binomial import Binomial

        n = tensor(float(self.total_count), dtype=self.probs.dtype, device=self.probs.device)
        binomial = Binomial(n, probs=self.probs, validate_args=False)
        support = binomial.enumerate_support(False)[1:]
        binomial_probs = E.exp(binomial.log_prob(support))
        expected_log_factorials = R.sum(R.sum(binomial_probs * G.lgamma(support + 1), 0), -1)
        return n * self._categorical.entropy() - G.lgamma(n + 1) + expected_log_factorials
