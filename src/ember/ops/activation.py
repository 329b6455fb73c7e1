"""Activations and normalisers built from primitives: softmax, log_softmax and friends.

``log_softmax`` is a primitive (it sits under every cross-entropy loss); the rest are
composites that autograd differentiates through the primitives they are made of.
"""
from __future__ import annotations

from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .registry import apply, batch_dims, primitive


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


def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``: probabilities that sum to one."""
    x = input if dtype is None else E.cast(input, dtype)
    _softmax_dim(x, dim, "softmax")
    if not x._data.size:
        return x
    _FLOATING("softmax", x)
    return E.exp(log_softmax(x, dim))
