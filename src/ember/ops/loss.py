"""Loss primitives: where torch's derivative is no composite's, or where fusing pays.

Binary cross-entropy clamps its logs at -100 so that a probability of exactly 0 or 1 gives a
finite loss; torch's gradient ignores the clamp and divides by ``max(x(1-x), 1e-12)`` instead.
A composite would give 0 * inf = nan there, so it is one primitive with torch's rule.

Cross-entropy of logits and class indices (mean over the batch) is the training hot path: one
fused log-softmax + NLL primitive instead of about twenty ops forward and backward. Its rule,
``(softmax(x) - onehot(t)) * g / N``, is written in Ember ops, so it differentiates again.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from . import activation as A
from . import elementwise as E
from . import shape as S
from .registry import apply, batch_shape, primitive

_LOG_FLOOR = -100.0  # torch's floor on log(x) and log(1 - x)
_GRAD_EPS = 9.999999960041972e-13  # torch's floor on x(1 - x) in the gradient: 1e-12 as a float32


def _bce_fwd(xp, x, y):
    for name, v in (("input", x), ("target", y)):
        backend.require(xp.all((v >= 0) & (v <= 1)), lambda name=name: RuntimeError(
            f"binary_cross_entropy: all elements of {name} should be between 0 and 1"))
    log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
    log_not_x = xp.maximum(xp.log1p(-x), _LOG_FLOOR)
    return (y - 1) * log_not_x - y * log_x


def _bce_dx(g, out, x, y):
    spread = E.clamp(E.mul(x, E.sub(1, x)), min=_GRAD_EPS)
    return E.div(E.mul(g, E.sub(x, y)), spread)


_bce_rule, _bce_jvp = E.by_input(
    _bce_dx, lambda g, out, x, y: E.mul(g, E.sub(E.log1p(E.neg(x)), E.log(x))))
_bce = primitive(
    "binary_cross_entropy", _bce_fwd, _bce_rule, jvp=_bce_jvp,
    formula="d/dx = (x - y) / max(x(1-x), 1e-12); d/dy = log(1-x) - log(x)",
    fused="stability: torch's gradient divides by max(x(1-x), 1e-12) where a composite of the "
          "clamped logs gives 0 * inf = nan at probabilities 0 and 1", batch="elementwise"
)


def binary_cross_entropy(input, target):
    """Elementwise ``-(y log x + (1-y) log(1-x))`` with the logs floored at -100 (unreduced)."""
    x, y = E.promote("binary_cross_entropy", input, target, floating=True)
    return apply(_bce, x, y)


def _kept_targets(xp, t, ignore_index: int):
    """Which rows count (target not ``ignore_index``) and the targets with ignored ones at 0."""
    keep = t != ignore_index
    return keep, xp.where(keep, t, 0)


def _ce_fwd(xp, x, t, ignore_index):
    keep, safe = _kept_targets(xp, t, ignore_index)
    shifted = x - xp.max(x, axis=1, keepdims=True)
    log_total = xp.log(xp.sum(xp.exp(shifted), axis=1))
    losses = xp.where(keep, log_total - shifted[xp.arange(x.shape[0]), safe], 0)
    return xp.sum(losses) / xp.sum(keep, dtype=x.dtype)


def _ce_rule(g, out, x, t, ignore_index):
    xp, data = x.xp, x._data
    keep, safe = _kept_targets(xp, t._data, ignore_index)
    onehot = xp.zeros(data.shape, dtype=data.dtype)
    onehot[xp.arange(data.shape[0]), safe] = 1
    # Each kept row weighs 1/(rows kept); ignored rows 0 (all of them when every row is ignored).
    weight = xp.where(keep, 1 / xp.sum(keep, dtype=data.dtype), 0).astype(data.dtype)
    diff = E.sub(A.softmax(x, 1), Tensor._make(onehot))
    scale = E.mul(S.reshape(g, batch_shape(g) + (1, 1)), Tensor._make(weight[:, None]))
    return (E.mul(diff, scale), None)


_ce = primitive(
    "cross_entropy", _ce_fwd, _ce_rule, jvp="reduction",
    formula="d/dx mean_i(logsumexp(x_i) - x_i[t_i]) = (softmax(x) - onehot(t)) / N over kept rows",
    fused="benchmark: the training hot path (W3, W4), one node instead of about twenty ops",
)


def cross_entropy_mean(logits: Tensor, target: Tensor, ignore_index: int) -> Tensor | None:
    """Mean cross-entropy of (N, C) logits and (N,) int64 class indices, as one primitive.

    Rows whose target is ``ignore_index`` are left out of the mean (nan when all are). None when
    the general path is needed: an empty batch.
    """
    if logits._batched or target._batched:
        return None  # inside vmap: the general path, batched op by op
    t = target._data
    if t.shape != logits._data.shape[:1] or not t.size:
        return None
    check_targets(target, ignore_index, logits._data.shape[1])
    return apply(_ce, logits, target, ignore_index=ignore_index)


def check_targets(target: Tensor, ignore_index: int, classes: int) -> None:
    """Class indices other than ``ignore_index`` lie in [0, classes) (checked on the device)."""
    t = target._data
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    backend.require(~bad.any(), lambda: IndexError(f"Target {_first_bad(t, bad)} is out of bounds."))


def _first_bad(t, bad) -> int:
    """The out-of-range target torch names: the smallest if it is negative, else the largest."""
    values = backend.transfer(t[bad], backend.CPU)
    low = int(values.min())
    return low if low < 0 else int(values.max())
