"""``ember.cuda``: what torch.cuda offers that Ember needs, backed by CuPy and safe without it.

Every function works on a machine without CuPy or a GPU: queries say "none", and calls
that would need a GPU raise the backend's clear error.
"""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return backend.cuda_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    if not is_available():
        return 0
    return backend.cuda_module().cuda.runtime.getDeviceCount()


def current_device() -> int:
    """The index of the GPU new CUDA tensors go to by default."""
    return backend.cuda_module().cuda.runtime.getDevice()


def set_device(device) -> None:
    """Make ``device`` (an index, "cuda:1" or an ember.device) the current GPU."""
    d = backend.as_device(device)
    backend.cuda_module().cuda.runtime.setDevice(d.index)


def synchronize(device=None) -> None:
    """Wait for all queued GPU work to finish (a no-op without a GPU), then raise any failed
    device-side check (an index out of range, say) that the work queued."""
    if not is_available():
        return
    cp = backend.cuda_module()
    if device is None:
        cp.cuda.Device().synchronize()
    else:
        cp.cuda.Device(backend.as_device(device).index).synchronize()
    backend.raise_failed_checks()


def manual_seed(seed: int) -> None:
    """Seed the random stream of CUDA tensors (Ember shares one generator across devices)."""
    from .creation import manual_seed as _seed

    _seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's random stream (one shared generator in Ember)."""
    manual_seed(seed)


def memory_allocated(device=None) -> int:
    """Bytes held by CuPy's memory pool for tensors (0 without a GPU)."""
    if not is_available():
        return 0
    return int(backend.cuda_module().get_default_memory_pool().used_bytes())
