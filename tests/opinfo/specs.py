"""The sample-spec language of the op samples, and ``OpInfo``: how one op is checked.

Samples are specs (``S(T(2, 3), dim=1)``) turned into NumPy arrays by shared generators that
cover broadcasting, size-1 and zero-size dimensions, 0-d tensors, negative dims, and each op's
value domain (positive for ``log``, away from kinks for ``abs`` and ``relu``, without ties for
``max``). ``op(name, call, samples, family)`` adds one entry to ``SAMPLES``; ``call(module,
*args, **kwargs)`` is written once and runs both Ember (``module`` = ember) and torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterator

import numpy as np

import ember

FLOATS = ("float32", "float64")
WITH_INT = FLOATS + ("int64",)
WITH_INT_BOOL = WITH_INT + ("bool",)
INF, NAN = float("inf"), float("nan")

# ---------------------------------------------------------------------------- sample values


def values(rng, shape: tuple, dtype: str, domain="real"):
    """A NumPy array of ``shape`` and ``dtype`` with values drawn from ``domain``.

    Domains: ``real`` (normal), ``positive`` (0.5..2), ``nonzero`` (0.3..2 in size, either sign),
    ``unit`` (-0.9..0.9), ``prob`` (0.05..0.95), ``distinct`` (no two values within 0.2: no ties
    for max/sort),
    ``frac`` (fractional parts away from 0 and 0.5: floor/round have no jump nearby),
    ``("index", n)`` (integers in [0, n)).
    """
    size = int(np.prod(shape, dtype=np.int64))
    kind = np.dtype(dtype).kind
    if kind == "b":
        return np.asarray(rng.random(shape) < 0.5)
    if isinstance(domain, tuple):
        return np.asarray(rng.integers(0, domain[1], shape), dtype=dtype)
    make = _INTS[domain] if kind in "iu" else _FLOATS[domain]
    return np.asarray(np.reshape(make(rng, size), shape), dtype=dtype)


def _signs(rng, n: int):
    return rng.choice(np.array([-1.0, 1.0]), n)


def _distinct(rng, n: int):
    return (rng.permutation(n) - n / 2) * 0.3 + rng.uniform(0.05, 0.1, n)


def _frac(rng, n: int):
    parts = rng.choice(np.array([0.2, 0.3, 0.7, 0.8]), n)
    return rng.integers(-3, 3, n) + parts + rng.uniform(-0.05, 0.05, n)


_FLOATS = {
    "real": lambda rng, n: rng.standard_normal(n),
    "positive": lambda rng, n: rng.uniform(0.5, 2.0, n),
    "nonzero": lambda rng, n: _signs(rng, n) * rng.uniform(0.3, 2.0, n),
    "unit": lambda rng, n: rng.uniform(-0.9, 0.9, n),
    "above1": lambda rng, n: rng.uniform(1.2, 3.0, n),
    "prob": lambda rng, n: rng.uniform(0.05, 0.95, n),
    "distinct": _distinct,
    "frac": _frac,
}
_INTS = {
    "real": lambda rng, n: rng.integers(-5, 6, n),
    "positive": lambda rng, n: rng.integers(1, 6, n),
    "nonzero": lambda rng, n: _signs(rng, n) * rng.integers(1, 6, n),
    "unit": lambda rng, n: rng.integers(-1, 2, n),
    "above1": lambda rng, n: rng.integers(2, 6, n),
    "prob": lambda rng, n: rng.integers(0, 2, n),
    "distinct": lambda rng, n: rng.permutation(n) - n // 2,
    "frac": lambda rng, n: rng.integers(-3, 4, n),
}

# ---------------------------------------------------------------------------- sample specs


class T:
    """A tensor argument in a sample spec: its shape, value domain and (optionally) fixed dtype."""

    def __init__(self, *shape: int, domain="real", dtype: str | None = None) -> None:
        self.shape = shape
        self.domain = domain
        self.dtype = dtype

    def make(self, rng, dtype: str):
        return values(rng, self.shape, self.dtype or dtype, self.domain)


class V:
    """A literal array argument: an index (int64 by default) or chosen values (``dtype=None``)."""

    def __init__(self, data, dtype: str | None = "int64") -> None:
        self.data = data
        self.dtype = dtype

    def make(self, rng, dtype: str):
        return np.array(self.data, dtype=self.dtype or dtype)


def Idx(high: int, *shape: int) -> T:
    """An int64 index tensor with values in [0, high)."""
    return T(*shape, domain=("index", high), dtype="int64")


def Mask(*shape: int) -> T:
    """A random boolean mask."""
    return T(*shape, dtype="bool")


def S(*args, **kwargs) -> tuple:
    """One sample spec: positional and keyword arguments, with ``T``/``V`` markers for tensors."""
    return args, kwargs


def _fill(spec, rng, dtype: str):
    """The spec with every marker replaced by an array (inside tuples, lists and dicts too)."""
    if isinstance(spec, (T, V)):
        return spec.make(rng, dtype)
    if isinstance(spec, tuple):
        return tuple(_fill(s, rng, dtype) for s in spec)
    if isinstance(spec, list):
        return [_fill(s, rng, dtype) for s in spec]
    if isinstance(spec, dict):
        return {k: _fill(v, rng, dtype) for k, v in spec.items()}
    return spec


def chain(*samplers: Callable) -> Callable:
    """The samples of several samples functions, one after another."""

    def samples(rng, dtype: str) -> Iterator[tuple]:
        for sampler in samplers:
            yield from sampler(rng, dtype)

    return samples


def fixed(*specs: tuple) -> Callable:
    """A samples function yielding the given specs with fresh random arrays."""

    def samples(rng, dtype: str) -> Iterator[tuple]:
        for args, kwargs in specs:
            yield _fill(args, rng, dtype), _fill(kwargs, rng, dtype)

    return samples


UNARY_SHAPES = ((), (4,), (2, 3), (0, 3), (2, 1, 3))
PAIRS = (
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((3, 1), (1, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((0, 3), (1, 3)),
    ((2, 1, 3), (4, 1)),
)


def unary(domain="real") -> Callable:
    """One tensor of each shape in ``UNARY_SHAPES`` (0-d, 1-D, zero-size, size-1 dims)."""
    return fixed(*(S(T(*shape, domain=domain)) for shape in UNARY_SHAPES))


def binary(dx="real", dy="real", scalar: float | None = 1.5) -> Callable:
    """Broadcasting pairs (size-1, 0-d and zero-size dims) plus float and int scalar operands.

    ``scalar=None`` leaves the scalar operands out (for ops that take tensors only).
    """
    specs = [S(T(*a, domain=dx), T(*b, domain=dy)) for a, b in PAIRS]
    if scalar is not None:
        specs += [S(T(2, 3, domain=dx), scalar), S(T(2, 3, domain=dx), 2)]
    return fixed(*specs)


def reflected(dy="real", scalar: float = 1.5) -> Callable:
    """A Python scalar on the left of a tensor (``2.5 - x``)."""
    return fixed(S(scalar, T(2, 3, domain=dy)), S(2, T(3, domain=dy)), S(scalar, T(domain=dy)))


def reduction(domain="real", tuple_dims: bool = True, empty: bool = True, full: bool = True,
              **extra) -> Callable:
    """Reductions over all dims, one dim (negative too), tuples of dims, keepdim, 0-d and zero-size."""
    specs = [
        S(T(2, 3, 4, domain=domain), dim=1, **extra),
        S(T(2, 3, 4, domain=domain), dim=-1, keepdim=True, **extra),
        S(T(3, domain=domain), dim=0, **extra),
        S(T(domain=domain), dim=0, **extra),
    ]
    if full:
        specs += [S(T(2, 3, domain=domain), **extra), S(T(domain=domain), **extra)]
    if tuple_dims:
        specs += [S(T(2, 3, 4, domain=domain), dim=(0, 2), **extra),
                  S(T(2, 3, 4, domain=domain), dim=(-1, 0), keepdim=True, **extra)]
    if empty:
        specs += [S(T(2, 0, 3, domain=domain), dim=1, **extra),
                  S(T(0, 3, domain=domain), dim=1, keepdim=True, **extra)]
    return fixed(*specs)


# ---------------------------------------------------------------------------- entries


@dataclass
class OpInfo:
    """How one public op is checked against torch.

    ``samples(rng, dtype)`` yields ``(args, kwargs)``: NumPy arrays for tensor arguments
    (also inside lists and index tuples), anything else as is; ``dtype`` is a NumPy dtype
    name. ``fn(*args, **kwargs)`` runs Ember with tensors in the arrays' place;
    ``ref(torch, *args, **kwargs)`` runs the torch function it mirrors (torch is passed in).

    Attributes:
        name: the entry's key: the op's name, with a variant in brackets (``"add(alpha)"``)
            or an operator form (``"x + y"``).
        op: the public op (or Tensor method) the entry checks; by default the name before
            any bracket. Keys the "every public op has samples" test.
        family: the ops module (or group) the op belongs to, for the coverage table.
        grad / gradgrad: whether first / second derivatives exist and are checked.
        jvp_ref: why torch's forward mode is no reference here (its JVP disagrees with its own
            VJP); empty where Ember's JVP is checked against ``torch.func.jvp``.
        dtypes: the dtypes the op is checked in (integer and bool ones forward only).
        tol: per-dtype ``(rtol, atol)`` overrides of the harness's tolerances (say why in notes).
        errors: like ``samples``, but inputs torch refuses; Ember must raise the same class.
        notes: anything a reader of the coverage table should know.
        host_reads: why the op must read values back from a GPU (an output shape that depends
            on them, say); empty for every op that never makes the host wait for the device.
    """

    name: str
    fn: Callable
    ref: Callable
    samples: Callable
    family: str
    op: str = ""
    grad: bool = True
    gradgrad: bool = True
    jvp_ref: str = ""
    dtypes: tuple = ("float32", "float64")
    tol: dict = field(default_factory=dict)
    errors: Callable | None = None
    notes: str = ""
    host_reads: str = ""

    def __post_init__(self) -> None:
        if not self.op:
            self.op = self.name.partition("(")[0]


SAMPLES: dict[str, OpInfo] = {}


def op(name: str, call: Callable, samples: Callable, family: str, **kw) -> OpInfo:
    """Add an entry whose Ember and torch forms are the same ``call(module, *args, **kwargs)``."""
    if name in SAMPLES:
        raise ValueError(f"samples {name!r} added twice")
    info = OpInfo(name, partial(call, ember), call, samples, family, **kw)
    SAMPLES[name] = info
    return info


def function(name: str) -> Callable:
    """``call`` for a namespace function: ``module.name(*args, **kwargs)``."""
    return lambda m, *args, **kw: getattr(m, name)(*args, **kw)


def inplace(name: str) -> Callable:
    """``call`` for an in-place method, applied to a clone so the input stays a leaf."""
    return lambda m, x, *args, **kw: getattr(x.clone(), name)(*args, **kw)


def setitem(m, x, idx, value):
    """``y = x.clone(); y[idx] = value``: assignment as a differentiable function."""
    y = x.clone()
    y[idx] = value
    return y


