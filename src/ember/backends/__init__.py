"""``ember.backends``: the switches of ``torch.backends`` that PyTorch scripts set or ask about.

Ember runs convolutions as matrix products (NumPy's BLAS, or cuBLAS through CuPy), not through
cuDNN, and has no MPS device: the answers below say so, and the cuDNN switches, which tune a
library Ember does not call, are kept but change nothing.
"""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
