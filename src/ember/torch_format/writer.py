"""Writing torch's zip checkpoint format: the pickle opcodes ``torch.save`` emits, storages aligned.

Tensors become ``torch._utils._rebuild_tensor_v2`` calls on storages (``_v3`` for dtypes with no
legacy storage class) so ``torch.load(weights_only=True)`` reads the file; tensors that view one
buffer share one storage. Anything a weights-only file cannot hold makes a whole-object pickle.
"""
from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from typing import Any

from .. import backend, dtypes
from ..nn.parameter import Parameter
from ..tensor import Size, Tensor
from .storage_types import DTYPES, torch_name

_ALIGNMENT = 64


class NotWeights(TypeError):
    """The object holds something a weights-only file cannot: it needs a whole-object pickle."""


class _Writer:
    """Emits a protocol-2 pickle of tensors and plain data with torch's names for tensors."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.memo: dict[int, int] = {}
        self.storages: dict[tuple, tuple[str, Any]] = {}  # (id(buffer), dtype) -> (key, elements)
        self.keep: list = []  # objects memoized by id stay alive while writing

    def op(self, code: bytes, *packed: bytes) -> None:
        self.out.write(code)
        for p in packed:
            self.out.write(p)

    def put(self, obj) -> None:
        index = len(self.memo)
        self.memo[id(obj)] = index
        self.keep.append(obj)
        self.op(b"r", struct.pack("<I", index))

    def dump(self, obj) -> bytes:
        self.op(b"\x80\x02")
        self.save(obj, "")
        self.op(b".")
        return self.out.getvalue()

    def global_(self, module: str, name: str) -> None:
        self.op(b"c", f"{module}\n{name}\n".encode())

    def save(self, obj, path: str) -> None:
        if id(obj) in self.memo:
            self.op(b"j", struct.pack("<I", self.memo[id(obj)]))
            return
        if isinstance(obj, Tensor):
            self._tensor(obj, path)
            return
        if isinstance(obj, backend.numpy.generic):
            obj = obj.item()
        if obj is None:
            self.op(b"N")
        elif obj is True or obj is False:
            self.op(b"\x88" if obj else b"\x89")
        elif type(obj) is int:
            self._int(obj)
        elif type(obj) is float:
            self.op(b"G", struct.pack(">d", obj))
        elif type(obj) is str:
            raw = obj.encode("utf-8", "surrogatepass")
            self.op(b"X", struct.pack("<I", len(raw)), raw)
        elif type(obj) is bytes:
            self.global_("_codecs", "encode")
            self.save((obj.decode("latin1"), "latin1"), path)
            self.op(b"R")
        elif isinstance(obj, Size):
            self.global_("torch", "Size")
            self.save(tuple(obj), path)
            self.op(b"\x85R")
        elif isinstance(obj, backend.device):
            self.global_("torch", "device")
            self.save(str(obj), path)
            self.op(b"\x85R")
        elif isinstance(obj, dtypes.dtype):
            self.global_("torch", obj.name)
        elif type(obj) is tuple:
            self.op(b"(")
            for i, v in enumerate(obj):
                self.save(v, _join(path, i))
            self.op(b"t")
        elif type(obj) is list:
            self.op(b"]")
            self.put(obj)
            self._items(b"e", list(enumerate(obj)), path, keyed=False)
        elif type(obj) in (dict, OrderedDict):
            self._dict(obj, path)
        elif type(obj) in (set, frozenset):
            self.global_("builtins", type(obj).__name__)
            self.save(list(obj), path)
            self.op(b"\x85R")
        else:
            raise NotWeights(f"{type(obj).__module__}.{type(obj).__name__} at '{path or '<root>'}'")

    def _int(self, n: int) -> None:
        if 0 <= n < 256:
            self.op(b"K", struct.pack("<B", n))
        elif 0 <= n < 65536:
            self.op(b"M", struct.pack("<H", n))
        elif -2**31 <= n < 2**31:
            self.op(b"J", struct.pack("<i", n))
        else:
            raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
            self.op(b"\x8a", struct.pack("<B", len(raw)), raw)

    def _items(self, code: bytes, items: list, path: str, keyed: bool = True) -> None:
        if not items:
            return
        self.op(b"(")
        for key, value in items:
            if keyed:
                self.save(key, path)
            self.save(value, _join(path, key))
        self.op(code)

    def _dict(self, obj: dict, path: str) -> None:
        ordered = type(obj) is OrderedDict
        if ordered:
            self.global_("collections", "OrderedDict")
            self.op(b")R")
        else:
            self.op(b"}")
        self.put(obj)
        self._items(b"u", list(obj.items()), path)
        metadata = getattr(obj, "_metadata", None) if ordered else None
        if metadata is not None:
            self.save({"_metadata": metadata}, path)
            self.op(b"b")

    def _tensor(self, t: Tensor, path: str) -> None:
        is_param = isinstance(t, Parameter)
        if is_param:
            self.global_("torch._utils", "_rebuild_parameter")
            self.op(b"(")
        array = t._data
        device = str(t.device)
        if device != "cpu":
            array = backend.transfer(array, backend.CPU)
        name = torch_name(array.dtype)
        key, root, offset, strides = self._storage(array)
        storage_class = DTYPES[name][0]
        self.global_("torch._utils", "_rebuild_tensor_v2" if storage_class else "_rebuild_tensor_v3")
        self.op(b"((")
        self.save("storage", path)
        if storage_class:
            self.global_("torch", storage_class)
            numel = root.size
        else:
            self.global_("torch.storage", "UntypedStorage")
            numel = root.nbytes
        self.save(key, path)
        self.save(device, path)
        self._int(numel)
        self.op(b"tQ")
        self._int(offset)
        self.save(tuple(array.shape), path)
        self.save(strides, path)
        self.op(b"\x88" if t.requires_grad and not is_param else b"\x89")
        self.global_("collections", "OrderedDict")
        self.op(b")R")
        if not storage_class:
            self.global_("torch", name)
        self.op(b"tR")
        if is_param:
            self.op(b"\x88" if t.requires_grad else b"\x89")
            self.global_("collections", "OrderedDict")
            self.op(b")RtR")
        self.put(t)

    def _storage(self, array):
        """The storage holding ``array``: the buffer it views when that can be shared, else a copy."""
        np = backend.numpy
        root = _root(array)
        itemsize = array.itemsize
        start = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        shareable = (root.flags.c_contiguous and root.nbytes % itemsize == 0 and start >= 0
                     and start % itemsize == 0 and all(s >= 0 and s % itemsize == 0 for s in array.strides))
        if shareable:
            ident = (id(root), array.dtype)
            root = root.reshape(-1).view(array.dtype)
        else:
            root = np.array(array, order="C")
            ident = (id(root), array.dtype)
            start = 0
        if ident not in self.storages:
            self.storages[ident] = (str(len(self.storages)), root)
            self.keep.append(root)
        key, root = self.storages[ident]
        return key, root, start // itemsize, backend.element_strides(array if shareable else root)


def _root(array):
    """The array that owns the memory ``array`` views (through ``as_strided``'s wrappers too)."""
    np = backend.numpy
    while True:
        base = array.base
        if isinstance(base, np.ndarray):
            array = base
        elif isinstance(getattr(base, "base", None), np.ndarray):  # as_strided's DummyArray
            array = base.base
        else:
            return array


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def dumps(obj, archive: str = "archive") -> bytes:
    """``obj`` in torch's zip format: weights-only when possible, else a whole-object pickle.

    A whole-object pickle (a module, a custom class) names Ember's classes, as ``torch.save(model)``
    names torch's: it loads only with ``ember.load(..., weights_only=False)``.
    """
    writer = _Writer()
    try:
        pkl = writer.dump(obj)
        storages = [root for _, root in writer.storages.values()]
    except NotWeights:
        pkl = pickle.dumps(obj, protocol=2)
        storages = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        def record(name: str, payload: bytes) -> None:
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            header = 30 + len(info.filename.encode()) + 4
            pad = -(buf.tell() + header) % _ALIGNMENT
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad  # align data as torch does
            z.writestr(info, payload)

        record("data.pkl", pkl)
        record(".format_version", b"1")
        record(".storage_alignment", str(_ALIGNMENT).encode())
        record("byteorder", b"little")
        for i, root in enumerate(storages):
            record(f"data/{i}", root.tobytes())
        record("version", b"3\n")
    return buf.getvalue()
