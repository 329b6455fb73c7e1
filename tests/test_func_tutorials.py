"""PyTorch's torch.func tutorials, their code as written, run with ``torch`` and with ``ember`` in
its place: "Jacobians, Hessians, hvp, vhp, and more", "Per-sample-gradients" (on the CPU) and the
"functional Module API" part of "Forward-mode Automatic Differentiation" (its dual-tensor, module
and custom-Function parts are in tests/test_forward_ad.py). Each tutorial's own asserts run
on both; the two libraries' results are compared on the same data."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import ember


def _data(m, seed: int, *shapes):
    """The same standard-normal tensors for either library."""
    rng = np.random.default_rng(seed)
    return [m.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]


TUTORIAL_SIZES = dict(fwd=(32, 2048), hess=(512, 32), batch=(64, 31, 33))
SMALL_SIZES = dict(fwd=(8, 64), hess=(24, 4), batch=(6, 5, 7))


def _jacobians_hessians(torch, timings: int, sizes: dict):
    """The tutorial's code (its prints left out, its sizes from ``sizes``; timings run ``timings``
    times)."""
    import torch.nn.functional as F  # noqa: N812 - the tutorial's name
    from torch.func import hessian, jacfwd, jacrev, jvp, vjp, vmap, grad
    from torch.utils.benchmark import Timer

    results = []

    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()

    D = 16
    weight, bias, x = _data(torch, 0, (D, D), (D,), (D,))
    clone = x.clone().requires_grad_()
    unit_vectors = torch.eye(D)

    def compute_jac(xp):
        jacobian_rows = [torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0]
                         for vec in unit_vectors]
        return torch.stack(jacobian_rows)

    jacobian = compute_jac(clone)
    _, vjp_fn = vjp(functools.partial(predict, weight, bias), x)
    ft_jacobian, = vmap(vjp_fn)(unit_vectors)
    assert torch.allclose(ft_jacobian, jacobian)
    ft_jacobian = jacrev(predict, argnums=2)(weight, bias, x)
    assert torch.allclose(ft_jacobian, jacobian)
    results += [jacobian, ft_jacobian]

    def get_perf(first, first_descriptor, second, second_descriptor):
        faster = second.times[0]
        slower = first.times[0]
        gain = (slower - faster) / slower
        if gain < 0:
            gain *= -1
        return f"Performance delta: {gain * 100:.4f} percent improvement with {second_descriptor}"

    scope = dict(compute_jac=compute_jac, xp=clone, jacrev=jacrev, jacfwd=jacfwd, predict=predict,
                 weight=weight, bias=bias, x=x)
    no_vmap_timer = Timer(stmt="compute_jac(xp)", globals=scope).timeit(timings)
    with_vmap_timer = Timer(stmt="jacrev(predict, argnums=2)(weight, bias, x)",
                            globals=scope).timeit(timings)
    assert "Performance delta" in get_perf(no_vmap_timer, "without vmap", with_vmap_timer, "vmap")

    ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
    expected = torch.autograd.functional.jacobian(lambda w, b: predict(w, b, x), (weight, bias))
    assert torch.allclose(ft_jac_weight, expected[0], atol=1e-6)
    assert torch.allclose(ft_jac_bias, expected[1], atol=1e-6)
    results += [ft_jac_weight, ft_jac_bias]

    Din, Dout = sizes["fwd"]
    weight, bias, x = _data(torch, 1, (Dout, Din), (Dout,), (Din,))
    ft_jacobian = jacfwd(predict, argnums=2)(weight, bias, x)
    ft_jacobian_rev = jacrev(predict, argnums=2)(weight, bias, x)
    assert torch.allclose(ft_jacobian, ft_jacobian_rev, atol=1e-6)
    scope.update(weight=weight, bias=bias, x=x)
    using_fwd = Timer(stmt="jacfwd(predict, argnums=2)(weight, bias, x)", globals=scope)
    using_bwd = Timer(stmt="jacrev(predict, argnums=2)(weight, bias, x)", globals=scope)
    get_perf(using_fwd.timeit(timings), "jacfwd", using_bwd.timeit(timings), "jacrev")
    results.append(ft_jacobian)

    Din, Dout = sizes["hess"]
    weight, bias, x = _data(torch, 2, (Dout, Din), (Dout,), (Din,))
    hess_api = hessian(predict, argnums=2)(weight, bias, x)
    hess_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(weight, bias, x)
    hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
    assert torch.allclose(hess_api, hess_fwdfwd, atol=1e-6)
    assert torch.allclose(hess_api, hess_revrev, atol=1e-6)
    results.append(hess_api)

    batch_size, Din, Dout = sizes["batch"]
    weight, bias, x = _data(torch, 3, (Dout, Din), (Dout,), (batch_size, Din))
    compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
    batch_jacobian0 = compute_batch_jacobian(weight, bias, x)

    def predict_with_output_summed(weight, bias, x):
        return predict(weight, bias, x).sum(0)

    batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, x).movedim(1, 0)
    assert torch.allclose(batch_jacobian0, batch_jacobian1)
    compute_batch_hessian = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))
    batch_hess = compute_batch_hessian(weight, bias, x)
    assert tuple(batch_hess.shape) == (batch_size, Dout, Din, Din)
    results += [batch_jacobian0, batch_hess]

    def hvp(f, primals, tangents):
        return jvp(grad(f), primals, tangents)[1]

    def f(x):
        return x.sin().sum()

    x, tangent = _data(torch, 4, (2048,), (2048,))
    result = hvp(f, (x,), (tangent,))

    def hvp_revrev(f, primals, tangents):
        _, vjp_fn = vjp(grad(f), *primals)
        return vjp_fn(*tangents)

    result_hvp_revrev = hvp_revrev(f, (x,), (tangent,))
    assert torch.allclose(result, result_hvp_revrev[0])
    return results + [result]


def _per_sample_gradients(torch, batch_size: int):
    """The tutorial's model and code (``device = 'cpu'``), with its batch size a parameter."""
    import torch.nn as nn
    import torch.nn.functional as F  # noqa: N812
    from torch.func import functional_call, grad, vmap

    torch.manual_seed(0)

    class SimpleCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    def loss_fn(predictions, targets):
        return F.nll_loss(predictions, targets)

    device = "cpu"
    (data,) = _data(torch, 5, (batch_size, 1, 28, 28))
    targets = torch.tensor(np.random.default_rng(6).integers(0, 10, batch_size))
    model = SimpleCNN().to(device=device)
    rng = np.random.default_rng(7)
    with torch.no_grad():  # the same weights for both libraries
        for p in model.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05))

    def compute_grad(sample, target):
        sample = sample.unsqueeze(0)
        target = target.unsqueeze(0)
        prediction = model(sample)
        loss = loss_fn(prediction, target)
        return torch.autograd.grad(loss, list(model.parameters()))

    def compute_sample_grads(data, targets):
        sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
        sample_grads = zip(*sample_grads)
        sample_grads = [torch.stack(shards) for shards in sample_grads]
        return sample_grads

    per_sample_grads = compute_sample_grads(data, targets)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        batch = sample.unsqueeze(0)
        targets = target.unsqueeze(0)
        predictions = functional_call(model, (params, buffers), (batch,))
        loss = loss_fn(predictions, targets)
        return loss

    ft_compute_grad = grad(compute_loss)
    ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
    ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
    for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads, ft_per_sample_grads.values()):
        assert torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5)
    return list(ft_per_sample_grads.values())


def _forward_ad_functional_api(torch):
    """The forward-mode tutorial's "functional Module API" part."""
    import torch.autograd.forward_ad as fwAD
    import torch.nn as nn
    from torch.func import functional_call, jvp

    torch.manual_seed(0)
    model = nn.Linear(5, 5)
    (input,) = _data(torch, 8, (16, 5))
    params = {name: p for name, p in model.named_parameters()}
    rng = np.random.default_rng(9)
    tangents = {name: torch.tensor(rng.random(tuple(p.shape)).astype(np.float32))
                for name, p in params.items()}
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    with fwAD.dual_level():
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))
        out = model(input)
        jvp_dual = fwAD.unpack_dual(out).tangent

    model = nn.Linear(5, 5)

    def func(params, input):
        return functional_call(model, params, input)

    def func_params_only(params):
        return func(params, input)

    model_output, jvp_out = jvp(func_params_only, (params,), (tangents,))
    return [jvp_dual, model_output, jvp_out]


def _same(run):
    want, got = run(torch), run(ember)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=2e-4, atol=2e-5)


def test_jacobians_and_hessians_tutorial_small():
    _same(lambda m: _redirected(m, _jacobians_hessians, 2, SMALL_SIZES))


@pytest.mark.slow
def test_jacobians_and_hessians_tutorial_as_written():
    _same(lambda m: _redirected(m, _jacobians_hessians, 2, TUTORIAL_SIZES))


def test_forward_ad_tutorial_functional_module_api():
    _same(lambda m: _redirected(m, _forward_ad_functional_api))


def test_per_sample_gradients_tutorial_small_batch():
    _same(lambda m: _redirected(m, _per_sample_gradients, 4))


@pytest.mark.slow
def test_per_sample_gradients_tutorial_as_written():
    _same(lambda m: _redirected(m, _per_sample_gradients, 64))


def _redirected(m, body, *args):
    """Run ``body`` with ``import torch...`` inside it resolving to ``m`` (as ``import ember as
    torch`` does for a script)."""
    import importlib
    import sys

    names = ["torch", "torch.nn", "torch.nn.functional", "torch.func", "torch.utils",
             "torch.utils.benchmark", "torch.autograd", "torch.autograd.forward_ad"]
    saved = {n: sys.modules.get(n) for n in names}
    if m is ember:
        for n in names:
            sys.modules[n] = importlib.import_module("ember" + n[len("torch"):])
    try:
        return body(m, *args)
    finally:
        for n, mod in saved.items():
            if mod is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = mod

