"""Parallel training wrappers (torch.nn.parallel): DistributedDataParallel on MPI."""
from __future__ import annotations

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
