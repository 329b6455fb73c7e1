"""Forward-mode automatic differentiation with dual tensors, as ``torch.autograd.forward_ad``.

A dual tensor is a value with a tangent attached at a *level*. While a level is active every
primitive pushes its inputs' tangents through its JVP rule (``ops.registry.apply``), so each
result carries ``J·t`` beside its value: one forward sweep gives one directional derivative.
JVP rules are written in Ember ops, so a tangent can be differentiated again (reverse over
forward), and the rule for level k runs with only the levels below k active, so levels nest
(``jacfwd(jacfwd(f))``): the tangent of an inner level carries its own outer-level tangent.
"""
from __future__ import annotations

import contextlib
import functools
import weakref
from typing import NamedTuple

from .vmap_state import VMAP

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]


class _Level:
    """The tangents of one dual level, by tensor; a tangent is dropped when its tensor dies.

    A tensor batched by ``vmap`` keeps its tangent on its physical value (batch dim first), as
    the batching rules see only physical values: the tangent then flows through them, and
    through every vmap level, whichever of vmap and forward mode was entered first.
    """

    __slots__ = ("index", "tangents")

    def __init__(self, index: int) -> None:
        self.index = index
        self.tangents: dict = {}

    def get(self, t):
        """The tangent of ``t`` at this level, or None."""
        if VMAP.levels and t.__class__ is VMAP.batched:
            tangent = self.get(t._value)
            return None if tangent is None else VMAP.physical(t, tangent, wrapped=True)
        entry = self.tangents.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
        return None

    def set(self, t, tangent) -> None:
        if VMAP.levels and t.__class__ is VMAP.batched:
            self.set(t._value, VMAP.physical(t, tangent))
            return
        key = id(t)
        self.tangents[key] = (weakref.ref(t, functools.partial(self._forget, key)), tangent)

    def drop(self, t) -> None:
        if VMAP.levels and t.__class__ is VMAP.batched:
            self.drop(t._value)
        elif self.get(t) is not None:
            del self.tangents[id(t)]

    def _forget(self, key: int, ref) -> None:
        entry = self.tangents.get(key)
        if entry is not None and entry[0] is ref:
            del self.tangents[key]


class _Levels:
    """The active dual levels, outermost first (empty: forward mode is off, at no cost)."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active: tuple = ()


LEVELS = _Levels()


@contextlib.contextmanager
def only(levels: tuple):
    """Run with just ``levels`` active (a JVP rule sees only the levels below its own)."""
    prev = LEVELS.active
    LEVELS.active = levels
    try:
        yield
    finally:
        LEVELS.active = prev


def enter_dual_level() -> int:
    """Start a new forward-mode level and return it (the default level of the functions below)."""
    level = _Level(len(LEVELS.active))
    LEVELS.active = LEVELS.active + (level,)
    return level.index


def exit_dual_level(*, level: int | None = None) -> None:
    """End the innermost level: every tangent attached at it is dropped."""
    if not LEVELS.active:
        raise RuntimeError("Trying to exit a forward AD level but no level is active: "
                           "enter_dual_level() first.")
    current = LEVELS.active[-1].index
    if level is not None and level != current:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was "
                           "created. This is not supported.")
    LEVELS.active[-1].tangents.clear()
    LEVELS.active = LEVELS.active[:-1]


class dual_level(contextlib.ContextDecorator):
    """Context manager (and decorator) for forward AD: enters a level, exits it on the way out."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


def _level(level: int | None, action: str) -> _Level:
    if not LEVELS.active:
        raise RuntimeError(f"Trying to {action} for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if level is None:
        return LEVELS.active[-1]
    if not 0 <= level < len(LEVELS.active):
        raise RuntimeError(f"Trying to {action} for forward AD at level {level}, but only levels "
                           f"0 to {len(LEVELS.active) - 1} are active.")
    return LEVELS.active[level]


def has_tangent(tensors) -> bool:
    """Whether any of ``tensors`` carries a tangent at an active level."""
    return any(level.get(t) is not None for level in LEVELS.active for t in tensors)


def copy_tangents(src, dst) -> None:
    """Give ``dst`` (a copy of ``src`` cut from the graph) ``src``'s tangent at every level."""
    for level in LEVELS.active:
        tangent = level.get(src)
        if tangent is not None:
            level.set(dst, tangent)


def detached(t):
    """``t`` cut from the reverse-mode graph, with its tangents (themselves cut): a stop for
    gradients that forward mode passes (``detach()`` drops the tangents too, as torch's)."""
    cut = t.detach()
    for level in LEVELS.active:
        tangent = level.get(t)
        if tangent is not None:
            level.set(cut, detached(tangent))
    return cut


def move_tangents(src, dst) -> None:
    """``dst`` now holds ``src``'s value (an in-place op): it takes ``src``'s tangents too."""
    for level in LEVELS.active:
        tangent = level.get(src)
        if tangent is None:
            level.drop(dst)
        else:
            level.set(dst, tangent)


def make_dual(tensor, tangent, *, level: int | None = None):
    """A view of ``tensor`` carrying ``tangent`` at ``level`` (the innermost by default).

    Gradients of the result reach ``tensor`` (it is a view); ``tangent`` must have its shape.
    """
    lvl = _level(level, "create a dual Tensor")
    S = _shape_ops()
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, S.Tensor):
            raise TypeError(f"make_dual(): expected the {what} to be a Tensor, got {type(t).__name__}")
        if t._data.dtype.kind not in "fcV":  # V: bfloat16
            raise ValueError(f"Expected {what} to be floating point or complex, but got: {t.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original "
            f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
            f"forward gradient is of size {list(tangent.shape)}.")
    if tangent.device != tensor.device:
        raise RuntimeError(f"make_dual(): the tangent is on {tangent.device} but the primal on "
                           f"{tensor.device}; expected both on the same device.")
    if VMAP.levels and tangent.__class__ is VMAP.batched:
        tensor = VMAP.materialize(tensor)  # batched at the tangent's levels too
    dual = S.alias(tensor)
    lvl.set(dual, tangent)
    return dual


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal (a view, no tangent at that level) and the tangent."""

    primal: object
    tangent: object


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of a dual tensor at ``level``; ``(tensor, None)`` outside any level."""
    if not LEVELS.active:
        return UnpackedDualTensor(tensor, None)
    lvl = _level(level, "unpack a dual Tensor")
    tangent = lvl.get(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    others = tuple(k for k in LEVELS.active if k is not lvl)
    with only(others):
        primal = _shape_ops().alias(tensor)
    return UnpackedDualTensor(primal, tangent)


def _shape_ops():
    """``ops.shape`` (its ``Tensor`` and ``alias``)."""
    # imported here, not at the top: ops build on autograd
    from ..ops import shape

    return shape
