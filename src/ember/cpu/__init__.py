"""``ember.cpu``, as torch.cpu: what is specific to the CPU device (its deprecated ``amp``)."""
from . import amp

__all__ = ["amp"]
