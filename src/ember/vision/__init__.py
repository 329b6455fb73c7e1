"""Vision helpers (as torchvision): image ``transforms`` and folder ``datasets``."""
from . import datasets, transforms

__all__ = ["datasets", "transforms"]
