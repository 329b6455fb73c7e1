"""Fuzz reductions, scans and softmax against torch: edge values, empty and 0-d inputs, bad dims."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import ember
from fuzzlib import budget, check, dims, reduction_atol, tensor_arrays

# name -> how its dim argument may look: "any" (None/int/tuple), "int" or "int?" (int or None)
DIM_KIND = {
    "sum": "any", "mean": "any", "amax": "any", "amin": "any", "logsumexp": "any",
    "var": "any", "std": "any", "norm": "any", "prod": "int?", "argmax": "int?",
    "argmin": "int?", "max": "int?", "min": "int?", "cumsum": "int", "softmax": "int",
    "log_softmax": "int",
}
KEEPDIM = {"sum", "mean", "amax", "amin", "logsumexp", "var", "std", "norm", "prod", "argmax",
           "argmin", "max", "min"}


@st.composite
def reduction_calls(draw):
    """An op, an input (bounded edge values, so sums cannot overflow by order) and its arguments."""
    name = draw(st.sampled_from(sorted(DIM_KIND)))
    x = draw(tensor_arrays(bounded=True))
    kind = DIM_KIND[name]
    kwargs = {}
    dim = draw(dims(x.ndim, allow_none=kind != "int", allow_tuple=kind == "any"))
    if name == "logsumexp" and dim == ():
        dim = None  # torch 2.13 fails on logsumexp(x, dim=()) with a shape error (its bug)
    if dim is not None:
        kwargs["dim"] = dim
    # keepdim only with dim: torch's signatures refuse sum(x, keepdim=True), a parsing quirk
    if name in KEEPDIM and dim is not None and draw(st.booleans()):
        kwargs["keepdim"] = True
    if name in ("var", "std") and draw(st.booleans()):
        kwargs["correction"] = draw(st.sampled_from([0, 1, 2]))
    if name == "norm":
        kwargs["p"] = draw(st.sampled_from([1, 2, 3, 0.5, float("inf"), float("-inf"), 0, "fro"]))
    if name in ("sum", "prod", "cumsum") and draw(st.integers(0, 4)) == 0:
        kwargs["dtype"] = draw(st.sampled_from(["float32", "float64", "int64"]))
    return name, x, kwargs


def _dtype(lib, kwargs: dict) -> dict:
    if "dtype" not in kwargs:
        return kwargs
    return {**kwargs, "dtype": getattr(lib, kwargs["dtype"])}


@budget(600)
@given(call=reduction_calls())
def test_reduction(call):
    name, x, kwargs = call
    if getattr(ember, name, None) is None or (name == "prod" and _prod_order_matters(x)):
        return
    check(name, lambda t, **kw: getattr(ember, name)(t, **_dtype(ember, kw)),
          lambda t, **kw: getattr(torch, name)(t, **_dtype(torch, kw)),
          (x,), kwargs, atol=reduction_atol(x),
          grads=not (_std_is_noise(name, x, kwargs) or _torch_var_bug(name, kwargs)))


def _prod_order_matters(x) -> bool:
    """With an inf and numbers whose product underflows, a product is inf or nan (0 * inf) by the
    order of its factors, and torch multiplies in vector-width chunks."""
    if x.dtype.kind != "f":
        return False
    small = (np.abs(x) < np.sqrt(np.finfo(x.dtype).tiny)) & (x != 0)
    return bool(np.isinf(x).any() and small.any())


def _torch_var_bug(name: str, kwargs: dict) -> bool:
    """torch 2.13's var/std backward with dim=() divides by n = 1 (its forward reduces all)."""
    return name in ("var", "std") and kwargs.get("dim") == ()


def _std_is_noise(name: str, x, kwargs: dict) -> bool:
    """A std below eps * max|x| is rounding noise (torch's Welford and Ember's two passes give
    different noise), and its gradient (x - mean) / std is then noise / noise."""
    if name != "std" or x.dtype.kind != "f" or not x.size:
        return False
    try:
        s = torch.std(torch.from_numpy(x).double(), **{k: v for k, v in kwargs.items() if k != "dtype"})
    except (RuntimeError, IndexError, TypeError):
        return False
    finite = np.abs(x[np.isfinite(x)])
    scale = float(finite.max()) if finite.size else 0.0
    return bool(((s.abs() <= scale * 1e-6) & (s != 0)).any())
