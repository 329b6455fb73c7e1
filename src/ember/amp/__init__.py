"""ember.amp, as torch.amp: gradient scaling for mixed-precision training."""
from .grad_scaler import GradScaler

__all__ = ["GradScaler"]
