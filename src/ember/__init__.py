"""Ember: a define-by-run deep-learning framework with a PyTorch-compatible API.

``import ember as torch`` runs PyTorch-style code on NumPy (CPU) or CuPy (GPU).
"""
from __future__ import annotations

from . import ops as _ops  # noqa: F401  (installs the Tensor methods)
from . import autograd, backends, cuda
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .backend import device
from .creation import (Generator, arange, as_tensor, bernoulli, empty, empty_like, eye,
                       from_numpy, full, full_like, get_rng_state, initial_seed, is_tensor,
                       linspace, logspace, manual_seed, normal, numel, ones, ones_like, rand,
                       rand_like, randint, randint_like, randn, randn_like, randperm, scalar_tensor,
                       seed, set_rng_state, tensor, typename, zeros, zeros_like)
from .dtypes import (bool_ as bool, dtype, finfo, float16, float32, float64, get_default_dtype,
                     iinfo, int8, int16, int32, int64, promote as promote_types, set_default_dtype,
                     uint8)
from .ops.activation import log_softmax, softmax
from .ops.elementwise import (abs, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil,
                              clamp, cos, div, eq, exp, expm1, floor, floor_divide, ge, gt,
                              isfinite, isinf, isnan, le, log, log1p, log2, log10, logical_and,
                              logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, ne,
                              neg, reciprocal, relu, remainder, round, rsqrt, sigmoid, sign, sin,
                              sqrt, square, sub, tan, tanh, trunc, where)
from .ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d
from .ops.elementwise import _pow as pow
from .ops.elementwise import (addcdiv, addcmul, allclose, clamp_max, clamp_min, isclose, lerp,
                              nan_to_num)
from .ops.trig import acos, acosh, asin, asinh, atan, atan2, atanh, cosh, exp2, logaddexp, sinh
from .ops.sort import argsort, msort, sort, topk
from .ops.einsum import einsum, tensordot
from .ops.index import (gather, index_select, masked_fill, masked_select, narrow, nonzero,
                        scatter_add, take_along_dim, tril, triu)
from .ops.linalg import addmm, bmm, diag, diagonal, dot, ger, inner, matmul, mm, mv, outer, trace
from .ops.methods import clone
from .ops.pool import avg_pool1d, max_pool1d, max_pool2d
from .ops.special import erf, erfc, erfinv
from .ops.reduce import (all, amax, amin, any, equal, argmax, argmin, count_nonzero, cumsum,
                         logsumexp, max, mean, min, norm, prod, std, std_mean, sum, var, var_mean)
from .ops.shape import (broadcast_tensors, broadcast_to, cat, chunk, concat, concatenate,
                        cross, diff, flatten, flip, hstack, kron, meshgrid, movedim, permute, ravel,
                        repeat, reshape, roll, split, squeeze, stack, t, tile, transpose, unbind,
                        unflatten, unsqueeze, vstack)
from .ops.legacy_linalg import (cholesky, cholesky_inverse, cholesky_solve, lu, lu_solve, qr, svd,
                                triangular_solve)
from .ops.decompositions import lu_unpack
from .ops.linalg import det, inv as inverse
from .ops.matrix_functions import (householder_product as orgqr, logdet, matrix_exp,
                                   matrix_power, pinverse, slogdet)
from .ops.builders import (block_diag, cartesian_prod, chain_matmul, combinations, diag_embed,
                           diagflat, repeat_interleave, tril_indices, triu_indices, vander)
from .ops.distance import cdist, pdist
from .ops.integrate import cumulative_trapezoid, trapezoid, trapz
from .ops.products import addbmm, addmv, addr, baddbmm, bilinear
from .ops.stacking import (as_strided, atleast_1d, atleast_2d, atleast_3d, column_stack, dsplit,
                           dstack, fliplr, flipud, hsplit, narrow_copy, rot90, row_stack,
                           tensor_split, vsplit)
from .ops.statistics import corrcoef, cov
from .tensor import Size, Tensor
from . import func  # noqa: F401  (ember.func: torch.func's transforms)
from .derivative_check import check_derivative
from .explain import explain
from ._printing import set_printoptions
from . import distributed, linalg, optim, utils
from .serialization import load, save

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
clip = clamp
moveaxis = movedim
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh
sgn = sign
swapaxes = transpose
swapdims = transpose
multiply = mul
divide = div
subtract = sub
negative = neg
true_divide = div
greater = gt
less = lt

__version__ = "0.1.0"


def result_type(tensor1, tensor2) -> dtype:
    """The dtype an op on these two operands produces (torch.result_type)."""
    from .dtypes import result_type as _rt

    return _rt(tensor1, tensor2)


def is_floating_point(input: Tensor):
    """True for float16/32/64 tensors."""
    return input.is_floating_point()


from . import nn  # noqa: E402  (last: nn is built from everything above)
