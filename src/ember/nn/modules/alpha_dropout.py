"""Alpha dropout for self-normalising (SELU) networks: AlphaDropout and FeatureAlphaDropout."""
from __future__ import annotations

from ...tensor import Tensor
from .._functional.random_activations import alpha_dropout, feature_alpha_dropout
from .dropout import _DropoutNd


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: dropped units take SELU's saturation value and the output
    keeps the input's mean and variance."""

    def forward(self, input: Tensor) -> Tensor:
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels."""

    def forward(self, input: Tensor) -> Tensor:
        return feature_alpha_dropout(input, self.p, self.training)
