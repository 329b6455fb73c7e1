"""ember.autograd.functional and ember.func against torch.autograd.functional and torch.func.

Each function is written once with ``lib`` (ember or torch) and evaluated at the same float64
points; results must agree to rtol 1e-10.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.autograd.functional as EF
from ember import func as ef

RTOL = 1e-10
ATOL = 1e-12

RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 3))
M = RNG.standard_normal((3, 3))


def _const(lib, a):
    return lib.from_numpy(a.copy())


# name -> (function of lib returning f(*inputs), input shapes, scalar-valued?)
FUNCTIONS = {
    "exp_reducer": (lambda lib: lambda x: x.exp().sum(dim=1), [(3, 4)], False),
    "elementwise_sin": (lambda lib: lambda x: lib.sin(x) * x, [(5,)], False),
    "tanh_sq_sum": (lambda lib: lambda x: (lib.tanh(_const(lib, A) @ x) ** 2).sum(), [(3,)], True),
    "adder": (lambda lib: lambda x, y: 2 * x + 3 * y, [(2,), (2,)], False),
    "pair_out": (lambda lib: lambda x: (x ** 2, x.sum()), [(3,)], False),
    "bilinear": (lambda lib: lambda x, y: (x * y.exp()).sum(), [(3,), (3,)], True),
    "softplus_sum": (lambda lib: lambda x: lib.log(1 + lib.exp(x)).sum(), [(2, 3)], True),
    "rosenbrock": (lambda lib: lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(),
                   [(4,)], True),
    "matvec": (lambda lib: lambda w, x: lib.tanh(w @ x), [(2, 3), (3,)], False),
    "quadratic_form": (lambda lib: lambda x: (x * (_const(lib, M) @ x)).sum(), [(3,)], True),
    "tuple_in_out": (lambda lib: lambda x, y: (x * y, (x + y).exp()), [(2,), (2,)], False),
    "sigmoid_cos": (lambda lib: lambda x: (lib.sigmoid(x) * lib.cos(x)).sum(), [(4,)], True),
    "lecture_z": (lambda lib: lambda x, u, k, l: 3 * x ** 5 + 2 * u ** 2 * k * x + l * x + l,
                  [(), (), (), ()], True),
}
SCALAR = [name for name, (_, _, scalar) in FUNCTIONS.items() if scalar]


def _inputs(name: str, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, shape) for shape in FUNCTIONS[name][1]]


def _both(name: str, seed: int = 1):
    """(ember f, ember inputs, torch f, torch inputs) for one table entry."""
    make, _, _ = FUNCTIONS[name]
    arrays = _inputs(name, seed)
    return (make(ember), tuple(ember.from_numpy(a.copy()) for a in arrays),
            make(torch), tuple(torch.from_numpy(a.copy()) for a in arrays))


def _pack(xs: tuple):
    return xs[0] if len(xs) == 1 else xs


def assert_same(e, t) -> None:
    """Nested tuples of tensors agree in structure, shape and values."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t)
        for a, b in zip(e, t):
            assert_same(a, b)
        return
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------- autograd.functional


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("vectorize,strategy", [(False, "reverse-mode"), (True, "reverse-mode"),
                                                (True, "forward-mode")])
def test_jacobian_matches_torch(name, vectorize, strategy):
    ef_, ex, tf, tx = _both(name)
    e = EF.jacobian(ef_, _pack(ex), vectorize=vectorize, strategy=strategy)
    t = torch.autograd.functional.jacobian(tf, _pack(tx), vectorize=vectorize, strategy=strategy)
    assert_same(e, t)


@pytest.mark.parametrize("name", SCALAR)
@pytest.mark.parametrize("vectorize,strategy", [(False, "reverse-mode"), (True, "reverse-mode"),
                                                (True, "forward-mode")])
def test_hessian_matches_torch_and_is_symmetric(name, vectorize, strategy):
    ef_, ex, tf, tx = _both(name)
    e = EF.hessian(ef_, _pack(ex), vectorize=vectorize, outer_jacobian_strategy=strategy)
    t = torch.autograd.functional.hessian(tf, _pack(tx), vectorize=vectorize,
                                          outer_jacobian_strategy=strategy)
    assert_same(e, t)
    blocks = e if isinstance(e, tuple) else ((e,),)
    for i, row in enumerate(blocks):
        for j, h in enumerate(row):
            hji = blocks[j][i]
            n, m = ex[i].numel(), ex[j].numel()
            np.testing.assert_allclose(h.numpy().reshape(n, m), hji.numpy().reshape(m, n).T, rtol=RTOL,
                                       atol=ATOL)


def _random_like(xs: tuple, seed: int = 7) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(x.shape)) for x in xs]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_vjp_and_jvp_match_torch(name):
    ef_, ex, tf, tx = _both(name)
    t_out = tf(*tx)
    outs = t_out if isinstance(t_out, tuple) else (t_out,)
    v_out = _random_like(outs)
    v_in = _random_like(tx, seed=8)
    e_v_out = _pack(tuple(ember.from_numpy(v) for v in v_out))
    t_v_out = _pack(tuple(torch.from_numpy(v) for v in v_out))
    e_v_in = _pack(tuple(ember.from_numpy(v) for v in v_in))
    t_v_in = _pack(tuple(torch.from_numpy(v) for v in v_in))
    assert_same(EF.vjp(ef_, _pack(ex), e_v_out), torch.autograd.functional.vjp(tf, _pack(tx), t_v_out))
    assert_same(EF.jvp(ef_, _pack(ex), e_v_in), torch.autograd.functional.jvp(tf, _pack(tx), t_v_in))


@pytest.mark.parametrize("name", SCALAR)
def test_hvp_and_vhp_match_torch(name):
    ef_, ex, tf, tx = _both(name)
    v = _random_like(tx)
    e_v = _pack(tuple(ember.from_numpy(a) for a in v))
    t_v = _pack(tuple(torch.from_numpy(a) for a in v))
    assert_same(EF.hvp(ef_, _pack(ex), e_v), torch.autograd.functional.hvp(tf, _pack(tx), t_v))
    assert_same(EF.vhp(ef_, _pack(ex), e_v), torch.autograd.functional.vhp(tf, _pack(tx), t_v))


@pytest.mark.parametrize("name", ["exp_reducer", "elementwise_sin", "matvec", "tanh_sq_sum"])
def test_jvp_is_jacobian_times_vector(name):
    ef_, ex, _, _ = _both(name)
    v = tuple(ember.from_numpy(a) for a in _random_like(ex))
    _, jv = EF.jvp(ef_, _pack(ex), _pack(v))
    jac = EF.jacobian(ef_, _pack(ex))
    blocks = jac if isinstance(jac, tuple) else (jac,)
    out_shape = tuple(ef_(*ex).shape)
    expected = sum(b.numpy().reshape(int(np.prod(out_shape)), -1) @ vi.numpy().reshape(-1)
                   for b, vi in zip(blocks, v))
    np.testing.assert_allclose(jv.numpy().reshape(-1), expected, rtol=RTOL, atol=ATOL)


def test_elementwise_jacobian_is_diagonal():
    x = ember.from_numpy(np.random.default_rng(3).uniform(0.5, 2, 6))
    jac = EF.jacobian(lambda t: ember.tanh(t) * ember.log(t), x, vectorize=True).numpy()
    assert np.count_nonzero(jac - np.diag(np.diag(jac))) == 0
    assert np.all(np.diag(jac) != 0)


def test_create_graph_gives_differentiable_jacobian():
    ef_, ex, tf, tx = _both("tanh_sq_sum")
    x = ex[0].detach().requires_grad_()
    xt = tx[0].detach().requires_grad_()
    for vectorize in (False, True):
        je = EF.jacobian(ef_, x, create_graph=True, vectorize=vectorize)
        jt = torch.autograd.functional.jacobian(tf, xt, create_graph=True, vectorize=vectorize)
        assert je.requires_grad
        (ge,) = ember.autograd.grad((je ** 2).sum(), x)
        (gt,) = torch.autograd.grad((jt ** 2).sum(), xt)
        assert_same(ge, gt)


def test_results_are_detached_without_create_graph():
    ef_, ex, _, _ = _both("tanh_sq_sum")
    x = ex[0].detach().requires_grad_()
    assert not EF.jacobian(ef_, x).requires_grad
    assert not EF.hessian(ef_, x, vectorize=True).requires_grad
    out, g = EF.vjp(ef_, x)
    assert not out.requires_grad and not g.requires_grad


def test_strict_raises_like_torch_for_an_unused_input():
    def make(lib):
        return lambda x, y: x * 2

    x = np.ones(2)
    v_out = {"vjp": (np.ones(2),), "jvp": ((np.ones(2), np.ones(2)),), "jacobian": ()}
    for fn, extra in v_out.items():
        args_t = (make(torch), (torch.from_numpy(x), torch.from_numpy(x)))
        args_e = (make(ember), (ember.from_numpy(x), ember.from_numpy(x)))
        extra_t = _convert(torch, extra)
        extra_e = _convert(ember, extra)
        with pytest.raises(RuntimeError):
            getattr(torch.autograd.functional, fn)(*args_t, *extra_t, strict=True)
        with pytest.raises(RuntimeError, match="independent|strict"):
            getattr(EF, fn)(*args_e, *extra_e, strict=True)
        # Without strict, the independent input gets zeros, as in torch.
        assert_same(getattr(EF, fn)(*args_e, *extra_e),
                    getattr(torch.autograd.functional, fn)(*args_t, *extra_t))


def _convert(lib, tree):
    """Nested tuples of arrays as tensors of ``lib``."""
    if isinstance(tree, tuple):
        return tuple(_convert(lib, t) for t in tree)
    return lib.from_numpy(tree.copy())


def test_argument_errors_match_torch():
    x = ember.ones(3, dtype=ember.float64)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        EF.jacobian(lambda t: t, [x])
    with pytest.raises(RuntimeError, match="v can only be None"):
        EF.vjp(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="invalid size"):
        EF.jvp(lambda t: t * 2, x, ember.ones(4, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="single element"):
        EF.hessian(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="not supported together"):
        EF.jacobian(lambda t: t * 2, x, vectorize=True, strict=True)


class _CountSweeps:
    """Counts the engine's backward sweeps (to show Jacobians use ONE batched sweep)."""

    def __init__(self, monkeypatch) -> None:
        import ember.autograd as ag

        self.calls = 0
        real = ag.run_backward

        def counted(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(ag, "run_backward", counted)


def test_vectorized_jacobian_is_one_backward_sweep(monkeypatch):
    x = ember.from_numpy(np.linspace(0.1, 1, 7))
    sweeps = _CountSweeps(monkeypatch)
    EF.jacobian(lambda t: ember.exp(t) * t.sum(), x, vectorize=True)
    assert sweeps.calls == 1
    sweeps.calls = 0
    EF.jacobian(lambda t: ember.exp(t) * t.sum(), x, vectorize=False)
    assert sweeps.calls == 7
    sweeps.calls = 0
    ef.jacrev(lambda t: ember.exp(t) * t.sum())(x)
    assert sweeps.calls == 1
    sweeps.calls = 0
    ef.jacfwd(lambda t: ember.exp(t) * t.sum())(x)
    assert sweeps.calls == 0  # forward mode: seven sweeps of dual numbers, no backward at all


def test_chunked_jacrev_matches():
    ef_, ex, tf, tx = _both("exp_reducer")
    assert_same(ef.jacrev(ef_, chunk_size=2)(*ex), torch.func.jacrev(tf)(*tx))


# ---------------------------------------------------------------------------- ember.func


def _argnums(name: str) -> list:
    n = len(FUNCTIONS[name][1])
    return [0] if n == 1 else [0, n - 1, tuple(range(n))]


@pytest.mark.parametrize("name", SCALAR)
def test_func_grad_and_hessian_match_torch(name):
    ef_, ex, tf, tx = _both(name)
    for argnums in _argnums(name):
        assert_same(ef.grad(ef_, argnums)(*ex), torch.func.grad(tf, argnums)(*tx))
        assert_same(ef.grad_and_value(ef_, argnums)(*ex), torch.func.grad_and_value(tf, argnums)(*tx))
        assert_same(ef.hessian(ef_, argnums)(*ex), torch.func.hessian(tf, argnums)(*tx))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_func_jacrev_jacfwd_match_torch(name):
    ef_, ex, tf, tx = _both(name)
    for argnums in _argnums(name):
        t = torch.func.jacrev(tf, argnums)(*tx)
        assert_same(ef.jacrev(ef_, argnums)(*ex), t)
        assert_same(ef.jacfwd(ef_, argnums)(*ex), torch.func.jacfwd(tf, argnums)(*tx))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_func_vjp_jvp_match_torch(name):
    ef_, ex, tf, tx = _both(name)
    t_out, t_vjp = torch.func.vjp(tf, *tx)
    e_out, e_vjp = ef.vjp(ef_, *ex)
    assert_same(e_out, t_out)
    outs = t_out if isinstance(t_out, tuple) else (t_out,)
    cot = _random_like(outs)
    e_cot = tuple(ember.from_numpy(c) for c in cot)
    t_cot = tuple(torch.from_numpy(c) for c in cot)
    single = not isinstance(t_out, tuple)
    assert_same(e_vjp(e_cot[0] if single else e_cot), t_vjp(t_cot[0] if single else t_cot))
    tan = _random_like(tx, seed=9)
    assert_same(ef.jvp(ef_, ex, tuple(ember.from_numpy(a) for a in tan)),
                torch.func.jvp(tf, tx, tuple(torch.from_numpy(a) for a in tan)))


def test_func_has_aux():
    def make(lib):
        return lambda x: ((x ** 3).sum(), {"double": x * 2})

    x = np.array([1.0, -2.0, 0.5])
    e, t = ember.from_numpy(x.copy()), torch.from_numpy(x.copy())
    ge, aux_e = ef.grad(make(ember), has_aux=True)(e)
    gt, aux_t = torch.func.grad(make(torch), has_aux=True)(t)
    assert_same(ge, gt)
    assert_same(aux_e["double"], aux_t["double"])
    (ge, (ve, aux_e)) = ef.grad_and_value(make(ember), has_aux=True)(e)
    assert_same(ve, torch.func.grad_and_value(make(torch), has_aux=True)(t)[1][0])

    def vec(lib):
        return lambda x: (lib.sin(x), x.sum())

    je, ae = ef.jacrev(vec(ember), has_aux=True)(e)
    jt, at = torch.func.jacrev(vec(torch), has_aux=True)(t)
    assert_same((je, ae), (jt, at))
    assert_same(ef.jacfwd(vec(ember), has_aux=True)(e), torch.func.jacfwd(vec(torch), has_aux=True)(t))
    out_e, fn_e, aux_e = ef.vjp(vec(ember), e, has_aux=True)
    out_t, fn_t, aux_t = torch.func.vjp(vec(torch), t, has_aux=True)
    assert_same((out_e, fn_e(ember.ones(3, dtype=ember.float64)), aux_e),
                (out_t, fn_t(torch.ones(3, dtype=torch.float64)), aux_t))


def test_func_transforms_nest():
    def make(lib):
        return lambda x, y: (x ** 3 * lib.sin(y)).sum()

    x, y = np.array([0.3, -1.2]), np.array([0.7, 2.0])
    ex, ey = ember.from_numpy(x.copy()), ember.from_numpy(y.copy())
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    assert_same(ef.grad(ef.grad(lambda s: ember.sin(s) * s ** 2))(ember.tensor(0.4, dtype=ember.float64)),
                torch.func.grad(torch.func.grad(lambda s: torch.sin(s) * s ** 2))(torch.tensor(0.4,
                                                                                     dtype=torch.float64)))
    assert_same(ef.jacfwd(ef.jacrev(make(ember), argnums=1), argnums=0)(ex, ey),
                torch.func.jacfwd(torch.func.jacrev(make(torch), argnums=1), argnums=0)(tx, ty))
    # A transform inside another, reading the outer variable through a closure.
    assert_same(ef.jacrev(lambda a: ef.grad(lambda b: (a * b * b).sum())(ey))(ex),
                torch.func.jacrev(lambda a: torch.func.grad(lambda b: (a * b * b).sum())(ty))(tx))


def test_func_grad_composes_with_autograd():
    w = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    wt = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    x = np.array([1.0, 2.0])
    ge = ef.grad(lambda v: (w * v ** 2).sum())(ember.from_numpy(x.copy()))
    gt = torch.func.grad(lambda v: (wt * v ** 2).sum())(torch.from_numpy(x.copy()))
    assert ge.requires_grad
    ge.sum().backward()
    gt.sum().backward()
    assert_same(w.grad, wt.grad)


def test_func_errors_match_torch():
    x = ember.ones(2, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
        ef.grad(lambda t: t)(x)
    with pytest.raises(RuntimeError, match="Got argnum=2, but only 1 positional inputs"):
        ef.grad(lambda t: t.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        ef.grad(lambda t: t.sum(), argnums=())(x)
    with pytest.raises(RuntimeError, match="should be a tuple: \\(output, aux\\)"):
        ef.grad(lambda t: (t.sum(),), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="floating point"):
        ef.grad(lambda t: t.sum())(ember.ones(2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="unsupported type"):
        ef.jacrev(lambda t: 3)(x)


def test_jacobians_on_each_device(device):
    a = ember.from_numpy(A.copy()).to(device)
    x = ember.from_numpy(np.linspace(-1, 1, 3)).to(device)

    def f(t):
        return (ember.tanh(a @ t) ** 2).sum()

    cpu_a, cpu_x = a.cpu(), x.cpu()
    expected = EF.hessian(lambda t: (ember.tanh(cpu_a @ t) ** 2).sum(), cpu_x).numpy()
    for h in (EF.hessian(f, x, vectorize=True), ef.hessian(f)(x), ef.jacfwd(ef.jacrev(f))(x)):
        assert h.device == x.device
        np.testing.assert_allclose(h.cpu().numpy(), expected, rtol=RTOL, atol=ATOL)


def test_func_jvp_strict():
    x = ember.ones(2, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        ef.jvp(lambda t: ember.ones(2, dtype=ember.float64), (x,), (x,), strict=True)
    out, tangent = ef.jvp(lambda t: ember.ones(2, dtype=ember.float64), (x,), (x,))
    assert tangent.tolist() == [0.0, 0.0]


def test_hvp_and_vhp_strict_and_create_graph_like_torch():
    x = np.array([0.3, -0.7])
    v = np.array([1.0, 2.0])
    for fn in ("hvp", "vhp"):
        with pytest.raises(RuntimeError):
            getattr(torch.autograd.functional, fn)(lambda t: t.sum(), torch.from_numpy(x),
                                                   torch.from_numpy(v), strict=True)
        with pytest.raises(RuntimeError):
            getattr(EF, fn)(lambda t: t.sum(), ember.from_numpy(x), ember.from_numpy(v), strict=True)
        with pytest.raises(RuntimeError, match=fn):
            getattr(EF, fn)(lambda t: t * 2, ember.from_numpy(x), ember.from_numpy(v))
        xe = ember.from_numpy(x).requires_grad_()
        xt = torch.from_numpy(x).requires_grad_()
        out_e, res_e = getattr(EF, fn)(lambda t: (t ** 3).sum(), xe, ember.from_numpy(v), create_graph=True)
        out_t, res_t = getattr(torch.autograd.functional, fn)(lambda t: (t ** 3).sum(), xt,
                                                              torch.from_numpy(v), create_graph=True)
        assert res_e.requires_grad and out_e.requires_grad
        assert_same((out_e, res_e), (out_t, res_t))
