"""Channel-wise dropout: zero whole feature maps (dropout1d/2d/3d), scaling the rest by 1/(1-p)."""
from __future__ import annotations

from ..creation import rand
from ..ops import elementwise as E
from ..ops.registry import declare
from ..tensor import Tensor


def feature_dropout(op: str, dims: int, input: Tensor, p: float = 0.5, training: bool = True,
                    inplace: bool = False) -> Tensor:
    """Drop each channel of each sample with probability ``p`` (one draw per (N, C) pair)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if input._data.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input, "
                           f"got input of shape {list(input.shape)}")
    if not training or p == 0.0:
        return input
    channels = input._data.ndim - dims
    shape = tuple(input._data.shape[:channels]) + (1,) * dims
    keep = E.lt(rand(shape, dtype=input.dtype, device=input.device), 1.0 - p)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = E.mul(E.cast(keep, input.dtype), scale)
    return input.mul_(mask) if inplace else E.mul(input, mask)


@declare(namespaces=("ember.nn.functional",))
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) inputs."""
    return feature_dropout("dropout1d", 1, input, p, training, inplace)


@declare(namespaces=("ember.nn.functional",))
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs (spatially correlated features drop together)."""
    return feature_dropout("dropout2d", 2, input, p, training, inplace)


@declare(namespaces=("ember.nn.functional",))
def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) inputs."""
    return feature_dropout("dropout3d", 3, input, p, training, inplace)
