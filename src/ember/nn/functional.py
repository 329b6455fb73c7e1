"""Neural-network functions (torch.nn.functional): activations, losses, normalisation, dropout.

Everything here is a composite of Ember's primitives (``ember.ops``), so autograd
differentiates it to any order; values and gradients follow torch's formulas, including
its thresholds and edge cases (softplus's threshold, BCE's log floor, ignore_index...).
"""
from __future__ import annotations

import math
import warnings

from .. import backend, dtypes
from ..autograd import forward_ad
from ..autograd.grad_mode import no_grad
from ..creation import arange, rand, zeros
from ..ops import elementwise as E
from ..ops import index as I
from ..ops import linalg as L
from ..ops import loss as LOSS
from ..ops import reduce as R
from ..ops import shape as S
from ..ops.activation import log_softmax as _log_softmax
from ..ops.activation import logsigmoid
from ..ops.activation import maybe_inplace as _maybe_inplace
from ..ops.activation import warn_implicit_dim as _warn_implicit_dim
from ..ops.activation import softmax as _softmax
from ..ops.loss import binary_cross_entropy as _bce_elementwise
from ..ops.registry import declare, derive, exporter
from ..tensor import Tensor
from ..autograd.engine import torch_backward as _torch_backward

# ---------------------------------------------------------------------------- activations


@declare(name="nn.functional.relu", namespaces=("ember.nn.functional",))
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return _maybe_inplace(E.relu, "relu_", input, inplace)


@declare(name="nn.functional.sigmoid", namespaces=("ember.nn.functional",))
def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return E.sigmoid(input)


@declare(name="nn.functional.tanh", namespaces=("ember.nn.functional",))
def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return E.tanh(input)


@declare(name="nn.functional.softmax", namespaces=("ember.nn.functional",))
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    if dim is None:
        _warn_implicit_dim("softmax", _stacklevel)
    return _softmax(input, dim, dtype)


@declare(name="nn.functional.log_softmax", namespaces=("ember.nn.functional",))
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``."""
    if dim is None:
        _warn_implicit_dim("log_softmax", _stacklevel)
    return _log_softmax(input, dim, dtype)


# ---------------------------------------------------------------------------- dropout and linear maps


@declare(namespaces=("ember.nn.functional",))
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training only).

    The mask comes from Ember's default generator, so ``ember.manual_seed`` makes it repeatable.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        scale = E.const_zeros(input)
    else:
        u = rand(tuple(input.shape), dtype=dtypes.float64, device=input.device)
        scale = E.div(E.cast(E.lt(u, 1.0 - p), input.dtype), 1.0 - p)
    if inplace:
        return input.mul_(scale)
    return E.mul(input, scale)


@declare(out="exact", namespaces=("ember.nn.functional",))
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ W^T + b``."""
    return L.linear(input, weight, bias)


# ---------------------------------------------------------------------------- normalisation


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("NativeLayerNormBackward0")
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
    return _affine(E.mul(centred, E.rsqrt(E.add(var, eps))), weight, bias, shape, "layer_norm")


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("NativeGroupNormBackward0")
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
    return _affine(normed, weight, bias, (c,) + (1,) * (input.ndim - 2), "group_norm")


@declare(namespaces=("ember.nn.functional",))
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
    return _affine(normed, weight, None, shape, "rms_norm")


@declare(namespaces=("ember.nn.functional",))
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


@declare(namespaces=("ember.nn.functional",))
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


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None, param_shape: tuple,
            op: str) -> Tensor:
    """``x * weight + bias`` with the parameters reshaped to ``param_shape`` (either may be None);
    a parameter of the wrong size is refused naming ``op``, not the reshape inside it."""
    size = math.prod(param_shape)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != size:
            raise RuntimeError(f"{op}: expected {name} to have {size} elements (one per normalized "
                               f"element, shape {list(param_shape)}), but got {name} of shape "
                               f"{list(t.shape)} for input of shape {list(x.shape)}")
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


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("NativeBatchNormBackward0")
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
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and stat.numel() != channels:
            raise RuntimeError(f"batch_norm: {name} should contain {channels} elements not "
                               f"{stat.numel()} (input of shape {list(input.shape)})")
    if training:
        mean, centred, var = _moments(input, axes)
        if running_mean is not None and running_var is not None:
            count = input.numel() // channels
            _update_running(running_mean, S.reshape(mean, (channels,)), momentum)
            unbiased = E.mul(S.reshape(var, (channels,)), count / (count - 1))
            _update_running(running_var, unbiased, momentum)
    else:
        centred, var = _running_moments(input, running_mean, running_var, param_shape,
                                        "batch_norm", "in evaluation mode (training=False)")
    return _affine(E.mul(centred, E.rsqrt(E.add(var, eps))), weight, bias, param_shape,
                   "batch_norm")


def _running_moments(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                     param_shape: tuple, op: str, when: str) -> tuple:
    """``(input - running_mean, running_var)``, broadcastable: a norm using its running
    statistics (which must be given)."""
    if running_mean is None or running_var is None:
        raise RuntimeError(f"{op}: running_mean and running_var must be defined {when}")
    return E.sub(input, S.reshape(running_mean, param_shape)), S.reshape(running_var, param_shape)


def _update_running(running: Tensor, batch: Tensor, momentum: float) -> None:
    """``running = momentum * batch + (1 - momentum) * running``, in place and off the graph."""
    with no_grad():
        running.copy_(E.add(E.mul(batch.detach(), momentum), E.mul(running, 1.0 - momentum)))


@declare(out=True, namespaces=("ember.nn.functional",))
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    if out is not None:
        raise TypeError("normalize(): Ember does not support the out= argument")
    denom = E.clamp(R.norm(input, p, dim, keepdim=True), min=eps)
    return E.div(input, S.expand_as(denom, input))


# ---------------------------------------------------------------------------- lookups


@declare(namespaces=("ember.nn.functional",))
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Long tensor with a trailing dimension of size ``num_classes``: 1 at each index, else 0."""
    if tensor.dtype != dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
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


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("EmbeddingBackward0")
def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at the integer ``input`` positions, shape ``input.shape + (dim,)``.

    ``padding_idx`` rows get no gradient; ``max_norm`` renormalises the looked-up rows of
    ``weight`` in place first; ``scale_grad_by_freq`` divides each row's gradient by how often
    it occurs in the batch. ``sparse`` is accepted, but gradients are always dense.
    """
    _check_index_dtype(input, "embedding")
    if weight.dim() != 2:
        raise RuntimeError(f"embedding(): 'weight' must be 2-D, got shape {list(weight.shape)}")
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
                               E.const_ones(flat))
        scale = E.reciprocal(E.cast(I.index_select(counts, 0, flat), weight.dtype))
        fixed = forward_ad.detached(rows)  # the scale is for gradients only: tangents pass unscaled
        rows = E.add(fixed, E.mul(E.sub(rows, fixed), S.unsqueeze(scale, 1)))
    if padding_idx is not None:
        is_pad = S.unsqueeze(E.eq(flat, padding_idx), 1)
        rows = E.where(is_pad, forward_ad.detached(rows), rows)  # tangents pass, as torch's
    return S.reshape(rows, tuple(input.shape) + (weight.shape[1],))


def _embedding_renorm_(weight: Tensor, flat: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose ``norm_type``-norm exceeds ``max_norm`` down to it, in place."""
    with no_grad():
        rows = I.index_select(weight, 0, flat)
        norms = R.norm(rows, norm_type, 1, keepdim=True)
        scale = E.where(E.gt(norms, max_norm), E.div(max_norm, E.add(norms, 1e-7)),
                        E.const_ones(norms))
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


@declare(namespaces=("ember.nn.functional",))
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``<x1, x2> / (max(|x1|, eps) max(|x2|, eps))`` along ``dim`` (broadcast together)."""
    def unit(x):
        return E.div(x, E.clamp(R.norm(x, 2, dim, keepdim=True), min=eps))

    return R.sum(E.mul(unit(x1), unit(x2)), dim)


@declare(namespaces=("ember.nn.functional",))
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``|| x1 - x2 + eps ||_p`` over the last dimension."""
    return R.norm(E.add(E.sub(x1, x2), eps), p, -1, keepdim=keepdim)


@declare(namespaces=("ember.nn.functional",))
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """``target * (log target - input)`` with ``input`` as log-probabilities (``0 log 0 = 0``);
    ``batchmean`` divides the sum by the batch size, the true KL divergence per sample."""
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    reduction = _reduction(reduction, size_average, reduce) if reduction != "batchmean" else reduction
    if log_target:
        pointwise = E.mul(E.exp(target), E.sub(target, input))
    else:
        # xlogy(t, t) - t * input, as torch: 0 log 0 = 0 but a negative target gives nan, and
        # the target's gradient log t + t / t is nan at t = 0 (torch's xlogy rule)
        t_log_t = E.where(E.eq(target, 0), 0.0, E.mul(target, E.log(target)))
        pointwise = E.sub(t_log_t, E.mul(target, input))
    if reduction == "batchmean":
        return E.div(R.sum(pointwise), input.shape[0]) if input.ndim else R.sum(pointwise)
    return _reduce(pointwise, reduction)


@declare(namespaces=("ember.nn.functional",))
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: x1 should rank above x2 where y = 1, below where -1."""
    reduction = _reduction(reduction, size_average, reduce)
    gap = E.add(E.neg(E.mul(target, E.sub(input1, input2))), margin)
    return _reduce(E.clamp(gap, min=0), reduction)


@declare(namespaces=("ember.nn.functional",))
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``x`` where y = 1 and ``max(0, margin - x)`` where y = -1."""
    reduction = _reduction(reduction, size_average, reduce)
    below = E.where(E.ne(target, 1), E.clamp(E.sub(margin, input), min=0), 0.0)
    return _reduce(E.add(below, E.where(E.ne(target, -1), input, 0.0)), reduction)


@declare(namespaces=("ember.nn.functional",))
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))``, a smooth two-class hinge."""
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce(E.log1p(E.exp(E.neg(E.mul(target, input)))), reduction)


_COSINE_EMBEDDING_EPS = 1e-12


@declare(namespaces=("ember.nn.functional",))
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


@declare(namespaces=("ember.nn.functional",))
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


@declare(namespaces=("ember.nn.functional",))
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


@declare(namespaces=("ember.nn.functional",))
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


@declare(namespaces=("ember.nn.functional",))
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


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("MseLossBackward0")
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(x - y)^2``."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    diff = E.sub(input, target)
    return _pointwise_loss(E.mul(diff, diff), input, reduction, weight)


@declare(namespaces=("ember.nn.functional",))
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


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("SmoothL1LossBackward0")
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


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("HuberLossBackward0")
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


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("BinaryCrossEntropyBackward0")
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


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("BinaryCrossEntropyWithLogitsBackward0")
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
    safe = E.where(ignored, E.const_zeros(target), target)
    picked = S.squeeze(I.gather(log_probs, class_dim, S.unsqueeze(safe, class_dim)), class_dim)
    if (weight is None and reduction == "mean" and safe.numel() and target.device.type == "cpu"
            and not ignored._batched and not bool(ignored.any())):  # (not batched by vmap)
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
    mean = E.div(total, E.where(nothing, E.const_ones(weight), weight))
    return E.where(nothing, E.add(E.const_zeros(mean), math.nan), mean)


@declare(namespaces=("ember.nn.functional",))
@_torch_backward("NllLossBackward0")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities (class dim 1, or 0 for 1-D)."""
    reduction = _reduction(reduction, size_average, reduce)
    return _nll(input, target, weight, ignore_index, reduction)


@declare(namespaces=("ember.nn.functional",))
@_torch_backward(lambda input, target, *a, **k: None if target.is_floating_point() else "NllLossBackward0")
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
    smooth = E.where(ignored, E.const_zeros(smooth), smooth)
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return R.sum(smooth)
    safe = E.where(ignored, E.const_zeros(target), target)
    weights = _target_weights(target, weight, ignored, safe, log_probs.dtype)
    return _weighted_mean(R.sum(smooth), R.sum(weights))


from . import feature_dropout  # noqa: E402,F401  (declares dropout1d/2d/3d)

derive(exporter("ember.nn.functional", globals()))  # every op declared for nn.functional
del declare, derive, exporter  # the declaration API is not part of torch.nn.functional
