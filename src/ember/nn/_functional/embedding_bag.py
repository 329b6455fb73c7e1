"""torch.nn.functional.embedding_bag: sums, means or maxes of bags of embeddings, without
building the (bags, length, dim) lookup first for sums and means (one product with a bag
membership matrix), as a composition of Ember ops."""
from __future__ import annotations

import math

from ...creation import arange, full
from ...ops import elementwise as E
from ...ops import linalg as L
from ...ops import reduce as R
from ...ops import shape as S
from ...tensor import Tensor
from .. import functional as F


def _check_args(input: Tensor, weight: Tensor, offsets: Tensor | None, mode: str,
                per_sample_weights: Tensor | None, scale_grad_by_freq: bool, sparse: bool) -> None:
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets).__name__}")
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on GitHub.")


def _membership(input: Tensor, offsets: Tensor | None, include_last_offset: bool) -> Tensor:
    """A (bags, entries) boolean matrix: which flattened input entries each bag holds."""
    count = input.numel()
    entries = S.unsqueeze(arange(count, device=input.device), 0)
    if offsets is None:
        bag_of = E.floor_divide(entries, input.shape[1])
        return E.eq(bag_of, S.unsqueeze(arange(input.shape[0], device=input.device), 1))
    if include_last_offset:
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts = offsets
        ends = S.cat([offsets[1:], full((1,), count, dtype=offsets.dtype, device=offsets.device)])
    return E.logical_and(E.ge(entries, S.unsqueeze(starts, 1)), E.lt(entries, S.unsqueeze(ends, 1)))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """One vector per bag: the sum, mean or max of the embeddings of its indices.

    A 2-D ``input`` holds one bag per row; a 1-D ``input`` is cut into bags at ``offsets``.
    Entries equal to ``padding_idx`` are left out; empty bags give zeros.
    """
    _check_args(input, weight, offsets, mode, per_sample_weights, scale_grad_by_freq, sparse)
    flat = S.reshape(input, (-1,))
    if offsets is not None and offsets.numel() and not include_last_offset:
        first = int(offsets[0].item())
        if first != 0:
            raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence "
                               f"in the mini-batch has to start from position 0. However, got "
                               f"{first}")
    rows = F.embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    member = _membership(input, offsets, include_last_offset)
    if padding_idx is not None:
        padding_idx %= weight.shape[0]
        member = E.logical_and(member, S.unsqueeze(E.ne(flat, padding_idx), 0))
    if mode == "max":
        picked = E.where(S.unsqueeze(member, -1), S.unsqueeze(rows, 0), -math.inf)
        best = R.amax(picked, 1) if flat.numel() else \
            S.expand(S.unsqueeze(R.sum(rows, 0), 0), (member.shape[0], weight.shape[1]))
        filled = S.unsqueeze(R.sum(member, 1), -1)
        return E.where(E.gt(filled, 0), best, 0.0)
    weights = E.cast(member, weight.dtype)
    if per_sample_weights is not None:
        weights = E.mul(weights, S.unsqueeze(S.reshape(per_sample_weights, (-1,)), 0))
    total = L.matmul(weights, rows)
    if mode == "sum":
        return total
    count = E.clamp(R.sum(E.cast(member, weight.dtype), 1, keepdim=True), min=1)
    return E.div(total, count)

