"""Activations and dropouts that draw random numbers (torch.nn.functional's rrelu,
alpha_dropout, feature_alpha_dropout, gumbel_softmax): compositions of Ember ops around one
random draw."""
from __future__ import annotations

import math

from ...creation import arange, rand
from ...ops import elementwise as E
from ...ops import reduce as R
from ...ops import shape as S
from ...ops.activation import float_input, maybe_inplace
from ...ops.registry import declare
from ...tensor import Tensor
from .. import functional as F

# SELU's scale * alpha: alpha dropout sets dropped units to SELU's negative saturation value
_SELU_SATURATION = 1.7580993408473766


@declare(namespaces=("ember", "ember.nn.functional"))
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU: negative inputs are scaled by a slope drawn from U(lower, upper)
    per element while training, by the mean slope ``(lower + upper) / 2`` otherwise."""
    return maybe_inplace(_rrelu, "rrelu_", float_input("rrelu", input), inplace, lower, upper,
                         training)


def _rrelu(x: Tensor, lower: float, upper: float, training: bool) -> Tensor:
    if training:
        slope = E.add(E.mul(rand(tuple(x.shape), dtype=x.dtype, device=x.device), upper - lower),
                      lower)
    else:
        slope = (lower + upper) / 2
    return E.where(E.ge(x, 0), x, E.mul(x, slope))


@declare(namespaces=("ember.nn.functional",))
def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, inplace=True)


def _alpha_dropout(op: str, input: Tensor, p: float, training: bool, inplace: bool,
                   feature: bool) -> Tensor:
    """Keep a unit with probability ``1 - p``, else set it to SELU's saturation value, then
    rescale so a zero-mean unit-variance input keeps its mean and variance (self-normalising
    networks). ``feature`` drops whole channels."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p < 1.0 and feature and input.ndim < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input")
    return maybe_inplace(_alpha_mask, f"{op}_", input, inplace, p, feature)


def _alpha_mask(x: Tensor, p: float, feature: bool) -> Tensor:
    """Alpha dropout's draw applied to ``x`` (all units dropped to zero when ``p`` is 1)."""
    if p == 1.0:
        return E.mul(x, 0.0)
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if feature else tuple(x.shape)
    keep = E.cast(E.lt(rand(shape, dtype=x.dtype, device=x.device), 1.0 - p), x.dtype)
    a = 1.0 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
    shift = E.add(E.mul(E.sub(keep, 1.0), _SELU_SATURATION * a), _SELU_SATURATION * a * p)
    return E.add(E.mul(x, E.mul(keep, a)), shift)


@declare(namespaces=("ember", "ember.nn.functional"))
def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps the inputs' mean and variance."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, feature=False)


@declare(namespaces=("ember", "ember.nn.functional"))
def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dim 1)."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, feature=True)


@declare(namespaces=("ember.nn.functional",))
def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A differentiable sample of a categorical distribution: ``softmax((logits + g) / tau)``
    with Gumbel noise ``g``; ``hard`` returns the one-hot of the sample, with the soft
    sample's gradient (straight-through)."""
    uniform = rand(tuple(logits.shape), dtype=logits.dtype, device=logits.device)
    gumbels = E.neg(E.log(E.neg(E.log(uniform))))  # -log(Exp(1))
    soft = F.softmax(E.div(E.add(logits, gumbels), tau), dim)
    if not hard:
        return soft
    axis = dim % soft.ndim
    shape = [1] * soft.ndim
    shape[axis] = soft.shape[axis]
    positions = S.reshape(arange(soft.shape[axis], device=soft.device), tuple(shape))
    one_hot = E.cast(E.eq(R.argmax(soft, axis, keepdim=True), positions), soft.dtype)
    return E.add(E.sub(one_hot, soft.detach()), soft)

