"""``ember.func.vmap`` and the module transforms against torch.func: in/out dims, nesting,
randomness, chunks, composition with the autograd transforms, per-sample gradients, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from ember import func as ef

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((3, 4))


def both(fn_of_lib, *arrays, tol=1e-10):
    """Run ``fn_of_lib(lib, *tensors)`` with ember and torch; compare every output."""
    got = fn_of_lib(ember, *[ember.tensor(a) for a in arrays])
    want = fn_of_lib(torch, *[torch.tensor(a) for a in arrays])
    got_l, want_l = _leaves(got), _leaves(want)
    assert len(got_l) == len(want_l)
    for g, w in zip(got_l, want_l):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=tol, atol=tol)


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [x for t in tree for x in _leaves(t)]
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in _leaves(tree[k])]
    return [tree]


def f(lib, x):
    return (lib.sin(x) * x).sum()


@pytest.mark.parametrize("case", [
    lambda m, x, y: m.func.vmap(lambda a: a.sin().sum())(x),
    lambda m, x, y: m.func.vmap(m.dot)(x, y.T),
    lambda m, x, y: m.func.vmap(lambda a, b: a @ b, in_dims=(0, None))(x, y),
    lambda m, x, y: m.func.vmap(lambda a, b: a @ b, in_dims=(None, 1))(x, y),
    lambda m, x, y: m.func.vmap(lambda a: a.exp(), in_dims=1, out_dims=1)(x),
    lambda m, x, y: m.func.vmap(lambda a: (a, a.sum()), out_dims=(1, 0))(x),
    lambda m, x, y: m.func.vmap(lambda d: d["a"] * d["b"][0], in_dims=({"a": 0, "b": [1]},))(
        {"a": x, "b": [y]}),
    lambda m, x, y: m.func.vmap(lambda a, b: a + b, in_dims=(0, None))(x, y[:, 0]),
    lambda m, x, y: m.func.vmap(m.func.vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(
        x[:, 0], y[0]),
    lambda m, x, y: m.func.vmap(lambda a: a.sum(), chunk_size=3)(x),
    lambda m, x, y: m.func.vmap(lambda a: a.softmax(-1).cumsum(0), in_dims=-1)(x),
    lambda m, x, y: m.func.vmap(lambda a: a.reshape(3, 1).expand(3, 2).permute(1, 0)[1:, ::2])(x),
    lambda m, x, y: m.func.vmap(lambda a: m.nn.functional.linear(a, m.ones(2, 3, dtype=m.float64),
                                                              m.ones(2, dtype=m.float64)))(x),
    lambda m, x, y: m.func.vmap(lambda w: m.nn.functional.linear(m.ones(5, 3, dtype=m.float64), w))(
        x.reshape(2, 2, 3)),
    lambda m, x, y: m.func.vmap(lambda a: m.einsum("i,j->ij", a, a))(x),
])
def test_vmap_matches_torch(case):
    both(lambda m, x, y: case(m, x, y), X, Y)


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "hessian"])
def test_vmap_of_derivative_transforms(transform):
    both(lambda m, x: m.func.vmap(getattr(m.func, transform)(lambda t: f(m, t)))(x), X)


def test_vmap_composes_with_grad_and_value_vjp_jvp():
    both(lambda m, x: m.func.vmap(m.func.grad_and_value(lambda t: f(m, t)))(x), X)
    both(lambda m, x: m.func.vmap(lambda t: m.func.vjp(m.sin, t)[1](t.cos()))(x), X)
    both(lambda m, x: m.func.vmap(lambda t: m.func.jvp(m.sin, (t,), (t.cos(),)))(x), X)
    both(lambda m, x: m.func.grad(lambda t: m.func.vmap(lambda r: f(m, r))(t).sum())(x), X)
    both(lambda m, x: m.func.vmap(m.func.grad(lambda t, s: f(m, t) * s, argnums=(0, 1)),
                                  in_dims=(0, None))(x, x[0, 0]), X)


def test_no_loop_for_ops_with_rules():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ef.vmap(lambda a: (a.tanh() @ a).sum() + a.max())(ember.tensor(RNG.standard_normal((5, 3, 3))))


def test_loop_fallback_warns_and_is_right():
    x = ember.tensor(RNG.standard_normal((4, 3, 3)))
    with pytest.warns(UserWarning, match="performance drop because we have not yet implemented the "
                                         "batching rule for as_strided"):
        got = ef.vmap(lambda t: t.as_strided((2, 2), (1, 3), 1))(x)
    want = torch.func.vmap(lambda t: t.as_strided((2, 2), (1, 3), 1))(torch.tensor(x.numpy()))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)


def test_linalg_batches_without_a_loop():
    a = ember.tensor(RNG.standard_normal((4, 3, 3)) + 3 * np.eye(3))
    b = ember.tensor(RNG.standard_normal((4, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ef.vmap(ember.linalg.solve)(a, b)
        chol = ef.vmap(lambda m: ember.linalg.cholesky(m @ m.mT))(a)
    ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
    np.testing.assert_allclose(got.numpy(), torch.func.vmap(torch.linalg.solve)(ta, tb).numpy(),
                               rtol=1e-10)
    want = torch.func.vmap(lambda m: torch.linalg.cholesky(m @ m.mT))(ta)
    np.testing.assert_allclose(chol.numpy(), want.numpy(), rtol=1e-10)


def test_randomness():
    x = ember.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ef.vmap(lambda a: a + ember.rand(3))(x)
    same = ef.vmap(lambda a: a + ember.rand(3), randomness="same")(x)
    assert (same[0] == same[1]).all().item()
    different = ef.vmap(lambda a: ember.nn.functional.dropout(a + 1, 0.5), randomness="different")(
        ember.zeros(4, 50))
    assert not (different[0] == different[1]).all().item()
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        ef.vmap(lambda a: a, randomness="sometimes")


class _Net:
    """A model with buffers (batch norm's running statistics), the same in ember and torch."""

    @staticmethod
    def build(lib):
        nn = lib.nn
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).eval()


def test_per_sample_gradients_over_a_model_with_buffers():
    tm = _Net.build(torch)
    with torch.no_grad():
        tm[1].running_mean.uniform_()
        tm[1].running_var.uniform_(0.5, 2)
    em = _Net.build(ember)
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = RNG.standard_normal((6, 5)).astype(np.float32)
    y = RNG.integers(0, 3, 6)

    def run(lib, model):
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def loss(p, b, xi, yi):
            out = lib.func.functional_call(model, (p, b), (xi.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, yi.unsqueeze(0))

        return lib.func.vmap(lib.func.grad(loss), in_dims=(None, None, 0, 0))(
            params, buffers, lib.tensor(x), lib.tensor(y))

    got, want = run(ember, em), run(torch, tm)
    assert set(got) == set(want)
    for k in want:
        assert tuple(got[k].shape) == (6,) + tuple(want[k].shape[1:])
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-4, atol=1e-6)


def test_ensemble_with_stack_module_state():
    models = [_Net.build(ember) for _ in range(3)]
    params, buffers = ef.stack_module_state(models)
    assert params["0.weight"].shape == (3, 8, 5) and params["0.weight"].requires_grad
    assert buffers["1.running_mean"].shape == (3, 8)
    x = ember.tensor(RNG.standard_normal((7, 5)).astype(np.float32))
    out = ef.vmap(lambda p, b, d: ef.functional_call(models[0], (p, b), (d,)), in_dims=(0, 0, None))(
        params, buffers, x)
    for i, m in enumerate(models):
        np.testing.assert_allclose(out[i].detach().numpy(), m(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="Expected at least one model"):
        ef.stack_module_state([])


def test_functional_call_strict_and_tied():
    m = enn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="Missing key"):
        ef.functional_call(m, {"weight": ember.ones(2, 2)}, (ember.ones(1, 2),), strict=True)
    out = ef.functional_call(m, {"weight": ember.ones(2, 2), "bias": ember.zeros(2)}, ember.ones(1, 2))
    assert out.tolist() == [[2.0, 2.0]]
    assert m.weight.shape == (2, 2) and not (m.weight == 1).all().item()  # restored
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        ef.functional_call(m, ({"bias": ember.zeros(2)}, {"bias": ember.zeros(2)}), ember.ones(1, 2))


def test_linearize():
    both(lambda m, x: m.func.linearize(m.sin, x)[0], X)
    both(lambda m, x: m.func.linearize(m.sin, x)[1](x.cos()), X)


@pytest.mark.parametrize("call, match", [
    (lambda v, m: v(lambda a, b: a + b)(m.ones(3), m.ones(4)),
     r"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes \[3, 4\]"),
    (lambda v, m: v(lambda a: a, in_dims=(0, 0))(m.ones(3)),
     r"in_dims is not compatible with the structure of `inputs`"),
    (lambda v, m: v(lambda a: a, in_dims=2)(m.ones(3)),
     r"Got in_dim=2 for some input, but that input is a Tensor of dimensionality 1"),
    (lambda v, m: v(lambda a: a, in_dims=0)(3.0),
     r"Got in_dim=0 for an input but the input is of type <class 'float'>"),
    (lambda v, m: v(lambda a: 3.0)(m.ones(3)), r"must only return Tensors, got type <class 'float'>"),
    (lambda v, m: v(lambda a: a, in_dims=(None,))(m.ones(3)), r"Expected at least one Tensor to vmap over"),
    (lambda v, m: v(lambda a: a, out_dims=None)(m.ones(3)), r"can not return a BatchedTensor when out_dim"),
    (lambda v, m: v(lambda a: a.item())(m.ones(3)), r"calling .item\(\) on a Tensor"),
    (lambda v, m: v(lambda a: a if a > 0 else -a)(m.ones(3)), r"data-dependent control flow"),
])
def test_errors_match_torch(call, match):
    with pytest.raises(Exception, match=match) as got:
        call(ef.vmap, ember)
    with pytest.raises(type(got.value), match=match):
        call(torch.func.vmap, torch)


def test_per_sample_gradients_of_a_cnn():
    """torch's per-sample-gradients tutorial model, small: convolutions, pooling, log-softmax, NLL."""

    def run(lib):
        nn, F = lib.nn, lib.nn.functional
        torch.manual_seed(0)
        tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(36, 5))
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 5))
        model.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
        x = lib.tensor(np.random.default_rng(1).standard_normal((3, 1, 8, 8)))
        y = lib.tensor([0, 3, 4])
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xi, yi):
            out = lib.func.functional_call(model, p, (xi.unsqueeze(0),))
            return F.nll_loss(F.log_softmax(out, dim=1), yi.unsqueeze(0))

        return lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x.float(), y)

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = run(ember)
    want = run(torch)
    for k in want:
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-4, atol=1e-6)


def test_inplace_inside_vmap():
    both(lambda m, x: m.func.vmap(lambda a: a.clone().mul_(2).add_(a))(x), X)
    both(lambda m, x, y: m.func.vmap(lambda a, b: a.clone().add_(b), in_dims=(0, None))(x, y[:, 0]), X, Y)
    with pytest.raises(RuntimeError, match="vmap: inplace arithmetic"):
        ef.vmap(lambda a, b: b.add_(a), in_dims=(0, None))(ember.ones(2, 3), ember.zeros(3))
    with pytest.raises(RuntimeError):  # torch: "output with shape [3] doesn't match ... [2, 3]"
        torch.func.vmap(lambda a, b: b.add_(a), in_dims=(0, None))(torch.ones(2, 3), torch.zeros(3))


@pytest.mark.parametrize("case", [
    lambda m, x: m.func.jacfwd(lambda t: m.func.vmap(lambda r: f(m, r))(t))(x),
    lambda m, x: m.func.vmap(lambda t: m.func.jvp(lambda a: f(m, a), (x[0],), (t,)))(x),
    lambda m, x: m.func.vmap(lambda t: m.func.jvp(lambda a: a.sin() * t, (t,), (x[1],)))(x),
    lambda m, x: m.func.vmap(lambda r: m.func.vmap(lambda t: m.func.jvp(m.sin, (r,), (t,)))(x))(x),
    lambda m, x: m.func.vmap(lambda r: m.func.vmap(lambda t: m.func.jvp(m.sin, (t,), (r,)))(x))(x),
    lambda m, x: m.func.vmap(m.func.jacfwd(m.func.jacfwd(lambda t: f(m, t))))(x),
    lambda m, x: m.func.jacfwd(m.func.vmap(m.func.jacfwd(lambda t: f(m, t))))(x),
])
def test_forward_mode_and_vmap_nest_either_way(case):
    """Tangents live on batched tensors' physical values: batched primals, batched tangents only,
    forward mode inside or outside (one or two) vmaps."""
    both(case, X)


def test_lstm_scan_batches_samples_as_more_rows():
    import warnings

    from ember.ops.recurrent import lstm_scan

    rng = np.random.default_rng(3)
    xw, h0, c0 = (ember.tensor(rng.standard_normal(s)) for s in [(3, 4, 2, 12), (3, 2, 3), (2, 3)])
    w = ember.tensor(rng.standard_normal((12, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no per-sample loop
        got = ember.func.vmap(lstm_scan, in_dims=(0, 0, None, None))(xw, h0, c0, w)
    want = ember.stack([lstm_scan(xw[v], h0[v], c0, w) for v in range(3)])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
