"""ONNX conversions of whole modules, for layers whose traced ops lose what ONNX needs.

Convolutions trace to ``im2col`` and an embedding's indices to a NumPy index, so those modules
export as one ONNX node each (``Conv``, ``Gather``); normalisation and a few activations map to
their single ONNX op for a smaller, faster graph. ``emitter(module)`` returns the conversion for
a module, or None to trace through its ops instead. Adding a module is one entry in ``_TABLE``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .graph import Graph, UnsupportedOperatorError


def _tuple(value, n: int) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value] * n


def _conv(g: Graph, m, inputs: tuple, out) -> str:
    if m.padding_mode != "zeros":
        raise UnsupportedOperatorError(f"ember.onnx.export: {type(m).__name__} with padding_mode="
                                       f"'{m.padding_mode}' has no ONNX conversion")
    x = inputs[0]
    n = m.dims
    kernel, stride, dilation = list(m.kernel_size), _tuple(m.stride, n), _tuple(m.dilation, n)
    if isinstance(m.padding, str):  # 'same' / 'valid': the pads the traced shapes imply
        total = [(o - 1) * s + d * (k - 1) + 1 - i
                 for o, s, d, k, i in zip(out.shape[2:], stride, dilation, kernel, x.shape[2:])]
        lo = [t // 2 for t in total]
        pads = lo + [t - low for t, low in zip(total, lo)]
    else:
        pads = _tuple(m.padding, n) * 2
    names = [g.name(x), g.name(m.weight)] + ([g.name(m.bias)] if m.bias is not None else [])
    return g.node("Conv", names, kernel_shape=kernel, strides=stride, dilations=dilation, pads=pads,
                  group=m.groups)


def _avg_pool(g: Graph, m, inputs: tuple, out) -> str:
    n = inputs[0].ndim - 2
    if m.divisor_override is not None:
        raise UnsupportedOperatorError("ember.onnx.export: AvgPool with divisor_override has no ONNX "
                                       "conversion")
    kernel = _tuple(m.kernel_size, n)
    stride = _tuple(m.stride, n)
    return g.node("AveragePool", [g.name(inputs[0])], kernel_shape=kernel, strides=stride,
                  pads=_tuple(m.padding, n) * 2, ceil_mode=int(m.ceil_mode),
                  count_include_pad=int(m.count_include_pad))


def _adaptive_avg_pool(g: Graph, m, inputs: tuple, out) -> str:
    x = inputs[0]
    sizes, outs = list(x.shape[2:]), list(out.shape[2:])
    if all(o == 1 for o in outs):
        return g.node("GlobalAveragePool", [g.name(x)])
    if any(s % o for s, o in zip(sizes, outs)):
        raise UnsupportedOperatorError(
            f"ember.onnx.export: {type(m).__name__} from {sizes} to {outs} (not a whole factor) has no "
            "ONNX conversion")
    kernel = [s // o for s, o in zip(sizes, outs)]
    return g.node("AveragePool", [g.name(x)], kernel_shape=kernel, strides=kernel)


def _batch_norm(g: Graph, m, inputs: tuple, out) -> str:
    c = m.num_features
    dtype = inputs[0].detach().numpy().dtype
    scale = g.name(m.weight) if m.weight is not None else g.const(np.ones(c, dtype))
    shift = g.name(m.bias) if m.bias is not None else g.const(np.zeros(c, dtype))
    return g.node("BatchNormalization", [g.name(inputs[0]), scale, shift, g.name(m.running_mean),
                                         g.name(m.running_var)], epsilon=m.eps)


def _layer_norm(g: Graph, m, inputs: tuple, out) -> str:
    names = [g.name(inputs[0]), g.name(m.weight)] + ([g.name(m.bias)] if m.bias is not None else [])
    return g.node("LayerNormalization", names, axis=-len(m.normalized_shape), epsilon=m.eps)


def _embedding(g: Graph, m, inputs: tuple, out) -> str:
    if m.max_norm is not None:
        raise UnsupportedOperatorError("ember.onnx.export: Embedding with max_norm has no ONNX conversion")
    return g.node("Gather", [g.name(m.weight), g.name(inputs[0])], axis=0)


def _softmax(op_type: str) -> Callable:
    def emit(g: Graph, m, inputs: tuple, out) -> str:
        return g.node(op_type, [g.name(inputs[0])], axis=m.dim)
    return emit


def _clip(g: Graph, m, inputs: tuple, out) -> str:
    dtype = inputs[0].detach().numpy().dtype
    bounds = [g.const(np.asarray(v, dtype)) for v in (m.min_val, m.max_val)]
    return g.node("Clip", [g.name(inputs[0])] + bounds)


def _attr_activation(op_type: str, **attrs: str) -> Callable:
    """An activation whose ONNX attributes are module attributes (``alpha="negative_slope"``)."""
    def emit(g: Graph, m, inputs: tuple, out) -> str:
        return g.node(op_type, [g.name(inputs[0])], **{k: float(getattr(m, v)) for k, v in attrs.items()})
    return emit


def _prelu(g: Graph, m, inputs: tuple, out) -> str:
    x = inputs[0]
    slope = m.weight.detach().numpy()
    if slope.size > 1 and x.ndim > 2:
        slope = slope.reshape((-1,) + (1,) * (x.ndim - 2))
    return g.node("PRelu", [g.name(x), g.const(slope, "prelu_slope")])


def _table() -> dict:
    from .. import nn as t

    return {
        t.Conv1d: (_conv, None), t.Conv2d: (_conv, None),
        t.AvgPool1d: (_avg_pool, None), t.AvgPool2d: (_avg_pool, None),
        t.AdaptiveAvgPool1d: (_adaptive_avg_pool, None), t.AdaptiveAvgPool2d: (_adaptive_avg_pool, None),
        # BatchNorm without running statistics normalises by the batch: traced through its ops.
        t.BatchNorm1d: (_batch_norm, lambda m, g: m.running_mean is not None),
        t.BatchNorm2d: (_batch_norm, lambda m, g: m.running_mean is not None),
        t.LayerNorm: (_layer_norm, lambda m, g: g.opset >= 17 and m.weight is not None),
        t.Embedding: (_embedding, None),
        t.Softmax: (_softmax("Softmax"), lambda m, g: m.dim is not None),
        t.LogSoftmax: (_softmax("LogSoftmax"), lambda m, g: m.dim is not None),
        t.Hardtanh: (_clip, None), t.ReLU6: (_clip, None),
        t.LeakyReLU: (_attr_activation("LeakyRelu", alpha="negative_slope"), None),
        t.ELU: (_attr_activation("Elu", alpha="alpha"), None),
        t.CELU: (_attr_activation("Celu", alpha="alpha"), None),
        t.PReLU: (_prelu, None),
    }


_CACHE: dict = {}


def emitter(module, g: Graph) -> Callable | None:
    """The whole-module conversion for ``module`` (its exact type), or None to trace its ops."""
    if not _CACHE:
        _CACHE.update(_table())
    entry = _CACHE.get(type(module))
    if entry is None:
        return None
    emit, applies = entry
    return emit if applies is None or applies(module, g) else None
