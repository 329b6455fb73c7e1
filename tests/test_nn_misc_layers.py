"""Issue 24's remaining layers against torch: Softmax2d, RReLU, alpha dropouts, ChannelShuffle,
gumbel_softmax, max unpooling, LP pooling, fractional max pooling, adaptive log-softmax,
nn.Buffer, DataParallel, the Lazy* modules and F.one_hot's edge cases."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F
from nn_compare import assert_close, check_fn, check_module, copy_weights

RNG = np.random.default_rng(5)


def randn(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------- activations


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 2)])
def test_softmax2d(shape):
    e, t = nn.Softmax2d(), torch.nn.Softmax2d()
    assert repr(e) == repr(t)
    check_fn(e, t, [randn(*shape)])
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        e(ember.zeros(2, 2))


def test_rrelu_eval_matches_torch_and_training_slopes_lie_in_range():
    for args in [(), (0.1, 0.3, True)]:
        assert repr(nn.RReLU(*args)) == repr(torch.nn.RReLU(*args))
    e, t = nn.RReLU(0.2, 0.4).eval(), torch.nn.RReLU(0.2, 0.4).eval()
    check_fn(e, t, [randn(3, 4)])
    x = ember.tensor(-np.abs(randn(4000)) - 0.1)
    slopes = (nn.RReLU(0.2, 0.4)(x) / x).numpy()
    assert slopes.min() >= 0.2 and slopes.max() <= 0.4 and abs(slopes.mean() - 0.3) < 0.01
    pos = ember.tensor(np.abs(randn(10)))
    assert_close(F.rrelu(pos, training=True), pos)
    neg = ember.tensor([-2.0, 1.0])
    assert F.rrelu_(neg, 0.25, 0.25) is neg
    assert_close(neg, ember.tensor([-0.5, 1.0]), "float32")


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_mean_and_variance(feature):
    layer = nn.FeatureAlphaDropout(0.3) if feature else nn.AlphaDropout(0.3)
    tlayer = torch.nn.FeatureAlphaDropout(0.3) if feature else torch.nn.AlphaDropout(0.3)
    assert repr(layer) == repr(tlayer)
    x = ember.tensor(randn(400, 50, 4) if feature else randn(200000))
    y = layer(x).numpy()
    assert abs(y.mean()) < 0.03 and abs(y.std() - 1) < 0.03
    if feature:  # whole channels share one draw
        same = np.abs((y - x.numpy() * 0)[:, :, :1] - y[:, :, 1:2]) < 1e9
        assert same.all()
        dropped = np.isclose(np.ptp(y, axis=2), 0)
        assert 0.25 < dropped.mean() < 0.35
    layer.eval()
    assert layer(x) is x
    assert_close(F.alpha_dropout(x, 1.0, training=True), x * 0)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.alpha_dropout(x, 1.5, training=True)


def test_alpha_dropout_formula():
    """With every unit kept the output is a * x + b, a and b torch's constants."""
    x = randn(5)
    alpha, p = 1.7580993408473766, 0.2
    a = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    ember.manual_seed(0)
    y = F.alpha_dropout(ember.tensor(x), p, training=True).numpy()
    kept = ~np.isclose(y, -alpha * a + alpha * a * p)
    np.testing.assert_allclose(y[kept], a * x[kept] + alpha * a * p)


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((1, 4, 2, 2), 2), ((2, 6, 1, 2, 2), 6)])
def test_channel_shuffle(shape, groups):
    e, t = nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups)
    assert repr(e) == repr(t)
    check_fn(e, t, [randn(*shape)])
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups"):
        F.channel_shuffle(ember.zeros(1, 5, 2), 2)
    with pytest.raises(RuntimeError, match="expects input with > 2 dims"):
        F.channel_shuffle(ember.zeros(4, 2), 2)


def test_gumbel_softmax():
    logits = ember.tensor(np.log([0.1, 0.2, 0.7]))
    draws = [F.gumbel_softmax(logits, tau=0.5, hard=True) for _ in range(3000)]
    counts = np.stack([d.numpy() for d in draws]).sum(0) / 3000
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.7], atol=0.03)
    soft = F.gumbel_softmax(ember.tensor(randn(4, 5)), dim=0)
    assert_close(soft.sum(0), ember.ones(5))
    x = ember.tensor(randn(2, 3), requires_grad=True)
    hard = F.gumbel_softmax(x, hard=True)
    assert set(np.unique(hard.detach().numpy())) <= {0.0, 1.0}
    assert_close(hard.detach().sum(-1), ember.ones(2))
    (hard * ember.tensor(randn(2, 3))).sum().backward()
    assert x.grad is not None and np.abs(x.grad.numpy()).sum() > 0  # straight-through


# ---------------------------------------------------------------------------- unpool, LP, fractional


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool(dims):
    shape = (2, 3) + (6, 4, 4)[:dims]
    pool = getattr(TF, f"max_pool{dims}d")
    _, t_idx = pool(torch.tensor(randn(*shape)), 2, return_indices=True)
    e_idx = ember.tensor(t_idx.numpy())
    values = randn(*t_idx.shape)
    for size in (None, shape[2:], shape):
        check_fn(lambda v: getattr(F, f"max_unpool{dims}d")(v, e_idx, 2, output_size=size),
                 lambda v: getattr(TF, f"max_unpool{dims}d")(v, t_idx, 2, output_size=size), [values])
    e, t = getattr(nn, f"MaxUnpool{dims}d")(2), getattr(torch.nn, f"MaxUnpool{dims}d")(2)
    assert repr(e) == repr(t)


def test_max_unpool_of_overlapping_windows():
    """Windows that overlap name some positions twice: the later value stays, as torch's."""
    _, t_idx = TF.max_pool2d(torch.tensor(randn(2, 3, 7, 7)), 3, stride=1, return_indices=True)
    assert len(np.unique(t_idx.numpy()[0, 0])) < t_idx[0, 0].numel()
    check_fn(lambda v: F.max_unpool2d(v, ember.tensor(t_idx.numpy()), 3, 1),
             lambda v: TF.max_unpool2d(v, t_idx, 3, 1), [randn(*t_idx.shape)])


def test_max_unpool_roundtrip_and_errors():
    x = ember.tensor(np.abs(randn(1, 2, 4, 4)))
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    back = nn.MaxUnpool2d(2)(out, idx)
    assert_close(F.max_pool2d(back, 2), out)
    with pytest.raises(RuntimeError, match="Found an invalid max index: 99"):
        F.max_unpool2d(ember.zeros(1, 1, 2, 2), ember.tensor([[[[0, 1], [2, 99]]]]), 2)
    with pytest.raises(ValueError, match=r'invalid output_size "\(7, 4\)" \(dim 0 must be between'):
        F.max_unpool2d(ember.zeros(1, 1, 2, 2), ember.tensor([[[[0, 1], [2, 3]]]]), 2,
                       output_size=(7, 4))


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("norm_type, kwargs", [(2, {}), (3.0, {"stride": 1}),
                                               (1, {"stride": 2, "ceil_mode": True})])
def test_lp_pool(dims, norm_type, kwargs):
    shape = (2, 3) + (6, 5, 4)[:dims]
    e = getattr(nn, f"LPPool{dims}d")(norm_type, 3, **kwargs)
    t = getattr(torch.nn, f"LPPool{dims}d")(norm_type, 3, **kwargs)
    assert repr(e) == repr(t)
    check_fn(e, t, [np.abs(randn(*shape)) + 0.1])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kernel", [2, 3, (2, 3)])
@pytest.mark.parametrize("kwargs", [{"output_size": (4, 5)}, {"output_ratio": (0.5, 0.6)},
                                    {"output_size": 3}])
def test_fractional_max_pool2d(kernel, kwargs, dtype):
    x, samples = randn(2, 3, 9, 8, dtype=dtype), RNG.uniform(size=(2, 3, 2)).astype(dtype)
    check_fn(lambda v: F.fractional_max_pool2d(v, kernel, _random_samples=ember.tensor(samples), **kwargs),
             lambda v: TF.fractional_max_pool2d(v, kernel, _random_samples=torch.tensor(samples), **kwargs),
             [x], dtype)
    _, ei = F.fractional_max_pool2d(ember.tensor(x), kernel, return_indices=True,
                                    _random_samples=ember.tensor(samples), **kwargs)
    _, ti = TF.fractional_max_pool2d(torch.tensor(x), kernel, return_indices=True,
                                     _random_samples=torch.tensor(samples), **kwargs)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


@pytest.mark.parametrize("kernel, kwargs", [(2, {"output_size": (3, 2, 4)}), ((1, 2, 3), {"output_size": 2}),
                                            (2, {"output_ratio": (0.5, 0.7, 0.6)})])
def test_fractional_max_pool3d(kernel, kwargs):
    x, samples = randn(2, 2, 6, 5, 7), RNG.uniform(size=(2, 2, 3))
    check_fn(lambda v: F.fractional_max_pool3d(v, kernel, _random_samples=ember.tensor(samples), **kwargs),
             lambda v: TF.fractional_max_pool3d(v, kernel, _random_samples=torch.tensor(samples), **kwargs),
             [x])
    _, ei = F.fractional_max_pool3d(ember.tensor(x), kernel, return_indices=True,
                                    _random_samples=ember.tensor(samples), **kwargs)
    _, ti = TF.fractional_max_pool3d(torch.tensor(x), kernel, return_indices=True,
                                     _random_samples=torch.tensor(samples), **kwargs)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    e = nn.FractionalMaxPool3d(kernel, **kwargs, _random_samples=ember.tensor(samples))
    t = torch.nn.FractionalMaxPool3d(kernel, **kwargs, _random_samples=torch.tensor(samples))
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, [x])
    with pytest.raises(RuntimeError, match="pool time 3 too large relative to input time 4"):
        F.fractional_max_pool3d(ember.zeros(1, 1, 4, 4, 4), 3, output_size=3)


def test_fractional_max_pool2d_module_and_errors():
    m = nn.FractionalMaxPool2d(2, output_ratio=0.5)
    assert repr(m) == repr(torch.nn.FractionalMaxPool2d(2, output_ratio=0.5))
    assert m(ember.randn(3, 8, 6)).shape == (3, 4, 3)
    with pytest.raises(ValueError, match="requires specifying either an output size"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool2d(2, 3, 0.5)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(RuntimeError, match="pool height 3 too large relative to input height 4"):
        F.fractional_max_pool2d(ember.zeros(1, 1, 4, 4), 3, output_size=3)


# ---------------------------------------------------------------------------- adaptive softmax


def test_adaptive_log_softmax_with_loss():
    e = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], div_value=2.0, head_bias=True).double()
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], div_value=2.0, head_bias=True).double()
    assert repr(e) == repr(t)
    copy_weights(e, t)
    x, y = randn(6, 8), np.array([0, 5, 12, 19, 3, 11])
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oe, ot = e(xe, ember.tensor(y)), t(xt, torch.tensor(y))
    assert_close(oe.output, ot.output)
    assert_close(oe.loss, ot.loss)
    oe.loss.backward()
    ot.loss.backward()
    assert_close(xe.grad, xt.grad)
    for (name, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(pe.grad, pt.grad, what=name)
    assert_close(e.log_prob(ember.tensor(x)), t.log_prob(torch.tensor(x)))
    np.testing.assert_array_equal(e.predict(ember.tensor(x)).numpy(), t.predict(torch.tensor(x)).numpy())
    single = e(ember.tensor(x[0]), ember.tensor(5))
    assert_close(single.output, t(torch.tensor(x[0]), torch.tensor(5)).output)
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 4])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\]"):
        e(ember.tensor(x), ember.tensor([0, 1, 2, 3, 4, 20]))


# ---------------------------------------------------------------------------- Buffer, DataParallel


def test_buffer_registers_as_torch():
    e, t = nn.Module(), torch.nn.Module()
    for lib, m in ((ember, e), (torch, t)):
        m.a = lib.nn.Buffer(lib.ones(2))
        m.b = lib.nn.Buffer(lib.ones(1), persistent=False)
        m.c = lib.nn.Parameter(lib.ones(1))
        with pytest.raises(TypeError, match="cannot assign .* as parameter 'c'"):
            m.c = lib.nn.Buffer(lib.zeros(1))
        m.plain = 1
        with pytest.raises(KeyError, match="attribute 'plain' already exists"):
            m.plain = lib.nn.Buffer(lib.zeros(1))
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]


def test_data_parallel_is_the_module_on_one_device():
    inner = nn.Linear(3, 2)
    e = nn.DataParallel(inner)
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    assert e.device_ids == t.device_ids == []
    x = ember.randn(4, 3)
    assert_close(e(x), inner(x), "float32")


# ---------------------------------------------------------------------------- lazy modules


@pytest.mark.parametrize("make, shape", [
    (lambda n: n.LazyLinear(3), (2, 4)),
    (lambda n: n.LazyConv1d(2, 2), (2, 3, 5)),
    (lambda n: n.LazyConv2d(4, 3, groups=2), (2, 2, 5, 5)),
    (lambda n: n.LazyConv3d(2, 2), (2, 3, 3, 3)),
    (lambda n: n.LazyConvTranspose1d(3, 2, stride=2), (2, 4, 3)),
    (lambda n: n.LazyConvTranspose2d(2, 2), (1, 3, 3, 3)),
    (lambda n: n.LazyConvTranspose3d(2, 2), (1, 2, 2, 2, 2)),
    (lambda n: n.LazyBatchNorm1d(), (4, 3)),
    (lambda n: n.LazyBatchNorm2d(affine=False), (2, 3, 2, 2)),
    (lambda n: n.LazyBatchNorm3d(), (2, 2, 2, 2, 2)),
    (lambda n: n.LazyInstanceNorm1d(), (2, 3, 4)),
    (lambda n: n.LazyInstanceNorm2d(track_running_stats=False), (2, 3, 4, 2)),
    (lambda n: n.LazyInstanceNorm3d(), (2, 3, 2, 2, 2)),
])
def test_lazy_modules(make, shape):
    e, t = make(nn), make(torch.nn)
    assert repr(e) == repr(t)
    assert e.has_uninitialized_params()
    twin = copy.deepcopy(e)  # still lazy, and independent of e
    twin(ember.tensor(randn(*shape, dtype="float32")))
    assert e.has_uninitialized_params()
    assert not any(nn.parameter.is_lazy(t) for t in [*twin.parameters(), *twin.buffers()])
    x = randn(*shape, dtype="float32")
    e(ember.tensor(x))
    t(torch.tensor(x))
    assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t)
    assert [tuple(p.shape) for p in e.parameters()] == [tuple(p.shape) for p in t.parameters()]
    check_module(e, t, [x], "float32")
    fresh = make(nn)
    fresh.load_state_dict(e.state_dict())
    assert_close(fresh(ember.tensor(x)), e(ember.tensor(x)), "float32")


def test_lazy_errors():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
                                           "LazyConv2d"):
        nn.LazyConv2d(2, 2)(ember.zeros(2, 2))
    assert repr(nn.UninitializedParameter()) == "<UninitializedParameter>"


# ---------------------------------------------------------------------------- one_hot


@pytest.mark.parametrize("values, classes", [([], 3), ([2], -1), ([[1, 0]], 5), (3, -1), ([0, 0], 1)])
def test_one_hot_edge_cases(values, classes):
    e = F.one_hot(ember.tensor(values, dtype=ember.int64), classes)
    t = TF.one_hot(torch.tensor(values, dtype=torch.int64), classes)
    assert tuple(e.shape) == tuple(t.shape) and e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("values, classes, message", [
    ([], 0, "Can not infer total number of classes from empty tensor"),
    ([], -1, "Can not infer total number of classes from empty tensor"),
    ([0], 0, "Class values must be smaller than num_classes"),
    ([-1], 3, "Class values must be non-negative"),
    ([1], -2, "Class values must be smaller than num_classes"),
])
def test_one_hot_errors(values, classes, message):
    with pytest.raises(RuntimeError, match=message):
        F.one_hot(ember.tensor(values, dtype=ember.int64), classes)
    with pytest.raises(RuntimeError, match=message):
        TF.one_hot(torch.tensor(values, dtype=torch.int64), classes)
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type LongTensor"):
        F.one_hot(ember.tensor([1], dtype=ember.int32), 2)


# ---------------------------------------------------------------------------- *_with_indices


@pytest.mark.parametrize("name, args", [
    ("max_pool1d_with_indices", (2,)), ("max_pool2d_with_indices", (2, 1)),
    ("max_pool3d_with_indices", (2,)), ("adaptive_max_pool1d_with_indices", (3,)),
    ("adaptive_max_pool2d_with_indices", ((3, 2),)), ("adaptive_max_pool3d_with_indices", (2,)),
])
def test_with_indices_pools(name, args):
    dims = int(name.split("pool")[1][0])
    x = randn(*(2, 3) + (5, 4, 6)[:dims])
    (ev, ei), (tv, ti) = getattr(F, name)(ember.tensor(x), *args), getattr(TF, name)(torch.tensor(x), *args)
    assert_close(ev, tv)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_with_indices(dims):
    x, samples = randn(*(1, 2) + (6, 5, 7)[:dims]), RNG.uniform(size=(1, 2, dims))
    name = f"fractional_max_pool{dims}d_with_indices"
    ev, ei = getattr(F, name)(ember.tensor(x), 2, output_size=3, _random_samples=ember.tensor(samples))
    tv, ti = getattr(TF, name)(torch.tensor(x), 2, output_size=3, _random_samples=torch.tensor(samples))
    assert_close(ev, tv)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
