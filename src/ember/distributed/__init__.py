"""Data-parallel training across processes and machines, on MPI (torch.distributed's shape).

Run a script under MPI's launcher, ``mpiexec -n 2 python train.py``, and call
``init_process_group("mpi")`` in it. Needs the ``distributed`` extra
(``pip install 'ember[distributed]'``); ``import ember`` works without it.
"""
from __future__ import annotations

from ._mpi import mpi_available as is_available
from ._mpi import mpi_available as is_mpi_available
from .collectives import (ReduceOp, Work, all_gather, all_gather_into_tensor, all_gather_object,
                          all_reduce, barrier, broadcast)
from .process_group import (destroy_process_group, get_backend, get_rank, get_world_size,
                            init_process_group, is_initialized)

__all__ = ["ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_gather_object",
           "all_reduce", "barrier", "broadcast", "destroy_process_group", "get_backend", "get_rank",
           "get_world_size", "init_process_group", "is_available", "is_initialized",
           "is_mpi_available"]
