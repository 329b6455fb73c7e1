"""Autograd against torch: backward, graphs, hooks, grad(), grad modes, custom Functions, errors."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch

import ember
from ember.autograd import Function


def _pair(data, **kw):
    """The same leaf in Ember and torch (float64, requires grad)."""
    return (ember.tensor(data, dtype=ember.float64, requires_grad=True, **kw),
            torch.tensor(data, dtype=torch.float64, requires_grad=True))


# ---------------------------------------------------------------------------- backward


def test_gradients_accumulate_into_leaves() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_backward_with_an_explicit_gradient() -> None:
    e, t = _pair([[1.0, 2.0], [3.0, 4.0]])
    v = [[1.0, -1.0], [0.5, 2.0]]
    (e * e).backward(ember.tensor(v, dtype=ember.float64))
    (t * t).backward(torch.tensor(v, dtype=torch.float64))
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_implicit_gradient_only_for_scalar_outputs() -> None:
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2)[:1].backward()  # one element is fine
    assert x.grad.tolist() == [2.0, 0.0]


def test_backward_needs_something_that_requires_grad() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(1).sum().backward()


def test_chain_of_100000_ops_without_recursion_and_graph_freed() -> None:
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    middle = weakref.ref(y)
    z = y * 1.0
    del y
    z.backward()
    assert x.grad.item() == 1.0
    gc.collect()
    assert middle() is None  # saved intermediates are released after backward
    del z  # tearing down a deep graph must not recurse either


def test_second_backward_through_a_freed_graph_raises_torchs_error() -> None:
    x = ember.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = ember.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * first)


def test_retain_grad_on_a_non_leaf() -> None:
    e, t = _pair([1.0, 2.0])
    ey, ty = e * 3, t * 3
    ey.retain_grad()
    ty.retain_grad()
    (ey * ey).sum().backward()
    (ty * ty).sum().backward()
    assert ey.retains_grad
    np.testing.assert_allclose(ey.grad.numpy(), ty.grad.numpy())
    ez = e * 2
    (ez * 1).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):  # as torch
        assert ez.grad is None  # not retained


def test_hooks_on_leaves_and_non_leaves() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: g * 10)
    y = x * x
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.sum().backward()
    assert seen == [[1.0, 1.0]]
    assert x.grad.tolist() == [20.0, 40.0]
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(1).register_hook(lambda g: g)


# ---------------------------------------------------------------------------- autograd.grad


def test_grad_returns_instead_of_accumulating() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad((x ** 2).sum(), x)
    assert g.tolist() == [2.0, 4.0] and x.grad is None


def test_grad_allow_unused() -> None:
    x = ember.tensor(1.0, requires_grad=True)
    w = ember.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad(x * 2, [x, w])
    gx, gw = ember.autograd.grad(x * 2, [x, w], allow_unused=True)
    assert gx.item() == 2.0 and gw is None
    gx, gw = ember.autograd.grad(x * 2, [x, w], materialize_grads=True)
    assert gw.item() == 0.0


def test_higher_derivatives_to_third_order() -> None:
    e, t = _pair([0.3, -1.2, 2.0])
    grads = {}
    for lib, x in (("ember", e), ("torch", t)):
        grad = ember.autograd.grad if lib == "ember" else torch.autograd.grad
        y = (x.sin() * x ** 3).sum()
        out = []
        for _ in range(3):
            (y,) = grad(y, x, create_graph=True)
            out.append(y.detach().numpy().copy())
            y = y.sum()
        grads[lib] = out
    for got, want in zip(grads["ember"], grads["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_create_graph_backward_gives_a_differentiable_grad() -> None:
    x = ember.tensor(3.0, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    assert x.grad.item() == 27.0 and x.grad.requires_grad
    (g2,) = ember.autograd.grad(x.grad, x)
    assert g2.item() == 18.0


def test_batched_cotangents_give_jacobians_and_hessians() -> None:
    rng = np.random.default_rng(0)
    fns = {
        "matmul": lambda m, x: m.tanh(x @ x.T),
        "perm-slice": lambda m, x: x.permute(1, 0).reshape(-1)[:5],
        "cat-flip": lambda m, x: m.cat([x, x * 2], 1).flip(0),
        "softmax": lambda m, x: x.softmax(-1),
        "gather": lambda m, x: x.gather(1, m.tensor([[0, 1], [2, 2], [3, 0]])),
        "split-adv": lambda m, x: x[m.tensor([0, 2]), :, m.tensor([1, 0])] if x.ndim == 3 else x,
        "prod": lambda m, x: x.prod(1),
        "var": lambda m, x: x.var(1),
    }
    for name, f in fns.items():
        xa = rng.standard_normal((3, 4))
        x = ember.tensor(xa, requires_grad=True)
        y = f(ember, x)
        m = y.numel()
        eye = ember.eye(m, dtype=ember.float64).reshape((m,) + tuple(y.shape))
        (jac,) = ember.autograd.grad(y, x, eye, is_grads_batched=True)
        want = torch.autograd.functional.jacobian(lambda t: f(torch, t), torch.tensor(xa))
        np.testing.assert_allclose(jac.numpy().reshape(want.shape), want.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)
    xa = rng.standard_normal(4)
    a = rng.standard_normal((4, 4))
    x = ember.tensor(xa, requires_grad=True)
    (g,) = ember.autograd.grad((ember.tanh(ember.tensor(a) @ x) ** 2).sum(), x, create_graph=True)
    (hess,) = ember.autograd.grad(g, x, ember.eye(4, dtype=ember.float64), is_grads_batched=True)
    want = torch.autograd.functional.hessian(
        lambda t: (torch.tanh(torch.tensor(a) @ t) ** 2).sum(), torch.tensor(xa))
    np.testing.assert_allclose(hess.numpy(), want.numpy(), rtol=1e-10)


def test_scatter_add_with_a_larger_src_is_differentiable() -> None:
    """torch cannot differentiate this case; the padded gradient equals torch's on the used part."""
    rng = np.random.default_rng(1)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    idx = np.array([[0, 2, 1], [2, 2, 0]])
    es = ember.tensor(src, requires_grad=True)
    out = ember.scatter_add(ember.tensor(x), 0, ember.tensor(idx), es)
    cot = rng.standard_normal((3, 4))
    (g,) = ember.autograd.grad(out, es, ember.tensor(cot))
    ts = torch.tensor(src[:2, :3], requires_grad=True)
    (want,) = torch.autograd.grad(torch.scatter_add(torch.tensor(x), 0, torch.tensor(idx), ts), ts,
                                  torch.tensor(cot))
    np.testing.assert_allclose(g.numpy()[:2, :3], want.numpy())
    assert not g.numpy()[2:].any() and not g.numpy()[:, 3:].any()


# ---------------------------------------------------------------------------- grad modes


def test_no_grad_and_enable_grad_as_context_managers() -> None:
    x = ember.ones(1, requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    assert ember.is_grad_enabled() and (x * 2).requires_grad


def test_grad_modes_as_decorators() -> None:
    x = ember.ones(1, requires_grad=True)

    @ember.no_grad()
    def off():
        return x * 2

    @ember.enable_grad()
    def on():
        return x * 2

    @ember.inference_mode()
    def inference():
        return x * 2

    @ember.set_grad_enabled(False)
    def disabled():
        return x * 2

    assert not off().requires_grad and not inference().requires_grad and not disabled().requires_grad
    with ember.no_grad():
        assert on().requires_grad
    assert ember.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context_and_inference_mode_flag() -> None:
    x = ember.ones(1, requires_grad=True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    try:
        assert not ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)
    with ember.inference_mode():
        assert not (x * 2).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError
    assert ember.is_grad_enabled()


# ---------------------------------------------------------------------------- custom Functions


class Cube(Function):
    """x ** 3 with a backward written in Ember ops (so it differentiates again)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * 3 * x ** 2 * ctx.scale, None


def test_custom_function_forward_backward_and_double_backward() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.tolist() == [2.0, 16.0] and y.grad_fn is not None
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    assert g.tolist() == [6.0, 24.0]
    (h,) = ember.autograd.grad(g.sum(), x)
    assert h.tolist() == [12.0, 24.0]


def test_custom_function_needs_input_grad_and_saved_tensor_versions() -> None:
    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)

    a = ember.tensor([2.0], requires_grad=True)
    b = ember.tensor([5.0])
    Mul.apply(a, b).sum().backward()
    assert a.grad.tolist() == [5.0] and b.grad is None
    c = ember.tensor([1.0], requires_grad=True) * 1
    out = Mul.apply(c, b)
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# ---------------------------------------------------------------------------- in-place and versions


def test_inplace_change_of_a_saved_tensor_is_detected_at_backward() -> None:
    for lib in (ember, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        z = y.sin()
        y.add_(1)
        with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation "
                                               "has been modified by an inplace operation"):
            z.sum().backward()


def test_inplace_ops_on_non_leaves_are_differentiable() -> None:
    e, t = _pair([0.5, -1.0, 2.0])
    for x, lib in ((e, ember), (t, torch)):
        y = x * 1
        y.mul_(x).add_(2, alpha=3).clamp_(min=0.0)
        y[0] = 0.0
        y.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())


def test_grads_sum_back_over_broadcast_dims() -> None:
    e1, t1 = _pair(np.ones((3, 1)))
    e2, t2 = _pair(np.ones(4))
    (e1 * e2).sum().backward()
    (t1 * t2).sum().backward()
    assert e1.grad.shape == (3, 1) and e2.grad.shape == (4,)
    np.testing.assert_allclose(e1.grad.numpy(), t1.grad.numpy())
    np.testing.assert_allclose(e2.grad.numpy(), t2.grad.numpy())
