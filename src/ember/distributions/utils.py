"""Helpers shared by the distributions: broadcasting parameters, probabilities and logits."""
from __future__ import annotations

from numbers import Number

from .. import dtypes
from ..creation import tensor
from ..ops import activation as A
from ..ops import elementwise as E
from ..ops.shape import broadcast_tensors
from ..tensor import Tensor

euler_constant = 0.57721566490153286060


def broadcast_all(*values) -> tuple:
    """Parameters as tensors of one broadcast shape (numbers take the tensors' dtype)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number or ember.Tensor.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        return tuple(tensor(float(v), dtype=dtypes.get_default_dtype()) for v in values)
    values = tuple(v if isinstance(v, Tensor) else E.as_tensor_like(float(v), like, like.dtype)
                   for v in values)
    return tuple(broadcast_tensors(*values))


def as_float(value, like: Tensor) -> Tensor:
    """A number as a 0-d tensor of ``like``'s dtype and device (a tensor as it is)."""
    return value if isinstance(value, Tensor) else E.as_tensor_like(float(value), like, like.dtype)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities kept inside (0, 1) by the dtype's epsilon (for logs of p and 1 - p)."""
    eps = dtypes.finfo(probs.dtype).eps
    return E.clamp(probs, eps, 1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Sigmoid of binary logits, softmax of categorical ones (over the last dim)."""
    return E.sigmoid(logits) if is_binary else A.softmax(logits, -1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log(p) - log(1 - p) for binary probabilities, log(p) for categorical ones."""
    ps = clamp_probs(probs)
    if is_binary:
        return E.sub(E.log(ps), E.log1p(E.neg(ps)))
    return E.log(ps)


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), computed without overflow."""
    return E.logaddexp(x, E.const_zeros(x))


def xlogy(x: Tensor, y: Tensor) -> Tensor:
    """x * log(y), taken as 0 where x is 0 (as torch.xlogy)."""
    zero = E.eq(x, 0)
    return E.where(zero, E.const_zeros(x), E.mul(x, E.log(E.where(zero, E.const_ones(y), y))))



class lazy_property:
    """A property computed once on first use and then stored on the instance."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
