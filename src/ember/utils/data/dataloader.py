"""DataLoader: batches from a dataset in sampler order, collated (``torch.utils.data.DataLoader``).

With ``num_workers=0`` loading runs in the calling process; with more, in that many worker
processes (``worker_pool``), giving the same batches in the same order. A plain TensorDataset
with the default collation is batched by one indexing op per tensor instead of one per sample,
which gives the same batches much faster.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable, Iterator

from ...generator import Generator
from ... import accelerator
from ...creation import randint
from ...generator import default_generator
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset, batch_fetcher
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker_pool import IterableFetcher, MapFetcher, WorkerPool


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style or iterable dataset.
        batch_size: samples per batch (None: yield single samples, not collated).
        shuffle: visit the samples in a new random order each epoch.
        sampler: the order of indices (instead of ``shuffle``).
        batch_sampler: yields whole lists of indices (instead of the four options above).
        num_workers: worker processes that load batches (0: load in this process).
        collate_fn: turns a list of samples into a batch (``default_collate``).
        pin_memory: accepted as torch (pinned host memory matters only with a GPU).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        timeout: seconds to wait for a worker's batch before raising (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: how workers start (``"fork"``, ``"spawn"``, a context).
        generator: the random source for shuffling (a seeded one makes the order repeatable).
        prefetch_factor: batches each worker loads ahead (2 with workers).
        persistent_workers: keep the workers between epochs.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.generator = generator
        self._pool = None
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle not in (None, False) or sampler is not None or batch_sampler is not None):
            raise ValueError(
                "DataLoader with IterableDataset: expected unspecified shuffle, sampler and "
                f"batch_sampler options, got shuffle={shuffle}, sampler={sampler}, "
                f"batch_sampler={batch_sampler}"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation or iterable and batch_size else \
                default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    def __iter__(self) -> Iterator:
        if self.pin_memory and not accelerator.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                          "device pinned memory won't be used.", stacklevel=2)
        # torch draws the workers' base seed first in both modes, so shuffles agree between them
        base_seed = int(randint(0, 2 ** 62, (1,), generator=self.generator or default_generator))
        if self.num_workers > 0:
            return self._iter_workers(base_seed)
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        fetch = self._fetcher(False)(self.dataset)
        return map(fetch, self.batch_sampler if self._auto_collation else self.sampler)

    def _iter_workers(self, base_seed: int) -> Iterator:
        """Batches loaded by worker processes, in the order this process would load them."""
        pool = self._pool
        iterable = isinstance(self.dataset, IterableDataset)
        if iterable:
            tasks = iter(int, 1)  # one request per batch until every worker's stream ends
        else:
            tasks = iter(self.batch_sampler if self._auto_collation else self.sampler)
        if pool is None or pool.shut:
            _warn_if_too_many_workers(self.num_workers)
            pool = WorkerPool(self, self._fetcher(iterable), base_seed)
            pool.start_epoch(tasks)
        else:
            pool.start_epoch(tasks, resume=True)
        if self.persistent_workers:
            self._pool = pool
        try:
            while True:
                try:
                    batch = pool.next_batch()
                except StopIteration:
                    return
                yield batch
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def _fetcher(self, iterable: bool):
        """What each worker runs to turn a task into a batch."""
        if iterable:
            return IterableFetcher(self.collate_fn, self.batch_size is not None, self.batch_size,
                                   self.drop_last)
        fast = self._auto_collation and self.collate_fn is default_collate and \
            batch_fetcher(self.dataset) is not None
        return MapFetcher(self.collate_fn, self._auto_collation, batch_fetcher if fast else None)

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            if self.drop_last:
                return n // self.batch_size
            return -(-n // self.batch_size)
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)


def _warn_if_too_many_workers(num_workers: int) -> None:
    """torch's warning when there are more workers than CPUs this process may use."""
    import os

    cpuset = hasattr(os, "sched_getaffinity")
    cpus = len(os.sched_getaffinity(0)) if cpuset else os.cpu_count()
    if cpus is not None and num_workers <= cpus:
        return
    suggestion = "DataLoader is not able to compute a suggested max number of worker in current system." \
        if cpus is None else \
        (f"Our suggested max number of worker in current system is {cpus}"
         f"{'' if cpuset else ' (`cpuset` is not taken into account)'}, which is smaller than what "
         "this DataLoader is going to create.")
    warnings.warn(
        f"This DataLoader will create {num_workers} worker processes in total. {suggestion} Please be "
        "aware that excessive worker creation might get DataLoader running slow or even freeze, lower "
        "the worker number to avoid potential slowness/freeze if necessary.", UserWarning, stacklevel=3)
