"""The binomial distribution: successes in ``total_count`` Bernoulli trials."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..creation import arange
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import random as RA
from ..ops import reduce as R
from . import constraints
from .bernoulli import BinaryDistribution
from .utils import as_float, broadcast_all


def _clamp_by_zero(x):
    """max(x, 0), with the gradient 1/2 at 0 that torch's Binomial uses."""
    return (E.clamp(x, min=0) + x - E.clamp(x, max=0)) / 2


class Binomial(BinaryDistribution):
    """Binomial(total_count=1, probs=None, logits=None)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        self._set_binary(probs, logits)
        name = "probs" if probs is not None else "logits"
        self.total_count, param = broadcast_all(total_count, getattr(self, name))
        self.total_count = self.total_count.type_as(param)
        setattr(self, name, param)
        self._param = param
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_binary(Binomial, batch_shape, _instance, ("total_count",))

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return E.clamp(E.floor((self.total_count + 1) * self.probs), max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            return RA.binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self._param)
        n, logits = self.total_count, self.logits
        log_factorial_n = G.lgamma(n + 1)
        log_factorial_k = G.lgamma(value + 1)
        log_factorial_nmk = G.lgamma(n - value + 1)
        normalize = (n * _clamp_by_zero(logits) + n * E.log1p(E.exp(-E.abs(logits)))
                     - log_factorial_n)
        return value * logits - log_factorial_k - log_factorial_nmk - normalize

    def entropy(self):
        total = int(R.max(self.total_count).item())
        if not bool(R.all(E.eq(self.total_count, total))):
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -R.sum(E.exp(log_prob) * log_prob, 0)

    def enumerate_support(self, expand: bool = True):
        total = int(R.max(self.total_count).item())
        if not bool(R.all(E.eq(self.total_count, total))):
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = arange(1 + total, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
