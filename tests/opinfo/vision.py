"""Samples of the vision ops: convolutions, pooling, padding, resizing, unfold/fold.

Each call is ``nn.functional.<op>`` of the module passed in (ember or torch). Max pooling is
sampled without ties (at a tie the gradient has a jump, which finite differences cannot check).
"""
from __future__ import annotations

from .specs import S, T, fixed, op

V = "vision"


def _F(name: str):
    """``call`` for ``module.nn.functional.name(*args, **kwargs)``."""
    return lambda m, *args, **kw: getattr(m.nn.functional, name)(*args, **kw)


op("conv1d", _F("conv1d"), fixed(
    S(T(2, 3, 7), T(4, 3, 3), T(4)),
    S(T(2, 4, 9), T(6, 2, 2), None, stride=2, padding=1, dilation=2, groups=2),
    S(T(3, 8), T(2, 3, 3), padding="same"),
), V)
op("conv2d", _F("conv2d"), fixed(
    S(T(2, 3, 6, 5), T(4, 3, 3, 3), T(4), padding=1),
    S(T(2, 4, 7, 6), T(6, 2, 3, 2), T(6), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
    S(T(1, 2, 5, 5), T(3, 2, 2, 2), None, padding="same", dilation=2),
    S(T(2, 3, 5, 4), T(3, 1, 3, 3), T(3), padding="valid", groups=3),
    S(T(3, 5, 5), T(2, 3, 1, 1), T(2), stride=2),
), V, notes="im2col (stride tricks) + one GEMM; derivatives via col2im")
op("conv_transpose1d", _F("conv_transpose1d"), fixed(
    S(T(2, 3, 5), T(3, 2, 3), T(2), stride=2, padding=1, output_padding=1),
), V)
op("conv_transpose2d", _F("conv_transpose2d"), fixed(
    S(T(2, 3, 4, 5), T(3, 2, 3, 3), T(2), padding=1),
    S(T(2, 4, 3, 4), T(4, 3, 3, 2), T(6), stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
      groups=2),
    S(T(1, 2, 3, 3), T(2, 2, 2, 2), None, stride=2, dilation=2, output_padding=1),
), V, notes="one GEMM then col2im: the input-gradient of conv2d")
op("unfold", _F("unfold"), fixed(
    S(T(2, 3, 5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    S(T(2, 4, 4), 2),
), V)
op("fold", _F("fold"), fixed(
    S(T(2, 12, 12), (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    S(T(8, 9), (4, 4), 2, stride=1),
), V, notes="col2im; overlapping blocks are summed")
op("max_pool2d", _F("max_pool2d"), fixed(
    S(T(2, 3, 6, 6, domain="distinct"), 2),
    S(T(2, 3, 7, 6, domain="distinct"), 3, 2, 1, return_indices=True),
    S(T(1, 2, 8, 7, domain="distinct"), (3, 2), (2, 1), (1, 1), (2, 1), ceil_mode=True),
    S(T(3, 5, 5, domain="distinct"), 2, ceil_mode=True, return_indices=True),
), V, notes="the gradient goes to each window's first maximum, as torch")
op("max_pool1d", _F("max_pool1d"), fixed(
    S(T(2, 3, 9, domain="distinct"), 3, 2, 1, return_indices=True),
), V)
op("avg_pool2d", _F("avg_pool2d"), fixed(
    S(T(2, 3, 6, 6), 2),
    S(T(2, 3, 7, 6), 3, 2, 1),
    S(T(2, 3, 7, 6), 3, 2, 1, ceil_mode=True, count_include_pad=False),
    S(T(1, 2, 7, 7), (3, 2), 2, 1, ceil_mode=True),
    S(T(1, 2, 6, 5), 2, divisor_override=3),
), V)
op("avg_pool1d", _F("avg_pool1d"), fixed(S(T(2, 3, 9), 3, 2, 1, ceil_mode=True)), V)
op("adaptive_avg_pool2d", _F("adaptive_avg_pool2d"), fixed(
    S(T(2, 3, 7, 6), (3, 4)), S(T(2, 3, 5, 5), 1), S(T(3, 6, 6), (None, 4)),
), V, notes="a constant averaging matrix per spatial dim")
op("adaptive_max_pool2d", _F("adaptive_max_pool2d"), fixed(
    S(T(2, 3, 7, 6, domain="distinct"), (3, 4), True),
    S(T(2, 3, 6, 6, domain="distinct"), 2),
), V)
op("pad", _F("pad"), fixed(
    S(T(2, 3, 4), (1, 2)),
    S(T(2, 3, 4, 5), (1, -1, 2, 0), value=1.5),
    S(T(2, 3, 4, 5), (2, 1, 1, 3), mode="reflect"),
    S(T(2, 3, 4, 5), (2, 1, 1, 3), mode="replicate"),
    S(T(2, 3, 4, 5), (2, 1, 1, 3), mode="circular"),
), V)
op("interpolate", _F("interpolate"), fixed(
    S(T(2, 3, 4, 5), scale_factor=2),
    S(T(2, 3, 4, 5), size=(7, 3)),
    S(T(2, 3, 4, 5), size=(7, 3), mode="bilinear"),
    S(T(2, 3, 4, 5), scale_factor=1.5, mode="bilinear", align_corners=True),
    S(T(2, 3, 6), size=4, mode="linear"),
    S(T(2, 3, 6, 5), size=(3, 2), mode="area"),
), V, notes="nearest gathers by index; linear modes multiply by interpolation matrices")
