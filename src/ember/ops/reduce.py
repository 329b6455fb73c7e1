"""Reductions: sum, mean, prod, max/min, var/std, norm, logsumexp, cumsum, argmax.

``sum_to`` is the one place broadcasting is undone: every broadcasting rule calls it.
"""
from __future__ import annotations

import functools
import warnings

from .. import dtypes
from ..arguments import int_arg, ints_arg
from ..autograd.grad_mode import STATE
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import shape as S
from .registry import apply, batch_dims, declare, primitive, user_op
from . import index as I
from ..autograd.engine import torch_backward


def normalize_dims(dim, ndim: int, op: str) -> tuple:
    """``dim`` (None, int, or sequence, possibly negative) as a sorted tuple of axes.

    None and an empty sequence mean every axis, as torch; a 0-d tensor accepts dim 0 or -1,
    which reduces nothing.
    """
    if dim is None or (isinstance(dim, (list, tuple)) and not dim):
        return tuple(range(ndim))
    dim = ints_arg(dim, op, "dim") if isinstance(dim, (list, tuple)) else int_arg(dim, op, "dim")
    if isinstance(dim, (list, tuple)):
        dims = tuple(_wrap_dim(int(d), ndim, op) for d in dim)
        repeated = [d for d in dims if dims.count(d) > 1]
        if repeated:
            raise RuntimeError(f"{op}: dim {repeated[0]} appears multiple times in the list of dims")
    else:
        dims = (_wrap_dim(int(dim), ndim, op),)
    return tuple(sorted(dims)) if ndim else ()


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def expand_back(g: Tensor, x_shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """A reduced tensor broadcast back over the reduced axes of ``x_shape``.

    Extra leading dimensions (a batch of cotangents) are kept: they are whatever ``g`` has
    beyond the rank of the reduced result.
    """
    reduced_rank = len(x_shape) if keepdim else len(x_shape) - len(axes)
    lead = g._data.shape[:g._data.ndim - reduced_rank]
    leading = not lead and axes == tuple(range(len(axes)))  # broadcasting restores these itself
    if not keepdim and axes and not leading:
        g = S.reshape_to(g, lead + _keep_shape(x_shape, axes))
    return S.expand_to(g, lead + tuple(x_shape))


# ---------------------------------------------------------------------------- sum / mean

_sum = primitive(
    "sum",
    lambda xp, x, axes, keepdim: x.sum(axis=axes, keepdims=keepdim,
                                       dtype=None if x.dtype.kind == "f" else xp.int64),
    lambda g, out, x, axes, keepdim: (expand_back(g, x._data.shape, axes, keepdim),),
    jvp="linear", formula="d/dx_i sum(x) = 1", batch="dims",
)


def cast_for(op: str, input: Tensor, dtype) -> Tensor:
    """``input`` in the ``dtype=`` of a reduction; torch refuses an integer one for a tensor that
    needs grad (the result could not carry it)."""
    d = dtypes.to_dtype(dtype)
    if not d.is_floating_point and input.requires_grad and STATE.enabled:
        raise RuntimeError(f"{op}: Autograd not support dtype: {dtypes.scalar_name(d)} (the input "
                           "requires grad)")
    return E.cast(input, d)


@declare(out=True, prim=_sum, method=True)
@torch_backward(lambda input, dim=None, *a, **k: "SumBackward0" if dim is None else "SumBackward1")
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims by default)."""
    axes = normalize_dims(dim, input._data.ndim, "sum")
    if dtype is not None:
        input = cast_for("sum", input, dtype)
    return apply(_sum, input, axes=axes, keepdim=keepdim)


def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Sum the cotangent ``g`` down to ``shape`` (undoing broadcasting), keeping batch dims."""
    k = batch_dims()
    shape = g._data.shape[:k] + tuple(shape)
    if g._data.shape == shape:
        return g
    lead = g._data.ndim - len(shape)
    axes = tuple(range(k, k + lead)) + tuple(
        lead + i for i, s in enumerate(shape) if i >= k and s == 1 and g._data.shape[lead + i] != 1
    )
    out = apply(_sum, g, axes=axes, keepdim=True) if axes else g
    return S.reshape_to(out, shape)


@declare(out=True, method=True)
@torch_backward(lambda input, dim=None, *a, **k: "MeanBackward0" if dim is None else "MeanBackward1")
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim``."""
    if dtype is not None:
        input = E.cast(input, dtype)
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {dtypes.scalar_name(input.dtype)}"
        )
    axes = normalize_dims(dim, input._data.ndim, "mean")
    n = 1
    for a in axes:
        n *= input._data.shape[a]
    total = apply(_sum, input, axes=axes, keepdim=keepdim)
    return E.div(total, n) if n else E.mul(total, float("nan"))


# ---------------------------------------------------------------------------- prod


def _prod_rule(g, out, x, axes, keepdim, whole=False):
    if x._data.ndim == 0:
        return (g,)
    gx = expand_back(g, x._data.shape, axes, keepdim)
    if whole and len(axes) == x._data.ndim:  # not under vmap, where the batch dim is kept
        return (_whole_prod_grad(gx, out, x),)
    if not bool(x.xp.any(x._data == 0)):
        return (E.div(E.mul(gx, expand_back(out, x._data.shape, axes, keepdim)), x),)
    # With zeros, use the product of the other elements, taken over the reduced axes only.
    return (E.mul(gx, _prod_of_others(x, axes)),)


def _whole_prod_grad(gx: Tensor, out: Tensor, x: Tensor) -> Tensor:
    """torch's gradient of prod(x) over everything: out / x without zeros, else the product of
    the others (nan anywhere a nan is among them); with two or more zeros simply 0."""
    zeros = int((x._data == 0).sum())
    if zeros == 0:
        return E.mul(gx, E.div(out, x))
    if zeros > 1 and not STATE.enabled:  # unless the backward itself is recorded (create_graph)
        return E.const_zeros(gx)
    return E.mul(gx, _prod_of_others(x, tuple(range(x._data.ndim))))


def _prod_of_others(x: Tensor, axes: tuple) -> Tensor:
    """For each element, the product of the others in its reduction group (zeros allowed).

    As torch's ``prod_safe_zeros_backward``: the product of the elements before it (from the
    front) times the product of those after it (from the back), so overflow happens where
    torch's does.
    """
    keep = [i for i in range(x._data.ndim) if i not in axes]
    moved = S.permute(x, keep + list(axes))
    lead = tuple(x._data.shape[i] for i in keep)
    n = 1
    for a in axes:
        n *= x._data.shape[a]
    flat = S.reshape(moved, lead + (n,))
    grid = S.expand(S.unsqueeze(flat, -2), lead + (n, n))  # [..., i, j] = x_j
    position = x.xp.arange(n)
    before = Tensor._make(position[None, :] < position[:, None])  # [i, j]: j < i
    after = Tensor._make(position[None, :] > position[:, None])
    ones = E.const_ones(grid)
    left = prod(E.where(before, grid, ones), -1)
    right = prod(S.flip(E.where(after, grid, ones), -1), -1)
    others = E.mul(left, right)
    back = S.reshape(others, tuple(x._data.shape[i] for i in keep + list(axes)))
    inv = [0] * x._data.ndim
    for pos, ax in enumerate(keep + list(axes)):
        inv[ax] = pos
    return S.permute(back, inv)


_prod = primitive(
    "prod",
    lambda xp, x, axes, keepdim, whole=False: xp.prod(x, axis=axes, keepdims=keepdim,
                                                      dtype=None if x.dtype.kind == "f" else xp.int64),
    _prod_rule, saves_out=True, jvp="reduction",
    formula="d/dx_i prod(x) = prod of the other elements", batch="dims",
)


@declare(out=True, prim=_prod, method=True)
def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over one ``dim`` (or all elements)."""
    axes = normalize_dims(dim, input._data.ndim, "prod")
    if dtype is not None:
        input = cast_for("prod", input, dtype)
    return apply(_prod, input, axes=axes, keepdim=keepdim, whole=dim is None)


# ---------------------------------------------------------------------------- max / min


def _extreme_rule(g, out, x, axes, keepdim, nan_hits=False):
    """Gradient of amax/amin: shared evenly among the elements that attain the extreme.

    ``nan_hits``: a nan result is attained by the nan inputs (torch's max()/min() of everything;
    its amax/amin give nan gradients there instead).
    """
    full = expand_back(out, x._data.shape, axes, keepdim)
    hit = E.eq(x, full)
    if nan_hits:
        hit = E.logical_or(hit, E.logical_and(E.isnan(x), E.isnan(full)))
    count = expand_back(apply(_sum, hit, axes=axes, keepdim=keepdim), x._data.shape, axes, keepdim)
    return (E.div(E.mul(expand_back(g, x._data.shape, axes, keepdim), hit), count),)


def _check_nonempty(x: Tensor, dim, axes: tuple, op: str) -> None:
    """torch's errors for max/min-like reductions of nothing (they have no identity)."""
    if x._data.size and x._data.ndim:
        return
    if dim is None or dim == ():
        if x._data.size == 0:
            raise RuntimeError(
                f"{user_op(op)}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return
    for a in axes:
        if x._data.shape[a] == 0:
            raise IndexError(f"{user_op(op)}(): Expected reduction dim {a} to have non-zero size.")


def _extreme_jvp(tangents, out, x, axes, keepdim, nan_hits=False):
    """torch's forward formula: the tangent read evenly where ``x`` equals the result, so a nan
    result (which no entry equals) has a nan tangent, though backward sends the nans its gradient."""
    (weights,) = _extreme_rule(E.const_ones(out), out, x, axes, keepdim)
    return apply(_sum, E.mul(tangents[0], weights), axes=axes, keepdim=keepdim)


_amax = primitive("amax", lambda xp, x, axes, keepdim, nan_hits=False: x.max(axis=axes, keepdims=keepdim),
                  _extreme_rule, saves_out=True, jvp=_extreme_jvp,
                  formula="d/dx_i max(x) = [x_i is the max] / #max", batch="dims")
_amin = primitive("amin", lambda xp, x, axes, keepdim, nan_hits=False: x.min(axis=axes, keepdims=keepdim),
                  _extreme_rule, saves_out=True, jvp=_extreme_jvp,
                  formula="d/dx_i min(x) = [x_i is the min] / #min", batch="dims")


def _nonempty_first(input: Tensor, dim, op: str) -> None:
    """torch checks max/min reduction dims for zero size before it looks for repeated dims."""
    if isinstance(dim, (list, tuple)) and len(dim) > 1 and input._data.size == 0:
        _check_nonempty(input, dim, tuple(_wrap_dim(int(d), input._data.ndim, op) for d in dim), op)


@declare(out="exact", prim=_amax, method=True)
def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (all dims when empty); ties share the gradient."""
    _nonempty_first(input, dim, "amax")
    axes = normalize_dims(dim, input._data.ndim, "amax")
    _check_nonempty(input, dim, axes, "amax")
    return apply(_amax, input, axes=axes, keepdim=keepdim)


@declare(out="exact", prim=_amin, method=True)
def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (all dims when empty); ties share the gradient."""
    _nonempty_first(input, dim, "amin")
    axes = normalize_dims(dim, input._data.ndim, "amin")
    _check_nonempty(input, dim, axes, "amin")
    return apply(_amin, input, axes=axes, keepdim=keepdim)


def _arg(name: str, fn):
    prim = primitive(name, fn, None, formula="not differentiable (indices)", batch="dims")

    def op(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
        if input._data.dtype.kind == "b":
            raise RuntimeError(f"{name}(): does not support bool input")
        if dim is None:
            if input._data.size == 0:
                raise IndexError(
                    f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
                )
            flat = S.reshape(input, (-1,))
            out = apply(prim, flat, axis=0, keepdim=False)
            return S.reshape(out, (1,) * input._data.ndim) if keepdim else out
        axis = _wrap_dim(dim, input._data.ndim, name)
        if input._data.ndim == 0:
            return E.const_zeros(E.cast(input, dtypes.int64))
        _check_nonempty(input, dim, (axis,), name)
        return apply(prim, input, axis=axis, keepdim=keepdim)

    op.__name__ = name
    op.__doc__ = f"Index of the {name[3:]} value along ``dim`` (of the flattened tensor without it)."
    op.primitive = prim
    return op


argmax = declare(_arg("argmax", lambda xp, x, axis, keepdim: xp.argmax(x, axis=axis, keepdims=keepdim)),
                 method=True, out="exact")
argmin = declare(_arg("argmin", lambda xp, x, axis, keepdim: xp.argmin(x, axis=axis, keepdims=keepdim)),
                 method=True, out="exact")


class ValuesIndices(tuple):
    """``(values, indices)`` as torch returns from max/min/sort with a dim."""

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"return_types(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _max_min(input: Tensor, dim, keepdim, other, which: str):
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return (E.maximum if which == "max" else E.minimum)(input, other)
    if dim is None:
        _check_nonempty(input, None, (), which)
        axes = tuple(range(input._data.ndim))
        return apply(_amax if which == "max" else _amin, input, axes=axes, keepdim=False, nan_hits=True)
    ranked = E.cast(input, dtypes.uint8) if input._data.dtype.kind == "b" else input  # max(bool) is fine
    idx = (argmax if which == "max" else argmin)(ranked, dim, keepdim=True)
    if input._data.ndim == 0:
        return ValuesIndices((input, S.reshape(idx, ())))
    axis = _wrap_dim(dim, input._data.ndim, which)
    values = I.gather(input, axis, idx)
    if not keepdim:
        values = S.squeeze(values, axis)
        idx = S.squeeze(idx, axis)
    return ValuesIndices((values, idx))


@declare(out=True, method=True)
@torch_backward(lambda input, dim=None, *a, other=None, **k:
                "MaxBackward1" if dim is None and other is None else None)
def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices); ``max(x, y)``: maximum."""
    return _max_min(input, dim, keepdim, other, "max")


@declare(out=True, method=True)
def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``min(x)``: the smallest value; ``min(x, dim)``: (values, indices); ``min(x, y)``: minimum."""
    return _max_min(input, dim, keepdim, other, "min")


# ---------------------------------------------------------------------------- statistics


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default, as torch)."""
    return _moment(_var, "var", input, dim, unbiased, keepdim, correction)


def _moment(prim, op: str, input: Tensor, dim, unbiased, keepdim: bool, correction) -> Tensor:
    """var or std (``prim``) as ``op`` was called; torch's warning when no degrees of freedom are
    left (the result is then inf or nan)."""
    dim, correction = _var_args(input, dim, unbiased, correction)
    axes = normalize_dims(dim, input._data.ndim, op)
    if _count(input._data.shape, axes) - correction <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    return apply(prim, input, axes=axes, keepdim=keepdim, correction=correction, whole=dim is None)


def _var_args(input: Tensor, dim, unbiased, correction) -> tuple:
    """``(dim, correction)`` from torch's overloads: ``var(x, dim)`` may pass dim as ``unbiased``."""
    if isinstance(unbiased, (tuple, list)) or (isinstance(unbiased, int) and not isinstance(unbiased, bool)):
        dim, unbiased = unbiased, None  # var(x, 1) means dim 1
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(f"std and var only support floating point and complex dtypes (got {input.dtype})")
    return dim, correction


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _var_fwd(xp, x, axes, keepdim, correction, whole=False, root=False):
    # in double precision, as torch's CPU kernel (float32 squares of tiny values underflow);
    # ``root`` takes std's square root before the result goes back to the input's dtype
    wide = x.astype(xp.float64, copy=False)
    centred = wide - wide.mean(axis=axes, keepdims=True)
    total = (centred * centred).sum(axis=axes, keepdims=keepdim)
    dof = _count(x.shape, axes) - correction
    out = total / (dof if dof > 0 else 0)  # no degrees of freedom: inf or nan, as torch
    return (xp.sqrt(out) if root else out).astype(x.dtype, copy=False)


def _var_rule(g, out, x, axes, keepdim, correction, whole=False, root=False):
    """torch's var_backward: 2 (x - mean) / (n - correction); over everything (or a 0-d x) with
    no degrees of freedom, nan where x is the mean and inf elsewhere. For std, first
    d std = d var / (2 std), with 0 where std is 0."""
    if root:
        g = E.where(E.eq(out, 0), E.const_zeros(g), E.div(g, E.mul(out, 2)))
    dof = _count(x._data.shape, axes) - correction
    g = expand_back(g, x._data.shape, axes, keepdim)
    m = mean(x, axes, keepdim=True)
    if (whole or x._data.ndim == 0) and dof <= 0:
        return (E.mul(g, E.where(E.eq(x, m), float("nan"), float("inf"))),)
    return (E.mul(g, E.mul(E.sub(x, m), 2.0 / dof if dof else float("inf"))),)


_VAR_WHY = ("torch's rounding and edge cases: NumPy's two-pass variance, as torch's kernel, and "
            "torch's nan/inf gradients where the degrees of freedom run out")
_var = primitive("var", _var_fwd, _var_rule, saves_out=True, jvp="reduction",
                 formula="d/dx_i var(x) = 2 (x_i - mean(x)) / (n - correction)", fused=_VAR_WHY, batch="dims")
declare(var, prim=_var, method=True, out=True)
_std = primitive("std", functools.partial(_var_fwd, root=True), functools.partial(_var_rule, root=True),
                 saves_out=True, jvp="reduction", batch="dims",
                 formula="d std = d var / (2 std), 0 where std = 0",
                 fused="stability: torch's gradient is 0 where std is 0, sqrt(var)'s is inf * 0 = nan")


@declare(out=True, prim=_std, method=True)
def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation: the square root of ``var`` (a zero std gets a zero gradient, as torch)."""
    return _moment(_std, "std", input, dim, unbiased, keepdim, correction)


@declare()
def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return (_moment(_var, "var_mean", input, dim, unbiased, keepdim, correction),
            mean(input, _var_args(input, dim, unbiased, correction)[0], keepdim))


@declare()
def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return (_moment(_std, "std_mean", input, dim, unbiased, keepdim, correction),
            mean(input, _var_args(input, dim, unbiased, correction)[0], keepdim))


@torch_backward("LinalgVectorNormBackward0")
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (2-norm / Frobenius by default; inf, -inf, 0 and any p).

    One primitive whose gradient is torch's ``norm_backward``: 0 where the norm is 0, the
    signs for p = 1, the max positions (nan ones included) for p = inf.
    """
    x = input if dtype is None else E.cast(input, dtype)
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(f"norm: order {p!r} is not supported (Ember has vector norms and 'fro')")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    if x._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {dtypes.scalar_name(x.dtype)}")
    p = 2.0 if p in ("fro", None) else float(p)
    if x._data.size == 0 and (p < 0 or p == float("inf")):
        _refuse_empty_norm(x._data.shape, dim, p)
    axes = normalize_dims(dim, x._data.ndim, "norm")
    # torch takes |x| for a single element, but a 0-d tensor given a dim the general way
    single = _count(x._data.shape, axes) == 1 and not (x._data.ndim == 0 and dim is not None)
    return apply(_norm, x, p=p, axes=axes, keepdim=keepdim, single=single)


def _refuse_empty_norm(shape: tuple, dim, p: float) -> None:
    """torch's checks, in its order, for a norm with no identity (max or a negative order) of an
    empty tensor: over everything, or over an empty dimension (dims looked at in turn)."""
    start = f"linalg.vector_norm cannot compute the {p:g} norm on"
    dims = () if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        raise RuntimeError(f"{start} an empty tensor because the operation does not have an identity")
    for d in dims:
        if shape[_wrap_dim(d, len(shape), "norm")] == 0:
            raise RuntimeError(f"{start} the dimension {d}because this dimension is empty and the "
                               "operation does not have an identity")


def _norm_fwd(xp, x, p, axes, keepdim, single):
    a = xp.abs(x)
    if p == 0:
        return (a != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
    if single:  # torch: the norm of one element is |x| (no pow to underflow)
        return a.sum(axis=axes, keepdims=keepdim)
    if p == float("inf"):
        return a.max(axis=axes, keepdims=keepdim)
    if p == float("-inf"):
        return a.min(axis=axes, keepdims=keepdim)
    if p == 1:
        return a.sum(axis=axes, keepdims=keepdim)
    if p == 2:
        return xp.sqrt((x * x).sum(axis=axes, keepdims=keepdim))
    return ((a ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)).astype(x.dtype, copy=False)


def _norm_rule(g, out, x, p, axes, keepdim, single):
    shape = x._data.shape
    g = expand_back(g, shape, axes, keepdim)
    n = expand_back(out, shape, axes, keepdim)
    zero = E.const_zeros(g)
    if p == 0:
        return (zero,)
    if p == 1:
        return (E.mul(E.sign(x), g),)
    if p == 2:
        return (E.mul(g, E.where(E.eq(n, 0), zero, E.div(x, n))),)
    a = E.abs(x)
    if abs(p) == float("inf"):
        hit = E.cast(E.logical_or(E.eq(a, n), E.isnan(a)), x.dtype)
        count = expand_back(sum(hit, axes, keepdim=keepdim), shape, axes, keepdim)
        return (E.mul(E.sign(x), E.mul(E.div(g, count), hit)),)
    if p < 1:
        scaled = E.mul(E.sign(x), E.where(E.eq(x, 0), zero, E.pow(a, p - 1)))
        return (E.mul(E.mul(scaled, g), E.pow(n, 1 - p)),)
    scaled = E.mul(E.sign(x), E.pow(a, p - 1)) if p < 2 else E.mul(x, E.pow(a, p - 2))
    return (E.mul(scaled, E.where(E.eq(n, 0), zero, E.div(g, E.pow(n, p - 1)))),)


_norm = primitive("norm", _norm_fwd, _norm_rule, saves_out=True, jvp="reduction",
                  formula="d/dx ||x||_p = sign(x) |x|^(p-1) / ||x||^(p-1) (0 where the norm is 0)",
                  fused="stability: torch's gradient is 0 at a zero norm, a composite's is nan", batch="dims")
declare(norm, prim=_norm, method=True, out="exact")


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow."""
    x = E.to_float(input)
    axes = normalize_dims(dim, x._data.ndim, "logsumexp")
    return apply(_logsumexp, x, axes=axes, keepdim=keepdim)


def _logsumexp_fwd(xp, x, axes, keepdim):
    """torch's kernel: shift by the max (an infinite max shifts by 0), sum the exps, log."""
    if not x.size:
        return xp.log(xp.exp(x).sum(axis=axes, keepdims=keepdim))
    m = x.max(axis=axes, keepdims=True)
    m = xp.where(xp.isinf(m), 0, m).astype(x.dtype, copy=False)
    out = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
    return out if keepdim else out.reshape(tuple(s for i, s in enumerate(out.shape) if i not in axes))


_logsumexp = primitive(
    "logsumexp", _logsumexp_fwd,
    lambda g, out, x, axes, keepdim: (
        E.mul(expand_back(g, x._data.shape, axes, keepdim),
              E.exp(E.sub(x, expand_back(out, x._data.shape, axes, keepdim)))),),
    saves_out=True, jvp="reduction", formula="d/dx_i logsumexp(x) = exp(x_i - logsumexp(x))", batch="dims",
    fused="stability: the max shift (0 for an infinite max) in one pass, as torch's kernel",
)
declare(logsumexp, prim=_logsumexp, method=True, namespaces=("ember", "ember.special"), out=True)


# ---------------------------------------------------------------------------- scans

_cumsum = primitive(
    "cumsum",
    lambda xp, x, axis: xp.cumsum(x, axis=axis, dtype=None if x.dtype.kind == "f" else xp.int64),
    lambda g, out, x, axis: _reverse_cumsum(g, axis + batch_dims()),
    jvp="linear", formula="d/dx_j sum_{i<=k} x_i = [j <= k]", batch="dims",
)


def _reverse_cumsum(g: Tensor, axis: int) -> tuple:
    return (S.flip(cumsum(S.flip(g, (axis,)), axis), (axis,)),)


@declare(out=True, prim=_cumsum, method=True, inplace=True)
def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``."""
    _wrap_dim(dim, input._data.ndim, "cumsum")
    if dtype is not None:
        input = cast_for("cumsum", input, dtype)
    if input._data.ndim == 0:
        return apply(_cumsum, S.reshape(input, (1,)), axis=0).reshape(())
    return apply(_cumsum, input, axis=_wrap_dim(dim, input._data.ndim, "cumsum"))


# ---------------------------------------------------------------------------- logical


def _logical(name: str, fn):
    prim = primitive(name, fn, None, formula="not differentiable (boolean result)", batch="dims")

    def op(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        axes = normalize_dims(dim, input._data.ndim, name)
        return apply(prim, input, axes=axes, keepdim=keepdim)

    op.__name__ = name
    op.__doc__ = f"True where {'every' if name == 'all' else 'some'} element over ``dim`` is non-zero."
    op.primitive = prim
    return op


all = declare(_logical("all", lambda xp, x, axes, keepdim: xp.all(x, axis=axes, keepdims=keepdim)),
              method=True, out="exact")
any = declare(_logical("any", lambda xp, x, axes, keepdim: xp.any(x, axis=axes, keepdims=keepdim)),
              method=True, out="exact")


@declare(method=True)
def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and the same values (torch.equal)."""
    if input._data.shape != other._data.shape:
        return False
    return bool(all(E.eq(input, other)))


@declare(method=True)
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """How many entries are not zero, over ``dim`` (all of them by default)."""
    return sum(E.cast(E.ne(input, 0), dtypes.int64), dim)
