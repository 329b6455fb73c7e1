"""Shared pieces of the fuzzer: value/shape/dtype strategies and the Ember-vs-torch comparison.

``check(name, ember_fn, torch_fn, args, kwargs)`` runs both libraries on the same inputs
(NumPy arrays anywhere in ``args`` become tensors of each library, float ones requiring grad)
and demands the same outcome: equal results (same shape, dtype, nan where torch has nan,
then the same gradients), or both raise, Ember with torch's exception class and a clear
message (no NumPy text). Set ``FUZZ_COLLECT=path`` to append mismatches to a file instead
of failing (used to survey all mismatches at once).

Known differences the tests steer around (each where it is drawn, with the reason):
- torch bugs: ``expand`` accepting negative sizes when the result is empty, ``logsumexp`` with
  ``dim=()``, the var/std backward with ``dim=()``, ``take_along_dim`` without bounds checks.
- torch keeps a Python float in pow in double precision (5e-324 does not flush to 0).
- torch's float remainder/floor_divide give nan when x / y overflows.
- fused multiply-adds in torch's lerp/addcmul/addcdiv, BLAS dot products, and float32 sums that
  torch accumulates in double: near the float maximum the order of rounding decides between
  inf and a finite number, so those draws keep "huge" moderate.
- Ember's convolutions are im2col + GEMM: a non-finite value meets padding zeros as
  0 * inf = nan where torch's direct kernels skip the product.
- Near-zero results of cancellation (std of equal values, arange ends) carry rounding noise.
"""
from __future__ import annotations

import json
import math
import os
import re

import numpy as np
import torch
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember

DTYPES = ("float32", "float64", "int64", "bool")
FLOATS = ("float32", "float64")
SIDES = (0, 1, 1, 2, 2, 3, 3, 4)

# NumPy phrases that must never reach an Ember user.
_NUMPY_TEXT = re.compile(
    r"numpy|ufunc|ndarray|operands could not be broadcast|axis \S+ is out of bounds for array|"
    r"cannot reshape array|object has no attribute|unsupported operand type|not supported for the "
    r"input types|np\.|array of dimension|tuple index out of range|list index out of range|"
    r"object is not iterable|object cannot be interpreted|NoneType|unhashable"
)


# ---------------------------------------------------------------------------- values


def budget(n: int) -> settings:
    """``n`` examples under the ``ci`` profile, ``10 * n`` under ``deep``."""
    scale = 10 if settings.get_current_profile_name() == "deep" else 1
    return settings(max_examples=n * scale)


def special_floats(dtype: str, bounded: bool = False) -> list:
    """Edge values: signed zeros, ±inf, nan, huge, tiny (smallest normal) and subnormal.

    ``bounded`` keeps "huge" small enough that sums and squares of a few stay finite-ish,
    so reductions do not depend on summation order for overflow.
    """
    fi = np.finfo(dtype)
    huge = float(fi.max) if not bounded else (1e15 if dtype == "float32" else 1e100)
    tiny = float(fi.tiny)
    sub = float(fi.smallest_subnormal)
    return [0.0, -0.0, 1.0, -1.0, 0.5, -3.0, math.inf, -math.inf, math.nan,
            huge, -huge, tiny, -tiny, sub, -sub]


SPECIAL_INTS = [0, 1, -1, 2, -7, 2**62, -(2**62)]


def elements(dtype: str, bounded: bool = False):
    """Values of one dtype: mostly ordinary, often an edge value."""
    if dtype == "bool":
        return st.booleans()
    if dtype == "int64":
        return st.one_of(st.integers(-10, 10), st.sampled_from(SPECIAL_INTS))
    width = 32 if dtype == "float32" else 64
    ordinary = st.floats(-10, 10, width=width)
    return st.one_of(ordinary, ordinary, st.sampled_from(special_floats(dtype, bounded)))


def shapes(min_dims: int = 0, max_dims: int = 4):
    """Small shapes, size-0 and 0-d included."""
    return st.integers(min_dims, max_dims).flatmap(
        lambda n: st.tuples(*[st.sampled_from(SIDES)] * n)
    )


def arrays(dtype: str, shape, bounded: bool = False):
    return hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, bounded))


@st.composite
def tensor_arrays(draw, dtypes=DTYPES, min_dims: int = 0, max_dims: int = 4, bounded: bool = False):
    """One array of a drawn dtype and shape."""
    dtype = draw(st.sampled_from(dtypes))
    return draw(arrays(dtype, draw(shapes(min_dims, max_dims)), bounded))


@st.composite
def shape_pairs(draw, min_dims: int = 0, max_dims: int = 4):
    """Two shapes: equal, broadcastable, or (often not broadcastable) independent."""
    kind = draw(st.sampled_from(["same", "broadcast", "broadcast", "independent"]))
    if kind == "same":
        s = draw(shapes(min_dims, max_dims))
        return s, s
    if kind == "broadcast":
        bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims,
                                                   max_dims=max_dims, max_side=4))
        return bs.input_shapes
    return draw(shapes(min_dims, max_dims)), draw(shapes(min_dims, max_dims))


def scalars(dtype: str | None = None):
    """A Python scalar: bool, int or float (edge values included)."""
    floats = st.sampled_from(special_floats("float64")) | st.floats(-10, 10)
    ints = st.sampled_from(SPECIAL_INTS[:5]) | st.integers(-10, 10)
    by = {"bool": st.booleans(), "int64": ints, "float64": floats, "float32": floats}
    if dtype is not None:
        return by[dtype]
    return st.one_of(st.booleans(), ints, floats)


@st.composite
def dims(draw, ndim: int, allow_none: bool = True, allow_tuple: bool = True):
    """A ``dim`` argument: None, an int (sometimes out of range) or a tuple of ints.

    A tuple has either in-range dims (maybe repeated) or one out-of-range dim, never both:
    which of two errors a library reports first is not worth matching.
    """
    n = max(ndim, 1)
    one = st.integers(-n - 1, n)
    options = [one, one]
    if allow_none:
        options.append(st.none())
    if allow_tuple:
        options.append(st.lists(st.integers(-n, n - 1), max_size=3).map(tuple))
        options.append(st.lists(st.integers(-n, n - 1), max_size=2, unique_by=lambda d: d % n)
                       .flatmap(lambda ds: st.sampled_from([-n - 1, n]).map(lambda bad: (*ds, bad))))
    return draw(st.one_of(*options))


# ---------------------------------------------------------------------------- running


def _convert(obj, lib: str):
    """Arrays (anywhere inside lists/tuples/dicts) as tensors of ``lib``; floats require grad."""
    if isinstance(obj, np.ndarray):
        arr = obj.copy()
        if lib == "torch":
            t = torch.from_numpy(arr)
        else:
            t = ember.from_numpy(arr)
        if arr.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    if isinstance(obj, list):
        return [_convert(o, lib) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_convert(o, lib) for o in obj)
    if isinstance(obj, dict):
        return {k: _convert(v, lib) for k, v in obj.items()}
    return obj


def _arrays(obj) -> list:
    """Every NumPy array inside ``obj``, as float64 (integers take part in float results too)."""
    if isinstance(obj, np.ndarray):
        return [obj if obj.dtype.kind == "f" else obj.astype(np.float64)]
    if isinstance(obj, (list, tuple)):
        return [a for o in obj for a in _arrays(o)]
    if isinstance(obj, dict):
        return [a for o in obj.values() for a in _arrays(o)]
    return []


def _leaves(obj) -> list:
    """Tensors that require grad inside ``obj`` (inputs whose gradients get compared)."""
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _leaves(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _leaves(o)]
    if getattr(obj, "requires_grad", False):
        return [obj]
    return []


def _run(fn, args, kwargs):
    try:
        return fn(*args, **kwargs), None
    except Exception as exc:  # noqa: BLE001 - the fuzzer compares any failure
        return None, exc


def _builtin_class(exc: BaseException) -> type:
    """The nearest builtin exception class (torch raises subclasses such as LinAlgError)."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins":
            return cls
    return Exception


class Mismatch(AssertionError):
    """Ember and torch disagree on one input."""

    def __init__(self, op: str, kind: str, detail: str) -> None:
        super().__init__(f"[{op}] {kind}: {detail}")
        self.op = op
        self.kind = kind


def _describe(args, kwargs) -> str:
    def show(o):
        if isinstance(o, np.ndarray):
            return f"array({o.tolist()!r}, dtype={o.dtype}, shape={o.shape})"
        if isinstance(o, (list, tuple)):
            inner = ", ".join(show(x) for x in o)
            return f"[{inner}]" if isinstance(o, list) else f"({inner}{',' if len(o) == 1 else ''})"
        return repr(o)

    text = ", ".join([show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()])
    return text if len(text) < 1500 else text[:1500] + "..."


def check(op: str, ember_fn, torch_fn, args: tuple = (), kwargs: dict | None = None,
          rtol: float | None = None, atol: float = 0.0, grads: bool = True,
          interchangeable: tuple = ()) -> None:
    """Run both libraries on the same inputs and require the same outcome (see module doc).

    ``interchangeable`` lists exception classes accepted for one another (where torch's own
    class depends on its internal kernel choice).
    """
    kwargs = kwargs or {}
    try:
        _check(op, ember_fn, torch_fn, args, kwargs, rtol, atol, grads, interchangeable)
    except Mismatch as m:
        path = os.environ.get("FUZZ_COLLECT")
        if not path:
            raise Mismatch(m.op, m.kind, f"{m.args[0]}\n  inputs: {_describe(args, kwargs)}") from None
        with open(path, "a") as f:
            f.write(json.dumps({"op": m.op, "kind": m.kind, "msg": str(m)[:600],
                                "inputs": _describe(args, kwargs)}) + "\n")


def _check(op, ember_fn, torch_fn, args, kwargs, rtol, atol, grads, interchangeable) -> None:
    t_args, t_kw = _convert(args, "torch"), _convert(kwargs, "torch")
    e_args, e_kw = _convert(args, "ember"), _convert(kwargs, "ember")
    t_out, t_exc = _run(torch_fn, t_args, t_kw)
    e_out, e_exc = _run(ember_fn, e_args, e_kw)
    if t_exc is not None or e_exc is not None:
        _compare_errors(op, t_exc, e_exc, interchangeable)
        return
    _compare(op, "forward", e_out, t_out, rtol, atol)
    if grads:
        # A broadcast input's gradient is a sum: allow for the order of summation.
        slack = max(atol, reduction_atol(*_arrays((args, kwargs))))
        _compare_grads(op, e_out, t_out, _leaves((e_args, e_kw)), _leaves((t_args, t_kw)), rtol, slack)


def _compare_errors(op: str, t_exc, e_exc, interchangeable: tuple = ()) -> None:
    if e_exc is None:
        raise Mismatch(op, "torch raises, ember does not",
                       f"torch: {type(t_exc).__name__}: {str(t_exc)[:300]}")
    if t_exc is None:
        raise Mismatch(op, "ember raises, torch does not",
                       f"ember: {type(e_exc).__name__}: {str(e_exc)[:300]}")
    want = _builtin_class(t_exc)
    if isinstance(e_exc, MemoryError) and "allocate" in str(t_exc):
        return  # out of memory: Python's MemoryError where torch raises RuntimeError
    if isinstance(e_exc, interchangeable) and issubclass(want, interchangeable):
        assert_clear_message(op, e_exc, t_exc)
        return
    if not isinstance(e_exc, want):
        raise Mismatch(op, f"exception class {type(e_exc).__name__} != {want.__name__}",
                       f"ember: {str(e_exc)[:300]} | torch: {str(t_exc)[:300]}")
    assert_clear_message(op, e_exc, t_exc)


def assert_clear_message(op: str, exc: BaseException, reference: BaseException | None = None) -> None:
    """Ember's message must say something and never leak NumPy's wording (Python's wording is
    allowed where torch's own ``reference`` message has it: ``1.5 + "a"``)."""
    msg = str(exc)
    leak = _NUMPY_TEXT.search(msg)
    if leak and reference is not None and leak.group(0) in str(reference):
        leak = None
    if not msg.strip() or leak:
        raise Mismatch(op, "unclear error message", f"{type(exc).__name__}: {msg[:300]}")


def _is_tensor(x) -> bool:
    return isinstance(x, (torch.Tensor, ember.Tensor))


def _compare(op: str, where: str, e, t, rtol, atol) -> None:
    if isinstance(t, torch.Tensor):
        if not isinstance(e, ember.Tensor):
            raise Mismatch(op, f"{where}: result type", f"ember {type(e).__name__}, torch Tensor")
        _compare_tensors(op, where, e, t, rtol, atol)
        return
    if isinstance(t, (tuple, list)):
        if not isinstance(e, (tuple, list)) or len(e) != len(t):
            raise Mismatch(op, f"{where}: result structure", f"ember {type(e).__name__}, torch "
                           f"{type(t).__name__} of {len(t)}")
        for ei, ti in zip(e, t):
            _compare(op, where, ei, ti, rtol, atol)
        return
    if isinstance(e, ember.Tensor) or type(e) is not type(t):
        raise Mismatch(op, f"{where}: result type", f"ember {type(e).__name__}, torch {type(t).__name__}")
    if e != t and not (isinstance(t, float) and math.isnan(t) and math.isnan(e)):
        raise Mismatch(op, f"{where}: value", f"ember {e!r}, torch {t!r}")


def _compare_tensors(op: str, where: str, e, t, rtol, atol) -> None:
    et, tt = str(e.dtype).split(".")[-1], str(t.dtype).split(".")[-1]
    if et != tt:
        raise Mismatch(op, f"{where}: dtype", f"ember {et}, torch {tt}")
    if tuple(e.shape) != tuple(t.shape):
        raise Mismatch(op, f"{where}: shape", f"ember {tuple(e.shape)}, torch {tuple(t.shape)}")
    a = e.detach().numpy()
    b = t.detach().numpy()
    if a.dtype.kind != "f":
        if not np.array_equal(a, b):
            raise Mismatch(op, f"{where}: values", f"ember {a.tolist()}, torch {b.tolist()}")
        return
    if rtol is None:
        rtol = 1e-5 if a.dtype == np.float32 else 1e-10
    # Results that differ only below the smallest normal number: flush-to-zero, not a bug.
    atol = max(atol, float(np.finfo(a.dtype).tiny))
    close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    same_inf = (np.isinf(a) == np.isinf(b)) & (np.isnan(a) == np.isnan(b))
    if not (close & same_inf).all():
        bad = ~(close & same_inf)
        raise Mismatch(op, f"{where}: values",
                       f"ember {a[bad].tolist()[:6]}, torch {b[bad].tolist()[:6]} "
                       f"(full: ember {a.tolist()!r:.300}, torch {b.tolist()!r:.300})")


def _first_float(out):
    if _is_tensor(out):
        return out if out.dtype.is_floating_point and out.requires_grad else None
    if isinstance(out, (tuple, list)) and out:
        return _first_float(out[0])
    return None


def _compare_grads(op: str, e_out, t_out, e_leaves, t_leaves, rtol, atol) -> None:
    """Backward with a cotangent of ones from the first float output; the leaves' grads agree."""
    t_y = _first_float(t_out)
    e_y = _first_float(e_out)
    if t_y is None or not t_leaves:
        return
    if e_y is None:
        raise Mismatch(op, "grad: output does not require grad", "torch's does")
    t_g, t_exc = _run(torch.autograd.grad, (t_y, t_leaves),
                      {"grad_outputs": torch.ones_like(t_y), "allow_unused": True})
    e_g, e_exc = _run(ember.autograd.grad, (e_y, e_leaves),
                      {"grad_outputs": ember.ones_like(e_y), "allow_unused": True})
    if t_exc is not None and e_exc is None:
        return  # Ember may differentiate what torch does not (floor_divide, remainder's divisor)
    if t_exc is not None or e_exc is not None:
        _compare_errors(op + " (backward)", t_exc, e_exc)
        return
    for eg, tg in zip(e_g, t_g):
        if tg is None:
            continue
        if eg is None:
            eg = ember.zeros_like(ember.from_numpy(tg.numpy().copy()))
        # Gradients often cancel (1 - tanh(x)**2 near 1): a one-ulp difference in the forward
        # value becomes an absolute error of about eps, so allow that much.
        eps = float(np.finfo(tg.numpy().dtype).eps) if tg.dtype.is_floating_point else 0.0
        _compare(op, "grad", eg, tg, rtol, max(atol, 2 * eps))


def reduction_atol(*arrays: np.ndarray) -> float:
    """Absolute slack for sums of these arrays: n * eps * max|finite value| (order of summation)."""
    worst = 0.0
    for a in arrays:
        if a.dtype.kind != "f" or not a.size:
            continue
        finite = np.abs(a[np.isfinite(a)])
        if finite.size:
            eps = float(np.finfo(a.dtype).eps)
            worst = max(worst, float(finite.max()) * eps * 4 * a.size)
    return worst
