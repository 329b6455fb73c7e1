"""One checker for every op in the catalog: Ember against torch, and against finite differences.

``check_op(info, sample, dtype, device)`` runs the op's sample through Ember and torch and
compares, in order: the forward values (dtype, shape, numbers); the first derivatives for a
random cotangent (``autograd.grad``); the second derivatives (the gradient of
<first gradients, random vector> with respect to the inputs, through ``create_graph=True``);
forward mode (``func.jvp`` against ``torch.func.jvp`` for random tangents, and the gradient of
<jvp, random vector> with respect to the primals and tangents: reverse over forward); and, in
float64, the first derivatives against central finite differences.
"""
from __future__ import annotations

import contextlib
import sys
import zlib

import numpy as np
import pytest
import torch

import ember

# (rtol, atol) per dtype: the rtol, with an atol for values that should be zero.
TOLERANCE = {"float32": (1e-5, 1e-6), "float64": (1e-10, 1e-12)}
FD_EPS = 1e-6
FD_TOLERANCE = (1e-5, 1e-7)


def sample_list(info, dtype: str) -> list:
    """The op's samples for ``dtype``, the same on every run (seeded by op name and dtype)."""
    rng = np.random.default_rng(zlib.crc32(f"{info.name}/{dtype}".encode()))
    return list(info.samples(rng, dtype))


def _is_float(arr) -> bool:
    return isinstance(arr, np.ndarray) and arr.dtype.kind == "f"


def map_arrays(obj, fn):
    """``obj`` (args, kwargs, nested tuples/lists/dicts) with each NumPy array replaced by ``fn(arr)``."""
    if isinstance(obj, np.ndarray):
        return fn(obj)
    if isinstance(obj, tuple):
        return tuple(map_arrays(o, fn) for o in obj)
    if isinstance(obj, list):
        return [map_arrays(o, fn) for o in obj]
    if isinstance(obj, dict):
        return {k: map_arrays(v, fn) for k, v in obj.items()}
    return obj


def float_arrays(sample) -> list:
    """The floating-point arrays of a sample, in argument order (the differentiable inputs)."""
    found = []
    map_arrays(sample, lambda a: found.append(a) if _is_float(a) else None)
    return found


def _tensors(lib: str, sample, device: str, leaves: list | None):
    """The sample with arrays as Ember or torch tensors; float ones become leaves needing grad."""

    def convert(arr):
        grad = leaves is not None and _is_float(arr)
        if lib == "torch":
            t = torch.tensor(arr)
            t.requires_grad_(grad)
        else:
            t = ember.tensor(arr, device=device, requires_grad=grad)
        if grad:
            leaves.append(t)
        return t

    return map_arrays(sample, convert)


def flatten(out) -> list:
    """Every tensor or value an op returned, in order (tuples such as (values, indices) opened)."""
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in flatten(o)]
    return [out]


def _host(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():  # torch's symbolic zeros (e.g. abs's second derivative)
            return np.zeros(tuple(t.shape), dtype=_dtype_name(t))
        return t.detach().numpy()
    return t.detach().cpu().numpy()


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def assert_close(got, want, dtype: str, what: str, tol: tuple | None = None) -> None:
    """Ember value ``got`` equals torch value ``want``: kind, dtype, shape and numbers."""
    if not isinstance(want, torch.Tensor):
        assert not isinstance(got, ember.Tensor), f"{what}: Ember gave a tensor, torch {want!r}"
        assert got == want, f"{what}: {got!r} != {want!r}"
        return
    assert isinstance(got, ember.Tensor), f"{what}: expected a tensor, got {type(got).__name__}"
    assert _dtype_name(got) == _dtype_name(want), f"{what}: dtype {got.dtype} != {want.dtype}"
    assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {tuple(got.shape)} != {tuple(want.shape)}"
    g, w = _host(got), _host(want)
    if w.dtype.kind != "f":
        np.testing.assert_array_equal(g, w, err_msg=what)
        return
    rtol, atol = tol if tol is not None else TOLERANCE.get(dtype, TOLERANCE["float32"])
    np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


# ---------------------------------------------------------------------------- derivatives


def _grads(lib, outs: list, leaves: list, cots: list, create_graph: bool) -> list:
    """d<outs, cots>/d(leaves) with ``lib``'s autograd; None where an input is not reached."""
    pairs = [(o, c) for o, c in zip(outs, cots) if c is not None and o.requires_grad]
    if not pairs or not leaves:
        return [None] * len(leaves)
    grad = torch.autograd.grad if lib == "torch" else ember.autograd.grad
    return list(grad([o for o, _ in pairs], leaves, [c for _, c in pairs], allow_unused=True,
                     create_graph=create_graph, retain_graph=True))


def _inner(lib, grads: list, vecs: list):
    """sum_i <grads_i, vecs_i> over the gradients still in the graph (None if there are none)."""
    total = None
    for g, v in zip(grads, vecs):
        if g is None or not g.requires_grad:
            continue
        term = (g * v).sum()
        total = term if total is None else total + term
    return total


def _zeros_for(grads: list, leaves: list) -> list:
    return [np.zeros(tuple(leaf.shape)) if g is None else _host(g) for g, leaf in zip(grads, leaves)]


def _random_like(rng, outs: list) -> list:
    """One random cotangent array per floating-point output (None for the others)."""
    cots = []
    for o in outs:
        floating = is_float_tensor(o)
        cots.append(rng.standard_normal(tuple(o.shape)).astype(_dtype_name(o)) if floating else None)
    return cots


def is_float_tensor(value) -> bool:
    """True for a floating-point tensor of either library."""
    return isinstance(value, (torch.Tensor, ember.Tensor)) and value.is_floating_point()


def _as(lib: str, arrays: list, device: str) -> list:
    if lib == "torch":
        return [None if a is None else torch.tensor(a) for a in arrays]
    return [None if a is None else ember.tensor(a, device=device) for a in arrays]


def _compare_list(got: list, want: list, dtype: str, what: str, tol) -> None:
    for i, (g, w) in enumerate(zip(got, want)):
        rtol, atol = tol if tol is not None else TOLERANCE[dtype]
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{what} of input {i}")


# ---------------------------------------------------------------------------- the check


def check_op(info, sample: tuple, dtype: str, device: str = "cpu") -> None:
    """Forward, first and second derivatives against torch; float64 finite differences too."""
    args, kwargs = sample
    differentiable = info.grad and dtype in ("float32", "float64")
    e_leaves: list | None = [] if differentiable else None
    t_leaves: list | None = [] if differentiable else None
    e_args, e_kwargs = _tensors("ember", (args, kwargs), device, e_leaves)
    t_args, t_kwargs = _tensors("torch", (args, kwargs), device, t_leaves)
    tol = info.tol.get(dtype)
    try:
        want = flatten(info.ref(torch, *t_args, **t_kwargs))
    except Exception as exc:  # torch refuses the sample: Ember must refuse it the same way
        with pytest.raises(type(exc)):
            info.fn(*e_args, **e_kwargs)
        return
    with _on_the_device(info, device):
        got = flatten(info.fn(*e_args, **e_kwargs))
    assert len(got) == len(want), f"{info.name}: {len(got)} outputs, torch gives {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, dtype, f"{info.name} forward output {i}", tol)
    if not differentiable or not e_leaves:
        return
    rng = np.random.default_rng(zlib.crc32(info.name.encode()))
    cots = _random_like(rng, want)
    e_cots = _as("ember", cots, device)
    with _on_the_device(info, device):
        e_first = _grads("ember", got, e_leaves, e_cots, info.gradgrad)
    t_first = _grads("torch", want, t_leaves, _as("torch", cots, device), info.gradgrad)
    _compare_list(_zeros_for(e_first, e_leaves), _zeros_for(t_first, t_leaves), dtype,
                  f"{info.name} gradient", tol)
    _check_batched(info, got, want, e_leaves, t_leaves, cots, rng, dtype, device, tol)
    check_jvp(info, sample, dtype, device)
    if info.gradgrad:
        vecs = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_leaves]
        e_second = _second("ember", e_first, e_leaves, _as("ember", vecs, device))
        t_second = _second("torch", t_first, t_leaves, _as("torch", vecs, device))
        _compare_list(_zeros_for(e_second, e_leaves), _zeros_for(t_second, t_leaves), dtype,
                      f"{info.name} second derivative", tol)
    if dtype == "float64" and all(_fd_ready(w) for w in want if is_float_tensor(w)):
        fd_check(info, sample, cots, _zeros_for(e_first, e_leaves), device)


@contextlib.contextmanager
def _on_the_device(info, device: str):
    """On CuPy's stand-in, fail where the op's forward or backward reads the device back
    (unless its OpInfo says why it must): on a GPU the host would wait there every call."""
    double = sys.modules.get("cupy_double")
    if device != "cuda" or double is None or info.host_reads:
        yield
        return
    with double.forbid_host_traffic(uploads=False):
        yield


def _check_batched(info, got, want, e_leaves, t_leaves, cots, rng, dtype, device, tol) -> None:
    """Two cotangents in one batched sweep (``is_grads_batched``) give both gradients."""
    other = _random_like(rng, want)
    pairs = [(o, np.stack([c, c2])) for o, c, c2 in zip(got, cots, other) if c is not None]
    pairs = [(o, b) for o, b in pairs if o.requires_grad]
    if not pairs:
        return
    batched = ember.autograd.grad([o for o, _ in pairs], e_leaves,
                                  [ember.tensor(b, device=device) for _, b in pairs],
                                  allow_unused=True, retain_graph=True, is_grads_batched=True)
    rows = [np.zeros((2,) + tuple(leaf.shape)) if g is None else _host(g)
            for g, leaf in zip(batched, e_leaves)]
    for k, cot in enumerate((cots, other)):
        want_k = _zeros_for(_grads("torch", want, t_leaves, _as("torch", cot, device), False), t_leaves)
        _compare_list([r[k] for r in rows], want_k, dtype, f"{info.name} batched gradient row {k}", tol)


def _op_of_floats(lib: str, info, sample: tuple, device: str):
    """The op as a function of its floating inputs (the others fixed), giving its float outputs."""

    def f(*xs):
        queue = iter(xs)
        args, kwargs = map_arrays(sample, lambda a: next(queue) if _is_float(a) else _as(lib, [a], device)[0])
        outs = flatten(info.ref(torch, *args, **kwargs) if lib == "torch" else info.fn(*args, **kwargs))
        return tuple(o for o in outs if is_float_tensor(o))

    return f


def check_jvp(info, sample: tuple, dtype: str, device: str = "cpu") -> None:
    """Forward mode: ``J·t`` by ``ember.func.jvp`` against ``torch.func.jvp`` for random tangents;
    then (where second derivatives exist; in float64) the gradient of <J·t, w> with respect to
    the primals and the tangents, which runs backward through the JVP rules (reverse over
    forward), against torch's reverse over forward or, where that is missing or wrong (glu,
    linalg.det), its reverse over reverse."""
    arrays = float_arrays(sample)
    if not arrays or info.jvp_ref:
        return
    rng = np.random.default_rng(zlib.crc32(f"{info.name}/jvp".encode()))
    tans = [rng.standard_normal(a.shape).astype(a.dtype) for a in arrays]
    n = len(arrays)
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays + tans]
    e_in = [ember.tensor(a, device=device, requires_grad=info.gradgrad) for a in arrays + tans]
    t_f = _op_of_floats("torch", info, sample, device)
    try:
        t_out, t_jvp = torch.func.jvp(t_f, tuple(t_in[:n]), tuple(t_in[n:]))
    except Exception:  # torch has no forward-mode formula here: nothing to compare against
        return
    with _on_the_device(info, device):
        e_out, e_jvp = ember.func.jvp(_op_of_floats("ember", info, sample, device),
                                      tuple(e_in[:n]), tuple(e_in[n:]))
    tol = info.tol.get(dtype)
    assert len(e_jvp) == len(t_jvp), f"{info.name} jvp: {len(e_jvp)} outputs, torch gives {len(t_jvp)}"
    for i, (g, w, o) in enumerate(zip(e_jvp, t_jvp, t_out)):
        # Ember's tangents take their output's dtype; torch's may be wider (a float64 0-d tangent)
        assert_close(g, w.to(o.dtype), dtype, f"{info.name} jvp output {i}", tol)
    if not info.gradgrad or not e_jvp or dtype != "float64":  # once per op: float64 suffices
        return
    vecs = [rng.standard_normal(tuple(w.shape)).astype(dtype) for w in t_jvp]
    # each vector on its tangent's device (an op such as cpu() moves its result)
    e_vecs = [ember.tensor(v, device=g.device) for v, g in zip(vecs, e_jvp)]
    e_total = _inner("ember", list(e_jvp), e_vecs)
    got = [np.zeros(tuple(t.shape)) for t in e_in] if e_total is None else \
        _zeros_for(_grads("ember", [e_total], e_in, [_ones("ember", e_total)], False), e_in)
    what = f"{info.name} reverse-over-forward derivative"
    try:
        _compare_list(got, _torch_reverse_over_forward(t_jvp, t_in, vecs, device), dtype, what, tol)
    except (AssertionError, RuntimeError):
        # torch's own is missing (glu) or wrong (linalg.det): its reverse over reverse instead
        _compare_list(got, _torch_reverse_over_reverse(t_f, t_in, vecs, device), dtype, what, tol)


def _torch_reverse_over_forward(t_jvp, t_in: list, vecs: list, device: str) -> list:
    """d<J·t, w>/d(primals, tangents) by torch: backward through its forward mode."""
    total = _inner("torch", list(t_jvp), _as("torch", vecs, device))
    if total is None:
        return [np.zeros(tuple(t.shape)) for t in t_in]
    return _zeros_for(_grads("torch", [total], t_in, [_ones("torch", total)], False), t_in)


def _torch_reverse_over_reverse(t_f, t_in: list, vecs: list, device: str) -> list:
    """The same derivative through <d<f, w>/dx, t> = <J·t, w>, by torch's reverse mode twice."""
    n = len(t_in) // 2
    first = _grads("torch", list(t_f(*t_in[:n])), t_in[:n], _as("torch", vecs, device), True)
    terms = [(g * t).sum() for g, t in zip(first, t_in[n:]) if g is not None]
    if not terms:
        return [np.zeros(tuple(t.shape)) for t in t_in]
    total = sum(terms[1:], terms[0])
    return _zeros_for(_grads("torch", [total], t_in, [_ones("torch", total)], False), t_in)


def check_error(info, sample: tuple, device: str = "cpu") -> None:
    """torch refuses the sample; Ember must raise the same exception class."""
    args, kwargs = sample
    t_args, t_kwargs = _tensors("torch", (args, kwargs), device, None)
    with pytest.raises(Exception) as expected:
        info.ref(torch, *t_args, **t_kwargs)
    e_args, e_kwargs = _tensors("ember", (args, kwargs), device, None)
    # torch's own classes (its LinAlgError) count as the builtin they derive from
    builtin = next(c for c in expected.type.__mro__ if c.__module__ == "builtins")
    with pytest.raises(builtin):
        info.fn(*e_args, **e_kwargs)


def _fd_ready(out) -> bool:
    """Finite differences need float64 outputs with finite values."""
    return _dtype_name(out) == "float64" and bool(np.isfinite(_host(out)).all())


def _second(lib: str, first: list, leaves: list, vecs: list) -> list:
    total = _inner(lib, first, vecs)
    if total is None:
        return [None] * len(leaves)
    return _grads(lib, [total], leaves, [_ones(lib, total)], False)


def _ones(lib: str, t):
    return torch.ones_like(t) if lib == "torch" else ember.ones_like(t)


# ---------------------------------------------------------------------------- finite differences


def fd_check(info, sample: tuple, cots: list, analytic: list, device: str = "cpu") -> None:
    """Central differences of <op(inputs), cotangents> against the analytic gradients (float64)."""
    inputs = float_arrays(sample)

    def objective(perturbed: list) -> float:
        queue = iter(perturbed)
        moved = map_arrays(sample, lambda a: next(queue) if _is_float(a) else a)
        e_args, e_kwargs = _tensors("ember", moved, device, None)
        with ember.no_grad():
            outs = flatten(info.fn(*e_args, **e_kwargs))
        return sum(float((_host(o).astype(np.float64) * c).sum())
                   for o, c in zip(outs, cots) if c is not None)

    for i, (arr, grad) in enumerate(zip(inputs, analytic)):
        numeric = np.zeros(arr.shape)
        for pos in np.ndindex(arr.shape):
            points = []
            for step in (FD_EPS, -FD_EPS):
                moved = [a.copy() for a in inputs]
                moved[i][pos] += step
                points.append(objective(moved))
            numeric[pos] = (points[0] - points[1]) / (2 * FD_EPS)
        rtol, atol = FD_TOLERANCE
        np.testing.assert_allclose(grad, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"{info.name}: gradient of input {i} vs finite differences")
