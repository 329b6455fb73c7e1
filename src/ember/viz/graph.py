"""``ember.viz.graph``: a picture of the backward graph autograd recorded for a tensor (torchviz's idea).

One box per recorded op with its backward function's name (``MulBackward0``), the shape and
dtype of what it computed and, for small tensors, the values; leaf tensors (named parameters by
name) in blue, the output in green, and on request the tensors each op saved for its backward
rule in orange. It reads the graph the engine walks; nothing is recomputed.
"""
from __future__ import annotations

from .._printing import format_array
from ..autograd.engine import Node, toposort
from ..tensor import Tensor
from .picture import Picture

SMALL = 8  # show_values=None shows the values of tensors with at most this many elements


def graph(output, params: dict | None = None, show_saved: bool = False,
          show_values: bool | None = None, engine: str = "auto") -> Picture:
    """Draw the backward graph that ends in ``output``.

    Args:
        output: a tensor (or a tuple of tensors) with a history.
        params: names for leaf tensors, e.g. ``dict(model.named_parameters())``.
        show_saved: also draw the tensors each op saved for its backward rule.
        show_values: values in the boxes: None for tensors of at most 8 elements, True for all, False none.
        engine: "auto" (Graphviz's dot when installed, else matplotlib), "dot" or "matplotlib".
    Returns:
        A ``Picture``: ``.save("g.png")``, ``.save("g.svg")``, and shown inline by Jupyter.
    """
    outputs = tuple(output) if isinstance(output, (tuple, list)) else (output,)
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"ember.viz.graph: expected a Tensor or a tuple of Tensors, "
                            f"got {type(t).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    return _GraphDrawing(names, show_saved, show_values, engine).draw(outputs)


def describe(t: Tensor, show_values: bool | None) -> list:
    """A tensor's lines in a box: its shape and dtype, then its values when they are wanted."""
    lines = [f"{tuple(t.shape)} {str(t.dtype).replace('ember.', '')}"]
    if show_values or (show_values is None and t.numel() <= SMALL):
        lines += format_array(t.detach().cpu().numpy(), "").splitlines()
    return lines


class _GraphDrawing:
    """Walks the graph from the outputs (iteratively) and adds a box per node, leaf and saved tensor."""

    def __init__(self, names: dict, show_saved: bool, show_values: bool | None, engine: str) -> None:
        self.names = names
        self.show_saved = show_saved
        self.show_values = show_values
        self.picture = Picture(engine=engine)
        self.ids = {}        # id(node or leaf) -> box id
        self.results = {}    # id(node) -> the tensor it computed, where a consumer saved it

    def draw(self, outputs: tuple) -> Picture:
        nodes = self._collect(outputs)
        for node in nodes:
            for t in node.inputs or ():
                if t is not None and t.grad_fn is not None:
                    self.results[id(t.grad_fn)] = t
        for t in outputs:
            if t.grad_fn is not None:
                self.results[id(t.grad_fn)] = t
        for node in nodes:
            self._node(node)
        for k, t in enumerate(outputs):
            kind = "parameter" if id(t) in self.names else "output"
            lines = [self.names.get(id(t), "output")] + describe(t, self.show_values)
            box = self.picture.add(f"out{k}", lines, kind)
            producer = t.grad_fn if t.grad_fn is not None else (t if t.requires_grad else None)
            if producer is not None:
                self.picture.connect(self._box_of(producer), box)
        return self.picture

    @staticmethod
    def _collect(outputs: tuple) -> list:
        """Every node reachable from the outputs, each once, producers before consumers (the engine's
        sweep order, reversed)."""
        roots = list(dict.fromkeys(t.grad_fn for t in outputs if t.grad_fn is not None))
        return [n for n in reversed(toposort(roots)) if isinstance(n, Node)]

    def _box_of(self, producer) -> str:
        """The box of a node or a leaf tensor (a leaf's box is made when first met)."""
        key = id(producer)
        if key not in self.ids:
            name = self.names.get(key)
            lines = [name or "leaf"] + describe(producer, self.show_values)
            self.ids[key] = self.picture.add(f"t{len(self.ids)}", lines, "parameter" if name else "leaf")
        return self.ids[key]

    def _node(self, node: Node) -> None:
        lines = [node.name()]
        result = self.results.get(id(node))
        if result is not None:
            lines += describe(result, self.show_values)
        box = self.picture.add(f"n{len(self.ids)}", lines)
        self.ids[id(node)] = box
        for edge in node.edges:
            if edge is not None:
                self.picture.connect(self._box_of(edge), box)
        if self.show_saved:
            self._saved(node, box)

    def _saved(self, node: Node, box: str) -> None:
        """Orange boxes for what ``node`` keeps for its backward rule (inputs it reads, its result)."""
        saved = []
        if node.fn.reads_inputs and node.inputs is not None:
            saved += [(f"saved input {i}", t) for i, t in enumerate(node.inputs) if t is not None]
        if node.out_data is not None:
            saved.append(("saved result", Tensor._make(node.out_data)))
        if node.ctx is not None and not node.freed:  # a custom Function's ctx.save_for_backward
            saved += [(f"saved tensor {i}", t) for i, t in enumerate(node.ctx.saved_tensors) if t is not None]
        for k, (label, t) in enumerate(saved):
            tid = self.picture.add(f"{box}s{k}", [label] + describe(t, self.show_values), "saved")
            self.picture.connect(tid, box, dashed=True)
