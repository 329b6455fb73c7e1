"""Training utilities, as torch.nn.utils: gradient clipping, parameter vectors,
parametrisations (and the older hook-based weight and spectral norms), pruning and
conv/batch-norm fusion."""
from . import parametrizations, parametrize, prune
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,
                     fuse_linear_bn_weights)
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters",
           "parametrizations", "parametrize", "prune", "fuse_conv_bn_eval", "fuse_conv_bn_weights",
           "fuse_linear_bn_eval", "fuse_linear_bn_weights", "spectral_norm", "remove_spectral_norm",
           "weight_norm", "remove_weight_norm"]
