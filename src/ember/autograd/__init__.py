"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, custom functions."""
from __future__ import annotations


from .anomaly import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                      set_detect_anomaly)
from .engine import TENSOR_CLASS, accumulate_grad, run_backward
from .function import Function, FunctionCtx
from .vmap_state import VMAP
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import graph
from .variable import Variable


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _root_grads(outputs: tuple, grad_outputs: tuple, op: str, batched: bool = False) -> list:
    """Default cotangents: ones for one-element outputs; an error for anything else.

    With ``batched`` each given cotangent has one extra leading (batch) dimension.
    """
    Tensor = TENSOR_CLASS[0]  # registered by tensor.py, which imports autograd (no cycle)
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"{op}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = Tensor._make(out.xp.ones(out._data.shape, dtype=out._data.dtype))
        elif tuple(g.shape[1:] if batched else g.shape) != tuple(out.shape):
            raise RuntimeError(
                f"{op}: Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} and "
                f"output[{i}] has a shape of {list(out.shape)}."
            )
        elif g.dtype != out.dtype and g.is_floating_point() and out.is_floating_point():
            g = g.to(out.dtype)  # as torch: the gradient takes the output's dtype
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad`` (torch.autograd.backward)."""
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, _as_tuple(grad_tensors), "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        leaves = _as_tuple(inputs)
        if not leaves:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        found = run_backward(outputs, grads, retain_graph, create_graph, capture=list(leaves))
        for leaf, g in zip(leaves, found):
            if g is not None:
                accumulate_grad(leaf, g, create_graph)
        return
    run_backward(outputs, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated.

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) to differentiate with respect to.
        grad_outputs: the cotangent of each output (ones for one-element outputs if omitted).
        retain_graph: keep the graph for another pass (defaults to ``create_graph``).
        create_graph: record this computation so the result can be differentiated again.
        allow_unused: return None for an input the outputs do not depend on instead of raising.
        is_grads_batched: the first dimension of every grad_output is a batch of cotangents,
            all pushed through ONE backward sweep (each result gets that leading dimension).
        materialize_grads: return zeros instead of None for unused inputs.
    Returns:
        A tuple with one gradient per input.
    """
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if VMAP.levels:  # inside vmap: differentiate every sample in one sweep over the whole batch
        return VMAP.batched_grad(grad, outs, ins, _as_tuple(grad_outputs), is_grads_batched,
                                 retain_graph=retain_graph, create_graph=create_graph,
                                 allow_unused=allow_unused, materialize_grads=materialize_grads)
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    if is_grads_batched and grad_outputs is None:
        raise RuntimeError("grad: is_grads_batched=True needs grad_outputs with a batch dimension")
    grads = _root_grads(outs, _as_tuple(grad_outputs), "grad", is_grads_batched)
    if retain_graph is None:
        retain_graph = create_graph
    found = run_backward(outs, grads, retain_graph, create_graph, capture=list(ins))
    if materialize_grads:
        allow_unused = True
    result = []
    for i, (t, g) in enumerate(zip(ins, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                # imported here, not at the top: creation imports tensor, which imports autograd
                from ..creation import zeros

                lead = tuple(grads[0].shape[:1]) if is_grads_batched else ()
                g = zeros(lead + tuple(t.shape), dtype=t.dtype, device=t.device)
        result.append(g)
    return tuple(result)


__all__ = ["Function", "FunctionCtx", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "Variable",
           "graph"]


def __getattr__(name: str):
    """``functional``, ``profiler``, ``gradcheck`` and ``gradgradcheck``, loaded on first use.

    They are built on Tensor and the ops, which import this package, so they cannot load with it.
    """
    import importlib

    if name in ("functional", "profiler"):
        return importlib.import_module(f"{__name__}.{name}")
    if name in ("gradcheck", "gradgradcheck"):
        module = importlib.import_module(f"{__name__}.gradcheck")
        globals().update(gradcheck=module.gradcheck, gradgradcheck=module.gradgradcheck)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
