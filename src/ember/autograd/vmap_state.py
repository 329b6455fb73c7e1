"""Which vmap levels are active: read by ``autograd.grad`` and ``ops.registry.apply``.

It lives here, below the ops, because the engine's entry points must know whether they run
inside ``vmap``; the batching itself (``ops/batching.py``) fills ``batched_grad``,
``rewrap`` (random draws made batched), ``batched`` (the ``BatchedTensor`` class) and
``physical`` (a tangent moved onto a batched tensor's physical value) and ``materialize``
when loaded.
"""
from __future__ import annotations

import contextlib
from typing import Callable


class _Vmap:
    """The vmap levels now active, innermost last: ``[level, batch size, randomness]`` each."""

    __slots__ = ("levels", "counter", "batched_grad", "rewrap", "batched", "physical",
                 "materialize")

    def __init__(self) -> None:
        self.levels: list = []
        self.counter = 0
        self.batched_grad: Callable | None = None
        self.rewrap: Callable | None = None
        self.batched: type | None = None
        self.physical: Callable | None = None
        self.materialize: Callable | None = None


VMAP = _Vmap()


@contextlib.contextmanager
def vmap_level(size: int, randomness: str):
    """A new vmap level (innermost) for the length of the block; yields its number."""
    VMAP.counter += 1
    entry = [VMAP.counter, size, randomness]
    VMAP.levels = VMAP.levels + [entry]
    try:
        yield entry[0]
    finally:
        VMAP.levels = [e for e in VMAP.levels if e is not entry]


@contextlib.contextmanager
def lowered(level: int):
    """The block runs below vmap ``level`` (as if outside it): its batched tensors are physical."""
    saved = VMAP.levels
    VMAP.levels = [e for e in saved if e[0] != level]
    try:
        yield
    finally:
        VMAP.levels = saved
