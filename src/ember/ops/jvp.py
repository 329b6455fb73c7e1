"""Forward mode through the primitives: pushing tangents, and the JVP rules derived by kind.

While a dual level is active, ``registry.apply`` hands each result to ``push``, which runs the
primitive's JVP rule on its inputs' tangents (one level at a time, the rule seeing only the
levels below) and attaches the result's tangent. Most rules follow from what the op is, so a
primitive names its kind instead of a body (``declare(..., jvp="linear")``):

- ``linear``: the op applied to the tangents (views, reshapes, sums, indexing, casts, add);
- ``elementwise``: a one-input op whose VJP multiplies ``g`` by the local derivative, so the
  same rule applied to the tangent is the JVP;
- ``multilinear``: linear in each input apart (matmul, einsum): the sum over inputs of the op
  with that input replaced by its tangent;
- ``reduction``: the VJP spreads ``g`` over what was reduced with weights ``w``; the JVP is
  ``sum(t * w)`` over the same axes;
- ``transposed``: any op, through its VJP rule, which is linear in ``g``: ``J t`` is the gradient
  of ``<rule(u), t>`` with respect to ``u`` (the factorizations, whose tangents have no simpler
  form here).

No broadcast is undone in forward mode: a tangent smaller than the result is broadcast up.
"""
from __future__ import annotations

from typing import Callable

from .. import autograd, dtypes
from ..autograd.forward_ad import LEVELS
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .registry import BATCH, Primitive, apply


def push(prim: Primitive, inputs: tuple, kw: dict, out: Tensor) -> None:
    """Attach to ``out`` its tangent at every active level where an input has one."""
    if prim.rule is None or out._data.dtype.kind not in dtypes.FLOAT_KINDS:
        return  # not differentiable, or an integer/bool result: no tangent
    levels = LEVELS.active
    batch = BATCH.dims
    for i, level in enumerate(levels):
        tangents = [level.get(t) for t in inputs]
        if tangents.count(None) == len(tangents):
            continue
        rule = rule_of(prim)
        # the rule sees only the levels below this one, and unbatched shapes (a batched
        # backward sweep may be running it); plain assignments: this runs for every op
        LEVELS.active = levels[:i]
        BATCH.dims = 0
        try:
            tangent = rule(tangents, out, *inputs, **kw)
            if tangent is not None:
                tangent = _fit(tangent, out)
        finally:
            LEVELS.active = levels
            BATCH.dims = batch
        if tangent is not None:
            level.set(out, tangent)


def rule_of(prim: Primitive) -> Callable:
    """The primitive's JVP rule (derived from its kind where it names one)."""
    rule = prim.jvp
    if rule is None:
        raise NotImplementedError(
            f"Trying to use forward AD with {prim.name} that does not support it because it has "
            "not been implemented yet.")
    if rule.__class__ is str:
        derived = _DERIVED.get(prim)
        if derived is None:
            derived = _DERIVED[prim] = _KINDS[rule](prim)
        return derived
    return rule


def _fit(tangent: Tensor, out: Tensor) -> Tensor:
    """The tangent broadcast to the result's shape and cast to its dtype."""
    if tangent._data.shape != out._data.shape:
        tangent = S.expand_to(tangent, out._data.shape)
    if tangent._data.dtype != out._data.dtype:
        tangent = E.cast(tangent, out.dtype)
    return tangent


def plus(*terms) -> Tensor | None:
    """The sum of the terms that are not None (one input's contribution each); None if none is."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else E.add(total, term)
    return total


def _ones(out: Tensor) -> Tensor:
    return Tensor._make(out.xp.ones(out._data.shape, dtype=out._data.dtype))


def _linear(prim: Primitive) -> Callable:
    """The op applied to the tangents; zeros for a floating input without one, and its other
    inputs (indices, masks, conditions) as they are."""

    def rule(tangents, out, *inputs, **kw):
        args = [
            t if t is not None else (E.const_zeros(x) if x._data.dtype.kind in dtypes.FLOAT_KINDS else x)
            for t, x in zip(tangents, inputs)
        ]
        return apply(prim, *args, **kw)

    return rule


def _multilinear(prim: Primitive) -> Callable:
    """``sum_i op(x_1, ..., t_i, ..., x_n)`` over the inputs with tangents."""

    def rule(tangents, out, *inputs, **kw):
        return plus(*(apply(prim, *inputs[:i], t, *inputs[i + 1:], **kw)
                      for i, t in enumerate(tangents) if t is not None))

    return rule


def identity(tangents, out, x, **kw) -> Tensor:
    """The JVP of an op that passes its input through (hooks, markers)."""
    return tangents[0]


def _elementwise(prim: Primitive) -> Callable:
    """A diagonal VJP rule applied to the tangent: ``t * f'(x)``."""

    def rule(tangents, out, x, **kw):
        return prim.rule(tangents[0], out, x, **kw)[0]

    return rule


def _reduction(prim: Primitive) -> Callable:
    """``sum(t * w)`` over the reduced axes, ``w`` the weights the VJP spreads ``g`` with."""

    def rule(tangents, out, *inputs, **kw):
        weights = prim.rule(_ones(out), out, *inputs, **kw)
        spread = plus(*(E.mul(t, w) for t, w in zip(tangents, weights) if t is not None))
        if "axes" in kw:
            return R.sum(spread, kw["axes"], keepdim=kw["keepdim"])
        return S.reshape_to(R.sum(spread), out._data.shape)

    return rule


def _transposed(prim: Primitive) -> Callable:
    """``J t`` as the gradient with respect to ``u`` of ``<rule(u), t>`` (the rule is ``J^T u``);
    differentiable again, as the rule is written in Ember ops."""

    def rule(tangents, out, *inputs, **kw):
        if out._data.dtype.kind not in dtypes.FLOAT_KINDS:
            return None
        with enable_grad():
            u = Tensor._make(out.xp.zeros(out._data.shape, dtype=out._data.dtype), True)
            recorded = any(x.requires_grad for x in (*inputs, *tangents) if x is not None)
            # rules skip inputs that need no gradient: one with a tangent must get its part
            inputs = [x.detach().requires_grad_() if t is not None and not x.requires_grad else x
                      for x, t in zip(inputs, tangents)]
            grads = prim.rule(u, out, *inputs, **kw)
            total = plus(*(R.sum(E.mul(g, t)) for g, t in zip(grads, tangents)
                           if g is not None and t is not None))
            if total is None:
                return None
            (jt,) = autograd.grad(total, u, create_graph=True, allow_unused=True)
        return jt if recorded or jt is None else jt.detach()

    return rule


_KINDS = {"linear": _linear, "multilinear": _multilinear, "elementwise": _elementwise,
          "reduction": _reduction, "transposed": _transposed}
_DERIVED: dict = {}
