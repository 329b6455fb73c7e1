"""``map_location``: where a loaded tensor goes, as torch.load's argument says (shared by both formats)."""
from __future__ import annotations

from . import backend
from .backend import device as _device


def resolve_location(map_location, saved: str) -> _device:
    """Where a tensor saved on ``saved`` goes under ``map_location`` (a device, or a dict as torch's)."""
    if map_location is None:
        return _device(saved)
    if isinstance(map_location, dict):
        return _device(map_location.get(saved, saved))
    return backend.as_device(map_location)


def to_device(array, dev: _device, where: str):
    """A loaded host array moved to ``dev``, refused as torch does when that is CUDA and none is here."""
    if dev.type != "cpu" and not backend.cuda_available():
        raise RuntimeError(
            f"ember.load: {where} holds tensors saved on {dev}, but CUDA is not available "
            "here; pass map_location='cpu' to load them onto the CPU."
        )
    with backend.device_context(dev):
        return backend.transfer(array, dev)
