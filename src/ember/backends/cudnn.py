"""``torch.backends.cudnn``: Ember does not call cuDNN, so these switches change nothing."""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    """False: Ember's convolutions are matrix products, not cuDNN calls."""
    return False


def version() -> None:
    """None: no cuDNN is loaded."""
    return None
