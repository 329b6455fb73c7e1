"""Convolutions against torch: random geometries (forward, gradient, gradient of gradient), layers, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as F
from vision_check import check_against_torch


def _conv_case(rng, dims: int):
    """A random convolution: shapes, stride, padding, dilation and groups that fit together."""
    groups = int(rng.choice([1, 2, 3]))
    cin = groups * int(rng.integers(1, 3))
    cout = groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, dims))
    stride = tuple(int(s) for s in rng.integers(1, 3, dims))
    dilation = tuple(int(d) for d in rng.integers(1, 3, dims))
    padding = tuple(int(p) for p in rng.integers(0, 3, dims))
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(int(max(r - 2 * p, 1) + rng.integers(0, 4)) for r, p in zip(reach, padding))
    x = rng.standard_normal((int(rng.integers(1, 3)), cin) + size)
    w = rng.standard_normal((cout, cin // groups) + kernel)
    b = rng.standard_normal(cout)
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_random_geometry(seed: int) -> None:
    x, w, b, kw = _conv_case(np.random.default_rng(seed), 2)
    check_against_torch(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, **kw), [x, w, b], seed)


@pytest.mark.parametrize("seed", range(4))
def test_conv1d_random_geometry(seed: int) -> None:
    x, w, b, kw = _conv_case(np.random.default_rng(100 + seed), 1)
    check_against_torch(lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, **kw), [x, w, b], seed)


def _transpose_case(rng):
    groups = int(rng.choice([1, 2]))
    cin = groups * int(rng.integers(1, 3))
    cout = groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 4, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    padding = tuple(int(rng.integers(0, (d * (k - 1)) // 2 + 1)) for k, d in zip(kernel, dilation))
    extra = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    x = rng.standard_normal((2, cin) + tuple(int(s) for s in rng.integers(2, 5, 2)))
    w = rng.standard_normal((cin, cout // groups) + kernel)
    b = rng.standard_normal(cout)
    return x, w, b, dict(stride=stride, padding=padding, output_padding=extra, groups=groups,
                         dilation=dilation)


@pytest.mark.parametrize("seed", range(8))
def test_conv_transpose2d_random_geometry(seed: int) -> None:
    x, w, b, kw = _transpose_case(np.random.default_rng(200 + seed))
    check_against_torch(lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, **kw),
                        [x, w, b], seed)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_string_padding(padding: str) -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 4, 3))
    check_against_torch(lambda m, x, w: m.nn.functional.conv2d(x, w, padding=padding, dilation=(1, 2)),
                        [x, w])


def test_unfold_fold_are_adjoint_and_match_torch() -> None:
    rng = np.random.default_rng(2)
    kw = dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(1, 2))
    x = rng.standard_normal((2, 3, 6, 5))
    check_against_torch(lambda m, x: m.nn.functional.unfold(x, **kw), [x])
    cols = F.unfold(ember.tensor(x), **kw)
    y = rng.standard_normal(tuple(cols.shape))
    folded = F.fold(ember.tensor(y), (6, 5), **kw)
    # <unfold(x), y> == <x, fold(y)>: each is the other's adjoint
    assert np.isclose((cols.numpy() * y).sum(), (x * folded.numpy()).sum(), rtol=1e-12)
    check_against_torch(lambda m, y: m.nn.functional.fold(y, (6, 5), **kw), [y])


def test_conv2d_float32_matches_torch() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 12, 11)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    got = F.conv2d(ember.tensor(x), ember.tensor(w), padding=1)
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    assert got.dtype == ember.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def _copy_params(e_layer, t_layer) -> None:
    with ember.no_grad():
        for p, q in zip(e_layer.parameters(), t_layer.parameters()):
            p.copy_(ember.tensor(q.detach().numpy()))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_layer_padding_modes(mode: str) -> None:
    t_layer = torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode).double()
    e_layer = enn.Conv2d(3, 4, 3, padding=1, padding_mode=mode, dtype=ember.float64)
    _copy_params(e_layer, t_layer)
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 6))
    np.testing.assert_allclose(e_layer(ember.tensor(x)).detach().numpy(),
                               t_layer(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_conv_transpose2d_layer_output_size() -> None:
    t_layer = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    e_layer = enn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dtype=ember.float64)
    _copy_params(e_layer, t_layer)
    x = np.random.default_rng(5).standard_normal((1, 3, 4, 4))
    got = e_layer(ember.tensor(x), output_size=[8, 8])
    want = t_layer(torch.tensor(x), output_size=[8, 8])
    assert tuple(got.shape) == tuple(want.shape) == (1, 2, 8, 8)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)


def test_default_init_matches_torch_bounds() -> None:
    layer = enn.Conv2d(16, 32, 3)
    fan_in = 16 * 9
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) gives the same bound as the bias
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.shape == (32, 16, 3, 3) and b.shape == (32,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert repr(layer) == repr(torch.nn.Conv2d(16, 32, 3)).replace("torch.", "")


# ---------------------------------------------------------------------------- errors


def test_channel_last_input_names_layer_and_suggests_permute() -> None:
    layer = enn.Conv2d(3, 8, 3)
    with pytest.raises(RuntimeError) as err:
        layer(ember.randn(1, 28, 28, 3))
    msg = str(err.value)
    assert msg.startswith("Conv2d(3, 8, kernel_size=(3, 3)")
    assert "(N, C=3, H, W)" in msg and "[1, 28, 28, 3]" in msg
    assert "x.permute(0, 3, 1, 2)" in msg


def test_unbatched_channel_last_suggests_its_permute() -> None:
    with pytest.raises(RuntimeError, match=r"permute\(2, 0, 1\)"):
        enn.Conv2d(3, 8, 3)(ember.randn(28, 28, 3))


def test_wrong_rank_names_layer_and_layout() -> None:
    with pytest.raises(RuntimeError) as err:
        enn.Conv2d(3, 8, 3)(ember.randn(28, 28))
    msg = str(err.value)
    assert "Conv2d(3, 8" in msg and "(N, C=3, H, W)" in msg and "[28, 28]" in msg


def test_wrong_channels_without_layout_hint() -> None:
    with pytest.raises(RuntimeError) as err:
        enn.Conv2d(3, 8, 3)(ember.randn(2, 4, 9, 9))
    assert "4 channels" in str(err.value) and "permute" not in str(err.value)


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(ember.randn(1, 3, 2, 2), ember.randn(4, 3, 3, 3)), "Kernel size can't be greater"),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), stride=0), "non-positive stride"),
    (lambda: F.conv2d(ember.randn(1, 4, 5, 5), ember.randn(6, 2, 3, 3), groups=3), "groups=3"),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), padding=-1), "negative padding"),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), stride=2, padding="same"),
     "strided"),
])
def test_conv_errors(call, match: str) -> None:
    with pytest.raises((RuntimeError, ValueError), match=match):
        call()


def test_layer_construction_errors() -> None:
    with pytest.raises(ValueError, match="divisible by groups"):
        enn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(RuntimeError, match="non-positive stride"):
        enn.Conv2d(4, 6, 3, stride=0)


def test_errors_are_the_same_class_as_torch() -> None:
    x, w = np.zeros((1, 3, 2, 2)), np.zeros((4, 3, 3, 3))
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w))
    with pytest.raises(RuntimeError):
        F.conv2d(ember.tensor(x), ember.tensor(w))


def test_unfold_fold_layers() -> None:
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 6))
    e_cols = enn.Unfold((2, 3), padding=1)(ember.tensor(x))
    t_cols = torch.nn.Unfold((2, 3), padding=1)(torch.tensor(x))
    np.testing.assert_allclose(e_cols.numpy(), t_cols.numpy(), rtol=1e-12)
    e_img = enn.Fold((5, 6), (2, 3), padding=1)(e_cols)
    t_img = torch.nn.Fold((5, 6), (2, 3), padding=1)(t_cols)
    np.testing.assert_allclose(e_img.numpy(), t_img.numpy(), rtol=1e-12)
    assert repr(enn.Fold((5, 6), (2, 3))) == repr(torch.nn.Fold((5, 6), (2, 3)))
