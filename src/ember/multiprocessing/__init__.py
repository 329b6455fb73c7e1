"""``ember.multiprocessing``: Python's multiprocessing with tensors shared, not copied (as torch's).

Everything in :mod:`multiprocessing` is here (``Process``, ``Queue``, ``Pool``, ``get_context``,
...); importing this module makes tensors put on a queue or passed to a process travel through
shared memory, and ``spawn`` runs a function in several processes.
"""
from __future__ import annotations

import multiprocessing as _mp
from multiprocessing import *  # noqa: F401,F403  (the drop-in: torch.multiprocessing does the same)

from .reductions import init_reductions
from .spawn import (ProcessContext, ProcessExitedException, ProcessRaisedException, spawn,
                    start_processes)

__all__ = list(_mp.__all__) + ["ProcessContext", "ProcessExitedException", "ProcessRaisedException",
                               "get_all_sharing_strategies", "get_sharing_strategy",
                               "set_sharing_strategy", "spawn", "start_processes"]

_STRATEGY = ["file_descriptor"]


def get_all_sharing_strategies() -> set[str]:
    """The ways tensors can be shared: Ember passes shared-memory file descriptors."""
    return {"file_descriptor"}


def get_sharing_strategy() -> str:
    return _STRATEGY[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Choose how tensors are shared (only ``file_descriptor`` exists in Ember)."""
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"sharing strategy {new_strategy!r} is not supported; Ember supports "
                         f"{sorted(get_all_sharing_strategies())}")
    _STRATEGY[0] = new_strategy


init_reductions()
