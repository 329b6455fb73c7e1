"""Turning a list of samples into a batch, with torch's rules (``default_collate``)."""
from __future__ import annotations

import collections.abc
import copy

from ... import backend, dtypes
from ...creation import as_tensor, tensor
from ...ops.shape import stack
from ...tensor import Tensor

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def _np():
    return backend.numpy


def default_convert(data):
    """NumPy arrays (also inside dicts, tuples and lists) become tensors; everything else stays."""
    np = _np()
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSU" else as_tensor(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "OSU":
        return as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch: list):
    """Stack a list of samples into a batch, recursing into dicts, tuples and lists as torch.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a
    float64 tensor, ints an int64 tensor, bools a bool tensor; strings stay a list; a dict of
    samples becomes a dict of batches; a tuple or list of fields becomes a list of batches.
    """
    elem = batch[0]
    np = _np()
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSU":
            raise TypeError(_ERROR.format(elem.dtype))
        return stack([as_tensor(b) for b in batch], 0)
    if isinstance(elem, np.generic):
        return as_tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _collate_mapping(elem, batch)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError(_ERROR.format(type(elem)))


def _collate_mapping(elem, batch: list):
    fields = {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, collections.abc.MutableMapping):
        try:
            out = copy.copy(elem)
            out.update(fields)
            return out
        except TypeError:
            return fields
    return fields
