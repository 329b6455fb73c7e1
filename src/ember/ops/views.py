"""Views: tensors that share memory with a base, and in-place changes made through them.

An op whose result shares its input's memory (a slice, a reshape, a transpose...) makes a view.
The view shares its base's version counter, so a change to either, in place, is seen by every
node that saved that memory, and backward refuses stale values as torch does. A change through
a view while autograd records rewrites the base's history as torch's CopySlices does: the base
becomes its old value with the view's region replaced, and the view is read anew from it.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from . import elementwise as E
from .registry import apply, primitive


def track(out: Tensor, prim, inputs: tuple, kw: dict) -> None:
    """Make ``out`` a view of the input whose memory its array shares, if any: one version
    counter for both, and, where the input is in a graph, the recipe to replay the view."""
    data = out._data
    owner = data.base
    for t in inputs:  # NumPy and CuPy point a view's base at the owner of the memory
        a = t._data
        if a is data or a is owner or (a.base is not None and a.base is owner):
            break
    else:
        root = backend.root_of(data)
        t = next((t for t in inputs if backend.root_of(t._data) is root), None)
        if t is None:
            return
    out._vc = t._shared_version()
    differentiable = prim.rule is not None  # a view autograd never reads through (bits
    #   reread as another dtype) is written freely, as torch's non-differentiable views
    if differentiable and len(inputs) == 1 and (t.requires_grad or t._view is not None):
        base, ops = (t, ()) if t._view is None else t._view[:2]
        out._view = (base, ops + ((prim, kw),), base._version)


def replay(ops: tuple, x: Tensor) -> Tensor:
    """The view ``ops`` (a view's recipe) applied to ``x``."""
    for prim, kw in ops:
        x = apply(prim, x, **kw) if kw else apply(prim, x)
    return x


def refresh(view: Tensor) -> None:
    """Read a view's history anew from its base when the base changed in place since."""
    base, ops, seen = view._view
    if base._version != seen and base.requires_grad:
        fresh = replay(ops, base)
        view.grad_fn, view._requires_grad = fresh.grad_fn, True
        view._view = (base, ops, base._version)


def write_through(view: Tensor, result: Tensor) -> Tensor:
    """``view`` holds ``result`` in place: the base's history becomes CopySlices of its old
    history and ``result``, and the view's history is re-read from the base."""
    base, ops, _ = view._view
    if result._data.shape != view._data.shape:
        raise RuntimeError(f"output with shape {list(view._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    keep = base.xp.ones(base._data.shape, dtype=bool)
    replay(ops, Tensor._make(keep))._data[...] = False
    base._set_result(apply(_copy_slices, base._snapshot(), result, ops=ops, keep=Tensor._make(keep)))
    fresh = replay(ops, base)
    view.grad_fn, view._requires_grad = fresh.grad_fn, True
    view._view = (base, ops, base._version)
    return view


def _copy_slices_fwd(xp, old, new, ops, keep):
    out = old.copy()
    replay(ops, Tensor._make(out))._data[...] = new
    return out


def _copy_slices_rule(g, out, old, new, ops, keep):
    return (E.where(keep, g, 0.0) if old.requires_grad else None,
            replay(ops, g) if new.requires_grad else None)


_copy_slices = primitive(
    "copy_slices", _copy_slices_fwd, _copy_slices_rule, batchable=False, reads_inputs=False,
    jvp="linear",
    formula="the old base keeps the gradient outside the view; the new values get the view of it",
)
_copy_slices.backward_name = "CopySlices"  # torch's name for this node
