"""Loss primitives: where torch's derivative is no composite's, or where fusing pays.

Binary cross-entropy clamps its logs at -100 so that a probability of exactly 0 or 1 gives a
finite loss; torch's gradient ignores the clamp and divides by ``max(x(1-x), 1e-12)`` instead.
A composite would give 0 * inf = nan there, so it is one primitive with torch's rule.

Cross-entropy of logits and class indices (mean over the batch) is the training hot path: one
fused log-softmax + NLL primitive instead of about twenty ops forward and backward. Its rule,
``(softmax(x) - onehot(t)) * g / N``, is written in Ember ops, so it differentiates again.
"""
from __future__ import annotations

from ..tensor import Tensor
from . import activation as A
from . import elementwise as E
from . import shape as S
from .registry import apply, batch_shape, primitive

_LOG_FLOOR = -100.0  # torch's floor on log(x) and log(1 - x)
_GRAD_EPS = 9.999999960041972e-13  # torch's floor on x(1 - x) in the gradient: 1e-12 as a float32


def _bce_fwd(xp, x, y):
    if not bool(xp.all((x >= 0) & (x <= 1))):
        raise ValueError("all elements of input should be between 0 and 1")
    if not bool(xp.all((y >= 0) & (y <= 1))):
        raise ValueError("all elements of target should be between 0 and 1")
    log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
    log_not_x = xp.maximum(xp.log1p(-x), _LOG_FLOOR)
    return (y - 1) * log_not_x - y * log_x


def _bce_rule(g, out, x, y):
    gx = gy = None
    if x.requires_grad:
        spread = E.clamp(E.mul(x, E.sub(1, x)), min=_GRAD_EPS)
        gx = E.div(E.mul(g, E.sub(x, y)), spread)
    if y.requires_grad:
        gy = E.mul(g, E.sub(E.log1p(E.neg(x)), E.log(x)))
    return gx, gy


_bce = primitive(
    "binary_cross_entropy", _bce_fwd, _bce_rule,
    formula="d/dx = (x - y) / max(x(1-x), 1e-12); d/dy = log(1-x) - log(x)",
)


def binary_cross_entropy(input, target):
    """Elementwise ``-(y log x + (1-y) log(1-x))`` with the logs floored at -100 (unreduced)."""
    x, y = E.promote("binary_cross_entropy", input, target, floating=True)
    return apply(_bce, x, y)


def _ce_fwd(xp, x, t):
    shifted = x - xp.max(x, axis=1, keepdims=True)
    log_total = xp.log(xp.sum(xp.exp(shifted), axis=1))
    return xp.mean(log_total - shifted[xp.arange(x.shape[0]), t])


def _ce_rule(g, out, x, t):
    onehot = x.xp.zeros(x._data.shape, dtype=x._data.dtype)
    onehot[x.xp.arange(x._data.shape[0]), t._data] = 1
    diff = E.sub(A.softmax(x, 1), Tensor._make(onehot))
    scale = S.reshape(E.div(g, x._data.shape[0]), batch_shape(g) + (1, 1))
    return (E.mul(diff, scale), None)


_ce = primitive(
    "cross_entropy", _ce_fwd, _ce_rule,
    formula="d/dx mean_i(logsumexp(x_i) - x_i[t_i]) = (softmax(x) - onehot(t)) / N",
)


def cross_entropy_mean(logits: Tensor, target: Tensor, ignore_index: int) -> Tensor | None:
    """Mean cross-entropy of (N, C) logits and (N,) int64 class indices, as one primitive.

    None when the general path is needed: an empty batch, or a target equal to ``ignore_index``.
    """
    t = target._data
    if t.shape != logits._data.shape[:1] or not t.size:
        return None
    low, high = int(t.min()), int(t.max())
    if low <= ignore_index <= high and bool((t == ignore_index).any()):
        return None
    for extreme in (low, high):
        if not 0 <= extreme < logits._data.shape[1]:
            raise IndexError(f"Target {extreme} is out of bounds.")
    return apply(_ce, logits, target)
