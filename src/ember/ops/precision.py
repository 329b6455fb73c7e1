"""Mixed precision in the op dispatch: 16-bit floats computed as torch computes them, and autocast.

Two hooks, each in one place of ``ops/registry.py``:

* ``apply`` hands a primitive with a float16 or bfloat16 input to ``forward_for``: the inputs are
  widened to float32, the forward runs there and the result is rounded once to the storage type,
  as torch's CPU kernels do with their float32 "opmath" (sums accumulate in float32 too). Views
  and copies (``reads_inputs=False``) run as they are, so they stay views.
* ``declare`` wraps each op named in an autocast cast list with ``dispatch_wrapper``: while
  ``ember.autocast`` is on for a tensor's device, its floating inputs are cast to the policy's
  dtype (the autocast dtype, float32, or the widest one), and the op runs with autocast off
  inside (torch excludes nested ops from autocast the same way). The same wrapper runs a few
  composites (softmax, layer_norm, gelu, ...) whole in float32 for 16-bit inputs, as torch's
  single kernels for them do.
"""
from __future__ import annotations

import functools
from typing import Callable

from .. import backend, dtypes
from ..tensor import Tensor


# ---------------------------------------------------------------------------- 16-bit floats

def forward_for(prim, arrays: list) -> Callable:
    """The forward to run for ``prim`` on ``arrays``: its own, unless a 16-bit float is among them."""
    if not prim.reads_inputs:  # a view or a copy: exact in any dtype, and must stay a view
        return prim.forward
    target = None
    for a in arrays:
        if a.dtype.kind in dtypes.FLOAT_KINDS and (a.ndim or dtypes.is_low_precision(a.dtype)):
            # a 0-d float32 beside 16-bit tensors is a Python number (``scalar_dtype``): not a type
            target = a.dtype if target is None else backend.numpy.promote_types(target, a.dtype)
    if target is None or not dtypes.is_low_precision(target):
        return prim.forward
    return functools.partial(_widened, prim.forward, target)


# torch's CPU kernels that read a Python number beside a 16-bit float in float32, unrounded (its
# other binary ops round the number to the tensor's type first); ``None``: a Scalar argument
# (lerp's weight, addcmul's value), also read in float32.
FLOAT32_SCALARS = frozenset({"mul", "div", "floor_divide", None})


def scalar_dtype(np_dtype, op: str | None = None):
    """The NumPy dtype a Python number takes beside a tensor of ``np_dtype`` in ``op``: float32
    where torch reads it so beside a 16-bit float, else ``np_dtype``."""
    if op in FLOAT32_SCALARS and dtypes.is_low_precision(np_dtype):
        return backend.numpy.dtype("float32")
    return np_dtype


def _widened(forward: Callable, target, xp, *arrays, **kw):
    """``forward`` on the 16-bit floats of ``arrays`` widened to float32, its floating result
    rounded to ``target`` (unless the op was given its result's ``dtype``)."""
    wide = [a.astype(xp.float32) if dtypes.is_low_precision(a.dtype) else a for a in arrays]
    out = forward(xp, *wide, **kw)
    if "dtype" in kw or getattr(out, "dtype", None) is None or out.dtype.kind != "f":
        return out
    return out.astype(target)


# ---------------------------------------------------------------------------- autocast state

class _Autocast:
    """Autocast's switches per device type: ``enabled`` and ``dtype`` as ``ember.autocast`` set
    them; ``on`` is the one check the wrapped ops read (some device enabled, and not inside an
    op autocast already dispatched); ``cache`` holds the casts of weights made in the region."""

    __slots__ = ("enabled", "dtype", "on", "cache_enabled", "nesting", "cache")

    def __init__(self) -> None:
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype: dict = {"cpu": None, "cuda": dtypes.float16}  # cpu: bfloat16, made lazily
        self.on = False
        self.cache_enabled = True
        self.nesting = 0  # autocast regions entered: the weight cache empties when it reaches 0
        self.cache: dict = {}

    def refresh(self) -> None:
        """Recompute ``on`` after a switch changed."""
        self.on = any(self.enabled.values())


AUTOCAST = _Autocast()


def _check_device(device_type: str) -> str:
    if device_type not in AUTOCAST.enabled:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast runs on ``device_type`` ("cpu" and "cuda" in Ember)."""
    return device_type in AUTOCAST.enabled


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` (torch's deprecated no-argument form: cuda)."""
    return AUTOCAST.enabled[_check_device(device_type)]


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Turn autocast on or off for ``device_type`` (what ``ember.autocast`` does on entry)."""
    AUTOCAST.enabled[_check_device(device_type)] = bool(enabled)
    AUTOCAST.refresh()


def get_autocast_dtype(device_type: str) -> dtypes.dtype:
    """The lower-precision dtype autocast uses on ``device_type`` (cpu: bfloat16, cuda: float16)."""
    d = AUTOCAST.dtype[_check_device(device_type)]
    return dtypes.bfloat16_dtype() if d is None else d


def set_autocast_dtype(device_type: str, dtype: dtypes.dtype) -> None:
    """Set the lower-precision dtype autocast uses on ``device_type``."""
    AUTOCAST.dtype[_check_device(device_type)] = dtypes.to_dtype(dtype)


def is_autocast_cache_enabled() -> bool:
    """Whether autocast keeps the casts of leaf weights for reuse inside its region."""
    return AUTOCAST.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    AUTOCAST.cache_enabled = bool(enabled)


# ---------------------------------------------------------------------------- cast policies
# torch's per-op lists ("Autocast Op Reference" of torch.amp), by Ember's op names. "lower": to the
# autocast dtype; "float32": to float32; "promote": to the widest floating type among the inputs.
# torch's ops Ember names otherwise: _convolution -> convN, cross_entropy_loss -> cross_entropy,
# nll_loss2d -> nll_loss, grid_sampler -> grid_sample, linalg_* and fft_* -> their linalg names.

_CPU_LOWER = (
    "_convolution", "conv1d", "conv2d", "conv3d", "bmm", "mm", "vecdot", "baddbmm", "addmm",
    "addbmm", "linear", "matmul", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu",
    "scaled_dot_product_attention",
)
_CPU_FLOAT32 = (
    "avg_pool3d", "binary_cross_entropy", "grid_sample", "prod", "quantile", "nanquantile", "cdist",
    "trace", "cholesky", "cholesky_inverse", "cholesky_solve", "inverse", "lu_solve", "pinverse",
    "max_pool3d", "max_unpool2d", "max_unpool3d", "adaptive_avg_pool3d", "mse_loss",
    "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss", "poisson_nll_loss",
    "smooth_l1_loss", "cross_entropy", "l1_loss", "huber_loss", "margin_ranking_loss",
    "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "ctc_loss", "kl_div",
    "multilabel_margin_loss", "binary_cross_entropy_with_logits", "cond", "matrix_rank", "solve",
    "linalg.cholesky", "svdvals", "eigvals", "eigvalsh", "inv", "householder_product", "tensorinv",
    "tensorsolve", "qr", "svd", "triangular_solve", "fractional_max_pool2d", "fractional_max_pool3d",
    "adaptive_max_pool3d", "linalg.qr", "cholesky_ex", "linalg.svd", "eig", "eigh", "lstsq", "inv_ex",
)
_CUDA_LOWER = (
    "_convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "addbmm", "addmm", "addmv", "addr", "baddbmm", "bmm", "chain_matmul", "multi_dot", "linear",
    "matmul", "mm", "mv", "prelu", "scaled_dot_product_attention",
)
_CUDA_FLOAT32 = (
    "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal",
    "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm", "group_norm", "norm", "nuclear_norm",
    "frobenius_norm", "cosine_similarity", "poisson_nll_loss", "cosine_embedding_loss", "nll_loss",
    "hinge_embedding_loss", "kl_div", "l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss",
    "margin_ranking_loss", "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss",
    "multi_margin_loss", "binary_cross_entropy_with_logits", "dist", "pdist", "cdist", "renorm",
    "logsumexp", "sum", "prod", "cumprod", "cumsum", "softmax", "log_softmax", "cross_entropy",
)
_CUDA_PROMOTE = ("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "grid_sample",
                 "index_put", "scatter_add", "tensordot")

POLICIES: dict[str, dict[str, str]] = {
    "cpu": {**dict.fromkeys(_CPU_LOWER, "lower"), **dict.fromkeys(_CPU_FLOAT32, "float32")},
    "cuda": {**dict.fromkeys(_CUDA_LOWER, "lower"), **dict.fromkeys(_CUDA_FLOAT32, "float32"),
             **dict.fromkeys(_CUDA_PROMOTE, "promote")},
}


# Composites torch computes in one kernel, in float32 for 16-bit inputs: run whole in float32 here
# too (one rounding at the end, torch's values). Ops that write into their inputs (``inplace=``,
# batch norm's running statistics) are not listed: widening would copy what they must change.
OPMATH = ("softmax", "softmin", "layer_norm", "group_norm", "rms_norm", "gelu", "softplus",
          "logsigmoid", "glu", "var_mean", "std_mean", "vector_norm", "linalg.norm", "mse_loss",
          "smooth_l1_loss", "huber_loss", "cosine_similarity", "logaddexp2", "hypot")


# CUDA's lists matter only where CuPy imports: elsewhere its ops stay unwrapped, at no cost
_DEVICES = ("cpu", "cuda") if backend.cuda_module_importable() else ("cpu",)


def _policy_names(name: str) -> tuple:
    """The names an op is listed under: its full name and the one it is exported as."""
    short = name.rpartition(".")[2]
    return (name,) if short == name else (name, short)


def dispatch_wrapper(name: str, fn: Callable, composite: bool) -> Callable:
    """``fn`` with autocast's casts (when a cast list names it) and, for a listed composite, its
    16-bit inputs computed in float32; ``fn`` itself for every other op."""
    rules = {}
    for device_type in _DEVICES:
        policy = POLICIES[device_type]
        for key in _policy_names(name):
            if key in policy:
                rules[device_type] = policy[key]
                break
    opmath = composite and name in OPMATH
    if not rules and not opmath:
        return fn

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if AUTOCAST.on and any(AUTOCAST.enabled[d] for d in rules):  # listed where autocast is on
            return _autocast_call(fn, rules, opmath, args, kwargs)
        if opmath:
            return _run(fn, opmath, args, kwargs)
        return fn(*args, **kwargs)  # the common case: one check, one call

    op.autocast_policy = rules  # per device type: "lower", "float32" or "promote"
    return op


def _autocast_call(fn: Callable, rules: dict, opmath: bool, args: tuple, kwargs: dict):
    """``fn`` on its inputs cast as ``rules`` say, with the ops inside it run as called (torch's
    autocast kernels call theirs with autocast excluded)."""
    args, kwargs = _cast_inputs(rules, args, kwargs)
    AUTOCAST.on = False
    try:
        return _run(fn, opmath, args, kwargs)
    finally:
        AUTOCAST.refresh()


def listed(name: str) -> Callable:
    """Decorate an internal function torch's cast lists name (``_convolution``, which the conv
    layers call without the public op): the same policy as a declared op."""
    return lambda fn: dispatch_wrapper(name, fn, composite=False)


def _run(fn: Callable, opmath: bool, args: tuple, kwargs: dict):
    """``fn(*args, **kwargs)``; with ``opmath``, 16-bit float inputs widened to float32 and the
    floating results rounded back (unless a ``dtype`` argument chose the result's type)."""
    first = args[0] if args else None
    if not (opmath and isinstance(first, Tensor) and dtypes.is_low_precision(first._data.dtype)):
        return fn(*args, **kwargs)
    low = _low_dtype(args, kwargs) if kwargs.get("dtype") is None else None
    if low is None:
        return fn(*args, **kwargs)
    wide = dtypes.float32
    wide_kwargs = dict(zip(kwargs, _map_tensors(kwargs.values(), low, wide)))
    out = fn(*_map_tensors(args, low, wide), **wide_kwargs)
    if isinstance(out, tuple):  # var_mean, std_mean
        return _map_tensors(out, wide, low)
    return _map_tensors((out,), wide, low)[0]


def _low_dtype(args: tuple, kwargs: dict):
    """The one 16-bit float dtype among the tensor arguments (None if none, or if mixed)."""
    found = None
    for v in (*args, *kwargs.values()):
        if isinstance(v, Tensor) and v._data.dtype.kind in dtypes.FLOAT_KINDS:
            if not dtypes.is_low_precision(v._data.dtype):
                return None  # a wider float among them: ordinary promotion decides
            found = v.dtype
    return found


def _map_tensors(values, source: dtypes.dtype, target: dtypes.dtype) -> tuple:
    """``values`` with the tensors of dtype ``source`` cast to ``target``."""
    return tuple(E.cast(v, target) if isinstance(v, Tensor) and v.dtype is source else v
                 for v in values)


def _eligible(t) -> bool:
    """A tensor autocast may cast: floating, not float64, on a device where autocast is on."""
    return (isinstance(t, Tensor) and t._data.dtype.kind in dtypes.FLOAT_KINDS
            and t._data.dtype.itemsize < 8 and AUTOCAST.enabled.get(t.device.type, False))


def _target(rule: str, device_type: str, widest: dtypes.dtype) -> dtypes.dtype:
    """The dtype a policy casts to on ``device_type``."""
    if rule == "lower":
        return get_autocast_dtype(device_type)
    return dtypes.float32 if rule == "float32" else widest


def _cast_inputs(rules: dict, args: tuple, kwargs: dict) -> tuple:
    """The arguments with each eligible tensor cast as its device's policy says."""
    widest = None
    for v in (*args, *kwargs.values()):
        if _eligible(v):
            widest = v.dtype if widest is None else dtypes.promote(widest, v.dtype)

    def cast(v):
        rule = rules.get(v.device.type) if _eligible(v) else None
        if rule is None:
            return v
        target = _target(rule, v.device.type, widest)
        return v if v.dtype is target else _cached_cast(v, target)

    return tuple(cast(a) for a in args), {k: cast(v) for k, v in kwargs.items()}


def _cached_cast(t: Tensor, target: dtypes.dtype) -> Tensor:
    """``t`` cast to ``target``; a leaf that requires grad (a weight) is cast once per autocast
    region while the cache is enabled, as torch does."""
    if not (AUTOCAST.cache_enabled and t.requires_grad and t.grad_fn is None):
        return E.cast(t, target)
    key = (id(t), target)
    hit = AUTOCAST.cache.get(key)
    if hit is None or hit[0] is not t or hit[0]._version != hit[2]:
        hit = AUTOCAST.cache[key] = (t, E.cast(t, target), t._version)
    return hit[1]


# ``cast`` is an op of elementwise, which declares its ops through the registry that imports this
# module: imported last, as the registry imports the op families it needs.
from . import elementwise as E  # noqa: E402
