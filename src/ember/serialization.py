"""``ember.save`` / ``ember.load``: tensors and nested state dicts in the safetensors format.

No pickle: the file is safetensors (tensor bytes plus a JSON header), so loading never runs
code. Each tensor is stored under its dotted path in the saved structure (a model's state dict
keeps its own keys, readable by any safetensors tool); the structure itself (dicts with any
simple keys, lists, tuples, numbers, strings, None) is a JSON metadata entry, with a SHA-256
digest of structure and bytes. The digest catches accidental damage (a truncated copy, flipped
bits, a tool that rewrote the header); it is not a signature: anyone who edits a file on
purpose can recompute it, so it says nothing about where a file came from. Files are written
atomically: a temporary file in the same directory, flushed and fsynced, then renamed over; a
new file gets the permissions ``open`` would give it (0o666 less the umask), a replaced file
keeps its own.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import secrets
import tempfile
import warnings
from typing import Any, BinaryIO

from . import backend, torch_format
from ._weights_only_unpickler import (add_safe_globals, clear_safe_globals,  # noqa: F401 (torch's API)
                                      get_safe_globals, safe_globals)
from .backend import device as _device
from .map_location import resolve_location, to_device
from .tensor import Tensor

STRUCTURE_KEY = "ember.structure"
DIGEST_KEY = "ember.sha256"
FORMAT_VERSION = "1"
_SCALARS = (bool, int, float, str, type(None))


def _rebuild_tensor(array, requires_grad: bool) -> Tensor:
    """Inverse of ``Tensor.__reduce__`` (pickling and deepcopy): a tensor from a host array."""
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---------------------------------------------------------------------------- encoding


class _Encoder:
    """Walks an object, collecting tensors (named by their path) and a JSON description of the rest."""

    def __init__(self) -> None:
        self.arrays: dict[str, Any] = {}

    def _name(self, path: str) -> str:
        name = path or "tensor"
        n = 1
        while name in self.arrays:
            n += 1
            name = f"{path or 'tensor'}#{n}"
        return name

    def encode(self, obj, path: str):
        np = backend.numpy
        if isinstance(obj, Tensor):
            name = self._name(path)
            self.arrays[name] = _contiguous(backend.transfer(obj._data, backend.CPU))
            return {"tensor": name, "requires_grad": obj.requires_grad, "device": str(obj.device)}
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise TypeError(f"ember.save: cannot store a NumPy array of dtype {obj.dtype} at '{path}'")
            name = self._name(path)
            self.arrays[name] = _contiguous(obj)
            return {"ndarray": name}
        if isinstance(obj, np.generic):
            obj = obj.item()
        if isinstance(obj, bool):
            return {"bool": obj}
        if isinstance(obj, int):
            return {"int": obj}
        if isinstance(obj, float):
            return {"float": repr(obj)}
        if isinstance(obj, str):
            return {"str": obj}
        if obj is None:
            return {"none": None}
        if isinstance(obj, _device):
            return {"device": str(obj)}
        if isinstance(obj, dict):
            return {"dict": [[self._key(k, path), self.encode(v, _join(path, k))] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {kind: [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        raise TypeError(
            f"ember.save: cannot store {type(obj).__module__}.{type(obj).__name__} at "
            f"'{path or '<root>'}'. Saving stores tensors, NumPy arrays, numbers, strings, None and "
            "dicts/lists/tuples of them (no pickle); save model.state_dict() rather than the model, "
            "or pass format='torch' to pickle the whole object as torch.save does."
        )

    def _key(self, key, path: str):
        if isinstance(key, (tuple,) + _SCALARS):
            return self.encode(key, path)
        raise TypeError(f"ember.save: dict keys must be strings, numbers, None or tuples; "
                        f"got {type(key).__name__} under '{path or '<root>'}'")


def _contiguous(array):
    """A C-contiguous host array of the same shape (``ascontiguousarray`` would make 0-d 1-d)."""
    return array if array.flags.c_contiguous else backend.numpy.array(array, order="C")


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


MAX_NESTING = 400  # brackets in a structure entry: 200 levels of containers, well within the
#                    recursion Python allows the JSON reader and the decoder


def _nesting(text: str) -> int:
    """How deeply a JSON text's brackets nest (brackets inside strings do not count): read
    before parsing, as the parser and the decoder recurse once per level."""
    brackets = re.sub(r"[^\[\]{}]", "", re.sub(r'"(?:[^"\\]|\\.)*"', "", text))
    steps = (1 if b in "[{" else -1 for b in brackets)
    return max(itertools.accumulate(steps), default=0)


class _Decoder:
    """Rebuilds the saved object from the JSON description and the loaded arrays."""

    def __init__(self, arrays: dict, where: str, map_location) -> None:
        self.arrays = arrays
        self.where = where
        self.map_location = map_location

    def decode(self, node):
        if isinstance(node, dict) and "tensor" in node:
            return self._tensor(node)
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"ember.load: {self.where}: malformed structure entry {node!r:.80}")
        (kind, value), = node.items()
        if kind == "dict":
            return {self._hashable(self.decode(k)): self.decode(v) for k, v in value}
        if kind == "list":
            return [self.decode(v) for v in value]
        if kind == "tuple":
            return tuple(self.decode(v) for v in value)
        if kind == "ndarray":
            return self._array(value)
        if kind == "float":
            return float(value)
        if kind == "device":
            return _device(value)
        if kind in ("bool", "int", "str", "none") and isinstance(value, _KINDS[kind]):
            return value
        raise ValueError(f"ember.load: {self.where}: malformed structure entry {node!r:.80}")

    def _hashable(self, key):
        if isinstance(key, (tuple,) + _SCALARS):
            return key
        raise ValueError(f"ember.load: {self.where}: malformed dict key {key!r:.80}")

    def _array(self, name):
        if name not in self.arrays:
            raise ValueError(f"ember.load: {self.where}: the structure names a tensor {name!r} "
                             "that the file does not contain")
        return self.arrays[name]

    def _tensor(self, node) -> Tensor:
        array = self._array(node["tensor"])
        dev = resolve_location(self.map_location, node.get("device", "cpu"))
        t = Tensor._make(to_device(array, dev, self.where))
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t


_KINDS = {"bool": bool, "int": int, "str": str, "none": type(None)}


def _digest(structure: str, arrays: dict) -> str:
    h = hashlib.sha256(structure.encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(name.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.reshape(-1).view(backend.numpy.uint8))
    return h.hexdigest()


# ---------------------------------------------------------------------------- save / load


TORCH_SUFFIXES = (".pt", ".pth", ".tar", ".ckpt", ".bin")


def save(obj, f: str | os.PathLike | BinaryIO, pickle_module: Any = None, pickle_protocol: int = 2,
         *, format: str | None = None) -> None:
    """Write ``obj`` (a tensor, or dicts/lists/tuples of tensors, numbers and strings) to ``f``.

    Args:
        obj: what to save, e.g. ``model.state_dict()`` or ``{"model": ..., "optim": ...}``.
        f: a path (written atomically: temp file, fsync, rename) or a writable binary file.
        format: ``"safetensors"`` (the default, recommended: loading it never runs code) or
            ``"torch"`` (PyTorch's zip format, read by ``torch.load(weights_only=True)``). Unset,
            a path ending in .pt, .pth, .tar, .ckpt or .bin picks ``"torch"``. Only the torch
            format can hold a whole object (``ember.save(model, "m.pt")``), as a pickle that
            loads with ``weights_only=False`` alone.
    """
    if _format(f, format) == "torch":
        _write(f, torch_format.dumps(obj))
        return
    from safetensors.numpy import save as st_save

    enc = _Encoder()
    structure = json.dumps(enc.encode(obj, ""), separators=(",", ":"))
    metadata = {"format": "ember", "ember.version": FORMAT_VERSION, STRUCTURE_KEY: structure,
                DIGEST_KEY: _digest(structure, enc.arrays)}
    _write(f, st_save(enc.arrays, metadata=metadata))


def _format(f, format: str | None) -> str:
    """The file format asked for, or implied by the path's suffix (safetensors otherwise)."""
    if format is None:
        name = "" if hasattr(f, "write") else os.fspath(f)
        return "torch" if str(name).lower().endswith(TORCH_SUFFIXES) else "safetensors"
    if format not in ("safetensors", "torch"):
        raise ValueError(f"ember.save: format must be 'safetensors' or 'torch', got {format!r}")
    return format


def _write(f, data: bytes) -> None:
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomic(os.fspath(f), data)


def _write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: a crash leaves the old file or the new one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _create_temp(directory: str, name: str) -> tuple:
    """A new file ``.name.XXXX.tmp`` in ``directory``, opened for writing with mode 0o666, which
    the kernel narrows by the umask, as for any new file (``mkstemp``'s 0o600 would not)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"ember.save: no free temporary name for {name} in {directory}")


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(f: str | os.PathLike | BinaryIO, map_location=None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args):
    """Read what ``save`` wrote (or any safetensors file: a dict of name -> tensor).

    Args:
        f: a path or a readable binary file.
        map_location: where tensors go: a device (``'cpu'``, ``'cuda:0'``), or a dict mapping
            saved device names to new ones; by default each tensor returns to its saved device.
        weights_only: PyTorch files are read by a reader that builds tensors and plain data
            and refuses anything else (``pickle.UnpicklingError``), running nothing from the file.
            ``False`` unpickles whole objects with Python's pickle, which runs code the file names:
            only for files from a trusted source. Safetensors files never hold code. ``None`` is
            torch's default: weights only, unless ``pickle_module`` is given.
        pickle_module, pickle_load_args: accepted for torch code; Python's pickle does the
            unpickling when ``weights_only=False``.
    Raises:
        ValueError: a safetensors file is truncated, or was modified after saving.
        RuntimeError: a PyTorch file is truncated or damaged.
        pickle.UnpicklingError: a PyTorch file holds more than weights (and ``weights_only``).
    """
    if weights_only is None:  # torch's default since 2.6: weights only, unless a pickle module is given
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if hasattr(f, "read"):
        data = f.read()
        where = getattr(f, "name", "<file object>")
    else:
        where = os.fspath(f)
        with open(where, "rb") as stream:
            data = stream.read(4)
            if not torch_format.is_torch(data):
                return _load_path(where, where, map_location)
            data += stream.read()
    if torch_format.is_torch(data):
        if not weights_only:
            warnings.warn(
                f"ember.load(weights_only=False) unpickles {where} with Python's pickle, which can "
                "run arbitrary code the file names; do it only for files from a trusted source.",
                UserWarning, stacklevel=2)
        return torch_format.load(data, where, map_location, weights_only)
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as tmp:
        tmp.write(data)
        tmp.flush()
        return _load_path(tmp.name, where, map_location)


def _load_path(path: str, where: str, map_location):
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="np") as st:
            metadata = st.metadata() or {}
            arrays = {name: st.get_tensor(name) for name in st.keys()}
    except SafetensorError as exc:
        raise ValueError(f"ember.load: {where} is not a valid safetensors file (truncated, damaged or "
                         f"another format): {exc}") from None
    structure = metadata.get(STRUCTURE_KEY)
    decoder = _Decoder(arrays, where, map_location)
    if structure is None:
        return {name: decoder._tensor({"tensor": name}) for name in arrays}
    if metadata.get(DIGEST_KEY) != _digest(structure, arrays):
        raise ValueError(f"ember.load: {where} was modified or corrupted after it was saved "
                         "(its SHA-256 digest does not match its contents)")
    depth = _nesting(structure)
    if depth > MAX_NESTING:
        raise ValueError(f"ember.load: {where}: its structure entry is nested {depth} levels deep; "
                         f"files Ember reads nest at most {MAX_NESTING} (a file saved by Ember "
                         "from ordinary containers stays far below)")
    try:
        return decoder.decode(json.loads(structure))
    except (json.JSONDecodeError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"ember.load: {where}: its structure entry is malformed ({exc})") from None
