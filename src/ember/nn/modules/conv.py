"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d, initialised as torch's.

Each layer checks its input's rank and channel count first, so a channel-last image gets
a message naming the layer and suggesting the ``permute`` that fixes it.
"""
from __future__ import annotations

from ...creation import empty
from ...ops import conv as C
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared parameters, init, checks and repr of the convolution layers."""

    dims = 2
    op = "conv2d"
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding=0, device=None, dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding mode is supported")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = C.ntuple(name, "kernel_size", kernel_size, self.dims)
        self.stride = C.ntuple(name, "stride", stride, self.dims)
        self.dilation = C.ntuple(name, "dilation", dilation, self.dims)
        C.check_positive(name, "kernel_size", self.kernel_size)
        C.check_positive(name, "stride", self.stride)
        C.check_positive(name, "dilation", self.dilation)
        if isinstance(padding, str):
            C.conv_padding(name, padding, self.kernel_size, self.dilation, self.stride)
            self.padding = padding
        else:
            self.padding = C.ntuple(name, "padding", padding, self.dims)
            C.check_non_negative(name, "padding", self.padding)
        self.output_padding = C.ntuple(name, "output_padding", output_padding, self.dims)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if self.transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(empty(shape + self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init._default_layer_init_(self.weight, self.bias)

    def _layer(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _check(self, input: Tensor) -> None:
        C.check_layer_input(self._layer(), input, self.dims, self.in_channels)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Cross-correlation layers (Conv1d/2d/3d)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, 0, device, dtype)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """The convolution with this layer's geometry (non-zero padding modes pad explicitly)."""
        if self.padding_mode == "zeros":
            return C.conv(self.op, self.dims, input, weight, bias, self.stride,
                          self.padding, self.dilation, self.groups)
        lo, hi = C.conv_padding(self._layer(), self.padding, self.kernel_size, self.dilation,
                                self.stride)
        pads = []
        for a, b in zip(reversed(lo), reversed(hi)):
            pads += [a, b]
        x = F.pad(input, pads, mode=self.padding_mode)
        return C.conv(self.op, self.dims, x, weight, bias, self.stride, 0,
                      self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out)."""

    dims = 1
    op = "conv1d"


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""

    dims = 2
    op = "conv2d"


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W)."""

    dims = 3
    op = "conv3d"


class _ConvTranspose(_ConvNd):
    """Transposed convolutions (the input-gradient of a convolution, used to upsample)."""

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, not {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that makes the output ``output_size`` (torch's rule)."""
        if output_size is None:
            return self.output_padding
        size = [int(s) for s in output_size][-self.dims:]
        if len(size) != self.dims:
            raise ValueError(f"{self._layer()}: output_size must have {self.dims} or {self.dims + 2} "
                             f"elements, got {list(output_size)}")
        spatial = input.shape[-self.dims:]
        extra = []
        for k in range(self.dims):
            smallest = ((spatial[k] - 1) * self.stride[k] - 2 * self.padding[k]
                        + self.dilation[k] * (self.kernel_size[k] - 1) + 1)
            if not smallest <= size[k] < smallest + self.stride[k]:
                raise ValueError(f"{self._layer()}: requested an output size of {size}, but valid "
                                 f"sizes along dim {k} range from {smallest} to "
                                 f"{smallest + self.stride[k] - 1} (for an input of shape "
                                 f"{list(input.shape)})")
            extra.append(size[k] - smallest)
        return tuple(extra)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check(input)
        return C.conv_transpose(self.op, self.dims, input, self.weight,
                                self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over (N, C_in, L)."""

    dims = 1
    op = "conv_transpose1d"


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution over (N, C_in, H, W): a learned upsampling."""

    dims = 2
    op = "conv_transpose2d"


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution over (N, C_in, D, H, W): a learned volumetric upsampling."""

    dims = 3
    op = "conv_transpose3d"


class Unfold(Module):
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L) (im2col)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Sum sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, H, W) (col2im)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
