"""ember.lab.mathlang and ember.check_derivative: the lecture's slip is flagged; hostile input refused."""
from __future__ import annotations

import builtins
import math

import pytest
import torch

import ember
from ember.lab.mathlang import (DomainError, MathError, MathSyntaxError, MissingValueError,
                            UnknownNameError, parse)

SLIP_EXPR = "(y - (W*x + b))**2"


def test_lecture_slip_is_flagged():
    r = ember.check_derivative(SLIP_EXPR, "W", "2*(y - (W*x + b))*W*x")
    assert not r and r.correct is False
    text = str(r)
    assert text.startswith("✗ wrong")
    assert r.counterexample is not None
    c = r.counterexample
    # The counterexample is real: recompute both sides there with torch.
    W, x, y, b = (torch.tensor(c["point"][n], dtype=torch.float64, requires_grad=n == "W") for n in "Wxyb")
    ((y - (W * x + b)) ** 2).backward()
    assert c["autograd"] == pytest.approx(W.grad.item(), rel=1e-12)
    assert c["claimed"] == pytest.approx((2 * (y - (W * x + b)) * W * x).item(), rel=1e-12)


def test_lecture_slip_shows_the_right_derivative():
    sympy = pytest.importorskip("sympy")
    r = ember.check_derivative(SLIP_EXPR, "W", "2*(y - (W*x + b))*W*x")
    W, x, y, b = sympy.symbols("W x y b")
    assert sympy.simplify(sympy.sympify(r.derivative) - (-2 * (y - (W * x + b)) * x)) == 0
    assert f"correct: d/dW ({SLIP_EXPR}) = {r.derivative}" in str(r)


@pytest.mark.parametrize("claimed", ["-2*(y - (W*x + b))*x", "−2*(y − (W·x + b))·x", "2*x*(W*x + b - y)",
                                     "-2*x*y + 2*W*x^2 + 2*b*x"])
def test_right_forms_are_accepted(claimed):
    r = ember.check_derivative(SLIP_EXPR, "W", claimed)
    assert r and r.correct and r.counterexample is None
    assert r.points_checked >= 64
    assert str(r).startswith("✓ right")


def test_given_point_is_checked_too():
    r = ember.check_derivative("3*x**2 + 15", "x", "6*x", x=3)
    assert r and r.at_point == {"point": {"x": 3.0}, "claimed": 18.0, "autograd": 18.0, "agrees": True}
    wrong = ember.check_derivative("x1**3 + x2**2 + 4*x1*x2 + 5", "x1", "3*x1**2 + 4*x1", x1=3, x2=4)
    assert not wrong and wrong.at_point["autograd"] == 43.0


def test_points_where_the_expression_is_undefined_are_skipped():
    assert ember.check_derivative("log(x)", "x", "1/x")
    assert ember.check_derivative("sqrt(x) * log(x)", "x", "log(x)/(2*sqrt(x)) + 1/sqrt(x)")
    assert not ember.check_derivative("sqrt(x)", "x", "1/sqrt(x)")


def test_without_sympy_the_numeric_answer_is_shown(without_sympy):
    r = ember.check_derivative(SLIP_EXPR, "W", "2*(y - (W*x + b))*W*x")
    assert not r and r.derivative is None
    assert "autograd" in str(r)


def test_check_derivative_argument_errors():
    with pytest.raises(UnknownNameError, match="'z' does not appear"):
        ember.check_derivative("x**2", "z", "2*x")
    with pytest.raises(UnknownNameError, match="uses q"):
        ember.check_derivative("x**2", "x", "2*q")
    with pytest.raises(MathError, match="needs a value for y"):
        ember.check_derivative("x*y", "x", "y", x=1)
    with pytest.raises(DomainError):
        ember.check_derivative("log(x)", "x", "1/x", x=-1)


def test_evaluation_matches_python_math():
    e = parse("3*x**5 + 2*u**2*k*x + l*x + l")
    assert e.variables == ("x", "u", "k", "l")
    assert e(x=2, u=4, k=3, l=1).item() == 291
    assert parse("exp(x) + ln(x) + sqrt(x) + sin(x)*cos(x) + tanh(x) + pi").evaluate({"x": 1.5}).item() == \
        pytest.approx(math.exp(1.5) + math.log(1.5) + math.sqrt(1.5) + math.sin(1.5) * math.cos(1.5)
                      + math.tanh(1.5) + math.pi, rel=1e-14)
    assert parse("x^2 − 2·x").evaluate({"x": 3}).item() == 3  # ^ is a power, with its precedence
    assert parse("-x^2")(x=3).item() == -9
    assert parse("x*y, x + y")(x=2, y=3)[1].item() == 5


@pytest.mark.parametrize("expr,value,message", [
    ("log(x - 3)", 2, "log needs a positive argument"),
    ("1/(x - 2)", 2, "division by zero"),
    ("sqrt(x - 5)", 2, "sqrt needs a non-negative argument"),
    ("(x - 4)**0.5", 2, "not a real number"),
    ("log(x - 2)", 2, "log"),
])
def test_domain_errors(expr, value, message):
    with pytest.raises(DomainError, match=message):
        parse(expr)(x=value)


def test_missing_value():
    with pytest.raises(MissingValueError, match="no value for y"):
        parse("x*y")(x=1)


# ---------------------------------------------------------------------------- hostile input

MALICIOUS = [
    ("__import__('os')", UnknownNameError, "unknown function '__import__'"),
    ("__import__('os').system('echo hi')", MathSyntaxError, "attribute access"),
    ("x.__class__", MathSyntaxError, "attribute access"),
    ("().__class__.__bases__[0].__subclasses__()", MathSyntaxError, "attribute access"),
    ("lambda: 1", MathSyntaxError, "lambda"),
    ("[x for x in range(9)]", MathSyntaxError, "comprehensions"),
    ("{x: 1 for x in y}", MathSyntaxError, "comprehensions"),
    ("(x for x in y)", MathSyntaxError, "generator"),
    ("9**9**9", MathSyntaxError, "exponent too large"),
    ("2**1000", MathSyntaxError, "exponent too large"),
    ("x**(10**10)", MathSyntaxError, "exponent too large"),
    ("x" * 5000, MathSyntaxError, "too long"),
    ("+".join(["x"] * 600), MathSyntaxError, "too long"),
    ("x[0]", MathSyntaxError, "subscripts"),
    ("open('/etc/passwd')", UnknownNameError, "unknown function 'open'"),
    ("eval('1')", UnknownNameError, "unknown function 'eval'"),
    ("exec('x=1')", UnknownNameError, "unknown function 'exec'"),
    ("getattr(x, 'y')", UnknownNameError, "unknown function 'getattr'"),
    ("exp(x=1)", MathSyntaxError, "keyword arguments"),
    ("exp(*x)", MathSyntaxError, "starred"),
    ("f'{x}'", MathSyntaxError, "f-strings"),
    ("(y := 2)", MathSyntaxError, ":="),
    ("x if y else 2", MathSyntaxError, "conditional"),
    ("x < 2", MathSyntaxError, "comparisons"),
    ("x and y", MathSyntaxError, "and"),
    ("not x", MathSyntaxError, "unary"),
    ("x % 2", MathSyntaxError, "operator"),
    ("x @ y", MathSyntaxError, "operator"),
    ("x << 2", MathSyntaxError, "operator"),
    ("'abc'", MathSyntaxError, "real numbers"),
    ("b'abc'", MathSyntaxError, "real numbers"),
    ("True", MathSyntaxError, "real numbers"),
    ("1j", MathSyntaxError, "real numbers"),
    ("1e400", MathSyntaxError, "number too large"),
    ("123456789012345678901234567890", MathSyntaxError, "number too large"),
    ("import os", MathSyntaxError, "syntax error"),
    ("x = 1", MathSyntaxError, "syntax error"),
    ("x; y", MathSyntaxError, "syntax error"),
    ("x +", MathSyntaxError, "syntax error"),
    ("2(x + 1)", MathSyntaxError, "implicit multiplication"),
    ("_secret", UnknownNameError, "'_'"),
    ("sin", MathSyntaxError, "is a function"),
    ("sin(x, y)", MathSyntaxError, "takes 1 argument"),
    ("exp(x)(y)", MathSyntaxError, "named functions"),
    ("[1, 2]", MathSyntaxError, "lists"),
    ("{1, 2}", MathSyntaxError, "sets"),
    ("x, (y, z)", MathSyntaxError, "top level"),
    ("exp(" * 50 + "x" + ")" * 50, MathSyntaxError, "nested too deeply"),
    ("-" * 100 + "x", MathSyntaxError, "nested too deeply"),
    ("x\x00", MathSyntaxError, "null bytes"),
    ("", MathSyntaxError, "empty"),
    ("await x", MathSyntaxError, "await"),
]


@pytest.mark.parametrize("source,kind,message", MALICIOUS, ids=[m[0][:30] for m in MALICIOUS])
def test_malicious_and_malformed_input_is_refused(source, kind, message):
    with pytest.raises(kind, match=message.replace("(", "\\(").replace("*", "\\*")) as info:
        parse(source)
    assert isinstance(info.value, ValueError)  # every refusal is a MathError, a ValueError
    assert "\n" not in str(info.value)  # one clear line


def test_refusal_happens_before_anything_runs(monkeypatch):
    """The parser never reaches eval/exec/compile, and builtins are never looked up."""
    def boom(*args, **kwargs):
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    for source, kind, _ in MALICIOUS:
        with pytest.raises(kind):
            parse(source)
    assert parse("x**2")(x=3).item() == 9


def test_non_string_input():
    with pytest.raises(MathSyntaxError, match="must be a string"):
        parse(42)
