"""The DataLoader's worker processes: tasks out in sampler order, batches back in that order.

Each worker gets its own index queue; the main process keeps ``prefetch_factor`` tasks in flight
per worker, round robin, and hands batches out strictly in task order, so the batches are those
of ``num_workers=0``. A worker's exception is raised again here with its traceback; a worker
that dies, a timeout, or the main process stopping early (an error, Ctrl-C, ``break``) shuts
every worker down.
"""
from __future__ import annotations

import atexit
import itertools
import multiprocessing
import os
import pickle
import queue
import weakref

from .worker import STATUS_CHECK_INTERVAL, ExceptionWrapper, IterableStopped, Resume, worker_loop

_LIVE_POOLS: weakref.WeakSet = weakref.WeakSet()  # shut down at exit if still running


class MapFetcher:
    """``fetch(indices)``: the collated batch of a map-style dataset (in a worker or in-process).

    A dataset's ``__getitems__(indices)``, when it has one, fetches a whole batch at once.
    """

    def __init__(self, collate_fn, auto_collation: bool, batch_fetch=None) -> None:
        self.collate_fn = collate_fn
        self.auto_collation = auto_collation
        self.batch_fetch = batch_fetch

    def __call__(self, dataset):
        batched = None if self.batch_fetch is None else self.batch_fetch(dataset)

        def fetch(indices):
            if not self.auto_collation:
                return self.collate_fn(dataset[indices])
            if batched is not None:
                return batched(list(indices))
            if getattr(dataset, "__getitems__", None):
                return self.collate_fn(dataset.__getitems__(list(indices)))
            return self.collate_fn([dataset[i] for i in indices])
        return fetch


class IterableFetcher:
    """In a worker: each call takes the next batch (or sample) from this worker's stream."""

    def __init__(self, collate_fn, auto_collation: bool, batch_size, drop_last: bool) -> None:
        self.collate_fn = collate_fn
        self.auto_collation = auto_collation
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __call__(self, dataset):
        stream = iter(dataset)

        def fetch(_):
            if not self.auto_collation:
                return self.collate_fn(next(stream))
            batch = list(itertools.islice(stream, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                raise StopIteration
            return self.collate_fn(batch)
        return fetch


class WorkerPool:
    """The worker processes of one DataLoader and the iteration over them.

    Args:
        loader: the DataLoader (its dataset, options and sampler).
        fetcher: MapFetcher or IterableFetcher, sent to every worker.
        base_seed: worker ``i`` seeds its random sources with ``base_seed + i``.
    """

    def __init__(self, loader, fetcher, base_seed: int) -> None:
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.num_workers = loader.num_workers
        self.timeout = loader.timeout
        self.prefetch = loader.prefetch_factor * loader.num_workers
        self.iterable = fetcher.__class__ is IterableFetcher
        self.result_queue = ctx.Queue()
        self.done_event = ctx.Event()
        self.index_queues = []
        self.workers = []
        for i in range(self.num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(target=worker_loop, daemon=True,
                            args=(loader.dataset, fetcher, index_queue, self.result_queue,
                                  self.done_event, i, self.num_workers, base_seed,
                                  loader.worker_init_fn, os.getpid()))
            w.start()
            self.index_queues.append(index_queue)
            self.workers.append(w)
        self.shut = False
        self.tasks = None
        _LIVE_POOLS.add(self)

    # ------------------------------------------------------------------ one epoch
    def start_epoch(self, tasks, resume: bool = False) -> None:
        """Begin handing out ``tasks`` (index lists, or None for each IterableDataset batch)."""
        self.tasks = tasks
        self.send_idx = 0  # next task number to send
        self.rcvd_idx = 0  # next task number to hand out
        self.task_info = {}  # task number -> worker id, or (worker id, batch) once it arrived
        self.active = [True] * self.num_workers
        self.worker_cycle = itertools.cycle(range(self.num_workers))
        if resume:
            self._resume_workers()
        for _ in range(self.prefetch):
            self._send_next()

    def _resume_workers(self) -> None:
        """Tell persistent workers a new epoch begins and wait until each has restarted."""
        for q in self.index_queues:
            q.put((-1, Resume()))
        waiting = self.num_workers
        while waiting:  # what an abandoned epoch left in flight arrives first and is dropped
            _, answer = self._get()
            if isinstance(answer, Resume):
                waiting -= 1

    def _send_next(self) -> None:
        """Send the next task to the next worker still serving (round robin)."""
        if self.tasks is None:
            return
        indices = next(self.tasks, _END)
        if indices is _END:
            self.tasks = None
            return
        for _ in range(self.num_workers):
            worker = next(self.worker_cycle)
            if self.active[worker]:
                break
        else:
            self.tasks = None
            return
        self.index_queues[worker].put((self.send_idx, indices))
        self.task_info[self.send_idx] = (worker,)
        self.send_idx += 1

    def next_batch(self):
        """The batch of the next task, in order; StopIteration when the epoch is over."""
        while True:
            while self.rcvd_idx < self.send_idx:
                info = self.task_info[self.rcvd_idx]
                if len(info) == 2 or self.active[info[0]]:
                    break
                del self.task_info[self.rcvd_idx]  # its worker's stream ended: nothing will come
                self.rcvd_idx += 1
            else:
                raise StopIteration
            info = self.task_info[self.rcvd_idx]
            if len(info) == 2:
                del self.task_info[self.rcvd_idx]
                self.rcvd_idx += 1
                return self._deliver(info[1])
            task_id, answer = self._get()
            if isinstance(answer, IterableStopped):
                self.active[answer.worker_id] = False
                self._send_next()
                continue
            if task_id == self.rcvd_idx:
                del self.task_info[task_id]
                self.rcvd_idx += 1
                return self._deliver(answer)
            self.task_info[task_id] += (answer,)

    def _deliver(self, answer):
        self._send_next()
        if isinstance(answer, ExceptionWrapper):
            self.shutdown()
            answer.reraise()
        return answer

    def _get(self):
        """The next answer from any worker, watching for dead workers and the timeout."""
        waited = 0.0
        while True:
            interval = STATUS_CHECK_INTERVAL if self.timeout <= 0 else \
                min(STATUS_CHECK_INTERVAL, self.timeout - waited)
            try:
                task_id, blob = self.result_queue.get(timeout=max(interval, 1e-3))
                return task_id, pickle.loads(blob)
            except queue.Empty:
                waited += interval
                dead = [w.pid for w in self.workers if not w.is_alive()]
                if dead:
                    self.shutdown()
                    pids = ", ".join(str(pid) for pid in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") \
                        from None
                if self.timeout > 0 and waited >= self.timeout:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None
            except BaseException:  # Ctrl-C while waiting: leave no worker behind
                self.shutdown()
                raise

    # ------------------------------------------------------------------ shutdown
    def shutdown(self) -> None:
        """Stop every worker: ask politely, wait briefly, then terminate what is left."""
        if self.shut:
            return
        self.shut = True
        self.done_event.set()
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            w.join(timeout=STATUS_CHECK_INTERVAL * 5)
            if w.is_alive():
                w.terminate()
                w.join()
        for q in self.index_queues:
            q.cancel_join_thread()
            q.close()
        self.result_queue.cancel_join_thread()
        self.result_queue.close()

    def __del__(self) -> None:
        if not getattr(self, "shut", True):
            self.shutdown()


_END = object()


@atexit.register
def _shutdown_all() -> None:
    """Stop the workers of every pool still running when the interpreter exits."""
    for pool in list(_LIVE_POOLS):
        pool.shutdown()
