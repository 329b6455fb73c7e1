"""What runs inside a DataLoader worker process: the fetch loop, its seeding, ``get_worker_info``,
and the wrapper that carries an exception (with its traceback text) back to the main process."""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from ... import backend
from ... import random as ember_random

STATUS_CHECK_INTERVAL = 1.0  # seconds between checks that the other side is still alive


@dataclass(frozen=True)
class WorkerInfo:
    """Who this worker is: ``id`` of ``num_workers``, its ``seed`` and its copy of the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_WORKER_INFO: list = [None]


def get_worker_info() -> WorkerInfo | None:
    """This process's WorkerInfo inside a DataLoader worker, None in the main process.

    An IterableDataset reads it in ``__iter__`` to yield only its share of the stream.
    """
    return _WORKER_INFO[0]


class ExceptionWrapper:
    """An exception raised in a worker, sent as its class and traceback text (tracebacks don't pickle)."""

    def __init__(self, exc_info: tuple, where: str) -> None:
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self) -> None:
        """Raise the same exception class in this process, with the worker's traceback in the message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError puts quotes around its message; this one prints as written."""

    def __repr__(self) -> str:
        return self


@dataclass(frozen=True)
class Resume:
    """The task that restarts a persistent worker's epoch, and the worker's acknowledgment."""


@dataclass(frozen=True)
class IterableStopped:
    """Sent by a worker whose share of an IterableDataset has run out."""

    worker_id: int


def _seed_worker(seed: int) -> None:
    """Seed the worker's random sources: Python's, NumPy's global one and Ember's default generator."""
    random.seed(seed)
    backend.numpy.random.seed(seed % 2 ** 32)
    ember_random.manual_seed(seed)
    try:  # one BLAS thread per worker, as torch's workers run one intra-op thread
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def worker_loop(dataset, fetch, index_queue, result_queue, done_event, worker_id: int,
                num_workers: int, base_seed: int, worker_init_fn, parent_pid: int) -> None:
    """Serve ``(task, indices)`` requests from ``index_queue`` until told to stop (None) or the
    main process is gone; each answer is ``(task, batch)`` or ``(task, ExceptionWrapper)``."""
    seed = base_seed + worker_id
    _seed_worker(seed)
    _WORKER_INFO[0] = WorkerInfo(worker_id, num_workers, seed, dataset)
    where = f"in DataLoader worker process {worker_id}"
    init_error = None
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        source = fetch(dataset)
    except Exception:
        init_error = ExceptionWrapper(sys.exc_info(), where)
    stopped = False
    while True:
        try:
            task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
        except queue.Empty:
            if os.getppid() != parent_pid:  # orphaned: the main process died
                return
            continue
        if task is None:  # the main process is shutting the workers down
            return
        task_id, indices = task
        if isinstance(indices, Resume):  # a persistent worker starts a new epoch
            source, stopped = fetch(dataset), False
            result_queue.put((task_id, pickle.dumps(indices)))
            continue
        if done_event.is_set() or stopped:
            continue
        if init_error is not None:
            answer, init_error = init_error, None
        else:
            try:
                answer = source(indices)
            except StopIteration:
                answer = IterableStopped(worker_id)
                stopped = True
            except Exception:
                answer = ExceptionWrapper(sys.exc_info(), where)
        # pickled here with the plain pickler: batches are copied, which beats passing a
        # shared-memory file per tensor for the small batches of typical loaders
        try:
            blob = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # a batch that cannot be pickled is the worker's error too
            blob = pickle.dumps(ExceptionWrapper(sys.exc_info(), where))
        result_queue.put((task_id, blob))
        del answer, blob
