"""The lecture's image shapes: (28, 28, 3) channel-last -> (3, 28, 28) -> (1, 3, 28, 28) -> 2x2 pool.

Gradients flow from the pooled output back to the channel-last input, and match torch's.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as F


def _image() -> np.ndarray:
    return np.random.default_rng(0).random((28, 28, 3))


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_channel_last_image_through_a_2x2_pool(pool: str) -> None:
    results = {}
    for lib in (ember, torch):
        hwc = lib.tensor(_image(), requires_grad=True)
        assert tuple(hwc.shape) == (28, 28, 3)
        chw = hwc.permute(2, 0, 1)
        assert tuple(chw.shape) == (3, 28, 28)
        batch = chw.unsqueeze(0)
        assert tuple(batch.shape) == (1, 3, 28, 28)
        pooled = getattr(lib.nn.functional, pool)(batch, 2)
        assert tuple(pooled.shape) == (1, 3, 14, 14)
        (pooled * pooled).sum().backward()
        assert tuple(hwc.grad.shape) == (28, 28, 3)
        results[lib.__name__] = (pooled.detach().numpy(), hwc.grad.numpy())
    for got, want in zip(results["ember"], results["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_layers_do_the_same_with_contiguous_and_movedim() -> None:
    img = ember.tensor(_image())
    a = enn.MaxPool2d(2)(img.permute(2, 0, 1).contiguous().unsqueeze(0))
    b = enn.MaxPool2d(2)(img.movedim(-1, 0).unsqueeze(0))
    assert tuple(a.shape) == (1, 3, 14, 14)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tuple(enn.AvgPool2d(2)(img.permute(2, 0, 1)).shape) == (3, 14, 14)


def test_conv_on_the_permuted_image_matches_torch() -> None:
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3, 3, 3))
    outs = []
    for lib in (ember, torch):
        hwc = lib.tensor(_image(), requires_grad=True)
        y = lib.nn.functional.conv2d(hwc.permute(2, 0, 1).unsqueeze(0), lib.tensor(w), padding=1)
        y = lib.nn.functional.max_pool2d(lib.relu(y), 2)
        y.sum().backward()
        outs.append((y.detach().numpy(), hwc.grad.numpy()))
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_forgetting_the_permute_is_explained() -> None:
    img = ember.tensor(_image()).float().unsqueeze(0)  # (1, 28, 28, 3): channel-last
    with pytest.raises(RuntimeError, match=r"permute\(0, 3, 1, 2\)"):
        enn.Conv2d(3, 8, 3)(img)
    with pytest.raises(RuntimeError, match=r"\(N, C=3, H, W\)"):
        F.conv2d(img, ember.randn(8, 3, 3, 3))
