"""Pooling, padding, resizing and channel dropout against torch: random geometries, ties, layers, errors."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as F
from vision_check import check_against_torch


def _pool_case(rng, dims: int = 2):
    kernel = tuple(int(k) for k in rng.integers(1, 4, dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, dims))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    size = tuple(int(k + rng.integers(0, 5)) for k in kernel)
    return (int(rng.integers(1, 3)), int(rng.integers(1, 4))) + size, kernel, stride, padding


@pytest.mark.parametrize("seed", range(10))
def test_max_pool2d_random_geometry_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape, kernel, stride, padding = _pool_case(rng)
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    padding = tuple(min(p, (d * (k - 1) + 1) // 2) for p, k, d in zip(padding, kernel, dilation))
    ceil_mode = bool(seed % 2)
    x = np.round(rng.standard_normal(shape) * 1.5)  # few distinct values: many ties
    kw = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
              return_indices=True)
    try:
        torch.nn.functional.max_pool2d(torch.tensor(x), kernel, **kw)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            F.max_pool2d(ember.tensor(x), kernel, **kw)
        return
    check_against_torch(lambda m, x: m.nn.functional.max_pool2d(x, kernel, **kw), [x], seed)


@pytest.mark.parametrize("seed", range(8))
def test_avg_pool2d_random_geometry(seed: int) -> None:
    rng = np.random.default_rng(50 + seed)
    shape, kernel, stride, padding = _pool_case(rng)
    kw = dict(stride=stride, padding=padding, ceil_mode=bool(seed % 2),
              count_include_pad=bool(seed // 2 % 2))
    check_against_torch(lambda m, x: m.nn.functional.avg_pool2d(x, kernel, **kw),
                        [rng.standard_normal(shape)], seed)


def test_pool1d() -> None:
    x = np.round(np.random.default_rng(7).standard_normal((2, 3, 11)) * 2)
    check_against_torch(lambda m, x: m.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True), [x])
    check_against_torch(lambda m, x: m.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode=True), [x])


@pytest.mark.parametrize("out", [(1, 1), (3, 4), (5, 7), (7, 2), (None, 3)])
def test_adaptive_pools(out) -> None:
    x = np.round(np.random.default_rng(8).standard_normal((2, 3, 7, 6)) * 2)
    check_against_torch(lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, out), [x])
    check_against_torch(lambda m, x: m.nn.functional.adaptive_max_pool2d(x, out, True), [x])


def test_max_pool_nan_and_inf_follow_torch() -> None:
    x = np.array([[[[np.nan, 1.0, 2.0], [3.0, np.nan, -np.inf], [-np.inf, -np.inf, -np.inf]]]])
    for kw in (dict(kernel_size=2, stride=1), dict(kernel_size=2, stride=1, padding=1)):
        got = F.max_pool2d(ember.tensor(x), return_indices=True, **kw)
        want = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())
        np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(mode: str) -> None:
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 5))
    check_against_torch(lambda m, x: m.nn.functional.pad(x, (2, 1, 3, 0), mode=mode), [x])
    check_against_torch(lambda m, x: m.nn.functional.pad(x[0], (1, 2), mode=mode), [x])


def test_constant_pad_any_dims_and_cropping() -> None:
    x = np.random.default_rng(10).standard_normal((2, 3, 4, 5))
    check_against_torch(lambda m, x: m.nn.functional.pad(x, (1, -2, 0, 2, 1, 1, 0, 1), value=-0.5), [x])


@pytest.mark.parametrize("kw", [
    dict(scale_factor=2), dict(size=(7, 3)), dict(scale_factor=(1.7, 0.6)),
    dict(size=(9, 11), mode="bilinear"), dict(size=(3, 4), mode="bilinear", align_corners=True),
    dict(scale_factor=2.5, mode="bilinear"), dict(size=(3, 2), mode="area"),
    dict(size=(7, 8), mode="nearest-exact"),
])
def test_interpolate(kw: dict) -> None:
    x = np.random.default_rng(11).standard_normal((2, 3, 5, 6))
    check_against_torch(lambda m, x: m.nn.functional.interpolate(x, **kw), [x])


def test_upsample_layers() -> None:
    x = np.random.default_rng(12).standard_normal((1, 2, 3, 4))
    for e_layer, t_layer in [(enn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
                             (enn.Upsample(size=(5, 5), mode="bilinear"),
                              torch.nn.Upsample(size=(5, 5), mode="bilinear")),
                             (enn.UpsamplingBilinear2d(scale_factor=2),
                              torch.nn.UpsamplingBilinear2d(scale_factor=2))]:
        np.testing.assert_allclose(e_layer(ember.tensor(x)).numpy(), t_layer(torch.tensor(x)).numpy(),
                                   rtol=1e-12)
        assert repr(e_layer) == repr(t_layer)


def test_pool_layers_match_functional_and_repr() -> None:
    x = np.random.default_rng(13).standard_normal((2, 3, 8, 8))
    pairs = [
        (enn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (enn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (enn.AvgPool2d(3, 2, 1, count_include_pad=False),
         torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
        (enn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
        (enn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
        (enn.MaxPool1d(2), torch.nn.MaxPool1d(2)),
    ]
    for e_layer, t_layer in pairs:
        xi = x[:, :, 0] if isinstance(e_layer, enn.MaxPool1d) else x
        np.testing.assert_allclose(e_layer(ember.tensor(xi)).numpy(), t_layer(torch.tensor(xi)).numpy(),
                                   rtol=1e-12)
        assert repr(e_layer) == repr(t_layer)


def test_dropout2d_zeroes_whole_channels() -> None:
    ember.manual_seed(0)
    layer = enn.Dropout2d(0.5)
    x = ember.ones(8, 16, 4, 4, requires_grad=True)
    y = layer(x)
    per_channel = y.detach().numpy().reshape(8, 16, -1)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # a channel is kept or dropped whole
    assert 0.25 < (per_channel[..., 0] == 0).mean() < 0.75
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == repr(torch.nn.Dropout2d(0.5))


def test_pool_errors() -> None:
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(ember.randn(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match="non-positive stride"):
        F.max_pool2d(ember.randn(1, 1, 5, 5), 2, stride=0)
    with pytest.raises(RuntimeError, match="too small"):
        F.avg_pool2d(ember.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match=r"MaxPool2d\(kernel_size=2.*\(N, C, H, W\).*\[28, 28\]"):
        enn.MaxPool2d(2)(ember.randn(28, 28))
    with pytest.raises(RuntimeError, match="padding size should be less"):
        F.pad(ember.randn(1, 1, 3, 3), (3, 3), mode="reflect")


def test_adaptive_1d_pools_match_torch_with_repr_and_indices() -> None:
    x = np.random.default_rng(14).standard_normal((2, 3, 9))
    for e_layer, t_layer in [(enn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4)),
                             (enn.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4))]:
        np.testing.assert_allclose(e_layer(ember.tensor(x)).numpy(), t_layer(torch.tensor(x)).numpy(),
                                   rtol=1e-12)
        assert repr(e_layer) == repr(t_layer)
    e_out, e_idx = enn.AdaptiveMaxPool1d(4, return_indices=True)(ember.tensor(x))
    t_out, t_idx = torch.nn.AdaptiveMaxPool1d(4, return_indices=True)(torch.tensor(x))
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_gpu_stacked_tap_search_picks_the_scans_taps(data):
    """The GPU form of max-pool's tap search (whole arrays, no branch on the values) agrees
    with torch's scan everywhere: ties, NaNs, -inf, padding, dilation, ceil mode."""
    import math

    from ember.ops import pool, window

    kernel = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    dilation = data.draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    stride = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    pad = tuple(data.draw(st.integers(0, ((k - 1) * d + 1) // 2)) for k, d in zip(kernel, dilation))
    size = tuple(data.draw(st.integers((k - 1) * d + 1, 6)) for k, d in zip(kernel, dilation))
    ceil = data.draw(st.booleans())
    out = tuple(window.output_size(s, k, d, t, p, p, ceil)
                for s, k, d, t, p in zip(size, kernel, dilation, stride, pad))
    geom = window.make_geometry(size, kernel, dilation, stride, pad, out)
    values = st.sampled_from([0.0, 1.0, 1.0, -1.0, 2.0, math.inf, -math.inf, math.nan])
    x = np.array(data.draw(st.lists(values, min_size=2 * math.prod(size),
                                    max_size=2 * math.prod(size))), dtype=np.float64)
    x = x.reshape((1, 2) + size)
    view = window.window_view(np, x, geom, fill=-math.inf)
    best = pool._max_fwd(np, x, geom)
    want = pool._taps_by_scan(np, view, geom, best.shape)
    np.testing.assert_array_equal(pool._taps_by_stack(np, view, geom, best), want)
