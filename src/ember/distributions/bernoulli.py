"""The Bernoulli distribution: 1 with probability ``probs``, else 0."""
from __future__ import annotations

from numbers import Number

from ..autograd.grad_mode import no_grad
from ..creation import arange
from ..ops import elementwise as E
from ..ops import random as RA
from . import constraints
from .distribution import Distribution
from .utils import as_float, broadcast_all, lazy_property, logits_to_probs, probs_to_logits, softplus


class BinaryDistribution(Distribution):
    """A distribution parameterised by the probability (or logit) of a binary event, given as
    exactly one of ``probs`` and ``logits``; the other is computed when first read."""

    def _set_binary(self, probs, logits) -> bool:
        """Set ``probs`` or ``logits`` (exactly one given); True if it was a number."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        (value,) = broadcast_all(given)
        setattr(self, "probs" if probs is not None else "logits", value)
        self._param = value
        return isinstance(given, Number)

    def _expand_binary(self, cls, batch_shape, _instance, names: tuple = ()):
        """``expand`` for these: the given parameter (and ``names``) expanded."""
        new = self._expanded(cls, batch_shape, names + ("probs", "logits"), _instance)
        new._param = new.__dict__.get("probs", new.__dict__.get("logits"))
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape


def log_prob_binary(logits, value):
    """log P(value) for logits: value * logits - softplus(logits) (minus BCE with logits)."""
    return value * logits - softplus(logits)


class Bernoulli(BinaryDistribution):
    """Bernoulli(probs=None, logits=None)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        scalar = self._set_binary(probs, logits)
        super().__init__(() if scalar else self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_binary(Bernoulli, batch_shape, _instance)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = E.cast(E.ge(self.probs, 0.5), self.probs.dtype)
        return E.where(E.eq(self.probs, 0.5), mode * float("nan"), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            return RA.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, as_float(value, self.logits))
        return log_prob_binary(logits, value)

    def entropy(self):
        return softplus(self.logits) - self.probs * self.logits

    def enumerate_support(self, expand: bool = True):
        values = arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
