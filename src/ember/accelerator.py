"""``ember.accelerator``: torch's device-agnostic view of the current accelerator (CUDA here)."""
from __future__ import annotations

from . import backend, cuda

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """True when an accelerator (a GPU through CuPy) can be used."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> backend.device | None:
    """The accelerator's device type (``device('cuda')``), or None when there is none."""
    if not cuda.is_available():
        return None
    return backend.device("cuda")


def device_count() -> int:
    """How many accelerator devices there are (0 without one)."""
    return cuda.device_count()


def _require() -> None:
    if not cuda.is_available():
        raise RuntimeError(_NONE)


def current_device_index() -> int:
    """The index of the accelerator device in use."""
    _require()
    return cuda.current_device()


def set_device_index(device) -> None:
    """Make ``device`` (an index, "cuda:1" or an ember.device) the accelerator device in use."""
    _require()
    cuda.set_device(device)


current_device_idx = current_device_index
set_device_idx = set_device_index


def synchronize(device=None) -> None:
    """Wait for all work queued on the accelerator to finish."""
    _require()
    cuda.synchronize(device)


class device_index:
    """``with device_index(i):`` uses accelerator device ``i`` in the block (None: no change)."""

    def __init__(self, device: int | None) -> None:
        self.idx = device
        self.prev = None

    def __enter__(self) -> None:
        if self.idx is not None:
            self.prev = current_device_index()
            set_device_index(self.idx)

    def __exit__(self, *exc) -> None:
        if self.prev is not None:
            set_device_index(self.prev)
