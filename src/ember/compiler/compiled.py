"""``ember.compile``'s compiled function: guards, the cache of traced programs, replay, fallback.

Each call computes the input signature (shapes, dtypes, devices, ``requires_grad`` of every
tensor argument, the other arguments' values, grad mode, and for a module its submodules'
training flags and parameters). The first call with a signature runs the function eagerly
while recording it (``trace.py``) and returns that eager result; later calls replay the
recorded forward program on the arrays, and ``backward`` replays the recorded backward
program. What cannot be traced runs eagerly, with the reason kept (``_ember_explain()``, the
``ember.compiler`` logger); under ``fullgraph=True`` it raises ``Unsupported`` instead.
"""
from __future__ import annotations

import functools
import logging
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Callable

from .. import backend
from ..autograd import engine
from ..autograd.engine import node_class
from ..autograd.forward_ad import LEVELS
from ..autograd.grad_mode import STATE as GRAD, enable_grad, no_grad
from ..autograd.vmap_state import VMAP
from ..ops import registry
from ..tensor import Tensor
from . import program
from .exc import RecompileLimitExceeded
from .stance import STATE, config
from .trace import Recorder, tracing, version

logger = logging.getLogger("ember.compiler")
LIVE: "weakref.WeakSet[CompiledFunction]" = weakref.WeakSet()  # for ember.compiler.reset()
_NUMPY_ARRAY = backend.numpy.ndarray


# ---------------------------------------------------------------------------- argument trees


def flatten(obj, leaves: list):
    """The structure of ``obj`` (hashable) with its tensors appended to ``leaves``."""
    if isinstance(obj, Tensor):
        leaves.append(obj)
        return 0
    if isinstance(obj, (tuple, list)):
        return (type(obj), tuple(flatten(o, leaves) for o in obj))
    if isinstance(obj, dict):
        return (dict, tuple(obj), tuple(flatten(v, leaves) for v in obj.values()))
    try:
        hash(obj)
    except TypeError:
        return ("id", id(obj))
    return ("const", type(obj), obj)


def unflatten(spec, leaves, at: list):
    """Rebuild what ``flatten`` took apart, taking tensors from ``leaves`` (``at`` = [next])."""
    if spec == 0:
        t = leaves[at[0]]
        at[0] += 1
        return t
    kind = spec[0]
    if kind is dict:
        return {k: unflatten(s, leaves, at) for k, s in zip(spec[1], spec[2])}
    if kind in (tuple, list):
        return kind(unflatten(s, leaves, at) for s in spec[1])
    return spec[2]


def meta(t: Tensor) -> tuple:
    """What a guard checks of one tensor: array type and device, shape, dtype, requires_grad."""
    a = t._data
    if a.__class__ is _NUMPY_ARRAY:
        return (a.shape, a.dtype, t._requires_grad)
    return (a.__class__, backend.device_of(a), a.shape, a.dtype, t._requires_grad)


def module_state(module) -> tuple:
    """A module's guard: each submodule's training flag and the identity of its tensors."""
    state = []
    for m in module.modules():
        state.append(m.training)
        state.extend(map(id, m._parameters.values()))
        state.extend(map(id, m._buffers.values()))
    return tuple(state)


# ---------------------------------------------------------------------------- entries


@dataclass
class Backward:
    """The outputs' backward program: ``fn(*cotangents, *saved, *captured)`` -> one gradient
    per input that needs grad; ``saved`` are the forward program's results after its outputs."""

    fn: Callable
    externals: list  # captured tensors, read live
    ops: int


@dataclass
class Entry:
    """One traced signature: its programs, or the reason it runs eagerly."""

    reason: str | None = None
    fwd: Callable | None = None
    externals: list = field(default_factory=list)  # captured tensors the forward reads
    guards: list = field(default_factory=list)  # meta() of each, at trace time
    out_spec: object = None
    outs: list = field(default_factory=list)  # per output: ("arg", i) ("ext", t) ("slot", k, grad)
    n_results: int = 0
    diff_args: list = field(default_factory=list)  # tensor arguments that need grad
    diff_ext: list = field(default_factory=list)  # captured tensors that need grad
    bwd: Backward | None = None  # the outputs' joint backward program
    packing: list = field(default_factory=list)  # (offset, size, shape) per output needing grad
    ops: int = 0
    watch: list = field(default_factory=list)  # (read, object): where captured tensors come from
    unguarded: bool = False  # no captured tensors, nothing to watch: the key is the whole guard
    single: bool = False  # one output, which needs grad (the replay's fast path)


class _Backward:
    """The graph node function of a compiled call: replays the joint backward program.

    With one output needing grad it is that output's node; with several, each output's node
    (``_Pack``) places its cotangent in its segment of one flat vector, the engine sums those
    at this node, and this node runs the program once on all of them, as the eager graph
    sums gradients where the outputs' paths meet.
    """

    __slots__ = ("call", "saved")
    reads_inputs = True
    saves_out = False
    rule = None
    jvp = None
    name = "compiled"
    formula = "the recorded backward program of an ember.compile'd function"
    backward_name = "CompiledFunctionBackward"

    def __init__(self, call: tuple, saved: tuple) -> None:
        self.call = call  # (compiled function, entry, args, kwargs)
        self.saved = saved

    def backward(self, node, g: Tensor) -> tuple:
        node.saved()  # refuses inputs changed in place since the forward, as eager does
        owner, entry, args, kwargs = self.call
        batched = g._data.ndim != node.out_ndim
        if entry.packing:
            gs = [Tensor._make(g._data[..., o:o + n].reshape(g._data.shape[:-1] + shape))
                  for o, n, shape in entry.packing]
        else:
            gs = [g]
        if GRAD.enabled or batched:  # create_graph or batched cotangents: eagerly
            return owner.eager_grads(args, kwargs, node.inputs, gs)
        prog = entry.bwd
        saved = self.saved
        grads = prog.fn(*[t._data for t in gs], *saved, *[t._data for t in prog.externals])
        return [None if a is None else Tensor._make(a) for a in grads]


class _Pack:
    """The node function of one of several outputs needing grad: its cotangent, placed in its
    segment of the flat vector the joint node receives."""

    __slots__ = ("offset", "size", "total")
    reads_inputs = False
    saves_out = False
    rule = None
    jvp = None
    name = "compiled output"
    formula = "the cotangent of one output of an ember.compile'd function"
    backward_name = "CompiledFunctionBackward"

    def __init__(self, offset: int, size: int, total: int) -> None:
        self.offset = offset
        self.size = size
        self.total = total

    def backward(self, node, g: Tensor) -> tuple:
        a = g._data
        lead = a.shape[:a.ndim - node.out_ndim]  # batched cotangents' leading dims
        flat = backend.xp_of(a).zeros(lead + (self.total,), a.dtype)
        flat[..., self.offset:self.offset + self.size] = a.reshape(lead + (self.size,))
        return (Tensor._make(flat),)


_NODE = node_class(_Backward.backward_name)  # torch's name for a compiled graph's node

# ---------------------------------------------------------------------------- the function


class CompiledFunction:
    """A function (or module call) that replays traced programs, one per input signature."""

    def __init__(self, fn: Callable, *, fullgraph: bool = False, dynamic=None,
                 backend: str | Callable = "inductor", mode: str | None = None,
                 options: dict | None = None, disable: bool = False, module=None) -> None:
        self._ember_original = fn
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.backend = backend
        self.mode = mode
        self.options = options
        self.disabled = disable
        self.module = module
        self.cache: dict = {}
        self.seen: set = set()  # signatures run once eagerly (stance "eager_then_compile")
        self.warned = False
        LIVE.add(self)

    def reset(self) -> None:
        """Forget every traced program."""
        self.cache.clear()
        self.seen.clear()

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        fn = self._ember_original
        if self.disabled or STATE.disabled or STATE.tracing or STATE.stance == "force_eager" \
                or LEVELS.active or VMAP.levels:
            return fn(*args, **kwargs)
        metas = []
        for a in args:  # the common case, tensors on the CPU as positional arguments, inline
            if a.__class__ is not Tensor or a._data.__class__ is not _NUMPY_ARRAY:
                break
            metas.append((a._data.shape, a._data.dtype, a._requires_grad))
        if kwargs or len(metas) != len(args):
            leaves: list = []
            spec = flatten((args, kwargs), leaves)
            metas = [meta(t) for t in leaves]
        else:
            leaves, spec = args, len(args)
        key = (spec, tuple(metas), GRAD.enabled)
        if self.module is not None:
            key += module_state(self.module)
        entry = self.cache.get(key)
        if entry is not None and entry.reason is None:
            if entry.unguarded or self._holds(entry):
                return self._replay(entry, args, kwargs, leaves)
            entry = None
        if entry is not None:
            return fn(*args, **kwargs)
        return self._new_signature(key, args, kwargs, leaves)

    def _new_signature(self, key, args, kwargs, leaves):
        fn = self._ember_original
        traced = sum(1 for e in self.cache.values() if e.reason is None)
        if traced and STATE.stance == "eager_on_recompile":
            return fn(*args, **kwargs)
        if traced and STATE.stance == "fail_on_recompile":
            raise RecompileLimitExceeded(
                f"ember.compile: {_name(fn)} would recompile (stance 'fail_on_recompile'): "
                "its inputs' shapes, dtypes, requires_grad or grad mode changed")
        if STATE.stance == "eager_then_compile" and key not in self.seen:
            self.seen.add(key)
            return fn(*args, **kwargs)
        if len(self.cache) >= config.recompile_limit:
            if not self.warned:
                self.warned = True
                warnings.warn(
                    f"ember.compile hit config.recompile_limit ({config.recompile_limit}) "
                    f"for {_name(fn)}: new input signatures run eagerly from now on. To "
                    "diagnose, see ember.compiler.explain.", UserWarning, stacklevel=3)
            return fn(*args, **kwargs)
        return self._trace(key, args, kwargs, leaves)

    @staticmethod
    def _holds(entry: Entry) -> bool:
        """The guards on captured tensors: same objects where the function finds them, same
        shapes, dtypes and requires_grad."""
        for read, obj in entry.watch:
            if read() != obj:
                return False
        for t, guard in zip(entry.externals, entry.guards):
            if meta(t) != guard:
                return False
        return True

    def _replay(self, entry: Entry, args, kwargs, leaves):
        results = entry.fwd(*[t._data for t in leaves], *[t._data for t in entry.externals])
        saved = results[entry.n_results:]
        if entry.single:
            # the common case, one output that needs grad, without the general loop below
            diff = [leaves[i] for i in entry.diff_args] + entry.diff_ext
            arr = results[0]
            node = _NODE(_Backward((self, entry, args, kwargs), saved), diff, None, None, arr.ndim)
            return Tensor._make(arr, True, node)
        outs = []
        node = None
        for out in entry.outs:
            kind = out[0]
            if kind == "slot":
                arr = results[out[1]]
                if out[2] is None:
                    outs.append(Tensor._make(arr))
                    continue
                if node is None:
                    diff = [leaves[i] for i in entry.diff_args] + entry.diff_ext
                    node = _NODE(_Backward((self, entry, args, kwargs), saved), diff, None,
                                 None, arr.ndim if not entry.packing else 1)
                if entry.packing:
                    o, n, _ = entry.packing[out[2]]
                    pack = _Pack(o, n, entry.packing[-1][0] + entry.packing[-1][1])
                    joint = Tensor._make(arr, True, node)  # stands for the flat vector's edge
                    outs.append(Tensor._make(arr, True, _NODE(pack, (joint,), None, None, arr.ndim)))
                else:
                    outs.append(Tensor._make(arr, True, node))
            elif kind == "arg":
                outs.append(leaves[out[1]])
            else:
                outs.append(out[1])
        if entry.out_spec == 0:
            return outs[0]
        return unflatten(entry.out_spec, outs, [0])

    def eager_grads(self, args, kwargs, inputs: tuple, gs: list) -> tuple:
        """Gradients by running the function eagerly again (create_graph, batched cotangents)."""
        STATE.disabled += 1
        try:
            with enable_grad():
                result = self._ember_original(*args, **kwargs)
        finally:
            STATE.disabled -= 1
        outs: list = []
        flatten(result, outs)
        roots = [t for t in outs if t.requires_grad and t.grad_fn is not None]
        create = GRAD.enabled  # the gradients' own graph reads this one: keep it (as eager)
        return tuple(engine.run_backward(roots, gs, create, create, capture=list(inputs)))

    # ------------------------------------------------------------------ tracing
    def _trace(self, key, args, kwargs, leaves):
        fn = self._ember_original
        rec = Recorder(self.fullgraph)
        for t in leaves:
            rec.bind(t)
        if registry.OBSERVER is not None or engine.OBSERVER is not None:
            rec.stop("another tracer (the profiler, onnx export) is running")
            result = fn(*args, **kwargs)
        else:
            hooked = self._hooks(leaves)
            if hooked:
                rec.stop(hooked)
            with tracing(rec):
                result = fn(*args, **kwargs)
        entry = Entry(rec.rec.reason)
        if entry.reason is None:
            self._finish(entry, rec, leaves, result)
        if entry.reason is None and _made_outside(entry, rec):
            entry.reason = self._check(entry, args, kwargs, leaves)
        self.cache[key] = entry
        if entry.reason is not None:
            logger.info("ember.compile: %s runs eagerly for this signature: %s", _name(fn),
                        entry.reason)
        else:
            logger.debug("ember.compile: traced %s: %d ops", _name(fn), entry.ops)
        return result

    def _hooks(self, leaves) -> str | None:
        """Why hooks keep this call from being traced (None: no hooks)."""
        if any(t._hooks for t in leaves):
            return "a hook on an input tensor"
        if self.module is not None:
            for m in self.module.modules():
                if m._forward_hooks or m._forward_pre_hooks or m._backward_hooks \
                        or m._backward_pre_hooks:
                    return f"a hook on module {type(m).__name__}"
        return None

    def _finish(self, entry: Entry, rec: Recorder, leaves, result) -> None:
        """Turn the recording into the forward program and the outputs' backward programs."""
        n_in = len(leaves)
        outs: list = []
        entry.out_spec = flatten(result, outs)
        for t in list(leaves) + [t for _, t in rec.rec.externals]:
            if version(t) != rec.versions[id(t)]:
                rec.stop("an in-place op on an input or a captured tensor")
        by_id = {id(t): i for i, t in enumerate(leaves)}
        ext_ids = {id(t) for _, t in rec.rec.externals}
        results, grad_outs = [], []
        for k, t in enumerate(outs):
            if id(t) in by_id:
                entry.outs.append(("arg", by_id[id(t)]))
            elif id(t) in ext_ids or not rec.traced(t):
                if not rec.traced(t) and t.requires_grad:
                    rec.stop("an output that needs grad was made outside the traced ops")
                entry.outs.append(("ext", t))
            else:
                s = rec.slot(t)
                grad = GRAD.enabled and t.requires_grad and t.grad_fn is not None
                entry.outs.append(("slot", len(results), len(grad_outs) if grad else None))
                results.append(s)
                if grad:
                    grad_outs.append(t)
        entry.watch = self._watch(rec)
        diff_args = [i for i, t in enumerate(leaves) if t.requires_grad]
        diff_ext = [t for _, t in rec.rec.externals if t.requires_grad]
        diff = [leaves[i] for i in diff_args] + diff_ext
        saved_slots: list = []
        if grad_outs:
            if len({t._data.dtype for t in grad_outs}) > 1:
                rec.stop("outputs of different dtypes need grad")
            steps, grads, g_slots = self._trace_backward(rec, grad_outs, diff)
        entry.reason = rec.rec.reason
        if entry.reason is not None:
            return
        ext_slots = {s: t for s, t in rec.rec.externals}
        if grad_outs:
            free = program.reads(steps) - set(g_slots)
            saved_slots = sorted(free - set(ext_slots))
            bwd_ext = sorted(free & set(ext_slots))
            fn = program.build(steps, g_slots + saved_slots + bwd_ext, grads, "backward",
                               rec.arrays)
            entry.bwd = Backward(fn, [ext_slots[s] for s in bwd_ext], len(steps))
            if len(grad_outs) > 1:
                offset = 0
                for t in grad_outs:
                    entry.packing.append((offset, t._data.size, t._data.shape))
                    offset += t._data.size
        fwd_results = results + saved_slots
        steps = program.needed(rec.rec.steps, fwd_results)
        fwd_ext = sorted((program.reads(steps) | set(fwd_results)) & set(ext_slots))
        entry.externals = [ext_slots[s] for s in fwd_ext]
        entry.guards = [meta(t) for t in entry.externals]
        entry.fwd = program.build(steps, list(range(n_in)) + fwd_ext, fwd_results, "forward",
                                  rec.arrays)
        entry.n_results = len(results)
        entry.diff_args = diff_args
        entry.diff_ext = diff_ext
        entry.ops = len(steps)
        entry.unguarded = not entry.watch and not entry.externals
        entry.single = entry.out_spec == 0 and entry.outs[0] == ("slot", 0, 0) and not entry.packing

    def _check(self, entry: Entry, args, kwargs, leaves) -> str | None:
        """Run eagerly and replay on other input values, and compare: a tensor made outside the
        ops while tracing (a constant, or indices computed from the data?) must not change the
        results. Returns why the program cannot be used, or None."""
        others = [_perturbed(t) for t in leaves]
        new_args, new_kwargs = unflatten(flatten((args, kwargs), []), others, [0])
        STATE.disabled += 1
        try:
            with no_grad():
                expected: list = []
                flatten(self._ember_original(*new_args, **new_kwargs), expected)
        except Exception as exc:  # noqa: BLE001  (any failure: the program stays unchecked)
            return f"a tensor made outside the ops could not be checked ({type(exc).__name__})"
        finally:
            STATE.disabled -= 1
        results = entry.fwd(*[t._data for t in others], *[t._data for t in entry.externals])
        for out, want in zip(entry.outs, expected):
            got = results[out[1]] if out[0] == "slot" else None
            got = out[1]._data if out[0] == "ext" else got
            if got is not None and not backend.xp_of(got).array_equal(got, want._data,
                                                                       equal_nan=True):
                return ("a tensor made outside the traced ops (indices or a mask computed from "
                        "the data?) feeds the result")
        return None

    def _watch(self, rec: Recorder) -> list:
        """Guards for the captured tensors: each must be a constant (made while tracing, or
        read-only), a parameter or buffer of a module the guards watch, or a tensor in the function's closure
        or globals (its identity there is checked at each call)."""
        sources = _sources(self._ember_original)
        modules = [self.module] if self.module is not None else []
        modules += [v for v in sources.values() if hasattr(v, "_parameters")]
        owned = {id(t) for m in modules for t in (*m.parameters(), *m.buffers())}
        watch = [(functools.partial(module_state, m), module_state(m)) for m in modules
                 if m is not self.module]
        for _, t in rec.rec.externals:
            if id(t) in rec.born or id(t) in owned or not _writeable(t._data):
                continue  # made while tracing, a watched module's, or a read-only constant
            read = next((r for r, v in sources.items() if v is t), None)
            if read is None:
                rec.stop("a tensor reached through Python state the guards cannot watch (an "
                         "attribute or a container): pass it as an argument")
                break
            watch.append((read, _Identity(t)))
        return watch

    def _trace_backward(self, rec: Recorder, outs: list, diff: list):
        """Record the outputs' joint backward: (steps, gradient slots, cotangent slots)."""
        gs = [Tensor._make(t.xp.ones_like(t._data)) for t in outs]
        steps: list = []
        rec.steps = steps
        with tracing(rec, backward=True):
            g_slots = [rec.bind(g) for g in gs]
            grads = engine.run_backward(outs, gs, True, False, capture=diff)
            slots = [None if r is None else rec.slot(r) for r in grads]
        rec.steps = rec.rec.steps
        return program.needed(steps, slots), slots, g_slots

    # ------------------------------------------------------------------ explain
    def _ember_explain(self) -> list[dict]:
        """One record per traced signature: its op counts, or why it runs eagerly."""
        return [{"signature": key, "reason": e.reason, "ops": e.ops,
                 "backward_ops": 0 if e.bwd is None else e.bwd.ops}
                for key, e in self.cache.items()]

    def __get__(self, obj, objtype=None):
        """As a method decorator: bind like a function."""
        if obj is None:
            return self
        return _BoundCompiled(self, obj)


class _BoundCompiled:
    """A compiled function bound to an instance (``@ember.compile`` on a method)."""

    def __init__(self, compiled: CompiledFunction, obj) -> None:
        self.compiled = compiled
        self.obj = obj

    def __call__(self, *args, **kwargs):
        return self.compiled(self.obj, *args, **kwargs)


def _made_outside(entry: Entry, rec: Recorder) -> bool:
    """Whether a tensor made outside the ops while tracing (not a 0-d number) feeds the forward
    program or is an output."""
    outs = [out[1] for out in entry.outs if out[0] == "ext"]
    return any(id(t) in rec.born and t._data.ndim for t in (*entry.externals, *outs))


def _perturbed(t: Tensor) -> Tensor:
    """Other values of ``t``'s kind for the check: floats scaled and rolled, others rolled."""
    a = t._data
    xp = backend.xp_of(a)
    if a.ndim:
        a = xp.roll(a, 1)
    if a.dtype.kind in "fc":
        a = a * a.dtype.type(1.25)
    return Tensor._make(a)


def _writeable(a) -> bool:
    """False for a read-only array (the cached constants of ``ops.elementwise.constant``)."""
    flags = getattr(a, "flags", None)
    return flags is None or flags.writeable


class _Identity:
    """Compares equal only to the very object it holds (a guard on identity)."""

    __slots__ = ("obj",)

    def __init__(self, obj) -> None:
        self.obj = obj

    def __eq__(self, other) -> bool:
        return other is self.obj or (isinstance(other, _Identity) and other.obj is self.obj)

    __hash__ = object.__hash__


def _sources(fn) -> dict:
    """``{read: value}`` for the closure cells and the globals ``fn``'s code names (and, for a
    bound method, the object it is bound to): where a function finds tensors and modules."""
    found = {}
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        found[functools.partial(getattr, fn, "__self__")] = owner
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if code is None:
        return found
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            found[functools.partial(getattr, cell, "cell_contents")] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    scope = getattr(fn, "__globals__", {})
    for name in code.co_names:
        if name in scope:
            found[functools.partial(scope.get, name)] = scope[name]
    return found


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__
