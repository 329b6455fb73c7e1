"""Indexing: ``x[idx]``, ``x[idx] = v``, gather/scatter_add, index_select, masks, triangles.

``getitem`` and ``index_add_into`` are each other's derivative, so indexing can be
differentiated to any order.
"""
from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import STATE
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .registry import _loop_over_batch, apply, batch_dims, batch_shape, primitive


def _index_arrays(idx, x: Tensor):
    """A user's index with tensors and lists turned into arrays of ``x``'s module."""
    items = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for it in items:
        if isinstance(it, Tensor):
            if it._data.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(it._data)
        elif isinstance(it, list) or backend.is_array(it):
            arr = x.xp.asarray(it)
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
        elif isinstance(it, slice):
            if it.step is not None and int(it.step) <= 0:
                raise ValueError("step must be greater than zero")
            out.append(it)
        elif it is None or it is Ellipsis or isinstance(it, (int, bool)) or hasattr(it, "__index__"):
            out.append(it if it is None or it is Ellipsis else int(it))
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(it).__name__})"
            )
    return tuple(out)


def _is_advanced(idx: tuple) -> bool:
    return any(hasattr(i, "dtype") for i in idx)


def _check_bounds(idx: tuple, shape: tuple) -> None:
    """torch's IndexError for an integer index out of range, naming the dimension."""
    dim = 0
    ell = sum(1 for i in idx if i is Ellipsis)
    consumed = sum(1 for i in idx if i is not None and i is not Ellipsis and not
                   (hasattr(i, "dtype") and i.dtype.kind == "b"))
    for i in idx:
        if i is Ellipsis:
            dim += len(shape) - consumed if ell else 0
            continue
        if i is None:
            continue
        if isinstance(i, int):
            if dim >= len(shape):
                raise IndexError(
                    f"too many indices for tensor of dimension {len(shape)}"
                )
            if not -shape[dim] <= i < shape[dim]:
                raise IndexError(
                    f"index {i} is out of bounds for dimension {dim} with size {shape[dim]}"
                )
        dim += i.ndim if hasattr(i, "dtype") and i.dtype.kind == "b" else 1
    if dim > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")


def _getitem_fwd(xp, x, idx):
    return x[idx]


def _add_into_fwd(xp, g, shape, idx):
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_advanced(idx):
        xp.add.at(out, idx, g)
    else:
        out[idx] = g
    return out


def _batched_index(idx: tuple):
    """``idx`` with leading full slices for the cotangent's batch axes (None if it can't be)."""
    k = batch_dims()
    if not k:
        return idx
    arrays = [i for i, it in enumerate(idx) if hasattr(it, "dtype")]
    if arrays and arrays[-1] - arrays[0] + 1 != len(arrays):
        return None  # split advanced indices move to the front: no leading-axis equivalent
    return (slice(None),) * k + idx


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
    formula="the gradient is scattered back to the indexed positions",
)
_add_into = primitive(
    "index_add_into", _add_into_fwd,
    _indexed_rule(lambda g, out, src, shape, idx: (apply(_getitem, g, idx=idx),)),
    formula="the gradient of a scatter is the gather of the same positions",
)


def index_add_into(g: Tensor, shape: tuple, idx: tuple) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``idx`` (repeated positions accumulate)."""
    return apply(_add_into, g, shape=tuple(shape), idx=idx)


def getitem(x: Tensor, idx) -> Tensor:
    """``x[idx]`` with torch's basic and advanced indexing, differentiable."""
    arr_idx = _index_arrays(idx, x)
    _check_bounds(arr_idx, x._data.shape)
    return apply(_getitem, x, idx=arr_idx)


def _put_fwd(xp, x, v, idx):
    out = x.copy()
    out[idx] = v
    return out


_index_put = primitive(
    "index_put", _put_fwd,
    _indexed_rule(lambda g, out, x, v, idx: (
        apply(_index_put, g, E.zeros_like_(Tensor._make(g._data[idx])), idx=idx) if x.requires_grad else None,
        R.sum_to(apply(_getitem, g, idx=idx), v._data.shape) if v.requires_grad else None,
    )),
    formula="overwritten positions pass their gradient to the value, the rest to the input",
)


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value`` in place; differentiable with respect to both."""
    arr_idx = _index_arrays(idx, x)
    _check_bounds(arr_idx, x._data.shape)
    if not isinstance(value, Tensor):
        value = E.as_tensor_like(value, x, x.dtype)
    else:
        backend.module_for([x._data, value._data], "index_put_")
    if value._data.dtype != x._data.dtype:
        value = E.cast(value, x.dtype)
    if STATE.enabled and (x.requires_grad or value.requires_grad):
        x._check_inplace("index_put_")
        x._set_result(apply(_index_put, x._snapshot(), value, idx=arr_idx))
        return
    try:
        x._data[arr_idx] = value._data
    except ValueError as exc:
        raise RuntimeError(
            f"index_put_: shape mismatch: value tensor of shape {list(value.shape)} cannot be "
            f"broadcast to indexing result ({exc})"
        ) from None
    x._version += 1


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` along ``dim``."""
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = _wrap_dim(dim, input._data.ndim, "narrow")
    size = input._data.shape[axis]
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative (got {length}).")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = (slice(None),) * axis + (slice(start, start + length),)
    return apply(_getitem, input, idx=idx)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Entries along ``dim`` at the positions in the 1-D ``index``."""
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"index_select(): Expected dtype int32/int64 for index but got: {index.dtype}")
    axis = _wrap_dim(dim, input._data.ndim, "index_select")
    n = input._data.shape[axis] if input._data.ndim else 1
    if index._data.size and (int(index._data.max()) >= n or int(index._data.min()) < -n):
        raise IndexError(f"index_select(): index out of range in self (size {n} along dim {axis})")
    return getitem(input, (slice(None),) * axis + (S.reshape(index, (-1,)),))


def _along(xp, index, axis: int):
    """A tuple index that pairs every position of ``index`` with its value along ``axis``."""
    grids = list(xp.ogrid[tuple(slice(0, s) for s in index.shape)]) if index.ndim else []
    grids[axis] = index
    return tuple(grids)


def _check_gather(op: str, x: Tensor, axis: int, index: Tensor) -> None:
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    if index._data.ndim != x._data.ndim:
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
    n = x._data.shape[axis] if x._data.ndim else 1
    if index._data.size and (int(index._data.max()) >= n or int(index._data.min()) < 0):
        raise RuntimeError(
            f"{op}(): index {int(index._data.max())} is out of bounds for dimension {axis} with size {n}"
        )


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
    _gather_rule,
    formula="the gradient is scatter-added back to the gathered positions",
)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and likewise for other dims)."""
    axis = _wrap_dim(dim, input._data.ndim, "gather")
    _check_gather("gather", input, axis, index)
    if input._data.ndim == 0:
        return input
    return apply(_gather, input, index, axis=axis)


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
    "scatter_add", _scatter_add_fwd, _scatter_add_rule,
    formula="input gets the gradient as is; src gets it gathered from its target positions",
)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``input`` with ``src`` added at the positions ``index`` names along ``dim``."""
    axis = _wrap_dim(dim, input._data.ndim, "scatter_add")
    _check_gather("scatter_add", input, axis, index)
    if input._data.dtype != src._data.dtype:
        raise RuntimeError(
            f"scatter_add(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and {src.dtype})"
        )
    return apply(_scatter_add, input, index, src, axis=axis)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, else ``input``."""
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._data.ndim} dimension(s)."
        )
    v = value if isinstance(value, Tensor) else E.as_tensor_like(value, input, input.dtype)
    return E.where(mask, E.cast(v, input.dtype), input)


def _triangle(name: str, upper: bool):
    def op(input: Tensor, diagonal: int = 0) -> Tensor:
        if input._data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        rows, cols = input._data.shape[-2:]
        xp = input.xp
        keep = xp.tri(rows, cols, diagonal - 1 if upper else diagonal, dtype=bool)
        mask = Tensor._make(~keep if upper else keep)
        return E.where(mask, input, E.zeros_like_(Tensor._make(input._data[..., :1, :1])))

    op.__name__ = name
    op.__doc__ = f"The {'upper' if upper else 'lower'} triangle (from ``diagonal``), zeros elsewhere."
    return op


tril = _triangle("tril", upper=False)
triu = _triangle("triu", upper=True)


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero entries (an (n, ndim) long tensor, or one per dim)."""
    idx = input.xp.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype("int64")) for i in idx)
    return Tensor._make(input.xp.stack(idx, axis=1).astype("int64") if idx else
                        input.xp.zeros((0, 0), dtype="int64"))


def take_along_dim(input: Tensor, indices: Tensor, dim: int) -> Tensor:
    """``gather`` with the index broadcast against the input first."""
    axis = _wrap_dim(dim, input._data.ndim, "take_along_dim")
    shape = list(input._data.shape)
    shape[axis] = indices._data.shape[axis]
    return gather(input, axis, S.expand(indices, tuple(shape)))
