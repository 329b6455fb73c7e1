"""Padding layers (``ZeroPad2d``, ``ReflectionPad1d``...) over ``F.pad``, and pixel shuffles."""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class _Pad(Module):
    """Pad the last ``dims`` dimensions; ``padding`` is an int or (left, right, top, bottom, ...)."""

    dims = 2
    mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = (padding,) * (2 * self.dims) if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"{2 * self.dims} ints, got {padding!r}")

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _pad_layer(name: str, base: type, dims: int, mode: str, what: str) -> type:
    return type(name, (base,), {"dims": dims, "mode": mode, "__doc__": f"Pad the last {dims} "
                                f"dimension{'s' if dims > 1 else ''} {what}."})


ConstantPad1d = _pad_layer("ConstantPad1d", _ConstantPad, 1, "constant", "with a value")
ConstantPad2d = _pad_layer("ConstantPad2d", _ConstantPad, 2, "constant", "with a value")
ConstantPad3d = _pad_layer("ConstantPad3d", _ConstantPad, 3, "constant", "with a value")
ZeroPad1d = _pad_layer("ZeroPad1d", _Pad, 1, "constant", "with zeros")
ZeroPad2d = _pad_layer("ZeroPad2d", _Pad, 2, "constant", "with zeros")
ZeroPad3d = _pad_layer("ZeroPad3d", _Pad, 3, "constant", "with zeros")
ReflectionPad1d = _pad_layer("ReflectionPad1d", _Pad, 1, "reflect", "by reflection at the edge")
ReflectionPad2d = _pad_layer("ReflectionPad2d", _Pad, 2, "reflect", "by reflection at the edge")
ReflectionPad3d = _pad_layer("ReflectionPad3d", _Pad, 3, "reflect", "by reflection at the edge")
ReplicationPad1d = _pad_layer("ReplicationPad1d", _Pad, 1, "replicate", "by repeating the edge")
ReplicationPad2d = _pad_layer("ReplicationPad2d", _Pad, 2, "replicate", "by repeating the edge")
ReplicationPad3d = _pad_layer("ReplicationPad3d", _Pad, 3, "replicate", "by repeating the edge")
CircularPad1d = _pad_layer("CircularPad1d", _Pad, 1, "circular", "by wrapping around")
CircularPad2d = _pad_layer("CircularPad2d", _Pad, 2, "circular", "by wrapping around")
CircularPad3d = _pad_layer("CircularPad3d", _Pad, 3, "circular", "by wrapping around")


class PixelShuffle(Module):
    """(*, C r², H, W) -> (*, C, H r, W r): channels rearranged into space."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r², H, W): space rearranged into channels."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
