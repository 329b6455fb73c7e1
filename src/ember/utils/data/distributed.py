"""DistributedSampler: each rank reads its own equal share of the data set, as torch splits it."""
from __future__ import annotations

import math
from typing import Iterator

from ... import distributed as dist
from ...creation import randperm
from ...generator import Generator
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Indices of the part of ``dataset`` that rank ``rank`` of ``num_replicas`` reads.

    Ranks take every ``num_replicas``-th index of one (optionally shuffled) order, offset by their
    rank. Without ``drop_last`` the order is padded by repeating its start so that it divides
    evenly; with it, the tail is dropped. Call ``set_epoch(epoch)`` before each epoch so that all
    ranks shuffle the same new way (the order is seeded by ``seed + epoch``). The shuffled order
    comes from Ember's generator, so it differs from torch's; the split and padding are torch's.

    Args:
        dataset: anything with ``len()``.
        num_replicas: how many ranks share the data (the world size by default).
        rank: this rank (the process's rank by default).
        shuffle: shuffle the indices each epoch.
        seed: base seed of the shuffle; must be the same on all ranks.
        drop_last: drop the tail instead of padding, so that no sample is read twice.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.seed = seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            repeats = math.ceil(padding / len(indices)) if indices else 0
            indices += (indices * repeats)[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` in the shuffle's seed, so that each epoch has a new order on all ranks."""
        self.epoch = epoch
