"""Reading ``torch.save`` files (zip and legacy) into Ember tensors without running their code.

A file is a pickle whose tensors point at storages by persistent id; the zip format keeps each
storage in its own record (``archive/data/<key>``), the legacy format appends them after the
pickle. :class:`WeightsUnpickler` reads it with the names torch's own ``weights_only`` loader
allows, mapped to Ember's: each storage becomes one host array and every tensor a strided view
of it, so shared storages and views stay shared.
"""
from __future__ import annotations

import io
import pickle
import struct
import warnings
import zipfile
from typing import Any, Callable

from .. import backend, dtypes
from .._weights_only_unpickler import BUILTINS, Allowed, WeightsUnpickler, failed
from ..map_location import resolve_location, to_device
from ..nn.parameter import Parameter
from ..tensor import Size, Tensor
from .storage_types import ALIASES, DTYPES, TorchDtype, numpy_dtype

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class _StorageType:
    """``torch.FloatStorage`` and kin: the element type of a storage (None: untyped bytes)."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: str | None) -> None:
        self.dtype = dtype


class Storage:
    """One storage of the file: its bytes (a writable host uint8 array) and where it lived."""

    __slots__ = ("raw", "dtype", "location")

    def __init__(self, raw, dtype: str | None, location: str) -> None:
        self.raw = raw
        self.dtype = dtype
        self.location = location


# ------------------------------------------------------------------------------ reading


class _Reader:
    """Turns storages and the rebuild calls of one file into Ember tensors."""

    def __init__(self, where: str, map_location, fetch: Callable[[str, int], Any]) -> None:
        self.where = where
        self.map_location = map_location
        self.fetch = fetch  # (key, nbytes) -> uint8 array of the storage's bytes (or placeholder)
        self.storages: dict[str, Storage] = {}
        self.widened: dict[str, str] = {}  # torch dtype -> the Ember dtype its tensors became
        self.made: list[tuple] = []  # (tensor, torch dtype, its storage, requires_grad) to finish
        self.aliases: dict[int, list] = {}  # id(tensor) -> parameters made from it

    # -------------------------------------------------------------- persistent ids
    def persistent_load(self, pid: tuple) -> Storage:
        if len(pid) not in (5, 6):
            raise failed(f"malformed storage reference {pid!r:.100}")
        _, storage_type, key, location, numel = pid[:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(storage_type, _StorageType):
            raise failed(f"storage reference without a storage type: {pid!r:.100}")
        key, location = _text(key), _text(location)
        if type(numel) is not int or numel < 0 or not isinstance(location, str):
            raise failed(f"malformed storage reference {pid!r:.100}")
        storage = self.storages.get(key)
        if storage is None:
            itemsize = 1 if storage_type.dtype is None else numpy_dtype(storage_type.dtype).itemsize
            storage = Storage(self.fetch(key, numel * itemsize), storage_type.dtype, location)
            self.storages[key] = storage
        if view is None:
            return storage
        _, offset, size = view  # legacy storage views (key, offset, size): a slice of the root storage
        itemsize = numpy_dtype(storage_type.dtype).itemsize
        return Storage(storage.raw[offset * itemsize:(offset + size) * itemsize], storage.dtype, location)

    # -------------------------------------------------------------- rebuild functions
    def rebuild_v2(self, storage, offset, size, stride, requires_grad, hooks=None, metadata=None):
        return self._tensor(storage, storage.dtype if isinstance(storage, Storage) else None,
                            offset, size, stride, requires_grad)

    def rebuild_v3(self, storage, offset, size, stride, requires_grad, hooks, dtype, metadata=None):
        name = dtype.name if isinstance(dtype, (dtypes.dtype, TorchDtype)) else None
        if name is None:
            raise failed(f"_rebuild_tensor_v3 expects a dtype, got {dtype!r:.60}")
        return self._tensor(storage, name, offset, size, stride, requires_grad)

    def rebuild_v1(self, storage, offset, size, stride):
        return self.rebuild_v2(storage, offset, size, stride, False)

    def _tensor(self, storage, dtype_name, offset, size, stride, requires_grad) -> Tensor:
        if not isinstance(storage, Storage) or dtype_name is None:
            raise failed(f"a tensor must be built from a storage, got {storage!r:.60}")
        np = backend.numpy
        dt = numpy_dtype(dtype_name)
        size, stride = _ints(size, "size"), _ints(stride, "stride")
        if type(offset) is not int or offset < 0 or len(size) != len(stride) or min(size + (0,)) < 0 \
                or min(stride + (0,)) < 0:
            raise failed(f"tensor of size {size}, stride {stride}, offset {offset!r:.20} is malformed")
        if storage.raw.size % dt.itemsize:
            raise failed(f"storage of {storage.raw.size} bytes is not a whole number of {dtype_name}")
        elements = storage.raw.view(dt)
        numel = 1
        for s in size:
            numel *= s
        if numel:
            last = offset + sum((s - 1) * st for s, st in zip(size, stride))
            if last >= elements.size:
                raise failed(f"tensor of size {list(size)}, stride {list(stride)} at offset {offset} "
                             f"reaches element {last} of a storage of {elements.size} elements "
                             f"in {self.where} (the storage is too small: damaged or forged file)")
        array = np.ndarray(size, dtype=dt, buffer=storage.raw, offset=offset * dt.itemsize if numel else 0,
                           strides=tuple(st * dt.itemsize for st in stride))
        t = Tensor._make(array)
        self.made.append((t, dtype_name, storage, requires_grad is True))
        return t

    def finish(self) -> None:
        """Give the tensors their final dtype, device and ``requires_grad`` once storages are filled.

        (Legacy files hold the bytes after the pickle, so converting earlier would copy zeros.)
        """
        devices: dict[int, backend.device] = {}  # map_location is asked once per storage, as torch's
        for t, dtype_name, storage, requires_grad in self.made:
            if storage is not None:  # a tensor (not a parameter made from one)
                array = self._ember_dtype(t._data, dtype_name)
                dev = devices.get(id(storage))
                if dev is None:
                    dev = devices[id(storage)] = self._device(storage)
                if dev.type != "cpu":
                    array = to_device(array, dev, self.where)
                t._data = array
                for alias in self.aliases.get(id(t), ()):
                    alias._data = array
            if requires_grad:
                t.requires_grad_(True)

    def _ember_dtype(self, array, dtype_name: str):
        """``array`` as is when Ember has its dtype, else widened (noted for one warning per dtype)."""
        try:
            dtypes.from_numpy(array.dtype)
            return array
        except TypeError:
            pass
        if array.dtype.kind == "c":
            raise TypeError(f"ember.load: {self.where} holds {dtype_name} tensors; Ember has no "
                            "complex dtypes")
        target = "int64" if array.dtype.kind in "iub" else "float32"
        self.widened[dtype_name] = target
        return array.astype(target)

    def _device(self, storage: Storage) -> backend.device:
        """Where ``map_location`` sends a storage (a device, a dict or a function, as torch's)."""
        loc = self.map_location
        if callable(loc) and not isinstance(loc, (str, dict, backend.device)):
            moved = loc(Tensor._make(storage.raw), storage.location)
            if isinstance(moved, Tensor):
                return moved.device
            return resolve_location(None, storage.location)
        return resolve_location(loc, storage.location)

    def parameter(self, data, requires_grad=True, hooks=None, state=None):
        if not isinstance(data, Tensor) or state:
            raise failed("a Parameter must wrap a tensor and carry no extra state")
        param = Parameter(data, requires_grad=False)
        self.aliases.setdefault(id(data), []).append(param)
        self.made.append((param, None, None, bool(requires_grad)))
        return param

    def from_type(self, func, new_type, args, state):
        """``torch._tensor._rebuild_from_type_v2``: only for plain tensors and parameters."""
        if new_type not in (_TENSOR, _PARAMETER) or state:
            raise failed(f"tensor subclass {new_type!r:.60} is not supported")
        t = func.fn(*args) if isinstance(func, Allowed) and func.fn is not None else None
        if not isinstance(t, Tensor):
            raise failed(f"_rebuild_from_type_v2 expects a tensor rebuild function, got {func!r:.60}")
        if new_type is _TENSOR:
            return t
        return self.parameter(t, next(entry[3] for entry in self.made if entry[0] is t))

    def allowed(self) -> dict[str, Allowed]:
        """The names a weights-only file may use, bound to this reader."""
        table = dict(BUILTINS)

        def add(name: str, fn=None, value=None) -> None:
            table[name] = Allowed(name, fn, value)

        add("torch._utils._rebuild_tensor", self.rebuild_v1)
        add("torch._utils._rebuild_tensor_v2", self.rebuild_v2)
        add("torch._utils._rebuild_tensor_v3", self.rebuild_v3)
        add("torch._utils._rebuild_parameter", self.parameter)
        add("torch._utils._rebuild_parameter_with_state", self.parameter)
        add("torch._tensor._rebuild_from_type_v2", self.from_type)
        add("torch.Size", lambda dims=(): Size(_ints(dims, "torch.Size")))
        add("torch.device", lambda *a: backend.device(*a))
        add("torch.Tensor", value=_TENSOR)
        add("torch.nn.parameter.Parameter", value=_PARAMETER)
        add("torch.storage.UntypedStorage", value=_StorageType(None))
        for name, (storage_class, _) in DTYPES.items():
            add(f"torch.{name}", value=_dtype_value(name))
            if storage_class is not None:
                add(f"torch.{storage_class}", value=_StorageType(name))
        for alias, name in ALIASES.items():
            add(f"torch.{alias}", value=_dtype_value(name))
        return table


_TENSOR = Allowed("torch.Tensor")
_PARAMETER = Allowed("torch.nn.parameter.Parameter")


def _dtype_value(name: str):
    try:
        return dtypes.from_name(name)
    except KeyError:
        return TorchDtype(name)


def _ints(values, what: str) -> tuple:
    if not isinstance(values, tuple) or any(type(v) is not int for v in values):
        raise failed(f"{what} must be a tuple of ints, got {values!r:.60}")
    return values


def _text(value):
    return value.decode("ascii") if isinstance(value, bytes) else value


def is_zip(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04"


def is_legacy(head: bytes) -> bool:
    """A legacy ``torch.save`` file starts with the pickled magic number."""
    return head[:2] == b"\x80\x02" and head[2:4] == b"\x8a\x0a"


def is_torch(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a ``torch.save`` file (zip or legacy)."""
    return is_zip(head) or is_legacy(head)


def load(data: bytes, where: str, map_location, weights_only: bool):
    """Read a torch zip or legacy file from its bytes."""
    read = _load_zip if is_zip(data) else _load_legacy
    result, reader = read(data, where, map_location, weights_only)
    reader.finish()
    for name, target in reader.widened.items():
        warnings.warn(f"ember.load: {where} holds {name} tensors, a dtype Ember does not have; "
                      f"they are loaded as {target}", UserWarning, stacklevel=3)
    return result


def _load_zip(data: bytes, where: str, map_location, weights_only: bool):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise RuntimeError(f"ember.load: {where} is a damaged or truncated PyTorch zip archive "
                           f"(failed finding central directory: {exc})") from None
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise RuntimeError(f"ember.load: {where} is a zip archive but not a PyTorch checkpoint "
                           "(no <archive>/data.pkl record)")
    prefix = pkl[0][:-len("data.pkl")]
    big_endian = _record(archive, prefix + "byteorder", where, optional=True) == b"big"

    def fetch(key: str, nbytes: int):
        raw = _record(archive, f"{prefix}data/{key}", where)
        if len(raw) != nbytes:
            raise failed(f"storage '{key}' of {where} declares {nbytes} bytes but holds {len(raw)} "
                         "(damaged or forged file)")
        return backend.numpy.frombuffer(bytearray(raw), dtype=backend.numpy.uint8)

    reader = _Reader(where, map_location, fetch)
    if big_endian:
        raise RuntimeError(f"ember.load: {where} was written on a big-endian machine; "
                           "Ember reads little-endian checkpoints only")
    return _unpickle(_record(archive, pkl[0], where), reader, weights_only)[0], reader


def _record(archive: zipfile.ZipFile, name: str, where: str, optional: bool = False):
    try:
        info = archive.getinfo(name)
    except KeyError:
        if optional:
            return None
        raise RuntimeError(f"ember.load: {where} has no record {name} (truncated or damaged)") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise RuntimeError(f"ember.load: record {name} of {where} is compressed; PyTorch "
                           "checkpoints store records uncompressed")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, struct.error) as exc:
        raise RuntimeError(f"ember.load: record {name} of {where} is damaged or truncated ({exc})") \
            from None


def _unpickle(data: bytes, reader: _Reader, weights_only: bool, pos: int = 0):
    """Run the weights-only reader (or, opted in, Python's pickle) over one pickle."""
    if weights_only:
        u = WeightsUnpickler(data, reader.allowed(), reader.persistent_load, pos)
        return u.load(), u.pos
    stream = io.BytesIO(data)
    stream.seek(pos)
    u = _FullUnpickler(stream, reader)
    return u.load(), stream.tell()


class _FullUnpickler(pickle.Unpickler):
    """Python's pickle (runs code!), with torch's tensor names mapped to Ember's; opt-in only."""

    def __init__(self, stream, reader: _Reader) -> None:
        super().__init__(stream)
        self.reader = reader
        self.table = reader.allowed()

    def find_class(self, module: str, name: str):
        entry = self.table.get(f"{module}.{name}")
        if entry is None:
            return super().find_class(module, name)
        return entry.value if entry.fn is None else entry.fn

    def persistent_load(self, pid):
        return self.reader.persistent_load(pid)


def _load_legacy(data: bytes, where: str, map_location, weights_only: bool):
    """The pre-1.6 format: magic, protocol, system info, the object, storage keys, then the bytes."""
    np = backend.numpy
    pending: dict[str, tuple] = {}

    def fetch(key: str, nbytes: int):
        if nbytes > len(data):  # checked before allocating: a forged size must not exhaust memory
            raise failed(f"storage '{key}' of {where} declares {nbytes} bytes, more than the whole file")
        raw = np.zeros(nbytes, dtype=np.uint8)  # filled in below, after the object's pickle
        pending[key] = (raw, nbytes)
        return raw

    reader = _Reader(where, map_location, fetch)
    header = _Reader(where, None, fetch)
    magic, pos = _unpickle(data, header, True)
    if magic != LEGACY_MAGIC:
        raise RuntimeError(f"ember.load: {where}: invalid magic number; corrupt file?")
    protocol, pos = _unpickle(data, header, True, pos)
    if protocol != LEGACY_PROTOCOL:
        raise RuntimeError(f"ember.load: {where}: invalid protocol version: {protocol}")
    info, pos = _unpickle(data, header, True, pos)
    if isinstance(info, dict) and info.get("little_endian") is False:
        raise RuntimeError(f"ember.load: {where} was written on a big-endian machine")
    result, pos = _unpickle(data, reader, weights_only, pos)
    keys, pos = _unpickle(data, header, True, pos)
    if not isinstance(keys, list):
        raise failed("the storage key list is malformed")
    for key in keys:
        key = _text(key)
        if key not in pending:
            raise failed(f"storage key {key!r:.40} is not referenced by the object")
        raw, nbytes = pending[key]
        if pos + 8 > len(data):
            raise RuntimeError(f"ember.load: {where} is truncated (storage '{key}' is missing)")
        numel = struct.unpack_from("<q", data, pos)[0]
        storage = reader.storages[key]
        itemsize = 1 if storage.dtype is None else numpy_dtype(storage.dtype).itemsize
        if numel * itemsize != nbytes or pos + 8 + nbytes > len(data):
            raise failed(f"storage '{key}' of {where} declares {nbytes} bytes but the file holds "
                         f"{numel * itemsize} (damaged, truncated or forged file)")
        raw[:] = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=pos + 8)
        pos += 8 + nbytes
    return result, reader
