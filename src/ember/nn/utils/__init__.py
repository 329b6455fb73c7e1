"""Training utilities, as torch.nn.utils: gradient clipping."""
from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

# ---- variable-length sequences (torch.nn.utils.rnn)
from . import rnn  # noqa: E402,F401
