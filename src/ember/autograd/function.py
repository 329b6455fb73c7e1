"""Custom differentiable operations, as ``torch.autograd.Function``.

Subclass ``Function`` with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``, then
call ``MyOp.apply(*args)``. ``backward`` is written with Ember ops, so it can be
differentiated again when the user runs backward with ``create_graph=True``. A static
``jvp(ctx, *tangents)`` gives the outputs' tangents in forward mode (``autograd.forward_ad``),
reading what ``forward`` kept with ``ctx.save_for_forward``.
"""
from __future__ import annotations

from .. import dtypes
from . import forward_ad, function_vmap
from .engine import TENSOR_CLASS, Node, _modified_message, make_node
from .grad_mode import STATE, no_grad
from .vmap_state import VMAP


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors and which inputs need grads."""

    def __init__(self) -> None:
        self.needs_input_grad: tuple = ()
        self._saved: tuple = ()
        self._versions: tuple = ()
        self._saved_forward: tuple = ()
        self.non_differentiable: set = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; in-place changes to them before backward are detected."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, TENSOR_CLASS[0]):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is "
                                f"of type {type(t).__name__}")
        self._saved = tensors
        self._versions = tuple(t._version if t is not None else 0 for t in tensors)

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for ``jvp`` (where ``ctx.saved_tensors`` returns them)."""
        self._saved_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if t is not None and t._version != v:
                raise RuntimeError(_modified_message(t, self._node, i, v))
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class _FunctionBackward:
    """The engine's view of one output of a custom Function."""

    saves_out = False
    reads_inputs = False  # ctx.saved_tensors checks what backward reads

    def __init__(self, cls, index: int, n_outputs: int, arg_positions: tuple) -> None:
        self.cls = cls
        self.index = index
        self.n_outputs = n_outputs
        self.arg_positions = arg_positions
        self.name = cls.__name__
        self.backward_name = f"{cls.__name__}Backward"
        self.formula = ""

    def backward(self, node: Node, g) -> tuple:
        # imported here, not at the top: creation imports tensor, which imports autograd
        from ..creation import zeros

        node.saved()
        ctx = node.ctx
        grads = []
        for i in range(self.n_outputs):
            if i == self.index:
                grads.append(g)
            else:
                shape = ctx._out_shapes[i]
                grads.append(zeros(shape, dtype=g.dtype, device=g.device) if ctx.materialize_grads else None)
        result = self.cls.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = len(ctx.needs_input_grad)
        if len(result) < n_args or any(r is not None for r in result[n_args:]):
            raise RuntimeError(
                f"function {self.backward_name} returned an incorrect number of gradients "
                f"(expected {n_args}, got {len(result)})"
            )
        out = []
        for pos, t in zip(self.arg_positions, node.inputs):
            gi = result[pos]
            if gi is not None and tuple(gi.shape) != tuple(t.shape):
                raise RuntimeError(
                    f"Function {self.backward_name} returned an invalid gradient at index {pos} - "
                    f"got {list(gi.shape)} but expected shape compatible with {list(t.shape)}"
                )
            out.append(gi)
        return tuple(out)


class Function:
    """Base class for custom autograd operations (see the module docstring)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function "
                                  "to use it with forward mode AD.")

    # Under vmap: True runs forward, backward and jvp batched through Ember's ops; otherwise
    # the ``vmap(info, in_dims, *args) -> (outputs, out_dims)`` staticmethod is the rule.
    generate_vmap_rule = False

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output):
        """Overridden: ``forward`` takes no ctx and this fills it from the inputs and output."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def vmap(info, in_dims: tuple, *args):
        """The batching rule: outputs for the physical ``args`` and their out_dims."""
        raise NotImplementedError("To use autograd.Function with vmap, you must either override the "
                                  "vmap staticmethod or set generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` without recording, then attach one node per output for ``backward``."""
        # imported here, not at the top: tensor.py imports autograd (Tensor.backward): a cycle
        from ..tensor import Tensor

        level = function_vmap.batched_level(args) if VMAP.levels else None
        if level is not None:
            return function_vmap.vmap_apply(cls, Function, args, kwargs, level)
        ctx = FunctionCtx()
        tensor_pos = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        tensors = tuple(args[i] for i in tensor_pos)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        levels = forward_ad.LEVELS.active
        with no_grad(), forward_ad.only(()):  # forward sees plain values; jvp gives the tangents
            if cls.setup_context is Function.setup_context:
                result = cls.forward(ctx, *args, **kwargs)
            else:
                result = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, result)
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        record = STATE.enabled and any(t.requires_grad for t in tensors)
        ctx._out_shapes = tuple(o.shape if isinstance(o, Tensor) else () for o in outs)
        wrapped = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                continue
            o = Tensor._make(o._data)
            is_float = o._data.dtype.kind in dtypes.FLOAT_KINDS
            if record and id(outs[i]) not in ctx.non_differentiable and is_float:
                node = make_node(_FunctionBackward(cls, i, len(outs), tensor_pos), tensors, None)
                node.ctx = ctx
                ctx._node = node
                o.grad_fn = node
                o._requires_grad = True
            wrapped.append(o)
        if levels:
            floating = [o if isinstance(o, Tensor) and o._data.dtype.kind in dtypes.FLOAT_KINDS else None
                        for o in wrapped]
            _push_tangents(cls, ctx, args, floating, levels)
        return wrapped[0] if single else tuple(wrapped)


def _push_tangents(cls, ctx: FunctionCtx, args: tuple, outs: list, levels: tuple) -> None:
    """Attach the outputs' tangents from ``cls.jvp`` at each level where an input has one
    (``outs``: the outputs, None for those that take no tangent)."""
    for i, level in enumerate(levels):
        tangents = [level.get(a) for a in args]
        if all(t is None for t in tangents):
            continue
        saved, ctx._saved = ctx._saved, ctx._saved_forward
        versions, ctx._versions = ctx._versions, tuple(
            t._version if t is not None else 0 for t in ctx._saved_forward)
        try:
            with forward_ad.only(levels[:i]):
                result = cls.jvp(ctx, *tangents)
        finally:
            ctx._saved, ctx._versions = saved, versions
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(outs):
            raise RuntimeError(f"{cls.__name__}.jvp returned {len(result)} tangents for "
                               f"{len(outs)} outputs of forward")
        for o, t in zip(outs, result):
            if t is None or o is None:
                continue
            if tuple(t.shape) != tuple(o.shape):
                raise RuntimeError(f"{cls.__name__}.jvp returned a tangent of shape "
                                   f"{list(t.shape)} for an output of shape {list(o.shape)}")
            level.set(o, t)
