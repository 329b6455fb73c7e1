"""Activations and normalisers built from primitives: softmax, log_softmax and friends.

``log_softmax`` is a primitive (it sits under every cross-entropy loss); the rest are
composites that autograd differentiates through the primitives they are made of.
"""
from __future__ import annotations

import math
import warnings

from .. import backend, backend_fused
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .methods import _inplace
from .registry import apply, batch_dims, declare, primitive
from .special import erf
from ..autograd.engine import torch_backward


def _softmax_dim(x: Tensor, dim, op: str) -> int:
    if dim is None:
        dim = 0 if x._data.ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, x._data.ndim, op)


def _log_softmax_fwd(xp, x, axis):
    # torch's kernel: (x - max) - log(sum(exp(x - max))); a row holding inf (or all -inf) is
    # all nan there, as in torch.
    m = xp.max(x, axis=axis, keepdims=True)
    shifted = x - m
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_backward(xp, g, out, x, axis):
    """The rule on arrays, ``g - exp(out) * sum(g)``: three NumPy calls, no op dispatch.

    A numba kernel of this chain ran slower than NumPy's SIMD ``exp`` (bench in the README)."""
    return (g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True),)


_log_softmax = primitive(
    "log_softmax", _log_softmax_fwd,
    lambda g, out, x, axis: (
        E.sub(g, E.mul(E.exp(out), R.sum(g, axis + batch_dims(), keepdim=True))),),
    jvp=lambda tangents, out, x, axis: E.sub(
        tangents[0], R.sum(E.mul(E.exp(out), tangents[0]), axis, keepdim=True)),
    saves_out=True,
    formula="d/dx log_softmax(x) . g = g - softmax(x) * sum(g)",
    fused="stability and speed: one max-shifted pass as torch's kernel, under every cross-entropy",
    batch="dims",
    fast_rule=_log_softmax_backward,
)


def _log_softmax_method(self: Tensor, dim: int, dtype=None) -> Tensor:
    """``x.log_softmax(dim)``: the method needs ``dim``, as torch's."""
    return log_softmax(self, dim, dtype=dtype)


@declare(out="exact", prim=_log_softmax, method=_log_softmax_method,
         namespaces=("ember", "ember.special"))
def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``: log-probabilities, stable for large inputs.

    One primitive (the cross-entropy hot path), not the composite of ~10 ops it equals.
    """
    x = input if dtype is None else E.cast(input, dtype)
    d = _softmax_dim(x, dim, "log_softmax")
    if not x._data.size:
        return x  # nothing to compute: torch returns the (empty) input's dtype, even integer
    _FLOATING("log_softmax", x)
    if x._data.ndim == 0:
        return S.reshape(apply(_log_softmax, S.reshape(x, (1,)), axis=0), ())
    return apply(_log_softmax, x, axis=d)


_FLOATING = E.kernels_for("f")


def _softmax_method(self: Tensor, dim: int, dtype=None) -> Tensor:
    """``x.softmax(dim)``: the method needs ``dim``, as torch's."""
    return softmax(self, dim, dtype=dtype)


@declare(out="exact", method=_softmax_method, namespaces=("ember", "ember.special"))
@torch_backward("SoftmaxBackward0")
def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``: probabilities that sum to one."""
    x = input if dtype is None else E.cast(input, dtype)
    _softmax_dim(x, dim, "softmax")
    if not x._data.size:
        return x
    _FLOATING("softmax", x)
    return E.exp(log_softmax(x, dim))


# ---------------------------------------------------------------------------- torch's own rules
# These activations are primitives because torch's derivatives round a constant to float32
# (celu's 1/alpha, hardsigmoid's 1/6) or are written a particular way (mish): composites of
# Ember ops would differ in the last digits in float64.

_FLOAT_KERNELS = E.kernels_for("f")  # torch implements these activations for floating dtypes only
_NOT_BOOL = E.kernels_for("iuf")
_NOT_INT = E.kernels_for("bf")


def float_input(op: str, input) -> Tensor:
    """``input`` checked as torch's float-only activation kernels check it: a non-tensor is a
    TypeError, an integer or bool tensor a NotImplementedError naming the op and the dtype."""
    E.require_tensors(op, input)
    _FLOAT_KERNELS(op, input)
    return input


def _f32(value: float) -> float:
    """``value`` rounded to float32, as torch's kernels hold some constants."""
    return float(backend.numpy.float32(value))


def _celu_fwd(xp, x, alpha):
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0) / alpha)).astype(x.dtype, copy=False)


def _celu_rule(g, out, x, alpha):
    scale = 1.0 / _f32(alpha)  # torch: elu_backward(..., 1.0 / alpha.toFloat())
    slope = E.mul(E.exp(E.mul(E.clamp(x, max=0), scale)), alpha * scale)
    return (E.mul(g, E.where(E.gt(x, 0), 1.0, slope)),)


_celu = primitive("celu", _celu_fwd, _celu_rule, jvp="elementwise",
                  formula="d/dx celu = 1 above 0, else exp(x / alpha) (1/alpha as a float32, as torch)",
                  fused="torch's rounding: expm1 forward, 1/alpha as a float32 in the derivative",
                  batch="elementwise")


def _celu_of(x: Tensor, alpha: float) -> Tensor:
    """``x`` above 0, else ``alpha * (exp(x / alpha) - 1)``."""
    return apply(_celu, E.to_float(x), alpha=alpha)


_SIXTH = _f32(1.0 / 6.0)


def _hardsigmoid_fwd(xp, x):
    inside = (x > -3) & (x < 3)
    return xp.where(inside, (x + 3) / 6, (x >= 3).astype(x.dtype)).astype(x.dtype, copy=False)


_hardsigmoid = primitive(
    "hardsigmoid", _hardsigmoid_fwd,
    lambda g, out, x: (E.mul(g, E.where(E.logical_and(E.gt(x, -3), E.lt(x, 3)), _SIXTH, 0.0)),),
    jvp="elementwise",
    formula="d/dx relu6(x + 3) / 6 = 1/6 strictly inside (-3, 3) (a float32 1/6, as torch)",
    fused="torch's rounding (a float32 1/6) and its derivative's open interval (-3, 3)", batch="elementwise"
)


def _hardsigmoid_of(x: Tensor) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return apply(_hardsigmoid, E.to_float(x))


@declare(out="exact", namespaces=("ember.nn.functional",))
@torch_backward("SoftplusBackward0")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold`` (as torch)."""
    x = float_input("softplus", input)
    z = E.mul(x, beta)
    soft = E.div(E.log1p(E.exp(E.clamp(z, max=threshold))), beta)
    return E.where(E.gt(z, threshold), x, soft)


def _mish_of(x: Tensor) -> Tensor:
    """``x * tanh(softplus(x))``: a composite (its derivatives are torch's to rounding)."""
    return E.mul(x, E.tanh(softplus(x)))


# ---------------------------------------------------------------------------- nn.functional's activations


def maybe_inplace(fn, name: str, input: Tensor, inplace: bool, *args) -> Tensor:
    """``fn(input, *args)``, written into ``input`` when ``inplace`` (as torch's ``inplace=True``)."""
    if inplace:
        return _inplace(fn, name)(input, *args)
    return fn(input, *args)


def _hardtanh(x: Tensor, min_val: float, max_val: float) -> Tensor:
    low = E.as_tensor_like(min_val, x, x.dtype)
    high = E.as_tensor_like(max_val, x, x.dtype)
    # torch passes no gradient at the bounds themselves (clamp would pass it there).
    return E.where(E.le(x, min_val), low, E.where(E.ge(x, max_val), high, x))


@declare(namespaces=("ember.nn.functional",))
@torch_backward("HardtanhBackward0")
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``, with zero gradient outside and at the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    E.require_tensors("hardtanh", input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    return maybe_inplace(_hardtanh, "hardtanh_", input, inplace, min_val, max_val)


@declare(namespaces=("ember.nn.functional",))
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_relu(x: Tensor, negative_slope: float) -> Tensor:
    return E.where(E.gt(x, 0), x, E.mul(x, negative_slope))


@declare(namespaces=("ember.nn.functional",))
@torch_backward("LeakyReluBackward0")
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    return maybe_inplace(_leaky_relu, "leaky_relu_", float_input("leaky_relu", input), inplace,
                         negative_slope)


def _elu(x: Tensor, alpha: float) -> Tensor:
    # expm1 sees only x <= 0, so the unused branch never overflows (no 0 * inf in the gradient).
    negative = E.mul(E.expm1(E.clamp(x, max=0)), alpha)
    return E.where(E.gt(x, 0), x, negative)


@declare(namespaces=("ember.nn.functional",))
@torch_backward("EluBackward0")
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return maybe_inplace(_elu, "elu_", float_input("elu", input), inplace, alpha)


_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715


def _gelu_rule(g, out, x):
    """``g * (Phi(x) + x * phi(x))``, in Ember ops (so every order works)."""
    cdf = E.mul(E.add(erf(E.mul(x, math.sqrt(0.5))), 1), 0.5)
    density = E.mul(E.exp(E.mul(E.mul(x, x), -0.5)), 1 / math.sqrt(2 * math.pi))
    return (E.mul(g, E.add(cdf, E.mul(x, density))),)


_gelu = primitive(
    "gelu", backend_fused.gelu, _gelu_rule, jvp="elementwise", batch="elementwise",
    formula="d/dx gelu(x) = Phi(x) + x phi(x)",
    fused="speed: erf and the products in one multi-threaded pass, forward and backward",
    fast_rule=lambda xp, g, out, x: (backend_fused.gelu_backward(xp, g, x),),
)


@declare(out="exact", prim=_gelu, namespaces=("ember.nn.functional",))
@torch_backward("GeluBackward0")
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (the normal CDF), exactly with erf or by torch's tanh approximation."""
    x = float_input("gelu", input)
    if approximate == "none":
        return apply(_gelu, x)
    if approximate == "tanh":
        inner = E.mul(E.add(x, E.mul(E.mul(E.mul(x, x), x), _GELU_TANH_CUBIC)), _GELU_TANH_SCALE)
        return E.mul(E.mul(x, 0.5), E.add(E.tanh(inner), 1))
    raise RuntimeError(f"approximate argument must be either none or tanh (got {approximate!r})")


def _silu(x: Tensor) -> Tensor:
    return E.mul(x, E.sigmoid(x))


@declare(namespaces=("ember.nn.functional",))
@torch_backward("SiluBackward0")
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    return maybe_inplace(_silu, "silu_", float_input("silu", input), inplace)


@declare(out="exact", namespaces=("ember.nn.functional",))
def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))`` without overflow: ``x - log1p(exp(x))`` below 0, ``-log1p(exp(-x))`` above."""
    x = float_input("logsigmoid", input)
    below = E.clamp(x, max=0)
    above = E.clamp(x, min=0)
    negative = E.sub(below, E.log1p(E.exp(below)))
    positive = E.neg(E.log1p(E.exp(E.neg(above))))
    return E.where(E.lt(x, 0), negative, positive)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu(x: Tensor) -> Tensor:
    return E.mul(_elu(x, _SELU_ALPHA), _SELU_SCALE)


@declare(namespaces=("ember.nn.functional",))
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return maybe_inplace(_selu, "selu_", float_input("selu", input), inplace)


@declare(prim=_celu, namespaces=("ember.nn.functional",))
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return maybe_inplace(_celu_of, "celu_", float_input("celu", input), inplace, alpha)


@declare(namespaces=("ember.nn.functional",))
def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    _NOT_BOOL("softsign", input)  # a non-tensor: torch's AttributeError, as torch's softsign
    x = E.to_float(input)
    return E.div(x, E.add(E.abs(x), 1))


@declare(namespaces=("ember.nn.functional",))
def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        warn_implicit_dim("softmin", _stacklevel)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return softmax(E.neg(input), dim, dtype)


@declare(namespaces=("ember.nn.functional",))
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return maybe_inplace(_mish_of, "mish_", float_input("mish", input), inplace)


def _hardswish(x: Tensor) -> Tensor:
    # the sloped part strictly inside (-3, 3): torch's derivative is flat at the ends themselves
    inside = E.logical_and(E.gt(x, -3), E.lt(x, 3))
    return E.where(inside, E.div(E.mul(x, E.add(x, 3)), 6), E.where(E.ge(x, 3), x, 0.0))


@declare(namespaces=("ember.nn.functional",))
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return maybe_inplace(_hardswish, "hardswish_", float_input("hardswish", input), inplace)


@declare(prim=_hardsigmoid, namespaces=("ember.nn.functional",))
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return maybe_inplace(_hardsigmoid_of, "hardsigmoid_", float_input("hardsigmoid", input),
                         inplace)


@declare(out="exact", namespaces=("ember.nn.functional",))
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    E.require_tensors("hardshrink", input)
    _NOT_INT("hardshrink", input)
    return E.where(E.le(E.abs(input), lambd), 0.0, input)  # NaN passes through, as torch


@declare(out="exact", namespaces=("ember.nn.functional",))
def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    float_input("softshrink", input)
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    shrunk = E.where(E.lt(input, -lambd), E.add(input, lambd), E.sub(input, lambd))
    return E.where(E.le(E.abs(input), lambd), 0.0, shrunk)  # NaN passes through, as torch


@declare(namespaces=("ember.nn.functional",))
def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return E.sub(input, E.tanh(input))


def _threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    return E.where(E.gt(x, threshold), x, value)


@declare(namespaces=("ember.nn.functional",))
def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    E.require_tensors("threshold", input)
    _NOT_BOOL("threshold", input)
    if input._data.dtype.kind in "iu":  # torch casts both scalars to the input's integer type
        threshold, value = int(threshold), int(value)
    return maybe_inplace(_threshold, "threshold_", input, inplace, threshold, value)


@declare(namespaces=("ember.nn.functional",))
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``a * sigmoid(b)`` for the two halves ``a``, ``b`` of ``input`` along ``dim``."""
    _FLOAT_KERNELS("glu", input)  # a non-tensor: torch's AttributeError, as torch's glu
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.ndim} is size {size}")
    a, b = S.chunk(input, 2, dim)
    return E.mul(a, E.sigmoid(b))


@declare(namespaces=("ember.nn.functional",))
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


def warn_implicit_dim(name: str, stacklevel: int) -> None:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.", stacklevel=stacklevel,
    )
