"""torch.nn.functional.channel_shuffle: a reshape, a transpose and a reshape."""
from __future__ import annotations

from ...ops import shape as S
from ...ops.registry import declare
from ...tensor import Tensor


@declare(namespaces=("ember", "ember.nn.functional"))
def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups (ShuffleNet): channel ``g * k + i`` moves
    to ``i * groups + g``."""
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    n, c = input.shape[:2]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and "
                           f"{groups} groups.")
    rest = tuple(input.shape[2:])
    grouped = S.reshape(input, (n, groups, c // groups) + rest)
    return S.reshape(S.transpose(grouped, 1, 2), (n, c) + rest)
