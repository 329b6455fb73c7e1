"""``ember.cuda.amp``, as torch.cuda.amp: the deprecated CUDA-named autocast and decorators."""
from .deprecated import cuda_autocast as autocast, cuda_custom_bwd as custom_bwd
from .deprecated import cuda_custom_fwd as custom_fwd
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]
