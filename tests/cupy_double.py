"""A CuPy stand-in that runs Ember's CUDA code paths on a machine without a GPU (tests only).

It is no GPU: its arrays are NumPy arrays in host memory. What it keeps of CuPy is what breaks
code that was only ever run on the CPU:

- a distinct array type that NumPy refuses to convert implicitly (``np.asarray`` raises CuPy's
  TypeError), operations that refuse host arrays, and NumPy functions that refuse it (op code
  must take its array module from the tensor, never call ``numpy`` on device data);
- only the names real CuPy has (``cupy_names.json``, written by ``tools/cupy_names.py``);
- reductions and scalar indexing give 0-d arrays, not NumPy scalars;
- every device-to-host read (``item``, ``float``, ``bool``, ``tolist``, ``get``, ...) and every
  host-to-device copy is counted, and ``forbid_host_traffic()`` turns them into errors, so tests
  can show that a training step never waits on the device.

``install()`` puts it in ``sys.modules`` as ``cupy`` and ``cupyx`` before Ember is imported;
``conftest.py`` does so when ``EMBER_CUDA_DOUBLE=1`` (``make test-cuda-double``).
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
import types
import weakref
from pathlib import Path

import numpy as np

NAMES = json.loads(Path(__file__).with_name("cupy_names.json").read_text())
_TOP = frozenset(NAMES["cupy"])
_ARRAY = frozenset(NAMES["cupy.ndarray"])
_UFUNC = frozenset(NAMES["cupy.ufunc"])
_GENERATOR = frozenset(NAMES["cupy.random.Generator"])


class HostTraffic(AssertionError):
    """A device-to-host read or host-to-device copy where ``forbid_host_traffic`` is in force."""


class Traffic:
    """Counts of host round-trips since the last ``reset``."""

    def __init__(self) -> None:
        self.reads = self.uploads = self.forbidden = 0
        self.uploads_forbidden = True

    def reset(self) -> None:
        self.reads = self.uploads = 0


TRAFFIC = Traffic()


def _read(what: str) -> None:
    TRAFFIC.reads += 1
    if TRAFFIC.forbidden:
        raise HostTraffic(f"device-to-host read ({what}) where none is allowed")


def _upload(what: str) -> None:
    TRAFFIC.uploads += 1
    if TRAFFIC.forbidden and TRAFFIC.uploads_forbidden:
        raise HostTraffic(f"host-to-device copy ({what}) where none is allowed")


@contextlib.contextmanager
def forbid_host_traffic(uploads: bool = True):
    """Raise HostTraffic on any device-to-host read inside the block, and on any host-to-device
    copy too unless ``uploads`` is False."""
    saved = TRAFFIC.uploads_forbidden
    TRAFFIC.forbidden += 1
    TRAFFIC.uploads_forbidden = uploads
    try:
        yield TRAFFIC
    finally:
        TRAFFIC.forbidden -= 1
        TRAFFIC.uploads_forbidden = saved


# ---------------------------------------------------------------------------- arrays


def _device_data(x, what: str, host_ok: bool = False):
    """The NumPy array behind ``x`` (recursing into lists and tuples); host arrays refused."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, np.ndarray):
        if not host_ok:
            raise TypeError(f"Unsupported type {type(x)} (in cupy {what}): a host array where "
                            "a device array is needed")
        _upload(what)
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(_device_data(v, what, host_ok) for v in x)
    if isinstance(x, dict):
        return {k: _device_data(v, what, host_ok) for k, v in x.items()}
    return x


def _wrap(r):
    """Results as device arrays: NumPy arrays and scalars alike (CuPy has no scalars)."""
    if isinstance(r, np.ndarray):
        return ndarray(r)
    if isinstance(r, np.generic):
        return ndarray(np.asarray(r))
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    if isinstance(r, tuple):  # NumPy's named results (linalg.qr, eigh, svd) are plain in CuPy
        return tuple(_wrap(v) for v in r)
    return r


def _call(fn, what: str, args, kwargs, host_ok: bool = False):
    args, kwargs = _device_data(args, what, host_ok), _device_data(kwargs, what, host_ok)
    with np.errstate(all="ignore"):  # a GPU kernel gives nan and inf without a warning
        return _wrap(fn(*args, **kwargs))


class Device:
    """``cupy.cuda.Device``: the double has one GPU, number 0."""

    def __init__(self, device=None) -> None:
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def synchronize(self) -> None:
        """An explicit wait for the device: counted like any other host read."""
        _read("synchronize")


_LIVE: dict = {}  # id -> weak reference, for the memory pool (device arrays are unhashable)


class Event:
    """``cupy.cuda.Event``: the double's device work is done when a call returns, so host time."""

    def __init__(self, *args, **kwargs) -> None:
        self.time = None

    def record(self, stream=None) -> None:
        self.time = time.perf_counter()

    def synchronize(self) -> None:
        """Nothing is pending on the double."""


def _elapsed_ms(start: Event, end: Event) -> float:
    return (end.time - start.time) * 1000


class ndarray:  # noqa: N801 - CuPy's name
    """A device array: a NumPy array that only device operations may touch."""

    __slots__ = ("_a", "__weakref__")
    __hash__ = None

    def __init__(self, a: np.ndarray) -> None:
        self._a = a
        key = id(self)
        _LIVE[key] = weakref.ref(self, lambda _, key=key: _LIVE.pop(key, None))

    # -- reads that wait for the device
    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def get(self, stream=None, order="C", out=None) -> np.ndarray:
        _read("get")
        return np.array(self._a, order=order)

    def item(self, *args):
        _read("item")
        return self._a.item(*args)

    def tolist(self):
        _read("tolist")
        return self._a.tolist()

    def tobytes(self, order="C") -> bytes:
        _read("tobytes")
        return self._a.tobytes(order)

    def __format__(self, spec: str) -> str:
        _read("format")
        return format(self._a, spec)

    # -- what stays on the device
    @property
    def device(self) -> Device:
        return Device(0)

    @property
    def flags(self) -> types.SimpleNamespace:
        """CuPy's read-only flags: no ``writeable`` to set or read."""
        f = self._a.flags
        return types.SimpleNamespace(c_contiguous=f.c_contiguous, f_contiguous=f.f_contiguous,
                                     owndata=f.owndata)

    @property
    def data(self) -> types.SimpleNamespace:
        """A device pointer (``.ptr``), as CuPy's MemoryPointer, not a buffer to read."""
        return types.SimpleNamespace(ptr=self._a.__array_interface__["data"][0])

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (ndarray(row) for row in self._a)

    def __getattr__(self, name: str):
        if name not in _ARRAY:
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        value = getattr(self._a, name)
        if callable(value):
            return lambda *args, **kwargs: _call(value, f"ndarray.{name}", args, kwargs)
        return _wrap(value)

    def __getitem__(self, index):
        return _wrap(_indexed(self._a, _index(index), lambda a, i: a[i]))

    def __setitem__(self, index, value) -> None:
        value = _device_data(value, "__setitem__", host_ok=True)
        _indexed(self._a, _index(index), lambda a, i: a.__setitem__(i, value))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _call(getattr(ufunc, method), ufunc.__name__, inputs, kwargs)

    def __array_function__(self, func, kinds, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} was called on a CUDA array: array code must use "
                        "the tensor's array module (xp), not numpy")


def _index(index):
    """An index with device arrays opened; host index arrays are copied over, as CuPy does."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if type(index) is ndarray:
        return index._a
    if isinstance(index, (np.ndarray, list)):
        _upload("index")
        return np.asarray(index)
    return index


def _indexed(a: np.ndarray, index, use):
    """``use(a, index)``; integer indices out of range wrap around, as in CuPy (no IndexError:
    a GPU kernel cannot raise one)."""
    try:
        return use(a, index)
    except IndexError:
        return use(a, _wrapped(index, a.shape))


def _wrapped(index, shape: tuple):
    """``index`` with each integer array taken modulo the size of the dimension it indexes."""
    parts = index if isinstance(index, tuple) else (index,)
    consumed = sum(0 if p is None or p is Ellipsis else
                   p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else 1 for p in parts)
    out, dim = [], 0
    for p in parts:
        if p is Ellipsis:
            dim += len(shape) - consumed
        elif isinstance(p, np.ndarray) and p.dtype.kind in "iu" and dim < len(shape):
            p = p % shape[dim]
        if p is not None and p is not Ellipsis:
            dim += p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else 1
        out.append(p)
    return tuple(out)


def _operator(ufunc, reflected: bool = False):
    if reflected:
        return lambda self, other: _call(ufunc, ufunc.__name__, (other, self), {})
    return lambda self, other: _call(ufunc, ufunc.__name__, (self, other), {})


def _inplace(ufunc):
    def apply(self, other):
        with np.errstate(all="ignore"):
            ufunc(self._a, _device_data(other, ufunc.__name__), out=self._a)
        return self

    return apply


def _reading(convert):
    """A conversion to a host value (``float(x)``, ``repr(x)``...): a counted device read."""

    def read(self):
        _read(convert.__name__)
        return convert(self._a)

    return read


for _convert in (float, int, bool, complex, repr):
    setattr(ndarray, f"__{_convert.__name__}__", _reading(_convert))
for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                      ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                      ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
                      ("lshift", np.left_shift), ("rshift", np.right_shift)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
    setattr(ndarray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(ndarray, f"__i{_name}__", _inplace(_ufunc))
for _name, _ufunc in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                      ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
for _name, _ufunc in [("neg", np.negative), ("pos", np.positive), ("abs", np.absolute),
                      ("invert", np.invert)]:
    setattr(ndarray, f"__{_name}__", lambda self, _u=_ufunc: _call(_u, _u.__name__, (self,), {}))


# ---------------------------------------------------------------------------- the modules


class _UFunc:
    """A CuPy ufunc: calls and its methods (``at``, ``reduce``, ...) on device arrays."""

    def __init__(self, ufunc) -> None:
        self._u = ufunc

    def __call__(self, *args, **kwargs):
        return _call(self._u, self._u.__name__, args, kwargs)

    def __getattr__(self, name: str):
        if name not in _UFUNC:
            raise AttributeError(f"'cupy.ufunc' object has no attribute '{name}'")
        value = getattr(self._u, name)
        if not callable(value):
            return value
        if name == "at":  # a scatter: out-of-range indices wrap around, as in __getitem__
            return lambda a, index, *b: _indexed(
                _device_data(a, "at"), _index(index),
                lambda arr, i: value(arr, i, *_device_data(b, "at")))
        return lambda *args, **kwargs: _call(value, f"{self._u.__name__}.{name}", args, kwargs)


class _Philox:
    """``cupy.random.Philox4x3210``: here only the seed it holds (the draws are NumPy's)."""

    def __init__(self, seed=None) -> None:
        self.seed = seed


class _Generator:
    """``cupy.random.Generator`` over NumPy's PCG64 (CuPy's own streams differ, as on a GPU)."""

    def __init__(self, seed) -> None:
        self._g = np.random.default_rng(seed.seed if isinstance(seed, _Philox) else seed)

    def __getattr__(self, name: str):
        if name not in _GENERATOR:
            raise AttributeError(f"'cupy.random.Generator' object has no attribute '{name}'")
        method = getattr(self._g, name)
        return lambda *args, **kwargs: _call(method, f"Generator.{name}", args, kwargs)


class _OGrid:
    def __getitem__(self, key):
        return _wrap(np.ogrid[key])


def _from_host(fn):
    """``cupy.array``/``asarray``: the functions that copy host data to the device."""

    def make(obj, *args, **kwargs):
        if type(obj) is ndarray:
            return _wrap(fn(obj._a, *args, **kwargs))
        _upload(fn.__name__)  # host data, a Python number too, is copied to the device
        return _wrap(fn(_device_data(obj, fn.__name__, host_ok=True), *args, **kwargs))

    return make


def _get_array_module(*arrays):
    return sys.modules["cupy"] if any(type(a) is ndarray for a in arrays) else np


class _MemoryPool:
    def total_bytes(self) -> int:
        """Host memory stands in for the pool: what is held is what is used."""
        return self.used_bytes()

    def free_all_blocks(self) -> None:
        """Nothing cached to give back."""

    def used_bytes(self) -> int:
        """Bytes of every distinct buffer held by a live device array."""
        buffers = {}
        for ref in list(_LIVE.values()):
            array = ref()
            if array is None:
                continue
            root = array._a
            while isinstance(root.base, np.ndarray):
                root = root.base
            buffers[id(root)] = root.nbytes
        return sum(buffers.values())


_POOL = _MemoryPool()


def _attribute(name: str):
    """``cupy.<name>`` for the names real CuPy has, with NumPy's meaning on device arrays."""
    if name not in _TOP:
        raise AttributeError(f"module 'cupy' has no attribute '{name}'")
    value = getattr(np, name)
    if isinstance(value, np.ufunc):
        return _UFunc(value)
    if isinstance(value, type) or not callable(value):
        return value
    return lambda *args, **kwargs: _call(value, name, args, kwargs)


def _fuse(*args, **kwargs):
    """``cupy.fuse`` (as ``@fuse`` or ``@fuse(...)``): here the function itself, run op by op on
    the stand-in's arrays; a GPU compiles it into one kernel with the same values."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn


def _module(name: str, **attributes) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


def install() -> None:
    """Put the double in ``sys.modules`` as ``cupy`` and ``cupyx`` (before Ember is imported)."""
    import scipy.special

    runtime = _module("cupy.cuda.runtime", getDeviceCount=lambda: 1, getDevice=lambda: 0,
                      setDevice=lambda index: Device(index) and None,
                      getDeviceProperties=lambda index: Device(index) and {
                          "name": b"CuPy stand-in on NumPy", "totalGlobalMem": 2**30,
                          "major": 9, "minor": 0, "multiProcessorCount": 1})
    cuda = _module("cupy.cuda", Device=Device, runtime=runtime, Event=Event, get_elapsed_time=_elapsed_ms)
    stride_tricks = _module(
        "cupy.lib.stride_tricks",
        as_strided=lambda x, *a, **k: _call(np.lib.stride_tricks.as_strided, "as_strided", (x,) + a, k),
        sliding_window_view=lambda x, *a, **k: _call(
            np.lib.stride_tricks.sliding_window_view, "sliding_window_view", (x,) + a, k),
    )
    lib = _module("cupy.lib", stride_tricks=stride_tricks)
    linalg = _module("cupy.linalg", LinAlgError=np.linalg.LinAlgError, **{
        n: (lambda fn: lambda *a, **k: _call(fn, fn.__name__, a, k))(getattr(np.linalg, n))
        for n in NAMES["cupy.linalg"] if not n.startswith("_") and callable(getattr(np.linalg, n, None))
        and n != "LinAlgError"})
    random = _module("cupy.random", default_rng=_Generator, Generator=_Generator,
                     Philox4x3210=_Philox)
    cupy = _module(
        "cupy", __version__=f"{NAMES['version']}+double", ndarray=ndarray, cuda=cuda, lib=lib,
        linalg=linalg,
        random=random, ogrid=_OGrid(), get_array_module=_get_array_module,
        get_default_memory_pool=lambda: _POOL, array=_from_host(np.array),
        asarray=_from_host(np.asarray), asanyarray=_from_host(np.asarray), fuse=_fuse,
    )
    cupy.__getattr__ = _attribute
    special_names = [n for n in NAMES["cupyx.scipy.special"] if hasattr(scipy.special, n)]
    special = _module("cupyx.scipy.special", **{
        n: (lambda fn: lambda *a, **k: _call(fn, fn.__name__, a, k))(getattr(scipy.special, n))
        for n in special_names if not n.startswith("_")
    })
    cupyx_scipy = _module("cupyx.scipy", special=special)
    cupyx = _module("cupyx", scipy=cupyx_scipy)
    sys.modules.update({
        "cupy": cupy, "cupy.cuda": cuda, "cupy.cuda.runtime": runtime, "cupy.lib": lib,
        "cupy.linalg": linalg,
        "cupy.lib.stride_tricks": stride_tricks, "cupy.random": random, "cupyx": cupyx,
        "cupyx.scipy": cupyx_scipy, "cupyx.scipy.special": special,
    })


__all__ = ["install", "forbid_host_traffic", "TRAFFIC", "HostTraffic", "ndarray"]
