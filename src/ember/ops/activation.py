"""Activations and normalisers built from primitives: softmax, log_softmax and friends.

These are composites (no derivative rules of their own): autograd differentiates the
primitives they are made of, to any order.
"""
from __future__ import annotations

from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R


def _softmax_dim(x: Tensor, dim, op: str) -> int:
    if dim is None:
        dim = 0 if x._data.ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, x._data.ndim, op)


def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``: log-probabilities, stable for large inputs."""
    x = E.to_float(input if dtype is None else E.cast(input, dtype))
    if x._data.ndim == 0:
        return E.sub(x, x)
    d = _softmax_dim(x, dim, "log_softmax")
    return E.sub(x, R.logsumexp(x, d, keepdim=True))


def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``: probabilities that sum to one."""
    return E.exp(log_softmax(input, dim, dtype))
