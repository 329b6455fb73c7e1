"""The geometric distribution: failures before the first success."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..creation import rand
from ..dtypes import finfo
from ..ops import elementwise as E
from . import constraints
from .bernoulli import BinaryDistribution
from .utils import as_float, broadcast_all, softplus


class Geometric(BinaryDistribution):
    """Geometric(probs=None, logits=None): P(k) = (1 - p)^k p for k = 0, 1, 2, ..."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        scalar = self._set_binary(probs, logits)
        super().__init__(() if scalar else self._param.shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            if not bool(E.gt(self.probs, 0).all()):
                raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of shape "
                                 f"{tuple(self.probs.shape)}) of distribution {self!r} to satisfy "
                                 f"the constraint Interval(lower_bound=0.0, upper_bound=1.0), but "
                                 f"found invalid values:\n{self.probs}")

    def expand(self, batch_shape, _instance=None):
        return self._expand_binary(Geometric, batch_shape, _instance)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return E.const_zeros(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        tiny = finfo(self.probs.dtype).tiny
        with no_grad():
            u = E.clamp(rand(shape, dtype=self.probs.dtype, device=self.probs.device), min=tiny)
            return E.floor(E.log(u) / E.log1p(-self.probs))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(as_float(value, self.probs), self.probs)
        certain = E.logical_and(E.eq(probs, 1), E.eq(value, 0))
        safe = E.where(certain, E.const_zeros(probs), probs)
        return value * E.log1p(-safe) + self.probs.log()

    def entropy(self):
        return (softplus(self.logits) - self.probs * self.logits) / self.probs
