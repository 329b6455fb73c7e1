"""``ember grad`` and ``ember check``: derivatives and hand derivations from the command line.

    ember grad "3*x**5 + 2*u**2*k*x + l*x + l" --at x=2,u=4,k=3,l=1 [--explain [--forward]]
               [--jacobian] [--hessian]
    ember check "(y - (W*x + b))**2" --wrt W --claimed "-2*(y - (W*x + b))*x" [--at ...]

Expressions are in Ember's math language (``ember.lab.mathlang``): never evaluated as Python.
Bad input — a syntax error, an unknown name, a missing value, a point where the expression is
undefined — prints one line on stderr and exits with status 2. ``check`` exits 1 for a wrong claim.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from .. import dtypes
from ..autograd.functional import hessian, jacobian
from ..creation import tensor
from .derivative_check import check_derivative
from .explain import explain, fmt, markdown_table, text_table
from .mathlang import Expression, MathError, MissingValueError, UnknownNameError
from ..ops.shape import stack

BAD_INPUT = 2
WRONG_CLAIM = 1


def add_parsers(subparsers) -> None:
    """Register ``grad`` and ``check`` on an argparse subparsers object."""
    g = subparsers.add_parser("grad", help="partial derivatives of an expression at a point",
                              description="Partial derivatives (and Jacobian, Hessian) at a point.")
    g.add_argument("expression", help='e.g. "3*x**5 + 2*u**2*k*x + l*x + l"; "f1, f2" for several outputs')
    g.add_argument("--at", action="append", default=[], metavar="x=2,u=4",
                   help="the value of every variable (repeatable)")
    g.add_argument("--explain", action="store_true", help="show the forward trace and reverse sweep")
    g.add_argument("--forward", action="store_true",
                   help="with --explain: forward mode instead, one sweep of dual numbers per input")
    g.add_argument("--jacobian", action="store_true", help="print the Jacobian matrix")
    g.add_argument("--hessian", action="store_true", help="print the Hessian matrix")
    g.add_argument("--markdown", action="store_true", help="print tables in Markdown")
    g.add_argument("--html", metavar="OUT.html", help="also write the explanation as a page that steps "
                                                     "through both sweeps (self-contained HTML)")
    g.set_defaults(func=run_grad)
    c = subparsers.add_parser("check", help="check a claimed derivative against autograd",
                              description="Is CLAIMED the derivative of EXPRESSION with respect to WRT? "
                                          "Exits 0 if right, 1 if wrong, 2 on bad input.")
    c.add_argument("expression")
    c.add_argument("--wrt", required=True, help="the variable to differentiate with respect to")
    c.add_argument("--claimed", required=True, help="the claimed derivative")
    c.add_argument("--at", action="append", default=[], metavar="x=2,u=4",
                   help="also check at this point (a value for every variable)")
    c.set_defaults(func=run_check)


def parse_point(items: list) -> dict:
    """``["x=2,u=4", "k=3"]`` as ``{"x": 2.0, "u": 4.0, "k": 3.0}``; a MathError if malformed."""
    point = {}
    for item in items:
        for part in item.split(","):
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or not name.isidentifier():
                raise MathError(f"--at expects name=value pairs like x=2,u=4, got {part.strip()!r}")
            try:
                number = float(value)
            except ValueError:
                raise MathError(f"--at {name}: {value.strip()!r} is not a number") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise MathError(f"--at {name}: the value must be a finite number")
            if name in point:
                raise MathError(f"--at {name}: given twice ({point[name]:g} and {number:g})")
            point[name] = number
    return point


def _point_for(expr: Expression, point: dict) -> dict:
    """The values of the expression's variables, in its order; errors for missing or unknown ones."""
    unknown = [n for n in point if n not in expr.variables]
    if unknown:
        raise UnknownNameError(f"{', '.join(unknown)} is not a variable of the expression "
                               f"(it uses {', '.join(expr.variables) or 'none'})")
    missing = [n for n in expr.variables if n not in point]
    if missing:
        raise MissingValueError(f"no value for {', '.join(missing)}: give it with --at "
                                f"{','.join(f'{n}=...' for n in missing)}")
    return {n: point[n] for n in expr.variables}


def _vector_function(expr: Expression, names: list):
    """The expression as a function of one vector holding the variables' values in order."""

    def f(v):
        out = expr(**{n: v[i] for i, n in enumerate(names)})
        if isinstance(out, tuple):
            return stack(list(out))
        return out

    return f


def _output_names(expr: Expression) -> list:
    return ["f"] if expr.n_outputs == 1 else [f"f{i + 1}" for i in range(expr.n_outputs)]


def _matrix(headers: list, rows: list, markdown: bool) -> str:
    return markdown_table(headers, rows) if markdown else text_table(headers, rows)


def run_grad(args) -> int:
    """``ember grad``: value and partial derivatives; optionally explain, Jacobian, Hessian."""
    expr = Expression(args.expression)
    for flag in ("hessian", "explain", "html"):
        if getattr(args, flag) and expr.n_outputs != 1:
            raise MathError(f"--{flag} needs a single expression, not a tuple")
    if args.forward and not args.explain:
        raise MathError("--forward goes with --explain (it shows forward mode's sweeps)")
    point = _point_for(expr, parse_point(args.at))
    names = list(point)
    outs = _output_names(expr)
    f = _vector_function(expr, names)
    v = tensor(list(point.values()), dtype=dtypes.float64)
    value = expr(**point)
    values = value if isinstance(value, tuple) else (value,)
    where = ", ".join(f"{n}={fmt(x)}" for n, x in point.items())
    jac = jacobian(f, v, vectorize=True) if names else None
    for i, (name, val) in enumerate(zip(outs, values)):
        print(f"{name}({where}) = {fmt(val.item())}")
        row = jac if expr.n_outputs == 1 else jac[i]
        for j, var in enumerate(names):
            print(f"∂{name}/∂{var} = {fmt(row[j].item())}")
    if args.jacobian and names:
        rows = jac.reshape(len(outs), len(names)).tolist()
        print(f"\nJacobian at {where}")
        print(_matrix([""] + names, [[n] + [fmt(x) for x in r] for n, r in zip(outs, rows)], args.markdown))
    if args.hessian and names:
        h = hessian(f, v, vectorize=True).tolist()
        print(f"\nHessian at {where}")
        print(_matrix([""] + names, [[n] + [fmt(x) for x in r] for n, r in zip(names, h)], args.markdown))
    if args.explain or args.html:
        e = explain(expr, mode="forward" if args.forward else "reverse", **point)
    if args.explain:
        print()
        print(e.markdown() if args.markdown else e)
    if args.html:
        try:
            e.to_html(args.html)
        except OSError as exc:
            raise MathError(f"--html: cannot write {args.html}: {exc.strerror}") from None
        print(f"\nwrote {args.html}")
    return 0


def run_check(args) -> int:
    """``ember check``: the verdict on a claimed derivative; exit 1 when it is wrong."""
    point = parse_point(args.at)
    result = check_derivative(args.expression, args.wrt, args.claimed, **point)
    print(result)
    return 0 if result else WRONG_CLAIM


def expressions_as_positionals(argv: list) -> list:
    """``argv`` with every single-dash word of ``grad``/``check`` other than ``-h`` marked as a
    value (argparse would take ``"-2*x"`` for an unknown option): argparse treats a word holding
    a space as a positional, so one is prepended (the expression parser ignores it)."""
    if not argv or argv[0] not in ("grad", "check"):
        return list(argv)
    return [f" {a}" if a.startswith("-") and not a.startswith("--") and a != "-h" else a
            for a in argv]


def run(args, parser: argparse.ArgumentParser) -> int:
    """Run a parsed command; bad input becomes one line on stderr and exit status 2."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            status = args.func(args)
    except MathError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    return 0 if status is None else status
