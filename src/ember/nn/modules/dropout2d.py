"""Channel dropout layers: Dropout1d/2d/3d zero whole feature maps while training."""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .dropout import _DropoutNd


class Dropout1d(_DropoutNd):
    """Zero each channel of (N, C, L) with probability ``p`` in training."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero each channel of (N, C, H, W) with probability ``p`` in training; identity in eval."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero each channel of (N, C, D, H, W) with probability ``p`` in training."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)
