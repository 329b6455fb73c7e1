"""Tensor element types and torch's type-promotion rules.

Python floats become float32 and ints int64 (torch's defaults); a Python scalar or a
0-d tensor never widens a dimensioned tensor of the same kind (float32 * 2.0 stays float32).
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np


class dtype:
    """An element type: ``ember.float32``; compares equal only to itself."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, np_type, kind: int) -> None:
        self.name = name
        self.np = np.dtype(np_type)
        self._kind = kind  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = kind == 2
        self.is_signed = kind == 2 or self.np.kind == "i"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))

    @property
    def is_complex(self) -> bool:
        return False

    def bounds(self) -> tuple:
        """The smallest and largest finite values of this type (False and True for bool)."""
        if self._kind == 0:
            return (False, True)
        if self._kind == 2:
            info = np.finfo(self.np)
            return (float(info.min), float(info.max))
        info = np.iinfo(self.np)
        return (int(info.min), int(info.max))


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64,
                 "int": int32, "short": int16})

_default_float = float32


def from_name(name: str) -> dtype:
    """The dtype called ``name`` ("float32", "double", ...)."""
    return _BY_NAME[name]


def from_numpy(np_dtype) -> dtype:
    """The Ember dtype of a NumPy dtype; clear error for types Ember does not have."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


def to_dtype(d) -> dtype:
    """Accept an Ember dtype, a NumPy dtype or a Python type; a name is refused as torch does
    (``dtype="float32"`` is a TypeError there, so code relying on it would not port)."""
    if isinstance(d, dtype):
        return d
    if d is float:  # torch maps Python's float to float64 whatever the default dtype
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        hint = f"; use ember.{d}" if d in _BY_NAME else ""
        raise TypeError(f"argument 'dtype' must be ember.dtype, not str ({d!r}{hint})")
    return from_numpy(d)


def get_default_dtype() -> dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Make ``d`` (float32 or float64) the type of Python floats, as torch.set_default_dtype."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


_TORCH_SCALAR_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                       "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double"}


def scalar_name(d: dtype) -> str:
    """torch's C++ name of a dtype as its error messages print it ('Long', 'Float', 'Bool')."""
    return _TORCH_SCALAR_NAMES[d.name]


def tensor_type_name(d: dtype, cuda: bool = False) -> str:
    """torch's legacy tensor type name: 'ember.FloatTensor', 'ember.cuda.LongTensor'."""
    return f"ember.{'cuda.' if cuda else ''}{scalar_name(d)}Tensor"


def from_tensor_type_name(name: str) -> dtype:
    """The dtype of a legacy type name ('torch.DoubleTensor', 'ember.cuda.IntTensor')."""
    scalar = name.rsplit(".", 1)[-1].removesuffix("Tensor")
    for key, value in _TORCH_SCALAR_NAMES.items():
        if value == scalar:
            return from_name(key)
    raise RuntimeError(f"invalid type: '{name}'")


_C_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "int64_t",
            "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char"}


def checked_scalar(op: str, value, d: dtype):
    """A Python number about to be written into a tensor of ``d``: torch's RuntimeError when it
    does not fit (1e300 into float32, nan into int64), instead of a silent inf or garbage."""
    if not isinstance(value, Real) or d is bool_ or isinstance(value, (bool, np.bool_)):
        return value
    low, high = d.bounds()
    if d.is_floating_point:
        fits = not math.isfinite(value) or low <= value <= high
    else:
        fits = (isinstance(value, int) or math.isfinite(value)) and low <= value <= high
    if not fits:
        raise RuntimeError(f"{op}: value {value!r} cannot be converted to type {_C_TYPES[d.name]} "
                           "without overflow")
    return value


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar becomes on its own."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return _default_float
    raise TypeError(f"expected a number, got {type(value).__name__}")


def promote(a: dtype, b: dtype) -> dtype:
    """The smallest dtype that holds both (torch.promote_types)."""
    if a is b:
        return a
    if a._kind != b._kind:
        return a if a._kind > b._kind else b
    return _BY_NP[np.promote_types(a.np, b.np)]


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars.

    Priority: dimensioned tensors, then 0-d tensors, then Python scalars; a lower-priority
    operand only matters when it is of a higher kind (bool < int < float).
    """
    groups: list[dtype | None] = [None, None, None]
    for op in operands:
        d = getattr(op, "dtype", None)
        if d is None:
            rank, d = 2, scalar_dtype(op)
        else:
            rank = 0 if op.ndim else 1
        prev = groups[rank]
        groups[rank] = d if prev is None else promote(prev, d)
    out = None
    for rank, d in enumerate(groups):
        if d is None:
            continue
        if out is None:
            out = d
        elif d._kind > out._kind:
            out = d if rank < 2 else (_default_float if d._kind == 2 else int64)
    return out


class finfo:
    """Machine limits of a floating dtype, as ``torch.finfo`` (the default dtype if none)."""

    def __init__(self, type=None) -> None:
        d = get_default_dtype() if type is None else to_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo "
                            f"to handle '{d}'")
        info = np.finfo(d.np)
        self.bits, self.dtype = int(info.bits), d.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = float(info.resolution)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer (or bool) dtype, as ``torch.iinfo``."""

    def __init__(self, type) -> None:
        d = to_dtype(type)
        if d.is_floating_point:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to "
                            f"handle '{d}'")
        info = np.iinfo(d.np) if d.np is not np.bool_ else None
        self.bits = 8 if info is None else int(info.bits)
        self.min, self.max = (0, 1) if info is None else (int(info.min), int(info.max))
        self.dtype = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
