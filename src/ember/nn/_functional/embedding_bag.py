"""torch.nn.functional.embedding_bag: sums, means or maxes of bags of embeddings, as a
composition of Ember ops: sums and means scatter-add each looked-up row into its bag; maxes
lay the rows out as (bags, longest bag, dim)."""
from __future__ import annotations

import math

from ... import backend
from ...creation import arange, full, zeros
from ...ops import elementwise as E
from ...ops import index as I
from ...ops import reduce as R
from ...ops import shape as S
from ...ops.registry import declare
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


def _check_in_range(flat: Tensor, rows: int) -> None:
    """Every index names a row of the table (torch names the offending index)."""
    low, high = R.amin(flat), R.amax(flat)

    def error() -> RuntimeError:
        bad = int(high.item()) if int(high.item()) >= rows else int(low.item())
        return RuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found "
                            f"idx to be {bad}")

    backend.require(E.logical_and(E.ge(low, 0), E.lt(high, rows))._data, error)


def _bags(input: Tensor, offsets: Tensor | None, include_last_offset: bool) -> tuple:
    """``(bag of each flattened entry, number of bags, entry's position in its bag)``: a 2-D
    input's rows, or the runs that ``offsets`` start (the last runs to the end of the input,
    even with ``include_last_offset``, as torch)."""
    count = input.numel()
    entries = arange(count, device=input.device)
    if offsets is None:
        width = input.shape[1]
        return E.floor_divide(entries, width), input.shape[0], E.remainder(entries, width)
    starts = offsets[:-1] if include_last_offset else offsets
    markers = I.scatter_add(zeros(count + 1, dtype=offsets.dtype, device=offsets.device), 0,
                            E.clamp(starts, max=count), E.const_ones(starts))
    bag_of = E.sub(R.cumsum(markers[:count], 0), 1)
    position = E.sub(entries, I.index_select(starts, 0, E.clamp(bag_of, min=0)))
    return bag_of, starts.shape[0], position


def _bag_max(rows: Tensor, keep: Tensor, bag_of: Tensor, bags: int, position: Tensor) -> Tensor:
    """Each bag's elementwise maximum: the rows laid out as (bags, longest bag, dim), the
    empty places -inf."""
    count, dim = rows.shape
    longest = int(R.amax(position).item()) + 1 if count else 1
    table = full((bags, longest), count, dtype=bag_of.dtype, device=rows.device)
    if count:
        table[bag_of, position] = arange(count, device=rows.device)
    padded = S.cat([E.where(S.unsqueeze(keep, 1), rows, -math.inf),
                    full((1, dim), -math.inf, dtype=rows.dtype, device=rows.device)])
    laid_out = S.reshape(I.index_select(padded, 0, S.reshape(table, (-1,))), (bags, longest, dim))
    return R.amax(laid_out, 1)


@declare(namespaces=("ember.nn.functional",))
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
    F._check_index_dtype(input, "embedding_bag")
    flat = S.reshape(input, (-1,))
    if flat.numel():
        _check_in_range(flat, weight.shape[0])
    if offsets is not None and offsets.numel() and not include_last_offset:
        first = int(offsets[0].item())
        if first != 0:
            raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence "
                               f"in the mini-batch has to start from position 0. However, got "
                               f"{first}")
    rows = F.embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    bag_of, bags, position = _bags(input, offsets, include_last_offset)
    keep = E.ge(bag_of, 0)
    if padding_idx is not None:
        keep = E.logical_and(keep, E.ne(flat, padding_idx % weight.shape[0]))
    kept = E.cast(keep, weight.dtype)
    count = I.scatter_add(zeros(bags, dtype=weight.dtype, device=weight.device), 0,
                          E.clamp(bag_of, min=0), kept)
    count = S.unsqueeze(count, 1)
    if mode == "max":
        return E.where(E.gt(count, 0), _bag_max(rows, keep, bag_of, bags, position), 0.0)
    scale = kept
    if per_sample_weights is not None:
        scale = E.mul(scale, S.reshape(per_sample_weights, (-1,)))
    where = S.expand(S.unsqueeze(E.clamp(bag_of, min=0), 1), tuple(rows.shape))
    total = I.scatter_add(zeros((bags, weight.shape[1]), dtype=weight.dtype, device=weight.device),
                          0, where, E.mul(rows, S.unsqueeze(scale, 1)))
    if mode == "sum":
        return total
    return E.div(total, E.clamp(count, min=1))
