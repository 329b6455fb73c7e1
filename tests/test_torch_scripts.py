"""PyTorch training scripts for the lecture's models, run unchanged but for ``import ember as torch``.

Each script below is ordinary PyTorch code. It runs once as written and once with its
``import torch`` line replaced by ``import ember as torch`` (nothing else changes); both runs
see the same data and the same initial weights (drawn with NumPy), so they must reach the same
numbers. Training is chaotic in float32 (the libraries round differently in the last bit), so
losses are compared to 1e-3 relative and accuracies to one test image.
"""
import numpy as np
import pytest

LINEAR_REGRESSION = '''
import numpy as np
import torch

rng = np.random.default_rng(0)
x_np = rng.uniform(-1, 1, (1000, 1)).astype(np.float32)
y_np = (3 * x_np + 2 + 0.1 * rng.standard_normal((1000, 1))).astype(np.float32)
x = torch.from_numpy(x_np)
y = torch.from_numpy(y_np)

# (a1) gradient descent by hand
w = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.5
for step in range(200):
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()
manual = {"w": w.item(), "b": b.item(), "loss": loss.item()}

# (a2) the same with nn.Linear, optim.SGD and MSELoss
model = torch.nn.Linear(1, 1)
with torch.no_grad():
    model.weight.fill_(0.0)
    model.bias.fill_(0.0)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
loss_fn = torch.nn.MSELoss()
for step in range(200):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
RESULT = {"manual": manual,
          "module": {"w": model.weight.item(), "b": model.bias.item(), "loss": loss.item()}}
'''

DIGITS_DATA = '''
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

digits = load_digits()
x_all = (digits.data / 16.0).astype(np.float32)
y_all = digits.target.astype(np.int64)
rng = np.random.default_rng(0)


def init_linear_layers(model):
    """Same starting weights in every framework: torch's default ranges, drawn with NumPy."""
    for layer in model.modules():
        if isinstance(layer, torch.nn.Linear):
            bound = 1.0 / np.sqrt(layer.in_features)
            with torch.no_grad():
                w = rng.uniform(-bound, bound, (layer.out_features, layer.in_features))
                layer.weight.copy_(torch.from_numpy(w.astype(np.float32)))
                layer.bias.copy_(torch.from_numpy(rng.uniform(-bound, bound, layer.out_features)
                                                  .astype(np.float32)))


def train(model, loss_fn, optimizer, dataset, epochs, batch_size):
    for epoch in range(epochs):
        order = rng.permutation(len(dataset)).tolist()
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=order)
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
    return loss.item()
'''

CATS_VS_DOGS = DIGITS_DATA + '''
# (b) cats (3) vs dogs (8), labels 0/1
keep = (y_all == 3) | (y_all == 8)
x_tr, x_te, y_tr, y_te = train_test_split(x_all[keep], (y_all[keep] == 8).astype(np.float32),
                                          test_size=0.25, random_state=0, stratify=y_all[keep])
train_set = torch.utils.data.TensorDataset(torch.from_numpy(x_tr), torch.from_numpy(y_tr).unsqueeze(1))
x_test = torch.from_numpy(x_te)
y_test = torch.from_numpy(y_te).unsqueeze(1)

RESULT = {}
for name, head, loss_fn, threshold in [
        ("sigmoid_bce", [torch.nn.Sigmoid()], torch.nn.BCELoss(), 0.5),
        ("logits_bce", [], torch.nn.BCEWithLogitsLoss(), 0.0)]:
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1), *head)
    init_linear_layers(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_loss = train(model, loss_fn, optimizer, train_set, epochs=20, batch_size=32)
    model.eval()
    with torch.no_grad():
        out = model(x_test)
        test_loss = loss_fn(out, y_test).item()
        accuracy = ((out > threshold).float() == y_test).float().mean().item()
    RESULT[name] = {"train_loss": train_loss, "test_loss": test_loss, "accuracy": accuracy}
'''

DIGITS_MLP = DIGITS_DATA + '''
# (c) ten classes
x_tr, x_te, y_tr, y_te = train_test_split(x_all, y_all, test_size=0.2, random_state=0, stratify=y_all)
train_set = torch.utils.data.TensorDataset(torch.from_numpy(x_tr), torch.from_numpy(y_tr))
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                            torch.nn.ReLU(), torch.nn.Linear(64, 10))
init_linear_layers(model)
loss_fn = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=8, gamma=0.3)
for epoch in range(3):
    train_loss = train(model, loss_fn, optimizer, train_set, epochs=8, batch_size=64)
    scheduler.step()
model.eval()
with torch.no_grad():
    logits = model(torch.from_numpy(x_te))
    test_loss = loss_fn(logits, torch.from_numpy(y_te)).item()
    accuracy = (logits.argmax(dim=1) == torch.from_numpy(y_te)).float().mean().item()
RESULT = {"train_loss": train_loss, "test_loss": test_loss, "accuracy": accuracy,
          "n_test": len(y_te)}
'''


def _run(source: str, as_ember: bool) -> dict:
    if as_ember:
        assert source.count("\nimport torch\n") == 1
        source = source.replace("\nimport torch\n", "\nimport ember as torch\n")
    namespace = {"__name__": "__script__"}
    exec(compile(source, "<training script>", "exec"), namespace)
    return namespace["RESULT"]


def _both(source: str) -> tuple[dict, dict]:
    return _run(source, as_ember=False), _run(source, as_ember=True)


def _assert_same_numbers(torch_result, ember_result, n_test=None):
    for key, value in torch_result.items():
        if isinstance(value, dict):
            _assert_same_numbers(value, ember_result[key], n_test)
        elif key == "accuracy":
            assert abs(ember_result[key] - value) <= 1.0 / n_test + 1e-6, (key, ember_result, torch_result)
        else:
            assert ember_result[key] == pytest.approx(value, rel=1e-3, abs=1e-5), (key, ember_result,
                                                                                   torch_result)


def test_only_the_import_line_differs():
    for source in (LINEAR_REGRESSION, CATS_VS_DOGS, DIGITS_MLP):
        changed = source.replace("\nimport torch\n", "\nimport ember as torch\n")
        diff = [(a, b) for a, b in zip(source.splitlines(), changed.splitlines()) if a != b]
        assert diff == [("import torch", "import ember as torch")]


def test_linear_regression_script():
    t, e = _both(LINEAR_REGRESSION)
    _assert_same_numbers(t, e)
    for r in (e["manual"], e["module"]):
        assert abs(r["w"] - 3) < 0.05 and abs(r["b"] - 2) < 0.05


def test_cats_vs_dogs_script():
    t, e = _both(CATS_VS_DOGS)
    _assert_same_numbers(t, e, n_test=90)
    assert e["sigmoid_bce"]["accuracy"] >= 0.97 and e["logits_bce"]["accuracy"] >= 0.97


@pytest.mark.slow
def test_digits_mlp_script():
    t, e = _both(DIGITS_MLP)
    _assert_same_numbers({k: v for k, v in t.items() if k != "n_test"}, e, n_test=t["n_test"])
    assert e["accuracy"] >= 0.96
    assert np.isfinite(e["train_loss"])
