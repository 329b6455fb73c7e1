"""ONNX conversions of whole modules, for layers whose traced ops lose what ONNX needs.

Convolutions trace to ``im2col`` and an embedding's indices to a NumPy index, so those modules
export as one ONNX node each (``Conv``, ``Gather``); normalisation and a few activations map to
their single ONNX op for a smaller, faster graph. ``emitter(module)`` returns the conversion for
a module, or None to trace through its ops instead. Adding a module is one entry in ``_TABLE``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import nn
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


def _conv_transpose(g: Graph, m, inputs: tuple, out) -> str:
    """ConvTranspose; the output padding (from ``output_size`` or the module) read off the shapes."""
    x = inputs[0]
    n = m.dims
    kernel, stride, dilation, pad = (list(v) for v in (m.kernel_size, m.stride, m.dilation, m.padding))
    smallest = [(i - 1) * s - 2 * p + d * (k - 1) + 1
                for i, s, p, d, k in zip(x.shape[2:], stride, pad, dilation, kernel)]
    extra = [o - low for o, low in zip(out.shape[2:], smallest)]
    names = [g.name(x), g.name(m.weight)] + ([g.name(m.bias)] if m.bias is not None else [])
    return g.node("ConvTranspose", names, kernel_shape=kernel, strides=stride, dilations=dilation,
                  pads=pad * 2, output_padding=extra[:n], group=m.groups)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad(g: Graph, m, inputs: tuple, out) -> str:
    """torch's (left, right, top, bottom, ...) from the last dim back, as ONNX's begins then ends."""
    x = inputs[0]
    mode = _PAD_MODES[m.mode]
    if mode == "wrap" and g.opset < 19:
        raise UnsupportedOperatorError(f"ember.onnx.export: {type(m).__name__} needs opset_version >= 19")
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for i in range(len(m.padding) // 2):
        begins[x.ndim - 1 - i], ends[x.ndim - 1 - i] = m.padding[2 * i], m.padding[2 * i + 1]
    names = [g.name(x), g.ints(begins + ends)]
    if mode == "constant":
        names.append(g.const(np.asarray(getattr(m, "value", 0.0), x.detach().numpy().dtype)))
    return g.node("Pad", names, mode=mode)


_RESIZE = {"nearest": ("nearest", "asymmetric"), "linear": ("linear", "pytorch_half_pixel"),
           "bilinear": ("linear", "pytorch_half_pixel"), "trilinear": ("linear", "pytorch_half_pixel")}


def _upsample(g: Graph, m, inputs: tuple, out) -> str:
    """Resize to the traced spatial size; the batch and channel dims come from the input at run time."""
    if m.mode not in _RESIZE:
        raise UnsupportedOperatorError(f"ember.onnx.export: Upsample mode '{m.mode}' has no ONNX conversion")
    mode, coordinates = _RESIZE[m.mode]
    if m.align_corners:
        coordinates = "align_corners"
    x = g.name(inputs[0])
    leading = g.node("Slice", [g.node("Shape", [x]), g.ints([0]), g.ints([2])])
    sizes = g.node("Concat", [leading, g.ints(out.shape[2:])], axis=0)
    attrs = {"nearest_mode": "floor"} if mode == "nearest" else {}
    return g.node("Resize", [x, "", "", sizes], mode=mode, coordinate_transformation_mode=coordinates,
                  **attrs)


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


# torch's gate blocks in ONNX's order: LSTM (i, f, g, o) -> (i, o, f, c); GRU (r, z, n) -> (z, r, h)
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_RECURRENT_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _gates(m, name: str) -> np.ndarray:
    """A weight or bias of ``m`` with its gate blocks in ONNX's order."""
    value = getattr(m, name).detach().numpy()
    blocks = np.split(value, len(_GATE_ORDER[m.mode]), axis=0)
    return np.concatenate([blocks[i] for i in _GATE_ORDER[m.mode]], axis=0)


def _recurrent(g: Graph, m, inputs: tuple, out) -> list:
    """nn.RNN / LSTM / GRU as one ONNX node per layer (both directions in it)."""
    x = inputs[0]
    states = inputs[1] if len(inputs) > 1 else None
    if states is not None and not isinstance(states, (tuple, list)):
        states = (states,)
    directions = 2 if m.bidirectional else 1
    seq = g.name(x)
    if m.batch_first:
        seq = g.node("Transpose", [seq], perm=[1, 0, 2])
    op = _RECURRENT_OP[m.mode]
    attrs = {"hidden_size": m.hidden_size, "direction": "bidirectional" if m.bidirectional else "forward"}
    if op == "GRU":
        attrs["linear_before_reset"] = 1  # torch applies the reset gate after the hidden matmul
    if op == "RNN":
        attrs["activations"] = ["Tanh" if m.mode == "RNN_TANH" else "Relu"] * directions
    finals: list[list] = [[], []]  # h_n and (LSTM) c_n pieces, one per layer
    for layer in range(m.num_layers):
        suffixes = [f"_l{layer}", f"_l{layer}_reverse"][:directions]
        w = np.stack([_gates(m, "weight_ih" + s) for s in suffixes])
        r = np.stack([_gates(m, "weight_hh" + s) for s in suffixes])
        if m.bias:
            b = np.stack([np.concatenate([_gates(m, "bias_ih" + s), _gates(m, "bias_hh" + s)])
                          for s in suffixes])
        else:
            b = np.zeros((directions, 2 * w.shape[1]), w.dtype)
        names = [seq, g.const(w, "W"), g.const(r, "R"), g.const(b, "B"), ""]
        for state in states or ():
            rows = g.ints([layer * directions]), g.ints([(layer + 1) * directions]), g.ints([0])
            names.append(g.node("Slice", [g.name(state), *rows]))
        count = 3 if op == "LSTM" else 2
        y, *last = g.node(op, names, outputs=count, **attrs)
        for piece, name in zip(finals, last):
            piece.append(name)
        # Y is (time, directions, batch, hidden): the next layer reads (time, batch, directions * hidden)
        seq = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])])
    if m.batch_first:
        seq = g.node("Transpose", [seq], perm=[1, 0, 2])
    ends = [g.node("Concat", piece, axis=0) for piece in finals if piece]
    return [seq] + ends


def _table() -> dict:
    table = {
        nn.Conv1d: (_conv, None), nn.Conv2d: (_conv, None),
        nn.AvgPool1d: (_avg_pool, None), nn.AvgPool2d: (_avg_pool, None),
        nn.AdaptiveAvgPool1d: (_adaptive_avg_pool, None), nn.AdaptiveAvgPool2d: (_adaptive_avg_pool, None),
        # BatchNorm without running statistics normalises by the batch: traced through its ops.
        nn.BatchNorm1d: (_batch_norm, lambda m, g: m.running_mean is not None),
        nn.BatchNorm2d: (_batch_norm, lambda m, g: m.running_mean is not None),
        nn.LayerNorm: (_layer_norm, lambda m, g: g.opset >= 17 and m.weight is not None),
        nn.Embedding: (_embedding, None),
        nn.Softmax: (_softmax("Softmax"), lambda m, g: m.dim is not None),
        nn.LogSoftmax: (_softmax("LogSoftmax"), lambda m, g: m.dim is not None),
        nn.Hardtanh: (_clip, None), nn.ReLU6: (_clip, None),
        nn.LeakyReLU: (_attr_activation("LeakyRelu", alpha="negative_slope"), None),
        nn.ELU: (_attr_activation("Elu", alpha="alpha"), None),
        nn.CELU: (_attr_activation("Celu", alpha="alpha"), None),
        nn.PReLU: (_prelu, None),
        nn.ConvTranspose1d: (_conv_transpose, None), nn.ConvTranspose2d: (_conv_transpose, None),
        # a scale factor keeps the spatial size fixed for a given input size; Resize gets it as sizes
        nn.Upsample: (_upsample, lambda m, g: m.size is not None or m.scale_factor is not None),
    }
    for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
        for dims in (1, 2, 3):
            table[getattr(nn, f"{kind}Pad{dims}d")] = (_pad, None)
    recurrent = (_recurrent, lambda m, g: m.proj_size == 0)  # a tensor input (not packed) is checked below
    for name in ("RNN", "LSTM", "GRU"):  # the sequence models (issue 18) where this Ember has them
        cls = getattr(nn, name, None)
        if cls is not None:
            table[cls] = recurrent
    return table


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
