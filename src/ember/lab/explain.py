"""Show the work of a derivative: the forward trace and the reverse sweep, as the engine ran them.

``ember.explain(f, **point)`` runs ``f`` on scalar leaves and reads the graph the engine
recorded: each node's primitive, inputs and value. It then runs ``autograd.grad`` with a
``trace`` on every node, so the engine itself reports each step of its backward sweep: the
adjoint it reached, what the primitive's rule sent to each input (and the rule's local
derivative, the same rule run with a unit cotangent), and the running sums.

``explain(f, mode="forward", **point)`` shows forward mode instead: ``f`` runs once per input
on dual numbers (``autograd.forward_ad``), that input's tangent seeded with 1, and every node
shows its value and its tangent in each sweep, pushed there by the primitives' JVP rules:
n sweeps for n inputs, where reverse mode needs one sweep per output. Nothing here
differentiates on its own; SymPy (optional) only restates the partials symbolically.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import dtypes
from ..autograd import forward_ad
from ..autograd import grad as _grad
from ..autograd.engine import Node
from ..autograd.grad_mode import enable_grad, no_grad
from ..creation import tensor
from .mathlang import Expression, MathError, MissingValueError, SYMPY_PRIMITIVES, number_to_sympy
from ..tensor import Tensor

_BAR = "\u0304"  # combining macron: x̄ is the adjoint of x
_DOT = "\u0307"  # combining dot above: ẋ is the tangent of x


@dataclass
class Step:
    """One forward node: ``name = op(args) = value``."""

    name: str
    op: str
    args: list
    value: object
    formula: str

    @property
    def definition(self) -> str:
        return f"{self.op}({', '.join(self.args)})"


@dataclass
class Contribution:
    """One edge of the reverse sweep: node's adjoint × local derivative, added into an input's adjoint."""

    node: str
    adjoint: object
    input: str
    local: object
    formula: str
    contribution: object
    accumulated: object
    local_formula: str | None = None


@dataclass
class Explanation:
    """The worked derivative of ``f`` at a point; ``str()`` for text, ``markdown()``, ``to_dict()``."""

    function: str
    point: dict
    value: object
    forward: list = field(default_factory=list)
    backward: list = field(default_factory=list)
    gradient: dict = field(default_factory=dict)
    symbolic: dict | None = None
    output: str = "f"
    mode: str = "reverse"
    tangents: list = field(default_factory=list)  # forward mode: per node, its tangent per seed

    def to_dict(self) -> dict:
        """Plain data (numbers as floats or nested lists), e.g. for JSON."""
        return {
            "function": self.function,
            "point": dict(self.point),
            "value": self.value,
            "forward": [dict(vars(s), definition=s.definition) for s in self.forward],
            "backward": [dict(vars(c)) for c in self.backward],
            "gradient": dict(self.gradient),
            "symbolic": None if self.symbolic is None else dict(self.symbolic),
            "mode": self.mode,
            "tangents": [list(t) for t in self.tangents],
            "sweeps": self.sweeps(),
        }

    def sweeps(self) -> dict:
        """How many sweeps each mode needs for this gradient: one per input forward, one per
        output in reverse."""
        return {"forward": len(self.point), "reverse": 1}

    def _sections(self) -> list:
        """(title, headers, rows) of each table, shared by the text and Markdown renderings."""
        point = ", ".join(f"{k} = {fmt(v)}" for k, v in self.point.items())
        if self.mode == "forward":
            sections = [self._forward_sweeps(), self._sweep_counts()]
        else:
            sections = [("Forward trace (the graph the engine recorded)", ["node", "op(inputs)", "value"],
                         [[s.name, s.definition, fmt(s.value)] for s in self.forward]),
                        self._reverse_sweep()]
        headers = [f"∂{self.output}/∂·", "value"]
        if self.symbolic:
            headers += ["symbolic", "symbolic at point"]
        partials = []
        for name, g in self.gradient.items():
            row = [f"∂{self.output}/∂{name}", fmt(g)]
            if self.symbolic:
                row += [self.symbolic[name]["expression"], fmt(self.symbolic[name]["at_point"])]
            partials.append(row)
        sections.append((f"Partial derivatives at {point}", headers, partials))
        return sections

    def _reverse_sweep(self) -> tuple:
        rows = []
        for c in self.backward:
            rows.append([f"{bar(c.node)} = {fmt(c.adjoint)}", c.input,
                         _local_text(c), c.formula,
                         f"{fmt(c.adjoint)} × {fmt(c.local)} = {fmt(c.contribution)}",
                         f"{bar(c.input)} = {fmt(c.accumulated)}"])
        return ("Reverse sweep (the engine's backward, node by node)",
                ["adjoint", "input", "local derivative", "rule", "contribution", "accumulated"], rows)

    def _forward_sweeps(self) -> tuple:
        """Each node's dual number: its value and, per sweep, its tangent."""
        names = list(self.point)
        headers = ["node", "op(inputs)", "value"] + [f"{dot('v')} (sweep {i}: {dot(n)} = 1)"
                                                     for i, n in enumerate(names, 1)]
        rows = [[n, "input", fmt(v)] + ["1" if m == n else "0" for m in names]
                for n, v in self.point.items()]
        rows += [[s.name, s.definition, fmt(s.value)] + [fmt(t) for t in tangents]
                 for s, tangents in zip(self.forward, self.tangents)]
        return ("Forward sweeps with dual numbers (value + tangent; the JVP rules push the "
                "tangents on)", headers, rows)

    def _sweep_counts(self) -> tuple:
        n = len(self.point)
        return ("Sweeps needed for this gradient", ["mode", "sweeps", "one sweep gives"],
                [["forward", f"{n} (one per input)",
                  "one column of the Jacobian: every output's derivative along one input"],
                 ["reverse", "1 (one per output)",
                  "one row of the Jacobian: one output's derivative by every input"]])

    def _title(self) -> str:
        f = self.output
        point = ", ".join(f"{k}={fmt(v)}" for k, v in self.point.items())
        return f"{f}({', '.join(self.point)}) = {self.function};  {f}({point}) = {fmt(self.value)}"

    def __str__(self) -> str:
        parts = [self._title()]
        for title, headers, rows in self._sections():
            parts.append(f"\n{title}\n{text_table(headers, rows)}")
        return "\n".join(parts)

    def markdown(self) -> str:
        """The same tables in Markdown."""
        parts = [f"**{escape(self._title())}**"]
        for title, headers, rows in self._sections():
            parts.append(f"\n### {title}\n\n{markdown_table(headers, rows)}")
        return "\n".join(parts)

    _repr_markdown_ = markdown

    def graph(self, engine: str = "auto"):
        """The graph with each node's value and adjoint and each edge's local derivative (a ``Picture``)."""
        return _viz().explanation_graph(self, engine)

    def to_html(self, path=None, engine: str = "auto") -> str:
        """A self-contained page stepping through both sweeps; written to ``path`` if given."""
        page = _viz().explanation_page(self, engine)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        return _viz().explanation_html(self)

    def __repr__(self) -> str:
        grads = ", ".join(f"{k}={fmt(v)}" for k, v in self.gradient.items())
        return f"Explanation({self.function!r}, gradient: {grads})"


def _viz():
    """ember.viz's explanation pages and graphs."""
    from ..viz import explain_html  # deferred: ember.viz draws explanations, so it imports this module

    return explain_html


# ---------------------------------------------------------------------------- formatting


def fmt(value) -> str:
    """A number as people write it: 337, not 337.0; six significant digits otherwise."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if value is None:
        return "—"
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


def _local_text(c: Contribution) -> str:
    """``∂v1/∂x = 5*x**4 = 80`` (the symbolic middle part only with SymPy)."""
    middle = f" = {c.local_formula}" if c.local_formula and c.local_formula != fmt(c.local) else ""
    return f"∂{c.node}/∂{c.input}{middle} = {fmt(c.local)}"


def bar(name: str) -> str:
    """The adjoint's name: x̄, v̄3."""
    return name[0] + _BAR + name[1:]


def dot(name: str) -> str:
    """The tangent's name: ẋ, v̇3."""
    return name[0] + _DOT + name[1:]


def _width(s: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 1 for ch in s)


def text_table(headers: list, rows: list) -> str:
    """Aligned plain-text columns (combining marks take no width)."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  " + "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule] + [line(r) for r in rows])


def escape(s: str) -> str:
    return s.replace("|", "\\|").replace("*", "\\*")


def markdown_table(headers: list, rows: list) -> str:
    """A pipe table; cells are escaped for Markdown."""
    out = ["| " + " | ".join(escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(escape(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------------------- reading the graph


def _number(t: Tensor):
    return t.item() if t.numel() == 1 else t.tolist()


class _Graph:
    """The nodes of one output's graph in evaluation order, with names and values."""

    def __init__(self, out: Tensor, leaves: dict) -> None:
        self.labels = {id(t): name for name, t in leaves.items()}
        self.values = {}
        self.nodes = _evaluation_order(out.grad_fn) if out.grad_fn is not None else []
        # Kept here: a node drops its inputs once the backward sweep has passed it.
        self.inputs = {id(node): node.inputs for node in self.nodes}
        for node in self.nodes:
            for t in node.inputs:
                if t is not None and t.grad_fn is not None:
                    self.values[id(t.grad_fn)] = t
        if out.grad_fn is not None:
            self.values[id(out.grad_fn)] = out
        for i, node in enumerate(self.nodes, 1):
            self.labels[id(node)] = f"v{i}"

    def label(self, t: Tensor) -> str:
        """How an input reads in the trace: v3 for a node, the variable name, or the constant."""
        if t is None:
            return "None"
        if t.grad_fn is not None:
            return self.labels[id(t.grad_fn)]
        if id(t) in self.labels:
            return self.labels[id(t)]
        return fmt(_number(t))

    def steps(self) -> list:
        return [Step(self.labels[id(n)], n.fn.name, [self.label(t) for t in self.inputs[id(n)]],
                     _number(self.values[id(n)]), n.fn.formula) for n in self.nodes]


def _evaluation_order(root: Node) -> list:
    """Nodes in the order a left-to-right evaluation made them (iterative post-order, args in order)."""
    order = []
    seen = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for edge in reversed(node.edges):
            if isinstance(edge, Node) and id(edge) not in seen:
                stack.append((edge, False))
    return order


class _Recorder:
    """The ``trace`` hook of every node: what the engine's sweep did at each one."""

    def __init__(self, graph: _Graph, local_formula: Callable) -> None:
        self.graph = graph
        self.local_formula = local_formula
        self.rows = []
        self.totals = {}

    def __call__(self, node: Node, g: Tensor, in_grads: tuple) -> None:
        local = self._local(node, g, in_grads)
        for position, (t, gi, d) in enumerate(zip(node.inputs, in_grads, local)):
            if gi is None:
                continue
            name = self.graph.label(t)
            total = self.totals.get(name)
            total = gi if total is None else total + gi
            self.totals[name] = total
            self.rows.append(Contribution(self.graph.labels[id(node)], _number(g), name, d,
                                          node.fn.formula, _number(gi), _number(total),
                                          self.local_formula(node, position)))

    @staticmethod
    def _local(node: Node, g: Tensor, in_grads: tuple) -> list:
        """The rule's local partials: the same rule run with a unit cotangent (scalar nodes only)."""
        if g.numel() != 1:
            return [None] * len(in_grads)
        with no_grad():
            unit = node.fn.backward(node, Tensor._make(g.xp.ones_like(g._data)))
        return [None if u is None else _number(u) for u in unit]


# ---------------------------------------------------------------------------- explain


def _variables(f) -> tuple:
    if isinstance(f, Expression):
        return f.variables
    params = inspect.signature(f).parameters.values()
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def explain(f: Callable | str, mode: str = "reverse", **point) -> Explanation:
    """Differentiate ``f`` at ``point`` and show the work.

    Args:
        f: a Python function of scalar tensors, named by its parameters (``lambda x, u: ...``),
            or an expression string in Ember's math language (``"3*x**5 + 2*u**2*k*x"``).
        mode: ``"reverse"`` (the forward trace, then one backward sweep) or ``"forward"`` (one
            sweep of dual numbers per input: each node's value and tangents).
        point: a value for every variable, e.g. ``x=2, u=4``.
    Returns:
        An ``Explanation``: the trace, the sweep(s) and the partial derivatives.
    """
    if mode not in ("reverse", "forward"):
        raise MathError(f"explain: mode must be 'reverse' or 'forward', got {mode!r}")
    if isinstance(f, str):
        f = Expression(f)
    names = _variables(f)
    missing = [n for n in names if n not in point]
    if missing:
        raise MissingValueError(f"explain: no value for {', '.join(missing)}")
    extra = [n for n in point if n not in names]
    if extra:
        raise MathError(f"explain: {', '.join(extra)} is not a variable of the function "
                        f"(it has {', '.join(names)})")
    if mode == "forward":
        return _explain_forward(f, names, point)
    leaves = {n: tensor(float(point[n]), dtype=dtypes.float64, requires_grad=True) for n in names}
    out = _run(f, leaves)
    graph = _Graph(out, leaves)
    sympy = _sympy()
    recorder = _Recorder(graph, _LocalFormulas(sympy, graph) if sympy else lambda node, position: None)
    symbolic = _symbolic(sympy, graph, out, names, point) if sympy else None
    grads = (None,) * len(leaves)
    for node in graph.nodes:
        node.trace = recorder
    try:
        if out.requires_grad:
            grads = _grad(out, tuple(leaves.values()), allow_unused=True)
    finally:
        for node in graph.nodes:
            node.trace = None
    gradient = {n: 0.0 if g is None else g.item() for n, g in zip(names, grads)}
    return Explanation(_text(f, names, symbolic), {n: float(point[n]) for n in names}, out.item(),
                       graph.steps(), recorder.rows, gradient, symbolic)


def _run(f, leaves: dict) -> Tensor:
    """``f`` at the leaves, recording its graph; it must give one number."""
    with enable_grad():
        out = f(**leaves) if isinstance(f, Expression) else f(*leaves.values())
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise MathError("explain: the function must return a single number (a one-element tensor)")
    return out


def _text(f, names: tuple, symbolic: dict | None) -> str:
    if isinstance(f, Expression):
        return f.source
    return _source_text(f, names) or (symbolic["function"]["expression"] if symbolic else _describe(f))


def _explain_forward(f, names: tuple, point: dict) -> Explanation:
    """Forward mode: one sweep per input on dual numbers, that input's tangent seeded with 1."""
    columns, gradient = [], {}
    graph = out = None
    for seed in names:
        with forward_ad.dual_level():
            leaves = {}
            for n in names:
                primal = tensor(float(point[n]), dtype=dtypes.float64)
                tangent = tensor(1.0 if n == seed else 0.0, dtype=dtypes.float64)
                leaves[n] = forward_ad.make_dual(primal, tangent).requires_grad_(True)
            out = _run(f, leaves)
            graph = _Graph(out, leaves)
            columns.append([_tangent(graph.values[id(node)]) for node in graph.nodes])
            gradient[seed] = _tangent(out)
    if graph is None:  # no variables: one plain run for the value
        out = _run(f, {})
        graph = _Graph(out, {})
    sympy = _sympy()
    symbolic = _symbolic(sympy, graph, out, names, point) if sympy else None
    tangents = [list(per_node) for per_node in zip(*columns)] if columns else \
        [[] for _ in graph.nodes]
    return Explanation(_text(f, names, symbolic), {n: float(point[n]) for n in names}, out.item(),
                       graph.steps(), [], gradient, symbolic, mode="forward", tangents=tangents)


def _tangent(t: Tensor) -> float:
    """The tangent of a dual number at the active level (0 where none reached it)."""
    tangent = forward_ad.unpack_dual(t).tangent
    return 0.0 if tangent is None else tangent.item()


def _sympy():
    """SymPy if installed (an optional extra), else None."""
    try:
        import sympy
    except ImportError:
        return None
    return sympy


def _source_text(f: Callable, names: tuple) -> str | None:
    """The expression a one-line lambda or ``def f(...): return expr`` computes, from its source."""
    try:
        source = textwrap.dedent(inspect.getsource(f))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    bodies = []
    for node in ast.walk(tree):
        args = getattr(node, "args", None)
        if not isinstance(args, ast.arguments) or tuple(a.arg for a in args.args) != names:
            continue
        if isinstance(node, ast.Lambda):
            bodies.append(node.body)
        elif isinstance(node, ast.FunctionDef) and node.name == f.__name__ and len(node.body) == 1 \
                and isinstance(node.body[0], ast.Return):
            bodies.append(node.body[0].value)
    return ast.get_source_segment(source, bodies[0]) if len(bodies) == 1 else None


def _describe(f: Callable) -> str:
    name = getattr(f, "__name__", "f")
    return "a Python function" if name == "<lambda>" else f"{name}(...)"


def _symbolic(sympy, graph: _Graph, out: Tensor, names: tuple, point: dict) -> dict | None:
    """The function and each partial as SymPy text and value at the point: ``{name: {"expression",
    "at_point"}}`` (None when the graph uses an op SymPy is not told about, or non-scalar values)."""
    symbols = {n: sympy.Symbol(n) for n in names}
    exprs = {}
    for node in graph.nodes:
        build = SYMPY_PRIMITIVES.get(node.fn.name)
        inputs = graph.inputs[id(node)]
        if build is None or any(t is not None and t.numel() != 1 for t in inputs):
            return None
        args = [_sympy_arg(sympy, t, exprs, graph, symbols) for t in inputs]
        exprs[id(node)] = build(sympy, *args)
    expr = exprs[id(out.grad_fn)] if out.grad_fn is not None else number_to_sympy(sympy, out.item())
    subs = {symbols[n]: number_to_sympy(sympy, point[n]) for n in names}
    result = {"function": {"expression": str(expr), "at_point": out.item()}}
    for n in names:
        d = sympy.diff(expr, symbols[n])
        result[n] = {"expression": str(d), "at_point": float(d.subs(subs))}
    return result


class _LocalFormulas:
    """A node's local partial with respect to one input position, written with the inputs' labels
    (``∂v1/∂x = 5*x**4``): SymPy differentiates the primitive's own formula in placeholders."""

    def __init__(self, sympy, graph: _Graph) -> None:
        self.sp = sympy
        self.graph = graph

    def __call__(self, node: Node, position: int) -> str | None:
        sp = self.sp
        build = SYMPY_PRIMITIVES.get(node.fn.name)
        inputs = self.graph.inputs[id(node)]
        if build is None or any(t is None or t.numel() != 1 for t in inputs):
            return None
        slots = [sp.Symbol(f"_a{i}") for i in range(len(inputs))]
        named = {}
        for slot, t in zip(slots, inputs):
            label = self.graph.label(t)
            named[slot] = sp.Symbol(label) if not _is_constant(t) else number_to_sympy(sp, t.item())
        return str(sp.diff(build(sp, *slots), slots[position]).subs(named))


def _is_constant(t: Tensor) -> bool:
    return t.grad_fn is None and not t.requires_grad


def _sympy_arg(sympy, t: Tensor, exprs: dict, graph: _Graph, symbols: dict):
    if t.grad_fn is not None:
        return exprs[id(t.grad_fn)]
    name = graph.labels.get(id(t))
    if name is not None:
        return symbols[name]
    return number_to_sympy(sympy, t.item())
