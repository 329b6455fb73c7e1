"""Convolutions as im2col + one matrix product, and unfold/fold, for any number of spatial dims.

``conv`` unfolds the padded input into columns (``window.im2col``), multiplies them by the
weight in a single (batched) GEMM and reshapes; ``conv_transpose`` is the same product run
backwards into ``window.col2im``. Both are composites of primitives that are each other's
derivative, so gradients of every order come without rules of their own.
"""
from __future__ import annotations

from ..tensor import Tensor
from ..autograd.engine import torch_backward
from .. import dtypes
from . import elementwise as E
from . import linalg as L
from . import precision
from . import shape as S
from . import window
from .window import col2im, im2col, make_geometry
from .registry import declare
from .tensor_args import NotATensorError

SPATIAL_NAMES = {1: "L", 2: "H, W", 3: "D, H, W"}


# ---------------------------------------------------------------------------- arguments


def ntuple(op: str, name: str, value, dims: int) -> tuple:
    """An int or a sequence of ``dims`` ints as a tuple (torch's ``_pair``/``_single``)."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * dims
        if len(value) != dims:
            raise ValueError(f"{op}: expected {name} to be a single int or {dims} ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * dims


def check_positive(op: str, name: str, values: tuple) -> None:
    if any(v <= 0 for v in values):
        raise RuntimeError(f"{op}: non-positive {name} is not supported (got {name}={list(values)})")


def check_non_negative(op: str, name: str, values: tuple) -> None:
    if any(v < 0 for v in values):
        raise RuntimeError(f"{op}: negative {name} is not supported (got {name}={list(values)})")


def conv_padding(op: str, padding, kernel: tuple, dilation: tuple, stride: tuple) -> tuple:
    """Padding before and after each spatial dim: ints, or 'valid' / 'same' (stride 1 only)."""
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * dims, (0,) * dims
        if padding != "same":
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             "{'valid', 'same'}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        lo = tuple(t // 2 for t in total)
        return lo, tuple(t - a for t, a in zip(total, lo))
    pad = ntuple(op, "padding", padding, dims)
    check_non_negative(op, "padding", pad)
    return pad, pad


def layout_hint(shape: tuple, channels: int, dims: int) -> str:
    """A suggestion when an image looks channel-last ((N, H, W, C) with the expected C last)."""
    if len(shape) not in (dims + 1, dims + 2) or shape[-1] != channels:
        return ""
    lead = len(shape) - dims - 1
    if shape[lead] == channels:
        return ""
    order = tuple(range(lead)) + (len(shape) - 1,) + tuple(range(lead, len(shape) - 1))
    return (f" The input looks channel-last (channels in the last dimension); move them first "
            f"with x.permute{order}.")


def expected_layout(dims: int, channels: int | None = None) -> str:
    """'(N, C, H, W)' (with the expected channel count when known)."""
    c = "C" if channels is None else f"C={channels}"
    return f"(N, {c}, {SPATIAL_NAMES.get(dims, '...')})"


def check_layer_input(layer: str, x: Tensor, dims: int, channels: int | None = None) -> None:
    """A layer's input check: rank and channel count, naming the layer and the expected layout."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: expected a Tensor input, got {type(x).__name__}")
    shape = tuple(x._data.shape)
    layout = expected_layout(dims, channels)
    unbatched = "(" + layout[4:]
    hint = "" if channels is None else layout_hint(shape, channels, dims)
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"{layer}: expected a {dims + 2}D input of shape {layout} (or an "
                           f"unbatched {unbatched}), but got a {len(shape)}D input of shape "
                           f"{list(shape)}.{hint}")
    if channels is not None and shape[-dims - 1] != channels:
        raise RuntimeError(f"{layer}: expected input of shape {layout}, but got input of shape "
                           f"{list(shape)} with {shape[-dims - 1]} channels.{hint}")


def batched(op: str, x: Tensor, dims: int) -> tuple[Tensor, bool]:
    """``x`` with a batch dimension (added for unbatched input) and whether one was added."""
    if not isinstance(x, Tensor):
        raise NotATensorError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x._data.ndim == dims + 2:
        return x, False
    if x._data.ndim == dims + 1:
        return S.unsqueeze(x, 0), True
    raise RuntimeError(
        f"{op}: expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input of shape "
        f"{expected_layout(dims)}, but got input of size: {list(x.shape)}"
    )


def _check_floats(op: str, x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.dtype != x._data.dtype:
            raise RuntimeError(f"{op}: input type ({x.dtype}) and {name} type ({t.dtype}) should "
                               "be the same")
    if x._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.dtype}")


def _check_groups(op: str, groups: int, count: int, what: str, shape) -> None:
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported (got groups={groups})")
    if count % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide the {what} ({count}), "
                           f"got {list(shape)}")


def _check_bias(op: str, bias: Tensor | None, channels: int) -> None:
    if bias is not None and tuple(bias.shape) != (channels,):
        raise RuntimeError(f"{op}: expected bias of shape [{channels}], got {list(bias.shape)}")


def _check_fits(op: str, size: tuple, lo: tuple, hi: tuple, kernel: tuple, dilation: tuple) -> None:
    padded = tuple(s + a + b for s, a, b in zip(size, lo, hi))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < r for p, r in zip(padded, reach)):
        raise RuntimeError(
            f"{op}: calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, reach))}). Kernel size can't be greater than "
            "actual input size"
        )


def _add_bias(y: Tensor, bias: Tensor | None, dims: int) -> Tensor:
    if bias is None:
        return y
    return E.add(y, S.reshape(bias, (1, -1) + (1,) * dims))


def _grouped_matmul(w: Tensor, cols: Tensor, groups: int) -> Tensor:
    """``w @ cols`` per group: w (G, M, K) or (M, K), cols (N, G*K, P) -> (N, G*M, P).

    One GEMM when groups == 1; otherwise one batched product over (N, G).
    """
    n, _, p = cols._data.shape
    if groups == 1:
        return L.matmul(w, cols)
    k = w._data.shape[-1]
    y = L.matmul(w, S.reshape(cols, (n, groups, k, p)))
    return S.reshape(y, (n, -1, p))


# ---------------------------------------------------------------------------- convolution


@precision.listed("_convolution")  # the layers call it directly: autocast's policy here too
def conv(op: str, dims: int, input: Tensor, weight: Tensor, bias: Tensor | None = None,
         stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """N-d cross-correlation (torch's convNd): im2col then one GEMM."""
    x, unbatched = batched(op, input, dims)
    if weight._data.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected a {dims + 2}D weight (out_channels, in_channels/groups, "
                           f"kernel...), got {list(weight.shape)}")
    _check_floats(op, x, weight, bias)
    n, c = x._data.shape[:2]
    o, cg = weight._data.shape[:2]
    kernel = tuple(weight._data.shape[2:])
    _check_groups(op, groups, o, "number of output channels (weight dim 0)", weight.shape)
    if c != cg * groups:
        raise RuntimeError(
            f"{op}: given groups={groups} and weight of size {list(weight.shape)}, expected input "
            f"{expected_layout(dims, cg * groups)} but got input of size {list(input.shape)}: "
            f"{c} channels instead of {cg * groups}.{layout_hint(tuple(input.shape), cg * groups, dims)}"
        )
    _check_bias(op, bias, o)
    stride = ntuple(op, "stride", stride, dims)
    dilation = ntuple(op, "dilation", dilation, dims)
    check_positive(op, "stride", stride)
    check_positive(op, "dilation", dilation)
    lo, hi = conv_padding(op, padding, kernel, dilation, stride)
    size = tuple(x._data.shape[2:])
    _check_fits(op, size, lo, hi, kernel, dilation)
    out = tuple(window.output_size(*a) for a in zip(size, kernel, dilation, stride, lo, hi))
    geom = make_geometry(size, kernel, dilation, stride, lo, out)
    cols = S.reshape(im2col(x, geom), (n, c * geom.kernel_numel, geom.windows))
    w = S.reshape(weight, (o, -1) if groups == 1 else (groups, o // groups, -1))
    y = S.reshape(_grouped_matmul(w, cols, groups), (n, o) + out)
    y = _add_bias(y, bias, dims)
    return S.squeeze(y, 0) if unbatched else y


@precision.listed("_convolution")
def conv_transpose(op: str, dims: int, input: Tensor, weight: Tensor, bias: Tensor | None = None,
                   stride=1, padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """N-d transposed convolution: the input-gradient of ``conv``, i.e. one GEMM then col2im."""
    x, unbatched = batched(op, input, dims)
    if weight._data.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected a {dims + 2}D weight (in_channels, out_channels/groups, "
                           f"kernel...), got {list(weight.shape)}")
    _check_floats(op, x, weight, bias)
    n, c = x._data.shape[:2]
    want = weight._data.shape[0]
    if want != c:
        raise RuntimeError(
            f"{op}: weight of size {list(weight.shape)} expects input {expected_layout(dims, want)}"
            f" but got input of size {list(input.shape)}: {c} channels instead of {want}."
            f"{layout_hint(tuple(input.shape), want, dims)}"
        )
    _check_groups(op, groups, c, "number of input channels", input.shape)
    o = weight._data.shape[1] * groups
    _check_bias(op, bias, o)
    kernel = tuple(weight._data.shape[2:])
    stride = ntuple(op, "stride", stride, dims)
    dilation = ntuple(op, "dilation", dilation, dims)
    pad = ntuple(op, "padding", padding, dims)
    extra = ntuple(op, "output_padding", output_padding, dims)
    check_positive(op, "stride", stride)
    check_positive(op, "dilation", dilation)
    check_non_negative(op, "padding", pad)
    check_non_negative(op, "output_padding", extra)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, "
                           f"got output_padding={list(extra)}, stride={list(stride)}, "
                           f"dilation={list(dilation)}")
    grid = tuple(x._data.shape[2:])  # the input is the grid of windows a conv would produce
    size = tuple((g - 1) * s - 2 * p + d * (k - 1) + e + 1
                 for g, s, p, d, k, e in zip(grid, stride, pad, dilation, kernel, extra))
    if any(s <= 0 for s in size):
        raise RuntimeError(f"{op}: the output size {list(size)} is too small (input of size "
                           f"{list(input.shape)}, padding {list(pad)})")
    geom = make_geometry(size, kernel, dilation, stride, pad, grid)
    xs = S.reshape(x, (n, c, geom.windows))
    w = S.reshape(weight, (c, -1) if groups == 1 else (groups, c // groups, -1))
    cols = _grouped_matmul(S.transpose(w, -1, -2), xs, groups)
    y = col2im(S.reshape(cols, (n, o) + kernel + grid), geom)
    y = _add_bias(y, bias, dims)
    return S.squeeze(y, 0) if unbatched else y


@declare(namespaces=("ember", "ember.nn.functional"))
@torch_backward("ConvolutionBackward0")
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D cross-correlation over (N, C, L) inputs."""
    return conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@declare(namespaces=("ember", "ember.nn.functional"))
@torch_backward("ConvolutionBackward0")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation over (N, C, H, W) inputs; padding may be 'same' or 'valid'."""
    return conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@declare(namespaces=("ember", "ember.nn.functional"))
@torch_backward("ConvolutionBackward0")
def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-D cross-correlation over (N, C, D, H, W) inputs."""
    return conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


@declare(namespaces=("ember", "ember.nn.functional"))
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution (the gradient of conv1d with respect to its input)."""
    return conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                          output_padding, groups, dilation)


@declare(namespaces=("ember", "ember.nn.functional"))
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input)."""
    return conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                          output_padding, groups, dilation)


@declare(namespaces=("ember", "ember.nn.functional"))
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-D transposed convolution (the gradient of conv3d with respect to its input)."""
    return conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                          output_padding, groups, dilation)


# ---------------------------------------------------------------------------- unfold / fold


def _unfold_args(op: str, kernel_size, dilation, padding, stride, dims: int = 2):
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    dilation = ntuple(op, "dilation", dilation, dims)
    padding = ntuple(op, "padding", padding, dims)
    stride = ntuple(op, "stride", stride, dims)
    check_positive(op, "kernel_size", kernel)
    check_positive(op, "dilation", dilation)
    check_positive(op, "stride", stride)
    check_non_negative(op, "padding", padding)
    return kernel, dilation, padding, stride


@declare(namespaces=("ember.nn.functional",))
def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding blocks of an (N, C, H, W) image as columns: (N, C*kh*kw, L) (im2col)."""
    kernel, dilation, padding, stride = _unfold_args("unfold", kernel_size, dilation, padding, stride)
    x, unbatched = batched("unfold", input, 2)
    size = tuple(x._data.shape[2:])
    _check_fits("unfold", size, padding, padding, kernel, dilation)
    out = tuple(window.output_size(*a) for a in zip(size, kernel, dilation, stride, padding, padding))
    geom = make_geometry(size, kernel, dilation, stride, padding, out)
    n, c = x._data.shape[:2]
    y = S.reshape(im2col(x, geom), (n, c * geom.kernel_numel, geom.windows))
    return S.squeeze(y, 0) if unbatched else y


@declare(namespaces=("ember.nn.functional",))
def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum (N, C*kh*kw, L) columns back into an (N, C, H, W) image (col2im; unfold's adjoint)."""
    kernel, dilation, padding, stride = _unfold_args("fold", kernel_size, dilation, padding, stride)
    size = ntuple("fold", "output_size", output_size, 2)
    if not isinstance(input, Tensor) or input._data.ndim not in (2, 3):
        raise RuntimeError("fold: expected 2D (unbatched) or 3D (batched) input of shape "
                           f"(N, C*kh*kw, L), got {list(getattr(input, 'shape', []))}")
    cols, unbatched = (S.unsqueeze(input, 0), True) if input._data.ndim == 2 else (input, False)
    n, ck, length = cols._data.shape
    k = kernel[0] * kernel[1]
    if ck % k:
        raise RuntimeError(f"fold: expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={ck} and "
                           f"kernel_size={kernel}")
    _check_fits("fold", size, padding, padding, kernel, dilation)
    out = tuple(window.output_size(*a) for a in zip(size, kernel, dilation, stride, padding, padding))
    if out[0] * out[1] != length:
        raise RuntimeError(f"fold: given output_size={size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, expected "
                           f"size of input's dimension 2 to match the calculated number of sliding "
                           f"blocks {out[0]} * {out[1]} = {out[0] * out[1]}, but got "
                           f"input.size(2)={length}.")
    geom = make_geometry(size, kernel, dilation, stride, padding, out)
    y = col2im(S.reshape(cols, (n, ck // k) + kernel + out), geom)
    return S.squeeze(y, 0) if unbatched else y
