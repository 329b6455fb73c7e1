"""Parameter and Buffer: Tensors that a Module registers (as learnable, or as state) when
assigned as attributes; the uninitialised kinds that lazy modules fill on first use."""
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


class Buffer(Tensor):
    """A tensor that a Module registers as a buffer when assigned as an attribute
    (``self.mean = nn.Buffer(t)``), saved in ``state_dict`` unless ``persistent=False``."""

    __slots__ = ("persistent",)

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> "Buffer":
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer(): data must be a Tensor, not {type(data).__name__}")
        buf = cls._make(data._data, requires_grad=data.requires_grad)
        buf.persistent = persistent
        return buf

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        """Everything is set up in ``__new__``."""


class _Uninitialized:
    """What the uninitialised kinds share: ``materialize`` gives the tensor a shape and its
    final class (``cls_to_become``)."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate the (uninitialised) values with ``shape``; the tensor takes its final class."""
        self.data = empty(tuple(shape), device=device if device is not None else self.device,
                          dtype=dtype if dtype is not None else self.dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo: dict):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter of a lazy module whose shape is not known yet; ``materialize`` gives it
    one and turns it into a plain Parameter."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None) -> "UninitializedParameter":
        return super().__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        """Everything is set up in ``__new__``."""


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer of a lazy module whose shape is not known yet (see UninitializedParameter)."""

    __slots__ = ()

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None) -> "UninitializedBuffer":
        return cls._make(empty(0, device=device, dtype=dtype)._data, requires_grad=requires_grad)

    def __init__(self, requires_grad: bool = False, device=None, dtype=None) -> None:
        """Everything is set up in ``__new__``."""


def is_lazy(param: Tensor) -> bool:
    """Whether ``param`` is still waiting for its shape (torch.nn.parameter.is_lazy)."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
