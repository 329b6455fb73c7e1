"""Memory other processes can map: the storage behind ``Tensor.share_memory_``.

Values move into a shared-memory file (``memfd``, or an unlinked file in ``/dev/shm``); a
mapping remembers its descriptor, so ``ember.multiprocessing`` can pass it to another process,
which maps the same memory.
"""
from __future__ import annotations

import mmap
import os
import tempfile

from . import backend


class SharedMap(mmap.mmap):
    """A mapping of a shared-memory file that remembers its descriptor (to pass it on)."""

    def __del__(self) -> None:
        fd = getattr(self, "fd", None)
        if fd is not None:
            os.close(fd)
            self.fd = None


def _new_map(nbytes: int) -> SharedMap:
    fd = os.memfd_create("ember-tensor", os.MFD_CLOEXEC) if hasattr(os, "memfd_create") else None
    if fd is None:  # no memfd: an unlinked file in /dev/shm serves the same purpose
        fd, path = tempfile.mkstemp(prefix="ember-tensor-", dir="/dev/shm")
        os.unlink(path)
    size = max(nbytes, 1)
    os.ftruncate(fd, size)
    shared = SharedMap(fd, size)
    shared.fd = fd
    return shared


def map_fd(fd: int, size: int) -> SharedMap:
    shared = SharedMap(fd, size)
    shared.fd = fd
    return shared


def _root(array):
    """The object that owns an array's memory (following ``.base``)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def shared_map_of(array) -> SharedMap | None:
    """The SharedMap behind ``array``, or None when its memory is private to this process."""
    root = _root(array)
    if isinstance(root, memoryview):
        root = root.obj
    return root if isinstance(root, SharedMap) else None


def array_on(shared: SharedMap, offset: int, shape: tuple, strides: tuple, dtype: str):
    np = backend.numpy
    flat = np.frombuffer(shared, dtype=np.uint8)
    return np.lib.stride_tricks.as_strided(
        flat[offset:].view(dtype) if flat.size else np.empty(0, dtype), shape, strides)


def share_memory_(t):
    """Move ``t``'s values into shared memory (in place; a no-op if already there or on a GPU)."""
    if t.device.type != "cpu" or shared_map_of(t._data) is not None:
        return t
    data = backend.numpy.ascontiguousarray(t._data)
    shared = _new_map(data.nbytes)
    array = array_on(shared, 0, data.shape, data.strides, data.dtype.str)
    array[...] = data
    t._data = array
    return t


def is_shared(t) -> bool:
    """True when ``t``'s memory is shared with other processes (a GPU tensor counts, as torch)."""
    return t.device.type != "cpu" or shared_map_of(t._data) is not None
