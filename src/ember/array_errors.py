"""torch's exceptions for what goes wrong inside an array-library call.

NumPy and CuPy say what failed in their own words ("operands could not be broadcast together
with remapped shapes", "array is too big", ``MemoryError``). Users get torch's class and a
message naming the op they called and its inputs instead; ``ops.registry.apply`` (every
primitive) and the factory functions (``zeros``, ``tensor``...) send failures here.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

from . import backend

_MAX_BYTES = 2 ** 63 - 1  # torch counts a storage's bytes in a signed 64-bit integer


def out_of_memory(nbytes: int, device) -> RuntimeError:
    """torch's error for an allocation the device cannot satisfy."""
    if getattr(device, "type", "cpu") == "cuda":
        return RuntimeError(f"CUDA out of memory. Tried to allocate {nbytes} bytes on {device}.")
    return RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                        f"{nbytes} bytes. Error code 12 (Cannot allocate memory)")


def check_storage_size(shape: tuple, itemsize: int) -> None:
    """Refuse, as torch does, a shape whose bytes do not fit the size counter."""
    if math.prod(shape) * itemsize > _MAX_BYTES:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")


def describe(inputs) -> str:
    """``[2, 3] ember.float32, [4] ember.int64``: the tensors an op was given."""
    return ", ".join(f"{list(t.shape)} {t.dtype}" for t in inputs)


def translate(exc: BaseException, op: str, inputs: tuple) -> Exception:
    """torch's exception for ``exc``, raised by the array library while running ``op`` on
    ``inputs`` (tensors): torch's class, the op's name, the inputs' shapes and dtypes."""
    kind = backend.failure_kind(exc)
    given = describe(inputs)
    if kind == "memory":
        device = inputs[0].device if inputs else backend.CPU
        return out_of_memory(backend.allocation_bytes(exc), device)
    if kind == "too big":
        return RuntimeError(f"{op}(): the result would need more memory than can be addressed "
                            f"(inputs: {given})")
    if kind == "negative":
        return RuntimeError(f"{op}(): Trying to create tensor with negative dimension "
                            f"(inputs: {given})")
    if kind == "shapes":
        return RuntimeError(f"{op}(): the shapes of the inputs do not fit together "
                            f"(inputs: {given})")
    text = str(exc).replace("axis", "dimension").replace("array", "tensor")
    cls = IndexError if isinstance(exc, IndexError) else \
        TypeError if isinstance(exc, TypeError) else RuntimeError
    return cls(f"{op}: {text} (inputs: {given})")


@contextmanager
def allocating(shape: tuple, itemsize: int, device):
    """Around the allocation of a ``shape`` result: torch's errors for a size past the byte
    counter and for memory the device does not have."""
    check_storage_size(shape, itemsize)
    try:
        yield
    except MemoryError:
        raise out_of_memory(math.prod(shape) * itemsize, device) from None
