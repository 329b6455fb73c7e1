"""Parallel training wrappers (torch.nn.parallel): DistributedDataParallel on MPI, and
DataParallel on one device."""
from __future__ import annotations

from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
