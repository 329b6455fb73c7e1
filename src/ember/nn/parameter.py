"""Parameter: a Tensor that a Module registers as learnable when assigned as an attribute."""
from __future__ import annotations

from ..tensor import Tensor
from ..creation import empty


class Parameter(Tensor):
    """A leaf tensor that shares ``data``'s memory and requires grad by default.

    Assigning one to a ``Module`` attribute registers it, so it shows up in
    ``parameters()`` and ``state_dict()``.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        param = cls._make(data._data)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        """Everything is set up in ``__new__`` (the legacy ``Tensor(...)`` constructor is skipped)."""

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy()), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (type(self), (self.detach(), self.requires_grad))
