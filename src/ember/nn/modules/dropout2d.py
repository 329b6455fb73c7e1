"""Channel dropout layers: Dropout1d/2d/3d zero whole feature maps while training."""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class _FeatureDropout(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_FeatureDropout):
    """Zero each channel of (N, C, L) with probability ``p`` in training."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_FeatureDropout):
    """Zero each channel of (N, C, H, W) with probability ``p`` in training; identity in eval."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_FeatureDropout):
    """Zero each channel of (N, C, D, H, W) with probability ``p`` in training."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)
