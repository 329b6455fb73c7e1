"""nn.init and the layers' default initialisation: torch's formulas and distributions.

Ember has its own random stream, so values differ from torch's; what must agree are the gains,
fans, bounds and standard deviations, checked on samples large enough for tight tolerances.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.init as tinit

import ember
import ember.nn as nn
from ember.nn import init

SHAPES = [(200, 150), (64, 32, 3, 3), (30, 400)]


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
    ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None),
])
def test_calculate_gain(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == tinit.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (8, 2, 3), (16, 4, 3, 5), (1, 1)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(shape)) == \
        tinit._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(shape), mode="fan_avg")


def check_uniform(t: ember.Tensor, low: float, high: float) -> None:
    v = t.numpy().ravel()
    assert v.min() >= low and v.max() < high
    width = high - low
    assert v.min() - low < 0.01 * width and high - v.max() < 0.01 * width
    assert abs(v.mean() - (low + high) / 2) < 0.02 * width
    np.testing.assert_allclose(v.std(), width / math.sqrt(12), rtol=0.02)


def check_normal(t: ember.Tensor, mean: float, std: float) -> None:
    v = t.numpy().ravel()
    assert abs(v.mean() - mean) < 4 * std / math.sqrt(v.size)
    np.testing.assert_allclose(v.std(), std, rtol=0.03)
    assert abs(np.mean(np.abs(v - mean) < std) - 0.6827) < 0.02  # the shape, not only the moments


@pytest.mark.parametrize("shape", SHAPES)
def test_kaiming_and_xavier(shape):
    fan_in, fan_out = tinit._calculate_fan_in_and_fan_out(torch.empty(shape))
    relu_gain = math.sqrt(2.0)
    bound = relu_gain * math.sqrt(3.0 / fan_in)
    check_uniform(init.kaiming_uniform_(ember.empty(shape), nonlinearity="relu"), -bound, bound)
    a_bound = math.sqrt(6.0 / ((1 + 5) * fan_in))
    check_uniform(init.kaiming_uniform_(ember.empty(shape), a=math.sqrt(5)), -a_bound, a_bound)
    check_normal(init.kaiming_normal_(ember.empty(shape), mode="fan_out"), 0.0,
                 relu_gain / math.sqrt(fan_out))
    check_normal(init.kaiming_normal_(ember.empty(shape), a=0.1, nonlinearity="leaky_relu"), 0.0,
                 tinit.calculate_gain("leaky_relu", 0.1) / math.sqrt(fan_in))
    x_bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    check_uniform(init.xavier_uniform_(ember.empty(shape), gain=2.0), -x_bound, x_bound)
    check_normal(init.xavier_normal_(ember.empty(shape)), 0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def test_simple_fills_work_in_place_on_parameters():
    p = nn.Parameter(ember.empty(300, 100))
    assert init.uniform_(p, -2.0, 3.0) is p and p.requires_grad and p.grad_fn is None
    check_uniform(p.detach(), -2.0, 3.0)
    assert init.normal_(p, 1.5, 0.25) is p
    check_normal(p.detach(), 1.5, 0.25)
    assert init.constant_(p, 0.3) is p and set(p.detach().numpy().ravel().tolist()) == {np.float32(0.3)}
    assert init.ones_(p).detach().numpy().min() == 1.0 and init.zeros_(p).detach().numpy().max() == 0.0
    assert init.eye_(nn.Parameter(ember.empty(3, 4))).tolist() == torch.eye(3, 4).tolist()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(ember.empty(2, 2, 2))


def test_trunc_normal():
    t = init.trunc_normal_(ember.empty(400, 250, dtype=ember.float64), mean=0.5, std=2.0, a=-1.0, b=3.0)
    v = t.numpy().ravel()
    assert v.min() >= -1.0 and v.max() <= 3.0
    reference = torch.distributions.Normal(0.5, 2.0)
    lo, hi = reference.cdf(torch.tensor(-1.0)).item(), reference.cdf(torch.tensor(3.0)).item()
    alpha, beta = (-1.0 - 0.5) / 2.0, (3.0 - 0.5) / 2.0
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    mass = hi - lo
    mean = 0.5 + 2.0 * (pdf(alpha) - pdf(beta)) / mass
    var = 4.0 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - ((pdf(alpha) - pdf(beta)) / mass) ** 2)
    assert abs(v.mean() - mean) < 0.01
    np.testing.assert_allclose(v.std(), math.sqrt(var), rtol=0.01)
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        init.trunc_normal_(ember.empty(3), mean=10.0)


def test_generators_make_fills_repeatable():
    g = ember.Generator().manual_seed(3)
    a = init.kaiming_normal_(ember.empty(4, 5), generator=g).numpy().copy()
    g.manual_seed(3)
    b = init.kaiming_normal_(ember.empty(4, 5), generator=g).numpy()
    np.testing.assert_array_equal(a, b)
    ember.manual_seed(11)
    c = nn.Linear(5, 4).weight.detach().numpy().copy()
    ember.manual_seed(11)
    np.testing.assert_array_equal(nn.Linear(5, 4).weight.detach().numpy(), c)
    assert not np.array_equal(nn.Linear(5, 4).weight.detach().numpy(), c)


def test_zero_element_tensor_is_a_noop_with_warning():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(ember.empty(0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Linear(3, 2)


def test_layer_defaults_follow_torch():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    check_uniform(lin.weight.detach(), -bound, bound)
    assert np.abs(lin.bias.detach().numpy()).max() < bound
    bil = nn.Bilinear(250, 3, 200)
    check_uniform(bil.weight.detach(), -1 / math.sqrt(250), 1 / math.sqrt(250))
    emb = nn.Embedding(500, 200, padding_idx=3)
    weights = emb.weight.detach().numpy()
    assert not weights[3].any()
    check_normal(ember.tensor(np.delete(weights, 3, axis=0)), 0.0, 1.0)
    bn, ln = nn.BatchNorm1d(5), nn.LayerNorm(5)
    for m in (bn, ln):
        assert m.weight.tolist() == [1.0] * 5 and m.bias.tolist() == [0.0] * 5
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.running_var.tolist() == [1.0] * 5
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == ember.int64
    lin.reset_parameters()
    check_uniform(lin.weight.detach(), -bound, bound)
    assert lin.weight.dtype == ember.float32
    assert nn.Linear(2, 2, dtype=ember.float64).weight.dtype == ember.float64
