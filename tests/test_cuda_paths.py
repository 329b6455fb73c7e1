"""Training on ``cuda`` stays on the device: no host round-trips in a step, state on the GPU.

Run with a GPU, or on the CPU with CuPy's stand-in (``make test-cuda-double``); skipped otherwise.
On the stand-in every device-to-host read and host-to-device copy raises inside
``no_host_traffic``; on a real GPU, CuPy's own ``allow_synchronize(False)`` is the check.
"""
from __future__ import annotations

import contextlib
import sys
import warnings

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


@contextlib.contextmanager
def no_host_traffic():
    """Fail on any wait for the device inside the block."""
    double = sys.modules.get("cupy_double")
    if double is not None and sys.modules["cupy"].ndarray is double.ndarray:
        with double.forbid_host_traffic():
            yield
        return
    import cupyx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with cupyx.allow_synchronize(False):
            yield


def _batch(shape, classes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal(shape).astype("float32"), device="cuda")
    y = ember.tensor(rng.integers(0, classes, shape[0]), device="cuda")
    return x, y


def _mlp():
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))


def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Upsample(scale_factor=1.5, mode="bilinear"), nn.AdaptiveMaxPool2d(5),
        nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.GELU(), nn.AdaptiveAvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(8 * 2 * 2, 3),
    )


OPTIMIZERS = {
    "sgd": lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-4),
    "adam": lambda p: ember.optim.Adam(p, lr=1e-3),
    "adamw": lambda p: ember.optim.AdamW(p, lr=1e-3),
    "rmsprop": lambda p: ember.optim.RMSprop(p, lr=1e-3),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model, shape, classes", [
    (_mlp, (16, 20), 5), (_cnn, (6, 1, 8, 8), 3),
])
def test_training_step_never_waits_for_the_device(model, shape, classes, optimizer):
    ember.manual_seed(0)
    net = model().to("cuda")
    opt = OPTIMIZERS[optimizer](net.parameters())
    x, y = _batch(shape, classes)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    step()  # the first step creates optimiser state
    backend.raise_failed_checks()  # start with no device-side checks waiting to be read
    with no_host_traffic():
        for _ in range(2):
            loss = step()
    assert loss.device.type == "cuda"
    for p in net.parameters():
        assert p.device.type == "cuda" and p.grad.device.type == "cuda"
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, ember.Tensor) and value.ndim:
                assert value.device.type == "cuda"


class _Tagger(nn.Module):
    """Embeddings, layer norm, a binary loss with logits: the other common training path."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 1)

    def forward(self, tokens):
        return self.head(F.silu(self.norm(self.embed(tokens))).mean(1)).squeeze(-1)


def test_embedding_model_with_clipping_and_schedule_stays_on_the_device():
    ember.manual_seed(0)
    model = _Tagger().cuda()
    opt = ember.optim.Adagrad(model.parameters(), lr=0.1)
    schedule = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    rng = np.random.default_rng(0)
    tokens = ember.tensor(rng.integers(0, 10, (6, 4)), device="cuda")
    labels = ember.tensor(rng.integers(0, 2, 6).astype("float32"), device="cuda")

    def step():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(tokens), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()

    step()
    backend.raise_failed_checks()
    with no_host_traffic():
        for _ in range(3):
            step()
    assert model.embed.weight.grad.device.type == "cuda"


def test_regression_with_l2_loss_stays_on_the_device():
    ember.manual_seed(0)
    model = nn.Linear(3, 1).cuda()
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    x = ember.randn(64, 3, device="cuda")
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]], device="cuda") + 0.3
    with no_host_traffic():
        for _ in range(200):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) + 0.0 * (model.weight ** 2).sum()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(model.weight.cpu().detach().numpy(), [[1.0, -2.0, 0.5]], atol=1e-3)
    assert abs(model.bias.item() - 0.3) < 1e-3


def test_fit_reads_the_device_a_few_times_an_epoch_not_every_step():
    double = pytest.importorskip("cupy_double") if "cupy_double" in sys.modules else None
    if double is None:
        pytest.skip("counting host reads needs CuPy's stand-in")
    from ember.lab.train import fit
    from ember.utils.data import DataLoader, TensorDataset

    ember.manual_seed(0)
    x = ember.randn(256, 20)
    y = (x[:, 0] > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    model = _mlp()
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    double.TRAFFIC.reset()
    history = fit(model, loader, F.cross_entropy, opt, epochs=2, device="cuda", progress=False)
    # 2 epochs of 32 steps: the loss and accuracy read once an epoch, plus the deferred checks
    # read once in 32 (a read per step would be 64 or more)
    assert double.TRAFFIC.reads <= 4 * 2
    assert history["accuracy"][-1] > 0.9


def test_numpy_bridge_on_cuda():
    x = ember.arange(6.0, device="cuda").reshape(2, 3)
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        x.numpy()
    assert x.cpu().detach().numpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                       "found at least two devices, cuda:0 and cpu!"):
        x + ember.ones(2, 3)


def test_bad_targets_and_indices_raise_at_the_next_read():
    """As CUDA's device-side asserts: the check runs on the GPU and its error comes with the next
    value the host reads, not at the call (which would make every step wait)."""
    backend.raise_failed_checks()
    logits = ember.zeros(2, 3, device="cuda", requires_grad=True)
    targets, positions = ember.tensor([0, 7], device="cuda"), ember.tensor([1, -9], device="cuda")
    with no_host_traffic():
        loss = F.cross_entropy(logits, targets)
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        loss.item()
    loss.item()  # reported once

    x = ember.arange(4.0, device="cuda")
    with no_host_traffic():
        picked = x[positions]
    with pytest.raises(IndexError, match="index -9 is out of bounds for dimension 0 with size 4"):
        picked.cpu()

    positions = ember.tensor([4], device="cuda")
    with no_host_traffic():
        ember.gather(x, 0, positions)
    with pytest.raises(RuntimeError, match=r"gather\(\): index 4 is out of bounds"):
        ember.cuda.synchronize()


def test_tensor_exponents_and_bounds_stay_on_the_device():
    x = ember.rand(5, device="cuda", requires_grad=True)
    lo = ember.tensor(0.2, device="cuda")
    with no_host_traffic():
        y = (x ** 3 + ember.clamp(x, min=lo) ** 0.5).sum()
        (g,) = ember.autograd.grad(y, x)
        filled = ember.empty(3, device="cuda").fill_(lo)
    v = x.detach().cpu().numpy()
    want = 3 * v ** 2 + np.where(v >= 0.2, 0.5 / np.sqrt(np.maximum(v, 0.2)), 0.0)
    np.testing.assert_allclose(g.cpu().numpy(), want, rtol=1e-5)
    assert filled.tolist() == [pytest.approx(0.2)] * 3


def test_layout_queries_on_cuda():
    x = ember.ones(2, 3, device="cuda")
    assert x.is_contiguous() and not x.t().is_contiguous()
    assert x.data_ptr() != 0 and x[1].data_ptr() == x.data_ptr() + 3 * 4
    assert ember.cuda.memory_allocated() >= 2 * 3 * 4


def test_weights_saved_from_cuda_load_where_asked(tmp_path):
    model = _mlp().cuda()
    path = tmp_path / "mlp.safetensors"
    ember.save(model.state_dict(), path)
    back = ember.load(path)
    on_cpu = ember.load(path, map_location="cpu")
    for name, value in model.state_dict().items():
        assert back[name].device.type == "cuda" and on_cpu[name].device.type == "cpu"
        np.testing.assert_array_equal(on_cpu[name].numpy(), value.cpu().numpy())
    fresh = _mlp()
    fresh.load_state_dict(back)
    assert fresh[0].weight.device.type == "cpu"  # copied into the CPU parameters, as torch


def test_device_queries_and_memory_as_torch_cuda():
    props = ember.cuda.get_device_properties(0)
    assert ember.cuda.get_device_name(0) == props.name and props.total_memory > 0
    x = ember.ones(1000, device="cuda")
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated() >= x.nbytes
    ember.cuda.empty_cache()
    with ember.cuda.device(0):
        assert ember.zeros(1, device="cuda").device == ember.device("cuda:0")
