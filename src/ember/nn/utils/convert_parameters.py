"""A model's parameters as one flat vector and back (torch.nn.utils.convert_parameters), e.g.
for second-order or evolutionary optimisers that work on a single vector."""
from __future__ import annotations

from typing import Iterable

from ...ops import shape as S
from ...tensor import Tensor


def _same_device(param: Tensor, device):
    """The parameters' common device; a parameter elsewhere is an error."""
    if device is not None and param.device != device:
        raise TypeError(f"Found two parameters on different devices, this is currently not "
                        f"supported (got {device} and {param.device}).")
    return param.device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the flattened parameters into one vector (differentiable)."""
    device = None
    pieces = []
    for param in parameters:
        device = _same_device(param, device)
        pieces.append(S.reshape(param, (-1,)))
    return S.cat(pieces)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters' data, each reshaped to fit."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {type(vec).__name__}")
    device = None
    start = 0
    for param in parameters:
        device = _same_device(param, device)
        count = param.numel()
        param.data = S.reshape(vec[start:start + count], tuple(param.shape)).data
        start += count
