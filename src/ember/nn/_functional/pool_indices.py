"""torch.nn.functional's ``*_with_indices`` pools: the pooled values and the flat input index
of each maximum, always (their ``return_indices`` argument is accepted and ignored, as
torch's)."""
from __future__ import annotations

from ...ops import pool as P
from ...ops import unpool as U
from ...ops.registry import declare
from ...tensor import Tensor


@declare(namespaces=("ember.nn.functional",))
def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """``max_pool1d`` with the index of each maximum."""
    return P.max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)


@declare(namespaces=("ember.nn.functional",))
def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """``max_pool2d`` with the index of each maximum."""
    return P.max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)


@declare(namespaces=("ember.nn.functional",))
def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """``max_pool3d`` with the index of each maximum."""
    return P.max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)


@declare(namespaces=("ember.nn.functional",))
def adaptive_max_pool1d_with_indices(input: Tensor, output_size,
                                     return_indices: bool = False) -> tuple:
    """``adaptive_max_pool1d`` with the index of each maximum."""
    return P.adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, True)


@declare(namespaces=("ember.nn.functional",))
def adaptive_max_pool2d_with_indices(input: Tensor, output_size,
                                     return_indices: bool = False) -> tuple:
    """``adaptive_max_pool2d`` with the index of each maximum."""
    return P.adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, True)


@declare(namespaces=("ember.nn.functional",))
def adaptive_max_pool3d_with_indices(input: Tensor, output_size,
                                     return_indices: bool = False) -> tuple:
    """``adaptive_max_pool3d`` with the index of each maximum."""
    return P.adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, True)


@declare(namespaces=("ember.nn.functional",))
def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple:
    """``fractional_max_pool2d`` with the index of each maximum."""
    return U.fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size, output_size,
                                 output_ratio, True, _random_samples)


@declare(namespaces=("ember.nn.functional",))
def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple:
    """``fractional_max_pool3d`` with the index of each maximum."""
    return U.fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size, output_size,
                                 output_ratio, True, _random_samples)
