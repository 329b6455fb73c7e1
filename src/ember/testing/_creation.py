"""``make_tensor``: a random tensor of a given shape and dtype for tests, with torch's value ranges."""
from __future__ import annotations

import math
import warnings

from .. import dtypes
from ..creation import rand, randint
from ..ops.shape import stack
from ..tensor import Tensor

_FLOAT_RANGE = (-9.0, 9.0)
_INT_RANGE = {"uint8": (0, 10)}


def make_tensor(*shape, dtype, device, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """Random values in ``[low, high)`` (floats: -9..9 by default; ints: -9..9; bools: either).

    Args:
        shape: the sizes, as ints or one sequence.
        dtype: the dtype (required, as torch).
        device: where it lives (required, as torch).
        low, high: the value range (clamped to the dtype's range; ints: ``high`` excluded).
        requires_grad: make it a leaf that needs grad (floating dtypes).
        noncontiguous: lay the values out with gaps (every other element of a bigger tensor).
        exclude_zero: replace zeros by the smallest positive step of the dtype.
        memory_format: lay it out in this format (``channels_last``).
    """
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    d = dtypes.to_dtype(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
                         f"but got noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and not d.is_floating_point:
        raise ValueError("make_tensor: requires_grad=True is not supported for integral or bool dtypes")
    if d == dtypes.bool_:
        _range(low, high, (0, 2), dtypes.int64)
        out = randint(0, 2, shape, device=device).to(d)
    elif d.is_floating_point:
        lo, hi = _range(low, high, _FLOAT_RANGE, d)
        out = (rand(*shape, dtype=d, device=device) * (hi - lo) + lo)
    else:
        lo, hi = _range(low, high, _INT_RANGE.get(d.name, (-9, 10)), d)
        out = randint(math.ceil(lo), math.ceil(hi) if high is not None else int(hi), shape,
                      dtype=d, device=device)
    if exclude_zero:
        tiny = dtypes.finfo(d).tiny if d.is_floating_point else 1
        out = out.masked_fill(out == 0, tiny)
    if noncontiguous and out.numel() > 1:
        out = stack([out, out], -1).flatten(-2)[..., ::2]
    elif memory_format is not None:
        out = out.contiguous(memory_format=memory_format)
    if requires_grad:
        out = out.detach().requires_grad_(True)
    return out


def _range(low, high, default: tuple, d) -> tuple:
    """The requested range with defaults filled in, checked and clamped to the dtype's limits."""
    lo = default[0] if low is None else low
    hi = default[1] if high is None else high
    for name, v in (("low", lo), ("high", hi)):
        if isinstance(v, float) and math.isnan(v):
            raise ValueError(f"`{name}` and `high` cannot be NaN, but got {name}={v}"
                             if name == "low" else f"`low` and `{name}` cannot be NaN, but got {name}={v}")
    if lo > hi or (lo == hi and not d.is_floating_point):
        raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
    if lo == hi:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex "
                      "types is deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` "
                      "instead.", FutureWarning, stacklevel=3)
    info = dtypes.finfo(d) if d.is_floating_point else dtypes.iinfo(d)
    return max(lo, info.min), min(hi, info.max)
