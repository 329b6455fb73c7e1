"""torch's element types: their legacy storage classes and the NumPy dtypes that hold them."""
from __future__ import annotations

from .. import backend

# torch dtype name -> (its legacy storage class, the NumPy dtype: a NumPy name or "ml_dtypes:<name>")
DTYPES: dict[str, tuple[str | None, str]] = {
    "float32": ("FloatStorage", "float32"),
    "float64": ("DoubleStorage", "float64"),
    "float16": ("HalfStorage", "float16"),
    "bfloat16": ("BFloat16Storage", "ml_dtypes:bfloat16"),
    "int64": ("LongStorage", "int64"),
    "int32": ("IntStorage", "int32"),
    "int16": ("ShortStorage", "int16"),
    "int8": ("CharStorage", "int8"),
    "uint8": ("ByteStorage", "uint8"),
    "bool": ("BoolStorage", "bool"),
    "complex64": ("ComplexFloatStorage", "complex64"),
    "complex128": ("ComplexDoubleStorage", "complex128"),
    "uint16": (None, "uint16"),
    "uint32": (None, "uint32"),
    "uint64": (None, "uint64"),
    "float8_e4m3fn": (None, "ml_dtypes:float8_e4m3fn"),
    "float8_e5m2": (None, "ml_dtypes:float8_e5m2"),
    "float8_e4m3fnuz": (None, "ml_dtypes:float8_e4m3fnuz"),
    "float8_e5m2fnuz": (None, "ml_dtypes:float8_e5m2fnuz"),
    "float8_e8m0fnu": (None, "ml_dtypes:float8_e8m0fnu"),
}
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
            "int": "int32", "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}


def numpy_dtype(torch_name: str):
    """The NumPy dtype holding a torch dtype's values (bfloat16 and float8 through ``ml_dtypes``)."""
    spec = DTYPES[torch_name][1]
    if spec.startswith("ml_dtypes:"):
        try:
            import ml_dtypes
        except ImportError:
            raise RuntimeError(f"reading {torch_name} tensors needs the ml_dtypes package "
                               "(pip install ml_dtypes, or ember[interop])") from None
        return backend.numpy.dtype(getattr(ml_dtypes, spec.partition(":")[2]))
    return backend.numpy.dtype(spec)


def torch_name(np_dtype) -> str:
    """The torch dtype name of a NumPy dtype."""
    name = np_dtype.name
    if name in DTYPES:
        return name
    raise TypeError(f"ember.save(format='torch'): no torch dtype holds NumPy {name}")


class TorchDtype:
    """A torch dtype Ember has no dtype for (yet): kept by name so tensors of it can be read."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"
