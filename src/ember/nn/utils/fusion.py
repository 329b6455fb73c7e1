"""Fold an evaluation-mode batch norm into the preceding convolution or linear layer
(torch.nn.utils.fusion): one layer computing ``bn(conv(x))``, for faster inference."""
from __future__ import annotations

import copy

from ...creation import ones_like, zeros_like
from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter


def _check_eval(layer: Module, bn: Module) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def _fold(weight: Tensor, bias: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
          bn_w: Tensor | None, bn_b: Tensor | None, scale_shape: list) -> tuple:
    """``weight * s`` (s reshaped to ``scale_shape``) and ``(bias - mean) * s + beta``, with
    ``s = gamma / sqrt(var + eps)``, as Parameters of the layer's dtypes."""
    bias_dtype = bias.dtype if bias is not None else weight.dtype
    bias_grad = bias.requires_grad if bias is not None else False
    if bias is None:
        bias = zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ones_like(bn_rm)
    if bn_b is None:
        bn_b = zeros_like(bn_rm)
    scale = bn_w * (bn_rv + bn_eps).rsqrt()
    fused_w = (weight * scale.reshape(scale_shape)).to(dtype=weight.dtype)
    fused_b = ((bias - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, weight.requires_grad), Parameter(fused_b, bias_grad)


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple:
    """The fused convolution weight and bias (output channels on dim 1 when ``transpose``)."""
    rest = [1] * (conv_w.ndim - 2)
    shape = [1, -1] + rest if transpose else [-1, 1] + rest
    return _fold(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, shape)


def fuse_conv_bn_eval(conv: Module, bn: Module, transpose: bool = False) -> Module:
    """A copy of ``conv`` computing ``bn(conv(x))`` in evaluation mode."""
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean,
                                                    bn.running_var, bn.eps, bn.weight, bn.bias,
                                                    transpose)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor, bn_b: Tensor) -> tuple:
    """The fused linear weight and bias."""
    return _fold(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, [-1, 1])


def fuse_linear_bn_eval(linear: Module, bn: Module) -> Module:
    """A copy of ``linear`` computing ``bn(linear(x))`` in evaluation mode."""
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
            f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean,
                                                      bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
