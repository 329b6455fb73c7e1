"""Batched tensors and the batching rules ``vmap`` runs: the batch dimension carried through each op.

Inside ``ember.func.vmap`` a mapped argument is a ``BatchedTensor``: a tensor whose user-visible
(logical) shape lacks the batch dimension, holding the whole batch (its physical value, batch
dimension first) and the vmap level it belongs to. ``registry.apply`` hands a primitive with a
batched input to ``dispatch``, which runs the primitive's batching rule (``batch=`` in its
declaration): once on the whole batch, not once per sample. Most rules are one of a few
categories named by a string (``"elementwise"``, ``"dims"``, ...); a primitive without a rule
runs once per sample with torch's performance warning. Autograd records on the physical
values, so ``grad`` inside ``vmap`` differentiates every sample at once (see ``batched_grad``).
"""
from __future__ import annotations

import warnings
from typing import Callable

from .. import backend
from ..autograd.vmap_state import VMAP
from ..creation import ones_like
from ..tensor import Tensor
from . import elementwise as E, linalg as L, registry, shape as S  # registry: apply, at call time




def _stand_in(value: Tensor):
    """An array with the logical shape and dtype of a batched value (no memory; never read)."""
    data = value._data
    xp = backend.xp_of(data)
    return xp.broadcast_to(xp.zeros((), dtype=data.dtype), data.shape[1:])


class BatchedTensor(Tensor):
    """A tensor inside ``vmap``: its shape is one sample's; ``_value`` holds the whole batch
    (batch dimension first) and ``_level`` names the vmap it belongs to. Its autograd state is
    the physical value's, so the graph is recorded once for the whole batch."""

    __slots__ = ("_value", "_level")
    _batched = True

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError("BatchedTensor is made by vmap, not directly")

    requires_grad = property(lambda self: self._value.requires_grad,
                             lambda self, v: setattr(self._value, "requires_grad", v))
    _requires_grad = property(lambda self: self._value._requires_grad,
                              lambda self, v: setattr(self._value, "_requires_grad", v))
    grad_fn = property(lambda self: self._value.grad_fn,
                       lambda self, v: setattr(self._value, "grad_fn", v))
    grad = property(lambda self: None, lambda self, v: None)

    def detach(self) -> "BatchedTensor":
        return wrap(self._value.detach(), self._level)

    def item(self):
        raise RuntimeError("vmap: It looks like you're calling .item() on a Tensor. We don't support "
                           "vmap over calling .item() on a Tensor, please try to rewrite what you're "
                           "doing with other operations.")

    def __bool__(self) -> bool:
        raise RuntimeError("vmap: It looks like you're attempting to use a Tensor in some "
                           "data-dependent control flow. We don't support that yet, please shout "
                           "over at https://github.com/pytorch/functorch/issues/257 .")

    def tolist(self):
        self.item()

    def numpy(self, *, force: bool = False):
        raise RuntimeError("vmap: numpy() reads a tensor's values, which inside vmap belong to "
                           "every sample at once; return the tensor from the vmapped function instead")

    def _check_inplace(self, op: str, inputs: tuple = (), written=None) -> None:
        self._value._check_inplace(op, inputs, written)

    def _set_result(self, result: Tensor) -> Tensor:
        """In-place ops inside vmap: the batched result replaces this tensor's batch."""
        if result.__class__ is not BatchedTensor or result._level < self._level:
            result = wrap(S.expand(S.unsqueeze(result, 0), self._value.shape), self._level)
        if result._level != self._level:
            return Tensor._set_result(self, result)  # batched at an outer level: torch's error
        self._value._set_result(result._value)
        return self

    def _snapshot(self) -> Tensor:
        return wrap(self._value._snapshot(), self._level)

    def _new_like(self, fn, dtype, device, requires_grad: bool, *args, last: bool = False):
        """``zeros_like`` and its kin: a new tensor batched as this one (``fn`` makes the batch)."""
        value = self._value
        if value.__class__ is BatchedTensor:
            return wrap(value._new_like(fn, dtype, device, requires_grad, *args, last=last), self._level)
        shape = tuple(value.shape)
        made = fn(*((shape,) + args if last else args + (shape,)),
                  dtype=dtype if dtype is not None else self.dtype,
                  device=device if device is not None else self.device, requires_grad=requires_grad)
        return wrap(made, self._level)

    def __repr__(self) -> str:
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n{self._value!r}\n)"


def wrap(value: Tensor, level: int) -> BatchedTensor:
    """The batched tensor of ``level`` whose physical value (batch dimension first) is ``value``."""
    t = object.__new__(BatchedTensor)
    t._value = value
    t._level = level
    t._data = _stand_in(value)
    for slot in ("_vc", "_view", "_hooks", "_post_accumulate_hooks"):
        setattr(t, slot, None)
    t._retains_grad = False
    return t


def level_of(t) -> int | None:
    """The vmap level a tensor is batched at (its outermost), or None."""
    return t._level if t.__class__ is BatchedTensor else None


def unwrap(t: Tensor, level: int) -> Tensor | None:
    """The physical value of ``t`` at ``level`` (batch dim first), or None if not batched there."""
    return t._value if t.__class__ is BatchedTensor and t._level == level else None


# ---------------------------------------------------------------------------- dispatch


def dispatch(prim, inputs: tuple, kw: dict) -> Tensor:
    """Run ``prim`` on inputs of which some are batched: its batching rule at the outermost level."""

    level = max(t._level for t in inputs if t.__class__ is BatchedTensor)
    args = []
    dims = []
    for t in inputs:
        if t.__class__ is BatchedTensor and t._level == level:
            args.append(t._value)
            dims.append(0)
        else:
            args.append(t)
            dims.append(None)
    rule = prim.batch
    if isinstance(rule, str):
        rule = RULES[rule]
    if rule is None:
        out = _loop(prim, args, dims, kw)
    else:
        out = rule(prim, args, dims, **kw)
    return wrap(out, level)


def batch_size(args: list, dims: list) -> int:
    return next(a.shape[0] for a, d in zip(args, dims) if d is not None)


def _loop(prim, args: list, bdims: list, kw: dict) -> Tensor:
    """The fallback for a primitive without a batching rule: once per sample, then stacked."""

    warn_loop(prim.name)
    rows = []
    for i in range(batch_size(args, bdims)):
        rows.append(registry.apply(prim, *[a[i] if d is not None else a for a, d in zip(args, bdims)], **kw))
    return S.stack(rows)


def warn_loop(name: str) -> None:
    """torch's performance warning: ``name`` runs once per sample, for want of a batching rule."""
    warnings.warn(f"There is a performance drop because we have not yet implemented the batching "
                  f"rule for {name}. Please file us an issue on GitHub so that we can prioritize "
                  "its implementation.", UserWarning, stacklevel=5)


def _items(obj) -> list:
    return list(obj) if isinstance(obj, (tuple, list)) else [obj]


def batched_in(*objs) -> bool:
    """Whether a batched tensor is among ``objs`` or the tuples and lists among them."""
    return any(i.__class__ is BatchedTensor for o in objs for i in _items(o))


def _sample(obj, level: int, b: int):
    """Sample ``b`` of ``obj`` (a tensor, or a tuple or list of items) at ``level``."""
    if isinstance(obj, (tuple, list)):
        return type(obj)(_sample(o, level, b) for o in obj)
    value = unwrap(obj, level) if isinstance(obj, Tensor) else None
    return obj if value is None else value[b]


def per_sample(fn: Callable, name: str, *args) -> Tensor:
    """``fn(*args)`` once per sample of the outermost vmap level among ``args``, stacked.

    For composites that turn a batched tensor's values into an index (``x[i]`` with a batched
    ``i``, max pooling's indices): no primitive sees that index, so no batching rule can;
    torch's warning says so.
    """
    level = max(i._level for a in args for i in _items(a) if i.__class__ is BatchedTensor)
    size = next(i._value.shape[0] for a in args for i in _items(a)
                if i.__class__ is BatchedTensor and i._level == level)
    warn_loop(name)
    rows = [fn(*_sample(args, level, b)) for b in range(size)]
    if isinstance(rows[0], tuple):  # (values, indices) and the like
        return type(rows[0])(wrap(S.stack(list(col)), level) for col in zip(*rows))
    return wrap(S.stack(rows), level)


# ---------------------------------------------------------------------------- rule helpers


def _logical_ndim(a: Tensor, d) -> int:
    return a.ndim - (d is not None)


def pad_to(a: Tensor, rank: int) -> Tensor:
    """A physical value (batch first) with size-1 dims after the batch dim up to logical ``rank``."""
    extra = rank - (a.ndim - 1)
    if extra <= 0:
        return a
    return S.reshape(a, (a.shape[0],) + (1,) * extra + tuple(a.shape[1:]))


def batched_everywhere(args: list, dims: list) -> list:
    """Every input batched: an unbatched one is expanded (a view) along a new leading dim."""
    n = batch_size(args, dims)
    return [a if d is not None else S.expand(S.unsqueeze(a, 0), (n,) + tuple(a.shape))
            for a, d in zip(args, dims)]


def _shift(kw: dict, by: int = 1) -> dict:
    """Dimension arguments (``axis``, ``axes``, ``dims``) moved past the batch dimension."""
    kw = dict(kw)
    if kw.get("axis") is not None:
        kw["axis"] = kw["axis"] + by
    for key in ("axes", "dims"):
        if kw.get(key) is not None:
            kw[key] = tuple(a + by for a in kw[key])
    return kw


# ---------------------------------------------------------------------------- rules by category


def elementwise(prim, args: list, bdims: list, **kw) -> Tensor:
    """Broadcasting ops: batched inputs padded to the largest logical rank (batch stays first)."""

    rank = max(_logical_ndim(a, d) for a, d in zip(args, bdims))
    return registry.apply(prim, *[pad_to(a, rank) if d is not None else a for a, d in zip(args, bdims)], **kw)


def dims_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """Ops taking dimension arguments (reductions, cat, gather, softmax): every input batched,
    the dims shifted by one."""

    return registry.apply(prim, *batched_everywhere(args, bdims), **_shift(kw))


def shape_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """``reshape``/``expand``: the target shape gains the batch size in front."""

    (a,) = args
    target = tuple(kw.pop("shape"))
    if prim.name == "expand":
        a = pad_to(a, len(target))
    return registry.apply(prim, a, shape=(a.shape[0],) + target, **kw)


def permute_rule(prim, args: list, bdims: list, **kw) -> Tensor:

    return registry.apply(prim, args[0], dims=(0,) + tuple(d + 1 for d in kw["dims"]))


def trailing_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """Ops on the last dims that batch over any leading ones (linalg, diagonal): all batched."""

    return registry.apply(prim, *batched_everywhere(args, bdims), **kw)


def leading_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """Linear algebra, batching over any leading dims: every input batched and padded to one
    logical rank, so the vmap dim leads the others everywhere (and a right-hand side keeps the
    rank that tells NumPy and CuPy it is a matrix). A factorization's outputs arrive computed
    on the physical values by its public function (``ops/leading_batch.py``)."""

    rank = max(_logical_ndim(a, d) for a, d in zip(args, bdims))
    return registry.apply(prim, *[pad_to(a, rank) for a in batched_everywhere(args, bdims)], **kw)


def _advanced_lead(idx: tuple) -> int | None:
    """Where NumPy puts the batch dim of ``x[(slice(None),) + idx]``: 0, or after the result dims
    of advanced indices that are split by a slice (NumPy moves those to the front); None for
    a split index with a boolean mask (one sample at a time then)."""
    arrays = [i for i in idx if hasattr(i, "dtype") and getattr(i, "ndim", 0)]
    if not arrays:
        return 0
    where = [k for k, i in enumerate(idx) if hasattr(i, "dtype") or isinstance(i, int)]
    if where[-1] - where[0] + 1 == len(where):
        return 0
    if any(a.dtype.kind == "b" for a in arrays):
        return None
    return len(backend.numpy.broadcast_shapes(*[tuple(a.shape) for a in arrays]))


def index_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """``x[idx]`` and its gradient: a full slice for the batch dim in front of the index."""

    idx = kw["idx"] if isinstance(kw["idx"], tuple) else (kw["idx"],)
    lead = _advanced_lead(idx)
    if lead is None or (lead and prim.name != "getitem"):
        return _loop(prim, args, bdims, kw)
    kw = dict(kw, idx=(slice(None),) + idx)
    if "shape" in kw:
        kw["shape"] = (args[0].shape[0],) + tuple(kw["shape"])
    out = registry.apply(prim, *batched_everywhere(args, bdims), **kw)
    return S.movedim(out, lead, 0) if lead else out


def matmul_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """``matmul``: vectors made matrices, batched operands padded to one logical rank (batch
    first); NumPy broadcasts the leading dims."""

    x, y = args
    dx, dy = bdims
    xv = _logical_ndim(x, dx) == 1
    yv = _logical_ndim(y, dy) == 1
    if xv:
        x = S.unsqueeze(x, -2)
    if yv:
        y = S.unsqueeze(y, -1)
    rank = max(_logical_ndim(x, dx), _logical_ndim(y, dy))
    out = registry.apply(prim, pad_to(x, rank) if dx is not None else x,
                pad_to(y, rank) if dy is not None else y)
    if yv:
        out = S.squeeze(out, -1)
    if xv:
        out = S.squeeze(out, -1 if yv else -2)
    return out


def linear_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """``linear``: a batched input maps through a shared weight as is; batched weights go through
    a batched matmul."""

    if all(d is None for d in bdims[1:]):
        return registry.apply(prim, *args)
    x, w, *bias = batched_everywhere(args, bdims)
    n = x.shape[0]
    flat = S.reshape(x, (n, -1, x.shape[-1]))
    out = L.matmul(flat, S.transpose(w, 1, 2))
    if bias:
        out = E.add(out, S.unsqueeze(bias[0], 1))
    return S.reshape(out, tuple(x.shape[:-1]) + (w.shape[1],))


def einsum_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """``einsum``: a fresh letter for the batch dim on the batched operands and the output."""

    eq = kw["equation"]
    if "->" not in eq:
        return _loop(prim, args, bdims, kw)
    lhs, out = eq.split("->")
    letter = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in eq)
    terms = [letter + t if d is not None else t for t, d in zip(lhs.split(","), bdims)]
    return registry.apply(prim, *args, equation=",".join(terms) + "->" + letter + out)


def fold_rule(prim, args: list, bdims: list, **kw) -> Tensor:
    """Ops over a leading sample dim (cross entropy): the batch folded into it."""

    args = batched_everywhere(args, bdims)
    n = args[0].shape[0]
    if args[0].ndim < 3:  # one sample per vmap row: the batch is the sample dim
        return registry.apply(prim, *args, **kw)
    folded = [S.reshape(a, (-1,) + tuple(a.shape[2:])) for a in args]
    out = registry.apply(prim, *folded, **kw)
    return S.reshape(out, (n, -1) + tuple(out.shape[1:]))


# Primitives vmap runs once per sample (the loop fallback), and why a rule is not possible.
LOOPED = {
    "copy_slices": "writes a view's new values into its base: an in-place step of autograd's "
                   "bookkeeping, not an op of one sample",
    "index_put": "the value broadcasts against the indexed region, whose place among the dims "
                 "depends on the kind of index; one sample at a time keeps torch's rules exact",
    "cross_entropy": "the fused mean over rows; under vmap cross_entropy takes its unfused "
                     "composite, so this primitive only sees a batch in user code that applies it",
    "as_strided": "its strides address one sample's storage, while a batch lies as its physical "
                  "value's strides say, not one sample's storage after another",
}
LOOPED.update(dict.fromkeys(
    ("linalg_ldl_factor_ex", "linalg_ldl_solve", "geqrf"),
    "SciPy's LAPACK factors one matrix at a time on the host anyway"))

# Composites vmap runs once per sample (``per_sample``) where a batched tensor is an index.
LOOPED_INDEXING = {
    "index": "x[i] with i batched: the index's values become the getitem primitive's argument, "
             "which no batching rule sees; one sample at a time (torch batches it natively)",
    "index_put_": "x[i] = v with i batched: as for index",
    "max_pool_with_indices": "the indices of the maxima are found on the arrays, outside any primitive",
}

RULES: dict[str, Callable] = {
    "elementwise": elementwise,
    "dims": dims_rule,
    "shape": shape_rule,
    "permute": permute_rule,
    "trailing": trailing_rule,
    "leading": leading_rule,
    "index": index_rule,
    "matmul": matmul_rule,
    "linear": linear_rule,
    "einsum": einsum_rule,
    "fold": fold_rule,
}


# ---------------------------------------------------------------------------- autograd inside vmap


def physical(t: Tensor) -> tuple[Tensor, list]:
    """The plain tensor under every batching level of ``t`` and those levels, outermost dim first."""
    levels = []
    while t.__class__ is BatchedTensor:
        levels.append(t._level)
        t = t._value
    return t, levels[::-1]


def rewrap(phys: Tensor, levels: list) -> Tensor:
    """Undo ``physical``: wrap ``phys`` (its leading dims the batches of ``levels``) level by level."""
    for level in levels:
        phys = wrap(phys, level)
    return phys


def materialize(t: Tensor) -> Tensor:
    """``t`` batched at every active vmap level (expanded, a view, where it was not)."""
    phys, have = physical(t)
    active = [entry[0] for entry in VMAP.levels]
    if have == active:
        return t
    for pos, (level, size, _) in enumerate(VMAP.levels):
        if level not in have:
            phys = S.expand(S.unsqueeze(phys, pos), tuple(phys.shape[:pos]) + (size,) +
                            tuple(phys.shape[pos:]))
    return rewrap(phys, active)


def batched_grad(grad: Callable, outputs: tuple, inputs: tuple, grad_outputs: tuple,
                 is_grads_batched: bool, **kw) -> tuple:
    """``autograd.grad`` inside vmap: one sweep over the physical tensors of every sample.

    Samples do not mix, so the cotangent of every output sample flows only to its own input
    sample; outputs and cotangents are expanded to every active level first.
    """

    every = tuple(outputs) + tuple(inputs) + tuple(g for g in grad_outputs if g is not None)
    saved = VMAP.levels
    if not any(t.__class__ is BatchedTensor for t in every):
        VMAP.levels = []
        try:
            return grad(outputs, inputs, grad_outputs or None, is_grads_batched=is_grads_batched, **kw)
        finally:
            VMAP.levels = saved
    graph = tuple(outputs) + tuple(inputs)
    if not is_grads_batched and not any(t.__class__ is BatchedTensor for t in graph):
        return _cotangent_batch(grad, outputs, inputs, grad_outputs, **kw)
    outs = [physical(materialize(o))[0] for o in outputs]
    if not grad_outputs:
        for o in outputs:
            if o.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
        cots = [ones_like(o) for o in outs]
    else:
        cots = []
        for g, o in zip(grad_outputs, outs):
            g = physical(materialize(g))[0]
            cots.append(S.movedim(g, len(saved), 0) if is_grads_batched else g)
    ins = [physical(t) for t in inputs]
    VMAP.levels = []
    try:
        found = grad(tuple(outs), tuple(p for p, _ in ins), tuple(cots),
                     is_grads_batched=is_grads_batched, **kw)
    finally:
        VMAP.levels = saved
    result = []
    for g, (_, levels) in zip(found, ins):
        if g is not None and is_grads_batched:
            g = S.movedim(g, 0, len(levels))
        result.append(None if g is None else rewrap(g, levels))
    return tuple(result)


def _cotangent_batch(grad: Callable, outputs: tuple, inputs: tuple, grad_outputs: tuple,
                     **kw) -> tuple:
    """Only the cotangents are batched (``vmap(vjp_fn)``): each sample is one row of a batched
    backward sweep (``is_grads_batched``) through the unbatched graph, the rows of every active
    level flattened into one batch dim."""
    saved = VMAP.levels
    sizes = tuple(size for _, size, _ in saved)
    rows = 1
    for size in sizes:
        rows *= size
    cots = []
    for g, o in zip(grad_outputs, outputs):
        g = ones_like(o) if g is None else g
        cots.append(S.reshape(physical(materialize(g))[0], (rows,) + tuple(o.shape)))
    VMAP.levels = []
    try:
        found = grad(outputs, inputs, tuple(cots), is_grads_batched=True, **kw)
    finally:
        VMAP.levels = saved
    active = [entry[0] for entry in saved]
    return tuple(None if g is None else rewrap(S.reshape(g, sizes + tuple(g.shape[1:])), active)
                 for g in found)


def value_tangent(t: BatchedTensor, tangent: Tensor, wrapped: bool = False) -> Tensor:
    """Forward mode keeps a batched tensor's tangent on its physical value: ``t``'s tangent made
    one of that value (batch dim first; expanded if not batched), or, ``wrapped``, back."""
    if wrapped:
        return wrap(tangent, t._level)
    value = unwrap(tangent, t._level)
    if value is None:
        value = S.expand(S.unsqueeze(tangent, 0), tuple(t._value.shape))
    return value


VMAP.batched_grad = batched_grad
VMAP.rewrap = rewrap
VMAP.batched = BatchedTensor
VMAP.physical = value_tangent
VMAP.materialize = materialize
