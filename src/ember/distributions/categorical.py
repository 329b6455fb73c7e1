"""The categorical distribution over ``0 .. K-1``."""
from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..creation import arange, full
from ..dtypes import finfo, int64
from ..ops import elementwise as E
from ..ops import index as I
from ..ops import random as RA
from ..ops import reduce as R
from ..ops import shape as S
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits


class Categorical(Distribution):
    """Categorical(probs=None, logits=None): index i with probability probs[..., i] (normalised)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(
        constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / R.sum(probs, -1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - R.logsumexp(logits, -1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(tuple(self._param.shape[:-1]), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expanded(Categorical, batch_shape, ("probs", "logits"), _instance)
        new._param = new.__dict__.get("probs", new.__dict__.get("logits"))
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    def _filled(self, value):
        return full(tuple(self._extended_shape()), value, dtype=self.probs.dtype,
                    device=self.probs.device)

    @property
    def mean(self):
        return self._filled(float("nan"))

    @property
    def mode(self):
        return R.argmax(self.probs, -1)

    @property
    def variance(self):
        return self._filled(float("nan"))

    def sample(self, sample_shape=()):
        sample_shape = tuple(sample_shape) if not isinstance(sample_shape, int) else (sample_shape,)
        count = math.prod(sample_shape)
        with no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            draws = S.t(RA.multinomial(probs_2d, count, True)) if count else \
                probs_2d.new_zeros((0, probs_2d.shape[0])).long()
            return draws.reshape(tuple(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = E.cast(value, int64).unsqueeze(-1)
        value, log_pmf = S.broadcast_tensors(value, self.logits)
        return S.squeeze(I.gather(log_pmf, -1, value[..., :1]), -1)

    def entropy(self):
        logits = E.clamp(self.logits, min=finfo(self.logits.dtype).min)
        return -R.sum(logits * self.probs, -1)

    def enumerate_support(self, expand: bool = True):
        values = arange(self._num_events, dtype=int64, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


class CategoricalVectors(Distribution):
    """A distribution over K-vectors built on a ``Categorical`` (one-hot, counts, relaxed
    samples): its probs and logits are the categorical's, its event shape (K,)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    def _set_categorical(self, probs, logits, validate_args) -> None:
        self._categorical = Categorical(probs, logits)
        event_shape = tuple(self._categorical.param_shape[-1:])
        Distribution.__init__(self, self._categorical.batch_shape, event_shape,
                              validate_args=validate_args)

    def _expand_categorical(self, cls, batch_shape, _instance):
        new = self._get_checked_instance(cls, _instance)
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape
