"""Activations and normalisers built from primitives: softmax, log_softmax and friends.

``log_softmax`` is a primitive (it sits under every cross-entropy loss); the rest are
composites that autograd differentiates through the primitives they are made of.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .registry import apply, batch_dims, primitive
from ..autograd.engine import torch_backward


def _softmax_dim(x: Tensor, dim, op: str) -> int:
    if dim is None:
        dim = 0 if x._data.ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, x._data.ndim, op)


def _log_softmax_fwd(xp, x, axis):
    # torch's kernel: (x - max) - log(sum(exp(x - max))); a row holding inf (or all -inf) is
    # all nan there, as in torch.
    m = xp.max(x, axis=axis, keepdims=True)
    shifted = x - m
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


_log_softmax = primitive(
    "log_softmax", _log_softmax_fwd,
    lambda g, out, x, axis: (
        E.sub(g, E.mul(E.exp(out), R.sum(g, axis + batch_dims(), keepdim=True))),),
    saves_out=True,
    formula="d/dx log_softmax(x) . g = g - softmax(x) * sum(g)",
)


def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``: log-probabilities, stable for large inputs.

    One primitive (the cross-entropy hot path), not the composite of ~10 ops it equals.
    """
    x = input if dtype is None else E.cast(input, dtype)
    d = _softmax_dim(x, dim, "log_softmax")
    if not x._data.size:
        return x  # nothing to compute: torch returns the (empty) input's dtype, even integer
    _FLOATING("log_softmax", x)
    if x._data.ndim == 0:
        return S.reshape(apply(_log_softmax, S.reshape(x, (1,)), axis=0), ())
    return apply(_log_softmax, x, axis=d)


_FLOATING = E.kernels_for("f")


@torch_backward("SoftmaxBackward0")
def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``: probabilities that sum to one."""
    x = input if dtype is None else E.cast(input, dtype)
    _softmax_dim(x, dim, "softmax")
    if not x._data.size:
        return x
    _FLOATING("softmax", x)
    return E.exp(log_softmax(x, dim))


# ---------------------------------------------------------------------------- torch's own rules
# These activations are primitives because torch's derivatives round a constant to float32
# (celu's 1/alpha, hardsigmoid's 1/6) or are written a particular way (mish): composites of
# Ember ops would differ in the last digits in float64.

def _f32(value: float) -> float:
    """``value`` rounded to float32, as torch's kernels hold some constants."""
    return float(backend.numpy.float32(value))


def _celu_fwd(xp, x, alpha):
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0) / alpha)).astype(x.dtype, copy=False)


def _celu_rule(g, out, x, alpha):
    scale = 1.0 / _f32(alpha)  # torch: elu_backward(..., 1.0 / alpha.toFloat())
    slope = E.mul(E.exp(E.mul(E.clamp(x, max=0), scale)), alpha * scale)
    return (E.mul(g, E.where(E.gt(x, 0), 1.0, slope)),)


_celu = primitive("celu", _celu_fwd, _celu_rule,
                  formula="d/dx celu = 1 above 0, else exp(x / alpha) (1/alpha as a float32, as torch)")


def celu(x: Tensor, alpha: float) -> Tensor:
    """``x`` above 0, else ``alpha * (exp(x / alpha) - 1)``."""
    return apply(_celu, E.to_float(x), alpha=alpha)


_SIXTH = _f32(1.0 / 6.0)


def _hardsigmoid_fwd(xp, x):
    inside = (x > -3) & (x < 3)
    return xp.where(inside, (x + 3) / 6, (x >= 3).astype(x.dtype)).astype(x.dtype, copy=False)


_hardsigmoid = primitive(
    "hardsigmoid", _hardsigmoid_fwd,
    lambda g, out, x: (E.mul(g, E.where(E.logical_and(E.gt(x, -3), E.lt(x, 3)), _SIXTH, 0.0)),),
    formula="d/dx relu6(x + 3) / 6 = 1/6 strictly inside (-3, 3) (a float32 1/6, as torch)",
)


def hardsigmoid(x: Tensor) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return apply(_hardsigmoid, E.to_float(x))


def _mish_fwd(xp, x):
    soft = xp.where(x > 20, x, xp.log1p(xp.exp(xp.minimum(x, 20))))
    return x * xp.tanh(soft)


def _mish_rule(g, out, x):
    from ..nn.functional import softplus

    t = E.tanh(softplus(x))
    return (E.mul(g, E.add(t, E.mul(E.mul(x, E.sigmoid(x)), E.sub(1, E.mul(t, t))))),)


_mish = primitive("mish", _mish_fwd, _mish_rule,
                  formula="d/dx x tanh(softplus(x)) = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))")


def mish(x: Tensor) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return apply(_mish, E.to_float(x))
