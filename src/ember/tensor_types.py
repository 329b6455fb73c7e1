"""torch's legacy tensor types (``FloatTensor``, ``LongTensor``, ...) and ``set_default_tensor_type``.

Each type is a constructor for a CPU tensor of one dtype (``LongTensor([1, 2])``,
``FloatTensor(2, 3)``), a target of ``Tensor.type`` and an ``isinstance`` test, as in torch.
"""
from __future__ import annotations

import warnings

from . import dtypes
from .creation import _tensor_from_args
from .tensor import Tensor


class _TensorTypeMeta(type):
    """Makes ``isinstance(t, FloatTensor)`` ask about the tensor's dtype and device."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None):
        """A tensor of this type: ``T(data)``, ``T(*sizes)``, ``T(tensor)`` (same dtype only), or empty."""
        if len(args) == 1 and isinstance(args[0], Tensor):
            src = args[0]
            if src.dtype != cls.dtype:
                raise TypeError(
                    f"{cls.__name__}(): expected a tensor of dtype {cls.dtype}, got {src.dtype}"
                )
            return src.detach()
        return _tensor_from_args(args or (0,), cls.dtype, device)

    def __repr__(cls) -> str:
        return f"<class '{cls._type_name}'>"


def _tensor_type(d: dtypes.dtype) -> type:
    name = f"{dtypes.scalar_name(d)}Tensor"
    doc = f"The legacy constructor and type test of CPU {d} tensors (torch.{name})."
    return _TensorTypeMeta(name, (), {"dtype": d, "is_cuda": False, "__doc__": doc,
                                      "_type_name": dtypes.tensor_type_name(d)})


FloatTensor = _tensor_type(dtypes.float32)
DoubleTensor = _tensor_type(dtypes.float64)
HalfTensor = _tensor_type(dtypes.float16)
LongTensor = _tensor_type(dtypes.int64)
IntTensor = _tensor_type(dtypes.int32)
ShortTensor = _tensor_type(dtypes.int16)
CharTensor = _tensor_type(dtypes.int8)
ByteTensor = _tensor_type(dtypes.uint8)
BoolTensor = _tensor_type(dtypes.bool_)


def set_default_tensor_type(t) -> None:
    """Deprecated in torch 2.1: make a floating tensor type (or its name) the default dtype."""
    warnings.warn(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
        UserWarning, stacklevel=2,
    )
    name = t if isinstance(t, str) else getattr(t, "_type_name", None)
    if name is None:
        raise TypeError(f"invalid type object: {t!r}")
    d = dtypes.from_tensor_type_name(name)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.set_default_dtype(d)
