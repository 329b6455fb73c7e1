"""Collectives on Ember tensors, in place, through MPI buffers (never pickled tensors).

Every collective is MPI's non-blocking form (``Iallreduce``, ``Ibcast``, ...) and is waited for
by polling against the group's deadline, so a missing rank gives a clear error rather than a
hang. CPU tensors are handed to MPI as they are (a C-contiguous NumPy array is the buffer itself);
CUDA tensors, and non-contiguous ones, go through one host staging copy, because the MPI from
PyPI is not CUDA-aware.
"""
from __future__ import annotations

import enum
import os
import pickle
import time
from typing import Callable

from .. import backend
from ..tensor import Tensor
from ._mpi import mpi
from .process_group import ProcessGroup, default_group, to_seconds


class ReduceOp(enum.Enum):
    """How ``all_reduce`` combines the ranks' tensors (AVG is SUM divided by the world size)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


_MPI_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD",
            ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND",
            ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}


# A waiting rank polls MPI (which progresses only inside MPI calls) while yielding its core to
# any other runnable process, then, after _SPIN_SECONDS, sleeps between polls to free the core.
# (time.sleep(0) would not do: it sleeps the kernel's timer slack, ~50 us, per poll.)
_SPIN_SECONDS = 0.01
_POLL_SLEEP = 1e-4


class Work:
    """A launched collective (``async_op=True``): ``wait()`` finishes it and writes the results."""

    def __init__(self, request, group: ProcessGroup, what: str, finish: Callable[[], None]) -> None:
        self._request = request
        self._group = group
        self._what = what
        self._finish = finish
        self._done = False

    def is_completed(self) -> bool:
        """True once the collective has finished (drives MPI's progress as a side effect)."""
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished; past the deadline raise a RuntimeError naming the collective."""
        if self._done:
            return True
        limit = self._group.timeout if timeout is None else to_seconds(timeout, "Work.wait")
        start = time.monotonic()
        deadline = start + limit
        while not self._request.Test():
            now = time.monotonic()
            if now > deadline:
                raise RuntimeError(
                    f"ember.distributed: {self._what} on rank {self._group.rank} of "
                    f"{self._group.size} did not complete within {limit:g} s: another rank has "
                    "probably failed, exited, or not reached the matching collective"
                )
            if now - start < _SPIN_SECONDS:
                os.sched_yield()
            else:
                time.sleep(_POLL_SLEEP)
        self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        self._finish()


def _check_tensor(tensor, op: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected an ember Tensor, got {type(tensor).__name__}")


class _Buffer:
    """The host array MPI reads and writes for ``tensor``: its own memory whenever possible."""

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        data = tensor._data
        host = backend.transfer(data, backend.CPU)
        self.staged = host is not data or not host.flags.c_contiguous
        self.host = backend.numpy.ascontiguousarray(host) if self.staged else host

    def write_back(self) -> None:
        """Copy a staged result into the tensor and bump its version (it changed in place)."""
        t = self.tensor
        if self.staged:
            t.xp.copyto(t._data, backend.transfer(self.host, t.device))
        t._version += 1


def _launch(group: ProcessGroup, what: str, start: Callable, finish: Callable[[], None],
            async_op: bool) -> Work | None:
    """Start a non-blocking MPI call; return its Work, or wait for it when ``async_op`` is False."""
    try:
        request = start()
    except mpi().Exception as e:
        raise RuntimeError(f"ember.distributed: {what} failed in MPI: {e}") from e
    work = Work(request, group, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _describe(op: str, tensor: Tensor) -> str:
    return f"{op}(dtype={tensor.dtype}, shape={list(tensor.shape)})"


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: object = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` across all ranks with ``op``; every rank ends with the result, in place."""
    _check_tensor(tensor, "all_reduce")
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and not tensor.is_floating_point():
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    pg = default_group("all_reduce", group)
    MPI = mpi()
    buf = _Buffer(tensor)

    def finish() -> None:
        if op is ReduceOp.AVG:
            buf.host /= pg.size
        buf.write_back()

    mpi_op = getattr(MPI, _MPI_OPS[op])
    start = lambda: pg.comm.Iallreduce(MPI.IN_PLACE, buf.host, op=mpi_op)
    return _launch(pg, _describe("all_reduce", tensor), start, finish, async_op)


def broadcast(tensor: Tensor, src: int, group: object = None, async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank, in place."""
    _check_tensor(tensor, "broadcast")
    pg = default_group("broadcast", group)
    if not 0 <= src < pg.size:
        raise ValueError(f"broadcast: src={src} is not a rank of a group of size {pg.size}")
    buf = _Buffer(tensor)
    start = lambda: pg.comm.Ibcast(buf.host, root=src)
    return _launch(pg, _describe("broadcast", tensor), start, buf.write_back, async_op)


def barrier(group: object = None, async_op: bool = False) -> Work | None:
    """Wait until every rank has reached this point."""
    pg = default_group("barrier", group)
    return _launch(pg, "barrier()", pg.comm.Ibarrier, lambda: None, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: object = None,
                           async_op: bool = False) -> Work | None:
    """Gather every rank's ``input_tensor`` into ``output_tensor`` (world size x its size), in rank order."""
    _check_tensor(output_tensor, "all_gather_into_tensor")
    _check_tensor(input_tensor, "all_gather_into_tensor")
    pg = default_group("all_gather_into_tensor", group)
    if output_tensor.numel() != pg.size * input_tensor.numel():
        raise ValueError(
            f"all_gather_into_tensor: output has {output_tensor.numel()} elements, expected world "
            f"size {pg.size} x input's {input_tensor.numel()}"
        )
    if output_tensor.dtype != input_tensor.dtype:
        raise TypeError(
            f"all_gather_into_tensor: output dtype {output_tensor.dtype} differs from input dtype "
            f"{input_tensor.dtype}"
        )
    send = _Buffer(input_tensor)
    recv = _Buffer(output_tensor)
    start = lambda: pg.comm.Iallgather(send.host, recv.host)
    what = _describe("all_gather_into_tensor", input_tensor)
    return _launch(pg, what, start, recv.write_back, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group: object = None,
               async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, in place (one gather into a flat buffer)."""
    _check_tensor(tensor, "all_gather")
    pg = default_group("all_gather", group)
    if len(tensor_list) != pg.size:
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors, expected one per rank ({pg.size})"
        )
    for i, t in enumerate(tensor_list):
        _check_tensor(t, "all_gather")
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{i}] is {t.dtype} {list(t.shape)}, expected "
                f"{tensor.dtype} {list(tensor.shape)} like the input"
            )
    send = _Buffer(tensor)
    gathered = backend.numpy.empty((pg.size,) + tuple(tensor.shape), dtype=send.host.dtype)

    def finish() -> None:
        for t, part in zip(tensor_list, gathered):
            t.xp.copyto(t._data, backend.transfer(part, t.device))
            t._version += 1

    start = lambda: pg.comm.Iallgather(send.host, gathered)
    return _launch(pg, _describe("all_gather", tensor), start, finish, async_op)


def all_gather_object(object_list: list, obj: object, group: object = None) -> None:
    """Fill ``object_list[r]`` with rank r's picklable ``obj`` (for metadata, not tensors)."""
    pg = default_group("all_gather_object", group)
    if len(object_list) != pg.size:
        raise ValueError(
            f"all_gather_object: object_list has {len(object_list)} entries, expected {pg.size}"
        )
    np = backend.numpy
    payload = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
    sizes = Tensor._make(np.zeros(pg.size, dtype=np.int64))
    all_gather_into_tensor(sizes, Tensor._make(np.array([payload.size], dtype=np.int64)))
    longest = int(sizes._data.max())
    padded = np.zeros(longest, dtype=np.uint8)
    padded[:payload.size] = payload
    gathered = Tensor._make(np.zeros(pg.size * longest, dtype=np.uint8))
    all_gather_into_tensor(gathered, Tensor._make(padded))
    rows = gathered._data.reshape(pg.size, longest)
    for r in range(pg.size):
        object_list[r] = pickle.loads(rows[r, :int(sizes._data[r])].tobytes())
