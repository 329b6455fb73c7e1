"""The autograd surface torch users touch: node names, next_functions, node hooks, saved-tensor
hooks, Variable; each checked against torch on the same expression."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

X = np.random.default_rng(0).standard_normal((4, 3))
W = np.random.default_rng(1).standard_normal((5, 3))
B = np.random.default_rng(2).standard_normal(5)
Y = np.array([0, 3, 1, 4])


def _inputs(lib):
    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)
    b = lib.tensor(B, requires_grad=True)
    return x, w, b, lib.tensor(Y)


EXPRESSIONS = {
    "add": lambda lib, F, x, w, b, y: x + x,
    "sum": lambda lib, F, x, w, b, y: x.sum(),
    "sum_dim": lambda lib, F, x, w, b, y: x.sum(1),
    "mean": lambda lib, F, x, w, b, y: x.mean(),
    "mean_dim": lambda lib, F, x, w, b, y: x.mean(0),
    "mm": lambda lib, F, x, w, b, y: x @ w.t(),
    "mv": lambda lib, F, x, w, b, y: w.mv(x[0]),
    "dot": lambda lib, F, x, w, b, y: b.dot(b),
    "t": lambda lib, F, x, w, b, y: w.t(),
    "transpose": lambda lib, F, x, w, b, y: x.transpose(0, 1),
    "view": lambda lib, F, x, w, b, y: x.view(12),
    "flatten": lambda lib, F, x, w, b, y: x.flatten(),
    "unsqueeze": lambda lib, F, x, w, b, y: x.unsqueeze(0),
    "select": lambda lib, F, x, w, b, y: x[0],
    "slice": lambda lib, F, x, w, b, y: x[1:],
    "stack": lambda lib, F, x, w, b, y: lib.stack([x, x]),
    "max": lambda lib, F, x, w, b, y: x.max(),
    "linear": lambda lib, F, x, w, b, y: F.linear(x, w, b),
    "linear_no_bias": lambda lib, F, x, w, b, y: F.linear(x, w),
    "mse_loss": lambda lib, F, x, w, b, y: F.mse_loss(x, x.detach() * 2),
    "cross_entropy": lambda lib, F, x, w, b, y: F.cross_entropy(F.linear(x, w, b), y),
    "nll_loss": lambda lib, F, x, w, b, y: F.nll_loss(F.log_softmax(F.linear(x, w, b), 1), y),
    "softmax": lambda lib, F, x, w, b, y: F.softmax(x, 1),
    "log_softmax": lambda lib, F, x, w, b, y: F.log_softmax(x, 1),
    "bce": lambda lib, F, x, w, b, y: F.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid()),
    "bce_logits": lambda lib, F, x, w, b, y: F.binary_cross_entropy_with_logits(x, x.detach()),
    "gelu": lambda lib, F, x, w, b, y: F.gelu(x),
    "layer_norm": lambda lib, F, x, w, b, y: F.layer_norm(x, (3,)),
    "embedding": lambda lib, F, x, w, b, y: F.embedding(y, w),
    "masked_fill": lambda lib, F, x, w, b, y: x.masked_fill(x.detach() > 0, 0.0),
    "norm": lambda lib, F, x, w, b, y: x.norm(),
    "conv2d": lambda lib, F, x, w, b, y: F.conv2d(x.reshape(1, 1, 4, 3), w.reshape(5, 1, 3, 1)),
    "max_pool2d": lambda lib, F, x, w, b, y: F.max_pool2d(x.reshape(1, 1, 4, 3), 2),
    "relu": lambda lib, F, x, w, b, y: x.relu(),
    "linear_3d": lambda lib, F, x, w, b, y: F.linear(x.reshape(2, 2, 3), w, b),
    "linear_3d_no_bias": lambda lib, F, x, w, b, y: F.linear(x.reshape(2, 2, 3), w),
    "matmul_3d": lambda lib, F, x, w, b, y: x.reshape(2, 2, 3) @ w.t(),
    "avg_pool2d": lambda lib, F, x, w, b, y: F.avg_pool2d(x.reshape(1, 1, 4, 3), 2),
    "adaptive_avg_pool2d": lambda lib, F, x, w, b, y: F.adaptive_avg_pool2d(x.reshape(1, 1, 4, 3), 1),
    "batch_norm": lambda lib, F, x, w, b, y: F.batch_norm(x, lib.zeros(3, dtype=x.dtype),
                                                          lib.ones(3, dtype=x.dtype), training=True),
    "group_norm": lambda lib, F, x, w, b, y: F.group_norm(x.reshape(2, 2, 3), 1),
    "silu": lambda lib, F, x, w, b, y: F.silu(x),
    "leaky_relu": lambda lib, F, x, w, b, y: F.leaky_relu(x),
    "elu": lambda lib, F, x, w, b, y: F.elu(x),
    "softplus": lambda lib, F, x, w, b, y: F.softplus(x),
    "hardtanh": lambda lib, F, x, w, b, y: F.hardtanh(x),
    "smooth_l1": lambda lib, F, x, w, b, y: F.smooth_l1_loss(x, x.detach() * 2),
    "huber": lambda lib, F, x, w, b, y: F.huber_loss(x, x.detach() * 2),
    "pad": lambda lib, F, x, w, b, y: F.pad(x, (1, 1)),
    "contiguous": lambda lib, F, x, w, b, y: x.t().contiguous(),
    "reshape_copy": lambda lib, F, x, w, b, y: x.t().reshape(-1),
    "repeat": lambda lib, F, x, w, b, y: x.repeat(2, 1),
    "split": lambda lib, F, x, w, b, y: x.split(1, 1)[0],
    "chunk": lambda lib, F, x, w, b, y: x.chunk(3, 1)[1],
    "unbind": lambda lib, F, x, w, b, y: x.unbind(0)[0],
    "narrow": lambda lib, F, x, w, b, y: x.narrow(1, 0, 2),
    "index_tensor": lambda lib, F, x, w, b, y: x[y[:2]],
    "select_2d": lambda lib, F, x, w, b, y: x[1, 2],
    "clamp": lambda lib, F, x, w, b, y: x.clamp(0, 1),
    "pow_tensor": lambda lib, F, x, w, b, y: x.abs() ** x,
    "rsub": lambda lib, F, x, w, b, y: 1 - x,
    "to_double": lambda lib, F, x, w, b, y: x.float(),
    "log1p": lambda lib, F, x, w, b, y: x.abs().log1p(),
    "tril": lambda lib, F, x, w, b, y: x.tril(),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_backward_node_names_match_torch(name):
    expr = EXPRESSIONS[name]
    got = expr(ember, ember.nn.functional, *_inputs(ember)).grad_fn
    want = expr(torch, torch.nn.functional, *_inputs(torch)).grad_fn
    assert type(got).__name__ == type(want).__name__
    assert got.name() == want.name()


def test_next_functions_is_a_tuple_attribute_as_torch():
    for lib in (ember, torch):
        x, w, b, _ = _inputs(lib)
        loss = lib.nn.functional.mse_loss(lib.nn.functional.linear(x, w, b).relu().sum(1), x[:, 0])
        nf = loss.grad_fn.next_functions
        assert isinstance(nf, tuple) and all(isinstance(p, tuple) and p[1] == 0 for p in nf)
    t_leaf = (torch.tensor(X, requires_grad=True) * 2).grad_fn.next_functions
    x = ember.tensor(X, requires_grad=True)
    e_leaf = (x * 2).grad_fn.next_functions
    assert [type(p[0]).__name__ for p in e_leaf] == [type(p[0]).__name__ for p in t_leaf]
    assert e_leaf[0][0].variable is x and e_leaf[0][0].next_functions == ()
    assert e_leaf[1] == (None, 0)  # the constant 2 has no producer


def test_node_hooks_metadata_and_post_accumulate_hook_as_torch():
    logs = {}
    for lib in (ember, torch):
        log = []
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (x * x).sum()
        node = y.grad_fn
        node.metadata["tag"] = 7
        node.register_prehook(lambda go: log.append(("pre", go[0].item())) or (go[0] * 3,))
        handle = node.register_hook(lambda gi, go: log.append(("post", len(gi), go[0].item())))
        x.register_post_accumulate_grad_hook(lambda t: log.append(("acc", t.grad.tolist())))
        y.backward()
        handle.remove()
        assert node.metadata == {"tag": 7}
        logs[lib.__name__] = log
    assert logs["ember"] == logs["torch"]


def test_saved_tensors_hooks_see_saved_values_and_keep_higher_orders():
    results = {}
    for lib in (ember, torch):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        packed = []

        def pack(t, packed=packed):
            packed.append(t.detach().clone())
            return t

        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y = (x * x).sin()
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), x)
        with lib.autograd.graph.save_on_cpu():
            z = (x.exp() * x).sum()
        gz, = lib.autograd.grad(z, x)
        assert packed  # pack ran when the ops saved their inputs
        results[lib.__name__] = [g.tolist(), gg.tolist(), gz.tolist()]
    np.testing.assert_allclose(np.array(results["ember"], dtype=object).tolist(),
                               np.array(results["torch"], dtype=object).tolist(), rtol=1e-6)


def test_variable_is_a_tensor_as_torch():
    for lib in (ember, torch):
        x = lib.ones(2)
        v = lib.autograd.Variable(x, requires_grad=True)
        assert isinstance(v, lib.Tensor) and v.requires_grad and v is not x
        assert v.data_ptr() == x.data_ptr() and isinstance(x, lib.autograd.Variable)
        assert not lib.autograd.Variable(v * 2).requires_grad
        with pytest.warns(UserWarning, match="volatile was removed"):
            assert not lib.autograd.Variable(x, volatile=True).requires_grad
        with pytest.raises(TypeError, match="Variable data has to be a tensor"):
            lib.autograd.Variable([1, 2])


def test_tensor_data_assignment_as_torch():
    for lib in (ember, torch):
        p = lib.zeros(3, requires_grad=True)
        p.data = lib.ones(3)
        (p * 2).sum().backward()
        assert p.tolist() == [1.0, 1.0, 1.0] and p.grad.tolist() == [2.0, 2.0, 2.0]


def test_next_functions_of_composites_show_torch_graph():
    chains = []
    for lib in (ember, torch):
        F = lib.nn.functional
        x, w, b, _ = _inputs(lib)
        hidden = F.relu(F.linear(x, lib.tensor(np.eye(3), requires_grad=True)))
        loss = F.mse_loss(F.linear(hidden, w, b), lib.zeros(4, 5, dtype=lib.float64))
        addmm = loss.grad_fn.next_functions[0][0]
        chains.append([type(loss.grad_fn).__name__, type(addmm).__name__,
                       [type(n).__name__ for n, _ in addmm.next_functions[:2]],
                       type(loss.grad_fn.next_functions[1][0]).__name__])
    assert chains[0] == chains[1]
    assert chains[0][:3] == ["MseLossBackward0", "AddmmBackward0", ["AccumulateGrad", "ReluBackward0"]]
