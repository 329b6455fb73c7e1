"""ember.lab.train.fit, History, ember.lab.plot, and that training steps free their graphs."""
import gc
import tracemalloc

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.lab import plot
from ember.lab.train import History, accuracy, evaluate, fit
from ember.utils.data import DataLoader, TensorDataset

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 2)).astype(np.float32) * 0.5 + np.eye(3, 2, dtype=np.float32)[y] * 3
    return TensorDataset(ember.from_numpy(x), ember.from_numpy(y.astype(np.int64)))


def _model(seed=0):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def test_fit_returns_history_and_learns():
    data = _blobs()
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, DataLoader(data, batch_size=16), nn.CrossEntropyLoss(), opt, epochs=8,
                  val_loader=DataLoader(_blobs(60, seed=1), batch_size=32), progress=False)
    assert isinstance(history, History) and history.epochs == 8
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 8 for v in history.values())
    assert history["loss"][-1] < history["loss"][0] / 3
    assert history["val_accuracy"][-1] > 0.9
    assert model.training


def test_fit_is_the_plain_loop():
    """fit does exactly what a hand-written loop does: same parameters afterwards."""
    data = _blobs()
    a, b = _model(), _model()
    opt_a = optim.SGD(a.parameters(), lr=0.05, momentum=0.9)
    opt_b = optim.SGD(b.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    fit(a, DataLoader(data, batch_size=10), loss_fn, opt_a, epochs=3, metrics=(), progress=False)
    for _ in range(3):
        for x, y in DataLoader(data, batch_size=10):
            opt_b.zero_grad()
            loss_fn(b(x), y).backward()
            opt_b.step()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_progress_bar_shows_loss_and_metrics(capsys):
    data = _blobs(40)
    model = _model()
    fit(model, DataLoader(data, batch_size=8), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
        epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss=" in err and "accuracy=" in err


def test_binary_accuracy_threshold_follows_the_loss():
    logits = ember.tensor([[-2.0], [0.3], [1.0], [-0.1]])
    target = ember.tensor([[0.0], [1.0], [1.0], [1.0]])
    assert accuracy(logits, target, threshold=0.0) == 0.75
    assert accuracy(ember.sigmoid(logits), target, threshold=0.5) == 0.75
    assert accuracy(ember.tensor([[0.1, 0.9], [0.8, 0.2]]), ember.tensor([1, 1])) == 0.5
    x = ember.tensor([[-1.0], [1.0], [2.0], [-3.0]])
    y = ember.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Identity()
    assert evaluate(model, [(x, y)], nn.BCEWithLogitsLoss())["accuracy"] == 1.0
    assert evaluate(model, [(x, y)], nn.MSELoss(),
                    metrics=(lambda o, t: 0.25,))["<lambda>"] == 0.25


def test_fit_steps_a_scheduler_and_rejects_unknown_metrics():
    data = _blobs(40)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    fit(model, DataLoader(data, batch_size=8), nn.CrossEntropyLoss(), opt, epochs=3, progress=False,
        scheduler=sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, DataLoader(data, batch_size=8), nn.CrossEntropyLoss(), opt, epochs=1, metrics=("f1",),
            progress=False)


def test_pngs(tmp_path):
    x = ember.linspace(-1, 1, 50).reshape(-1, 1)
    y = 2 * x + 1
    model = nn.Linear(1, 1)
    for path in (plot.fit_line(x, y, model, str(tmp_path / "fit.png")),
                 plot.fit_line(x.numpy(), y.numpy(), lambda t: 2 * t + 1, str(tmp_path / "fn.png")),
                 plot.loss_curve([1.0, 0.5, 0.25], str(tmp_path / "loss.png")),
                 History(loss=[1.0, 0.5], accuracy=[0.5, 0.9], val_loss=[1.1, 0.6],
                         val_accuracy=[0.4, 0.8]).plot(str(tmp_path / "history.png"))):
        with open(path, "rb") as f:
            assert f.read(8) == PNG_MAGIC


def test_graphs_are_freed_memory_stays_flat():
    """1000 MLP training steps: traced memory after the first few steps does not grow."""
    rng = np.random.default_rng(0)
    x = ember.from_numpy(rng.standard_normal((32, 20)).astype(np.float32))
    y = ember.from_numpy(rng.integers(0, 10, 32).astype(np.int64))
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        samples = []
        for i in range(1000):
            step()
            if i % 50 == 49:
                samples.append(tracemalloc.get_traced_memory()[0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # One step's graph holds its activations and saved inputs (~30 KB here), so a leaked graph
    # per step would add ~30 MB over 1000 steps. Allow < 256 KB: NumPy's small-allocation caches
    # warm up by a few dozen bytes per step until they saturate.
    early = samples[1]
    late = samples[-1]
    assert late - early < 256 * 1024, samples
    assert peak < late + 1024 * 1024, (peak, late)
