"""``ember.autocast``, as torch.amp.autocast: regions where listed ops run in lower precision.

The cast lists and the switch the ops read live in ``ops/precision.py`` (the op dispatch); this
module is the user's side: the context manager and decorator, and ``custom_fwd``/``custom_bwd``
for custom autograd Functions.
"""
from __future__ import annotations

import collections.abc
import functools
import warnings
from typing import Any, Callable

from .. import cuda, dtypes
from ..ops import precision
from ..ops.precision import (get_autocast_dtype, is_autocast_available, is_autocast_cache_enabled,
                             is_autocast_enabled, set_autocast_cache_enabled, set_autocast_dtype,
                             set_autocast_enabled)
from ..tensor import Tensor

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]


def _check_device_type(device_type) -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    return device_type


class autocast:
    """Run the ops of a region (``with``) or a function (decorator) in mixed precision.

    Args:
        device_type: "cpu" or "cuda": the device whose tensors are cast.
        dtype: the lower precision (default: bfloat16 on the CPU, float16 on CUDA).
        enabled: False makes the region run as written (nested inside an autocast region too).
        cache_enabled: keep the casts of weights for reuse inside the region (default: the
            global setting).
    """

    def __init__(self, device_type: str, dtype: dtypes.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        self.device = _check_device_type(device_type)
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled and device_type == "cuda" and not cuda.is_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          stacklevel=2)
            enabled = False
        elif enabled and self.fast_dtype not in _supported_dtypes():
            name = device_type.upper()
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling "
                          f"autocast.\n{name} Autocast only supports dtypes of "
                          + ", ".join(map(str, _supported_dtypes())) + " currently.", stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self) -> "autocast":
        state = precision.AUTOCAST
        # the raw dtype (None: the CPU's bfloat16 not made yet), so float16 autocast on the CPU
        # works without ml_dtypes
        self.prev_cache_enabled, self.prev_fastdtype = state.cache_enabled, state.dtype[self.device]
        self.prev = is_autocast_enabled(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        state.nesting += 1
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        state = precision.AUTOCAST
        state.nesting -= 1
        if state.nesting == 0:
            state.cache.clear()
        set_autocast_enabled(self.device, self.prev)
        state.dtype[self.device] = self.prev_fastdtype
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you mean "
                "to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n"
                "        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


def _supported_dtypes() -> list:
    """The lower precisions autocast runs in (bfloat16 only where ml_dtypes is installed)."""
    try:
        return [dtypes.bfloat16_dtype(), dtypes.float16]
    except ImportError:
        return [dtypes.float16]


def _cast(value, device_type: str, dtype: dtypes.dtype):
    """``value`` with its eligible tensors (floating, not float64, on ``device_type``) cast to
    ``dtype``, through lists, tuples and dicts, as torch's custom_fwd casts its arguments."""
    if isinstance(value, Tensor):
        eligible = (value.is_floating_point() and value.device.type == device_type
                    and value.dtype is not dtypes.float64)
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd: Callable | None = None, *, device_type: str,
               cast_inputs: dtypes.dtype | None = None) -> Callable:
    """Decorate a custom Function's ``forward``: under autocast, with ``cast_inputs`` its floating
    tensors are cast to that dtype and it runs with autocast off; the state is kept for backward."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs),
                       **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """Decorate a custom Function's ``backward``: it runs with the autocast state of its forward."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
