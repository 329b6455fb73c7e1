"""NumPy-style stacking, splitting and turning: ``atleast_nd``, ``dstack``, ``column_stack``,
``tensor_split`` and ``h/v/dsplit``, ``rot90``, ``fliplr``/``flipud``, ``narrow_copy``,
``as_strided``. Composites of reshape, cat, slicing, flip and transpose (views where torch's
are), and ``as_strided``, a primitive view."""
from __future__ import annotations

from ..tensor import Tensor, _wrap_dim
from . import methods
from . import shape as S
from . import index as I
from .registry import apply, batch_shape, declare, primitive


def _at_least(tensors, ndim: int):
    """One tensor for one argument, a tuple for several or a list (torch's atleast_nd)."""
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = [tensors[0]] if single else list(tensors[0] if len(tensors) == 1 else tensors)
    out = [_shaped(t, ndim) for t in items]
    return out[0] if single else tuple(out)


def _shaped(t: Tensor, ndim: int) -> Tensor:
    """``t`` with size-1 dims added as NumPy does: in front, except that a 1- or 2-D tensor gets
    its third dim at the end (n -> 1×n×1, m×n -> m×n×1)."""
    shape = t._data.shape
    if len(shape) >= ndim:
        return t
    if ndim == 3 and len(shape) == 1:
        return S.reshape(t, (1,) + shape + (1,))
    if ndim == 3 and len(shape) == 2:
        return S.reshape(t, shape + (1,))
    return S.reshape(t, (1,) * (ndim - len(shape)) + shape)


@declare()
def atleast_1d(*tensors):
    """Tensors with at least one dim (0-d becomes shape (1,))."""
    return _at_least(tensors, 1)


@declare()
def atleast_2d(*tensors):
    """Tensors with at least two dims (size-1 dims in front)."""
    return _at_least(tensors, 2)


@declare()
def atleast_3d(*tensors):
    """Tensors with at least three dims (n -> 1×n×1, m×n -> m×n×1)."""
    return _at_least(tensors, 3)


@declare(out=True)
def dstack(tensors) -> Tensor:
    """Join along the third dim (depth), after ``atleast_3d``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return S.cat([_shaped(t, 3) for t in tensors], 2)


@declare(out=True)
def column_stack(tensors) -> Tensor:
    """Join as columns: 0-d and 1-D tensors become columns (n×1), then ``hstack``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return S.cat([S.reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors], 1)


@declare(method=True)
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Views of ``input`` along ``dim``: n near-equal sections (the first size % n one longer),
    or the pieces between the given indices."""
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    axis = _wrap_dim(dim, input._data.ndim, "tensor_split")
    size = input._data.shape[axis]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec._data.dtype.kind not in "iu" or spec._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-"
                               "dimensional or one-dimensional tensor, but got a tensor with "
                               f"{spec._data.ndim} dims")
        spec = int(spec.item()) if spec._data.ndim == 0 else [int(i) for i in spec.tolist()]
    if isinstance(spec, int):
        if spec <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {spec}")
        step, extra = divmod(size, spec)
        bounds = [i * step + min(i, extra) for i in range(spec + 1)]
    else:
        bounds = [0] + [min(max(i + size if i < 0 else i, 0), size) for i in spec] + [size]
    pieces = []
    for start, end in zip(bounds[:-1], bounds[1:]):
        end = max(start, end)
        pieces.append(I.getitem(input, (slice(None),) * axis + (slice(start, end),)))
    return tuple(pieces)


def _split_along(op: str, input: Tensor, spec, axis: int, need: int) -> tuple:
    if input._data.ndim < need:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {need} dimension, but got "
                           f"a tensor with {input._data.ndim} dimensions!")
    size = input._data.shape[axis]
    if isinstance(spec, int) and (spec == 0 or size % spec):
        raise RuntimeError(f"torch.{op} attempted to split along dimension {axis}, but the size "
                           f"of the dimension {size} is not divisible by the split_size {spec}!")
    return tensor_split(input, spec, axis)


@declare(method=True)
def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along the columns: dim 1 (dim 0 for a 1-D tensor), sections exact."""
    axis = 0 if input._data.ndim == 1 else 1
    return _split_along("hsplit", input, indices_or_sections, axis, 1)


@declare(method=True)
def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 0 of a tensor with at least 2 dims, sections exact."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


@declare(method=True)
def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 2 of a tensor with at least 3 dims, sections exact."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


@declare(method=True)
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """``input`` turned by ``k`` quarter turns in the plane of ``dims``, from the first dim
    towards the second."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input._data.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input._data.ndim}")
    d0, d1 = (_wrap_dim(d, input._data.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return S.transpose(S.flip(input, (d1,)), d0, d1)
    if k == 2:
        return S.flip(input, (d0, d1))
    if k == 3:
        return S.transpose(S.flip(input, (d0,)), d0, d1)
    return methods.clone(input)


@declare(method=True)
def fliplr(input: Tensor) -> Tensor:
    """``input`` reversed left to right (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return S.flip(input, (1,))


@declare(method=True)
def flipud(input: Tensor) -> Tensor:
    """``input`` reversed up to down (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return S.flip(input, (0,))


@declare(out="exact", method=True)
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow``, as a new tensor rather than a view."""
    return methods.clone(I.narrow(input, dim, start, length))


def _positions(xp, size: tuple, stride: tuple, offset: int):
    """The flat position each entry of an as_strided view reads."""
    position = xp.full(size, offset, dtype=xp.int64)
    for axis, (n, step) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = n
        position = position + (xp.arange(n, dtype=xp.int64) * step).reshape(shape)
    return position


def _as_strided_fwd(xp, x, size, stride, offset):
    flat = xp.ascontiguousarray(x).reshape(-1)  # a view of x's memory when x is contiguous
    steps = tuple(s * x.itemsize for s in stride)
    return xp.lib.stride_tricks.as_strided(flat[offset:], size, steps)


def _as_strided_rule(g, out, x, size, stride, offset):
    xp = x.xp
    where = xp.unravel_index(_positions(xp, size, stride, offset), x._data.shape)
    return (I.index_add_into(g, batch_shape(g) + x._data.shape, (Ellipsis,) + tuple(where)),)


_as_strided = primitive("as_strided", _as_strided_fwd, _as_strided_rule, reads_inputs=False, jvp="linear",
                        formula="each entry's gradient is added at the position it reads")


@declare(method=True, inplace="view")
def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """The view of shape ``size`` whose entry i reads ``input``'s element at flat position
    ``storage_offset + sum(i_k * stride_k)`` (overlapping windows share memory, and their
    gradients add up). torch counts positions in the storage; Ember in ``input``'s contiguous
    order, the same for a contiguous ``input`` (for another, a contiguous copy is read)."""
    size, stride = tuple(size), tuple(stride)
    offset = 0 if storage_offset is None else storage_offset
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    needed = last + 1 if all(size) else 0
    if needed > input._data.size:
        item = input._data.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{needed * item} are out of bounds for storage of size "
                           f"{input._data.size * item}")
    x = S.reshape(input, (1,)) if input._data.ndim == 0 else input
    return apply(_as_strided, x, size=size, stride=stride, offset=offset)
