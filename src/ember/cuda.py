"""``ember.cuda``: what torch.cuda offers that Ember needs, backed by CuPy and safe without it.

Every function works on a machine without CuPy or a GPU: queries say "none", and calls
that would need a GPU raise the backend's clear error.
"""
from __future__ import annotations

from . import backend
from .generator import cuda_generator


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return backend.cuda_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    if not is_available():
        return 0
    return backend.cuda_module().cuda.runtime.getDeviceCount()


def current_device() -> int:
    """The index of the GPU new CUDA tensors go to by default."""
    return backend.cuda_module().cuda.runtime.getDevice()


def set_device(device) -> None:
    """Make ``device`` (an index, "cuda:1" or an ember.device) the current GPU."""
    d = backend.as_device(device)
    backend.cuda_module().cuda.runtime.setDevice(d.index)


def synchronize(device=None) -> None:
    """Wait for all queued GPU work to finish (a no-op without a GPU), then raise any failed
    device-side check (an index out of range, say) that the work queued."""
    if not is_available():
        return
    cp = backend.cuda_module()
    if device is None:
        cp.cuda.Device().synchronize()
    else:
        cp.cuda.Device(backend.as_device(device).index).synchronize()
    backend.raise_failed_checks()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: CuPy has no bfloat16 (Ember's comes from ml_dtypes, on the CPU), so code picks float16."""
    return False


def _generator(device=None):
    """The default generator of ``device`` (the current GPU by default)."""
    index = current_device() if device in (None, "cuda") else backend.as_device(device).index
    return cuda_generator(index)


def _all_generators() -> list:
    return [_generator(i) for i in range(device_count())]


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator (nothing to seed without a GPU, as in torch)."""
    if is_available():
        _generator().manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator."""
    for gen in _all_generators():
        gen.manual_seed(seed)


def seed() -> None:
    """Seed the current GPU's generator from the operating system's entropy."""
    if is_available():
        _generator().seed()


def seed_all() -> None:
    """Seed every GPU's generator from one new random seed."""
    gens = _all_generators()
    if gens:
        new = gens[0].seed()
        for gen in gens[1:]:
            gen.manual_seed(new)


def initial_seed() -> int:
    """The seed the current GPU's generator started from."""
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    """The state of a GPU's generator, a ``uint8`` tensor (its seed and offset)."""
    return _generator(device).get_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restore a GPU's generator from ``get_rng_state``'s tensor (checked, never run)."""
    _generator(device).set_state(new_state)


def get_rng_state_all() -> list:
    """Every GPU's generator state."""
    return [gen.get_state() for gen in _all_generators()]


def set_rng_state_all(new_states) -> None:
    """Restore every GPU's generator from ``get_rng_state_all``'s list."""
    for gen, state in zip(_all_generators(), new_states):
        gen.set_state(state)


def memory_allocated(device=None) -> int:
    """Bytes held by CuPy's memory pool for tensors (0 without a GPU)."""
    if not is_available():
        return 0
    return int(backend.cuda_module().get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes CuPy's memory pool holds from the GPU, in use or cached (0 without a GPU)."""
    if not is_available():
        return 0
    return int(backend.cuda_module().get_default_memory_pool().total_bytes())


def empty_cache() -> None:
    """Give the GPU memory CuPy's pool caches but no tensor uses back to the driver."""
    if is_available():
        backend.cuda_module().get_default_memory_pool().free_all_blocks()


class _DeviceProperties:
    """What ``get_device_properties`` reports: name, memory, compute capability, SM count."""

    def __init__(self, props: dict) -> None:
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.total_memory = int(props["totalGlobalMem"])
        self.major, self.minor = int(props["major"]), int(props["minor"])
        self.multi_processor_count = int(props["multiProcessorCount"])

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> _DeviceProperties:
    """The GPU's name, memory, compute capability and multiprocessor count."""
    index = current_device() if device is None else backend.as_device(device).index
    return _DeviceProperties(backend.cuda_module().cuda.runtime.getDeviceProperties(index))


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    return get_device_properties(device).name


class device:
    """``with ember.cuda.device(1):`` makes GPU 1 current for the block."""

    def __init__(self, device) -> None:
        self._context = backend.device_context(backend.as_device(device))

    def __enter__(self):
        return self._context.__enter__()

    def __exit__(self, *exc) -> bool:
        return bool(self._context.__exit__(*exc))
