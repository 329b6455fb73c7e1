"""``torch.backends.mps``: Ember has no Apple-GPU (MPS) device."""


def is_available() -> bool:
    """False: Ember runs on the CPU and on NVIDIA GPUs only."""
    return False


def is_built() -> bool:
    """False: no MPS support is built in."""
    return False
