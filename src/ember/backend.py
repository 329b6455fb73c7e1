"""The one place that knows NumPy from CuPy: devices, array modules and transfers.

Every other module asks a tensor (or this module) for its array module ``xp`` and
never imports an array library itself, so the same op code serves CPU and GPU.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

# Floating-point edge cases (0/0, log(0), overflow) give nan/inf silently, as in torch: NumPy's
# RuntimeWarnings from inside Ember's op code would only show users Ember's internals.
warnings.filterwarnings(
    "ignore", r"(invalid value|divide by zero|overflow|underflow) encountered", RuntimeWarning,
    r"ember(\.|$)",
)



def _reuse_freed_memory() -> None:
    """Make glibc's malloc keep freed arrays for reuse instead of giving them back to the OS.

    A training step frees and reallocates the same large arrays every step. By default glibc
    returns blocks above 128 KiB to the kernel, so each step's arrays arrive as fresh pages and
    every page costs a fault (a third of a small CNN's step). Larger mmap and trim thresholds
    let freed blocks be reused, as a caching allocator would. ``EMBER_MALLOC_DEFAULTS=1`` skips
    this; other platforms and C libraries are left alone.
    """
    import ctypes
    import os
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("EMBER_MALLOC_DEFAULTS") == "1":
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest allowed value
    mallopt(m_trim_threshold, 256 << 20)


_reuse_freed_memory()

try:  # CuPy is optional: Ember imports and runs on the CPU without it.
    import cupy as _cupy
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None

CUDA_INSTALL_HINT = (
    "CUDA support needs CuPy and an NVIDIA GPU: pip install 'ember[gpu]' (cupy-cuda12x, for "
    "CUDA 12 drivers) or 'ember[gpu-cuda13]' (cupy-cuda13x, for CUDA 13 drivers)"
)


class device:
    """A place where tensors live: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | "device", index: int | None = None) -> None:
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string like 'cpu' or 'cuda:0', got {type!r}")
        name = type.strip()
        if ":" in name:
            name, _, idx = name.partition(":")
            if not idx.isdigit() or index is not None:
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        if name == "cpu":
            index = None
        elif index is None:
            index = 0
        self.type, self.index = name, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> "device":
        """``with device("cuda"):`` makes this the default device of new tensors inside the block."""
        _DEFAULT_DEVICE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _DEFAULT_DEVICE.pop()


CPU = device("cpu")
_DEFAULT_DEVICE = [CPU]  # the default device of new tensors, innermost ``with device`` last


def set_default_device(d: "str | device | int | None") -> None:
    """Make ``d`` the device factory functions use when not told one (None: the CPU)."""
    _DEFAULT_DEVICE[0] = CPU if d is None else as_device(d)


def get_default_device() -> device:
    """The device new tensors go to when no device is given."""
    d = _DEFAULT_DEVICE[-1]
    return device(d.type, d.index) if d.type == "cpu" else d


def as_device(d: "str | device | int | None") -> device:
    """Normalise a user's device argument (None means the default device, the CPU unless set)."""
    if d is None:
        return _DEFAULT_DEVICE[-1]
    if isinstance(d, device):
        return d
    if isinstance(d, int):
        return device("cuda", d)
    return device(d)


def cuda_module_importable() -> bool:
    """True when CuPy imports (whether or not a GPU is present)."""
    return _cupy is not None


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # pragma: no cover - no driver
        return False


def cuda_module():
    """CuPy itself, or a clear error saying how to get it."""
    if not cuda_available():
        raise RuntimeError(f"Ember was asked for a CUDA device, but none is available. {CUDA_INSTALL_HINT}")
    return _cupy


def xp_for(d: device):
    """The array module for a device: numpy for 'cpu', cupy for 'cuda'."""
    if d.type == "cpu":
        return np
    return cuda_module()


def scipy_special(xp):
    """``cupyx.scipy.special`` for CuPy (GPU kernels for erf and friends); None for NumPy."""
    if xp is np or _cupy is None:
        return None
    try:
        import cupyx.scipy.special as special
    except ImportError:  # pragma: no cover - depends on the CuPy build
        return None
    return special


def special_functions(xp):
    """The special-function module for an array module: ``scipy.special`` for NumPy (imported
    on first use; SciPy is an optional dependency), ``cupyx.scipy.special`` for CuPy."""
    if xp is not np:
        return scipy_special(xp)
    try:
        import scipy.special as special
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("this op needs SciPy's special functions: pip install 'ember[extras]' "
                          "(or pip install scipy)") from None
    return special


def lapack_routine(name: str, array):
    """SciPy's LAPACK routine ``name`` (``"sytrf"``, without the type letter) for a host array's
    dtype: the factorizations NumPy and CuPy lack (LDL^T, Householder QR in packed form)."""
    try:
        from scipy.linalg import lapack
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("this op needs SciPy's LAPACK: pip install 'ember[extras]' "
                          "(or pip install scipy)") from None
    return lapack.get_lapack_funcs((name,), (array,))[0]


def on_host(fn, *arrays) -> tuple:
    """``fn(*host_arrays)`` (a tuple of arrays) with its results put back on the device of
    ``arrays[0]``: how SciPy's LAPACK serves a GPU tensor (a host round trip)."""
    d = device_of(arrays[0])
    results = fn(*(transfer(a, CPU) for a in arrays))
    return tuple(transfer(r, d) for r in results)


def xp_of(array):
    """The array module an array belongs to."""
    if type(array) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def device_of(array) -> device:
    """The device an array lives on."""
    if type(array) is np.ndarray or _cupy is None or not isinstance(array, _cupy.ndarray):
        return CPU
    return device("cuda", array.device.id)


def is_array(obj) -> bool:
    """True for NumPy or CuPy arrays."""
    return isinstance(obj, np.ndarray) or (_cupy is not None and isinstance(obj, _cupy.ndarray))


def root_of(array):
    """The array that owns the memory ``array`` looks into."""
    while True:
        base = getattr(array, "base", None)
        if base is None:
            return array
        array = base


def address_of(array) -> int:
    """The memory address of an array's first element (host or device)."""
    if isinstance(array, np.ndarray) or _cupy is None or not isinstance(array, _cupy.ndarray):
        return int(array.__array_interface__["data"][0])
    return int(array.data.ptr)


def transfer(array, d: device):
    """Copy an array to a device (no copy when it is already there)."""
    src = device_of(array)
    if src == d:
        return array
    if d.type == "cpu":
        raise_failed_checks()
        return array.get()
    cp = cuda_module()
    with cp.cuda.Device(d.index):
        return cp.asarray(array)


def read_scalar(array):
    """The one value of a size-1 array as a Python number: a read the host waits for on a GPU."""
    if type(array) is not np.ndarray:
        raise_failed_checks()
    return array.reshape(()).item()


# ---------------------------------------------------------------------------- constant tables

_TABLES: dict = {}  # (build, args, device) -> arrays, oldest first
_TABLES_LIMIT = 256


def table(build, *args, device: device):
    """The constant array(s) ``build(*args)`` makes on the host from sizes alone (gather
    indices, window weights), made once per device and kept, as a GPU would otherwise be sent
    them on every call. Callers must not write into them."""
    key = (build, args, device)
    hit = _TABLES.get(key)
    if hit is None:
        if len(_TABLES) >= _TABLES_LIMIT:
            del _TABLES[next(iter(_TABLES))]
        made = build(*args)
        hit = tuple(map(_constant_on(device), made)) if isinstance(made, tuple) else \
            _constant_on(device)(made)
        _TABLES[key] = hit
    return hit


def _constant_on(d: device):
    def place(host: np.ndarray):
        host.flags.writeable = False
        return transfer(host, d)

    return place


# ---------------------------------------------------------------------------- deferred checks

_PENDING: list = []  # (0-d bool device array, error factory) not yet read by the host
_PENDING_LIMIT = 32  # read them at least this often, so their inputs are not held for long


def require(ok, error) -> None:
    """Raise ``error()`` unless ``ok``, a 0-d boolean array, holds.

    On the CPU the check runs at once. On a GPU reading ``ok`` would make the host wait for the
    device, so, like CUDA's device-side asserts, the flag is kept and read with the next value
    the host reads (``item``, ``.cpu()``, printing, ``ember.cuda.synchronize``); a training step
    never waits. ``error`` builds the exception only on failure, so its message may read values.
    """
    if type(ok) is not np.ndarray and not isinstance(ok, (bool, np.bool_)):
        _PENDING.append((ok, error))
        if len(_PENDING) >= _PENDING_LIMIT:
            raise_failed_checks()
        return
    if not ok:
        raise error()


def raise_failed_checks() -> None:
    """Read every pending device-side check (one read per device) and raise the first failure."""
    if not _PENDING:
        return
    pending = _PENDING[:]
    _PENDING.clear()
    passed = {}
    for d in {device_of(ok) for ok, _ in pending}:
        flags = [ok for ok, _ in pending if device_of(ok) == d]
        passed[d] = iter(xp_of(flags[0]).stack(flags).get().tolist())
    for ok, error in pending:
        if not next(passed[device_of(ok)]):
            raise error()


def device_context(d: device):
    """A context manager that makes ``d`` current for allocations (a no-op on the CPU)."""
    if d.type == "cpu":
        return _NULL_CONTEXT
    return cuda_module().cuda.Device(d.index)


class _NullContext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL_CONTEXT = _NullContext()

numpy = np  # for code that needs host arrays explicitly (I/O, printing)


def broadcast_view(array, shape: tuple):
    """A read-only view of ``array`` broadcast to ``shape`` (a valid broadcast, already checked).

    Same result as ``xp.broadcast_to``; for contiguous NumPy arrays the view is built directly
    from strides, which skips broadcast_to's argument handling (it dominates for small tensors).
    """
    if type(array) is not np.ndarray or not array.flags.c_contiguous:
        return xp_of(array).broadcast_to(array, shape)
    lead = len(shape) - array.ndim
    strides = [0] * lead
    for size, target, stride in zip(array.shape, shape[lead:], array.strides):
        strides.append(0 if size == 1 and target != 1 else stride)
    view = np.ndarray(shape, array.dtype, array, 0, tuple(strides))
    view.flags.writeable = False
    return view


def module_for(arrays, op: str):
    """The one array module shared by ``arrays``; a clear error when devices differ."""
    first = arrays[0]
    if type(first) is np.ndarray:
        for a in arrays:
            if type(a) is not np.ndarray and not isinstance(a, np.ndarray):
                _mismatch(arrays, op)
        return np
    devs = {device_of(a) for a in arrays}
    if len(devs) > 1:
        _mismatch(arrays, op)
    return xp_of(first)


def _mismatch(arrays, op: str):
    names = []
    for a in arrays:
        d = str(device_of(a))
        if d not in names:
            names.append(d)
    cuda = [n for n in names if n != "cpu"]
    pair = " and ".join((cuda + ["cpu"])[:2] if "cpu" in names else names[:2])
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{pair}! (in {op})"
    )


# ---------------------------------------------------------------------------- memory overlap

def _dense(array) -> bool:
    """True when ``array``'s elements fill its memory span once each, in some order of dims
    (torch's "non-overlapping and dense"; a negative stride, which torch never makes, is not)."""
    expected = array.itemsize
    for stride, size in sorted((s, n) for s, n in zip(array.strides, array.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def overlap(written, read) -> str:
    """How an array about to be written and an array read for it share memory, as torch judges
    it before a write: "full" (the same elements in the same layout), "partial", "no", or
    "unknown" (one is not dense: torch leaves such pairs alone)."""
    if written is read:
        return "full"
    if not written.size or not read.size or device_of(written) != device_of(read):
        return "no"
    if not _dense(written) or not _dense(read):
        return "unknown"
    if not xp_of(written).may_share_memory(written, read):
        return "no"
    same = address_of(written) == address_of(read) and written.nbytes == read.nbytes \
        and written.strides == read.strides
    return "full" if same else "partial"


# ---------------------------------------------------------------------------- failures

def allocation_bytes(exc: BaseException) -> int | None:
    """The bytes an out-of-memory error from NumPy or CuPy tried to allocate (None: not one).

    NumPy's error keeps the size; CuPy's (a MemoryError too) says it first: "Out of memory
    allocating 1,024 bytes (allocated so far: ...)"."""
    if not isinstance(exc, MemoryError):
        return None
    size = getattr(exc, "_total_size", None)
    if size is None:
        found = [int(n.replace(",", "")) for n in str(exc).split() if n.replace(",", "").isdigit()]
        size = found[0] if found else 0
    return size


_ARRAY_WORDING = (  # what NumPy's and CuPy's messages say, by the kind of failure torch names
    ("could not be broadcast", "shapes"),
    ("mismatch in its core dimension", "shapes"),
    ("shape mismatch", "shapes"),
    ("not aligned", "shapes"),
    ("cannot reshape", "shapes"),
    ("array is too big", "too big"),
    ("maximum supported dimension", "too big"),
    ("negative dimensions", "negative"),
)


def failure_kind(exc: BaseException) -> str | None:
    """What an exception from an array call means, from the array library's own wording:
    "memory", "too big", "shapes", "negative", or None when it is not one of these."""
    if allocation_bytes(exc) is not None:
        return "memory"
    text = str(exc)
    for words, kind in _ARRAY_WORDING:
        if words in text:
            return kind
    return None


def element_strides(data) -> tuple:
    """Elements to step along each dim of ``data`` (torch's ``stride()``): a new empty array
    steps 0 everywhere in NumPy, where torch reports a contiguous layout's steps."""
    if data.size or any(data.strides):
        return tuple(s // data.itemsize for s in data.strides)
    return tuple(math.prod(max(n, 1) for n in data.shape[d + 1:]) for d in range(data.ndim))
