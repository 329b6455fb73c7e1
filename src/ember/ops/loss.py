"""Loss primitives whose torch derivative is not the derivative of any composite of ops.

Binary cross-entropy clamps its logs at -100 so that a probability of exactly 0 or 1 gives a
finite loss; torch's gradient ignores the clamp and divides by ``max(x(1-x), 1e-12)`` instead.
A composite would give 0 * inf = nan there, so it is one primitive with torch's rule.
"""
from __future__ import annotations

from . import elementwise as E
from .registry import apply, primitive

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
