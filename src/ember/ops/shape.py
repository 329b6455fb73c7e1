"""Movement ops: reshape, expand, permute, flip, cat, and the composites built on them.

Only reshape, expand, permute, flip and cat are primitives; squeeze, transpose, stack,
split, repeat and friends are written with them, so they need no derivative rule of their own.
"""
from __future__ import annotations

import warnings

from .. import backend, dtypes
from .. import memory_format as MF
from ..arguments import ints_arg
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import index as I
from . import reduce as R
from .registry import apply, batch_dims, batch_shape, declare, primitive
from ..autograd.engine import torch_backward


def _shape_arg(shape, op: str = "reshape") -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` forms of a shape (ints only)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return ints_arg(shape, op, "shape")


def infer_shape(shape: tuple, numel: int, op: str, src: tuple) -> tuple:
    """Resolve one -1 in ``shape`` and check the element count matches."""
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape dimension {min(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(
            f"shape '{list(shape)}' is invalid for input of size {numel} (in {op} of a tensor "
            f"of shape {list(src)})"
        )
    return shape


_reshape = primitive(
    "reshape",
    lambda xp, x, shape: x.reshape(shape),
    lambda g, out, x, shape: (reshape_to(g, batch_shape(g) + x._data.shape),),
    jvp="linear", reads_inputs=False,
    formula="reshaping moves values, so the gradient is reshaped back", batch="shape",
)


@declare(prim=_reshape, method=True)
@torch_backward(lambda input, *shape: "ViewBackward0" if input.is_contiguous() else "UnsafeViewBackward0")
def reshape(input: Tensor, *shape) -> Tensor:
    """The same values in a new shape (one dimension may be -1)."""
    shape = infer_shape(_shape_arg(shape), input._data.size, "reshape", input._data.shape)
    if shape == input._data.shape:
        return input
    return apply(_reshape, input, shape=shape)


def alias(t: Tensor) -> Tensor:
    """A new tensor viewing ``t``'s memory, in ``t``'s graph (forward mode's dual tensors are
    such views: tangents attach to tensor objects)."""
    return apply(_reshape, t, shape=t._data.shape)


def reshape_to(t: Tensor, shape: tuple) -> Tensor:
    """``reshape`` to a shape already known to fit (no -1, no checks): for derivative rules."""
    if shape == t._data.shape:
        return t
    return apply(_reshape, t, shape=shape)


def expand_to(t: Tensor, shape: tuple) -> Tensor:
    """``expand`` to a shape already known to be a broadcast of ``t``'s: for derivative rules."""
    if shape == t._data.shape:
        return t
    return apply(_expand, t, shape=shape)


@torch_backward("ViewBackward0")
def view(input: Tensor, *shape) -> Tensor:
    """The same memory in a new shape, or (given a dtype) its bits read as another type; never
    a copy: torch's error where the strides cannot express the new shape."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        return _view_as_dtype(input, dtypes.to_dtype(shape[0]))
    shape = infer_shape(_shape_arg(shape, "view"), input._data.size, "view", input._data.shape)
    data = input._data  # (inside vmap a stand-in of the sample's shape: its memory is the batch's)
    if not input._batched and not _strides_can_view(data.shape, data.strides, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    if shape == data.shape:
        return input
    return apply(_reshape, input, shape=shape)


def _strides_can_view(old: tuple, strides: tuple, new: tuple) -> bool:
    """Whether memory laid out as ``old`` with ``strides`` can be read as ``new`` without a copy
    (torch's rule: each run of dims that is contiguous in memory splits into whole new dims)."""
    if not old or 0 in old:
        return True
    want = len(new) - 1
    base_stride = strides[-1]
    old_numel = new_numel = 1
    for d in range(len(old) - 1, -1, -1):
        old_numel *= old[d]
        chunk_ends = d == 0 or (old[d - 1] != 1 and strides[d - 1] != old_numel * base_stride)
        if not chunk_ends:
            continue
        while want >= 0 and (new_numel < old_numel or new[want] == 1):
            new_numel *= new[want]
            want -= 1
        if new_numel != old_numel:
            return False
        if d > 0:
            base_stride = strides[d - 1]
            old_numel = new_numel = 1
    return want == -1


_view_dtype = primitive(
    "view_dtype",
    lambda xp, x, dtype: x.view(dtype),
    batch="elementwise", reads_inputs=False,  # a view: bits as they are, never widened
    formula="reinterpreted bits carry no gradient",
)


def _view_as_dtype(input: Tensor, dtype: dtypes.dtype) -> Tensor:
    """``input``'s bytes read as ``dtype``: a view; a different element size changes the last
    dim, which must then be contiguous (and whole for a wider type), as torch requires."""
    old, new = input.dtype.itemsize, dtype.itemsize
    if old != new and not input._batched:  # (a vmap stand-in has no layout: the array call checks)
        what = (f"to view {dtypes.scalar_name(input.dtype)} as {dtypes.scalar_name(dtype)} "
                "(different element sizes)")
        if input._data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        steps = input.stride()
        ratio = max(new // old, 1)  # torch's order: last size, offset, last stride, strides
        checks = [("self.size(-1)", input._data.shape[-1]),
                  ("self.storage_offset()", input.storage_offset())] if ratio > 1 else []
        for name, value in checks:
            if value % ratio:
                raise RuntimeError(f"{name} must be divisible by {ratio} {what}, but got {value}")
        if steps[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {steps[-1]}")
        for i, step in enumerate(steps[:-1]):
            if step % ratio:
                raise RuntimeError(
                    f"self.stride({i}) must be divisible by {ratio} {what}, but got {step}")
    return apply(_view_dtype, input, dtype=dtype.np)


_expand = primitive(
    "expand",
    lambda xp, x, shape: backend.broadcast_view(x, shape),
    lambda g, out, x, shape: (R.sum_to(g, x._data.shape),),
    jvp="linear", reads_inputs=False,
    formula="broadcasting copies values, so the gradient is summed back", batch="shape",
)


@declare(prim=_expand, method=True, namespaces=())
def expand(input: Tensor, *shape) -> Tensor:
    """Broadcast to a larger shape without copying (-1 keeps a dimension)."""
    shape = _shape_arg(shape)
    src = input._data.shape
    if len(shape) < len(src):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({len(src)})"
        )
    lead = len(shape) - len(src)
    full = []
    for i, s in enumerate(shape):
        old = src[i - lead] if i >= lead else None
        if s == -1:
            if old is None:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            s = old
        if old is not None and old != s and old != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({old}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(shape)}.  Tensor sizes: {list(src)}"
            )
        full.append(s)
    full = tuple(full)
    if full == src:
        return input
    return apply(_expand, input, shape=full)


@declare(method=True)
def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


@declare(method=True, namespaces=())
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


@declare()
def broadcast_tensors(*tensors: Tensor) -> tuple:
    """All tensors expanded to their common broadcast shape."""
    shape = ()
    for t in tensors:
        shape = E.broadcast_shape("broadcast_tensors", shape, t._data.shape)
    return tuple(expand(t, shape) for t in tensors)


_permute = primitive(
    "permute",
    lambda xp, x, dims: xp.transpose(x, dims),
    lambda g, out, x, dims: (permute(g, _shift(_inverse(dims))),),
    jvp="linear", reads_inputs=False, formula="the gradient is permuted back", batch="permute",
)


def _shift(dims: tuple) -> tuple:
    """Axes of an unbatched tensor as axes of the batched cotangent (batch axes first)."""
    k = batch_dims()
    if not k:
        return dims
    return tuple(range(k)) + tuple(d + k for d in dims)


def _inverse(dims: tuple) -> tuple:
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    return tuple(inv)


@declare(prim=_permute, method=True)
def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions: ``permute(2, 0, 1)`` turns (H, W, C) into (C, H, W)."""
    dims = _shape_arg(dims, "tile")
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal to "
            f"len(dims) = {len(dims)}".replace("(sparse_coo)", "")
        )
    dims = tuple(_wrap_dim(d, n, "permute") for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    if dims == tuple(range(n)):
        return input
    return apply(_permute, input, dims=dims)


@declare(aliases=("swapaxes", "swapdims"), method=True, inplace="view")
@torch_backward("TransposeBackward0")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    n = input._data.ndim
    a, b = _wrap_dim(dim0, n, "transpose"), _wrap_dim(dim1, n, "transpose")
    if n == 0:
        return input
    dims = list(range(n))
    dims[a], dims[b] = dims[b], dims[a]
    return permute(input, dims)


@declare(method=True, inplace="view")
@torch_backward("TBackward0")
def t(input: Tensor) -> Tensor:
    """Transpose of a tensor of at most 2 dimensions."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


@declare(aliases=("moveaxis",), method=True)
def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimension(s) ``source`` to position(s) ``destination``."""
    n = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
            f"same number of dims as destination ({dst} dims)"
        )
    src = [_wrap_dim(d, n, "movedim") for d in src]
    dst = [_wrap_dim(d, n, "movedim") for d in dst]
    if n == 0:
        return input
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


@declare(method=True, inplace="view")
@torch_backward(lambda input, dim=None: "SqueezeBackward0" if dim is None else "SqueezeBackward1")
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop size-1 dimensions (all, or those in ``dim``)."""
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = {_wrap_dim(d, input._data.ndim, "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return reshape(input, new)


@declare(method=True, inplace="view")
@torch_backward("UnsqueezeBackward0")
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``: (3, 28, 28) -> (1, 3, 28, 28)."""
    n = input._data.ndim + 1
    d = _wrap_dim(dim, n, "unsqueeze")
    shape = list(input._data.shape)
    shape.insert(d, 1)
    return reshape(input, tuple(shape))


@declare(method=True)
@torch_backward("ViewBackward0")
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    shape = input._data.shape
    s = _wrap_dim(start_dim, len(shape), "flatten")
    e = _wrap_dim(end_dim, len(shape), "flatten")
    if not shape:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


@declare(method=True)
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1)."""
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape), "unflatten")
    if not shape:
        raise RuntimeError("unflatten: Dimension specified as 0 but tensor has no dimensions")
    sizes = infer_shape(tuple(sizes), shape[d], "unflatten", shape)
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


@declare(method=True)
def ravel(input: Tensor) -> Tensor:
    return reshape(input, (-1,))


_flip = primitive(
    "flip",
    lambda xp, x, dims: xp.flip(x, dims).copy(),  # a copy, as torch's (NumPy's flip is a view)
    lambda g, out, x, dims: (flip(g, tuple(d + batch_dims() for d in dims)),),
    jvp="linear", reads_inputs=False, formula="flipping is its own inverse", batch="dims",
)


@declare(prim=_flip, method=True)
def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(sorted(_wrap_dim(d, input._data.ndim, "flip") for d in dims))
    repeated = [a for a in axes if axes.count(a) > 1]
    if repeated:
        raise RuntimeError(f"flip: dim {repeated[0]} appears multiple times in the list of dims")
    return apply(_flip, input, dims=axes if input._data.ndim else ())


def _cat_rule(g, out, *inputs, axis):
    grads = []
    start = 0
    g_axis = axis + batch_dims()
    for t in inputs:
        size = t._data.shape[axis] if t._data.ndim else 0
        grads.append(I.narrow(g, g_axis, start, size) if t.requires_grad else None)
        start += size
    return tuple(grads)


_cat = primitive(
    "cat",
    lambda xp, *xs, axis: xp.concatenate(xs, axis=axis),
    _cat_rule,
    jvp="linear", reads_inputs=False, formula="each input gets its slice of the gradient", batch="dims",
)


@declare(out=True, prim=_cat, aliases=("concat", "concatenate"))
def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (empty 1-D tensors are skipped, as torch)."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"cat(): argument 'tensors' must be tuple of Tensors, not {type(t).__name__} (item {i})"
            )
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    d = tensors[0].dtype
    for t in tensors[1:]:
        d = dtypes.promote(d, t.dtype)
    legacy = [t._data.ndim == 1 and t._data.shape[0] == 0 for t in tensors]
    real = [t for t, skip in zip(tensors, legacy) if not skip]
    if not real:  # torch checks nothing more when every input is an empty 1-D tensor
        return apply(_cat, *[E.cast(t, d) for t in tensors], axis=0)
    ref = real[0]
    axis = _wrap_dim(dim, ref._data.ndim, "cat")
    for i, t in enumerate(real):
        if t._data.ndim != ref._data.ndim or any(
            a != b for j, (a, b) in enumerate(zip(t._data.shape, ref._data.shape)) if j != axis
        ):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {axis}. Expected shape "
                f"{list(ref._data.shape)} (except dim {axis}) but got {list(t._data.shape)} for "
                f"tensor number {i} in the list."
            )
    # Empty 1-D inputs join as empty slices of the right shape: they add nothing but stay in the
    # graph (a float one that needs grad makes the result need grad, as in torch).
    nothing = ref._data.shape[:axis] + (0,) + ref._data.shape[axis + 1:]
    parts = [reshape(t, nothing) if skip else t for t, skip in zip(tensors, legacy)]
    return apply(_cat, *[E.cast(t, d) for t in parts], axis=axis)  # a new tensor even for one input



@declare(out=True)
@torch_backward("StackBackward0")
def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    d = _wrap_dim(dim, len(shape) + 1, "stack")
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}"
            )
    return cat([unsqueeze(t, d) for t in tensors], d)


def _at_least(tensors, ndim: int, op: str) -> list:
    """The tensors with leading size-1 dimensions up to ``ndim`` (torch's atleast_1d/atleast_2d)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return [reshape(t, (1,) * (ndim - t._data.ndim) + t._data.shape) if t._data.ndim < ndim else t
            for t in tensors]


@declare(out=True)
def hstack(tensors) -> Tensor:
    """Join along the columns: dim 0 for 1-D tensors, dim 1 otherwise (0-d become 1-D)."""
    tensors = _at_least(tensors, 1, "hstack")
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


@declare(out=True, aliases=("row_stack",))
def vstack(tensors) -> Tensor:
    """Join along the rows (dim 0), 0-d and 1-D tensors first becoming rows."""
    return cat(_at_least(tensors, 2, "vstack"), 0)


@declare(method=True)
@torch_backward("SplitBackward0")
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``tensor`` along ``dim``: equal ``int`` sizes (last may be smaller) or listed sizes."""
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    if isinstance(split_size_or_sections, int) and split_size_or_sections < 0:
        raise RuntimeError(
            f"split expects split_size be non-negative, but got split_size={split_size_or_sections}"
        )
    axis = _wrap_dim(dim, tensor._data.ndim, "split")
    n = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        sizes = [min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                f"dimension {axis}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(I.narrow(tensor, axis, start, s))
        start += s
    return tuple(out)


@declare(method=True)
@torch_backward("SplitBackward0")
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` nearly equal pieces (fewer if the dimension is small)."""
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[_wrap_dim(dim, input._data.ndim, "chunk")]
    if n == 0:
        return split(input, [0] * chunks, dim)  # as torch: `chunks` empty pieces
    return split(input, -(-n // chunks), dim)


@declare(method=True)
@torch_backward("UnbindBackward0")
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` with that dimension removed."""
    if input._data.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    axis = _wrap_dim(dim, input._data.ndim, "unbind")
    if input._data.shape[axis] == 0:
        return ()
    return tuple(squeeze(p, axis) for p in split(input, 1, axis))


@declare(method=True)
@torch_backward("RepeatBackward0")
def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes`` times along each dimension (torch's ``repeat``)."""
    sizes = _shape_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    shape = (1,) * (len(sizes) - len(shape)) + shape
    result = [r * s for r, s in zip(sizes, shape)]
    if any(n < 0 for n in result):  # as torch: checked on the result (0 * -1 is fine)
        raise RuntimeError(f"repeat: Trying to create tensor with negative dimension {min(result)}: "
                           f"{result} (repeats {list(sizes)})")
    x = reshape(input, shape)
    inter = []
    for r, s in zip(sizes, shape):
        inter += [1, s]
    x = reshape(x, tuple(inter))
    target = []
    for r, s in zip(sizes, shape):
        target += [r, s]
    x = expand(x, tuple(target))
    return reshape(x, tuple(r * s for r, s in zip(sizes, shape)))


@torch_backward("CloneBackward0")
def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """A tensor whose memory is in C order (or ``memory_format``'s); the same tensor when it is."""
    if memory_format is not None:
        return to_format(input, memory_format, "contiguous")
    if input._data.flags.c_contiguous:
        return input
    return apply(_contiguous, input)


_contiguous = primitive(
    "contiguous",
    lambda xp, x: xp.ascontiguousarray(x),
    lambda g, out, x: (g,),
    jvp="linear", reads_inputs=False, formula="a copy: the gradient passes through", batch="elementwise",
)
declare(contiguous, prim=_contiguous, method=True, namespaces=())


def to_format(x, fmt: "MF.memory_format | None", op: str = "to"):
    """``x`` laid out in ``fmt`` (the same tensor when it already is); differentiable."""
    if fmt is None or fmt is MF.preserve_format:
        return x
    if not isinstance(fmt, MF.memory_format):
        raise TypeError(f"{op}(): memory_format must be ember.memory_format, got {type(fmt).__name__}")
    MF.check_rank(x, fmt)
    if MF.is_contiguous_as(x, fmt):
        return x
    if fmt.order is None:
        return contiguous(x)
    back = tuple(fmt.order.index(i) for i in range(len(fmt.order)))
    return permute(contiguous(permute(x, fmt.order)), back)


@declare(method=True)
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Entries shifted along ``dims`` by ``shifts``, wrapping around (over the flattened tensor
    when no dims are given)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        return reshape(roll(flatten(input), shifts, 0), input._data.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    out = input
    for shift, dim in zip(shifts, dims):
        axis = _wrap_dim(dim, input._data.ndim, "roll")
        n = out._data.shape[axis]
        s = shift % n if n else 0
        if s:
            out = cat([I.narrow(out, axis, n - s, s), I.narrow(out, axis, 0, n - s)], axis)
    return out


@declare(method=True)
def tile(input: Tensor, *dims) -> Tensor:
    """``input`` repeated ``dims`` times along each dimension (ones prepended as needed); the
    method takes the counts one by one too (``x.tile(2, 3)``), as torch."""
    dims = _shape_arg(dims, "tile")
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, *dims)


@declare()
def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors: ``ij`` (matrix) or ``xy`` (Cartesian) indexing."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    vectors = [reshape(t, (-1,)) for t in tensors]
    shape = tuple(v._data.shape[0] for v in vectors)
    grids = [expand(reshape(v, tuple(-1 if i == k else 1 for i in range(len(shape)))), *shape)
             for k, v in enumerate(vectors)]
    if indexing == "xy" and len(grids) >= 2:  # Cartesian: the first two dimensions swapped
        grids = [transpose(g, 0, 1) for g in grids]
    return tuple(grids)


@declare(out=True, method=True)
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """Differences of neighbours along ``dim`` (``n`` times), after ``prepend``/``append``."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    axis = _wrap_dim(dim, input._data.ndim, "diff")
    x = cat([t for t in (prepend, input, append) if t is not None], axis)
    for _ in range(n):
        size = x._data.shape[axis]
        if size <= 1:
            return I.narrow(x, axis, 0, 0)
        x = E.sub(I.narrow(x, axis, 1, size - 1), I.narrow(x, axis, 0, size - 1))
    return x


@declare(out=True, method=True)
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: each entry of ``input`` times the whole of ``other``, tiled."""
    ndim = max(input._data.ndim, other._data.ndim)
    a = reshape(input, (1,) * (ndim - input._data.ndim) + input._data.shape)
    b = reshape(other, (1,) * (ndim - other._data.ndim) + other._data.shape)
    interleaved_a = reshape(a, tuple(s for n in a._data.shape for s in (n, 1)))
    interleaved_b = reshape(b, tuple(s for n in b._data.shape for s in (1, n)))
    return reshape(E.mul(interleaved_a, interleaved_b),
                   tuple(m * n for m, n in zip(a._data.shape, b._data.shape)))


@declare(out="exact", method=True)
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (by default the first dim of size 3)."""
    def select(t, axis, j):
        return I.getitem(t, (slice(None),) * axis + (j,))

    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected scalar type {dtypes.scalar_name(input.dtype)} but found "
                           f"{dtypes.scalar_name(other.dtype)}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    shape = E.broadcast_shape("cross", input._data.shape, other._data.shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        dim = next((k for k, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    axis = _wrap_dim(dim, len(shape), "cross")
    if shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input._data.shape[axis] if input._data.ndim > axis else 1} and "
                           f"{other._data.shape[axis] if other._data.ndim > axis else 1}")
    a, b = expand(input, *shape), expand(other, *shape)
    parts = [E.sub(E.mul(select(a, axis, j), select(b, axis, k)),
                   E.mul(select(a, axis, k), select(b, axis, j)))
             for j, k in ((1, 2), (2, 0), (0, 1))]
    return stack(parts, axis)
