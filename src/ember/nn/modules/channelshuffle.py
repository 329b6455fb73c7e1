"""ChannelShuffle: interleave channel groups (ShuffleNet), so grouped convolutions mix."""
from __future__ import annotations

from ...tensor import Tensor
from .._functional.channel_shuffle import channel_shuffle
from ..module import Module


class ChannelShuffle(Module):
    """Split the channels into ``groups`` groups and interleave them."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
