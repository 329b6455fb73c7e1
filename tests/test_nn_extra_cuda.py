"""Issue 24's layers on ``cuda`` give the CPU's numbers (a GPU, or CuPy's stand-in with
``EMBER_CUDA_DOUBLE=1``; skipped otherwise)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import backend

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not backend.cuda_available(), reason="CUDA needs CuPy and a GPU"),
]

RNG = np.random.default_rng(0)
INDEX = np.array([[1, 2, 4, 5], [4, 3, 2, 9]])
SAMPLES = RNG.uniform(size=(2, 3, 2))
GRID = RNG.uniform(-1.2, 1.2, (2, 3, 3, 2))
LABELS = RNG.integers(-1, 36, (6, 36))


def _fns():
    return {
        "instance_norm": lambda x: F.instance_norm(x),
        "local_response_norm": lambda x: F.local_response_norm(x, 3),
        "max_pool3d": lambda x: F.max_pool3d(x.unsqueeze(2).expand(2, 3, 2, 6, 6), 2),
        "avg_pool3d": lambda x: F.avg_pool3d(x.unsqueeze(2), (1, 2, 2)),
        "grid_sample": lambda x: F.grid_sample(
            x, ember.tensor(GRID, device=x.device), "bicubic",
            "reflection", False),
        "fractional_max_pool2d": lambda x: F.fractional_max_pool2d(
            x, 2, output_size=3, _random_samples=ember.tensor(SAMPLES, device=x.device)),
        "max_unpool2d": lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2),
        "lp_pool2d": lambda x: F.lp_pool2d(x, 2, 2),
        "channel_shuffle": lambda x: F.channel_shuffle(x, 3),
        "multilabel_margin_loss": lambda x: F.multilabel_margin_loss(
            x.reshape(6, 36), ember.tensor(LABELS, device=x.device)),
        "ctc_loss": lambda x: F.ctc_loss(
            x.reshape(6, 3, 12).log_softmax(2),
            ember.tensor([[1, 2, 2], [3, 1, 0], [4, 4, 4]], device=x.device), [6, 5, 6], [3, 2, 1]),
        "embedding_bag": lambda x: F.embedding_bag(
            ember.tensor(INDEX, device=x.device), x.reshape(-1, 4)[:10], mode="max"),
    }


@pytest.mark.parametrize("name", sorted(_fns()))
def test_layers_on_cuda_match_cpu(name):
    fn = _fns()[name]
    data = RNG.standard_normal((2, 3, 6, 6))
    cot_shape = None
    outs = {}
    for device in ("cpu", "cuda"):
        x = ember.tensor(data, device=device, requires_grad=True)
        out = fn(x)
        if cot_shape is None:
            cot_shape = tuple(out.shape)
            cot = RNG.standard_normal(cot_shape)
        (out * ember.tensor(cot, device=device)).sum().backward()
        outs[device] = (out.detach().cpu().numpy(), x.grad.cpu().numpy())
    for got, want in zip(outs["cuda"], outs["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_spectral_norm_and_lazy_linear_on_cuda():
    layer = nn.LazyLinear(3).to("cuda")
    layer(ember.ones(2, 4, device="cuda"))
    nn.utils.parametrizations.spectral_norm(layer)
    out = layer(ember.ones(2, 4, device="cuda"))
    assert out.device.type == "cuda" and layer.parametrizations.weight.original.shape == (3, 4)
