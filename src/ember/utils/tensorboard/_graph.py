"""``add_graph``: Ember's autograd graph of one forward pass as a TensorBoard ``GraphDef``.

The graph is the one ``backward`` walks: a node per recorded op (``AddmmBackward0`` and kin),
the model's parameters by their dotted names, the inputs and outputs as IO nodes.
"""
from __future__ import annotations

from ...autograd.grad_mode import enable_grad
from ...tensor import Tensor


def graph_def(model, inputs: tuple):
    """Run ``model(*inputs)`` and return its autograd graph as a ``GraphDef``."""
    from tensorboard.compat.proto.attr_value_pb2 import AttrValue
    from tensorboard.compat.proto.graph_pb2 import GraphDef
    from tensorboard.compat.proto.node_def_pb2 import NodeDef
    from tensorboard.compat.proto.versions_pb2 import VersionDef

    named = model.named_parameters() if hasattr(model, "named_parameters") else ()
    params = {id(p): name for name, p in named}
    traced = []
    for x in inputs:
        if isinstance(x, Tensor) and x.is_floating_point() and not x.requires_grad:
            x = x.detach().requires_grad_()  # so the graph reaches the inputs too
        traced.append(x)
    with enable_grad():
        out = model(*traced)
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    names: dict[int, str] = {id(x): f"input/{i}" for i, x in enumerate(traced) if isinstance(x, Tensor)}
    nodes: list = []

    def shape_attr(t) -> dict:
        return {"_output_shapes": AttrValue(s=str(list(t.shape)).encode())}

    for i, x in enumerate(traced):
        if isinstance(x, Tensor):
            nodes.append(NodeDef(name=f"input/{i}", op="IO Node", attr=shape_attr(x)))

    def name_of(obj) -> str:
        key = id(obj)
        if key not in names:
            if isinstance(obj, Tensor):
                names[key] = params.get(key, f"leaf_{len(names)}").replace(".", "/")
                nodes.append(NodeDef(name=names[key], op="Parameter", attr=shape_attr(obj)))
            else:
                names[key] = f"{obj.name()}_{len(names)}"
                pending.append(obj)
        return names[key]

    pending: list = []
    roots = [name_of(o.grad_fn) for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    while pending:  # each node once, iteratively
        node = pending.pop()
        own = names[id(node)]
        inputs_of = [name_of(e) for e in node.edges if e is not None]
        nodes.append(NodeDef(name=own, op=node.name(), input=inputs_of))
    traced_outputs = [o for o in outputs if getattr(o, "grad_fn", None) is not None]
    for i, (o, root) in enumerate(zip(traced_outputs, roots)):
        nodes.append(NodeDef(name=f"output/{i}", op="IO Node", input=[root], attr=shape_attr(o)))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
