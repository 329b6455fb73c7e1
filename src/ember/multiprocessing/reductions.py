"""Tensors through multiprocessing queues in shared memory, as torch's ``file_descriptor`` strategy.

A CPU tensor sent to another process is first moved into a shared-memory file (``memfd``); what
travels is the file descriptor (passed over a Unix socket by ``multiprocessing``), the tensor's
place in it and its metadata. The receiver maps the same memory, so in-place changes on either
side are seen by both, and the memory lives as long as some process maps it.
"""
from __future__ import annotations

import mmap
import os
from multiprocessing import reduction

from .. import backend
from ..tensor import Tensor


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
        import tempfile

        fd, path = tempfile.mkstemp(prefix="ember-tensor-", dir="/dev/shm")
        os.unlink(path)
    size = max(nbytes, 1)
    os.ftruncate(fd, size)
    shared = SharedMap(fd, size)
    shared.fd = fd
    return shared


def _map_fd(fd: int, size: int) -> SharedMap:
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


def _array_on(shared: SharedMap, offset: int, shape: tuple, strides: tuple, dtype: str):
    np = backend.numpy
    flat = np.frombuffer(shared, dtype=np.uint8)
    return np.lib.stride_tricks.as_strided(
        flat[offset:].view(dtype) if flat.size else np.empty(0, dtype), shape, strides)


def share_memory_(t: Tensor) -> Tensor:
    """Move ``t``'s values into shared memory (in place; a no-op if already there or on a GPU)."""
    if t.device.type != "cpu" or shared_map_of(t._data) is not None:
        return t
    data = backend.numpy.ascontiguousarray(t._data)
    shared = _new_map(data.nbytes)
    array = _array_on(shared, 0, data.shape, data.strides, data.dtype.str)
    array[...] = data
    t._data = array
    return t


def is_shared(t: Tensor) -> bool:
    """True when ``t``'s memory is shared with other processes (a GPU tensor counts, as torch)."""
    return t.device.type != "cpu" or shared_map_of(t._data) is not None


def rebuild_tensor(cls, dup_fd, size: int, offset: int, shape: tuple, strides: tuple, dtype: str,
                   requires_grad: bool):
    """The receiving side: map the sender's memory and wrap it as a tensor of class ``cls``."""
    shared = _map_fd(dup_fd.detach(), size)
    t = Tensor._make(_array_on(shared, offset, shape, strides, dtype))
    if cls is not Tensor:
        t = cls(t, requires_grad=requires_grad)
    elif requires_grad:
        t.requires_grad_(True)
    return t


def reduce_tensor(t: Tensor):
    """How a tensor pickles for another process: by reference to its shared memory."""
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
            "not support crossing process boundaries.  If you just want to transfer the data, call "
            "detach() on the tensor before serializing (e.g., putting it on the queue)."
        )
    if t.device.type != "cpu":
        return t.__reduce__()
    share_memory_(t)
    data = t._data
    shared = shared_map_of(data)
    offset = backend.address_of(data) - backend.address_of(backend.numpy.frombuffer(shared, "u1"))
    return rebuild_tensor, (type(t), reduction.DupFd(shared.fd), len(shared), offset, data.shape,
                            data.strides, data.dtype.str, t.requires_grad)


def init_reductions() -> None:
    """Make multiprocessing pickle Tensors (and Parameters) by shared memory."""
    from ..nn.parameter import Parameter

    for cls in (Tensor, Parameter):
        reduction.ForkingPickler.register(cls, reduce_tensor)
