"""Making tensors: from data, filled, ranges, and random (Ember's own seeded generator)."""
from __future__ import annotations

import functools
from numbers import Number

from . import backend, dtypes
from .array_errors import allocating
from .arguments import int_arg, ints_arg
from .generator import generator_for
from .autograd.grad_mode import STATE
from .autograd.vmap_state import VMAP
from .tensor import Tensor


def _finish(data, requires_grad: bool) -> Tensor:
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _plain(data):
    """Nested data with tensors replaced by host arrays, ready for ``numpy.array``."""
    if isinstance(data, Tensor):
        return backend.transfer(data._data, backend.CPU)
    if isinstance(data, (list, tuple)):
        return [_plain(d) for d in data]
    return data


def _infer_dtype(arr, data) -> dtypes.dtype:
    kind = arr.dtype.kind
    if kind == "b":
        return dtypes.bool_
    if kind in "iu":
        return dtypes.from_numpy(arr.dtype) if backend.is_array(data) else dtypes.int64
    if kind in dtypes.FLOAT_KINDS:
        if backend.is_array(data) or isinstance(data, Tensor):
            return dtypes.from_numpy(arr.dtype)
        return dtypes.get_default_dtype()
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


_SCALAR_KINDS = {float: dtypes.get_default_dtype, int: lambda: dtypes.int64,
                 bool: lambda: dtypes.bool_}


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copying ``data`` (a number, nested lists, an array or a tensor).

    Python floats become float32 and ints int64 unless ``dtype`` says otherwise.
    """
    np = backend.numpy
    kind = _SCALAR_KINDS.get(data.__class__)
    if kind is not None and device is None and backend.as_device(None) is backend.CPU:
        # a Python number on the CPU: the common fast path
        d = dtypes.to_dtype(dtype) if dtype is not None else kind()
        try:
            return _finish(np.array(data, dtype=d.np), requires_grad)
        except OverflowError:
            _refuse_number(data, d)
    dev = backend.as_device(device) if device is not None else (
        data.device if isinstance(data, Tensor) else backend.device_of(data) if backend.is_array(data)
        else backend.as_device(None))
    if backend.is_array(data) and backend.device_of(data) != backend.CPU:
        arr = data
    else:
        arr = _host_array(data)
    d = dtypes.to_dtype(dtype) if dtype is not None else _infer_dtype(arr, data)
    if not backend.is_array(data) and arr.dtype.kind in "iu" and arr.size:
        for bound in (arr.min(), arr.max()):  # ints beyond int64 NumPy keeps as uint64
            _refuse_number(int(bound), d)
    xp = backend.xp_for(dev)
    with backend.device_context(dev):
        out = xp.array(backend.transfer(arr, dev) if backend.is_array(arr) else arr, dtype=d.np,
                       copy=True)
    return _finish(out, requires_grad)


def _host_array(data):
    """Nested data as a host array of numbers, or torch's error for what is not a grid of them."""
    np = backend.numpy
    plain = _plain(data)
    try:
        arr = np.array(plain)
    except (ValueError, TypeError, OverflowError):
        arr = None
    if arr is None or arr.dtype == object or arr.dtype.kind in "US" or (
            arr.dtype.kind == "V" and not dtypes.is_low_precision(arr.dtype)):  # V: bfloat16 only
        sizes = _refuse_data(plain)
        if 0 in sizes:  # torch reads no element when the first ones say there are none
            return np.zeros(sizes, dtype=np.float32)
        arr = np.array(plain, dtype=np.float64)  # numbers that only mixing int and float fits
    return arr


def _refuse_number(value: int, d: dtypes.dtype) -> None:
    """torch's error for a Python int that does not fit ``d`` (or int64 on the way to it)."""
    if not d.is_floating_point and not -2 ** 63 <= value < 2 ** 63:
        raise ValueError("tensor(): Overflow when unpacking long long")
    dtypes.checked_scalar("tensor", value, d)


def _refuse_data(data) -> list:
    """torch's error for nested data that is not a grid of numbers, found as torch looks: the
    sizes along the first elements, then the type of every element, then each row's length
    (unless the sizes hold no element). Returns the sizes."""
    sizes, node = [], data
    if isinstance(node, (str, bytes)):
        raise TypeError(f"tensor(): invalid data type '{type(node).__name__}'")
    while isinstance(node, (list, tuple)):
        sizes.append(len(node))
        if not node:
            break
        node = node[0]
        if isinstance(node, (str, bytes)):
            raise ValueError(f"tensor(): too many dimensions '{type(node).__name__}'")
    rows = [data] if isinstance(data, (list, tuple)) else []
    leaves = [] if rows else [data]
    for row in rows:  # grows while it is read: every nested sequence, breadth first
        for item in row:
            (rows if isinstance(item, (list, tuple)) else leaves).append(item)
    for leaf in leaves:
        if isinstance(leaf, (str, bytes)):
            raise TypeError(f"tensor(): invalid data type '{type(leaf).__name__}'")
        if not isinstance(leaf, Number) and not backend.is_array(leaf):
            raise RuntimeError(f"tensor(): Could not infer dtype of {type(leaf).__name__}")
    if len({leaf.shape for leaf in leaves if backend.is_array(leaf)}) > 1:
        raise ValueError("tensor(): only one element tensors can be converted to Python scalars")
    if 0 in sizes:
        return sizes
    _check_rows(data, sizes)
    if not any(isinstance(leaf, float) for leaf in leaves):
        for leaf in leaves:
            if isinstance(leaf, int) and not -2 ** 63 <= leaf < 2 ** 63:
                raise ValueError("tensor(): Overflow when unpacking long long")
    return sizes


def _check_rows(data, sizes: list) -> None:
    """Every sequence at depth ``d`` has ``sizes[d]`` items, sequences above the last depth."""
    level = [data]
    for dim, size in enumerate(sizes):
        below = []
        for row in level:
            if not isinstance(row, (list, tuple)):
                raise TypeError("tensor(): not a sequence")
            if len(row) != size:
                raise ValueError(f"tensor(): expected sequence of length {size} at dim {dim} "
                                 f"(got {len(row)})")
            below.extend(row)
        level = below
    for leaf in level:
        if isinstance(leaf, (list, tuple)):
            raise TypeError(f"tensor(): must be real number, not {type(leaf).__name__}")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with an array or tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None:
            out = out.to(dtypes.to_dtype(dtype))
        if device is not None:
            out = out.to(device)
        return out
    if backend.is_array(data) and (dtype is None or dtypes.to_dtype(dtype).np == data.dtype) and (
        device is None or backend.as_device(device) == backend.device_of(data)
    ):
        dtypes.from_numpy(data.dtype)
        return Tensor._make(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes show through both ways)."""
    if not isinstance(ndarray, backend.numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy(ndarray.dtype)
    return Tensor._make(ndarray)


def _tensor_from_args(args: tuple, dtype, device) -> Tensor:
    """``Tensor(data)`` or ``Tensor(*sizes)``: the legacy constructor, float32 by default."""
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if len(args) == 1 and not isinstance(args[0], int):
        return tensor(args[0], dtype=d, device=device)
    return empty(*args, dtype=d, device=device)


def _size(size, op: str = "tensor") -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = ints_arg(size, op, "size")
    if any(s < 0 for s in shape):
        raise RuntimeError(
            f"{op}: Trying to create tensor with negative dimension {min(shape)}: {list(shape)}"
        )
    return shape


def _filled(fill: str, size, dtype, device, requires_grad: bool) -> Tensor:
    shape = _size(size, fill)
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = backend.as_device(device)
    xp = backend.xp_for(dev)
    with backend.device_context(dev), allocating(shape, d.itemsize, dev):
        data = getattr(xp, fill)(shape, dtype=d.np)
    return _finish(data, requires_grad)


def _with_out(factory):
    """``factory`` taking torch's ``out=``: the values made in ``out``'s dtype and on its device,
    then written into ``out`` (resized to the result's shape, as torch's factories do, with
    torch's warning when it had elements)."""
    name = factory.__name__

    @functools.wraps(factory)
    def fn(*args, out: Tensor | None = None, **kwargs) -> Tensor:
        if out is None:
            return factory(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        dtype = kwargs.get("dtype")
        if dtype is not None and dtypes.to_dtype(dtype) != out.dtype:
            raise RuntimeError(f"dtype {dtypes.scalar_name(dtypes.to_dtype(dtype))} does not match "
                               f"dtype of out parameter ({dtypes.scalar_name(out.dtype)})")
        if STATE.enabled and (out.requires_grad or kwargs.get("requires_grad")):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        result = factory(*args, **{**kwargs, "dtype": out.dtype, "device": out.device})
        return out._take_result(result, stacklevel=3)

    return fn


@_with_out
def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return _filled("zeros", size, dtype, device, requires_grad)


@_with_out
def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _filled("ones", size, dtype, device, requires_grad)


@_with_out
def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor with unspecified values (Ember gives zeros, which are as good)."""
    return _filled("zeros", size, dtype, device, requires_grad)


@_with_out
def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype inferred from the value, as torch)."""
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.scalar_dtype(fill_value)
    dtypes.checked_scalar("full", fill_value, d)
    t = zeros(*_size((size,) if isinstance(size, int) else tuple(size)), dtype=d, device=device)
    t._data.fill(fill_value)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _like(fn, input: Tensor, dtype, device, requires_grad, *args):
    if input._batched and fn is not rand and fn is not randn:  # batched by vmap
        return input._new_like(fn, dtype, device, requires_grad, *args)
    return fn(*args, tuple(input.shape), dtype=dtype if dtype is not None else input.dtype,
              device=device if device is not None else input.device, requires_grad=requires_grad)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, input, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if input._batched:  # batched by vmap
        return input._new_like(full, dtype, device, requires_grad, fill_value, last=True)
    return full(tuple(input.shape), fill_value, dtype=dtype if dtype is not None else input.dtype,
                device=device if device is not None else input.device, requires_grad=requires_grad)


@_with_out
def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n×m)."""
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = backend.as_device(device)
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be non-negative, got {n} and {m}")
    with backend.device_context(dev), allocating((n, n if m is None else m), d.itemsize, dev):
        data = backend.xp_for(dev).eye(n, m, dtype=d.np)
    return _finish(data, requires_grad)


@_with_out
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``."""
    import math

    if end is None:
        start, end = 0, start
    if dtype is None:
        vals = (start, end, step)
        is_float = any(isinstance(v, float) or (isinstance(v, Tensor) and v.is_floating_point())
                       for v in vals)
        d = dtypes.get_default_dtype() if is_float else dtypes.int64
    else:
        d = dtypes.to_dtype(dtype)
    if d is dtypes.bool_:
        raise NotImplementedError("arange: \"arange_cpu\" not implemented for 'Bool'")
    if not float(step) > 0 and not float(step) < 0:
        raise RuntimeError(f"arange: step must be nonzero (got {step})")
    if not (math.isfinite(float(start)) and math.isfinite(float(end))):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if float(step) > 0 and float(end) < float(start) or float(step) < 0 and float(end) > float(start):
        raise RuntimeError(
            "arange: upper bound and lower bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    if d is dtypes.int64:  # as torch: an int64 range truncates its bounds before counting
        start, end, step = (int(dtypes.checked_scalar("arange", float(v), d)) for v in (start, end, step))
        if step == 0:
            raise ValueError("arange: step must be nonzero (it truncates to 0 for int64)")
    dev = backend.as_device(device)
    xp = backend.xp_for(dev)
    count = (float(end) - float(start)) / float(step)
    n = max(0, math.ceil(count)) if math.isfinite(count) else math.inf
    if n > dtypes.int64.bounds()[1]:
        raise RuntimeError(f"arange: invalid size, possible overflow? ({n} elements from {start} to "
                           f"{end} by {step})")
    with backend.device_context(dev), allocating((n,), d.itemsize, dev):
        data = (start + step * xp.arange(n, dtype=backend.numpy.float64)).astype(d.np) \
            if d.is_floating_point else xp.arange(start, end, step, dtype=d.np)[:n]
    return _finish(data, requires_grad)


@_with_out
def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if steps == 0:
        return zeros(0, dtype=d, device=device, requires_grad=requires_grad)
    if steps == 1:
        return full((1,), start, dtype=d, device=device, requires_grad=requires_grad)
    if d is dtypes.bool_:
        raise NotImplementedError("linspace: \"linspace_cpu\" not implemented for 'Bool'")
    for value in (start, end):
        dtypes.checked_scalar("linspace", float(value), d)
    dev = backend.as_device(device)
    xp = backend.xp_for(dev)
    # torch's kernel: bounds in the result dtype, the step in it too (double for integers), the
    # first half counted up from start and the second half down from end (so end is exact).
    work = d.np if d.is_floating_point else backend.numpy.float64
    lo = xp.asarray(float(start), dtype=d.np).astype(work)
    hi = xp.asarray(float(end), dtype=d.np).astype(work)
    work_size = backend.numpy.dtype(work).itemsize
    with backend.device_context(dev), allocating((steps,), work_size, dev):
        idx = xp.arange(steps, dtype=work)
        step = (hi - lo) / (steps - 1)
        data = xp.where(idx < steps // 2, lo + step * idx, hi - step * (steps - 1 - idx)).astype(d.np)
    return _finish(data, requires_grad)


@_with_out
def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    lin = linspace(start, end, steps, dtype=dtypes.float64, device=device)
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return _finish((base ** lin._data).astype(d.np), requires_grad)


# ---------------------------------------------------------------------------- random


def _vmap_draws() -> list:
    """Inside vmap: the levels whose samples draw their own numbers (``randomness="different"``)."""
    levels = []
    for level, size, randomness in VMAP.levels:
        if randomness == "error":
            raise RuntimeError("vmap: called random operation while in randomness error mode. Please "
                               "either use the 'same' or 'different' randomness flags on vmap or "
                               "perform the randomness operation out of vmap")
        if randomness == "different":
            levels.append((level, size))
    return levels


def _random(kind: str, size, generator, dtype, device, requires_grad, **kw) -> Tensor:
    shape = _size(size, kind)
    draws = _vmap_draws() if VMAP.levels else ()
    shape = tuple(n for _, n in draws) + tuple(shape)
    dev = backend.as_device(device)
    rng = generator_for(dev, generator)
    with backend.device_context(dev), allocating(shape, 8, dev):  # drawn as 64-bit numbers
        if kind == "randint":
            d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
            data = rng.integers(kw["low"], kw["high"], shape).astype(d.np)
        else:
            d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
            if not d.is_floating_point:
                raise NotImplementedError(f"{kind}: \"{kind}\" not implemented for '{d}' (a "
                                          "floating-point dtype is needed)")
            draw = rng.random if kind == "rand" else rng.standard_normal
            data = draw(shape, dtype=backend.numpy.float64).astype(d.np)
    if draws:
        return VMAP.rewrap(_finish(data, requires_grad), [level for level, _ in draws])
    return _finish(data, requires_grad)


@_with_out
def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    return _random("rand", size, generator, dtype, device, requires_grad)


@_with_out
def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers."""
    return _random("randn", size, generator, dtype, device, requires_grad)


@_with_out
def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high): ``randint(10, (3,))`` or ``randint(2, 10, (3,))``."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _random("randint", (tuple(size),), generator, dtype, device, requires_grad, low=low, high=high)


@_with_out
def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1."""
    n = int_arg(n, "randperm", "n")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    dev = backend.as_device(device)
    rng = generator_for(dev, generator)
    with backend.device_context(dev):
        if dev.type == "cpu":
            data = rng.permutation(n)
        else:  # CuPy's generator has no permutation: the order that sorts uniform keys is one
            data = backend.xp_for(dev).argsort(rng.random(n))
    return _finish(data.astype(d.np), requires_grad)


def _random_like(fn, input: Tensor, generator, dtype, device, requires_grad) -> Tensor:
    return fn(tuple(input.shape), generator=generator,
              dtype=dtype if dtype is not None else input.dtype,
              device=device if device is not None else input.device, requires_grad=requires_grad)


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1) shaped like ``input``."""
    return _random_like(rand, input, generator, dtype, device, requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers shaped like ``input``."""
    return _random_like(randn, input, generator, dtype, device, requires_grad)


def randint_like(input: Tensor, low, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high) shaped like ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator,
                   dtype=dtype if dtype is not None else input.dtype,
                   device=device if device is not None else input.device,
                   requires_grad=requires_grad)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def typename(obj) -> str:
    """torch.typename: a tensor's legacy type name ('ember.FloatTensor'), else the class's path."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


def numel(input: Tensor) -> int:
    return input.numel()


def scalar_tensor(value: Number, *, dtype=None, device=None) -> Tensor:
    return tensor(value, dtype=dtype if dtype is not None else dtypes.get_default_dtype(), device=device)
