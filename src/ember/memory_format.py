"""Memory formats (``torch.channels_last`` and friends): the order of a tensor's elements in memory.

A channels-last tensor keeps its logical shape ``(N, C, H, W)`` with strides that step through
channels fastest, exactly as torch lays it out, so ``stride()`` and ``is_contiguous`` report
what torch reports; every op reads strided arrays, so nothing else changes.
"""
from __future__ import annotations


class memory_format:
    """A memory layout a tensor can be asked for (``.to(memory_format=...)``, ``.contiguous``)."""

    __slots__ = ("name", "order")

    def __init__(self, name: str, order: tuple | None) -> None:
        self.name = name
        self.order = order  # dims from slowest to fastest in memory (4-d or 5-d), None: C order

    def __repr__(self) -> str:
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format", None)
preserve_format = memory_format("preserve_format", None)
channels_last = memory_format("channels_last", (0, 2, 3, 1))
channels_last_3d = memory_format("channels_last_3d", (0, 2, 3, 4, 1))


def check_rank(x, fmt: memory_format) -> None:
    """Refuse a layout for a tensor of another rank (channels_last needs 4-d), as torch does."""
    if fmt.order is not None and x.ndim != len(fmt.order):
        raise RuntimeError(f"required rank {len(fmt.order)} tensor to use {fmt.name} format")


def is_contiguous_as(x, fmt: memory_format = contiguous_format) -> bool:
    """True when ``x``'s elements lie densely in ``fmt``'s order (size-1 dims may stride anyhow)."""
    if fmt.order is None or fmt is preserve_format:
        return bool(x._data.flags.c_contiguous)
    if x.ndim != len(fmt.order):
        return False
    expected = 1
    for d in reversed(fmt.order):
        n = x.shape[d]
        if n != 1 and x.stride(d) != expected:
            return False
        expected *= n
    return True
