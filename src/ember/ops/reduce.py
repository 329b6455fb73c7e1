"""Reductions: sum, mean, prod, max/min, var/std, norm, logsumexp, cumsum, argmax.

``sum_to`` is the one place broadcasting is undone: every broadcasting rule calls it.
"""
from __future__ import annotations

from .. import dtypes
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import shape as S
from .registry import apply, batch_dims, primitive


def normalize_dims(dim, ndim: int, op: str) -> tuple:
    """``dim`` (None, int, or sequence, possibly negative) as a sorted tuple of axes.

    None and an empty sequence mean every axis, as torch; a 0-d tensor accepts dim 0 or -1,
    which reduces nothing.
    """
    if dim is None or (isinstance(dim, (list, tuple)) and not dim):
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = tuple(_wrap_dim(int(d), ndim, op) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{op}: dim {dims[0]} appears multiple times in the list of dims")
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
        g = S.reshape(g, lead + _keep_shape(x_shape, axes))
    return S.expand(g, lead + tuple(x_shape))


# ---------------------------------------------------------------------------- sum / mean

_sum = primitive(
    "sum",
    lambda xp, x, axes, keepdim: xp.sum(x, axis=axes, keepdims=keepdim,
                                        dtype=None if x.dtype.kind == "f" else xp.int64),
    lambda g, out, x, axes, keepdim: (expand_back(g, x._data.shape, axes, keepdim),),
    formula="d/dx_i sum(x) = 1",
)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims by default)."""
    if dtype is not None:
        input = E.cast(input, dtype)
    axes = normalize_dims(dim, input._data.ndim, "sum")
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
    return S.reshape(out, shape)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim``."""
    if dtype is not None:
        input = E.cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {str(input.dtype).split('.')[-1].capitalize()}"
        )
    axes = normalize_dims(dim, input._data.ndim, "mean")
    n = 1
    for a in axes:
        n *= input._data.shape[a]
    total = apply(_sum, input, axes=axes, keepdim=keepdim)
    return E.div(total, n) if n else E.mul(total, float("nan"))


# ---------------------------------------------------------------------------- prod


def _prod_rule(g, out, x, axes, keepdim):
    gx = expand_back(g, x._data.shape, axes, keepdim)
    if not bool(x.xp.any(x._data == 0)):
        return (E.div(E.mul(gx, expand_back(out, x._data.shape, axes, keepdim)), x),)
    # With zeros, use the product of the other elements, taken over the reduced axes only.
    return (E.mul(gx, _prod_of_others(x, axes)),)


def _prod_of_others(x: Tensor, axes: tuple) -> Tensor:
    """For each element, the product of the others in its reduction group (zeros allowed)."""
    keep = [i for i in range(x._data.ndim) if i not in axes]
    moved = S.permute(x, keep + list(axes))
    lead = tuple(x._data.shape[i] for i in keep)
    n = 1
    for a in axes:
        n *= x._data.shape[a]
    flat = S.reshape(moved, lead + (n,))
    eye = Tensor._make(x.xp.eye(n, dtype=bool))
    rows = E.where(eye, E.ones_like_(S.expand(S.unsqueeze(flat, -2), lead + (n, n))),
                   S.expand(S.unsqueeze(flat, -2), lead + (n, n)))
    others = prod(rows, -1)
    back = S.reshape(others, tuple(x._data.shape[i] for i in keep + list(axes)))
    inv = [0] * x._data.ndim
    for pos, ax in enumerate(keep + list(axes)):
        inv[ax] = pos
    return S.permute(back, inv)


_prod = primitive(
    "prod",
    lambda xp, x, axes, keepdim: xp.prod(x, axis=axes, keepdims=keepdim,
                                         dtype=None if x.dtype.kind == "f" else xp.int64),
    _prod_rule, saves_out=True,
    formula="d/dx_i prod(x) = prod of the other elements",
)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over one ``dim`` (or all elements)."""
    if dtype is not None:
        input = E.cast(input, dtype)
    axes = normalize_dims(dim, input._data.ndim, "prod")
    return apply(_prod, input, axes=axes, keepdim=keepdim)


# ---------------------------------------------------------------------------- max / min


def _extreme_rule(g, out, x, axes, keepdim):
    """Gradient of amax/amin: shared evenly among the elements that attain the extreme."""
    hit = E.eq(x, expand_back(out, x._data.shape, axes, keepdim))
    count = expand_back(apply(_sum, hit, axes=axes, keepdim=keepdim), x._data.shape, axes, keepdim)
    return (E.div(E.mul(expand_back(g, x._data.shape, axes, keepdim), hit), count),)


def _check_nonempty(x: Tensor, dim, axes: tuple, op: str) -> None:
    """torch's errors for max/min-like reductions of nothing (they have no identity)."""
    if x._data.size and x._data.ndim:
        return
    if dim is None or dim == ():
        if x._data.size == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return
    for a in axes:
        if x._data.shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size.")


_amax = primitive("amax", lambda xp, x, axes, keepdim: xp.amax(x, axis=axes, keepdims=keepdim),
                  _extreme_rule, saves_out=True, formula="d/dx_i max(x) = [x_i is the max] / #max")
_amin = primitive("amin", lambda xp, x, axes, keepdim: xp.amin(x, axis=axes, keepdims=keepdim),
                  _extreme_rule, saves_out=True, formula="d/dx_i min(x) = [x_i is the min] / #min")


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (all dims when empty); ties share the gradient."""
    axes = normalize_dims(dim, input._data.ndim, "amax")
    _check_nonempty(input, dim, axes, "amax")
    return apply(_amax, input, axes=axes, keepdim=keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (all dims when empty); ties share the gradient."""
    axes = normalize_dims(dim, input._data.ndim, "amin")
    _check_nonempty(input, dim, axes, "amin")
    return apply(_amin, input, axes=axes, keepdim=keepdim)


def _arg(name: str, fn):
    prim = primitive(name, fn, None, formula="not differentiable (indices)")

    def op(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
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
            return E.zeros_like_(E.cast(input, dtypes.int64))
        _check_nonempty(input, dim, (axis,), name)
        return apply(prim, input, axis=axis, keepdim=keepdim)

    op.__name__ = name
    op.__doc__ = f"Index of the {name[3:]} value along ``dim`` (of the flattened tensor without it)."
    return op


argmax = _arg("argmax", lambda xp, x, axis, keepdim: xp.argmax(x, axis=axis, keepdims=keepdim))
argmin = _arg("argmin", lambda xp, x, axis, keepdim: xp.argmin(x, axis=axis, keepdims=keepdim))


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
    from .index import gather

    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return (E.maximum if which == "max" else E.minimum)(input, other)
    if dim is None:
        return (amax if which == "max" else amin)(input)
    idx = (argmax if which == "max" else argmin)(input, dim, keepdim=True)
    if input._data.ndim == 0:
        return ValuesIndices((input, S.reshape(idx, ())))
    axis = _wrap_dim(dim, input._data.ndim, which)
    values = gather(input, axis, idx)
    if not keepdim:
        values = S.squeeze(values, axis)
        idx = S.squeeze(idx, axis)
    return ValuesIndices((values, idx))


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices); ``max(x, y)``: maximum."""
    return _max_min(input, dim, keepdim, other, "max")


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``min(x)``: the smallest value; ``min(x, dim)``: (values, indices); ``min(x, y)``: minimum."""
    return _max_min(input, dim, keepdim, other, "min")


# ---------------------------------------------------------------------------- statistics


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default, as torch)."""
    if isinstance(unbiased, (tuple, list)) or (isinstance(unbiased, int) and not isinstance(unbiased, bool)):
        dim, unbiased = unbiased, None
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = normalize_dims(dim, input._data.ndim, "var")
    n = 1
    for a in axes:
        n *= input._data.shape[a]
    centred = E.sub(input, mean(input, axes, keepdim=True))
    total = sum(E.mul(centred, centred), axes, keepdim=keepdim)
    denom = n - correction
    return E.div(total, denom if denom > 0 else 0)


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation: the square root of ``var``."""
    return E.sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (2-norm / Frobenius by default; inf, -inf, 0 and any p)."""
    x = input if dtype is None else E.cast(input, dtype)
    if p in ("fro", None):
        p = 2
    if p == float("inf"):
        return amax(E.abs(x), () if dim is None else dim, keepdim)
    if p == float("-inf"):
        return amin(E.abs(x), () if dim is None else dim, keepdim)
    if p == 0:
        return sum(E.cast(E.ne(x, 0), x.dtype), dim, keepdim)
    if p == 1:
        return sum(E.abs(x), dim, keepdim)
    if p == 2:
        return _norm2(x, normalize_dims(dim, x._data.ndim, "norm"), keepdim)
    a = E.abs(x)
    return E.pow(sum(E.pow(a, p), dim, keepdim), 1.0 / p)


_norm2_p = primitive(
    "norm2",
    lambda xp, x, axes, keepdim: xp.sqrt(xp.sum(x * x, axis=axes, keepdims=keepdim)),
    lambda g, out, x, axes, keepdim: (
        E.mul(expand_back(E.div(g, E.where(E.eq(out, 0), E.ones_like_(out), out)),
                          x._data.shape, axes, keepdim), x),
    ),
    saves_out=True,
    formula="d/dx ||x|| = x / ||x|| (0 at x = 0, as torch)",
)


def _norm2(x: Tensor, axes: tuple, keepdim: bool) -> Tensor:
    return apply(_norm2_p, x, axes=axes, keepdim=keepdim)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow."""
    x = E.to_float(input)
    axes = normalize_dims(dim, x._data.ndim, "logsumexp")
    if x._data.size == 0:
        return E.log(sum(E.exp(x), axes, keepdim))
    m = amax(x, axes, keepdim=True).detach()
    m = E.where(E.isfinite(m), m, E.zeros_like_(m))
    out = E.add(E.log(sum(E.exp(E.sub(x, m)), axes, keepdim=True)), m)
    return S.reshape(out, tuple(s for i, s in enumerate(out._data.shape) if i not in axes)) \
        if not keepdim else out


# ---------------------------------------------------------------------------- scans

_cumsum = primitive(
    "cumsum",
    lambda xp, x, axis: xp.cumsum(x, axis=axis, dtype=None if x.dtype.kind == "f" else xp.int64),
    lambda g, out, x, axis: _reverse_cumsum(g, axis + batch_dims()),
    formula="d/dx_j sum_{i<=k} x_i = [j <= k]",
)


def _reverse_cumsum(g: Tensor, axis: int) -> tuple:
    return (S.flip(cumsum(S.flip(g, (axis,)), axis), (axis,)),)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``."""
    if dtype is not None:
        input = E.cast(input, dtype)
    if input._data.ndim == 0:
        return apply(_cumsum, S.reshape(input, (1,)), axis=0).reshape(())
    return apply(_cumsum, input, axis=_wrap_dim(dim, input._data.ndim, "cumsum"))


# ---------------------------------------------------------------------------- logical


def _logical(name: str, fn):
    prim = primitive(name, fn, None, formula="not differentiable (boolean result)")

    def op(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        axes = normalize_dims(dim, input._data.ndim, name)
        return apply(prim, input, axes=axes, keepdim=keepdim)

    op.__name__ = name
    op.__doc__ = f"True where {'every' if name == 'all' else 'some'} element over ``dim`` is non-zero."
    return op


all = _logical("all", lambda xp, x, axes, keepdim: xp.all(x, axis=axes, keepdims=keepdim))
any = _logical("any", lambda xp, x, axes, keepdim: xp.any(x, axis=axes, keepdims=keepdim))
