"""Fuzz the elementwise ops against torch: edge values, every dtype, broadcasting and not."""
from __future__ import annotations

import numpy as np
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


UNARY_OPERATORS = {"-": lambda a: -a, "+": lambda a: +a, "~": lambda a: ~a, "abs()": lambda a: abs(a)}


def _fn(lib, name):
    return getattr(lib, name, None)


@budget(500)
@given(name=st.sampled_from(UNARY), x=tensor_arrays())
def test_unary(name, x):
    if _fn(ember, name) is None:
        return  # not in Ember yet
    check(name, _fn(ember, name), _fn(torch, name), (x,))


@budget(100)
@given(op=st.sampled_from(sorted(UNARY_OPERATORS)), x=tensor_arrays())
def test_unary_operators(op, x):
    check(f"operator {op}", UNARY_OPERATORS[op], UNARY_OPERATORS[op], (x,))


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
    if _fn(ember, name) is None or _quotient_overflows(name, operands) or \
            _scalar_exponent_flushes(name, operands):
        return
    check(name, _fn(ember, name), _fn(torch, name), operands, grads=_grads_comparable(name, operands))


@budget(250)
@given(op=st.sampled_from(sorted(OPERATORS)), operands=binary_operands())
def test_operators(op, operands):
    if _quotient_overflows(op, operands) or _scalar_exponent_flushes(op, operands):
        return
    check(f"operator {op}", OPERATORS[op], OPERATORS[op], operands,
          grads=_grads_comparable("pow" if op == "**" else op, operands))


def _grads_comparable(name, operands) -> bool:
    """Where torch's pow gradient is an artifact, compare the forward only.

    torch's pow(x, False) backward skips its exponent-0 rule (nan at x = 0); and with operands
    of two dtypes torch evaluates ``exponent - 1`` in the exponent's own (narrower) dtype, so
    (-6.3) ** 1e-8 gets a finite gradient in float64. Ember differentiates the promoted op.
    """
    if name != "pow":
        return True
    x, y = operands
    mixed = isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.dtype != y.dtype
    return not (isinstance(y, bool) or mixed)


def _scalar_exponent_flushes(name, operands) -> bool:
    """torch keeps a Python float base or exponent of pow in double precision; Ember casts it to
    the tensor's dtype, as every other op does. They differ only for numbers that flush to 0
    there (5e-324 in float32)."""
    if name not in ("pow", "**"):
        return False
    for tensor, number in (operands, operands[::-1]):
        if isinstance(tensor, np.ndarray) and isinstance(number, float):
            target = tensor.dtype.type if tensor.dtype.kind == "f" else np.float32  # the result dtype
            return number != 0 and target(number) == 0
    return False


def _quotient_overflows(name, operands) -> bool:
    """torch's float remainder/floor_divide give nan when x / y overflows (NumPy the true value)."""
    if name not in ("remainder", "floor_divide", "%", "//"):
        return False
    # divide in the op's dtype: the float array's (float32 for integers); a Python number adapts
    floats = [v.dtype for v in operands if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    dtype = max(floats, key=lambda d: d.itemsize) if floats else np.dtype(np.float32)
    x, y = (v.astype(dtype) if isinstance(v, np.ndarray) else v for v in operands)
    with np.errstate(all="ignore"):
        try:
            q = abs(x) / abs(y)  # builtin abs keeps a Python number "weak" for NumPy
        except ValueError:  # shapes that do not broadcast: both libraries raise
            return False
    return bool((np.isfinite(x) & np.isfinite(y) & (np.asarray(y) != 0) & np.isinf(q)).any())
