"""torch's device-named mixed-precision entry points (``torch.cpu.amp.autocast``,
``torch.cuda.amp.autocast``/``custom_fwd``/``custom_bwd``): working, with torch's FutureWarning."""
from __future__ import annotations

import warnings
from typing import Callable

from .. import dtypes
from .autocast_mode import autocast, custom_bwd, custom_fwd


def _warn(old: str, new: str) -> None:
    warnings.warn(f"`{old}` is deprecated. Please use `{new}` instead.", FutureWarning, stacklevel=3)


class cpu_autocast(autocast):
    """``torch.cpu.amp.autocast``: ``ember.autocast("cpu", ...)`` under its old name."""

    def __init__(self, enabled: bool = True, dtype: dtypes.dtype | None = None,
                 cache_enabled: bool = True) -> None:
        _warn("torch.cpu.amp.autocast(args...)", "torch.amp.autocast('cpu', args...)")
        dtype = dtypes.bfloat16_dtype() if dtype is None else dtype
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class cuda_autocast(autocast):
    """``torch.cuda.amp.autocast``: ``ember.autocast("cuda", ...)`` under its old name."""

    def __init__(self, enabled: bool = True, dtype: dtypes.dtype = dtypes.float16,
                 cache_enabled: bool = True) -> None:
        _warn("torch.cuda.amp.autocast(args...)", "torch.amp.autocast('cuda', args...)")
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


def cuda_custom_fwd(fwd: Callable | None = None, *, cast_inputs: dtypes.dtype | None = None):
    """``torch.cuda.amp.custom_fwd``: ``ember.amp.custom_fwd(..., device_type="cuda")``."""
    _warn("torch.cuda.amp.custom_fwd(args...)", "torch.amp.custom_fwd(args..., device_type='cuda')")
    return custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def cuda_custom_bwd(bwd: Callable) -> Callable:
    """``torch.cuda.amp.custom_bwd``: ``ember.amp.custom_bwd(..., device_type="cuda")``."""
    _warn("torch.cuda.amp.custom_bwd(args...)", "torch.amp.custom_bwd(args..., device_type='cuda')")
    return custom_bwd(bwd, device_type="cuda")
