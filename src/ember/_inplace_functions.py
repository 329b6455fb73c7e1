"""torch's in-place functions in its namespace: ``torch.sin_(x)`` is ``x.sin_()``.

torch gives the in-place form of most one-input elementwise ops (and a few others) a function
besides the method; which ones is torch's choice (its ``native_functions.yaml``), so the names
are listed here, and each calls the Tensor method the op's declaration installs.
"""
from __future__ import annotations

from typing import Callable

from .tensor import Tensor

# torch 2.13's in-place functions whose method Ember's Tensor has (``index_put_`` is an op)
NAMES = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_",
    "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_",
    "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_", "lcm_", "ldexp_",
    "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "relu_", "resize_as_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_",
    "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
)


def _function(name: str) -> Callable:
    """``name(input, ...)``: ``input.name(...)``, refusing a non-tensor as torch does."""

    def fn(input: Tensor, *args, **kwargs) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, "
                            f"not {type(input).__name__}")
        return getattr(Tensor, name)(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In-place ``input.{name}(...)``, torch's ``torch.{name}``."
    return fn


# what ``ember`` exports: name -> function
FUNCTIONS = {name: _function(name) for name in NAMES}
