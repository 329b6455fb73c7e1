"""Training utilities, as torch.nn.utils: gradient clipping."""
from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

# ---- parameter vectors, parametrisations, weight/spectral norm, pruning, fusion (issue 24)
from . import parametrizations, parametrize, prune  # noqa: E402
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: E402
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: E402
                     fuse_linear_bn_weights)
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402

__all__ += ["parameters_to_vector", "vector_to_parameters", "parametrizations", "parametrize",
            "prune", "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
            "fuse_linear_bn_weights", "spectral_norm", "remove_spectral_norm", "weight_norm",
            "remove_weight_norm"]
