"""``ember.onnx.export``: run the model once, record its ops, write them as an ONNX graph.

Tracing uses the op-dispatch observer (``ops.registry.OBSERVER``, the profiler's hook point)
and forward hooks on every submodule: a module with a whole-module conversion (``modules``)
becomes its ONNX node, anything else becomes its primitives' nodes (``ops``). Only what the
outputs need is kept; what does not depend on the inputs is stored as initializers.
"""
from __future__ import annotations

import os
from typing import BinaryIO, Sequence

from ..autograd.grad_mode import no_grad
from ..ops import registry
from ..ops.shape import cat
from ..tensor import Tensor
from . import modules as _modules
from .graph import Graph, UnsupportedOperatorError, onnx_dtype
from .ops import Call, convert

DEFAULT_OPSET = 17


class _Tracer:
    """Hooks that turn one forward pass into graph nodes.

    With a ``probe`` (the output shapes of every op in a run on a larger batch) each op learns
    which of its output dims follow the batch size, so reshapes can leave them free.
    """

    def __init__(self, g: Graph, model, probe: list | None = None) -> None:
        self.g = g
        self.paths = {id(m): name for name, m in model.named_modules()} if hasattr(model, "named_modules") \
            else {}
        self.stack: list = []  # the modules running, innermost last
        self.claimed: list = []  # (module, emitter) of the modules exported whole, outermost first
        self.probe = probe
        self.shapes: list = []  # every op's output shape, in call order

    def where(self) -> str:
        if not self.stack:
            return "the model's forward"
        m = self.stack[-1]
        path = self.paths.get(id(m), "?")
        return f"module '{path}' ({type(m).__name__})" if path else f"{type(m).__name__}.forward"

    def pre_hook(self, module, args) -> None:
        self.stack.append(module)
        if not self.claimed:
            emit = _modules.emitter(module, self.g)
            if emit is not None:
                self.claimed.append((module, emit))

    def hook(self, module, args, out) -> None:
        self.stack.pop()
        if self.claimed and self.claimed[0][0] is module:
            _, emit = self.claimed.pop()
            live = any(isinstance(a, Tensor) and self.g.is_live(a) for a in args)
            if live and self.probe is not None:
                names = emit(self.g, module, tuple(args), out)
                tensors = _tensors(out)
                for t, name in zip(tensors, [names] if isinstance(names, str) else names):
                    self.g.bind(t, name)

    def on_op(self, prim, inputs: tuple, kw: dict):
        registry.OBSERVER = None
        try:
            out = registry.apply(prim, *inputs, **kw)
        finally:
            registry.OBSERVER = self.on_op
        index = len(self.shapes)
        self.shapes.append(tuple(out.shape))
        if self.probe is not None and not self.claimed and any(self.g.is_live(t) for t in inputs):
            call = Call(prim.name, inputs, kw, out, self.where(), self._dynamic(index, out))
            self.g.bind(out, convert(self.g, call), dynamic=call.dynamic)
        return out

    def _dynamic(self, index: int, out) -> tuple:
        """Which dims of this op's output change with the batch (none without dynamic axes)."""
        if not self.probe:
            return (False,) * out.ndim
        if index >= len(self.probe) or len(self.probe[index]) != out.ndim:
            raise UnsupportedOperatorError(
                "ember.onnx.export: the model runs different ops for different batch sizes, so it cannot "
                "be exported with dynamic_axes; export it without them")
        return tuple(a != b for a, b in zip(self.probe[index], out.shape))


def _tensors(out) -> list:
    """The tensors of a module's output (a tensor, or tuples of them, as an LSTM's)."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    return []


def _run(model, inputs: tuple, tracer: _Tracer):
    """``model(*inputs)`` under the tracer's hooks, in eval mode, without gradients."""
    handles = []
    was_training = getattr(model, "training", False)
    try:
        if hasattr(model, "modules"):
            model.eval()
            for m in model.modules():
                handles.append(m.register_forward_pre_hook(tracer.pre_hook))
                handles.append(m.register_forward_hook(tracer.hook))
        registry.OBSERVER = tracer.on_op
        with no_grad():
            return model(*inputs)
    finally:
        registry.OBSERVER = None
        for h in handles:
            h.remove()
        if hasattr(model, "train"):
            model.train(was_training)


def _grown(x: Tensor, axes: dict) -> Tensor:
    """``x`` one longer along each dynamic axis (its first slice repeated): the probe run's input."""
    for axis in axes:
        x = cat([x, x.narrow(axis, 0, 1)], axis)
    return x


def _as_tuple(args) -> tuple:
    if isinstance(args, Tensor):
        return (args,)
    args = tuple(args)
    if args and isinstance(args[-1], dict):
        raise UnsupportedOperatorError("ember.onnx.export: keyword arguments to the model are not supported")
    return args


def _flat_outputs(out) -> list:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        return list(out)
    raise UnsupportedOperatorError(f"ember.onnx.export: the model must return a tensor or a tuple of "
                                   f"tensors, got {type(out).__name__}")


def _value_info(name: str, t: Tensor, axes: dict):
    from onnx import helper

    shape = [axes.get(i, d) for i, d in enumerate(t.shape)]
    return helper.make_tensor_value_info(name, onnx_dtype(t.dtype), shape)


def _dynamic(dynamic_axes: dict | None, name: str) -> dict:
    spec = (dynamic_axes or {}).get(name, {})
    if isinstance(spec, (list, tuple)):
        return {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(spec)}
    return {int(a): str(n) for a, n in spec.items()}


def _output_axes(dynamic_axes: dict | None, name: str, out: Tensor, probe: list | None, i: int) -> dict:
    """An output's dynamic axes: those asked for, and those that changed size in the probe run."""
    axes = _dynamic(dynamic_axes, name)
    if probe is not None and i < len(probe):
        for axis, (a, b) in enumerate(zip(probe[i].shape, out.shape)):
            if a != b:
                axes.setdefault(axis, f"{name}_dynamic_axes_{axis + 1}")
    return axes


def _prune(nodes: list, outputs: list) -> list:
    """The nodes the outputs depend on, in their original order."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    return kept[::-1]


def export(model, args, f: str | os.PathLike | BinaryIO, export_params: bool = True, verbose: bool = False,
           training=None, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, opset_version: int | None = None,
           dynamic_axes: dict | None = None, do_constant_folding: bool = True, **unused) -> None:
    """Write ``model`` (run on ``args``) to ``f`` as an ONNX model, as ``torch.onnx.export``.

    Args:
        model: a module (exported in eval mode) or a function of tensors.
        args: the example input tensor, or a tuple of them.
        f: a path or a writable binary file.
        input_names, output_names: graph value names (default ``input``/``output``, numbered
            when there are several).
        opset_version: the ONNX opset (default 17; at least 13).
        dynamic_axes: ``{name: {axis: "label"}}`` or ``{name: [axes]}``: axes whose size may
            change at run time (typically the batch axis 0). The model runs once more on inputs
            one longer along them, to see which op dims follow.
        export_params, training, do_constant_folding: accepted for torch code; parameters are
            always stored, the model runs in eval mode, and whatever does not depend on the inputs
            is stored as a constant.
    Raises:
        UnsupportedOperatorError: the model uses an op with no ONNX conversion (named).
    """
    import onnx
    from onnx import helper

    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset < 13:
        raise ValueError(f"ember.onnx.export: opset_version must be at least 13, got {opset}")
    if registry.OBSERVER is not None:
        raise RuntimeError("ember.onnx.export: cannot trace while ember.profiler is recording")
    inputs = _as_tuple(args)
    in_names = list(input_names or (["input"] if len(inputs) == 1 else
                                    [f"input_{i}" for i in range(len(inputs))]))
    if len(in_names) != len(inputs):
        raise ValueError(f"ember.onnx.export: {len(in_names)} input_names for {len(inputs)} inputs")
    is_module = hasattr(model, "named_parameters")
    named = list(model.named_parameters()) + list(model.named_buffers()) if is_module else []
    g = Graph(opset, {id(t): name for name, t in named})
    probe, probe_outputs = [], None
    if any(_dynamic(dynamic_axes, n) for n in in_names):
        with no_grad():
            grown = tuple(_grown(x, _dynamic(dynamic_axes, n)) for n, x in zip(in_names, inputs))
        dry = _Tracer(g, model)
        probe_outputs = _flat_outputs(_run(model, grown, dry))
        probe = dry.shapes
    for name, x in zip(in_names, inputs):
        axes = _dynamic(dynamic_axes, name)
        g.bind(x, name, dynamic=tuple(i in axes for i in range(x.ndim)))
    outputs = _flat_outputs(_run(model, inputs, _Tracer(g, model, probe)))
    out_names = list(output_names or (["output"] if len(outputs) == 1 else
                                      [f"output_{i}" for i in range(len(outputs))]))
    if len(out_names) != len(outputs):
        raise ValueError(f"ember.onnx.export: {len(out_names)} output_names for {len(outputs)} outputs")
    for name, out in zip(out_names, outputs):
        g.nodes.append(helper.make_node("Identity", [g.name(out)], [name], name=g.fresh("n_output")))
    nodes = _prune(g.nodes, out_names)
    used = {i for n in nodes for i in n.input}
    graph = helper.make_graph(
        nodes, "ember", [_value_info(n, x, _dynamic(dynamic_axes, n)) for n, x in zip(in_names, inputs)],
        [_value_info(n, o, _output_axes(dynamic_axes, n, o, probe_outputs, i))
         for i, (n, o) in enumerate(zip(out_names, outputs))],
        initializer=[t for name, t in g.initializers.items() if name in used])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ember")
    proto.ir_version = min(proto.ir_version, 9 if opset <= 20 else proto.ir_version)
    onnx.checker.check_model(proto)
    if verbose:
        print(helper.printable_graph(graph))
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save_model(proto, os.fspath(f))


