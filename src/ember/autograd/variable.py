"""``Variable``: the pre-0.4 wrapper, today only a name for making a Tensor (as in torch)."""
from __future__ import annotations

import warnings


class _VariableMeta(type):
    """Every Tensor is a Variable: ``isinstance(t, Variable)`` is true, as in torch."""

    def __instancecheck__(cls, obj) -> bool:
        from ..tensor import Tensor

        return isinstance(obj, Tensor)

    def __call__(cls, data, requires_grad: bool = False, volatile: bool = False):
        """``Variable(t)``: ``t``'s values (shared) cut off from the graph, needing grad if asked."""
        from ..tensor import Tensor

        if not isinstance(data, Tensor):
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
