"""Neural-network functions (torch.nn.functional): activations, losses, normalisation, dropout.

Everything here is a composite of Ember's primitives (``ember.ops``), so autograd
differentiates it to any order; values and gradients follow torch's formulas, including
its thresholds and edge cases (softplus's threshold, BCE's log floor, ignore_index...).
"""
from __future__ import annotations

import math
import warnings

from .. import backend, dtypes
from ..autograd.grad_mode import no_grad
from ..creation import arange, rand, zeros
from ..ops import activation as _activation
from ..ops import elementwise as E
from ..ops import index as I
from ..ops import linalg as L
from ..ops import loss as LOSS
from ..ops import products as P
from ..ops import reduce as R
from ..ops import shape as S
from ..ops.activation import log_softmax as _log_softmax
from ..ops.activation import softmax as _softmax
from ..ops.loss import binary_cross_entropy as _bce_elementwise
from ..ops.methods import _inplace
from ..ops.special import erf
from ..tensor import Tensor

# ---------------------------------------------------------------------------- activations


def _maybe_inplace(fn, name: str, input: Tensor, inplace: bool, *args) -> Tensor:
    """``fn(input, *args)``, written into ``input`` when ``inplace`` (as torch's ``inplace=True``)."""
    if inplace:
        return _inplace(fn, name)(input, *args)
    return fn(input, *args)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return _maybe_inplace(E.relu, "relu_", input, inplace)


def _hardtanh(x: Tensor, min_val: float, max_val: float) -> Tensor:
    low = E.as_tensor_like(min_val, x, x.dtype)
    high = E.as_tensor_like(max_val, x, x.dtype)
    # torch passes no gradient at the bounds themselves (clamp would pass it there).
    return E.where(E.le(x, min_val), low, E.where(E.ge(x, max_val), high, x))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``, with zero gradient outside and at the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(_hardtanh, "hardtanh_", input, inplace, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_relu(x: Tensor, negative_slope: float) -> Tensor:
    return E.where(E.gt(x, 0), x, E.mul(x, negative_slope))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    return _maybe_inplace(_leaky_relu, "leaky_relu_", input, inplace, negative_slope)


def _elu(x: Tensor, alpha: float) -> Tensor:
    # expm1 sees only x <= 0, so the unused branch never overflows (no 0 * inf in the gradient).
    negative = E.mul(E.expm1(E.clamp(x, max=0)), alpha)
    return E.where(E.gt(x, 0), x, negative)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return _maybe_inplace(_elu, "elu_", E.to_float(input), inplace, alpha)


_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (the normal CDF), exactly with erf or by torch's tanh approximation."""
    x = E.to_float(input)
    if approximate == "none":
        cdf = E.mul(E.add(erf(E.mul(x, math.sqrt(0.5))), 1), 0.5)
        return E.mul(x, cdf)
    if approximate == "tanh":
        inner = E.mul(E.add(x, E.mul(E.mul(E.mul(x, x), x), _GELU_TANH_CUBIC)), _GELU_TANH_SCALE)
        return E.mul(E.mul(x, 0.5), E.add(E.tanh(inner), 1))
    raise RuntimeError(f"approximate argument must be either none or tanh (got {approximate!r})")


def _silu(x: Tensor) -> Tensor:
    return E.mul(x, E.sigmoid(x))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    return _maybe_inplace(_silu, "silu_", E.to_float(input), inplace)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return E.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return E.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))`` without overflow: ``x - log1p(exp(x))`` below 0, ``-log1p(exp(-x))`` above."""
    x = E.to_float(input)
    below = E.clamp(x, max=0)
    above = E.clamp(x, min=0)
    negative = E.sub(below, E.log1p(E.exp(below)))
    positive = E.neg(E.log1p(E.exp(E.neg(above))))
    return E.where(E.lt(x, 0), negative, positive)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold`` (as torch)."""
    x = E.to_float(input)
    z = E.mul(x, beta)
    soft = E.div(E.log1p(E.exp(E.clamp(z, max=threshold))), beta)
    return E.where(E.gt(z, threshold), x, soft)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu(x: Tensor) -> Tensor:
    return E.mul(_elu(x, _SELU_ALPHA), _SELU_SCALE)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _maybe_inplace(_selu, "selu_", E.to_float(input), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(_activation.celu, "celu_", E.to_float(input), inplace, alpha)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    x = E.to_float(input)
    return E.div(x, E.add(E.abs(x), 1))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        _warn_implicit_dim("softmin", _stacklevel)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return _softmax(E.neg(input), dim, dtype)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return _maybe_inplace(_activation.mish, "mish_", E.to_float(input), inplace)


def _hardswish(x: Tensor) -> Tensor:
    # the sloped part strictly inside (-3, 3): torch's derivative is flat at the ends themselves
    inside = E.logical_and(E.gt(x, -3), E.lt(x, 3))
    return E.where(inside, E.div(E.mul(x, E.add(x, 3)), 6), E.where(E.ge(x, 3), x, 0.0))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return _maybe_inplace(_hardswish, "hardswish_", E.to_float(input), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return _maybe_inplace(_activation.hardsigmoid, "hardsigmoid_", E.to_float(input), inplace)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    return E.where(E.le(E.abs(input), lambd), 0.0, input)  # NaN passes through, as torch


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    shrunk = E.where(E.lt(input, -lambd), E.add(input, lambd), E.sub(input, lambd))
    return E.where(E.le(E.abs(input), lambd), 0.0, shrunk)  # NaN passes through, as torch


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return E.sub(input, E.tanh(input))


def _threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    return E.where(E.gt(x, threshold), x, value)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    return _maybe_inplace(_threshold, "threshold_", input, inplace, threshold, value)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``a * sigmoid(b)`` for the two halves ``a``, ``b`` of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.ndim} is size {size}")
    a, b = S.chunk(input, 2, dim)
    return E.mul(a, E.sigmoid(b))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` for ``x > 0``, else ``weight * x``, one weight per channel (dim 1) or one for all."""
    if weight.numel() != 1:
        if input.ndim == 0 or input.shape[1 if input.ndim > 1 else 0] != weight.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {weight.numel()} and channel size = "
                               f"{input.shape[1] if input.ndim > 1 else 1}.")
        if input.ndim > 1:
            weight = S.reshape(weight, (-1,) + (1,) * (input.ndim - 2))
    # the slope picked first, then one product: an infinite weight never meets a positive x
    return E.mul(input, E.where(E.gt(input, 0), 1.0, weight))


def _warn_implicit_dim(name: str, stacklevel: int) -> None:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.", stacklevel=stacklevel,
    )


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    if dim is None:
        _warn_implicit_dim("softmax", _stacklevel)
    return _softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``."""
    if dim is None:
        _warn_implicit_dim("log_softmax", _stacklevel)
    return _log_softmax(input, dim, dtype)


# ---------------------------------------------------------------------------- dropout and linear maps


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training only).

    The mask comes from Ember's default generator, so ``ember.manual_seed`` makes it repeatable.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        scale = E.zeros_like_(input)
    else:
        u = rand(tuple(input.shape), dtype=dtypes.float64, device=input.device)
        scale = E.div(E.cast(E.lt(u, 1.0 - p), input.dtype), 1.0 - p)
    if inplace:
        return input.mul_(scale)
    return E.mul(input, scale)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ W^T + b``."""
    return L.linear(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` for a weight of shape (out, in1, in2)."""
    return P.bilinear(input1, input2, weight, bias)


# ---------------------------------------------------------------------------- normalisation


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims (biased variance), then scale and shift."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if input.ndim < n or tuple(input.shape[input.ndim - n:]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in shape)}], but got input of size{list(input.shape)}"
        )
    axes = tuple(range(input.ndim - n, input.ndim))
    _, centred, var = _moments(input, axes)
    return _affine(E.mul(centred, E.rsqrt(E.add(var, eps))), weight, bias, shape)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample's channels in ``num_groups`` groups, then scale and shift per channel."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and num_groups={num_groups}")
    grouped = S.reshape(input, (n, num_groups, -1))
    _, centred, var = _moments(grouped, (2,))
    normed = S.reshape(E.mul(centred, E.rsqrt(E.add(var, eps))), tuple(input.shape))
    return _affine(normed, weight, bias, (c,) + (1,) * (input.ndim - 2))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps)`` over the trailing ``normalized_shape`` dims, times ``weight``
    (``eps`` defaults to the dtype's machine epsilon, as torch)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in shape)}], but got input of size{list(input.shape)}")
    x = E.to_float(input)
    if eps is None:
        eps = float(x.xp.finfo(x._data.dtype).eps)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    normed = E.mul(x, E.rsqrt(E.add(R.mean(E.mul(x, x), axes, keepdim=True), eps)))
    return _affine(normed, weight, None, shape)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r², H, W) -> (*, C, H r, W r): each r×r block of output pixels from r² channels."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    x = S.reshape(input, (-1, c // (r * r), r, r, h, w))
    x = S.permute(x, (0, 1, 4, 2, 5, 3))
    return S.reshape(x, tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r², H, W): the inverse of ``pixel_shuffle``."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}" if h % r else
                           f"pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    x = S.reshape(input, (-1, c, h // r, r, w // r, r))
    x = S.permute(x, (0, 1, 3, 5, 2, 4))
    return S.reshape(x, tuple(lead) + (c * r * r, h // r, w // r))


def _moments(x: Tensor, axes: tuple) -> tuple:
    """``(mean, x - mean, biased variance)`` over ``axes``, kept broadcastable against ``x``."""
    mean = R.mean(x, axes, keepdim=True)
    centred = E.sub(x, mean)
    return mean, centred, R.mean(E.mul(centred, centred), axes, keepdim=True)


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None, param_shape: tuple) -> Tensor:
    """``x * weight + bias`` with the parameters reshaped to ``param_shape`` (either may be None)."""
    if weight is not None:
        x = E.mul(x, S.reshape(weight, param_shape))
    if bias is not None:
        x = E.add(x, S.reshape(bias, param_shape))
    return x


def _verify_batch_size(shape: tuple) -> None:
    count = shape[0]
    for s in shape[2:]:
        count *= s
    if count == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {shape}"
        )


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) by batch statistics (training) or running ones (eval).

    In training the running statistics, when given, are updated in place with ``momentum``;
    the running variance uses the unbiased batch variance, as torch.
    """
    if training:
        _verify_batch_size(input.shape)
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    channels = input.shape[1] if input.ndim > 1 else input.shape[0]
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        mean, centred, var = _moments(input, axes)
        if running_mean is not None and running_var is not None:
            count = input.numel() // channels
            _update_running(running_mean, S.reshape(mean, (channels,)), momentum)
            unbiased = E.mul(S.reshape(var, (channels,)), count / (count - 1))
            _update_running(running_var, unbiased, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                               "evaluation mode (training=False)")
        centred = E.sub(input, S.reshape(running_mean, param_shape))
        var = S.reshape(running_var, param_shape)
    return _affine(E.mul(centred, E.rsqrt(E.add(var, eps))), weight, bias, param_shape)


def _update_running(running: Tensor, batch: Tensor, momentum: float) -> None:
    """``running = momentum * batch + (1 - momentum) * running``, in place and off the graph."""
    with no_grad():
        running.copy_(E.add(E.mul(batch.detach(), momentum), E.mul(running, 1.0 - momentum)))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    if out is not None:
        raise TypeError("normalize(): Ember does not support the out= argument")
    denom = E.clamp(R.norm(input, p, dim, keepdim=True), min=eps)
    return E.div(input, S.expand_as(denom, input))


# ---------------------------------------------------------------------------- lookups


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Long tensor with a trailing dimension of size ``num_classes``: 1 at each index, else 0."""
    if tensor.dtype != dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(R.amax(tensor).item()) + 1
    if tensor.numel():
        backend.require(R.amin(tensor)._data >= 0,
                        lambda: RuntimeError("Class values must be non-negative."))
        backend.require(R.amax(tensor)._data < num_classes,
                        lambda: RuntimeError("Class values must be smaller than num_classes."))
    classes = arange(num_classes, device=tensor.device)
    return E.cast(E.eq(S.unsqueeze(tensor, -1), classes), dtypes.int64)


def _check_index_dtype(indices: Tensor, op: str) -> None:
    if indices.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {indices.dtype} instead (while checking arguments for {op})"
        )


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at the integer ``input`` positions, shape ``input.shape + (dim,)``.

    ``padding_idx`` rows get no gradient; ``max_norm`` renormalises the looked-up rows of
    ``weight`` in place first; ``scale_grad_by_freq`` divides each row's gradient by how often
    it occurs in the batch. ``sparse`` is accepted, but gradients are always dense.
    """
    _check_index_dtype(input, "embedding")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= num
    flat = S.reshape(input, (-1,))
    if max_norm is not None:
        _embedding_renorm_(weight, flat, max_norm, norm_type)
    rows = I.index_select(weight, 0, flat)
    if scale_grad_by_freq:
        counts = I.scatter_add(zeros(num, dtype=dtypes.int64, device=weight.device), 0, flat,
                               E.ones_like_(flat))
        scale = E.reciprocal(E.cast(I.index_select(counts, 0, flat), weight.dtype))
        fixed = rows.detach()
        rows = E.add(fixed, E.mul(E.sub(rows, fixed), S.unsqueeze(scale, 1)))
    if padding_idx is not None:
        is_pad = S.unsqueeze(E.eq(flat, padding_idx), 1)
        rows = E.where(is_pad, rows.detach(), rows)
    return S.reshape(rows, tuple(input.shape) + (weight.shape[1],))


def _embedding_renorm_(weight: Tensor, flat: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose ``norm_type``-norm exceeds ``max_norm`` down to it, in place."""
    with no_grad():
        rows = I.index_select(weight, 0, flat)
        norms = R.norm(rows, norm_type, 1, keepdim=True)
        scale = E.where(E.gt(norms, max_norm), E.div(max_norm, E.add(norms, 1e-7)),
                        E.ones_like_(norms))
        weight[flat] = E.mul(rows, scale)


# ---------------------------------------------------------------------------- losses

_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags to a reduction."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                  "instead.", stacklevel=3)
    return reduction


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``<x1, x2> / (max(|x1|, eps) max(|x2|, eps))`` along ``dim`` (broadcast together)."""
    def unit(x):
        return E.div(x, E.clamp(R.norm(x, 2, dim, keepdim=True), min=eps))

    return R.sum(E.mul(unit(x1), unit(x2)), dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``|| x1 - x2 + eps ||_p`` over the last dimension."""
    return R.norm(E.add(E.sub(x1, x2), eps), p, -1, keepdim=keepdim)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """``target * (log target - input)`` with ``input`` as log-probabilities (``0 log 0 = 0``);
    ``batchmean`` divides the sum by the batch size, the true KL divergence per sample."""
    reduction = _reduction(reduction, size_average, reduce) if reduction != "batchmean" else reduction
    if log_target:
        pointwise = E.mul(E.exp(target), E.sub(target, input))
    else:
        log_t = E.log(E.where(E.gt(target, 0), target, 1.0))
        pointwise = E.where(E.gt(target, 0), E.mul(target, E.sub(log_t, input)),
                            E.mul(E.neg(target), input))
    if reduction == "batchmean":
        return E.div(R.sum(pointwise), input.shape[0]) if input.ndim else R.sum(pointwise)
    return _reduce(pointwise, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: x1 should rank above x2 where y = 1, below where -1."""
    reduction = _reduction(reduction, size_average, reduce)
    gap = E.add(E.neg(E.mul(target, E.sub(input1, input2))), margin)
    return _reduce(E.clamp(gap, min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``x`` where y = 1 and ``max(0, margin - x)`` where y = -1."""
    reduction = _reduction(reduction, size_average, reduce)
    below = E.where(E.ne(target, 1), E.clamp(E.sub(margin, input), min=0), 0.0)
    return _reduce(E.add(below, E.where(E.ne(target, -1), input, 0.0)), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))``, a smooth two-class hinge."""
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce(E.log1p(E.exp(E.neg(E.mul(target, input)))), reduction)


_COSINE_EMBEDDING_EPS = 1e-12


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where y = 1 and ``max(0, cos(x1, x2) - margin)`` where y = -1."""
    reduction = _reduction(reduction, size_average, reduce)
    dim = input1.ndim - 1
    dot = R.sum(E.mul(input1, input2), dim)
    square = [E.add(R.sum(E.mul(x, x), dim), _COSINE_EMBEDDING_EPS) for x in (input1, input2)]
    cos = E.div(dot, E.sqrt(E.mul(*square)))
    positive = E.where(E.eq(target, 1), E.sub(1, cos), 0.0)
    negative = E.where(E.eq(target, -1), E.clamp(E.sub(cos, margin), min=0), 0.0)
    return _reduce(E.add(positive, negative), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` (with ``swap``, d(a, n) is the nearer of d(a, n)
    and d(p, n))."""
    reduction = _reduction(reduction, size_average, reduce)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(E.clamp(E.add(E.sub(d_pos, d_neg), margin), min=0), reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of Poisson counts ``target`` with rate ``exp(input)`` (or
    ``input``); ``full`` adds Stirling's approximation of ``log(target!)``."""
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = E.sub(E.exp(input), E.mul(target, input))
    else:
        loss = E.sub(input, E.mul(target, E.log(E.add(input, eps))))
    if full:
        safe = E.where(E.gt(target, 1), target, 1.0)
        stirling = E.add(E.sub(E.mul(safe, E.log(safe)), safe),
                         E.mul(E.log(E.mul(safe, 2 * math.pi)), 0.5))
        loss = E.add(loss, E.where(E.gt(target, 1), stirling, 0.0))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """``0.5 (log var + (input - target)^2 / var)``, ``var`` floored at ``eps`` (the floor passes
    the gradient through unchanged, as torch's in-place clamp under no_grad)."""
    if not isinstance(var, Tensor):
        var = E.as_tensor_like(var, input, input.dtype)
    if var.ndim and var.shape != input.shape and var.shape[-1] != 1 and var.ndim == input.ndim:
        raise ValueError("var is of incorrect size")
    if var.ndim == input.ndim - 1:
        var = S.unsqueeze(var, -1)
    floored = E.add(var, (E.clamp(var.detach(), min=eps) - var.detach()))
    loss = E.mul(E.add(E.log(floored), E.div(E.square(E.sub(input, target)), floored)), 0.5)
    if full:
        loss = E.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Per-class binary cross-entropy with logits, averaged over the classes of each sample."""
    reduction = _reduction(reduction, size_average, reduce)
    loss = E.neg(E.add(E.mul(target, logsigmoid(input)),
                       E.mul(E.sub(1, target), logsigmoid(E.neg(input)))))
    if weight is not None:
        loss = E.mul(loss, weight)
    return _reduce(R.mean(loss, input.ndim - 1), reduction)


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3,
        )


def _pointwise_loss(loss: Tensor, input: Tensor, reduction: str, weight: Tensor | None) -> Tensor:
    """Reduce an elementwise loss; with ``weight``, the mean is ``sum(w * loss) / sum(w)`` (torch)."""
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = E.mul(loss, weight)
    if reduction == "mean":
        return E.div(R.sum(weighted), R.sum(weight))
    return _reduce(weighted, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(x - y)^2``."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    diff = E.sub(input, target)
    return _pointwise_loss(E.mul(diff, diff), input, reduction, weight)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|x - y|``."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    return _pointwise_loss(E.abs(E.sub(input, target)), input, reduction, weight)


def _huber(diff: Tensor, delta: float, quadratic_scale: float, linear_scale: float) -> Tensor:
    """``quadratic_scale * d^2/2`` for ``|d| < delta``, else ``linear_scale * (|d| - delta/2)``."""
    size = E.abs(diff)
    quadratic = E.mul(E.mul(diff, diff), 0.5 * quadratic_scale)
    linear = E.mul(E.sub(size, 0.5 * delta), linear_scale)
    return E.where(E.lt(size, delta), quadratic, linear)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic ``d^2 / (2 beta)`` for ``|d| < beta``, else ``|d| - beta/2`` (L1 when beta = 0)."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    diff = E.sub(input, target)
    if beta == 0.0:
        return _reduce(E.abs(diff), reduction)
    return _reduce(_huber(diff, beta, 1.0 / beta, 1.0), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Quadratic ``d^2 / 2`` for ``|d| < delta``, else ``delta (|d| - delta/2)``."""
    _warn_size(input, target)
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    loss = _huber(E.sub(input, target), delta, 1.0, delta)
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    return _reduce(E.mul(loss, weight), reduction)  # torch: a plain mean, not sum(w)-normalised


def _check_same_size(input: Tensor, target: Tensor, message: str) -> None:
    if target.shape != input.shape:
        raise ValueError(message.format(target=target.shape, input=input.shape))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-(y log x + (1-y) log(1-x))`` on probabilities, with torch's floor of -100 on the logs."""
    reduction = _reduction(reduction, size_average, reduce)
    _check_same_size(input, target, "Using a target size ({target}) that is different to the input "
                     "size ({input}) is deprecated. Please ensure they have the same size.")
    loss = _bce_elementwise(input, target)
    if weight is not None:
        loss = E.mul(loss, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``BCE(sigmoid(x), y)`` computed stably as ``(1 - y) x - w_y log(sigmoid(x))``.

    ``pos_weight`` weights the positive term: ``w_y = (pos_weight - 1) y + 1``.
    """
    reduction = _reduction(reduction, size_average, reduce)
    _check_same_size(input, target, "Target size ({target}) must be the same as input size ({input})")
    log_p = logsigmoid(input)
    if pos_weight is not None:
        log_p = E.mul(log_p, E.add(E.mul(E.sub(pos_weight, 1), target), 1))
    loss = E.sub(E.mul(E.sub(1, target), input), log_p)
    if weight is not None:
        loss = E.mul(loss, weight)
    return _reduce(loss, reduction)


def _class_dim(input: Tensor) -> int:
    if input.ndim == 0:
        raise RuntimeError("Expected 1 or more dimensions (got 0)")
    return 0 if input.ndim == 1 else 1


def _check_class_weight(weight: Tensor | None, classes: int) -> None:
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {classes} classes or no classes but "
            f"got weight tensor of shape: {list(weight.shape)}"
        )


def _check_index_target(input: Tensor, target: Tensor, class_dim: int) -> None:
    if target.is_floating_point() or target.dtype == dtypes.bool_:
        raise RuntimeError(
            f"expected scalar type Long but found {str(target.dtype).split('.')[-1]} (target of "
            f"input {list(input.shape)} holds class indices unless its shape equals the input's)"
        )
    expected = tuple(input.shape[:class_dim]) + tuple(input.shape[class_dim + 1:])
    if tuple(target.shape) == expected:
        return
    if input.ndim >= 2 and (target.ndim == 0 or target.shape[0] != input.shape[0]):
        batch = target.shape[0] if target.ndim else 1
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch})."
        )
    raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")


def _target_weights(target: Tensor, weight: Tensor | None, ignored: Tensor, safe: Tensor,
                    dtype) -> Tensor:
    """Each target's class weight (1 without ``weight``), 0 where the target is ignored."""
    kept = E.cast(E.logical_not(ignored), dtype)
    if weight is None:
        return kept
    picked = S.reshape(I.index_select(weight, 0, S.reshape(safe, (-1,))), tuple(target.shape))
    return E.mul(E.cast(picked, dtype), kept)


def _nll(log_probs: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
         reduction: str) -> Tensor:
    """``-w[t] * log_probs[t]`` per position; the mean divides by the summed weights (torch)."""
    class_dim = _class_dim(log_probs)
    classes = log_probs.shape[class_dim]
    _check_index_target(log_probs, target, class_dim)
    _check_class_weight(weight, classes)
    LOSS.check_targets(target, ignore_index, classes)
    ignored = E.eq(target, ignore_index)
    safe = E.where(ignored, E.zeros_like_(target), target)
    picked = S.squeeze(I.gather(log_probs, class_dim, S.unsqueeze(safe, class_dim)), class_dim)
    if (weight is None and reduction == "mean" and safe.numel() and target.device.type == "cpu"
            and not bool(ignored.any())):
        # The common case (no class weights, nothing ignored): the weighted mean below is
        # exactly the plain mean, in a third of the ops (forward and backward). Only where the
        # test costs no wait for a GPU.
        return E.neg(R.mean(picked))
    w = _target_weights(target, weight, ignored, safe, log_probs.dtype)
    loss = E.neg(E.mul(picked, w))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return R.sum(loss)
    return _weighted_mean(R.sum(loss), R.sum(w))


def _weighted_mean(total: Tensor, weight: Tensor) -> Tensor:
    """``total / weight``; nan with a zero gradient when every target is ignored (as torch)."""
    nothing = E.eq(weight, 0)
    mean = E.div(total, E.where(nothing, E.ones_like_(weight), weight))
    return E.where(nothing, E.add(E.zeros_like_(mean), math.nan), mean)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities (class dim 1, or 0 for 1-D)."""
    reduction = _reduction(reduction, size_average, reduce)
    return _nll(input, target, weight, ignore_index, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """``nll_loss(log_softmax(x))`` for class indices, or ``-sum(p log softmax(x))`` for class
    probabilities (a floating target shaped like the input), with optional label smoothing."""
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if (weight is None and reduction == "mean" and label_smoothing == 0.0 and input.ndim == 2
            and input.is_floating_point() and target.dtype == dtypes.int64 and target.ndim == 1):
        fused = LOSS.cross_entropy_mean(input, target, ignore_index)
        if fused is not None:
            return fused
    class_dim = _class_dim(input)
    classes = input.shape[class_dim]
    _check_class_weight(weight, classes)
    log_probs = _log_softmax(input, class_dim)
    weight_shape = tuple(classes if d == class_dim else 1 for d in range(input.ndim))
    if target.shape == input.shape:
        if not target.is_floating_point():
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                f"{str(target.dtype).split('.')[-1]}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _soft_target_loss(log_probs, target, weight, weight_shape, class_dim, label_smoothing,
                                 reduction)
    loss = _nll(log_probs, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return loss
    smooth = _smoothing_term(log_probs, target, weight, weight_shape, class_dim, ignore_index,
                             reduction)
    return E.add(E.mul(loss, 1.0 - label_smoothing), E.mul(smooth, label_smoothing / classes))


def _soft_target_loss(log_probs: Tensor, target: Tensor, weight: Tensor | None, weight_shape: tuple,
                      class_dim: int, label_smoothing: float, reduction: str) -> Tensor:
    classes = log_probs.shape[class_dim]
    if label_smoothing > 0.0:
        target = E.add(E.mul(target, 1.0 - label_smoothing), label_smoothing / classes)
    terms = E.mul(log_probs, target)
    if weight is not None:
        terms = E.mul(terms, S.reshape(weight, weight_shape))
    if reduction == "none":
        return E.neg(R.sum(terms, class_dim))
    total = E.neg(R.sum(terms))
    if reduction == "sum":
        return total
    return E.div(total, log_probs.numel() / classes) if log_probs.numel() else E.mul(total, math.nan)


def _smoothing_term(log_probs: Tensor, target: Tensor, weight: Tensor | None, weight_shape: tuple,
                    class_dim: int, ignore_index: int, reduction: str) -> Tensor:
    """The uniform-target part of label smoothing: ``-sum_c w_c log p_c`` per position."""
    weighted = log_probs if weight is None else E.mul(log_probs, S.reshape(weight, weight_shape))
    ignored = E.eq(target, ignore_index)
    smooth = E.neg(R.sum(weighted, class_dim))
    smooth = E.where(ignored, E.zeros_like_(smooth), smooth)
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return R.sum(smooth)
    safe = E.where(ignored, E.zeros_like_(target), target)
    weights = _target_weights(target, weight, ignored, safe, log_probs.dtype)
    return _weighted_mean(R.sum(smooth), R.sum(weights))


# ---- vision (ember.ops.conv / ember.ops.pool)
from ..ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: E402,F401
                        fold, unfold)
from ..ops.feature_dropout import dropout1d, dropout2d, dropout3d  # noqa: E402,F401
from ..ops.interpolate import interpolate  # noqa: E402,F401
from ..ops.pad import pad  # noqa: E402,F401
from ..ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,  # noqa: E402,F401
                        adaptive_max_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d)
