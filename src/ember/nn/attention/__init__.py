"""Attention kernels, as torch.nn.attention: ``SDPBackend`` and the ``sdpa_kernel`` switch.

Ember has one kernel for ``scaled_dot_product_attention``: the composite of matrix products,
a masked softmax and dropout (torch's MATH backend), differentiable to any order. Choosing
backends is accepted so torch code runs, and changes nothing.
"""
from __future__ import annotations

import contextlib
import enum
from typing import Iterable

from . import _functional  # noqa: F401  (declares nn.functional's attention ops)

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """The kernels torch can pick for scaled dot-product attention (Ember always runs MATH)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends: SDPBackend | Iterable[SDPBackend], set_priority: bool = False):
    """Within the block, let attention use only ``backends``: accepted and checked, with no effect,
    since Ember's one kernel computes what each of torch's computes (up to rounding)."""
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise TypeError(f"sdpa_kernel: backends must be SDPBackend values, got {b!r}")
    yield
