"""Tensors through multiprocessing queues in shared memory, as torch's ``file_descriptor`` strategy.

A CPU tensor sent to another process is first moved into a shared-memory file (``memfd``); what
travels is the file descriptor (passed over a Unix socket by ``multiprocessing``), the tensor's
place in it and its metadata. The receiver maps the same memory, so in-place changes on either
side are seen by both, and the memory lives as long as some process maps it.
"""
from __future__ import annotations

from multiprocessing import reduction

from .. import backend
from .._shared_memory import array_on, map_fd, share_memory_, shared_map_of
from ..nn.parameter import Parameter
from ..tensor import Tensor


def rebuild_tensor(cls, dup_fd, size: int, offset: int, shape: tuple, strides: tuple, dtype: str,
                   requires_grad: bool):
    """The receiving side: map the sender's memory and wrap it as a tensor of class ``cls``."""
    shared = map_fd(dup_fd.detach(), size)
    t = Tensor._make(array_on(shared, offset, shape, strides, dtype))
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
    for cls in (Tensor, Parameter):
        reduction.ForkingPickler.register(cls, reduce_tensor)
