"""vmap for ops on arrays that batch over any leading dims (linear algebra on the last one or
two): the vmap dim moved in front of the others is their batching rule.

Such an op computes on its arrays in its public function (a factorization runs once, its
outputs recorded as nodes of one primitive), so the rule wraps the public function: under vmap
it runs once on the physical values, not once per sample.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable

from ..tensor import Tensor
from . import batching as B  # a module: it is still loading when the linear algebra imports this
from . import shape as S


def leading_batch(fn: Callable = None, *, cores: dict | None = None) -> Callable:
    """The batching rule of a public op whose arrays batch over any leading dims (linear algebra
    on the last one or two): under vmap it runs ONCE on the physical values, the vmap dim moved
    in front of the others, and its results come back batched.

    Each tensor argument's core rank (the dims the op works on) is 2 (a matrix) unless ``cores``
    names it (``{"pivots": 1}``, or a function of the bound arguments where the op decides by
    shape, as ``solve``'s right-hand side); the batched arguments are padded to one logical
    batch rank and the unbatched ones expanded (views), so the op sees one more leading batch
    dim everywhere.
    """
    if fn is None:
        return lambda f: leading_batch(f, cores=cores)
    signature = inspect.signature(fn)
    core_of = dict(cores or {})

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not B.batched_in(*args, *kwargs.values()):
            return fn(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        tensors = {k: v for k, v in bound.arguments.items() if isinstance(v, Tensor)}
        level = max(t._level for t in tensors.values() if t.__class__ is B.BatchedTensor)
        size = next(t._value.shape[0] for t in tensors.values()
                    if t.__class__ is B.BatchedTensor and t._level == level)
        ranks = {k: max(t.dim() - _core(core_of.get(k, 2), bound.arguments), 0)
                 for k, t in tensors.items()}
        lead = max(ranks.values())
        for k, t in tensors.items():
            value = B.unwrap(t, level)
            if value is None:
                value = S.expand(S.unsqueeze(t, 0), (size,) + tuple(t.shape))
            pad = (1,) * (lead - ranks[k])
            bound.arguments[k] = S.reshape(value, (size,) + pad + tuple(value.shape[1:]))
        return _rewrapped(fn(*bound.args, **bound.kwargs), level, size)

    return run


def _core(core, arguments: dict) -> int:
    return core(arguments) if callable(core) else core


def vector_rhs(arguments: dict) -> int:
    """The core rank of ``solve``'s right-hand side ``B``: 1 for a vector per matrix of ``A``."""
    a, b = arguments["A"], arguments["B"]
    vector = b.dim() == 1 or (b.dim() == a.dim() - 1 and tuple(b.shape) == tuple(a.shape[:-1]))
    return 1 if vector else 2


def _rewrapped(result, level: int, size: int):
    """An op's results (a tensor, or a tuple or namedtuple of them) batched at ``level``; one
    made without the batch dim (an empty placeholder, as lstsq's residuals) is the same for
    every sample."""
    if isinstance(result, Tensor):
        if result.dim() == 0 or result.shape[0] != size:
            result = S.expand(S.unsqueeze(result, 0), (size,) + tuple(result.shape))
        return B.wrap(result, level)
    if isinstance(result, tuple):
        items = [_rewrapped(r, level, size) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    return result
