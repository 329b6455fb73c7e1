"""The one-hot categorical distribution: a Categorical whose samples are one-hot vectors."""
from __future__ import annotations

from ..creation import arange
from ..ops import elementwise as E
from ..ops import reduce as R
from . import constraints
from .categorical import CategoricalVectors


def one_hot(indices, num_classes: int, dtype):
    """``indices`` as one-hot vectors (a new last dim of ``num_classes``) of ``dtype``."""
    classes = arange(num_classes, device=indices.device)
    return E.cast(E.eq(indices.unsqueeze(-1), classes), dtype)


class OneHotCategorical(CategoricalVectors):
    """OneHotCategorical(probs=None, logits=None)."""

    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        self._set_categorical(probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_categorical(OneHotCategorical, batch_shape, _instance)

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        return one_hot(R.argmax(self._categorical.probs, -1), self._categorical._num_events,
                       self.probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape=()):
        indices = self._categorical.sample(sample_shape)
        return one_hot(indices, self._categorical._num_events, self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(R.argmax(value, -1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True):
        n = self.event_shape[0]
        values = one_hot(arange(n, device=self._param.device), n, self._param.dtype)
        values = values.reshape((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand((n,) + tuple(self.batch_shape) + (n,)) if expand else values
