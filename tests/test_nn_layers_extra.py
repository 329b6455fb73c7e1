"""Issue 24's layers against torch.nn: 3-D convolutions and pools, instance and local response
norms (values, input and parameter gradients, second derivatives, running statistics)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck
from nn_compare import assert_close, check_fn, check_module

RNG = np.random.default_rng(24)


def randn(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def pair(make, dtype="float64"):
    """The same layer built in Ember and torch, in ``dtype``."""
    e, t = make(ember.nn), make(torch.nn)
    if dtype == "float64":
        e, t = e.double(), t.double()
    return e, t


# ---------------------------------------------------------------------------- 3-D conv and pools


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make, shape", [
    (lambda n: n.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=1), (2, 2, 4, 5, 4)),
    (lambda n: n.Conv3d(4, 2, 2, groups=2, bias=False, padding="same"), (1, 4, 3, 3, 3)),
    (lambda n: n.ConvTranspose3d(2, 3, 2, stride=2, output_padding=1), (2, 2, 2, 3, 2)),
    (lambda n: n.ConvTranspose3d(4, 2, (1, 2, 3), groups=2, dilation=(1, 2, 1)), (4, 2, 3, 2)),
    (lambda n: n.MaxPool3d(2), (2, 3, 4, 4, 4)),
    (lambda n: n.MaxPool3d((2, 3, 2), stride=1, padding=1, dilation=(1, 1, 2), ceil_mode=True),
     (1, 2, 4, 5, 6)),
    (lambda n: n.AvgPool3d(2, stride=1, padding=1, count_include_pad=False), (2, 2, 3, 4, 3)),
    (lambda n: n.AvgPool3d(3, stride=2, ceil_mode=True, divisor_override=5), (1, 2, 5, 6, 7)),
    (lambda n: n.AdaptiveAvgPool3d((2, None, 3)), (2, 3, 5, 4, 7)),
    (lambda n: n.AdaptiveMaxPool3d(2), (2, 2, 4, 6, 4)),
    (lambda n: n.AdaptiveMaxPool3d((3, 2, 1)), (3, 5, 3, 5)),
])
def test_3d_layers_match_torch(make, shape, dtype):
    e, t = pair(make, dtype)
    assert repr(e) == repr(t)
    check_module(e, t, [randn(*shape, dtype=dtype)], dtype)


def test_3d_functional_second_derivatives_and_indices():
    w = randn(3, 2, 2, 2, 2)
    check_fn(lambda x, w: F.conv_transpose3d(x, w, stride=2),
             lambda x, w: TF.conv_transpose3d(x, w, stride=2), [randn(1, 3, 2, 3, 2), w])
    check_fn(lambda x: F.max_pool3d(x, 2, 1), lambda x: TF.max_pool3d(x, 2, 1), [randn(1, 2, 3, 4, 3)])
    check_fn(lambda x: F.avg_pool3d(x, 2), lambda x: TF.avg_pool3d(x, 2), [randn(1, 2, 4, 4, 4)])
    check_fn(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 1)),
             lambda x: TF.adaptive_avg_pool3d(x, (2, 3, 1)), [randn(2, 1, 5, 4, 3)])
    x = randn(2, 2, 4, 5, 6)
    _, ei = F.max_pool3d(ember.tensor(x), 2, return_indices=True)
    _, ti = TF.max_pool3d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    _, ei = F.adaptive_max_pool3d(ember.tensor(x), (3, 2, 4), return_indices=True)
    _, ti = TF.adaptive_max_pool3d(torch.tensor(x), (3, 2, 4), return_indices=True)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


def test_3d_pool_errors():
    with pytest.raises(RuntimeError, match="max_pool3d"):
        F.max_pool3d(ember.zeros(1, 1, 2, 2, 2), 3)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        nn.AvgPool3d(2, padding=2)(ember.zeros(1, 1, 4, 4, 4))
    with pytest.raises(RuntimeError, match="expected a 5D input"):
        nn.MaxPool3d(2)(ember.zeros(4, 4))


# ---------------------------------------------------------------------------- instance norm


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make, shape", [
    (lambda n: n.InstanceNorm1d(3), (2, 3, 5)),
    (lambda n: n.InstanceNorm1d(3, affine=True), (3, 6)),
    (lambda n: n.InstanceNorm2d(2, affine=True, track_running_stats=True, momentum=0.3), (3, 2, 4, 5)),
    (lambda n: n.InstanceNorm2d(2, affine=True, bias=False, eps=1e-3), (2, 4, 3)),
    (lambda n: n.InstanceNorm3d(2, track_running_stats=True, momentum=None), (2, 2, 3, 2, 3)),
])
def test_instance_norm_matches_torch(make, shape, dtype):
    e, t = pair(make, dtype)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for _ in range(2):
        check_module(e, t, [randn(*shape, dtype=dtype)], dtype)
    for name, buf in t.named_buffers():
        assert_close(dict(e.named_buffers())[name], buf, dtype, name)
    e.eval()
    t.eval()
    check_module(e, t, [randn(*shape, dtype=dtype)], dtype)


def test_instance_norm_functional_second_derivatives():
    args = [randn(2, 3, 4), randn(3), randn(3)]
    check_fn(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
             lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), args)
    rm, rv = np.abs(randn(3)), np.abs(randn(3)) + 0.5
    check_fn(lambda x: F.instance_norm(x, ember.tensor(rm), ember.tensor(rv), use_input_stats=False),
             lambda x: TF.instance_norm(x, torch.tensor(rm), torch.tensor(rv), use_input_stats=False),
             [randn(2, 3, 5)])


def test_instance_norm_errors_and_warnings():
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        F.instance_norm(ember.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(ember.zeros(2, 3))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(4, affine=True)(ember.zeros(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(ember.randn(2, 3, 5))


# ---------------------------------------------------------------------------- local response norm


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("size, shape", [(3, (2, 5, 4)), (2, (1, 4, 3, 3)), (5, (2, 6, 2, 2, 3)),
                                         (1, (2, 3, 4))])
def test_local_response_norm(size, shape, dtype):
    e, t = pair(lambda n: n.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=1.5), dtype)
    assert repr(e) == repr(t)
    check_module(e, t, [randn(*shape, dtype=dtype)], dtype)


def test_local_response_norm_second_derivatives_and_errors():
    check_fn(lambda x: F.local_response_norm(x, 3, 0.5), lambda x: TF.local_response_norm(x, 3, 0.5),
             [randn(2, 4, 3)])
    with pytest.raises(ValueError, match="Expected 3D or higher"):
        F.local_response_norm(ember.zeros(2, 3), 2)
    assert F.local_response_norm(ember.zeros(0, 3, 2), 2).shape == (0, 3, 2)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_cross_map_lrn2d(size):
    """Values as torch's legacy CrossMapLRN2d; torch's hand-written backward is not the
    derivative of its own forward (gradcheck fails on it), so Ember's gradient is checked
    against finite differences instead."""
    x = randn(2, 5, 3, 2)
    e, t = nn.CrossMapLRN2d(size, alpha=0.5), torch.nn.CrossMapLRN2d(size, alpha=0.5)
    assert repr(e) == repr(t)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)))
    xe = ember.tensor(randn(1, 5, 2, 2), requires_grad=True)
    assert gradcheck(lambda v: e(v), (xe,))
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D"):
        e(ember.zeros(2, 3, 4))
