"""``ember.cpu.amp``, as torch.cpu.amp: the deprecated CPU-named autocast."""
from ..amp.deprecated import cpu_autocast as autocast

__all__ = ["autocast"]
