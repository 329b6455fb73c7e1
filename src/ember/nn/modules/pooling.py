"""Pooling layers: MaxPool1d/2d/3d, AvgPool1d/2d/3d, the adaptive pools, max unpooling,
LP pooling and fractional max pooling (torch's arguments and reprs)."""
from __future__ import annotations

from ...ops import conv as C
from ...ops import pool as P
from ...ops import unpool as U
from ...tensor import Tensor
from ..module import Module


class _Pool(Module):
    """Shared input check of the pooling layers: (N, C, *spatial) or unbatched (C, *spatial)."""

    dims = 2

    def _check(self, input: Tensor) -> None:
        C.check_layer_input(f"{type(self).__name__}({self.extra_repr()})", input, self.dims)


class _MaxPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):
        self._check(input)
        return P.max_pool(f"max_pool{self.dims}d", self.dims, input, self.kernel_size, self.stride,
                          self.padding, self.dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """Max over windows of (N, C, L)."""

    dims = 1


class MaxPool2d(_MaxPool):
    """Max over windows of (N, C, H, W): ``MaxPool2d(2)`` halves each spatial side."""

    dims = 2


class MaxPool3d(_MaxPool):
    """Max over windows of (N, C, D, H, W)."""

    dims = 3


class _AvgPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return P.avg_pool(f"avg_pool{self.dims}d", self.dims, input, self.kernel_size, self.stride,
                          self.padding, self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPool):
    """Average over windows of (N, C, L)."""

    dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPool):
    """Average over windows of (N, C, H, W)."""

    dims = 2


class AvgPool3d(_AvgPool):
    """Average over windows of (N, C, D, H, W)."""

    dims = 3


class _AdaptivePool(_Pool):
    """Shared ``output_size`` attribute and repr of the adaptive pooling layers."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvgPool(_AdaptivePool):
    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return P.adaptive_avg_pool(f"adaptive_avg_pool{self.dims}d", self.dims, input,
                                   self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """Average (N, C, L) down to ``output_size`` positions."""

    dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """Average (N, C, H, W) down to an ``output_size`` grid; ``AdaptiveAvgPool2d(1)`` is global pooling."""

    dims = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPool):
    """Average (N, C, D, H, W) down to an ``output_size`` grid."""

    dims = 3


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        self._check(input)
        return P.adaptive_max_pool(f"adaptive_max_pool{self.dims}d", self.dims, input,
                                   self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max of (N, C, L) over ``output_size`` adaptive windows."""

    dims = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max of (N, C, H, W) over an ``output_size`` grid of adaptive windows."""

    dims = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max of (N, C, D, H, W) over an ``output_size`` grid of adaptive windows."""

    dims = 3


class _MaxUnpool(_Pool):
    """Shared arguments and repr of the max unpooling layers (tuples, as torch prints them)."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = C.ntuple(name, "kernel_size", kernel_size, self.dims)
        self.stride = C.ntuple(name, "stride", stride if stride is not None else kernel_size,
                               self.dims)
        self.padding = C.ntuple(name, "padding", padding, self.dims)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return U.max_unpool(f"max_unpool{self.dims}d", self.dims, input, indices,
                            self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """Put the maxima of MaxPool1d back at their positions (zeros elsewhere)."""

    dims = 1


class MaxUnpool2d(_MaxUnpool):
    """Put the maxima of MaxPool2d back at their positions (zeros elsewhere)."""

    dims = 2


class MaxUnpool3d(_MaxUnpool):
    """Put the maxima of MaxPool3d back at their positions (zeros elsewhere)."""

    dims = 3


class _LPPool(_Pool):
    """Power-average pooling: the p-norm of each window."""

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return U.lp_pool(f"lp_pool{self.dims}d", self.dims, input, self.norm_type,
                         self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """Power-average pooling over (N, C, L)."""

    dims = 1


class LPPool2d(_LPPool):
    """Power-average pooling over (N, C, H, W)."""

    dims = 2


class LPPool3d(_LPPool):
    """Power-average pooling over (N, C, D, H, W)."""

    dims = 3


class _FractionalMaxPool(_Pool):
    """Max pooling to ``output_size`` (or ``output_ratio`` of the input) over pseudo-randomly
    placed windows; ``_random_samples`` fixes the placement."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples: Tensor | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = C.ntuple(name, "kernel_size", kernel_size, self.dims)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else \
            C.ntuple(name, "output_size", output_size, self.dims)
        self.output_ratio = None if output_ratio is None else \
            U.pair_of_ratios(name, output_ratio, self.dims)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor):
        return U.fractional_max_pool(f"fractional_max_pool{self.dims}d", self.dims, input,
                                     self.kernel_size, self.output_size, self.output_ratio,
                                     self.return_indices, _random_samples=self._random_samples)

    def extra_repr(self) -> str:
        return ""


class FractionalMaxPool2d(_FractionalMaxPool):
    """Fractional max pooling of (N, C, H, W) (Graham, 2014)."""

    dims = 2


class FractionalMaxPool3d(_FractionalMaxPool):
    """Fractional max pooling of (N, C, T, H, W)."""

    dims = 3
