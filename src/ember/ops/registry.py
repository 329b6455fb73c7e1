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
from ..autograd.engine import Node, make_node
from ..autograd.grad_mode import STATE
from ..tensor import Tensor


class _Batch:
    """How many leading batch dimensions the cotangent of the rule now running carries.

    ``autograd.grad(..., is_grads_batched=True)`` pushes a whole batch of cotangents through
    one backward sweep; rules that move axes or build shapes read ``batch_dims()``.
    """

    __slots__ = ("dims",)

    def __init__(self) -> None:
        self.dims = 0


BATCH = _Batch()


def batch_dims() -> int:
    """Leading batch dimensions of the cotangent ``g`` in the rule being run (usually 0)."""
    return BATCH.dims


def batch_shape(g: Tensor) -> tuple:
    """The leading batch part of a cotangent's shape (``()`` outside batched backward)."""
    return g._data.shape[:BATCH.dims]


class Primitive:
    """An op with a forward on arrays and a reverse-mode rule written in Ember ops.

    ``forward(xp, *arrays, **kw) -> array``; ``rule(g, out, *inputs, **kw) -> grads``, one
    per input (None where an input gets no gradient). ``saves_out`` says the rule uses ``out``;
    ``reads_inputs=False`` that it uses only its inputs' shapes and types (a view, a copy), so
    changing them in place later does not spoil the gradient.
    """

    __slots__ = ("name", "forward", "rule", "saves_out", "reads_inputs", "formula",
                 "backward_name", "batchable")

    def __init__(self, name: str, forward: Callable, rule: Callable | None = None, *,
                 saves_out: bool = False, reads_inputs: bool = True, formula: str = "",
                 batchable: bool = True) -> None:
        self.name = name
        self.batchable = batchable
        self.reads_inputs = reads_inputs
        self.forward = forward
        self.rule = rule
        self.saves_out = saves_out
        self.formula = formula
        camel = "".join(p.title() for p in name.strip("_").split("_"))  # as torch: Log1P
        self.backward_name = f"{camel}Backward0"

    def __repr__(self) -> str:
        return f"Primitive({self.name})"

    def backward(self, node: Node, g: Tensor) -> tuple:
        """Gradients for the node's inputs given the gradient ``g`` of its output."""
        inputs = node.saved()
        out = Tensor._make(node.out_data, True, node) if self.saves_out else None
        kw = node.kwargs or {}
        dims = g._data.ndim - node.out_ndim
        if not dims and not BATCH.dims:  # the common, unbatched case
            return self.rule(g, out, *inputs, **kw) if kw else self.rule(g, out, *inputs)
        if dims and not self.batchable:
            return _loop_over_batch(self.rule, g, out, inputs, kw)
        prev = BATCH.dims
        BATCH.dims = dims
        try:
            return self.rule(g, out, *inputs, **kw)
        finally:
            BATCH.dims = prev


def _loop_over_batch(rule: Callable, g: Tensor, out, inputs: tuple, kw: dict) -> tuple:
    """Run a rule that knows no batch dimension once per cotangent, then stack the results."""
    from .shape import stack

    prev = BATCH.dims
    BATCH.dims = 0
    try:
        rows = [rule(g[i], out, *inputs, **kw) for i in range(g._data.shape[0])]
    finally:
        BATCH.dims = prev
    return tuple(
        None if parts[0] is None else stack(list(parts)) for parts in zip(*rows)
    )


PRIMITIVES: dict[str, Primitive] = {}


def primitive(name: str, forward: Callable, rule: Callable | None = None, *,
              saves_out: bool = False, reads_inputs: bool = True, formula: str = "",
              batchable: bool = True) -> Primitive:
    """Declare a primitive (once; its name is unique).

    ``batchable=False`` says the rule cannot take cotangents with extra leading batch
    dimensions; batched backward then runs it once per batch row.
    """
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is declared twice")
    p = Primitive(name, forward, rule, saves_out=saves_out, reads_inputs=reads_inputs,
                  formula=formula, batchable=batchable)
    PRIMITIVES[name] = p
    return p


_NUMPY = backend.numpy
_NDARRAY = backend.numpy.ndarray


def apply(prim: Primitive, *inputs: Tensor, **kw) -> Tensor:
    """Run a primitive forward and, when grad mode is on and an input needs it, record a node."""
    arrays = [t._data for t in inputs]
    for a in arrays:
        if a.__class__ is not _NDARRAY:  # not all plain NumPy: check devices, find the module
            xp = backend.module_for(arrays, prim.name)
            break
    else:
        xp = _NUMPY
    try:
        data = prim.forward(xp, *arrays, **kw) if kw else prim.forward(xp, *arrays)
    except (ValueError, IndexError, TypeError) as exc:
        shapes = ", ".join(f"{list(t.shape)} {t.dtype}" for t in inputs)
        kind = RuntimeError if isinstance(exc, ValueError) else type(exc)
        raise kind(f"{prim.name}: {exc} (inputs: {shapes})") from None
    if type(data) is not _NDARRAY and not backend.is_array(data):  # a NumPy scalar
        data = xp.asarray(data)
    if STATE.enabled and prim.rule is not None:
        for t in inputs:
            if t.requires_grad:
                for u in inputs:
                    if u._view is not None:
                        views.refresh(u)
                node = make_node(prim, inputs, kw, data if prim.saves_out else None, data.ndim)
                out = Tensor._make(data, True, node)
                if data.base is not None or data is arrays[0]:
                    views.track(out, prim, inputs, kw)
                if prim.saves_out:
                    version = out._vc
                    if version is None:
                        version = out._vc = [0]
                    node.out_version = (version, version[0])
                return out
    out = Tensor._make(data)
    if arrays and (data.base is not None or data is arrays[0]):
        views.track(out, prim, inputs, kw)
    return out


@dataclass
class OpInfo:
    """A public op as the tests, docs, fuzzer and explain see it.

    ``samples(rng, dtype)`` yields ``(args, kwargs)``: NumPy arrays for tensor arguments
    (also inside lists and index tuples), anything else as is; ``dtype`` is a NumPy dtype
    name. ``fn(*args, **kwargs)`` runs Ember with tensors in the arrays' place;
    ``ref(torch, *args, **kwargs)`` runs the torch function it mirrors (torch is a test
    dependency only, so it is passed in, never imported here).

    Attributes:
        family: the ops module (or group) the op belongs to, for the coverage table.
        grad / gradgrad: whether first / second derivatives exist and are checked.
        dtypes: the dtypes the op is checked in (integer and bool ones forward only).
        tol: per-dtype ``(rtol, atol)`` overrides of the harness's tolerances (say why in notes).
        errors: like ``samples``, but inputs torch refuses; Ember must raise the same class.
        notes: anything a reader of the coverage table should know.
        host_reads: why the op must read values back from a GPU (an output shape that depends
            on them, say); empty for every op that never makes the host wait for the device.
    """

    name: str
    fn: Callable
    ref: Callable
    samples: Callable
    family: str
    grad: bool = True
    gradgrad: bool = True
    dtypes: tuple = ("float32", "float64")
    tol: dict = field(default_factory=dict)
    errors: Callable | None = None
    notes: str = ""
    host_reads: str = ""


OPS: dict[str, OpInfo] = {}


def register(info: OpInfo) -> OpInfo:
    """Add a public op to the registry."""
    if info.name in OPS:
        raise ValueError(f"op {info.name!r} registered twice")
    OPS[info.name] = info
    return info


from . import views  # noqa: E402 - views replay ops through ``apply``, defined above
