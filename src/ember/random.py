"""``ember.random``: seeding, and saving and restoring the default generators' state."""
from __future__ import annotations

import contextlib
from typing import Iterable, Iterator

from . import backend
from .generator import Generator, cuda_generator, default_generator, seed_all
from .tensor import Tensor

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


def manual_seed(seed: int) -> Generator:
    """Seed every device's default generator; return the CPU one."""
    seed_all(seed)
    return default_generator


def seed() -> int:
    """Seed every default generator from the operating system's entropy; return the seed."""
    new = default_generator.seed()
    seed_all(new)
    return new


def initial_seed() -> int:
    """The seed the CPU default generator started from."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The CPU default generator's state, a ``uint8`` tensor."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the CPU default generator from ``get_rng_state``'s tensor (checked, never run)."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Iterable | None = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Within the block, draw freely: the CPU generator (and the GPUs' in ``devices``, all
    available ones by default) are put back as they were on leaving."""
    if not enabled:
        yield
        return
    if device_type != "cuda":
        raise RuntimeError(f"{_caller}: Ember has no {device_type!r} devices (only 'cuda')")
    if devices is None:
        count = backend.cuda_module().cuda.runtime.getDeviceCount() \
            if backend.cuda_available() else 0
        devices = range(count)
    gens = [default_generator] + [cuda_generator(backend.as_device(d).index) for d in devices]
    states = [g.get_state() for g in gens]
    try:
        yield
    finally:
        for g, state in zip(gens, states):
            g.set_state(state)
