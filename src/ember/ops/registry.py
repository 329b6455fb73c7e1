"""Primitives and the op declarations: the one registry every reader of an op uses.

A ``Primitive`` is an op the engine differentiates: its forward (array code through the
tensor's array module) and its VJP rule (Ember ops, so it can be differentiated again).
Every public op is declared once, in its ``ops/<family>.py`` file, with ``declare``: its
name, its forward and rule (a primitive) or its body (a composite of other ops), the formula
``explain`` prints, torch's other names for it, its ``Tensor`` method and in-place forms, the
namespaces that export it and its symbolic form for the math language. The ``Tensor``
methods, the ``ember`` namespace, ``nn.functional``'s and ``linalg``'s exports and the math
language's vocabulary are all read from ``OPS``. Sample inputs live in the tests
(``tests/opinfo/``), keyed by op name. See CONTRIBUTING.md for the recipe.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from typing import Callable

from .. import array_errors, backend, dtypes
from ..autograd.engine import Node, make_node
from ..autograd.forward_ad import LEVELS, has_tangent
from ..autograd.grad_mode import STATE
from ..autograd.vmap_state import VMAP
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

    ``jvp`` is the forward-mode rule: ``jvp(tangents, out, *inputs, **kw) -> tangent`` (one
    tangent per input, None where an input has none; Ember ops, so it differentiates again), or
    a kind from ``JVP_KINDS`` that derives it (see ``ops/jvp.py``): ``"linear"`` (the op applied
    to the tangents), ``"multilinear"`` (linear in each input apart: the op with one input
    replaced by its tangent, summed over inputs), ``"elementwise"`` (a one-input op whose VJP
    rule is diagonal: the rule applied to the tangent), ``"reduction"`` (the VJP spreads ``g``
    with weights over what was reduced: the tangent times those weights, summed over it),
    ``"transposed"`` (any op: the gradient of ``<rule(u), t>`` with respect to ``u``).
    ``batch`` is the batching rule vmap runs: a category of ``ops/batching.py``'s ``RULES``
    (``"elementwise"``, ``"dims"``, ...) or ``batch(prim, values, batch_dims, **kw) -> out``
    (values batch-first where ``batch_dims`` is 0, the result batch-first); None: vmap loops.
    ``sympy(sp, *args)`` is its symbolic form (explain's symbolic derivatives read it by the
    primitive's name).
    ``fused`` says why a primitive that other ops could express is one (speed, stability,
    torch's rounding); empty for one that is a primitive by nature.
    ``fast_rule(xp, g, out, *inputs, **kw) -> grads`` is the same rule on arrays (a fused
    kernel), run instead of ``rule`` when no graph of the backward is being built (grad mode
    off, no forward-mode levels, no vmap or batched cotangents): higher orders always go
    through ``rule``.
    """

    __slots__ = ("name", "forward", "rule", "saves_out", "reads_inputs", "formula",
                 "backward_name", "batchable", "jvp", "batch", "sympy", "fused", "fast_rule")

    def __init__(self, name: str, forward: Callable, rule: Callable | None = None, *,
                 saves_out: bool = False, reads_inputs: bool = True, formula: str = "",
                 batchable: bool = True, jvp: Callable | str | None = None,
                 batch: Callable | None = None, sympy: Callable | None = None,
                 fused: str = "", fast_rule: Callable | None = None) -> None:
        if isinstance(jvp, str) and jvp not in JVP_KINDS:
            raise ValueError(f"primitive {name!r}: unknown jvp kind {jvp!r} (known: {JVP_KINDS})")
        self.name = name
        self.fused = fused
        self.fast_rule = fast_rule
        self.batchable = batchable
        self.reads_inputs = reads_inputs
        self.forward = forward
        self.rule = rule
        self.saves_out = saves_out
        self.formula = formula
        self.jvp = jvp
        self.batch = batch
        self.sympy = sympy
        camel = "".join(p.title() for p in name.strip("_").split("_"))  # as torch: Log1P
        self.backward_name = f"{camel}Backward0"

    def __repr__(self) -> str:
        return f"Primitive({self.name})"

    def backward(self, node: Node, g: Tensor) -> tuple:
        """Gradients for the node's inputs given the gradient ``g`` of its output."""
        inputs = node.saved()
        kw = node.kwargs or {}
        if self.fast_rule is not None and not (STATE.enabled or LEVELS.active or VMAP.levels
                                               or BATCH.dims or g._data.ndim != node.out_ndim):
            return _fast_backward(self.fast_rule, node, g, inputs, kw)
        out = None
        if self.saves_out:
            # under forward mode the rule needs the result's tangents: run the op again for them
            out = apply(self, *inputs, **kw) if LEVELS.active and has_tangent(inputs) \
                else Tensor._make(node.out_data, True, node)
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


def _fast_backward(fast_rule: Callable, node: Node, g: Tensor, inputs: tuple, kw: dict) -> tuple:
    """A primitive's rule on arrays, for a backward that records no graph."""
    arrays = [t._data for t in inputs]
    grads = fast_rule(backend.xp_of(g._data), g._data, node.out_data, *arrays, **kw)
    return tuple(None if a is None else Tensor._make(a) for a in grads)


def _loop_over_batch(rule: Callable, g: Tensor, out, inputs: tuple, kw: dict) -> tuple:
    """Run a rule that knows no batch dimension once per cotangent, then stack the results."""
    prev = BATCH.dims
    BATCH.dims = 0
    try:
        rows = [rule(g[i], out, *inputs, **kw) for i in range(g._data.shape[0])]
    finally:
        BATCH.dims = prev
    return tuple(
        None if parts[0] is None else shape.stack(list(parts)) for parts in zip(*rows)
    )


JVP_KINDS = ("linear", "multilinear", "elementwise", "reduction", "transposed")
PRIMITIVES: dict[str, Primitive] = {}


def primitive(name: str, forward: Callable, rule: Callable | None = None, *,
              saves_out: bool = False, reads_inputs: bool = True, formula: str = "",
              batchable: bool = True, jvp: Callable | str | None = None,
              batch: Callable | None = None, sympy: Callable | None = None,
              fused: str = "", fast_rule: Callable | None = None) -> Primitive:
    """Declare a primitive (once; its name is unique).

    Public ops declare their primitive through ``declare(forward=..., rule=...)``; this is
    for internal primitives (casts, views, reductions of broadcast gradients) and for one
    primitive shared by several public ops. ``batchable=False`` says the rule cannot take
    cotangents with extra leading batch dimensions; batched backward then runs it once per
    batch row.
    """
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is declared twice")
    p = Primitive(name, forward, rule, saves_out=saves_out, reads_inputs=reads_inputs,
                  formula=formula, batchable=batchable, jvp=jvp, batch=batch, sympy=sympy,
                  fused=fused, fast_rule=fast_rule)
    PRIMITIVES[name] = p
    return p


_NUMPY = backend.numpy
_NDARRAY = backend.numpy.ndarray


OBSERVER = None  # ember.profiler's recorder while it runs (it calls back with OBSERVER unset)


def apply(prim: Primitive, *inputs: Tensor, **kw) -> Tensor:
    """Run a primitive forward; record a node when grad mode is on and an input needs it, and
    push the inputs' tangents through its JVP rule while a dual level is active."""
    if OBSERVER is not None:
        return OBSERVER(prim, inputs, kw)
    if VMAP.levels:  # inside vmap: a batched input goes to the primitive's batching rule
        for t in inputs:
            if t.__class__ is BatchedTensor:
                return dispatch(prim, inputs, kw)
    arrays = [t._data for t in inputs]
    xp = _NUMPY
    forward = prim.forward
    for a in arrays:
        # not all plain NumPy: check devices, find the module; 2-byte elements: float16/bfloat16
        # are computed in float32 as torch does (ops/precision.py)
        if a.__class__ is not _NDARRAY or a.itemsize == 2:
            xp = backend.module_for(arrays, prim.name)
            forward = precision.forward_for(prim, arrays)
            break
    try:
        data = forward(xp, *arrays, **kw) if kw else forward(xp, *arrays)
    except (ValueError, IndexError, TypeError, MemoryError) as exc:
        raise array_errors.translate(exc, user_op(prim.name), inputs) from None
    if type(data) is not _NDARRAY and not backend.is_array(data):  # a NumPy scalar
        data = xp.asarray(data)
    if STATE.enabled and prim.rule is not None:
        for t in inputs:
            if t._requires_grad:  # the slot, not the property: this runs for every op
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
                if LEVELS.active:
                    jvp_rules.push(prim, inputs, kw, out)
                return out
    out = Tensor._make(data)
    if arrays and (data.base is not None or data is arrays[0]):
        views.track(out, prim, inputs, kw)
    if LEVELS.active:
        jvp_rules.push(prim, inputs, kw, out)
    return out


_OP_CODES: dict = {}  # the code of each public op's function -> the op's name


def user_op(default: str) -> str:
    """The name of the outermost public op running now: the one the user called (read from
    the call stack, only when an error is being reported), else ``default``."""
    if _OP_CODES.get("ops") != len(OPS):
        _OP_CODES.clear()
        _OP_CODES["ops"] = len(OPS)
        for op in list(OPS.values()):
            fn = op.fn
            while fn is not None:  # the op's own code, and that of what it wraps
                code = getattr(fn, "__code__", None)
                if code is not None:  # a wrapper shared by several ops names none of them
                    _OP_CODES[code] = op.name if _OP_CODES.get(code, op.name) == op.name else None
                fn = getattr(fn, "__wrapped__", None)
    name = default
    frame = sys._getframe(1)
    while frame is not None:
        name = _OP_CODES.get(frame.f_code) or name
        frame = frame.f_back
    return name


# The modules that export declared ops. A new one (``ember.special``, say) is added here and
# ends with ``derive(exporter("ember.special", globals()))``, as ``ember.linalg`` does.
NAMESPACES = ("ember", "ember.nn.functional", "ember.linalg", "ember.special")


@dataclass(eq=False)
class Op:
    """One public op, as declared in its family file (see ``declare``).

    Attributes:
        name: torch's name; ``"linalg.norm"`` style where the plain name is taken by another op
            (the exported attribute is the part after the last dot).
        fn: the public function.
        primitive: the primitive the op applies (its forward and VJP rule), or None for a
            composite, whose body is written in other ops and needs no rule.
        aliases: torch's other names for it (``clip`` for ``clamp``), exported beside it.
        method: True: also ``Tensor.<name>`` (and its aliases); a function: that method instead
            (when the method's arguments differ, as ``x.where(cond, y)``).
        inplace: also ``Tensor.<name>_``: computed out of place, written into ``self``;
            ``"view"``: ``self`` becomes the view the op returns (``t_``, ``squeeze_``); a
            function ``check(self, *args, **kwargs)``: in-place, refusing what it refuses.
        namespaces: the modules that export it (a subset of ``NAMESPACES``; empty: method only).
        formula: what ``explain`` prints for it (the primitive's formula by default).
        sympy: its symbolic form ``sympy(sp, *args)`` for the math language and explain.
        math: callable by name in the math language (``ember.lab.mathlang``).
        domain: what its argument must satisfy, for the math language's messages.
        fused: why a primitive that a composite could express stays one (speed, stability,
            torch's rounding); empty for an op that is a primitive by nature.
    """

    name: str
    fn: Callable
    primitive: Primitive | None = None
    aliases: tuple = ()
    method: bool | Callable = False
    inplace: bool | str | Callable = False
    namespaces: tuple = ("ember",)
    formula: str = ""
    sympy: Callable | None = None
    math: bool = False
    domain: str = ""
    fused: str = ""

    @property
    def attr(self) -> str:
        """The name it is exported under (the last part of ``name``)."""
        return self.name.rpartition(".")[2]

    @property
    def names(self) -> tuple:
        """Its exported name followed by its aliases."""
        return (self.attr,) + tuple(self.aliases)


OPS: dict[str, Op] = {}


def declare(fn: Callable | None = None, /, *, name: str | None = None,
            forward: Callable | None = None, rule: Callable | None = None,
            saves_out: bool = False, reads_inputs: bool = True, batchable: bool = True,
            jvp: Callable | str | None = None, batch: Callable | None = None,
            prim: Primitive | None = None, formula: str = "", aliases: tuple = (),
            method: bool | Callable = False, inplace: bool | str | Callable = False,
            namespaces: tuple = ("ember",), sympy: Callable | None = None, math: bool = False,
            domain: str = "", fused: str = "", out: bool | str = False):
    """Declare a public op: ``@declare(...)`` above its function, or ``declare(fn, ...)``.

    With ``forward`` (and ``rule``) the declaration makes the op's primitive, named after the
    op, and hangs it on the function as ``fn.primitive`` for the body to ``apply``; ``prim``
    names a primitive declared elsewhere (one shared by several ops), as does a ``primitive``
    attribute of a function a factory made; with neither the op is a composite. The other
    arguments fill the ``Op`` (see there); ``out=True`` gives the exported function torch's
    ``out=`` argument (see ``with_out``), ``out="exact"`` one whose dtype must be the result's.
    Returns the function.
    """

    def register(f: Callable) -> Callable:
        op_name = name or f.__name__
        if op_name in OPS:
            raise ValueError(f"op {op_name!r} is declared twice")
        bad = set(namespaces) - set(NAMESPACES)
        if bad:
            raise ValueError(f"op {op_name!r}: unknown namespaces {sorted(bad)} (known: {NAMESPACES})")
        p = prim if prim is not None else getattr(f, "primitive", None)
        if forward is not None:
            p = primitive(op_name.rpartition(".")[2], forward, rule, saves_out=saves_out,
                          reads_inputs=reads_inputs, formula=formula, batchable=batchable,
                          jvp=jvp, batch=batch, sympy=sympy, fused=fused)
            f.primitive = p
        elif p is not None:
            p.sympy = p.sympy or sympy
            p.fused = p.fused or fused
            p.jvp = p.jvp or jvp
        body = f
        f = precision.dispatch_wrapper(op_name, f, p is None)  # f itself unless autocast lists it
        exported = tensor_args.checked(with_out(f, op_name, out == "exact") if out else f, body, op_name)
        op = Op(op_name, exported, p, tuple(aliases), method, inplace, tuple(namespaces),
                formula or (p.formula if p is not None else ""), sympy, math, domain,
                fused or (p.fused if p is not None else ""))
        OPS[op_name] = op
        for reader in _READERS:
            reader(op)
        return f

    return register if fn is None else register(fn)


def with_out(f: Callable, name: str, exact: bool = False) -> Callable:
    """``f`` taking torch's ``out=``: the result written into ``out`` (resized, with torch's
    warning, when its shape differs), refused when autograd would have to record it.

    ``out`` is one tensor, or a tuple of them for an op returning several (``max(x, 0)``). The
    result is cast to ``out``'s dtype where torch casts (never float into int, or int into
    bool); ``exact=True``: ``out`` must have the result's dtype, as torch's ``mm`` or ``argmax``.
    """

    @functools.wraps(f)
    def fn(*args, out: Tensor | tuple | list | None = None, **kwargs):
        if out is None:
            return f(*args, **kwargs)
        outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if not outs or not all(isinstance(o, Tensor) for o in outs):
            raise TypeError(f"{name}(): argument 'out' must be Tensor or a tuple of Tensors, "
                            f"not {type(out).__name__}")
        inputs = tuple(_tensors_in((args, kwargs)))
        if STATE.enabled and any(t.requires_grad for t in (*outs, *inputs)):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        for o in outs:
            o._check_inplace(name, inputs)
        result = f(*args, **kwargs)
        results = result if isinstance(result, tuple) else (result,)
        if len(results) != len(outs) or isinstance(result, tuple) != isinstance(out, (tuple, list)):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(results)} Tensors"
                            if isinstance(result, tuple) else
                            f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        for r, o in zip(results, outs):
            _write_out(name, r, o, exact)
        if not isinstance(result, tuple):
            return out
        return result._make(outs) if hasattr(result, "_make") else type(result)(outs)

    fn.takes_out = True
    return fn


def _tensors_in(obj) -> list:
    """The tensors among an op's arguments, also inside lists and tuples (``cat``'s inputs)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, dict):
        obj = tuple(obj.values())
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors_in(o)]
    return []


def _write_out(name: str, result: Tensor, out: Tensor, exact: bool) -> None:
    """Write one result into its ``out`` tensor as torch does: dtype checked, shape resized."""
    if exact and result.dtype != out.dtype:
        raise RuntimeError(f"{name}(): Expected out tensor to have dtype "
                           f"{dtypes.scalar_name(result.dtype)}, but got "
                           f"{dtypes.scalar_name(out.dtype)} instead")
    if result.dtype._kind > out.dtype._kind:  # float into int, int into bool
        raise RuntimeError(f"{name}(): result type {dtypes.scalar_name(result.dtype)} can't be "
                           f"cast to the desired output type {dtypes.scalar_name(out.dtype)}")
    out._take_result(result, stacklevel=4)


def namespace(module: str) -> dict[str, Callable]:
    """Every op ``module`` exports (``"ember"``, ``"ember.linalg"``, ...), by name and alias."""
    return {n: op.fn for op in OPS.values() if module in op.namespaces for n in op.names}


_READERS: list[Callable] = []


def derive(reader: Callable) -> None:
    """Call ``reader(op)`` for every op declared so far, and for each op declared later.

    How the Tensor methods and the namespaces are built from the declarations, so an op
    declared after ``import ember`` (a user's own module) gets its method and exports too.
    """
    for op in list(OPS.values()):
        reader(op)
    _READERS.append(reader)


def exporter(module: str, names: dict) -> Callable:
    """A reader for ``derive`` that puts the ops ``module`` exports into ``names`` (its globals)."""

    def export(op: Op) -> None:
        if module in op.namespaces:
            names.update(dict.fromkeys(op.names, op.fn))

    return export


# The op families below apply primitives through ``apply``, defined above: imported last.
from . import precision  # noqa: E402  (16-bit floats and autocast: before any op is declared)
from . import jvp as jvp_rules, shape, views  # noqa: E402  (views replay ops; batched rules stack
#   with shape's; tangents are pushed through the JVP rules)
from . import tensor_args  # noqa: E402  (its wrapper names non-tensor arguments as torch does)
from .batching import BatchedTensor, dispatch  # noqa: E402  (vmap's rules are written in ops)
