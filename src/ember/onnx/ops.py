"""ONNX conversions of Ember's primitives, one entry per op name (``PRIMITIVES``).

An entry ``fn(g, call) -> value name`` emits the nodes that compute ``call.out`` from
``call.inputs`` (Ember tensors; ``g.name(t)`` is a tensor's value name) and ``call.kw``.
Adding an op to the exporter is adding one entry here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .graph import Graph, UnsupportedOperatorError, onnx_dtype


@dataclass
class Call:
    """One traced primitive call."""

    name: str
    inputs: tuple
    kw: dict
    out: object
    where: str  # the module it ran in, for error messages
    dynamic: tuple = ()  # which dims of ``out`` follow the batch size (dynamic_axes)


def _names(g: Graph, call: Call) -> list:
    return [g.name(t) for t in call.inputs]


def _unary(op_type: str, **attrs) -> Callable:
    return lambda g, call: g.node(op_type, _names(g, call)[:1], **attrs)


def _binary(op_type: str) -> Callable:
    return lambda g, call: g.node(op_type, _names(g, call)[:2])


def _arithmetic(op_type: str) -> Callable:
    """A binary op on ONNX's one element type: inputs of another dtype are cast to the result's
    (Ember promotes ``float32 * int64`` to float32, as torch; ONNX needs matching types)."""
    def emit(g, call):
        names = _names(g, call)[:2]
        want = call.out.dtype
        cast = [n if t.dtype == want else g.node("Cast", [n], to=onnx_dtype(want))
                for n, t in zip(names, call.inputs)]
        return g.node(op_type, cast)
    return emit


def _scalar_like(g: Graph, call: Call, value: float) -> str:
    return g.const(np.asarray(value, dtype=call.inputs[0].detach().numpy().dtype))


def _rsqrt(g, call):
    return g.node("Reciprocal", [g.node("Sqrt", _names(g, call))])


def _expm1(g, call):
    return g.node("Sub", [g.node("Exp", _names(g, call)), _scalar_like(g, call, 1.0)])


def _log1p(g, call):
    return g.node("Log", [g.node("Add", [_names(g, call)[0], _scalar_like(g, call, 1.0)])])


def _log_base(base: float) -> Callable:
    def emit(g, call):
        return g.node("Div", [g.node("Log", _names(g, call)), _scalar_like(g, call, math.log(base))])
    return emit


def _erfc(g, call):
    return g.node("Sub", [_scalar_like(g, call, 1.0), g.node("Erf", _names(g, call))])


def _gelu(g, call):
    """Exact GELU, x * (1 + erf(x / sqrt 2)) / 2, in the nodes of every opset (Gelu came in 20)."""
    x = _names(g, call)[0]
    cdf = g.node("Add", [g.node("Erf", [g.node("Mul", [x, _scalar_like(g, call, math.sqrt(0.5))])]),
                         _scalar_like(g, call, 1.0)])
    return g.node("Mul", [g.node("Mul", [x, cdf]), _scalar_like(g, call, 0.5)])


def _mish(g, call):
    x = _names(g, call)[0]
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])


def _ne(g, call):
    return g.node("Not", [g.node("Equal", _names(g, call)[:2])])


def _floor_divide(g, call):
    return g.node("Floor", [g.node("Div", _names(g, call)[:2])])


def _clamp(g, call):
    x = _names(g, call)[0]
    low, high = call.kw.get("min"), call.kw.get("max")
    bounds = ["" if b is None else _scalar_like(g, call, b) for b in (low, high)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return g.node("Clip", [x] + bounds)


def _identity(g, call):
    return g.node("Identity", _names(g, call)[:1])


def _linear(g, call):
    x, w = call.inputs[:2]
    names = _names(g, call)
    if x.ndim == 2:
        return g.node("Gemm", names, transB=1)
    out = g.node("MatMul", [names[0], g.node("Transpose", [names[1]], perm=[1, 0])])
    return g.node("Add", [out, names[2]]) if len(names) == 3 else out


def _reshape(g, call):
    """Reshape to the traced shape, leaving the dims that follow the batch size to the runtime."""
    x = call.inputs[0]
    shape = list(call.out.shape)
    free = [j for j, d in enumerate(call.dynamic) if d]
    if len(free) > 1:  # dims kept in place (same size, both dynamic) copy the input's at run time
        kept = g.dynamic.get(id(x), ())
        for j in list(free):
            if j < len(kept) and kept[j] and x.shape[j] == shape[j]:
                shape[j] = 0
                free.remove(j)
    if len(free) > 1:
        raise UnsupportedOperatorError(_refusal(call, f"a reshape to {tuple(call.out.shape)} with several "
                                                      "dims that follow the batch size"))
    for j in free:
        shape[j] = -1
    return g.node("Reshape", [g.name(x), g.ints(shape)])


def _expand(g, call):
    x = call.inputs[0]
    target = list(call.kw["shape"])
    pad = len(target) - x.ndim
    shape = [1 if i >= pad and x.shape[i - pad] == d else d for i, d in enumerate(target)]
    return g.node("Expand", [g.name(x), g.ints(shape)])


def _permute(g, call):
    return g.node("Transpose", _names(g, call), perm=list(call.kw["dims"]))


def _cat(g, call):
    return g.node("Concat", _names(g, call), axis=call.kw["axis"])


def _to_dtype(g, call):
    return g.node("Cast", _names(g, call), to=onnx_dtype(call.kw["dtype"]))


def _axes(call) -> list:
    axes = call.kw.get("axes")
    if axes is None:
        return list(range(call.inputs[0].ndim))
    return [axes] if isinstance(axes, int) else list(axes)


_AXES_AS_INPUT = {"ReduceSum": 13}  # the other reductions take their axes as an input from opset 18


def _reduce_node(g: Graph, op_type: str, x: str, axes: list, keep: bool) -> str:
    if g.opset >= _AXES_AS_INPUT.get(op_type, 18):
        return g.node(op_type, [x, g.ints(axes)], keepdims=int(keep))
    return g.node(op_type, [x], axes=axes, keepdims=int(keep))


def _reduce(op_type: str) -> Callable:
    def emit(g, call):
        return _reduce_node(g, op_type, _names(g, call)[0], _axes(call), bool(call.kw.get("keepdim", False)))
    return emit


def _variance(root: bool) -> Callable:
    """var / std: the mean of squared deviations, over ``n - correction`` values."""
    def emit(g, call):
        x = call.inputs[0]
        axes = _axes(call)
        if any(g.dynamic.get(id(x), ())[a:a + 1] == (True,) for a in axes):
            raise UnsupportedOperatorError(_refusal(call, "over a dim that follows the batch size"))
        count = int(np.prod([x.shape[a] for a in axes]))
        name = g.name(x)
        deviation = g.node("Sub", [name, _reduce_node(g, "ReduceMean", name, axes, True)])
        total = _reduce_node(g, "ReduceSum", g.node("Mul", [deviation, deviation]), axes,
                             bool(call.kw.get("keepdim", False)))
        divisor = max(count - call.kw.get("correction", 1), 0)
        out = g.node("Div", [total, _scalar_like(g, call, divisor)])
        return g.node("Sqrt", [out]) if root else out
    return emit


def _argmax(op_type: str) -> Callable:
    def emit(g, call):
        axis = call.kw.get("axis")
        x = _names(g, call)[0]
        if axis is None:  # over everything: flatten first
            x, axis = g.node("Reshape", [x, g.ints([-1])]), 0
        return g.node(op_type, [x], axis=axis, keepdims=int(bool(call.kw.get("keepdim", False))))
    return emit


def _log_softmax(g, call):
    return g.node("LogSoftmax", _names(g, call), axis=call.kw["axis"])


def _gather(g, call):
    return g.node("GatherElements", _names(g, call)[:2], axis=call.kw["axis"])


def _getitem(g, call):
    """Basic indexing: ints, slices (positive steps), ``...`` and ``None``; index arrays are refused."""
    x = call.inputs[0]
    idx = call.kw["idx"]
    idx = idx if isinstance(idx, tuple) else (idx,)
    if any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) or isinstance(i, bool) for i in idx):
        raise UnsupportedOperatorError(_refusal(call, "indexing with tensors or arrays"))
    used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if Ellipsis in idx:
        at = idx.index(Ellipsis)
        idx = idx[:at] + (slice(None),) * (x.ndim - used) + idx[at + 1:]
    idx = idx + (slice(None),) * (x.ndim - sum(1 for i in idx if i is not None))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = 0
    out_dim = 0
    for i in idx:
        if i is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(i, int):
            starts.append(i)
            ends.append(i + 1 if i != -1 else np.iinfo(np.int64).max)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif i != slice(None):
            start, stop, step = i.start, i.stop, 1 if i.step is None else i.step
            if step <= 0:
                raise UnsupportedOperatorError(_refusal(call, "slices with a non-positive step"))
            starts.append(0 if start is None else start)
            ends.append(np.iinfo(np.int64).max if stop is None else stop)
            axes.append(dim)
            steps.append(step)
            out_dim += 1
        else:
            out_dim += 1
        dim += 1
    out = g.name(x)
    if axes:
        out = g.node("Slice", [out, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        out = g.node("Squeeze", [out, g.ints(squeeze)])
    if unsqueeze:
        out = g.node("Unsqueeze", [out, g.ints(unsqueeze)])
    return out if out != g.name(x) else g.node("Identity", [out])


def _pow(g, call):
    names = _names(g, call)
    return g.node("Pow", names[:2])


def _max_pool(g, call):
    geom = call.kw["geom"]
    size, kernel, stride, dilation, lo, out = (list(v) for v in (geom.size, geom.kernel, geom.stride,
                                                                 geom.dilation, geom.lo, geom.out))
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    hi = [max(0, (o - 1) * s + sp - n - p) for o, s, sp, n, p in zip(out, stride, span, size, lo)]
    floor = [(n + p + h - sp) // s + 1 for n, p, h, sp, s in zip(size, lo, hi, span, stride)]
    return g.node("MaxPool", _names(g, call)[:1], kernel_shape=kernel, strides=stride, dilations=dilation,
                  pads=lo + hi, ceil_mode=int(floor != out))


def _where(g, call):
    return g.node("Where", _names(g, call)[:3])


PRIMITIVES: dict[str, Callable[[Graph, Call], str]] = {
    "neg": _unary("Neg"), "exp": _unary("Exp"), "log": _unary("Log"), "sqrt": _unary("Sqrt"),
    "tanh": _unary("Tanh"), "sigmoid": _unary("Sigmoid"), "relu": _unary("Relu"), "erf": _unary("Erf"),
    "abs": _unary("Abs"), "sin": _unary("Sin"), "cos": _unary("Cos"), "tan": _unary("Tan"),
    "asin": _unary("Asin"), "acos": _unary("Acos"), "atan": _unary("Atan"), "sinh": _unary("Sinh"),
    "cosh": _unary("Cosh"), "asinh": _unary("Asinh"), "acosh": _unary("Acosh"), "atanh": _unary("Atanh"),
    "reciprocal": _unary("Reciprocal"), "floor": _unary("Floor"), "ceil": _unary("Ceil"),
    "sign": _unary("Sign"), "round": _unary("Round"), "logical_not": _unary("Not"),
    "isnan": _unary("IsNaN"), "rsqrt": _rsqrt, "expm1": _expm1, "log1p": _log1p,
    "log2": _log_base(2.0), "log10": _log_base(10.0), "erfc": _erfc,
    "hardsigmoid": _unary("HardSigmoid", alpha=1.0 / 6, beta=0.5), "mish": _mish, "gelu": _gelu,
    "add": _arithmetic("Add"), "sub": _arithmetic("Sub"), "mul": _arithmetic("Mul"),
    "div": _arithmetic("Div"),
    "pow": _pow, "maximum": _arithmetic("Max"), "minimum": _arithmetic("Min"), "eq": _binary("Equal"),
    "ne": _ne, "gt": _binary("Greater"), "lt": _binary("Less"), "ge": _binary("GreaterOrEqual"),
    "le": _binary("LessOrEqual"), "logical_and": _binary("And"), "logical_or": _binary("Or"),
    "logical_xor": _binary("Xor"), "floor_divide": _floor_divide, "where": _where, "clamp": _clamp,
    "clone": _identity, "contiguous": _identity, "matmul": _binary("MatMul"), "linear": _linear,
    "linear_bias": _linear, "reshape": _reshape, "expand": _expand, "permute": _permute, "cat": _cat,
    "to_dtype": _to_dtype, "sum": _reduce("ReduceSum"), "amax": _reduce("ReduceMax"),
    "amin": _reduce("ReduceMin"), "prod": _reduce("ReduceProd"), "logsumexp": _reduce("ReduceLogSumExp"),
    "var": _variance(False), "std": _variance(True), "argmax": _argmax("ArgMax"),
    "argmin": _argmax("ArgMin"), "log_softmax": _log_softmax, "gather": _gather, "getitem": _getitem,
    "max_pool": _max_pool,
}

_HINTS = {
    "im2col": "convolutions and average pooling export from nn.Conv1d/Conv2d and nn.AvgPool1d/2d "
              "modules (the functional forms trace to im2col)",
}


def _refusal(call: Call, what: str = "") -> str:
    detail = f" ({what})" if what else ""
    hint = f"; {_HINTS[call.name]}" if call.name in _HINTS else ""
    return (f"ember.onnx.export: the op '{call.name}'{detail} called in {call.where} has no ONNX "
            f"conversion{hint}")


def convert(g: Graph, call: Call) -> str:
    """The value name of ``call.out`` after emitting its nodes; refuses ops with no entry."""
    emit = PRIMITIVES.get(call.name)
    if emit is None:
        raise UnsupportedOperatorError(_refusal(call))
    return emit(g, call)
