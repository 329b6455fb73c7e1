"""Tracing: run a function once, eagerly, and record every primitive it applies as a flat program.

The recorder sits in the op dispatch (``ops.registry.OBSERVER``, the hook the profiler uses)
and, for the backward program, in the engine (``autograd.engine.OBSERVER``). Each step is
(primitive, input slots, keyword arguments, output slot). While it records, converting a
traced value to Python (``item``, ``bool``, ``numpy``...), drawing random numbers or changing
a traced tensor in place stops the recording with the reason: the function then runs eagerly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import backend
from ..autograd import engine
from ..generator import Generator
from ..ops import registry
from ..ops.registry import Primitive
from ..tensor import Tensor
from .exc import Unsupported
from .stance import STATE

# Tensor methods that hand a value to Python: on a traced value they make control flow or
# results depend on data the program does not see.
_CONVERSIONS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
                "__complex__", "__array__")


@dataclass
class Step:
    """One call of the flat program: ``out = forward(xp, *ins, **kw)``, or a rule run whole."""

    prim: Primitive
    xp: object
    ins: list
    kw: dict
    out: int | tuple  # one slot; for a rule step, one slot (or None) per gradient
    wrap: bool = False  # the result may be a NumPy scalar: made an array again, as apply does
    rule: bool = False  # a derivative rule that computes outside the ops: replayed whole
    g: int = -1  # a rule step's cotangent slot
    saved_out: int = -1  # a rule step's forward-output slot (-1: the rule does not read it)
    needs: tuple = ()  # a rule step's inputs' requires_grad (rules skip inputs that need none)

    def reads(self) -> list:
        """The slots this step reads."""
        if not self.rule:
            return self.ins
        return [*self.ins, self.g] + ([self.saved_out] if self.saved_out >= 0 else [])

    def writes(self) -> tuple:
        """The slots this step computes (None for a gradient a rule does not give)."""
        return self.out if self.rule else (self.out,)


@dataclass
class Recording:
    """What one trace saw: the steps, the slots of inputs and captured tensors, why it stopped."""

    steps: list = field(default_factory=list)
    externals: list = field(default_factory=list)  # (slot, tensor) read live at each replay
    reason: str | None = None


def version(t: Tensor) -> int:
    """A tensor's in-place version (0 before its first in-place change)."""
    return 0 if t._vc is None else t._vc[0]


class Recorder:
    """Maps tensors met during one trace to slots and records the primitives applied to them."""

    def __init__(self, fullgraph: bool) -> None:
        self.fullgraph = fullgraph
        self.rec = Recording()
        self.steps = self.rec.steps
        self.slot_of: dict = {}  # id(tensor) -> slot
        self.array_slot: dict = {}  # id(array) -> slot (aliases: detach, the rule's `out`)
        self.versions: dict = {}  # id(tensor) -> version when bound
        self.arrays: dict = {}  # slot -> its array in the trace (what fusion checks against)
        self.keep: list = []  # every tensor met, alive so that ids stay unique
        self.count = 0
        self.depth = 0  # > 0 inside apply
        self.made_outside = False  # a tensor was made outside the ops since last reset
        self.nodes: set = set()  # the graph nodes this trace made
        self.born: set = set()  # ids of tensors made while tracing (constants when captured)

    # ------------------------------------------------------------------ slots
    def bind(self, t: Tensor) -> int:
        """A new slot for ``t`` (an input, or an op's output)."""
        s = self.count
        self.count += 1
        self.slot_of[id(t)] = s
        self.array_slot[id(t._data)] = s
        self.arrays[s] = t._data
        self.versions[id(t)] = version(t)
        self.keep.append(t)
        return s

    def slot(self, t: Tensor) -> int:
        """The slot of a tensor an op reads: bound, an alias of a bound array, or captured."""
        s = self.slot_of.get(id(t))
        if s is not None:
            if version(t) != self.versions[id(t)]:
                self.stop("a tensor of the traced program was changed in place")
            return s
        s = self.array_slot.get(id(t._data))
        if s is not None:
            self.slot_of[id(t)] = s
            self.versions[id(t)] = version(t)
            self.keep.append(t)
            return s
        base = getattr(t._data, "base", None)
        if base is not None and id(base) in self.array_slot:
            self.stop("a view of a traced value was made outside the ops")
        s = self.bind(t)
        self.rec.externals.append((s, t))
        return s

    def traced(self, t: Tensor) -> bool:
        """Whether ``t`` holds a value the program computes or reads (not a literal constant)."""
        return id(t) in self.slot_of or id(t._data) in self.array_slot

    def stop(self, reason: str) -> None:
        """Stop recording: the function runs eagerly (raise under ``fullgraph=True``)."""
        if self.rec.reason is None:
            self.rec.reason = reason
        if self.fullgraph:
            raise Unsupported(f"ember.compile(fullgraph=True): graph break: {reason}")

    # ------------------------------------------------------------------ the hooks
    def on_op(self, prim: Primitive, inputs: tuple, kw: dict):
        """The dispatch observer: apply the op, then record it."""
        registry.OBSERVER = None
        self.depth += 1
        try:
            out = registry.apply(prim, *inputs, **kw)
        finally:
            self.depth -= 1
            registry.OBSERVER = self.on_op
        if self.rec.reason is None:
            self._record(prim, inputs, kw, out)
        return out

    def _record(self, prim: Primitive, inputs: tuple, kw: dict, out: Tensor) -> None:
        if out.__class__ is not Tensor:
            self.stop(f"{prim.name} returned {type(out).__name__} (vmap inside compile)")
            return
        arrays = [t._data for t in inputs]
        xp = backend.module_for(arrays, prim.name) if arrays else backend.numpy
        ins = [self.slot(t) for t in inputs]
        if out.grad_fn is not None:
            self.nodes.add(out.grad_fn)
        self.steps.append(Step(prim, xp, ins, dict(kw), self.bind(out), wrap=out._data.ndim == 0))

    def on_rule(self, node, g: Tensor) -> tuple:
        """The engine observer: run one node's rule, recording its ops (or the rule whole)."""
        if node not in self.nodes:  # the graph outside the function: its gradients are not ours
            return (None,) * len(node.edges)
        if not isinstance(node.fn, Primitive):
            self.stop(f"custom autograd.Function {type(node).__name__} in the backward")
        if node.hooks or node.prehooks or node.posthooks or node.retained is not None:
            self.stop("a hook (or retain_grad) on a tensor inside the function")
        mark = len(self.steps)
        self.made_outside = False
        g_slot = self.slot(g)
        grads = node.fn.backward(node, g)
        if self.made_outside and self.rec.reason is None:
            del self.steps[mark:]  # the rule computes outside the ops: replay it whole
            self._record_rule(node, g_slot, grads)
        return grads

    def _record_rule(self, node, g_slot: int, grads: tuple) -> None:
        inputs = node.saved()
        ins = [self.slot(t) for t in inputs]
        saved_out = self.array_slot.get(id(node.out_data), -1) if node.fn.saves_out else -1
        if node.fn.saves_out and saved_out < 0:
            self.stop(f"the rule of {node.fn.name} reads an output the trace did not see")
            return
        outs = tuple(None if r is None else self.bind(r) for r in grads)
        self.steps.append(Step(node.fn, None, ins, dict(node.kwargs or {}), outs, rule=True,
                               g=g_slot, saved_out=saved_out,
                               needs=tuple(t.requires_grad for t in inputs)))

    def on_make(self, data) -> None:
        """``Tensor._make`` outside the ops: note it (a rule using it is replayed whole)."""
        # a 0-d array made outside the ops holds a Python number: a constant, since a traced
        # value reaches Python only through the conversions, which stop the recording
        if self.depth == 0 and data.ndim and id(data) not in self.array_slot:
            self.made_outside = True

    def on_read(self, t: Tensor, what: str) -> None:
        if self.traced(t):
            self.stop(f"data-dependent: Tensor.{what}() reads a traced value (control flow or "
                      "a result that depends on the data)")

    def on_random(self) -> None:
        self.stop("a random op (its draws would be replayed, not redrawn)")


class tracing:
    """Context: the recorder hooked into dispatch, engine, conversions, random draws, _make."""

    def __init__(self, recorder: Recorder, backward: bool = False) -> None:
        self.recorder = recorder
        self.backward = backward
        self.saved: dict = {}

    def __enter__(self) -> Recorder:
        rec = self.recorder
        self.saved = {name: Tensor.__dict__[name] for name in (*_CONVERSIONS, "_make")}
        for name in _CONVERSIONS:
            setattr(Tensor, name, _reading(rec, name, self.saved[name]))
        make = self.saved["_make"].__func__

        def _make(cls, data, requires_grad=False, grad_fn=None):
            rec.on_make(data)
            t = make(cls, data, requires_grad, grad_fn)
            rec.born.add(id(t))  # sound without keeping t: older tensors cannot reuse its id
            return t

        Tensor._make = classmethod(_make)
        self.stream = Generator.stream

        def stream(gen, dev):
            rec.on_random()
            return self.stream(gen, dev)

        Generator.stream = stream
        registry.OBSERVER = rec.on_op
        if self.backward:
            engine.OBSERVER = rec.on_rule
        STATE.tracing += 1
        return rec

    def __exit__(self, *exc) -> None:
        STATE.tracing -= 1
        registry.OBSERVER = None
        engine.OBSERVER = None
        Generator.stream = self.stream
        for name, value in self.saved.items():
            setattr(Tensor, name, value)


def _reading(rec: Recorder, name: str, method):
    """``method`` that first tells the recorder a tensor's value is being read by Python."""

    def read(self, *args, **kwargs):
        rec.on_read(self, name)
        return method(self, *args, **kwargs)

    read.__name__ = name
    return read
