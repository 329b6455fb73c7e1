"""Primitives and the op registry.

A ``Primitive`` is an op the engine differentiates: its forward (array code through the
tensor's array module) and its VJP rule (Ember ops, so it can be differentiated again),
declared together in one ``ops/<family>.py`` file. ``OpInfo`` entries describe every public
op, primitive or composite, with the torch function it mirrors and how to make sample
inputs; the test harness, the README coverage table, the fuzzer and ``explain`` read them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .. import backend
from ..autograd.engine import Node
from ..autograd.grad_mode import STATE
from ..tensor import Tensor


class Primitive:
    """An op with a forward on arrays and a reverse-mode rule written in Ember ops.

    ``forward(xp, *arrays, **kw) -> array``; ``rule(g, out, *inputs, **kw) -> grads``, one
    per input (None where an input gets no gradient). ``saves_out`` says the rule uses ``out``.
    """

    __slots__ = ("name", "forward", "rule", "saves_out", "formula", "backward_name")

    def __init__(self, name: str, forward: Callable, rule: Callable | None = None, *,
                 saves_out: bool = False, formula: str = "") -> None:
        self.name = name
        self.forward = forward
        self.rule = rule
        self.saves_out = saves_out
        self.formula = formula
        camel = "".join(p.capitalize() for p in name.strip("_").split("_"))
        self.backward_name = f"{camel}Backward0"

    def __repr__(self) -> str:
        return f"Primitive({self.name})"

    def backward(self, node: Node, g: Tensor) -> tuple:
        """Gradients for the node's inputs given the gradient ``g`` of its output."""
        inputs = node.saved()
        out = Tensor._make(node.out_data, True, node) if self.saves_out else None
        kw = node.kwargs
        if kw:
            return self.rule(g, out, *inputs, **kw)
        return self.rule(g, out, *inputs)


PRIMITIVES: dict[str, Primitive] = {}


def primitive(name: str, forward: Callable, rule: Callable | None = None, *,
              saves_out: bool = False, formula: str = "") -> Primitive:
    """Declare a primitive (once; its name is unique)."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is declared twice")
    p = Primitive(name, forward, rule, saves_out=saves_out, formula=formula)
    PRIMITIVES[name] = p
    return p


def apply(prim: Primitive, *inputs: Tensor, **kw) -> Tensor:
    """Run a primitive forward and, when grad mode is on and an input needs it, record a node."""
    arrays = [t._data for t in inputs]
    xp = backend.module_for(arrays, prim.name)
    try:
        data = prim.forward(xp, *arrays, **kw) if kw else prim.forward(xp, *arrays)
    except (ValueError, IndexError, TypeError) as exc:
        shapes = ", ".join(f"{list(t.shape)} {t.dtype}" for t in inputs)
        kind = RuntimeError if isinstance(exc, ValueError) else type(exc)
        raise kind(f"{prim.name}: {exc} (inputs: {shapes})") from None
    if type(data) is not xp.ndarray:
        data = xp.asarray(data)
    if STATE.enabled and prim.rule is not None:
        for t in inputs:
            if t.requires_grad:
                node = Node(prim, inputs, kw, data if prim.saves_out else None)
                return Tensor._make(data, True, node)
    return Tensor._make(data)


@dataclass
class OpInfo:
    """A public op as the tests, docs, fuzzer and explain see it.

    ``samples(rng, dtype)`` yields ``(args, kwargs)``: NumPy arrays for tensor arguments,
    anything else as is. ``fn(*args, **kwargs)`` runs Ember with tensors in the arrays'
    place; ``ref(torch, *args, **kwargs)`` runs the torch function it mirrors (torch is a
    test dependency only, so it is passed in, never imported here).
    """

    name: str
    fn: Callable
    ref: Callable
    samples: Callable
    family: str
    grad: bool = True
    gradgrad: bool = True
    float_only: bool = True
    notes: str = ""
    skip: dict = field(default_factory=dict)


OPS: dict[str, OpInfo] = {}


def register(info: OpInfo) -> OpInfo:
    """Add a public op to the registry."""
    if info.name in OPS:
        raise ValueError(f"op {info.name!r} registered twice")
    OPS[info.name] = info
    return info
