"""``Tensor.resize_`` and ``resize_as_``: a tensor takes a new shape in place, as torch's do.

The elements that fit stay (in memory order); a shrink keeps the tensor's memory, a growth
moves it to a larger array whose new elements are zero (torch leaves them uninitialized).
"""
from __future__ import annotations

import math

from ..autograd.grad_mode import STATE
from ..tensor import Tensor


def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """The tensor with shape ``sizes``, keeping its first elements (torch's ``resize_``)."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    if any(not isinstance(s, int) or s < 0 for s in shape):
        raise RuntimeError(f"resize_: Trying to create tensor with negative dimension or a size "
                           f"that is not an integer: {list(shape)}")
    if STATE.enabled and self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    self._check_inplace("resize_")
    flat = self._data.reshape(-1) if self._data.flags.c_contiguous else self._data.ravel()
    count = math.prod(shape)
    if count <= flat.size:
        self._data = flat[:count].reshape(shape)
    else:
        grown = self.xp.zeros(count, dtype=flat.dtype)
        grown[:flat.size] = flat
        self._data = grown.reshape(shape)
    self._bump_version()
    return self


def resize_as_(self: Tensor, the_template: Tensor, memory_format=None) -> Tensor:
    """``resize_`` to the shape of ``the_template``."""
    return resize_(self, tuple(the_template._data.shape))
