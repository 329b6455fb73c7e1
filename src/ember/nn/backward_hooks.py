"""Module backward hooks: ``register_full_backward_hook`` and ``register_full_backward_pre_hook``.

As in torch, a call of a module with such hooks passes its tensor input and its outputs through
identity nodes. The output nodes see the gradients of the outputs (``grad_output``; pre-hooks may
replace them). The input node then sees the gradient of the input (``grad_input``). The hooks
get ``(module, grad_input, grad_output)`` and may return a replacement ``grad_input``.

Ember's nodes have one output each, so a module called with more than one tensor that needs
grad cannot hand its hooks all the input gradients at once. That call is refused.
"""
from __future__ import annotations

import warnings

from ..ops.jvp import identity
from ..ops.registry import apply, primitive
from ..tensor import Tensor


class _Call:
    """One call of a hooked module: the output gradients seen so far, and where its input is."""

    def __init__(self, module, n_inputs: int, position: int | None) -> None:
        self.module = module
        self.n_inputs = n_inputs  # tensors among the positional arguments
        self.position = position  # which of them needs grad (None: none does)
        self.grad_outputs: list = []
        self.waiting = 0  # output gradients still to come

    def output_grad(self, index: int, g: Tensor) -> Tensor:
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, (g,))
            if result is not None:
                g = _one(result, "backward pre-hook")
        self.grad_outputs[index] = g
        self.waiting -= 1
        if self.position is None and not self.waiting and self.module._backward_hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients.", stacklevel=2)
            self._run_hooks((None,) * self.n_inputs)  # no input gradient will come
        return g

    def input_grad(self, g: Tensor) -> Tensor:
        grads = [None] * self.n_inputs
        grads[self.position] = g
        return self._run_hooks(tuple(grads))[self.position]

    def _run_hooks(self, grad_input: tuple) -> tuple:
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, tuple(self.grad_outputs))
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                   f"{len(result)}, but expected {len(grad_input)}")
            grad_input = result
        return grad_input


def _one(result, what: str) -> Tensor:
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != 1:
        raise RuntimeError(f"{what} returned {len(result)} gradients for 1 output")
    return result[0]


_hook_output = primitive(
    "backward_hook_output", lambda xp, x, call, index: x,
    lambda g, out, x, call, index: (call.output_grad(index, g),), jvp=identity,
    batchable=False, reads_inputs=False, formula="identity; the module's hooks see the gradient",
)
_hook_input = primitive(
    "backward_hook_input", lambda xp, x, call: x,
    lambda g, out, x, call: (call.input_grad(g),), jvp=identity,
    batchable=False, reads_inputs=False, formula="identity; the module's hooks see the gradient",
)


def wrap_inputs(module, args: tuple) -> tuple:
    """The call's record and its positional arguments, the tensor needing grad passed through
    the input node."""
    tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    needing = [i for i in tensors if args[i].requires_grad]
    if len(needing) > 1:
        raise NotImplementedError(
            f"{type(module).__name__}: full backward hooks need the module to be called with at "
            f"most one tensor that requires grad (Ember hands hooks each gradient from its own "
            f"node); this call has {len(needing)}")
    position = tensors.index(needing[0]) if needing else None
    call = _Call(module, len(tensors), position)
    if needing:
        args = list(args)
        args[needing[0]] = apply(_hook_input, args[needing[0]], call=call)
        args = tuple(args)
    return call, args


def wrap_outputs(call: _Call, result):
    """The module's outputs passed through output nodes (a tensor, or a tuple or list of them)."""
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    call.grad_outputs = [None] * len(outputs)
    hooked = [o.requires_grad if isinstance(o, Tensor) else False for o in outputs]
    call.waiting = sum(hooked)
    if call.module._backward_pre_hooks and call.waiting > 1:
        raise NotImplementedError(f"{type(call.module).__name__}: backward pre-hooks on a module "
                                  f"with more than one output that requires grad")
    wrapped = [apply(_hook_output, o, call=call, index=i) if h else o
               for i, (o, h) in enumerate(zip(outputs, hooked))]
    if hasattr(result, "_fields"):  # a named tuple
        return type(result)(*wrapped)
    if isinstance(result, (tuple, list)):
        return type(result)(wrapped)
    return wrapped[0]
