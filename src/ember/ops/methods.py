"""The Tensor's operators and methods, each forwarding to its op in ``ember.ops``.

One table, so that ``x + y``, ``x.add(y)`` and ``ember.add(x, y)`` are the same code.
"""
from __future__ import annotations

from numbers import Number

from .. import backend, dtypes
from ..autograd.forward_ad import LEVELS
from ..autograd.grad_mode import STATE
from ..autograd.engine import torch_backward
from ..tensor import Tensor
from . import elementwise as E
from . import index as I
from . import linalg as L
from . import random as RA
from . import fill_diagonal, resize
from . import shape as S
from .registry import apply, declare, derive, primitive
from .. import creation as C


def _reflect(fn):
    def r(self, other):
        return fn(other, self)

    return r


def _pos(self) -> Tensor:
    """``+t``: the tensor itself; refused for bool, as torch."""
    if self._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return self


def _invert(self) -> Tensor:
    """``~t``: bitwise not, refused for floating tensors with torch's TypeError."""
    if self._data.dtype.kind in dtypes.FLOAT_KINDS:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return E.bitwise_not(self)


def _rdiv(self, other) -> Tensor:
    """``other / self`` as torch computes it: ``self.reciprocal() * other``."""
    return E.mul(E.reciprocal(self), other)


_BINARY_OPERATORS = (
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
    "__matmul__", "__rmatmul__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
    "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__",
)


def _operator(method):
    """A Python operator as torch's: arrays become tensors; other non-numbers give NotImplemented.

    So ``t + "a"`` raises Python's own TypeError and ``t == None`` is False, as in torch.
    """

    def op(self, other):
        if isinstance(other, Tensor):
            return method(self, other)
        if backend.is_array(other):
            other = C.as_tensor(other)
        elif not isinstance(other, (Tensor, Number)) or isinstance(other, complex):
            return NotImplemented
        return method(self, other)

    op.__name__ = getattr(method, "__name__", "operator")
    return op


def _arith_inplace(fn, name: str, ufunc: str):
    """``add_``/``sub_``/``mul_``/``div_``: when nothing is recorded (an optimiser's update under
    ``no_grad``) and the operand already has ``self``'s dtype, the array module's ufunc writes
    straight into ``self``'s memory: one pass, no temporary, the same values as the general path."""
    slow = _inplace(fn, name)

    def method(self, other, **kwargs):
        operand = _direct_operand(self, other, kwargs)
        if operand is None:
            return slow(self, other, **kwargs)
        self._check_inplace(name, (other,))
        getattr(self.xp, ufunc)(self._data, operand, out=self._data)
        return self._set_result(Tensor._make(self._data))

    method.__name__ = name
    method.__doc__ = slow.__doc__
    method.__wrapped__ = fn
    return method


def _direct_operand(self, other, kwargs: dict):
    """``other`` (times ``alpha``) as an array or scalar of ``self``'s dtype, or None when the
    general path is needed (recording, promotion, broadcasting, other devices, other options)."""
    data = self._data
    if data.dtype.kind != "f" or (kwargs and set(kwargs) != {"alpha"}) or LEVELS.active \
            or self._batched:
        return None
    alpha = kwargs.get("alpha", 1)
    if isinstance(other, Tensor):
        if STATE.enabled and (self.requires_grad or other.requires_grad) or other._batched:
            return None
        arr = other._data
        if arr.dtype != data.dtype or type(arr) is not type(data) or arr.shape != data.shape \
                or backend.device_of(arr) != backend.device_of(data):
            return None
        return arr if alpha == 1 else arr * data.dtype.type(alpha)
    if isinstance(other, (int, float)) and not isinstance(other, bool) and isinstance(alpha, (int, float)):
        if STATE.enabled and self.requires_grad:
            return None
        return data.dtype.type(other * alpha if alpha != 1 else other)
    return None


def _inplace(fn, name: str, check=None):
    """An in-place method: compute out of place, then write into ``self`` (same memory).

    ``check(self, *args, **kwargs)`` refuses what only the in-place form refuses."""

    def method(self, *args, **kwargs):
        self._check_inplace(name, (*args, *kwargs.values()))
        if check is not None:
            check(self, *args, **kwargs)
        old = self._snapshot()
        result = fn(old, *args, **kwargs)
        if result._data.dtype != self._data.dtype:
            if result.dtype._kind > self.dtype._kind:  # float into int, int into bool
                raise RuntimeError(
                    f"{name}: result type {dtypes.scalar_name(result.dtype)} can't be cast to the "
                    f"desired output type {dtypes.scalar_name(self.dtype)}"
                )
            result = E.cast(result, self.dtype)
        if STATE.enabled and old.requires_grad and not result.requires_grad:
            # a result with no derivative (x.eq_(y)): the history goes on with a zero gradient
            result = E.where(C.zeros_like(result, dtype=dtypes.bool_), old, result)
        return self._set_result(result)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: changes this tensor's values, keeping its memory."
    method.__wrapped__ = fn  # its parameters, for help() and the generated stub
    return method


def _inplace_view(fn, name: str):
    """An in-place view method (``t_``, ``squeeze_``): ``self`` takes the view's shape and
    strides over the same memory and, under autograd, the view's history, as torch's."""

    def method(self, *args, **kwargs):
        self._check_inplace(name)
        alias = Tensor._make(self._data, self._requires_grad, self.grad_fn)  # the rule's input
        alias._vc, alias._view = self._shared_version(), self._view
        result = fn(alias, *args, **kwargs)
        self._data = result._data
        if result.grad_fn is not None:
            self.grad_fn = result.grad_fn
        if self._view is not None:  # still a view of the same base, through one more op
            self._view = result._view
        self._bump_version()
        return self

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: this tensor becomes the view, same memory."
    method.__wrapped__ = fn
    return method


def _type(self, dtype=None, non_blocking: bool = False, **kwargs):
    """No argument: the legacy type name ('ember.FloatTensor'); a dtype or such a name: a cast."""
    if dtype is None:
        return dtypes.tensor_type_name(self.dtype, self.device.type == "cuda")
    dtype = getattr(dtype, "_type_name", dtype)  # a legacy type: ember.FloatTensor
    if isinstance(dtype, str):
        target = dtypes.from_tensor_type_name(dtype)
        out = E.cast(self, target) if target != self.dtype else self
        return _to(out, "cuda") if ".cuda." in dtype else out
    target = dtypes.to_dtype(dtype)
    return E.cast(self, target) if target != self.dtype else self


def _to(self, *args, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)``: a converted tensor."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False)
    memory_format = kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, dtypes.dtype) or a in (float, int, bool):  # torch takes Python's types
            dtype = a
        elif isinstance(a, (str, backend.device, int)):
            device = a
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    out = self
    if device is not None:
        out = to_device(out, backend.as_device(device))
    if dtype is not None:
        out = E.cast(out, dtypes.to_dtype(dtype))
    if memory_format is not None:
        out = S.to_format(out, memory_format)
    if copy and out is self:
        out = clone(self)
    return out


def to_device(x: Tensor, device) -> Tensor:
    """A copy of ``x`` on ``device`` (the same tensor when already there); differentiable."""
    if x.device == device:
        return x
    return _move(x, device)


def _move(x: Tensor, device) -> Tensor:
    return apply(_MOVE, x, device=device)


_MOVE = primitive(
    "to_device",
    lambda xp, x, device: backend.transfer(x, device),
    lambda g, out, x, device: (to_device(g, x.device),), jvp="linear", reads_inputs=False,
    formula="moving values keeps gradients", batch="elementwise",
)

@declare(forward=lambda xp, x: x.copy(), rule=lambda g, out, x: (g,), jvp="linear", reads_inputs=False,
         formula="a copy: the gradient passes through", method=True, sympy=lambda sp, a: a,
         batch="elementwise")
def clone(x: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own memory that stays in the graph (laid out in ``memory_format`` if given)."""
    out = apply(clone.primitive, x)
    return out if memory_format is None else S.to_format(out, memory_format, "clone")


def _type_as(self, other: Tensor) -> Tensor:
    return E.cast(self, other.dtype)


def _cast_method(d):
    def m(self, *args, **kwargs):
        return E.cast(self, d)

    return m


def _bfloat16(self, *args, **kwargs) -> Tensor:
    """``self`` as bfloat16 (the dtype is made from ml_dtypes on first use)."""
    return E.cast(self, dtypes.bfloat16_dtype())


def _overwrite(self, value: Tensor) -> Tensor:
    """Replace ``self``'s values by ``value`` (broadcast, cast) in place, recorded for autograd.

    Written as ``where(True, value, old)`` so the gradient reaches ``value`` and the old
    values get zero, as torch's fill_/copy_.
    """
    everywhere = Tensor._make(self.xp.ones(self._data.shape, dtype=bool))
    return self._set_result(E.where(everywhere, E.cast(value, self.dtype), self._snapshot()))


def _fill_(self, value) -> Tensor:
    self._check_inplace("fill_")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} "
            "dimensions."
        )
    value_grad = isinstance(value, Tensor) and value.requires_grad
    dtypes.checked_scalar("fill_", value, self.dtype)
    if STATE.enabled and (self.requires_grad or value_grad) or LEVELS.active \
            or self._batched:
        return _overwrite(self, E.as_tensor_like(value, self, self.dtype))
    if isinstance(value, Tensor):  # copied on the device: no read of the value by the host
        self._data[...] = backend.transfer(value._data, self.device)
    else:
        self._data.fill(value)
    self._version += 1
    return self


def _zero_(self) -> Tensor:
    return _fill_(self, 0)


def _copy_(self, src: Tensor, non_blocking: bool = False) -> Tensor:
    self._check_inplace("copy_", (src,))
    src = src if isinstance(src, Tensor) else E.as_tensor_like(src, self, self.dtype)
    src = to_device(src, self.device)
    if src._data.shape != self._data.shape \
            and E.broadcast_shape("copy_", self._data.shape, src._data.shape) != self._data.shape:
        raise RuntimeError(f"copy_: output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(src._data.shape)}")
    if STATE.enabled and (src.requires_grad or self.requires_grad) or LEVELS.active \
            or self._batched:
        return _overwrite(self, src)
    self.xp.copyto(self._data, self.xp.broadcast_to(src._data, self._data.shape), casting="unsafe")
    self._version += 1
    return self


def _getitem(self, idx):
    return I.getitem(self, idx)


def _setitem(self, idx, value):
    I.setitem(self, idx, value)


def _size_method_view(self, *shape):
    return S.view(self, *shape)


def _T(self) -> Tensor:
    return S.permute(self, tuple(reversed(range(self._data.ndim))))


def _mT(self) -> Tensor:
    return S.transpose(self, -2, -1)


def _new(fn):
    def m(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype if dtype is not None else self.dtype,
                  device=device if device is not None else self.device, requires_grad=requires_grad, **kw)

    return m


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return C.tensor(data, dtype=dtype if dtype is not None else self.dtype,
                    device=device if device is not None else self.device, requires_grad=requires_grad)


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return C.full(size, fill_value, dtype=dtype if dtype is not None else self.dtype,
                  device=device if device is not None else self.device, requires_grad=requires_grad)


def _install() -> None:
    table = {
        # torch computes ``n + t`` and ``n * t`` as ``add(t, n)`` and ``mul(t, n)``: the tensor's
        # producer comes first in ``grad_fn.next_functions``, as the tutorials walk it
        "__add__": E.add, "__radd__": E.add,
        "__sub__": E.sub, "__rsub__": torch_backward("RsubBackward1")(_reflect(E.sub)),
        "__mul__": E.mul, "__rmul__": E.mul,
        "__truediv__": E.div, "__rtruediv__": _rdiv,
        "__floordiv__": E.floor_divide, "__rfloordiv__": _reflect(E.floor_divide),
        "__mod__": E.remainder, "__rmod__": _reflect(E.remainder),
        "__pow__": E._pow, "__rpow__": _reflect(E.pow),
        "__matmul__": L.matmul, "__rmatmul__": _reflect(L.matmul),
        "__neg__": E.neg, "__pos__": _pos, "__abs__": E.abs,
        "__eq__": E.eq, "__ne__": E.ne, "__lt__": E.lt, "__le__": E.le, "__gt__": E.gt, "__ge__": E.ge,
        "__and__": E.bitwise_and, "__or__": E.bitwise_or, "__xor__": E.bitwise_xor,
        "__rand__": _reflect(E.bitwise_and), "__ror__": _reflect(E.bitwise_or),
        "__rxor__": _reflect(E.bitwise_xor), "__invert__": _invert,
        "__getitem__": _getitem, "__setitem__": _setitem,
        "__iadd__": _arith_inplace(E.add, "add_", "add"),
        "__isub__": _arith_inplace(E.sub, "sub_", "subtract"),
        "__imul__": _arith_inplace(E.mul, "mul_", "multiply"),
        "__itruediv__": _arith_inplace(E.div, "div_", "true_divide"),
        "add_": _arith_inplace(E.add, "add_", "add"), "sub_": _arith_inplace(E.sub, "sub_", "subtract"),
        "mul_": _arith_inplace(E.mul, "mul_", "multiply"),
        "div_": _arith_inplace(E.div, "div_", "true_divide"),
        "divide_": _arith_inplace(E.div, "divide_", "true_divide"),
        "true_divide_": _arith_inplace(E.div, "true_divide_", "true_divide"),
        "multiply_": _arith_inplace(E.mul, "multiply_", "multiply"),
        "subtract_": _arith_inplace(E.sub, "subtract_", "subtract"),
        "T": property(_T), "mT": property(_mT), "view": _size_method_view,
        "view_as": lambda self, other: S.view(self, other._data.shape),
        "reshape_as": lambda self, other: S.reshape(self, other._data.shape),
        "to": _to, "cpu": lambda self: to_device(self, _cpu()),
        "cuda": lambda self, device=None, non_blocking=False: _to(self, _cuda(device)),
        "type_as": _type_as, "type": _type,
        "float": _cast_method(dtypes.float32), "double": _cast_method(dtypes.float64),
        "half": _cast_method(dtypes.float16), "bfloat16": _bfloat16, "long": _cast_method(dtypes.int64),
        "int": _cast_method(dtypes.int32), "bool": _cast_method(dtypes.bool_),
        "short": _cast_method(dtypes.int16), "byte": _cast_method(dtypes.uint8),
        "fill_": _fill_, "zero_": _zero_, "copy_": _copy_,
        "resize_": resize.resize_, "resize_as_": resize.resize_as_,
        "fill_diagonal_": fill_diagonal.fill_diagonal_,
        "new_zeros": _new(C.zeros), "new_ones": _new(C.ones), "new_empty": _new(C.empty),
        "new_tensor": _new_tensor, "new_full": _new_full,
        "uniform_": RA.uniform_, "normal_": RA.normal_, "log_normal_": RA.log_normal_,
        "exponential_": RA.exponential_, "cauchy_": RA.cauchy_, "geometric_": RA.geometric_,
        "bernoulli_": RA.bernoulli_, "random_": RA.random_, "bernoulli": RA.bernoulli,
        "multinomial": RA.multinomial,
    }
    for name in _BINARY_OPERATORS:
        table[name] = _operator(table[name])
    derive(_install_methods)
    for name, fn in table.items():
        setattr(Tensor, name, fn)


def op_methods(op) -> dict:
    """The Tensor methods an op's declaration asks for: ``x.exp()``, ``x.clip_(0, 1)``, ..."""
    if not op.method:
        return {}
    method = op.fn if op.method is True else op.method
    table = {}
    for name in op.names:
        table[name] = method
        if op.inplace == "view":
            table[f"{name}_"] = _inplace_view(method, f"{name}_")
        elif op.inplace:
            check = op.inplace if callable(op.inplace) else None
            table[f"{name}_"] = _inplace(method, f"{name}_", check)
    return table


def _install_methods(op) -> None:
    for name, fn in op_methods(op).items():
        setattr(Tensor, name, fn)


def _cpu():
    return backend.CPU


def _cuda(device):
    if device is None:
        return backend.device("cuda", 0)
    return backend.as_device(device)
