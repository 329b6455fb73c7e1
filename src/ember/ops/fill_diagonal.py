"""``Tensor.fill_diagonal_``: the main diagonal of a matrix (or of a cube of equal sides) set to
one value in place, as torch's."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Set the elements ``[i, i, ..., i]`` to ``fill_value``; ``wrap``: a tall matrix's diagonal
    starts again every ``columns + 1`` rows (NumPy's and torch's ``wrap``)."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("fill_diagonal_: dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("fill_diagonal_: all dimensions of input must be of equal length")
    host = backend.numpy
    step = int(host.cumprod((1,) + shape[:0:-1]).sum())  # the sum of the element strides
    size = self._data.size
    end = size if wrap or len(shape) > 2 else min(shape) * shape[1]
    mask = host.zeros(size, dtype=bool)
    mask[0:end:step] = True
    where = Tensor._make(backend.transfer(mask.reshape(shape), backend.device_of(self._data)))
    return self.masked_fill_(where, fill_value)
