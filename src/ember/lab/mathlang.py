"""A small math language for derivations typed by people: ``3*x**5 + 2*u**2*k*x + l*x + l``.

Parsed with Python's ``ast`` and checked against a whitelist (numbers, variables, ``+ - * / **``
(``^`` means ``**``), unary minus, calls of a few named functions, and at the top level a tuple
of expressions); nothing is ever passed to ``eval`` or ``exec``. Limits on length, nesting,
numbers and constant exponents keep hostile input cheap to refuse. Expressions evaluate to
Ember tensors, so autograd differentiates them; SymPy (optional) restates them symbolically.
"""
from __future__ import annotations

import ast
import math
import warnings
from dataclasses import dataclass
from typing import Callable

from .. import dtypes
from ..creation import tensor
from ..ops import elementwise as E
from ..ops.registry import OPS, PRIMITIVES
from ..tensor import Tensor

MAX_LENGTH = 1000
MAX_DEPTH = 40
MAX_NUMBER = 1e15
MAX_EXPONENT = 100
CONSTANTS = {"pi": math.pi}

# Math notation, rewritten to Python's before parsing ("^" becomes "**", keeping its precedence).
_SYMBOLS = {"·": "*", "⋅": "*", "×": "*", "−": "-", "–": "-", "÷": "/", "^": "**", "²": "**2", "³": "**3"}


class MathError(ValueError):
    """An expression that cannot be used; the message says what is wrong, on one line."""


class MathSyntaxError(MathError):
    """Not a valid expression, or uses a construct outside the whitelist."""


class UnknownNameError(MathError):
    """A name that is neither a variable of the expression nor an allowed function."""


class MissingValueError(MathError):
    """A variable that was given no value."""


class DomainError(MathError):
    """The expression is undefined at the point (log of a negative, division by zero, ...)."""


# ---------------------------------------------------------------------------- the vocabulary


@dataclass(frozen=True)
class Function:
    """An allowed function: its Ember op, its SymPy form, and what its argument must satisfy."""

    ember: Callable
    sympy: Callable
    domain: str = ""


FUNCTIONS: dict[str, Function] = {
    op.name: Function(op.fn, op.sympy, op.domain) for op in OPS.values() if op.math
}  # the ops declared with ``math=True``
ALIASES = {"ln": "log"}

# Binary operators: (Ember op, SymPy form, symbol shown in messages).
_BINARY = {
    ast.Add: (E.add, lambda a, b: a + b, "+"),
    ast.Sub: (E.sub, lambda a, b: a - b, "-"),
    ast.Mult: (E.mul, lambda a, b: a * b, "*"),
    ast.Div: (E.div, lambda a, b: a / b, "/"),
    ast.Pow: (E.pow, lambda a, b: a ** b, "**"),
}

# The symbolic forms by primitive name, for turning a recorded graph into SymPy (explain).
SYMPY_PRIMITIVES: dict[str, Callable] = {p.name: p.sympy for p in PRIMITIVES.values() if p.sympy}

_REFUSED = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "subscripts (a[i]) are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "starred arguments (*a) are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "conditional expressions (a if c else b) are not allowed",
    ast.List: "lists are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Tuple: "tuples are only allowed at the top level (f1, f2)",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
    ast.keyword: "keyword arguments are not allowed",
}


# ---------------------------------------------------------------------------- parsing and checks


def _normalize(source: str) -> str:
    for symbol, ascii_op in _SYMBOLS.items():
        source = source.replace(symbol, ascii_op)
    return source


def _parse_tree(source: str) -> ast.Expression:
    if not isinstance(source, str):
        raise MathSyntaxError(f"an expression must be a string, not {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise MathSyntaxError(f"expression too long ({len(source)} characters; the limit is {MAX_LENGTH})")
    if not source.strip():
        raise MathSyntaxError("empty expression")
    try:
        return ast.parse(_normalize(source).strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise MathSyntaxError(f"syntax error{where}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise MathSyntaxError(f"cannot parse the expression: {exc}") from None


def _check_depth(root: ast.AST) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` (checked iteratively, before any recursion)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MathSyntaxError(f"expression nested too deeply (the limit is {MAX_DEPTH} levels)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _constant_value(node: ast.AST) -> float | None:
    """The value of a sub-expression made only of numbers, or None; huge powers are not computed."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _constant_value(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        a, b = _constant_value(node.left), _constant_value(node.right)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Pow) and abs(b) > MAX_EXPONENT:
            return math.inf
        try:
            return float(_BINARY[type(node.op)][1](a, b))
        except (OverflowError, ZeroDivisionError, TypeError):
            return math.inf
    return None


class _Checker(ast.NodeVisitor):
    """Walks a parsed expression and raises on anything outside the whitelist."""

    def __init__(self, source: str) -> None:
        self.source = source

    def generic_visit(self, node: ast.AST) -> None:
        message = _REFUSED.get(type(node), f"{type(node).__name__} is not allowed in an expression")
        raise MathSyntaxError(message)

    def visit_Expression(self, node: ast.Expression) -> None:
        body = node.body
        parts = body.elts if isinstance(body, ast.Tuple) else [body]
        if not parts:
            raise MathSyntaxError("empty expression")
        for part in parts:
            self.visit(part)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINARY:
            raise MathSyntaxError(f"operator {_op_text(self.source, node)!r} is not allowed "
                                  "(use + - * / ** or ^)")
        if isinstance(node.op, ast.Pow):
            exponent = _constant_value(node.right)
            if exponent is not None and not abs(exponent) <= MAX_EXPONENT:
                shown = "too large to compute" if math.isinf(exponent) else f"{exponent:g}"
                raise MathSyntaxError(f"exponent too large ({shown}; the limit is {MAX_EXPONENT})")
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise MathSyntaxError("only unary + and - are allowed ('not' and '~' are not)")
        self.visit(node.operand)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MathSyntaxError(f"only real numbers are allowed as constants, not {value!r:.40}")
        if not abs(value) <= MAX_NUMBER:
            raise MathSyntaxError(f"number too large (the limit is {MAX_NUMBER:g})")

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("_"):
            raise UnknownNameError(f"names starting with '_' are not allowed: {name!r}")
        if _function_name(name) is not None:
            raise MathSyntaxError(f"{name} is a function: call it as {name}(...)")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Constant):
            raise MathSyntaxError(f"{_op_text(self.source, node)!r} looks like implicit multiplication; "
                                  f"write {func.value!r}*(...)")
        if not isinstance(func, ast.Name):
            raise MathSyntaxError(_REFUSED.get(type(func), "only calls of named functions are allowed, "
                                                           "e.g. sin(x)"))
        name = _function_name(func.id)
        if name is None:
            allowed = ", ".join(allowed_functions())
            raise UnknownNameError(f"unknown function {func.id!r} (allowed: {allowed})")
        if node.keywords:
            raise MathSyntaxError(f"keyword arguments are not allowed (in the call of {func.id})")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise MathSyntaxError("starred arguments (*a) are not allowed")
        if len(node.args) != 1:
            raise MathSyntaxError(f"{func.id} takes 1 argument, got {len(node.args)}")
        self.visit(node.args[0])


def _function_name(name: str) -> str | None:
    name = ALIASES.get(name, name)
    return name if name in FUNCTIONS else None


def allowed_functions() -> list:
    """The function names the language accepts (with aliases)."""
    return sorted(list(FUNCTIONS) + list(ALIASES))


def _op_text(source: str, node: ast.AST) -> str:
    return ast.get_source_segment(source, node) or type(node).__name__


def _variables(tree: ast.Expression) -> tuple:
    """Variable names in order of first appearance."""
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in CONSTANTS]
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = sorted((n for n in names if id(n) not in called), key=lambda n: (n.lineno, n.col_offset))
    return tuple(dict.fromkeys(n.id for n in names))


# ---------------------------------------------------------------------------- expressions


class Expression:
    """A checked expression: its variables, Ember evaluation and SymPy form.

    ``expr(x=t1, y=t2)`` evaluates with Ember tensors (or numbers); a tuple expression
    ``"f1, f2"`` evaluates to a tuple. Evaluation raises ``DomainError`` where a value is
    undefined, unless ``evaluate(values, strict=False)`` (then such values are NaN or inf).
    """

    def __init__(self, source: str) -> None:
        tree = _parse_tree(source)
        _check_depth(tree)
        self.source = _normalize(source).strip()
        _Checker(self.source).visit(tree)
        self.tree = tree
        self.parts = tree.body.elts if isinstance(tree.body, ast.Tuple) else None
        self.variables = _variables(tree)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    @property
    def n_outputs(self) -> int:
        return 1 if self.parts is None else len(self.parts)

    def __call__(self, **values):
        return self.evaluate(values)

    def evaluate(self, values: dict, strict: bool = True):
        """The value(s) with ``values`` (name -> tensor or number) for the variables."""
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise MissingValueError(f"no value for {', '.join(missing)} (the expression uses "
                                    f"{', '.join(self.variables)})")
        env = {name: _as_tensor(value) for name, value in values.items()}
        evaluator = _Evaluator(self.source, env, strict)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.parts is None:
                return evaluator.eval(self.tree.body)
            return tuple(evaluator.eval(p) for p in self.parts)

    def to_sympy(self):
        """The expression in SymPy (imported here: it is an optional extra), a tuple for tuples."""
        import sympy

        convert = _SympyConverter(sympy)
        if self.parts is None:
            return convert.eval(self.tree.body)
        return tuple(convert.eval(p) for p in self.parts)


def parse(source: str) -> Expression:
    """Parse and check an expression; raises a ``MathError`` saying what is wrong."""
    return Expression(source)


def _as_tensor(value) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MathError(f"a variable's value must be a number, got {value!r:.40}") from None
    return tensor(number, dtype=dtypes.float64)


class _Evaluator:
    """Evaluates a checked tree with Ember ops (recursion depth is bounded by ``MAX_DEPTH``)."""

    def __init__(self, source: str, env: dict, strict: bool) -> None:
        self.source = source
        self.env = env
        self.strict = strict

    def eval(self, node: ast.AST) -> Tensor:
        if isinstance(node, ast.Constant):
            return tensor(float(node.value), dtype=dtypes.float64)
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return tensor(CONSTANTS[node.id], dtype=dtypes.float64)
            return self.env[node.id]
        if isinstance(node, ast.UnaryOp):
            value = self.eval(node.operand)
            return E.neg(value) if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            a, b = self.eval(node.left), self.eval(node.right)
            return self._checked(node, _BINARY[type(node.op)][0](a, b), (a, b), "")
        name = _function_name(node.func.id)
        arg = self.eval(node.args[0])
        fn = FUNCTIONS[name]
        return self._checked(node, fn.ember(arg), (arg,), fn.domain)

    def _checked(self, node: ast.AST, result: Tensor, operands: tuple, domain: str) -> Tensor:
        """``result``, or a ``DomainError`` if it is undefined where its operands were finite."""
        if not self.strict or _finite(result):
            return result
        if not all(_finite(o) for o in operands):
            return result
        raise DomainError(_domain_message(self.source, node, operands, result, domain))


def _finite(t: Tensor) -> bool:
    return bool(t.xp.isfinite(t._data).all())


def _domain_message(source: str, node: ast.AST, operands: tuple, result: Tensor, domain: str) -> str:
    """Why ``node`` has no finite value here: a NaN is undefined, an infinity overflowed."""
    text = _op_text(source, node)
    undefined = bool(result.xp.isnan(result._data).any())
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _has_zero(operands[1]):
        reason = "division by zero"
    elif isinstance(node, ast.BinOp):
        a, b = (f"({_short(o)})" if o.numel() == 1 and o.item() < 0 else _short(o) for o in operands)
        what = "is not a real number" if undefined else "is too large for float64"
        reason = f"{a} {_BINARY[type(node.op)][2]} {b} {what}"
    else:
        call = f"{node.func.id}({', '.join(_short(o) for o in operands)})"
        what = "is undefined" if undefined else ("is infinite" if domain else "is too large for float64")
        reason = f"{call} {what}" + (f": {domain}" if domain else "")
    return f"{text} has no value at this point ({reason})"


def _has_zero(t: Tensor) -> bool:
    return bool((t._data == 0).any())


def _short(t: Tensor) -> str:
    if t.numel() == 1:
        return f"{t.item():g}"
    return f"tensor of shape {tuple(t.shape)}"


class _SympyConverter:
    """A checked tree as a SymPy expression (integers stay exact)."""

    def __init__(self, sympy) -> None:
        self.sp = sympy

    def eval(self, node: ast.AST):
        sp = self.sp
        if isinstance(node, ast.Constant):
            return number_to_sympy(sp, node.value)
        if isinstance(node, ast.Name):
            return sp.pi if node.id == "pi" else sp.Symbol(node.id)
        if isinstance(node, ast.UnaryOp):
            value = self.eval(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)][1](self.eval(node.left), self.eval(node.right))
        return FUNCTIONS[_function_name(node.func.id)].sympy(sp, self.eval(node.args[0]))


def number_to_sympy(sp, value: float):
    """An exact SymPy integer for whole numbers, a SymPy float otherwise."""
    if float(value).is_integer():
        return sp.Integer(int(value))
    return sp.Float(value)
