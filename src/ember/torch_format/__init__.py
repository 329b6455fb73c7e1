"""PyTorch's checkpoint formats: read (zip and legacy) without running code, write (zip)."""
from .reader import is_legacy, is_torch, is_zip, load
from .storage_types import DTYPES, numpy_dtype
from .writer import dumps
