"""``torch.backends.cuda``: whether Ember can use CUDA (CuPy imports), and the TF32 switch."""
from types import SimpleNamespace

from .. import backend

matmul = SimpleNamespace(allow_tf32=False)  # CuPy computes float32 products in float32


def is_built() -> bool:
    """True when CuPy imports (the GPU itself may still be missing: see ember.cuda.is_available)."""
    return backend.cuda_module_importable()
