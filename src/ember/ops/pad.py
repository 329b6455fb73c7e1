"""Padding: constant, reflect, replicate and circular, over any number of trailing dims.

Constant padding places the input inside a constant array (``index_add_into``, whose
derivative is a slice); the other modes gather each padded dim with an index array
(``getitem``), so every mode is differentiable to any order.
"""
from __future__ import annotations

from ..arguments import ints_arg
from ..tensor import Tensor
from ..autograd.engine import torch_backward
from . import elementwise as E
from . import index as I
from .registry import declare
from .tensor_args import NotATensorError

MODES = ("constant", "reflect", "replicate", "circular")


def _pairs(op: str, x: Tensor, pad) -> list[tuple[int, int, int]]:
    """(axis, before, after) for each padded dim; ``pad`` lists pairs from the last dim backwards."""
    pad = ints_arg(pad, op, "pad")
    if len(pad) % 2:
        raise ValueError(f"{op}: padding length must be divisible by 2, got {len(pad)}")
    if len(pad) // 2 > x._data.ndim:
        raise ValueError(f"{op}: padding length ({len(pad)}) is too large for an input with "
                         f"{x._data.ndim} dimensions (shape {list(x.shape)})")
    n = x._data.ndim
    return [(n - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]


def _source_index(xp, mode: str, size: int, before: int, after: int):
    """For each output position along a dim, the input position it copies."""
    j = xp.arange(-before, size + after)
    if mode == "replicate":
        return xp.clip(j, 0, size - 1)
    if mode == "circular":
        return j % size
    j = xp.abs(j)
    return xp.where(j >= size, 2 * (size - 1) - j, j)


def _check_mode(op: str, mode: str, x: Tensor, axis: int, before: int, after: int) -> None:
    size = x._data.shape[axis]
    if mode == "reflect" and (before >= size or after >= size):
        raise RuntimeError(
            f"{op}: padding size should be less than the corresponding input dimension, but got "
            f"padding ({before}, {after}) at dimension {axis} of input {list(x.shape)} (mode 'reflect')"
        )
    if mode == "circular" and (before > size or after > size):
        raise RuntimeError(
            f"{op}: padding ({before}, {after}) at dimension {axis} is larger than the input "
            f"dimension {size} (mode 'circular', input {list(x.shape)})"
        )
    if mode == "replicate" and size == 0:
        raise RuntimeError(f"{op}: cannot replicate an empty dimension {axis} of {list(x.shape)}")


def _constant(x: Tensor, pairs, value) -> Tensor:
    for axis, before, after in pairs:  # negative padding crops first
        size = x._data.shape[axis]
        if size + before + after < 0:
            raise RuntimeError(
                f"pad: the input size {size}, plus negative padding {before} and {after} resulted "
                f"in a negative output size, which is invalid. Check dimension {axis} of your "
                f"input (shape {list(x.shape)}).")
        start = max(-before, 0)
        stop = size - max(-after, 0)
        if start or stop != x._data.shape[axis]:
            x = I.narrow(x, axis, start, stop - start)
    shape = list(x._data.shape)
    idx = [slice(None)] * len(shape)
    for axis, before, after in pairs:
        b, a = max(before, 0), max(after, 0)
        idx[axis] = slice(b, b + shape[axis])
        shape[axis] += b + a
    if tuple(shape) == x._data.shape:
        return x
    out = I.index_add_into(x, tuple(shape), tuple(idx))
    if value:
        border = x.xp.full(tuple(shape), value, dtype=x._data.dtype)
        border[tuple(idx)] = 0
        out = E.add(out, Tensor._make(border))
    return out


@declare(namespaces=("ember.nn.functional",))
@torch_backward(lambda input, pad, mode="constant", value=None:
                "ConstantPadNdBackward0" if mode == "constant" else None)
def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad trailing dims: ``pad=(left, right, top, bottom, ...)`` starts at the last dim.

    Negative constant padding crops. ``value`` fills constant padding (0 by default).
    """
    if not isinstance(input, Tensor):
        raise NotATensorError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode not in MODES:
        raise NotImplementedError(f"pad: unsupported padding mode {mode!r}; use one of {MODES}")
    pairs = _pairs("pad", input, pad)
    if mode == "constant":
        return _constant(input, pairs, 0 if value is None else value)
    if value:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    x = input
    for axis, before, after in pairs:
        if before == 0 and after == 0:
            continue
        _check_mode("pad", mode, x, axis, before, after)
        src = _source_index(x.xp, mode, x._data.shape[axis], before, after)
        x = I.getitem(x, (slice(None),) * axis + (Tensor._make(src),))
    return x
