"""Indexing: ``x[idx]``, ``x[idx] = v``, gather/scatter_add, index_select, masks, triangles.

``getitem`` and ``index_add_into`` are each other's derivative, so indexing can be
differentiated to any order.
"""
from __future__ import annotations

from .. import backend, dtypes
from ..autograd.forward_ad import LEVELS
from ..autograd.grad_mode import STATE
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R
from . import shape as S
from ..autograd.engine import torch_backward
from ..autograd.vmap_state import VMAP
from .batching import batched_in, per_sample
from .registry import PRIMITIVES, _loop_over_batch, apply, batch_dims, batch_shape, declare, primitive


def _index_arrays(idx, x: Tensor):
    """A user's index with tensors and lists turned into arrays of ``x``'s module."""
    items = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for it in items:
        if isinstance(it, Tensor):
            if it._data.dtype.kind in dtypes.FLOAT_KINDS:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            # a 0-d integer tensor selects like an int, as in torch (NumPy would broadcast it)
            out.append(int(it._data) if it._data.ndim == 0 and it._data.dtype.kind in "iu" else it._data)
        elif isinstance(it, list) or backend.is_array(it):
            arr = x.xp.asarray(it)
            if isinstance(it, list) and not arr.size:
                arr = arr.astype("int64")  # [] selects nothing (NumPy would make it float)
            if arr.dtype.kind in dtypes.FLOAT_KINDS:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
        elif isinstance(it, slice):
            out.append(it)
        elif it is Ellipsis:
            if not any(o is Ellipsis for o in out):  # as torch: a later ellipsis expands to nothing
                out.append(it)
        elif isinstance(it, (bool, x.xp.bool_)):
            out.append(x.xp.asarray(it))  # a Python bool is a 0-d mask, not the integer 0 or 1
        elif it is None or hasattr(it, "__index__"):
            out.append(it if it is None else int(it))
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(it).__name__})"
            )
    return tuple(out)


def _is_advanced(idx) -> bool:
    return any(hasattr(i, "dtype") for i in idx)


def _is_mask(i) -> bool:
    return hasattr(i, "dtype") and i.dtype.kind == "b"


def _check_bounds(idx: tuple, shape: tuple) -> None:
    """torch's errors for an index that does not fit ``shape``, naming the dimension: too many
    indices, an integer (or integer tensor) out of range, a mask of the wrong shape, a bad step."""
    n = len(shape)
    consumed = sum(i.ndim if _is_mask(i) else 1 for i in idx if i is not None and i is not Ellipsis)
    if consumed > n:
        raise IndexError(f"too many indices for tensor of dimension {n}")
    dim = 0
    for i in idx:
        if i is Ellipsis:
            dim += n - consumed
        elif _is_mask(i):
            _check_mask(i, shape, dim)
            dim += i.ndim
        elif i is not None:
            _check_position(i, shape[dim], dim)
            dim += 1
    _check_broadcast(idx)


def _check_broadcast(idx: tuple) -> None:
    """The index tensors (a mask counts as the 1-D list of its true positions) must broadcast."""
    shapes = [(int(i.sum()),) if _is_mask(i) else i.shape for i in idx if hasattr(i, "dtype")]
    try:
        common = ()
        for shape in shapes:
            common = E.broadcast_shape("index", common, shape)
    except RuntimeError:
        listed = ", ".join(str(list(s)) for s in shapes)
        raise IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {listed}"
        ) from None


def _check_mask(mask, shape: tuple, dim: int) -> None:
    for j, (m, s) in enumerate(zip(mask.shape, shape[dim:])):
        if m != s:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {j} does not match the shape of "
                f"the indexed tensor {list(shape)} at index {dim + j}"
            )


def _check_position(i, size: int, dim: int) -> None:
    """An int, an integer array or a slice used on a dimension of length ``size``."""
    if isinstance(i, slice):
        if i.step is not None and int(i.step) <= 0:
            raise ValueError(f"step must be greater than zero (got a slice with step {i.step})")
        return
    if hasattr(i, "dtype"):  # an integer array: its extremes, checked on its device
        if i.size:
            _require_in_range(i, -size, size, lambda bad: IndexError(
                f"index {bad} is out of bounds for dimension {dim} with size {size}"))
        return
    if not -size <= i < size:
        raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")


def _require_in_range(index, low: int, high: int, error) -> None:
    """Every value of the integer array ``index`` lies in [low, high); else ``error(value)``
    with the value torch names (the largest if it is too large, else the smallest)."""

    def failure():
        top = backend.read_scalar(index.max())
        return error(top if top >= high else backend.read_scalar(index.min()))

    backend.require((index.min() >= low) & (index.max() < high), failure)


class Staged(tuple):
    """An index NumPy must apply in two steps to give torch's result: ``(pre, post)``.

    torch selects with integers before it applies index tensors; NumPy counts an integer next
    to an index array as advanced too, which moves the result's dimensions (``x[0, :, [1, 2]]``
    is (3, 2) in torch, (2, 3) in NumPy). ``pre`` holds the integers (a basic index, so a
    view), ``post`` the rest.
    """


def torch_order(idx: tuple):
    """``idx`` as NumPy must apply it to get torch's result (a ``Staged`` pair when needed)."""
    if not (_is_advanced(idx) and any(type(i) is int for i in idx)):
        return idx
    pre, post = [], []
    for i in idx:
        if type(i) is int:
            pre.append(i)
        elif i is None:
            post.append(None)
        elif i is Ellipsis:
            pre.append(Ellipsis)
            post.append(Ellipsis)
        else:
            pre.extend([slice(None)] * (i.ndim if _is_mask(i) else 1))
            post.append(i)
    if Ellipsis not in pre:
        pre.append(Ellipsis)  # so that pre gives a view even when it selects a single element
    return Staged((tuple(pre), tuple(post)))


def _target(arr, idx):
    """``(array, index)`` such that ``array[index]`` is ``arr[idx]`` and writes reach ``arr``."""
    if type(idx) is Staged:
        return arr[idx[0]], idx[1]
    return arr, idx


def _getitem_fwd(xp, x, idx):
    base, inner = _target(x, idx)
    return base[inner]


def _add_into_fwd(xp, g, shape, idx):
    out = xp.zeros(shape, dtype=g.dtype)
    base, inner = _target(out, idx)
    if _is_advanced(inner):
        xp.add.at(base, inner, g)
    else:
        base[inner] = g
    return out


def _batched_index(idx: tuple):
    """``idx`` with leading full slices for the cotangent's batch axes (None if it can't be)."""
    k = batch_dims()
    if not k:
        return idx
    lead = (slice(None),) * k
    if type(idx) is Staged:
        post = _batched_index(idx[1])
        return None if post is None else Staged((lead + idx[0], post))
    arrays = [i for i, it in enumerate(idx) if hasattr(it, "dtype")]
    if arrays and arrays[-1] - arrays[0] + 1 != len(arrays):
        return None  # split advanced indices move to the front: no leading-axis equivalent
    return lead + idx


def _indexed_rule(body):
    """Wrap an index rule: shift its index past the batch axes, or loop when it can't."""

    def rule(g, out, *inputs, idx, **kw):
        bidx = _batched_index(idx)
        if bidx is None:
            return _loop_over_batch(lambda gi, o, *ins, **k2: body(gi, o, *ins, idx=idx, **k2),
                                    g, out, inputs, kw)
        return body(g, out, *inputs, idx=bidx, **kw)

    return rule


_getitem = primitive(
    "getitem", _getitem_fwd,
    _indexed_rule(lambda g, out, x, idx: (index_add_into(g, batch_shape(g) + x._data.shape, idx),)),
    jvp="linear", reads_inputs=False,
    formula="the gradient is scattered back to the indexed positions", batch="index",
)
_add_into = primitive(
    "index_add_into", _add_into_fwd,
    _indexed_rule(lambda g, out, src, shape, idx: (apply(_getitem, g, idx=idx),)),
    jvp="linear", formula="the gradient of a scatter is the gather of the same positions", batch="index",
)


def index_add_into(g: Tensor, shape: tuple, idx: tuple) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``idx`` (repeated positions accumulate)."""
    return apply(_add_into, g, shape=tuple(shape), idx=idx)


def _getitem_name(x: Tensor, idx) -> str | None:
    """torch's node for ``x[i]`` (SelectBackward0), ``x[a:b]`` (SliceBackward0), ``x[tensor]``
    (IndexBackward0), judged by the last index applied."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    if any(isinstance(p, (Tensor, list)) for p in parts):
        return "IndexBackward0"
    last = next((p for p in reversed(parts) if p is not Ellipsis and p is not None), None)
    if isinstance(last, int) and not isinstance(last, bool):
        return "SelectBackward0"
    if isinstance(last, slice):
        return "SliceBackward0"
    return None


@torch_backward(_getitem_name)
def getitem(x: Tensor, idx) -> Tensor:
    """``x[idx]`` with torch's basic and advanced indexing, differentiable."""
    if VMAP.levels and batched_in(idx):  # an index batched by vmap: one sample at a time
        return per_sample(getitem, "index", x, idx)
    arr_idx = _index_arrays(idx, x)
    _check_bounds(arr_idx, x._data.shape)
    return apply(_getitem, x, idx=torch_order(arr_idx))


def take(x: Tensor, idx: tuple) -> Tensor:
    """``x[idx]`` for an index Ember built itself (slices, Ellipsis and arrays on ``x``'s device,
    known to be in range): getitem without the checks of a user's index, which on a GPU would
    cost kernels on every call."""
    return apply(_getitem, x, idx=torch_order(idx))


def _put_fwd(xp, x, v, idx):
    out = x.copy()
    base, inner = _target(out, idx)
    base[inner] = v
    return out


_index_put = primitive(
    "index_put", _put_fwd,
    _indexed_rule(lambda g, out, x, v, idx: (
        apply(_index_put, g, E.const_zeros(Tensor._make(_getitem_fwd(g.xp, g._data, idx))), idx=idx)
        if x.requires_grad else None,
        R.sum_to(apply(_getitem, g, idx=idx), v._data.shape) if v.requires_grad else None,
    )),
    jvp="linear", reads_inputs=False,
    formula="overwritten positions pass their gradient to the value, the rest to the input",
)


def _set_copy(x: Tensor, idx, value) -> Tensor:
    """``x`` with ``x[idx] = value``, out of place (one sample of ``setitem`` under vmap)."""
    y = apply(PRIMITIVES["clone"], x)
    setitem(y, idx, value)
    return y


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value`` in place; differentiable with respect to both."""
    if idx is False:
        return  # torch special-cases a bare False: it selects nothing and checks nothing
    if VMAP.levels and batched_in(idx):  # an index batched by vmap: one sample at a time
        x._set_result(per_sample(_set_copy, "index_put_", x, idx, value))
        return
    arr_idx = _index_arrays(idx, x)
    _check_bounds(arr_idx, x._data.shape)
    positions = any(hasattr(i, "dtype") and not _is_mask(i) for i in arr_idx)
    arr_idx = torch_order(arr_idx)
    if not isinstance(value, Tensor):
        value = E.as_tensor_like(value, x, x.dtype, "index_put_")
    else:
        backend.module_for([x._data, value._data], "index_put_")
        if positions and value._data.dtype != x._data.dtype:
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{dtypes.scalar_name(x.dtype)} for the destination and "
                f"{dtypes.scalar_name(value.dtype)} for the source."
            )
    given = value
    if value._data.ndim:
        target = _getitem_fwd(x.xp, x._data, arr_idx).shape
        _check_value_shape(value._data.shape, target)
        if value._data.ndim > len(target):  # leading size-1 dimensions of the value go
            value = S.reshape(value, value._data.shape[value._data.ndim - len(target):])
    if value._data.dtype != x._data.dtype:
        value = E.cast(value, x.dtype)
    # stricter than torch on an expanded tensor: no partial writes
    x._check_inplace("index_put_", (given,), _written(x._data, arr_idx))
    if STATE.enabled and (x.requires_grad or value.requires_grad) or LEVELS.active \
            or x._batched:  # (the last: inside vmap)
        x._set_result(apply(_index_put, x._snapshot(), value, idx=arr_idx))
        return
    base, inner = _target(x._data, arr_idx)
    base[inner] = value._data
    x._version += 1


def _written(arr, idx):
    """The memory ``arr[idx] = value`` writes, as torch sees it: the view a basic index selects,
    all of ``arr`` for an advanced one."""
    base, inner = _target(arr, idx)
    return arr if _is_advanced(inner) else base[inner]


def _check_value_shape(value: tuple, target: tuple) -> None:
    """The value of ``x[idx] = value`` must broadcast to the shape ``x[idx]`` has."""
    fits = len(value) <= len(target) or all(s == 1 for s in value[:len(value) - len(target)])
    fits = fits and all(v in (1, t) for v, t in zip(reversed(value), reversed(target)))
    if not fits:
        raise RuntimeError(
            f"index_put_: shape mismatch: value tensor of shape {list(value)} cannot be broadcast "
            f"to indexing result of shape {list(target)}"
        )


@declare(method=True)
@torch_backward("SliceBackward0")
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` along ``dim``."""
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative (got {length}).")
    axis = _wrap_dim(dim, input._data.ndim, "narrow")
    size = input._data.shape[axis]
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(
            f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size})."
        )
    idx = (slice(None),) * axis + (slice(start, start + length),)
    return apply(_getitem, input, idx=idx)


@declare(out="exact", method=True)
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Entries along ``dim`` at the positions in the 1-D ``index``."""
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"index_select(): Expected dtype int32/int64 for index but got: {index.dtype}")
    axis = _wrap_dim(dim, input._data.ndim, "index_select")
    if input._data.ndim == 0:
        if index._data.size != 1:
            raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                               f"{index._data.size} value(s)")
        _require_in_range(index._data, 0, 1, lambda bad: IndexError(
            f"index_select(): index {bad} out of range in self (a 0-d tensor has only index 0)"))
        return S.reshape(getitem(S.reshape(input, (1,)), S.reshape(index, (-1,))), ())
    _check_index_range("index_select", index, axis, input._data.shape[axis], IndexError)
    return getitem(input, (slice(None),) * axis + (S.reshape(index, (-1,)),))


def _check_index_range(op: str, index: Tensor, axis: int, size: int, error: type = RuntimeError) -> None:
    """An index tensor's values must lie in [0, size): no negatives, as torch's gather/scatter."""
    if index._data.size:
        _require_in_range(index._data, 0, size, lambda bad: error(
            f"{op}(): index {bad} is out of bounds for dimension {axis} with size {size}"))


def _along(xp, index, axis: int):
    """A tuple index that pairs every position of ``index`` with its value along ``axis``."""
    grids = list(xp.ogrid[tuple(slice(0, s) for s in index.shape)]) if index.ndim else []
    grids[axis] = index
    return tuple(grids)


def _check_gather(op: str, x: Tensor, axis: int, index: Tensor) -> None:
    """torch's checks for gather/scatter: 0-d tensors count as 1-D, an empty index is not checked."""
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    if not index._data.size:
        return
    if max(index._data.ndim, 1) != max(x._data.ndim, 1):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as input tensor "
            f"(got index of shape {list(index.shape)} and input of shape {list(x.shape)})"
        )
    for d, (a, b) in enumerate(zip(index._data.shape, x._data.shape)):
        if d != axis and a > b:
            raise RuntimeError(
                f"{op}(): Size does not match at dimension {d} expected index {list(index.shape)} "
                f"to be smaller than self {list(x.shape)} apart from dimension {axis}"
            )
    _check_index_range(op, index, axis, x._data.shape[axis] if x._data.ndim else 1)


def _as_1d(t: Tensor) -> Tensor:
    """A 0-d tensor as a one-element 1-D tensor (how gather/scatter treat scalars)."""
    return S.reshape(t, (1,)) if t._data.ndim == 0 else t


def _batched_index_tensor(g: Tensor, index: Tensor) -> Tensor:
    """``index`` expanded over the cotangent's batch axes."""
    lead = batch_shape(g)
    if not lead:
        return index
    return S.expand(index, lead + index._data.shape)


def _gather_rule(g, out, x, index, axis):
    zeros = Tensor._make(x.xp.zeros(batch_shape(g) + x._data.shape, dtype=g._data.dtype))
    k = batch_dims()
    return (scatter_add(zeros, axis + k, _batched_index_tensor(g, index), g),)


_gather = primitive(
    "gather",
    lambda xp, x, index, axis: x[_along(xp, index, axis)],
    _gather_rule, jvp="linear",
    formula="the gradient is scatter-added back to the gathered positions", batch="dims",
)


@declare(out="exact", prim=_gather, method=True)
def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and likewise for other dims)."""
    axis = _wrap_dim(dim, input._data.ndim, "gather")
    if not index._data.size:  # as torch: nothing to gather, nothing checked but the dtype
        _check_gather("gather", input, axis, index)
        return S.reshape(narrow(S.reshape(input, (-1,)), 0, 0, 0), index._data.shape)
    _check_gather("gather", input, axis, index)
    out = apply(_gather, _as_1d(input), _as_1d(index), axis=axis)
    return S.reshape(out, index._data.shape)


def _scatter_add_fwd(xp, x, index, src, axis):
    out = x.copy()
    part = src[tuple(slice(0, s) for s in index.shape)]
    xp.add.at(out, _along(xp, index, axis), part)
    return out


def _scatter_add_rule(g, out, x, index, src, axis):
    gsrc = None
    if src.requires_grad:
        k = batch_dims()
        picked = apply(_gather, g, _batched_index_tensor(g, index), axis=axis + k)
        if picked._data.shape[k:] != src._data.shape:
            corner = (slice(None),) * k + tuple(slice(0, s) for s in index._data.shape)
            picked = index_add_into(picked, batch_shape(g) + src._data.shape, corner)
        gsrc = picked
    return (g if x.requires_grad else None, None, gsrc)


_scatter_add = primitive(
    "scatter_add", _scatter_add_fwd, _scatter_add_rule, jvp="linear",
    formula="input gets the gradient as is; src gets it gathered from its target positions", batch="dims",
)


@declare(out="exact", prim=_scatter_add, method=True, inplace=True)
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``input`` with ``src`` added at the positions ``index`` names along ``dim``."""
    axis = _wrap_dim(dim, input._data.ndim, "scatter_add")
    _check_gather("scatter_add", input, axis, index)
    if input._data.dtype != src._data.dtype:
        raise RuntimeError(
            f"scatter_add(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and {src.dtype})"
        )
    if not index._data.size:  # nothing is added: a copy of input, as torch
        return S.flip(input, ())
    out = apply(_scatter_add, _as_1d(input), _as_1d(index), _as_1d(src), axis=axis)
    return S.reshape(out, input._data.shape)


@declare(method=True, inplace=True)
@torch_backward("MaskedFillBackward0")
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, else ``input``."""
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._data.ndim} dimension(s)."
        )
    v = value if isinstance(value, Tensor) else E.as_tensor_like(value, input, input.dtype, "masked_fill")
    return E.where(mask, E.cast(v, input.dtype), input)


def _triangle(name: str, upper: bool):
    def op(input: Tensor, diagonal: int = 0) -> Tensor:
        if input._data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        rows, cols = input._data.shape[-2:]
        xp = input.xp
        keep = xp.tri(rows, cols, diagonal - 1 if upper else diagonal, dtype=bool)
        mask = Tensor._make(~keep if upper else keep)
        return E.where(mask, input, E.const_zeros(Tensor._make(input._data[..., :1, :1])))

    op.__name__ = name
    op.__doc__ = f"The {'upper' if upper else 'lower'} triangle (from ``diagonal``), zeros elsewhere."
    return op


tril = declare(torch_backward("TrilBackward0")(_triangle("tril", upper=False)), method=True,
               inplace=True, out="exact")
triu = declare(torch_backward("TriuBackward0")(_triangle("triu", upper=True)), method=True,
               inplace=True, out="exact")


@declare(out="exact", method=True)
def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero entries (an (n, ndim) long tensor, or one per dim)."""
    scalar = input._data.ndim == 0  # as torch: found as in 1-D, but an (n, 0) result
    idx = input.xp.nonzero(input._data.reshape(1) if scalar else input._data)
    if scalar and not as_tuple:
        return Tensor._make(input.xp.zeros((idx[0].shape[0], 0), dtype="int64"))
    if as_tuple:
        return tuple(Tensor._make(i.astype("int64")) for i in idx)
    return Tensor._make(input.xp.stack(idx, axis=1).astype("int64") if idx else
                        input.xp.zeros((0, 0), dtype="int64"))


@declare(out="exact", method=True)
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` after broadcasting input and indices against each other (except along ``dim``).

    Without ``dim`` both are flattened first.
    """
    if dim is None:
        flat = S.reshape(input, (-1,))
        return gather(flat, 0, _wrap_negative(S.reshape(indices, (-1,)), flat._data.shape[0]))
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {input._data.ndim} dimensions for input, and {indices._data.ndim} dimensions "
            "for indices"
        )
    if input._data.ndim == 0:
        raise IndexError("take_along_dim: Dimension specified as 0 but tensor has no dimensions")
    axis = _wrap_dim(dim, input._data.ndim, "take_along_dim")
    lead = E.broadcast_shape("take_along_dim", _with_size(input._data.shape, axis, 1),
                             _with_size(indices._data.shape, axis, 1))
    x = S.expand(input, _with_size(lead, axis, input._data.shape[axis]))
    index = _wrap_negative(indices, input._data.shape[axis])
    return gather(x, axis, S.expand(index, _with_size(lead, axis, indices._data.shape[axis])))


def _wrap_negative(index: Tensor, size: int) -> Tensor:
    """Negative positions counted from the end (take_along_dim accepts them; gather does not)."""
    if index._data.dtype.kind != "i" or not index._data.size:
        return index
    return E.where(E.lt(index, 0), E.add(index, size), index)


def _with_size(shape: tuple, axis: int, size: int) -> tuple:
    return shape[:axis] + (size,) + shape[axis + 1:]


@declare(out="exact", method=True)
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries of ``input`` where ``mask`` (broadcast together) holds, as a 1-D tensor."""
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got "
                           f"{dtypes.scalar_name(mask.dtype)}")
    shape = E.broadcast_shape("masked_select", input._data.shape, mask._data.shape)
    return getitem(S.expand(input, *shape), S.expand(mask, *shape))
