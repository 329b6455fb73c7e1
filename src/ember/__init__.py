"""Ember: a define-by-run deep-learning framework with a PyTorch-compatible API.

``import ember as torch`` runs PyTorch-style code on NumPy (CPU) or CuPy (GPU).
"""
from __future__ import annotations

from . import ops as _ops  # noqa: F401  (installs the Tensor methods)
from . import autograd, backends, cuda
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .backend import device
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       is_tensor, linspace, logspace, numel, ones, ones_like, rand, rand_like,
                       randint, randint_like, randn, randn_like, randperm, scalar_tensor, tensor,
                       typename, zeros, zeros_like)
from .dtypes import (bool_ as bool, dtype, finfo, float16, float32, float64, get_default_dtype,
                     iinfo, int8, int16, int32, int64, promote as promote_types, set_default_dtype,
                     uint8)
from .dtypes import result_type as _result_type
from .tensor import Size, Tensor
from . import func  # noqa: F401  (ember.func: torch.func's transforms)
from .func import vmap  # torch.vmap is torch.func.vmap
from .lab.derivative_check import check_derivative
from .lab.explain import explain
from ._printing import set_printoptions
from . import distributed, linalg, optim, utils
from .serialization import load, save
from . import distributions, random  # noqa: E402  (ember.random, as torch.random)
from . import special  # noqa: E402,F401  (ember.special, as torch.special)
from .generator import Generator, default_generator
from .ops.random import bernoulli, multinomial, normal, poisson
from .random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

from .ops.registry import derive as _derive, exporter as _exporter

_derive(_exporter("ember", globals()))  # every op declared for the ember namespace, aliases too

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16

__version__ = "0.1.0"


def result_type(tensor1, tensor2) -> dtype:
    """The dtype an op on these two operands produces (torch.result_type)."""
    return _result_type(tensor1, tensor2)


def is_floating_point(input: Tensor):
    """True for float16/32/64 tensors."""
    return input.is_floating_point()


# The rest of torch's namespace that courses use (issue 24): legacy names, devices, threads.
from . import accelerator, functional, testing  # noqa: E402
from .backend import get_default_device, set_default_device  # noqa: E402
from .memory_format import (channels_last, channels_last_3d, contiguous_format,  # noqa: E402
                            memory_format, preserve_format)
from .tensor_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,  # noqa: E402
                           HalfTensor, IntTensor, LongTensor, ShortTensor, set_default_tensor_type)
from .threads import (get_num_interop_threads, get_num_threads, set_num_interop_threads,  # noqa: E402
                      set_num_threads)
from ._inplace_functions import FUNCTIONS as _INPLACE_FUNCTIONS  # noqa: E402
globals().update(_INPLACE_FUNCTIONS)  # torch.sin_(x), torch.relu_(x), ...

from . import nn  # noqa: E402  (last: nn is built from everything above)

# ---- seeing the computation: graph pictures, model summaries (ember.viz)
from . import viz  # noqa: E402
from .viz.summary import summary  # noqa: E402
from . import onnx, profiler  # noqa: E402  (interop: ONNX export, the profiler)
from . import amp  # noqa: E402  (ember.amp: GradScaler)

# ---- ember.compile (torch.compile) and ember.compiler (torch.compiler)
from . import compiler  # noqa: E402
from .compiler import compile  # noqa: E402,A001  (torch.compile shadows the builtin, as torch)
