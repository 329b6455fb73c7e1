"""``ember.summary``: torchinfo's model table, from one forward pass watched by module hooks.

Each module called during the pass becomes a row, nested under the module that called it:
input and output shapes, parameter counts (a container counts only the parameters that none of
its rows below count), trainable or not, and multiply-adds. The totals add the parameters,
the multiply-adds of the leaf layers, and the memory of the input, of the outputs a forward and
backward pass keep, and of the parameters. The counting conventions are torchinfo's, so the
numbers equal its numbers on the same torch model.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from .. import creation
from .. import dtypes as dtypes_
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

COLUMNS = {
    "input_size": "Input Shape",
    "output_size": "Output Shape",
    "num_params": "Param #",
    "params_percent": "Param %",
    "kernel_size": "Kernel Shape",
    "mult_adds": "Mult-Adds",
    "trainable": "Trainable",
}
DEFAULT_COLUMNS = ("output_size", "num_params")
NAME_WIDTH = 40
COLUMN_WIDTH = 25


def _prod(sizes) -> int:
    out = 1
    for s in sizes:
        out *= s
    return out


def _shape(value) -> tuple:
    """The shape torchinfo reports for a layer's inputs or outputs, and its element size in bytes:
    a tensor's own, else that of the first of a sequence or the last of a dict."""
    if isinstance(value, Tensor):
        return list(value.shape), value.element_size()
    if isinstance(value, dict) and value:
        return _shape(list(value.values())[-1])
    if isinstance(value, (list, tuple)) and value:
        return _shape(value[0])
    return [], 0


@dataclass(eq=False)
class Layer:
    """One row: a module as it was called, with what the pass measured."""

    module: object
    name: str
    depth: int
    parent: "Layer | None"
    index: int = 0                 # its number among the rows at its depth (the ``1-3`` in ``Linear: 1-3``)
    recursive: bool = False        # a module already shown once: its parameters are not counted again
    input_size: list = field(default_factory=list)
    output_size: list = field(default_factory=list)
    output_bytes: int = 0
    macs: int = 0
    params: int = 0
    trainable_params: int = 0
    param_bytes: int = 0
    below: list = field(default_factory=list)  # every row nested under this one

    def __post_init__(self) -> None:
        for _, p in self.module.named_parameters():
            n = p.numel()
            self.params += n
            self.param_bytes += n * p.element_size()
            self.trainable_params += n if p.requires_grad else 0

    @property
    def kind(self) -> str:
        return type(self.module).__name__

    @property
    def leaf(self) -> bool:
        return not any(True for _ in self.module.children())

    @property
    def kernel_size(self):
        k = getattr(self.module, "kernel_size", None)
        return list(k) if isinstance(k, (tuple, list)) else k

    @property
    def trainable(self) -> str:
        if self.params == 0:
            return "--"
        if self.trainable_params == self.params:
            return "True"
        return "False" if self.trainable_params == 0 else "Partial"

    def measure(self, inputs, outputs) -> None:
        """Shapes, output memory and multiply-adds, from the call the forward hook saw."""
        self.input_size, _ = _shape(inputs)
        self.output_size, item = _shape(outputs)
        self.output_bytes = item * _prod(self.output_size)
        self.macs = 0
        out = self.output_size
        for name, p in self.module.named_parameters():
            n = p.numel()
            if name in ("weight", "bias"):
                # torchinfo's count: a convolution's parameters once per output position, others per row
                per = _prod(out[:1] + out[2:]) if "Conv" in self.kind else (out[0] if out else 1)
                self.macs += n * per
            elif "weight" in name or "bias" in name:
                self.macs += n * _prod(out[:2])

    def own(self, attr: str = "params") -> int:
        """The count that no row below this one shows (all of it for a leaf layer)."""
        counted = sum(getattr(r, attr) if r.leaf else r.own(attr) for r in self.below if not r.recursive)
        return getattr(self, attr) - counted


class ModelSummary:
    """The rows and totals of a summary; prints as torchinfo's table, shows as an HTML table in Jupyter."""

    def __init__(self, layers: list, input_bytes: int, ran: bool, depth: int, columns: tuple) -> None:
        self.layers = layers
        self.depth = depth
        self.columns = columns
        self.ran = ran
        self.input_bytes = input_bytes
        self.total_params = 0
        self.trainable_params = 0
        self.total_mult_adds = 0
        self.total_output_bytes = 0
        self.total_param_bytes = 0
        for r in layers:
            if r.leaf:
                self.total_mult_adds += r.macs
                self.total_output_bytes += 2 * r.output_bytes if r.params else 0  # x2: the gradients
            if r.recursive:
                continue
            self.total_params += r.params if r.leaf else r.own()
            self.trainable_params += r.trainable_params if r.leaf else r.own("trainable_params")
            self.total_param_bytes += r.param_bytes if r.leaf else 0

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.total_output_bytes + self.total_param_bytes

    def _cells(self, r: Layer) -> dict:
        """A row's cells as torchinfo writes them (``--`` for nothing)."""
        deepest = r.depth == self.depth
        whole = deepest or r.leaf
        params = r.params if whole else r.own()
        if r.recursive and r.params:
            count = "(recursive)"
        elif r.params == 0 or params <= 0:
            count = "--"
        else:
            count = f"{params:,}" if r.trainable_params else f"({params:,})"
        # A row that measured no multiply-adds itself (an uncalled container) shows none, as in torchinfo.
        macs = 0 if r.macs <= 0 else r.macs if r.leaf else \
            (sum(b.macs for b in r.below if b.leaf) if deepest else 0)
        if r.recursive:
            share = "(recursive)"
        else:
            share = f"{params / self.total_params:.2%}" if params > 0 and self.total_params else "--"
        return {"input_size": str(r.input_size or "--"), "output_size": str(r.output_size or "--"),
                "num_params": count, "params_percent": share, "kernel_size": str(r.kernel_size or "--"),
                "mult_adds": f"{macs:,}" if macs > 0 else "--", "trainable": r.trainable}

    def shown(self) -> list:
        """The rows down to ``depth``: (label, depth, cells)."""
        rows = []
        for r in self.layers:
            if r.depth > self.depth:
                continue
            label = r.kind if r.depth == 0 else f"{r.kind}: {r.depth}-{r.index}"
            rows.append((label, r.depth, self._cells(r)))
        return rows

    def totals(self) -> list:
        """The footer lines: parameters, then (after a pass) multiply-adds and memory."""
        lines = [f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                 f"Non-trainable params: {self.total_params - self.trainable_params:,}"]
        if self.ran:
            mb = lambda n: f"{n / 1e6:0.2f}"
            lines += [_mult_adds(self.total_mult_adds), "",
                      f"Input size (MB): {mb(self.input_bytes)}",
                      f"Forward/backward pass size (MB): {mb(self.total_output_bytes)}",
                      f"Params size (MB): {mb(self.total_param_bytes)}",
                      f"Estimated Total Size (MB): {mb(self.total_bytes)}"]
        return lines

    def __str__(self) -> str:
        rows = self.shown()
        width = max([NAME_WIDTH] + [len(label) + 5 * d + 1 for label, d, _ in rows])
        width = -(-width // 5) * 5
        rule = "=" * (width + COLUMN_WIDTH * len(self.columns))

        def line(first: str, cells: dict) -> str:
            rest = "".join(f"{cells[c]:<{COLUMN_WIDTH}} " for c in self.columns)
            return f"{first:<{width}} {rest}".rstrip()

        out = [rule, line("Layer (type:depth-idx)", COLUMNS), rule]
        out += [line(_tree(d) + label, cells) for label, d, cells in rows]
        footer = self.totals()
        out += [rule] + [rule if not t else t for t in footer] + [rule]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(COLUMNS[c])}</th>" for c in self.columns)
        body = "".join(
            f"<tr><td style=\"text-align:left;padding-left:{1.2 * d:.1f}em\">{html.escape(label)}</td>"
            + "".join(f"<td>{html.escape(cells[c])}</td>" for c in self.columns) + "</tr>"
            for label, d, cells in self.shown())
        foot = "<br>".join(html.escape(t) for t in self.totals() if t)
        return (f"<table><thead><tr><th>Layer (type:depth-idx)</th>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table><p>{foot}</p>")


def _mult_adds(n: int) -> str:
    """The total multiply-adds in millions, or in billions or trillions where they run that high."""
    unit, scale = next((u, s) for u, s in (("T", 1e12), ("G", 1e9), ("M", 1e6)) if n >= s or u == "M")
    value = n / scale
    return f"Total mult-adds ({unit}): {int(value):,}" if value.is_integer() else \
        f"Total mult-adds ({unit}): {value:,.2f}"


def _tree(depth: int) -> str:
    if depth == 0:
        return ""
    return "├─" if depth == 1 else "│    " * (depth - 1) + "└─"


def summary(model, input_size=None, input_data=None, depth: int = 3, col_names=None,
            dtypes=None, device=None) -> ModelSummary:
    """Summarise ``model`` as torchinfo does, running it once (in eval mode, without grad) on an input.

    Args:
        model: an ``ember.nn.Module``.
        input_size: the input's shape with the batch dimension, e.g. ``(32, 64)``; a list of shapes
            for several inputs (filled with ``ember.rand``).
        input_data: the input itself instead: a tensor, a list of positional inputs or a dict of keyword ones.
        depth: how deep to show nested modules.
        col_names: columns among ``input_size``, ``output_size``, ``num_params``, ``params_percent``,
            ``kernel_size``, ``mult_adds``, ``trainable``.
        dtypes: the dtypes of the inputs made from ``input_size`` (default float32).
        device: where to make them (default: the model's parameters' device).
    Returns:
        A ``ModelSummary``: ``print`` it, or let Jupyter show it.
    """
    columns = tuple(col_names) if col_names is not None else \
        (DEFAULT_COLUMNS if input_size is not None or input_data is not None else ("num_params",))
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"summary: unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}")
    if input_size is not None and input_data is not None:
        raise ValueError("summary: give input_size or input_data, not both")
    if input_size is not None:
        sizes = [tuple(input_size)] if all(isinstance(s, int) for s in input_size) else \
            [tuple(s) for s in input_size]
        if device is None:
            device = next((p.device for p in model.parameters()), None)
        kinds = dtypes or [None] * len(sizes)
        # random values in [0, 1), then the dtype asked for (an integer input is all zeros, as torchinfo's)
        input_data = [creation.rand(*s, device=device).to(k or dtypes_.float32) for s, k in zip(sizes, kinds)]
    layers = _run(model, input_data)
    inputs = input_data if isinstance(input_data, (list, tuple, dict)) else [input_data]
    values = inputs.values() if isinstance(inputs, dict) else inputs
    nbytes = sum(t.nbytes for t in values if isinstance(t, Tensor))
    return ModelSummary(layers, nbytes, input_data is not None, depth, columns)


def _run(model, input_data) -> list:
    """The rows, in call order, from a forward pass with hooks on every module (the tree without input)."""
    places = {}  # id(module) -> (name, depth, parent's id, module); a module met twice keeps its last place
    order = []
    stack = [(type(model).__name__, model, 0, None)]
    while stack:
        name, module, d, parent = stack.pop()
        places[id(module)] = (name, d, parent, module)
        order.append(id(module))
        stack += [(n, m, d + 1, id(module)) for n, m in reversed(list(module.named_children()))]
    made, rows, seen = {}, [], set()

    def row_of(key) -> Layer:
        """A row for the module ``key``, under the latest row of its parent (made if it was never called)."""
        name, d, parent, module = places[key]
        up = None if parent is None else made.get(parent) or row_of(parent)
        made[key] = Layer(module, name, d, up)
        return made[key]

    def pre_hook(module, args) -> None:
        row = row_of(id(module))
        row.recursive = id(module) in seen
        seen.add(id(module))
        rows.append(row)

    def hook(module, args, out) -> None:
        made[id(module)].measure(args, out)

    if input_data is None:
        for key in order:
            pre_hook(places[key][3], ())
    else:
        handles = [h for _, _, _, m in places.values()
                   for h in (m.register_forward_pre_hook(pre_hook), m.register_forward_hook(hook))]
        training = model.training
        model.eval()
        try:
            with no_grad():
                if isinstance(input_data, dict):
                    model(**input_data)
                elif isinstance(input_data, (list, tuple)):
                    model(*input_data)
                else:
                    model(input_data)
        finally:
            for h in handles:
                h.remove()
            model.train(training)
        rows = _with_containers(rows, seen)
    counters = {}
    for i, r in enumerate(rows):
        counters[r.depth] = counters.get(r.depth, 0) + 1
        r.index = counters[r.depth]
        for below in rows[i + 1:]:
            if below.depth <= r.depth:
                break
            r.below.append(below)
    return rows


def _with_containers(rows: list, seen: set) -> list:
    """Rows with the containers that were never called themselves (a ModuleList) put above their layers."""
    out, current = [], {}  # current: depth -> the row open at that depth
    for r in rows:
        chain = []
        up = r.parent
        while up is not None and up.depth > 0:
            chain.append(up)
            up = up.parent
        for a in reversed(chain):
            if a.depth not in current or current[a.depth].module is not a.module:
                a.recursive = id(a.module) in seen
                seen.add(id(a.module))
                out.append(a)
                current[a.depth] = a
        out.append(r)
        current = {d: row for d, row in current.items() if d < r.depth}
        current[r.depth] = r
    return out
