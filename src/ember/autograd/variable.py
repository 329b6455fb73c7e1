"""``Variable``: the pre-0.4 wrapper, today only a name for making a Tensor (as in torch)."""
from __future__ import annotations

import warnings
from abc import ABCMeta


class _VariableMeta(ABCMeta):
    """Every Tensor is a Variable (tensor.py registers Tensor): ``isinstance(t, Variable)``, as torch."""

    def __call__(cls, data, requires_grad: bool = False, volatile: bool = False):
        """``Variable(t)``: ``t``'s values (shared) cut off from the graph, needing grad if asked."""
        if not isinstance(data, cls):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


class Variable(metaclass=_VariableMeta):
    """Legacy name: ``Variable(tensor, requires_grad=False)`` returns a Tensor."""
