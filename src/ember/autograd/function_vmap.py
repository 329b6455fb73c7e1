"""A custom ``autograd.Function`` under ``vmap``, as torch's: its own ``vmap`` staticmethod, or a
rule generated from its forward, backward and jvp (``generate_vmap_rule = True``).

``Function.apply`` with an argument batched at the innermost vmap level comes here. With a
``vmap(info, in_dims, *args)`` staticmethod, that runs on the physical values (the batch dim
where ``in_dims`` says, None for unbatched) below the level and returns ``(outputs, out_dims)``.
A generated rule applies a Function on the physical values whose forward, backward and jvp
each run the user's under a fresh vmap level of the same size: the graph is recorded once for
the whole batch, and the backward sweep sees physical gradients (summed over the batch for an
unbatched input).
"""
from __future__ import annotations

from typing import NamedTuple

from .engine import TENSOR_CLASS
from .vmap_state import VMAP, lowered, vmap_level


class VmapInfo(NamedTuple):
    """What a ``vmap`` staticmethod is told about the vmap it runs under."""

    batch_size: int
    randomness: str


def _is_tensor(x) -> bool:
    return isinstance(x, TENSOR_CLASS[0])


def batched_level(args: tuple) -> int | None:
    """The innermost vmap level among ``args``' batched tensors, or None."""
    levels = [a._level for a in args if a.__class__ is VMAP.batched]
    return max(levels) if levels else None


def overrides_vmap(cls, base) -> bool:
    return getattr(cls, "vmap") is not getattr(base, "vmap")


def vmap_apply(cls, base, args: tuple, kwargs: dict, level: int):
    """``cls.apply(*args, **kwargs)`` with some ``args`` batched at ``level``."""
    name = cls.__name__
    if any(_is_tensor(v) for v in kwargs.values()):
        raise NotImplementedError(f"Run vmap on autograd.Function with kwarg-only Tensor args. Please "
                                  f"do not pass kwarg-only Tensors to autograd.Function. Got: {kwargs}")
    entry = next(e for e in VMAP.levels if e[0] == level)
    size, randomness = entry[1], entry[2]
    physical = tuple(a._value if _at(a, level) else a for a in args)
    in_dims = tuple(0 if _at(a, level) else None for a in args)
    if cls.generate_vmap_rule:
        if overrides_vmap(cls, base):
            raise RuntimeError(f"You tried to vmap over {name}, but it has both generate_vmap_rule=True "
                               "and an overridden vmap staticmethod. Please set generate_vmap_rule=False "
                               "or delete the overridden vmap staticmethod to avoid ambiguity. For more "
                               "details, please see https://pytorch.org/docs/main/notes/extending.func.html")
        generated = _generated(cls, base, in_dims, size, randomness)
        with lowered(level):
            outputs = generated.apply(*physical, **kwargs)
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        out_dims = tuple(0 if _is_tensor(o) else None for o in outputs)
        return _wrap_outputs(outputs[0] if single else outputs,
                             out_dims[0] if single else out_dims, level, name)
    if not overrides_vmap(cls, base):
        raise RuntimeError(f"You tried to vmap over {name}, but it does not have vmap support. Please "
                           "override and implement the vmap staticmethod or set generate_vmap_rule=True. "
                           "For more details, please see "
                           "https://pytorch.org/docs/main/notes/extending.func.html")
    with lowered(level):
        result = cls.vmap(VmapInfo(size, randomness), in_dims, *physical, **kwargs)
    if not isinstance(result, tuple) or len(result) != 2:
        raise RuntimeError(f"Expected the vmap staticmethod to have two returns, an output and "
                           f"out_dims with pytree structure compatible with the output. Got a "
                           f"{type(result).__name__} instead")
    return _wrap_outputs(result[0], result[1], level, name)


def _at(t, level: int) -> bool:
    return t.__class__ is VMAP.batched and t._level == level


def _wrap_outputs(outputs, out_dims, level: int, name: str):
    """The vmap staticmethod's outputs batched at ``level`` (each batch dim moved to the front)."""
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    dims = (out_dims,) * len(outs) if not isinstance(out_dims, tuple) else out_dims
    if len(dims) != len(outs):
        raise RuntimeError(f"The {name}.vmap staticmethod returned an incompatible (output, out_dims) "
                           f"tuple. Expected out_dims={out_dims} to be compatible with the structure of "
                           f"`output`: {len(outs)} outputs but {len(dims)} out_dims")
    wrapped = []
    for o, d in zip(outs, dims):
        if d is None or not _is_tensor(o):
            wrapped.append(o)
        else:
            wrapped.append(VMAP.rewrap(o.movedim(d, 0) if d else o, [level]))
    return wrapped[0] if single else tuple(wrapped)


def _batched(values: tuple, dims: tuple, level: int) -> list:
    """Physical values (batch first where ``dims`` says 0) as tensors batched at ``level``."""
    return [VMAP.rewrap(v, [level]) if d is not None and v is not None else v
            for v, d in zip(values, dims)]


def _physical(t, level: int, size: int):
    """A result inside the generated rule's level as a physical value (batch dim first)."""
    if not _is_tensor(t):
        return t
    if _at(t, level):
        return t._value
    return t.unsqueeze(0).expand((size,) + tuple(t.shape))


def _generated(cls, base, in_dims: tuple, size: int, randomness: str):
    """A Function on physical values whose forward, backward and jvp are ``cls``'s under vmap."""

    def rebatched(ctx, level: int) -> None:
        """The tensors ``cls`` saved, batched at the level now running (saved at another)."""
        for slot in ("_saved", "_saved_forward"):
            kept = getattr(ctx, slot)
            setattr(ctx, slot, tuple(VMAP.rewrap(t._value, [level])
                                     if t is not None and t.__class__ is VMAP.batched else t
                                     for t in kept))

    class Generated(base):
        @staticmethod
        def forward(ctx, *values):
            with vmap_level(size, randomness) as level:
                args = _batched(values, in_dims, level)
                if cls.setup_context is base.setup_context:
                    result = cls.forward(ctx, *args)
                else:
                    result = cls.forward(*args)
                    cls.setup_context(ctx, tuple(args), result)
                if isinstance(result, tuple):
                    return tuple(_physical(r, level, size) for r in result)
                return _physical(result, level, size)

        @staticmethod
        def backward(ctx, *grads):
            with vmap_level(size, randomness) as level:
                rebatched(ctx, level)
                found = cls.backward(ctx, *_batched(grads, (0,) * len(grads), level))
                found = found if isinstance(found, tuple) else (found,)
                return tuple(_reduced(_physical(g, level, size), d) for g, d in zip(found, in_dims))

        @staticmethod
        def jvp(ctx, *tangents):
            with vmap_level(size, randomness) as level:
                rebatched(ctx, level)
                dims = tuple(0 if t is not None and d is not None else None
                             for t, d in zip(tangents, in_dims))
                found = cls.jvp(ctx, *_batched(tangents, dims, level))
                if isinstance(found, tuple):
                    return tuple(_physical(t, level, size) for t in found)
                return _physical(found, level, size)

    Generated.__name__ = cls.__name__
    return Generated


def _reduced(grad, in_dim):
    """An unbatched input's gradient: the batch of per-sample gradients summed."""
    if in_dim is not None or grad is None or not _is_tensor(grad):
        return grad
    return grad.sum(0)
