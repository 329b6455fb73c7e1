"""Fuzz the elementwise ops against torch: edge values, every dtype, broadcasting and not."""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

import ember
from fuzzlib import DTYPES, arrays, budget, check, scalars, shape_pairs, tensor_arrays

UNARY = ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "reciprocal", "sin",
         "cos", "tan", "tanh", "sigmoid", "relu", "abs", "sign", "floor", "ceil", "round", "trunc",
         "neg", "square", "isnan", "isinf", "isfinite", "logical_not", "bitwise_not"]

BINARY = ["add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "maximum", "minimum",
          "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
          "bitwise_and", "bitwise_or", "bitwise_xor", "atan2", "fmod", "hypot", "copysign"]

# Python operators on tensors: ``a OP b`` must match torch's for the same operands.
OPERATORS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "**": lambda a, b: a ** b, "&": lambda a, b: a & b, "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b, "==": lambda a, b: a == b, "<": lambda a, b: a < b,
}


def _fn(lib, name):
    return getattr(lib, name, None)


@budget(500)
@given(name=st.sampled_from(UNARY), x=tensor_arrays())
def test_unary(name, x):
    if _fn(ember, name) is None:
        return  # not in Ember yet
    check(name, _fn(ember, name), _fn(torch, name), (x,))


@st.composite
def binary_operands(draw):
    """Two operands: tensor/tensor (any dtypes, shapes paired), tensor/scalar or scalar/tensor."""
    kind = draw(st.sampled_from(["tt", "tt", "ts", "st"]))
    if kind == "tt":
        sa, sb = draw(shape_pairs())
        a = draw(arrays(draw(st.sampled_from(DTYPES)), sa))
        b = draw(arrays(draw(st.sampled_from(DTYPES)), sb))
        return a, b
    t = draw(tensor_arrays())
    s = draw(scalars())
    return (t, s) if kind == "ts" else (s, t)


@budget(600)
@given(name=st.sampled_from(BINARY), operands=binary_operands())
def test_binary(name, operands):
    if _fn(ember, name) is None:
        return
    check(name, _fn(ember, name), _fn(torch, name), operands)


@budget(250)
@given(op=st.sampled_from(sorted(OPERATORS)), operands=binary_operands())
def test_operators(op, operands):
    check(f"operator {op}", OPERATORS[op], OPERATORS[op], operands)
